import { expect, gotoHydrated, snap, test } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

test("below 768 px both sidebars are drawers", async ({ page }) => {
  await gotoHydrated(page, "/");
  const sidebar = page.locator("#sidebar");
  const panel = page.locator("#orchestrator-panel");
  await expect(sidebar).toBeHidden();
  await expect(panel).toBeHidden();
  await expect(page.locator("#toggle-left")).toHaveAttribute("aria-expanded", "false");
  await snap(page, "mobile");

  await page.locator("#toggle-left").click();
  await expect(sidebar).toBeVisible();
  await expect(page.locator("#toggle-left")).toHaveAttribute("aria-expanded", "true");
  await expect.poll(async () => (await sidebar.boundingBox())!.x).toBeGreaterThanOrEqual(0);
  await snap(page, "mobile-drawer");

  // Choosing a section closes the drawer.
  await sidebar.getByRole("link", { name: "Logs" }).click();
  await expect(page).toHaveURL(/\/logs$/);
  await expect(sidebar).toBeHidden();

  // The right drawer opens with ], and the backdrop closes it.
  await page.keyboard.press("]");
  await expect(panel).toBeVisible();
  await page.locator(".drawer-backdrop").click({ position: { x: 10, y: 300 } });
  await expect(panel).toBeHidden();

  // Drawer state is not persisted: a reload starts closed; the desktop layout is untouched.
  await page.locator("#toggle-left").click();
  await expect(sidebar).toBeVisible();
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(sidebar).toBeHidden();
  await expect(page.locator("html")).toHaveAttribute("data-left", "open");
});

test("the Runs page, its plan editor and a run's page read on a phone", async ({ page, request }) => {
  const res = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "wait", agent: "default", tool: "sleep", input: { ms: 600000 } }] } },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  await gotoHydrated(page, "/runs");
  await expect(page.locator("#link-indicator")).toHaveAttribute("data-state", "live");
  await page.locator("#new-run").click();
  await expect(page.locator("#plan-editor")).toBeVisible();
  await snap(page, "runs-phone");
  await gotoHydrated(page, `/runs/${id}`);
  await expect(page.locator("#run-controls")).toBeVisible();
  await snap(page, "run-phone");
  // The graph and the timeline fit or scroll inside their cards, not the page.
  await page.locator("#run-graph").scrollIntoViewIfNeeded();
  await expect(page.locator("#run-graph svg.dag")).toBeVisible();
  // The timeline keeps its labels readable: it scrolls in its card rather than shrinking.
  expect(await page.locator("#run-timeline svg.timeline").evaluate((svg) => svg.getBoundingClientRect().width)).toBeGreaterThanOrEqual(600);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await snap(page, "run-graph-phone");
  expect((await request.post(`/api/v1/runs/${id}/cancel`)).status()).toBe(204);
});
