// Sign-in and the admin and account pages, against a second server with its own accounts.
// The form works before and without the WASM bundle; pages redirect to it when signed out;
// signing out ends the session; a viewer sees no admin controls.
import type { ChildProcess } from "node:child_process";
import { expect, snap, test } from "./fixtures";
import { startServer } from "./second-server";

const port = Number(process.env.E2E_AUTH_PORT ?? 3108);
const base = `http://127.0.0.1:${port}`;
const admin = { email: "admin@example.com", password: "a long enough password" };
let server: ChildProcess | undefined;

test.describe.configure({ mode: "serial" });
// This server has its own accounts: start without the main suite's session.
test.use({ storageState: { cookies: [], origins: [] } });

test.beforeAll(async () => {
  server = await startServer(port, {
    SWITCHYARD_AUTH_REQUIRED: "true",
    SWITCHYARD_ADMIN_EMAIL: admin.email,
    SWITCHYARD_ADMIN_PASSWORD: admin.password,
  });
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

async function signIn(page: import("@playwright/test").Page, email: string, password: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
}

test("an admin invites a viewer, issues a key and flips a switch; the viewer sees no admin controls", async ({ page }) => {
  await signIn(page, admin.email, admin.password);
  await expect(page.locator("#nav-admin")).toBeVisible();
  await page.locator("#nav-admin").click();
  await expect(page).toHaveURL(`${base}/admin`);
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.locator("#users-table")).toContainText(admin.email);

  // Invite a viewer: a one-time password, shown once.
  const invite = page.locator("#invite-form");
  await invite.getByLabel("Email").fill("viewer@example.com");
  await invite.getByLabel("Role").selectOption("viewer");
  await invite.getByRole("button", { name: "Invite" }).click();
  const oneTime = page.locator("#invited code.secret");
  await expect(oneTime).toHaveText(/.{20,}/);
  const viewerPassword = (await oneTime.textContent())!.trim();
  await expect(page.locator('#users-table tr[data-user="viewer@example.com"]')).toContainText("default");

  // A bad role change is refused with a message; a key is issued with its secret once.
  const keyForm = page.locator("#key-form");
  await keyForm.getByLabel("Name").fill("ci-runner");
  await keyForm.getByLabel("Scopes").fill("runs:read,nonsense");
  await keyForm.getByRole("button", { name: "Issue key" }).click();
  await expect(page.locator("#admin-keys [role=alert]")).toContainText("unknown scope 'nonsense'");
  await keyForm.getByLabel("Scopes").fill("runs:read,runs:write");
  await keyForm.getByRole("button", { name: "Issue key" }).click();
  await expect(page.locator("#key-issued code.secret")).toHaveText(/^sy_/);
  await expect(page.locator('#keys-table tr[data-key="ci-runner"]')).toContainText("runs:read runs:write");

  // A kill switch, with the reason refused callers read.
  const http = page.locator('#switches-table tr[data-capability="http_tool"]');
  await http.getByLabel("Reason").fill("vendor outage");
  await http.getByRole("button", { name: "Turn off" }).click();
  await expect(http).toContainText("vendor outage");
  await expect(http.locator(".pill")).toHaveText("off");

  // The audit log shows what just happened, filtered; its chain holds.
  await page.locator("#audit-filter").fill("switch.off");
  await page.locator("#audit-filter").press("Enter");
  await expect(page.locator("#audit-table")).toContainText("ok: vendor outage");
  await page.locator("#verify-audit").click();
  await expect(page.locator("#audit-verdict")).toContainText("Intact");
  await snap(page, "admin");
  await page.locator("#admin-keys").scrollIntoViewIfNeeded();
  await snap(page, "admin-keys");

  // The viewer: no Admin link, no admin menu item; the page itself refuses, with no controls.
  await page.context().clearCookies();
  await signIn(page, "viewer@example.com", viewerPassword);
  await expect(page.locator("#sidebar .nav-link").first()).toBeVisible();
  await expect(page.locator("#nav-admin")).toHaveCount(0);
  await page.locator("#user-menu-button").click();
  await expect(page.getByRole("menu", { name: "Account" })).toContainText("Signed in · viewer");
  await expect(page.locator("#menu-admin")).toHaveCount(0);
  await page.locator("#menu-account").click();
  await expect(page).toHaveURL(`${base}/account`);

  // The viewer changes the one-time password; a wrong current one is refused first.
  const form = page.locator("#password-form");
  await form.getByLabel("Current password").fill("not it at all");
  await form.getByLabel("New password (at least 12 characters)").fill("the viewer's own password");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#password-error")).toContainText("current password is wrong");
  await form.getByLabel("Current password").fill(viewerPassword);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#password-changed")).toBeVisible();
  await snap(page, "account-password-changed");

  await page.goto(`${base}/admin`);
  await expect(page.locator("#admin-refused")).toContainText("does not allow ManageUsers");
  await expect(page.locator("#invite-form, #key-form, #switches-table")).toHaveCount(0);
  await snap(page, "admin-refused-viewer");

  // The new password works; the one-time one no longer does.
  await page.context().clearCookies();
  await signIn(page, "viewer@example.com", "the viewer's own password");
});
