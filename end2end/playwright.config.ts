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
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], viewport: { width: 1440, height: 900 } } }],
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
      },
});
