// Query mode of the orchestrator panel: a run found by a word that appears only in one of its
// step's outputs, ranked above a run that mentions it in passing, each with its score, the
// matching words marked and a link to its page; the top bar's search reads the same index.
import { expect, gotoHydrated, snap, test } from "./fixtures";

test("query mode ranks a run by a word of its step's output above a passing mention", async ({ page, request }) => {
  const word = `zephyr${Date.now().toString(36)}`;
  const submit = async (steps: unknown[]) => {
    const res = await request.post("/api/v1/runs", { data: { plan: { steps } } });
    expect(res.status()).toBe(201);
    return (await res.json()).id as string;
  };
  const focused = await submit([
    { key: "fetch", agent: "default", tool: "noop", input: { note: "pressure readings collected" } },
    { key: "inspect", agent: "default", tool: "noop", depends_on: ["fetch"], input: { finding: `the ${word} valve leaked; ${word} seals replaced` } },
  ]);
  const filler = Array.from({ length: 150 }, (_, i) => `routine${i}`);
  const passing = await submit([
    { key: "report", agent: "default", tool: "noop", input: { text: `${filler.slice(0, 75).join(" ")} ${word} ${filler.slice(75).join(" ")}` } },
  ]);
  // Both indexed once their steps have run.
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/search?q=${word}`)).json()).hits as unknown[]).length)
    .toBe(2);

  await gotoHydrated(page, "/");
  await page.locator('.mode-button[data-mode="query"]').click();
  await page.locator("#prompt-input").fill(word);
  await page.locator("#prompt-input").press("Enter");
  const hits = page.locator(".query-answer .query-hit");
  await expect(hits).toHaveCount(2);
  await expect(page.locator(".query-summary")).toContainText("2 matches, best first");
  await expect(hits.nth(0).locator("a")).toHaveAttribute("href", `/runs/${focused}`);
  await expect(hits.nth(1).locator("a")).toHaveAttribute("href", `/runs/${passing}`);
  await expect(hits.nth(0).locator("mark").first()).toHaveText(word);
  const scores = await page.locator(".query-answer .query-score").allTextContents();
  expect(Number(scores[0])).toBeGreaterThan(Number(scores[1]));
  await snap(page, "query-mode");

  // The hit's link opens the run.
  await hits.nth(0).locator("a").click();
  await expect(page).toHaveURL(new RegExp(`/runs/${focused}$`));

  // The top bar's search finds the same run first.
  await page.locator("#global-search").fill(word);
  await expect(page.locator(`#search-results [data-href="/runs/${focused}"]`)).toBeVisible();
});
