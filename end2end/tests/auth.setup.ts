// Signs in as the main server's admin through the sign-in form and saves the session, so
// every test of the main suite starts signed in (the server requires sign-in, its default).
import { expect, test as setup } from "@playwright/test";
import { admin, sessionFile } from "../playwright.config";

setup("sign in", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.context().storageState({ path: sessionFile });
});
