import { expect, gotoHydrated, snap, test } from "./fixtures";

test("the server renders the shell before any script runs", async ({ request }) => {
  const res = await request.get("/");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("text/html");
  // Hardened: a nonce CSP (the fixtures fail any test whose page logs a CSP violation),
  // no framing, no sniffing.
  const csp = res.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'nonce-");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers()["x-frame-options"]).toBe("DENY");
  expect(res.headers()["x-content-type-options"]).toBe("nosniff");
  const html = await res.text();
  for (const marker of ['id="sidebar"', 'id="orchestrator-panel"', 'id="global-search"', ">Dashboard<", ">Approvals<"]) {
    expect(html, `SSR HTML contains ${marker}`).toContain(marker);
  }
  // The bundle the HTML points at must exist, with long-lived caching for hashed names.
  const js = html.match(/href="(\/pkg\/[^"]+\.js)"/)?.[1];
  const wasm = html.match(/href="(\/pkg\/[^"]+\.wasm)"/)?.[1];
  expect(js, "HTML links a JS bundle").toBeTruthy();
  expect(wasm, "HTML links a WASM bundle").toBeTruthy();
  const wasmRes = await request.get(wasm!, { headers: { "accept-encoding": "gzip, br" } });
  expect(wasmRes.status()).toBe(200);
  expect(wasmRes.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(["br", "gzip"]).toContain(wasmRes.headers()["content-encoding"]);
});

test("the app hydrates and the sidebar toggle collapses, and stays collapsed after reload", async ({ page }) => {
  await gotoHydrated(page, "/");
  const toggle = page.locator("#toggle-left");
  const sidebar = page.locator("#sidebar");
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  const wide = (await sidebar.boundingBox())!.width;
  expect(wide).toBeGreaterThan(180);
  await snap(page, "desktop");

  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-left", "collapsed");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect.poll(async () => (await sidebar.boundingBox())!.width).toBeLessThan(80);
  await expect(sidebar.getByText("Runs", { exact: true })).toBeHidden();
  await snap(page, "desktop-collapsed");

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("html")).toHaveAttribute("data-left", "collapsed");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  expect((await sidebar.boundingBox())!.width).toBeLessThan(80);

  await page.keyboard.press("[");
  await expect(page.locator("html")).toHaveAttribute("data-left", "open");
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
});

test("] toggles the orchestrator panel and the choice survives a reload", async ({ page }) => {
  await gotoHydrated(page, "/");
  const panel = page.locator("#orchestrator-panel");
  await expect(panel).toBeVisible();
  await page.keyboard.press("]");
  await expect(page.locator("html")).toHaveAttribute("data-right", "closed");
  await expect(panel).toBeHidden();
  await expect(page.locator("#toggle-right")).toHaveAttribute("aria-expanded", "false");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(panel).toBeHidden();
  await page.keyboard.press("]");
  await expect(panel).toBeVisible();
});

test("/ focuses search, typing filters sections and Enter navigates", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.keyboard.press("/");
  const search = page.locator("#global-search");
  await expect(search).toBeFocused();
  await page.keyboard.type("appro");
  // Sections come first; runs whose text has a word starting "appro" (the approval tool's
  // output) may follow from the search index.
  await expect(page.locator("#search-results [role=option]").first()).toHaveText(/Approvals/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/approvals$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Approvals");
  await expect(page.locator(".breadcrumbs [aria-current=page]")).toHaveText("Approvals");
  await expect(search).toHaveValue("");
});

test("? opens the shortcut help and Escape closes it; g then a letter navigates", async ({ page }) => {
  await gotoHydrated(page, "/");
  await page.keyboard.press("?");
  const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("Collapse or expand the sidebar");
  await snap(page, "shortcut-help");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  await page.keyboard.press("g");
  await page.keyboard.press("r");
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.locator('#sidebar a[aria-current="page"]')).toHaveText(/Runs/);
});

test("shortcuts leave text fields alone", async ({ page }) => {
  await gotoHydrated(page, "/");
  const input = page.locator("#prompt-input");
  await input.click();
  await page.keyboard.type("[x] / ?");
  await expect(input).toHaveValue("[x] / ?");
  await expect(page.locator("html")).toHaveAttribute("data-left", "open");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeHidden();
});

test("every sidebar section has a page inside the shell", async ({ page }) => {
  await gotoHydrated(page, "/");
  for (const label of ["Runs", "Agents", "Logs", "Alerts", "Approvals", "Settings", "Dashboard"]) {
    await page.locator("#sidebar").getByRole("link", { name: label }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(label);
    await expect(page).toHaveTitle(label === "Dashboard" ? "Dashboard · Switchyard" : `${label} · Switchyard`);
    // What a page says is true today: no promises of what it will hold.
    await expect(page.locator("#main")).not.toContainText(/\byet\b|\bwill be\b|\bcoming soon\b/i);
  }
});

test("the dashboard shows live system health from the server", async ({ page }) => {
  await gotoHydrated(page, "/");
  const facts = page.locator("#system-facts");
  await expect(facts).toContainText("Healthy");
  await expect(facts.getByTestId("database")).toHaveText("sqlite · ok");
  // The same document as GET /api/v1/health: the store and the models too.
  await expect(facts.getByTestId("objects")).toHaveText("ok");
  await expect(facts.getByTestId("models")).toContainText("no model is configured: set `models`");
  await expect(facts.getByTestId("device")).toContainText("cpu (");
  const api = await (await page.request.get("/api/v1/health")).json();
  expect(api.store.objects.ok).toBe(true);
  expect(api.inference.models).toEqual([]);
  await snap(page, "dashboard-health");
  await page.locator("#refresh-health").click();
  await expect(facts).toContainText("Healthy");
});

test("unknown paths get a 404 page inside the shell", async ({ page }) => {
  await gotoHydrated(page, "/no/such/page", 404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("#sidebar")).toBeVisible();
  await expect(page.locator(".breadcrumbs [aria-current=page]")).toHaveText("Not found");
  await snap(page, "not-found");
  await page.getByRole("link", { name: "Back to the dashboard" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dashboard");
});

test("top-bar menus open one at a time and close on Escape or a click elsewhere", async ({ page }) => {
  await gotoHydrated(page, "/");
  const bell = page.locator("#notifications-button");
  const account = page.locator("#user-menu-button");
  const notifications = page.getByRole("dialog", { name: "Notifications" });
  const menu = page.getByRole("menu", { name: "Account" });

  await bell.click();
  await expect(notifications).toBeVisible();
  await expect(bell).toHaveAttribute("aria-expanded", "true");
  await page.keyboard.press("Escape");
  await expect(notifications).toBeHidden();
  await expect(bell).toHaveAttribute("aria-expanded", "false");

  await bell.click();
  await account.click();
  await expect(menu).toBeVisible();
  await expect(notifications).toBeHidden();
  // The suite is signed in as the server's admin: the menu says who, and offers the admin
  // and account pages.
  await expect(menu).toContainText("e2e-admin@example.com");
  await expect(menu).toContainText("Signed in · admin");
  await expect(page.locator("#menu-admin")).toBeVisible();
  await snap(page, "account-menu");

  await page.locator("#main").click({ position: { x: 300, y: 400 } });
  await expect(menu).toBeHidden();

  // The menu's own items work and close it.
  await account.click();
  await menu.getByRole("menuitem", { name: /Keyboard shortcuts/ }).click();
  await expect(menu).toBeHidden();
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
});
