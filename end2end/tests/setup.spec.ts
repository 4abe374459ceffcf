// The first-run setup: a server with no account (its default, sign-in required) leads the
// first visitor to create the admin, then signs them in; afterwards setup is closed.
import type { ChildProcess } from "node:child_process";
import { expect, snap, test } from "./fixtures";
import { startServer } from "./second-server";

const port = Number(process.env.E2E_SETUP_PORT ?? 3110);
const base = `http://127.0.0.1:${port}`;
let server: ChildProcess | undefined;

test.use({ storageState: { cookies: [], origins: [] } });

test.beforeAll(async () => {
  // No SWITCHYARD_ADMIN_* and no SWITCHYARD_AUTH_REQUIRED: the defaults of a fresh install.
  server = await startServer(port, {}, [
    "SWITCHYARD_ADMIN_EMAIL",
    "SWITCHYARD_ADMIN_PASSWORD",
    "SWITCHYARD_AUTH_REQUIRED",
  ]);
});

test.afterAll(() => {
  server?.kill();
});

test("a fresh server leads to setup, which creates the admin and signs them in", async ({ page }) => {
  await page.goto(`${base}/runs`);
  await expect(page).toHaveURL(`${base}/setup`);
  await expect(page.getByRole("heading", { name: "Welcome to Switchyard" })).toBeVisible();
  await snap(page, "setup");

  await page.getByLabel("Email").fill("first@example.com");
  await page.getByLabel("Password (at least 12 characters)").fill("a long enough password");
  await page.getByLabel("Repeat the password").fill("not the same password");
  await page.getByRole("button", { name: "Create the admin account" }).click();
  await expect(page.getByRole("alert")).toHaveText("the two passwords differ");

  await page.getByLabel("Email").fill("first@example.com");
  await page.getByLabel("Password (at least 12 characters)").fill("a long enough password");
  await page.getByLabel("Repeat the password").fill("a long enough password");
  await page.getByRole("button", { name: "Create the admin account" }).click();
  await expect(page).toHaveURL(`${base}/`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
  await expect(page.locator("#nav-admin")).toBeVisible();

  // Setup is closed now.
  await page.context().clearCookies();
  await page.goto(`${base}/setup`);
  await expect(page).toHaveURL(`${base}/login`);
});
