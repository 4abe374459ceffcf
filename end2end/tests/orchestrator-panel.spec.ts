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

test("questions go to the list with their answers, and the mode is remembered", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="query"]').click();
  await expect(page.locator('.mode-button[data-mode="query"]')).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator('.mode-button[data-mode="task"]')).toHaveAttribute("aria-pressed", "false");

  const input = page.locator("#prompt-input");
  await input.fill("Summarise the unfindable qwertyzzz runs");
  await input.press("Enter");
  const messages = page.locator(".message");
  await expect(messages).toHaveCount(2);
  await expect(messages.nth(0)).toContainText("You · Query");
  await expect(messages.nth(0)).toContainText("Summarise the unfindable qwertyzzz runs");
  await expect(messages.nth(1)).toContainText("Nothing has every word");
  await expect(input).toHaveValue("");
  await expect(page.locator("#prompt-counter")).toHaveText("0 / 10,000");

  // Shift+Enter is a new line, not a send.
  await input.fill("line one");
  await input.press("Shift+Enter");
  await expect(messages).toHaveCount(2);
  await snap(page, "panel-messages");

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator('.mode-button[data-mode="query"]')).toHaveAttribute("aria-pressed", "true");
});

test("chat mode on a server without a model says which setting to set, and keeps the message", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="chat"]').click();
  const input = page.locator("#prompt-input");
  await input.fill("Hello?");
  await input.press("Enter");
  await expect(page.locator("#chat-problem")).toContainText("no model is configured: set `models`");
  await expect(input).toHaveValue("Hello?");
  await expect(page.locator("#chat-thread .message")).toHaveCount(0);
  await snap(page, "chat-no-model");
});

test("task mode on a server without a model says which setting to set, and keeps the goal", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="task"]').click();
  const input = page.locator("#prompt-input");
  await input.fill("Summarise the release notes");
  await input.press("Enter");
  await expect(page.locator("#chat-problem")).toContainText("no model is configured: set `models`");
  await expect(input).toHaveValue("Summarise the release notes");
  await expect(page.locator("#chat-thread .message")).toHaveCount(0);
});

// Query mode lists the questions asked in the tab: the person's own text goes through the same
// Markdown sanitiser (crate::markdown) as the model's answers and the agents' outputs.
test("a corpus of XSS payloads sent as messages renders as text and runs nothing", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="query"]').click();
  const corpus = [
    "<script>window.__xss = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__xss = 2; alert('img')\">",
    "<svg onload=\"window.__xss = 3\"></svg>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    "[click me](javascript:window.__xss=4)",
    "[click me too](JaVaScRiPt:alert('case'))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![tracking pixel](https://tracker.example/pixel.gif)",
    "\"><script>window.__xss = 5</script>",
    "<a href=\"javascript:alert('a')\">raw link</a>",
    "<details open ontoggle=\"window.__xss = 6\">x</details>",
    "<style>body { display: none }</style>",
    "**bold** and [docs](https://example.com/docs) and `code`",
  ];
  const input = page.locator("#prompt-input");
  for (const payload of corpus) {
    await input.fill(payload);
    await input.press("Enter");
  }
  const mine = page.locator(".message-you .message-text");
  await expect(mine).toHaveCount(corpus.length);

  // Raw HTML shows as the text that was sent.
  await expect(mine.nth(0)).toHaveText(corpus[0]);
  await expect(mine.nth(1)).toHaveText(corpus[1]);
  // Links to script or data URLs lose their link; images become their alt text.
  await expect(mine.nth(4)).toHaveText("click me");
  await expect(mine.nth(7)).toHaveText("[image: tracking pixel]");
  // Markdown still renders, with a safe link.
  await expect(mine.nth(12).locator("strong")).toHaveText("bold");
  await expect(mine.nth(12).locator("a")).toHaveAttribute("href", "https://example.com/docs");
  await mine.nth(4).click();

  const list = page.locator(".message-list");
  await expect(list.locator("script, img, svg, iframe, object, embed, style, details")).toHaveCount(0);
  await expect(list.locator('a[href^="javascript:" i], a[href^="data:" i]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(dialogs).toEqual([]);
  await expect(page.locator("body")).toBeVisible();
  await snap(page, "xss-corpus");
});
