import { expect, gotoHydrated, snap, test } from "./fixtures";

test("the Runs page lists runs with their status", async ({ page, request }) => {
  const submit = async (steps: object[]) => {
    const res = await request.post("/api/v1/runs", { data: { plan: { steps } } });
    expect(res.status()).toBe(201);
    return (await res.json()).id as string;
  };
  const ok = await submit([
    { key: "fetch", agent: "default", tool: "noop" },
    { key: "store", agent: "default", tool: "noop", depends_on: ["fetch"] },
  ]);
  const bad = await submit([
    { key: "charge", agent: "default", tool: "fail", input: { message: "card declined", retryable: false } },
  ]);
  const gated = await submit([{ key: "gate", agent: "default", tool: "approval", input: { summary: "deploy" } }]);

  // Wait until the engine has settled all three, through the API.
  await expect
    .poll(async () => {
      const statuses = await Promise.all(
        [ok, bad, gated].map(async (id) => (await (await request.get(`/api/v1/runs/${id}`)).json()).status),
      );
      return statuses.join(",");
    })
    .toBe("succeeded,failed,awaiting_approval");

  await gotoHydrated(page, "/runs");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Runs");
  const row = (id: string) => page.locator(`#runs-table tr[data-run="${id}"]`);
  await expect(row(ok).locator(".pill")).toHaveText("succeeded");
  await expect(row(bad).locator(".pill")).toHaveText("failed");
  await expect(row(bad)).toContainText("card declined");
  await expect(row(gated).locator(".pill")).toHaveText("awaiting approval");
  await snap(page, "runs");

  // Refresh picks up a change made elsewhere.
  const approve = await request.post(`/api/v1/runs/${gated}/steps/gate/approve`, { data: { rationale: "looks right" } });
  expect(approve.status()).toBe(204);
  await expect
    .poll(async () => (await (await request.get(`/api/v1/runs/${gated}`)).json()).status)
    .toBe("succeeded");
  await page.locator("#refresh-runs").click();
  await expect(row(gated).locator(".pill")).toHaveText("succeeded");
});
