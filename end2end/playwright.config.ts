// Playwright runs the release build of `switchyard` against Debian's Chromium.
// scripts/test.sh sets SWITCHYARD_BIN; the suite fails (never skips) when Chromium or the
// binary is missing.
import { defineConfig, devices } from "@playwright/test";
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repoRoot = path.resolve(__dirname, "..");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const binary = process.env.SWITCHYARD_BIN ?? path.join(repoRoot, "target/release/switchyard");
const port = Number(process.env.E2E_PORT ?? 3107);
const dataDir = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), "switchyard-e2e");
const external = process.env.E2E_BASE_URL;

if (!existsSync(chromium)) {
  throw new Error(`Chromium not found at ${chromium}: install Debian's chromium (scripts/setup.sh does).`);
}
if (!external && !existsSync(binary)) {
  throw new Error(`switchyard binary not found at ${binary}: build it with cargo leptos build --release.`);
}

export const baseURL = external ?? `http://127.0.0.1:${port}`;
/** The main server's admin (created from the environment at start-up); `auth.setup.ts` signs
 * in as it once and every test starts from that session. */
export const admin = {
  email: process.env.E2E_ADMIN_EMAIL ?? "e2e-admin@example.com",
  password: process.env.E2E_ADMIN_PASSWORD ?? "an end-to-end password",
};
export const sessionFile = path.join(__dirname, "test-results", ".session.json");

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromium,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    // Signs in through the sign-in form (the server runs with its default: sign-in required).
    { name: "session", testMatch: /auth\.setup\.ts/ },
    {
      name: "chromium",
      dependencies: ["session"],
      testIgnore: /chat\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], viewport: { width: 1440, height: 900 }, storageState: sessionFile },
    },
    // Chat's timed must-hold (Stop ends an answer within 500 ms, from Esc to the page) runs
    // after the rest: alongside them another test's model shares the machine's two cores, and
    // the figure measured that neighbour (514 and 572 ms in two runs, 97 to 296 ms alone).
    {
      name: "timed",
      dependencies: ["chromium"],
      testMatch: /chat\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], viewport: { width: 1440, height: 900 }, storageState: sessionFile },
    },
  ],
  webServer: external
    ? undefined
    : {
        command: `rm -rf '${dataDir}' && exec '${binary}' serve --listen 127.0.0.1:${port} --data-dir '${dataDir}' --site-dir target/site`,
        cwd: repoRoot,
        url: `${baseURL}/api/v1/health`,
        reuseExistingServer: false,
        timeout: 60_000,
        stdout: "pipe",
        stderr: "pipe",
        env: {
          ...(process.env as Record<string, string>),
          SWITCHYARD_ADMIN_EMAIL: admin.email,
          SWITCHYARD_ADMIN_PASSWORD: admin.password,
        },
      },
});
