// Shared fixtures: every test fails if the page throws (a hydration panic surfaces as a
// `pageerror`) or logs a console error, and `gotoHydrated` waits until the WASM has taken over.
import { test as base, expect, type Page } from "@playwright/test";

export const test = base.extend<{ pageErrors: string[] }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        // A 404 page is a document answered with 404, which Chromium logs as a failed load.
        // gotoHydrated asserts the document's status, so only that one message is let through.
        const isDocument = msg.location().url === page.url();
        if (isDocument && msg.text().startsWith("Failed to load resource")) return;
        // A server function that refuses bad input answers 4xx, which Chromium logs too; the
        // page shows the refusal, and the tests assert that message.
        const refusedCall = msg.location().url.includes("/api/fn/") && /status of 4\d\d/.test(msg.text());
        if (refusedCall) return;
        // A refused upload in data mode (empty, binary, malformed, too large) answers 4xx; the
        // panel shows the server's message, and the tests assert it.
        const refusedUpload = msg.location().url.includes("/api/v1/datasets/check") && /status of 4\d\d/.test(msg.text());
        if (refusedUpload) return;
        // Chat or a task on a server without a model answers 503 naming the setting; the panel
        // shows it.
        const noModel = /\/api\/fn\/send_(chat|task)/.test(msg.location().url) && msg.text().includes("status of 503");
        if (noModel) return;
        errors.push(`console.error: ${msg.text()}`);
      });
      page.on("response", (res) => {
        if (res.url().includes("/pkg/") && res.status() >= 400) {
          errors.push(`bundle ${res.url()} answered ${res.status()}`);
        }
      });
      await use(errors);
      expect(errors, "the page reported errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Opens `url` and waits for hydration: the shell marks <html data-hydrated="true">. */
export async function gotoHydrated(page: Page, url: string, status = 200) {
  const response = await page.goto(url);
  expect(response?.status(), `status of ${url}`).toBe(status);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
}

/** Saves a screenshot under end2end/screenshots/ for people to look at. */
export async function snap(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: false });
}
