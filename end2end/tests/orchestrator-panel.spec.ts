import { expect, gotoHydrated, snap, test } from "./fixtures";

test("the prompt counts characters and stops at 10,000", async ({ page }) => {
  await gotoHydrated(page, "/");
  const input = page.locator("#prompt-input");
  const counter = page.locator("#prompt-counter");
  const send = page.getByRole("button", { name: "Send" });
  await expect(counter).toHaveText("0 / 10,000");
  await expect(send).toBeDisabled();

  await input.fill("héllo");
  await expect(counter).toHaveText("5 / 10,000");
  await expect(send).toBeEnabled();

  await input.fill("x".repeat(9_500));
  await expect(counter).toHaveText("9,500 / 10,000");
  await expect(counter).toHaveClass(/counter-warn/);

  // Typing past the limit is refused by the field itself.
  await input.fill("y".repeat(10_000));
  await input.press("End");
  await page.keyboard.type("zzz");
  await expect(counter).toHaveText("10,000 / 10,000");
  await expect(counter).toHaveClass(/counter-full/);
  expect((await input.inputValue()).length).toBe(10_000);
});

test("messages go to the list with their mode, and the mode is remembered", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="chat"]').click();
  await expect(page.locator('.mode-button[data-mode="chat"]')).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator('.mode-button[data-mode="task"]')).toHaveAttribute("aria-pressed", "false");

  const input = page.locator("#prompt-input");
  await input.fill("Summarise yesterday's failed runs");
  await input.press("Enter");
  const messages = page.locator(".message");
  await expect(messages).toHaveCount(2);
  await expect(messages.nth(0)).toContainText("You · Chat");
  await expect(messages.nth(0)).toContainText("Summarise yesterday's failed runs");
  await expect(messages.nth(1)).toContainText("Chat mode needs the orchestrator and a model");
  await expect(input).toHaveValue("");
  await expect(page.locator("#prompt-counter")).toHaveText("0 / 10,000");

  // Shift+Enter is a new line, not a send.
  await input.fill("line one");
  await input.press("Shift+Enter");
  await expect(messages).toHaveCount(2);
  await snap(page, "panel-messages");

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator('.mode-button[data-mode="chat"]')).toHaveAttribute("aria-pressed", "true");
});
