// The approvals inbox, live across tabs: a step waiting for a person appears in two open tabs
// without a reload; approving it needs a rationale; once approved in one tab it leaves both,
// and the run goes on.
import { expect, gotoHydrated, snap, test } from "./fixtures";

test("an approval reaches every open inbox, and deciding it in one tab clears the others", async ({
  page,
  context,
  request,
}) => {
  const second = await context.newPage();
  await gotoHydrated(page, "/approvals");
  await gotoHydrated(second, "/approvals");
  for (const tab of [page, second]) {
    await expect(tab.locator("#link-indicator")).toHaveAttribute("data-state", "live");
  }

  const res = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "ship", agent: "default", tool: "approval", input: { summary: "ship v2 to production" } }] } },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  const card = (tab: typeof page) => tab.locator(`.approval-card[data-run="${id}"]`);
  // Live: within a second and a half in both tabs, no reload.
  await expect(card(page)).toBeVisible({ timeout: 1_500 });
  await expect(card(second)).toBeVisible({ timeout: 1_500 });
  // The sidebar counts what the inbox lists.
  await expect(page.locator("#approvals-badge")).toHaveText(String(await page.locator("#approvals-list .approval-card").count()));
  await expect(card(page)).toContainText("ship");
  await expect(card(page)).toContainText("tool approval");

  // A decision needs a rationale.
  const approve = card(page).locator('[data-action="approve"]');
  await expect(approve).toBeDisabled();
  await card(page).locator("textarea").fill("release checklist done");
  await expect(approve).toBeEnabled();
  // Another request arriving meanwhile leaves the rationale being written as it is.
  const other = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "later", agent: "default", tool: "approval", input: { summary: "not now" } }] } },
  });
  expect(other.status()).toBe(201);
  const otherId = (await other.json()).id as string;
  await expect(card(page).locator("textarea")).toHaveValue("release checklist done");
  await expect(page.locator(`.approval-card[data-run="${otherId}"]`)).toBeVisible({ timeout: 1_500 });
  await expect(card(page).locator("textarea")).toHaveValue("release checklist done");
  await expect(approve).toBeEnabled();
  await card(page).locator("details summary").click();
  await expect(card(page).locator("pre")).toContainText("ship v2 to production");
  await snap(page, "approvals");
  await approve.click();

  await expect(card(page)).toHaveCount(0, { timeout: 1_500 });
  await expect(card(second)).toHaveCount(0, { timeout: 1_500 });
  await expect
    .poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status)
    .toBe("succeeded");
  const events = (await (await request.get(`/api/v1/runs/${id}/events`)).json()).events as { kind: string; rationale?: string }[];
  expect(events.find((e) => e.kind === "step_approved")?.rationale).toBe("release checklist done");
  const reject = await request.post(`/api/v1/runs/${otherId}/steps/later/reject`, { data: { rationale: "approvals test" } });
  expect(reject.status()).toBe(204);
});

test.describe("at phone width", () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

  test("the inbox reads on a phone", async ({ page, request }) => {
    const res = await request.post("/api/v1/runs", {
      data: { plan: { steps: [{ key: "rotate-keys", agent: "default", tool: "approval", input: { summary: "rotate the signing keys" } }] } },
    });
    expect(res.status()).toBe(201);
    const id = (await res.json()).id as string;
    await gotoHydrated(page, "/approvals");
    await expect(page.locator(`.approval-card[data-run="${id}"]`)).toBeVisible();
    await snap(page, "approvals-phone");
  });
});
