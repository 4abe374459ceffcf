import { expect, gotoHydrated, snap, test } from "./fixtures";

// The bell is the signed-in admin's: other tests' runs reach it too, so this test counts on
// its own run's notifications, not on exact totals.
test("the bell rings live for a step waiting for approval, and marks read", async ({ page, request }) => {
  await gotoHydrated(page, "/");
  await expect(page.locator("#link-indicator")).toHaveAttribute("data-state", "live");
  const res = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "gate", agent: "default", tool: "approval", input: { summary: "bell" } }] } },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;

  // Without a reload: the count appears, and the list has the run's approval.
  await expect(page.locator("#bell-count")).toBeVisible({ timeout: 5_000 });
  await page.locator("#notifications-button").click();
  const item = page.locator(`#bell-list li[data-run="${id}"][data-kind="approval_waiting"]`);
  await expect(item).toHaveClass(/unread/);
  await expect(item).toContainText("waits for approval");
  await snap(page, "bell");

  // Kept on the server: a reload shows the same, also at phone width, where the list
  // stays inside the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await gotoHydrated(page, "/");
  await page.locator("#notifications-button").click();
  await expect(item).toHaveClass(/unread/);
  const list = await page.locator("#bell-list").boundingBox();
  expect(list!.x).toBeGreaterThanOrEqual(0);
  expect(list!.x + list!.width).toBeLessThanOrEqual(390);
  await snap(page, "bell-phone");
  await page.setViewportSize({ width: 1440, height: 900 });

  // Opening it goes to the run and marks it read.
  await item.locator("button").click();
  await expect(page).toHaveURL(new RegExp(`/runs/${id}$`));
  const bell = await (await request.get("/api/v1/notifications")).json();
  const mine = bell.items.find((n: { run_id: string; kind: string }) => n.run_id === id && n.kind === "approval_waiting");
  expect(mine.read).toBe(true);

  // Mark all read: the count goes away. (Another run waits first, so something is unread
  // however this test is run: alone, or after others.)
  const other = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "gate", agent: "default", tool: "approval", input: { summary: "bell 2" } }] } },
  });
  expect(other.status()).toBe(201);
  await expect(page.locator("#bell-count")).toBeVisible({ timeout: 5_000 });
  await page.locator("#notifications-button").click();
  await page.locator("#bell-read-all").click();
  await expect(page.locator("#bell-count")).toHaveCount(0);
  // Approving settles it for everyone (it was read already; the approval is recorded).
  const approve = await request.post(`/api/v1/runs/${id}/steps/gate/approve`, { data: { rationale: "bell test" } });
  expect(approve.status()).toBe(204);
  const otherId = (await other.json()).id as string;
  const reject = await request.post(`/api/v1/runs/${otherId}/steps/gate/reject`, { data: { rationale: "bell test" } });
  expect(reject.status()).toBe(204);
});
