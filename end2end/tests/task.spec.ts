// Task mode of the orchestrator panel, against a server of its own with the tiny random-weight
// test model, the planner limited to one `approval` step: a goal typed in the panel is planned
// as the panel watches, becomes a run whose graph and approval card live in the conversation,
// is approved there, and ends, all without leaving the panel. Sign-in is off on that server.
import { expect, gotoHydrated, snap, test } from "./fixtures";
import { startServerWithModel } from "./second-server";

const port = Number(process.env.E2E_TASK_PORT ?? 3114);
const base = `http://127.0.0.1:${port}`;

test.use({ storageState: { cookies: [], origins: [] } });

test("a goal in task mode is planned, runs, waits for approval, is approved in the panel and succeeds, and a reload shows the same", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const server = await startServerWithModel(port, "tiny", "tiny", 'planner_tools = ["approval"]\nplanner_max_steps = 1');
  try {
    await gotoHydrated(page, `${base}/`);
    await page.locator('.mode-button[data-mode="task"]').click();
    // Every planning state the panel showed, as "stage|headline".
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as any).planningSeen = seen;
      new MutationObserver(() => {
        const box = document.querySelector("#task-planning");
        if (!box) return;
        const state = `${box.getAttribute("data-stage")}|${box.querySelector(".planning-headline")?.textContent}`;
        if (seen[seen.length - 1] !== state) seen.push(state);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const input = page.locator("#prompt-input");
    await input.fill("Publish the release notes once someone agrees");
    await input.press("Enter");
    const thread = page.locator("#chat-thread");
    await expect(thread.locator("li.message-you").first()).toContainText("You · goal");
    await expect(thread.locator("li.message-you").first()).toContainText("Publish the release notes");

    // The run appears in the conversation and waits for a person.
    const run = thread.locator(".task-run");
    await expect(run).toHaveAttribute("data-status", "awaiting_approval", { timeout: 60_000 });
    const seen: string[] = await page.evaluate(() => (window as any).planningSeen);
    // The planning showed under the thread from the moment the goal was sent, then the
    // model's states as the socket brought them (a plan written in a few milliseconds may
    // skip straight to "planned"; goal.spec holds the states one by one).
    expect(seen[0], seen.join("\n")).toMatch(/^sent\|Planning: the goal is on its way/);
    expect(seen.some((s) => /^(writing|planned)\|.*tiny/.test(s)), seen.join("\n")).toBe(true);
    console.log(`planning states shown: ${seen.map((s) => s.split("|")[0]).join(" → ")}`);
    const answer = thread.locator("li.message-system").first();
    await expect(answer).toContainText("Planned by tiny");
    await expect(run.locator(".task-graph svg")).toBeVisible();
    const card = run.locator(".task-approval");
    await expect(card).toHaveCount(1);
    await expect(card.locator('[data-action="approve"]')).toBeDisabled();
    await snap(page, "task-awaiting-approval");

    // Approved in place: the run goes on and succeeds, the graph recoloured.
    await card.locator(".approval-rationale").fill("Looks right");
    await card.locator('[data-action="approve"]').click();
    await expect(run).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
    await expect(run.locator(".task-approval")).toHaveCount(0);
    await expect(run.locator("g.dag-node[data-status=succeeded]").first()).toBeVisible();
    await snap(page, "task-succeeded");

    // A reload shows the same conversation with the run's state; the link opens its page.
    await gotoHydrated(page, `${base}/`);
    await expect(page.locator('.mode-button[data-mode="task"]')).toHaveAttribute("aria-pressed", "true");
    await expect(thread.locator(".task-run")).toHaveAttribute("data-status", "succeeded");
    // On a phone the panel is a drawer (the top bar's button opens it: `]` would be typed
    // into the prompt when it has the focus); the run fits its width.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator("#toggle-right").click();
    await expect(page.locator("#toggle-right")).toHaveAttribute("aria-expanded", "true");
    await expect(page.locator("#orchestrator-panel")).toBeVisible();
    // (The drawer slides in: its final place is what counts.)
    await expect
      .poll(async () => {
        const box = await thread.locator(".task-run").boundingBox();
        return box!.x + box!.width;
      })
      .toBeLessThanOrEqual(390);
    await snap(page, "task-phone");
    await page.setViewportSize({ width: 1440, height: 900 });
    const runId = await thread.locator(".task-run").getAttribute("data-run");
    await thread.locator(".task-run-link").click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
    await expect(page.locator("#run-status")).toHaveText("succeeded");
  } finally {
    // Leave first: a page left open would log its socket's failed reconnects.
    await page.goto("about:blank");
    server.kill();
  }
});
