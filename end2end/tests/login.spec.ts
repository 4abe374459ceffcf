// Sign-in, against a second server started with auth_required on (the main suite's server
// runs without it). The form works before and without the WASM bundle; pages redirect to it
// when signed out; signing out ends the session.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, snap, test } from "./fixtures";

const repoRoot = path.resolve(__dirname, "../..");
const binary = process.env.SWITCHYARD_BIN ?? path.join(repoRoot, "target/release/switchyard");
const port = Number(process.env.E2E_AUTH_PORT ?? 3108);
const base = `http://127.0.0.1:${port}`;
const admin = { email: "admin@example.com", password: "a long enough password" };
let server: ChildProcess | undefined;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-auth-"));
  server = spawn(
    binary,
    ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--site-dir", "target/site"],
    {
      cwd: repoRoot,
      stdio: "ignore",
      env: {
        ...process.env,
        SWITCHYARD_AUTH_REQUIRED: "true",
        SWITCHYARD_ADMIN_EMAIL: admin.email,
        SWITCHYARD_ADMIN_PASSWORD: admin.password,
      },
    },
  );
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the auth_required server did not answer on ${base}`);
});

test.afterAll(() => {
  server?.kill();
});

test("signed out, a page leads to the sign-in form, which works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/runs`);
  await expect(page).toHaveURL(`${base}/login?next=%2Fruns`);
  await expect(page.getByRole("heading", { name: "Switchyard" })).toBeVisible();
  await expect(page.locator("#sidebar")).toHaveCount(0);
  await snap(page, "login");

  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await snap(page, "login-error");

  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/runs`);
  await expect(page.locator("#sidebar")).toBeVisible();
  await context.close();
});

test("signed in, the app hydrates; signing out ends the session", async ({ page }) => {
  await page.goto(`${base}/`);
  await expect(page).toHaveURL(`${base}/login?next=%2F`);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
  // The dashboard's health card comes from a server function: it answers with the session.
  await expect(page.getByText("Healthy")).toBeVisible();

  // The account menu says who is signed in, and signs out.
  await page.locator("#user-menu-button").click();
  await expect(page.locator("#account-email")).toHaveText(admin.email);
  await expect(page.getByRole("menu", { name: "Account" })).toContainText("Signed in · admin");
  await snap(page, "account-menu-signed-in");
  await page.locator("#sign-out").click();
  await expect(page).toHaveURL(`${base}/login`);
  await page.goto(`${base}/approvals`);
  await expect(page).toHaveURL(`${base}/login?next=%2Fapprovals`);
});
