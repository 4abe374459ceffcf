// Chat mode of the orchestrator panel, against a server of its own with the paced
// random-weight test model (`switchyard model write-test --shape paced`: its answers mean
// nothing, and come at a few hundred tokens per second through the real mistral.rs path, so
// the test can act while one is written). Sign-in is off there: everyone is the local operator.
import { expect, gotoHydrated, snap, test } from "./fixtures";
import { startServerWithModel } from "./second-server";

const port = Number(process.env.E2E_CHAT_PORT ?? 3113);
const base = `http://127.0.0.1:${port}`;

test.use({ storageState: { cookies: [], origins: [] } });

/** Records, in the page, every length the last answer's text had (`window.answerLengths`). */
async function recordAnswerLengths(page: import("@playwright/test").Page) {
  await page.evaluate(() => {
    const lengths: number[] = [];
    (window as any).answerLengths = lengths;
    new MutationObserver(() => {
      const answers = document.querySelectorAll("#chat-thread li.message-system .message-text");
      const n = answers[answers.length - 1]?.textContent?.length ?? 0;
      if (n > 0 && lengths[lengths.length - 1] !== n) lengths.push(n);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

const lengths = (page: import("@playwright/test").Page) =>
  page.evaluate(() => (window as any).answerLengths as number[]);

test("chat streams the model's answer, keeps the conversation, re-attaches after a reload and stops on Esc", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const server = await startServerWithModel(port, "paced", "paced", "inference_max_tokens = 6000");
  try {
    await gotoHydrated(page, `${base}/`);
    await page.locator('.mode-button[data-mode="chat"]').click();
    // A new conversation picks its model: each configured one, with its state, read again
    // while it loads.
    const models = page.locator("#chat-model option");
    await expect(models).toHaveCount(1);
    await expect(models.first()).toHaveText("paced · default", { timeout: 30_000 });
    await expect(models.first()).toHaveAttribute("data-state", "ready");
    await snap(page, "chat-model-picker");
    await recordAnswerLengths(page);
    const input = page.locator("#prompt-input");
    await input.fill("Hello, model");
    await input.press("Enter");
    await expect(page.locator("#chat-thread li.message-you").first()).toContainText("Hello, model");
    const answer = page.locator("#chat-thread li.message-system").last();
    await expect(answer).toHaveAttribute("data-status", "generating");
    await expect(page.locator("#chat-stop")).toBeVisible();
    await expect(page.locator("#chat-model")).toHaveCount(0);
    await expect(page.locator("#chat-model-name")).toHaveText("default model");
    // The answer grows in the page while the server writes it.
    await expect.poll(async () => (await lengths(page)).length, { timeout: 20_000 }).toBeGreaterThan(2);
    await snap(page, "chat-writing");

    // A reload re-attaches to the answer still being written: it goes on growing.
    await gotoHydrated(page, `${base}/`);
    await expect(page.locator('.mode-button[data-mode="chat"]')).toHaveAttribute("aria-pressed", "true");
    await expect(page.locator("#chat-thread li.message-you").first()).toContainText("Hello, model");
    const reattached = page.locator("#chat-thread li.message-system").last();
    await expect(reattached).toHaveAttribute("data-status", "generating");
    await recordAnswerLengths(page);
    await expect.poll(async () => (await lengths(page)).length, { timeout: 20_000 }).toBeGreaterThan(2);

    // Esc stops it on the server at once; the text so far stays, with its figures.
    await input.focus();
    const asked = Date.now();
    await page.keyboard.press("Escape");
    await expect(reattached).toHaveAttribute("data-status", "stopped", { timeout: 5_000 });
    const took = Date.now() - asked;
    console.log(`stopped ${took} ms after Esc`);
    expect(took).toBeLessThan(500);
    await expect(page.locator("#chat-stop")).toHaveCount(0);
    await gotoHydrated(page, `${base}/`);
    const kept = page.locator("#chat-thread li.message-system").last();
    await expect(kept).toHaveAttribute("data-status", "stopped");
    await expect(kept.locator(".message-meta")).toHaveAttribute("title", /\d+ tokens · TTFT \d+ ms · [\d.]+ tokens\/s/);

    // The conversation goes on: the next answer, stopped with the button.
    await input.fill("Tell me more");
    await input.press("Enter");
    const second = page.locator("#chat-thread li.message-system").nth(1);
    await expect(second).toHaveAttribute("data-status", "generating");
    await page.locator("#chat-stop").click();
    await expect(second).toHaveAttribute("data-status", "stopped");
    await expect(page.locator("#chat-thread li.message")).toHaveCount(4);

    // Kept per person on the server: listed, renamed, deleted.
    const picker = page.locator("#chat-conversation");
    await expect(picker.locator("option")).toHaveCount(2);
    await page.locator("#chat-rename").click();
    await page.locator("#chat-title").fill("Greetings");
    await page.locator("#chat-title").press("Enter");
    await expect(picker.locator("option", { hasText: "Greetings" })).toHaveCount(1);
    await snap(page, "chat-conversation");
    await page.locator("#chat-delete").click();
    await expect(picker.locator("option")).toHaveCount(1);
    await expect(page.locator("#chat-thread")).toContainText("Conversations are kept on the server");
  } finally {
    // Leave first: a page left open would log its socket's failed reconnects.
    await page.goto("about:blank");
    server.kill();
  }
});
