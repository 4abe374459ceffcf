// Starting a run from a goal, against a server of its own that has a model: the tiny
// random-weight test model (`switchyard model write-test`), loaded through the real
// mistral.rs path, with the planner limited to `noop` steps so that its plans can run.
// Sign-in is off on that server (everyone is the local operator), so no cookies are sent.
import { expect, gotoHydrated, snap, test } from "./fixtures";
import { startServerWithModel } from "./second-server";

const port = Number(process.env.E2E_GOAL_PORT ?? 3111);
const base = `http://127.0.0.1:${port}`;

test.use({ storageState: { cookies: [], origins: [] } });

test("a goal typed in the browser is planned by the model as the page watches, starts, and runs to its end without a reload; the same kind of goal again is a cache hit; the runs list finds both by their goal", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const server = await startServerWithModel(port, "tiny", "tiny", 'planner_tools = ["noop"]\nplanner_max_steps = 3');
  try {
    // Every state the planning panel showed, as "stage|headline", recorded as it changes.
    const startFromGoal = async (goal: string): Promise<string[]> => {
      await gotoHydrated(page, `${base}/runs`);
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as any).planningSeen = seen;
        new MutationObserver(() => {
          const panel = document.querySelector("#goal-planning");
          if (!panel) return;
          const state = `${panel.getAttribute("data-stage")}|${panel.querySelector(".planning-headline")?.textContent}`;
          if (seen[seen.length - 1] !== state) seen.push(state);
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await page.locator("#new-run").click();
      await page.locator("#mode-goal").click();
      await expect(page.locator("#start-goal")).toBeDisabled();
      await page.locator("#goal-text").fill(goal);
      await page.locator("#start-goal").click();
      await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 60_000 });
      return page.evaluate(() => (window as any).planningSeen as string[]);
    };
    const seen = await startFromGoal("Book a flight to Paris");
    // Planning was shown as it happened: the model wrote with a rising token count, and the
    // plan was accepted (states that pass faster than the socket sends may be skipped).
    const writing = seen.filter((s) => s.startsWith("writing|"));
    expect(writing.length, seen.join("\n")).toBeGreaterThan(1);
    expect(writing[0]).toContain("tiny is writing the plan");
    const counts = writing.map((s) => Number(/· (\d+) tokens/.exec(s)?.[1]));
    expect(counts[counts.length - 1]).toBeGreaterThan(counts[0]);
    expect(seen.some((s) => s.startsWith("planned|Planned by tiny")), seen.join("\n")).toBe(true);
    const planning = page.locator("#run-planning");
    await expect(planning).toContainText("Book a flight to Paris");
    await expect(planning.locator("#planning-title")).toContainText("Planned by tiny");
    await expect(planning.locator(".planning-attempt[data-accepted=true]")).toHaveCount(1);
    await expect(page.locator("#run-status")).toHaveText("succeeded", { timeout: 30_000 });
    await expect(page.locator("#run-graph g.dag-node[data-status=succeeded]").first()).toBeVisible();
    await snap(page, "run-from-goal");

    const again = await startFromGoal("Book a flight to London");
    expect(again.some((s) => s.startsWith("planned|The plan cache answered")), again.join("\n")).toBe(true);
    expect(again.some((s) => s.startsWith("writing|")), again.join("\n")).toBe(false);
    await expect(planning.locator("#cache-hit")).toBeVisible();
    await expect(planning).toContainText("the plan cache answered");
    await expect(page.locator("#run-status")).toHaveText("succeeded", { timeout: 30_000 });

    // The runs list finds runs by words of their goal, in any case, and shows each goal.
    await gotoHydrated(page, `${base}/runs`);
    await page.locator("#filter-text").fill("PARIS");
    await page.locator("#filter-text").press("Enter");
    const rows = page.locator("#runs-table tbody tr");
    await expect(rows).toHaveCount(1);
    await expect(rows.first().locator(".run-goal")).toHaveText("Book a flight to Paris");
    await page.locator("#filter-text").fill("flight to");
    await page.locator("#filter-text").press("Enter");
    await expect(rows).toHaveCount(2);
    await snap(page, "runs-filtered-by-goal");
  } finally {
    server.kill();
  }
});
