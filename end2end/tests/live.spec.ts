// The tab's live connection, against a server of its own that the test stops and starts
// again: the top bar says live, then reconnecting or offline while the server is away, then
// live again once it is back (same data dir, so the session stays valid).
//
// This spec uses Playwright's own `test`, not ./fixtures: while the server is away Chromium
// logs each failed WebSocket connection as a console error, which is what should happen
// here. Page errors (a panic in the WASM) still fail it.
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { startServer } from "./second-server";

const port = Number(process.env.E2E_LIVE_PORT ?? 3109);
const base = `http://127.0.0.1:${port}`;
const admin = { email: "live@example.com", password: "a long enough password" };
const env = {
  SWITCHYARD_AUTH_REQUIRED: "true",
  SWITCHYARD_ADMIN_EMAIL: admin.email,
  SWITCHYARD_ADMIN_PASSWORD: admin.password,
};

test.use({ storageState: { cookies: [], origins: [] }, viewport: { width: 1440, height: 900 } });

/** Signs in as the admin on the server at `base` and lands on its Runs page. */
async function signIn(page: Page, base: string) {
  await page.goto(`${base}/login?next=%2Fruns`);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/runs`);
}

async function stop(server: ChildProcess) {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGKILL");
  await exited;
}

test("the link indicator goes live, notices the server leaving, and comes back with it, also after the access cookie expired", async ({ page }) => {
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-live-"));
  let server = await startServer(port, env, [], dataDir);
  try {
    await signIn(page, base);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
    const indicator = page.locator("#link-indicator");
    await expect(indicator).toHaveAttribute("data-state", "live", { timeout: 10_000 });
    await expect(indicator).toHaveText("live");
    await page.screenshot({ path: "screenshots/live-link.png" });

    await stop(server);
    await expect(indicator).toHaveAttribute("data-state", /reconnecting|offline/, { timeout: 15_000 });
    await page.screenshot({ path: "screenshots/live-link-lost.png" });
    // Meanwhile the access cookie expires (a tab open longer than its 15 minutes): the
    // socket's upgrade cannot renew it, so the tab renews it before reconnecting.
    await page.context().clearCookies({ name: "switchyard_access" });

    server = await startServer(port, env, [], dataDir);
    await expect(indicator).toHaveAttribute("data-state", "live", { timeout: 30_000 });

    // Expired again, and the page asks two things at once with the same refresh cookie: both
    // are answered, and the login survives (no reuse alarm revoking it).
    await page.context().clearCookies({ name: "switchyard_access" });
    const statuses = await page.evaluate(() => {
      const ask = () =>
        fetch("/api/fn/current_account", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "",
        }).then((r) => r.status);
      return Promise.all([ask(), ask(), ask()]);
    });
    expect(statuses).toEqual([200, 200, 200]);
    await page.reload();
    await expect(page).toHaveURL(`${base}/runs`);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
    await expect(indicator).toHaveAttribute("data-state", "live", { timeout: 10_000 });
    expect(pageErrors).toEqual([]);
  } finally {
    server.kill();
  }
});

test("a tab watching a run while the server is killed and restarted receives every event of the run exactly once", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  // Its own port: the tests of this file run side by side.
  const port = Number(process.env.E2E_RESUME_PORT ?? 3112);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-resume-"));
  // Short leases: the step interrupted by the kill is retried soon after the restart.
  const resumeEnv = { ...env, SWITCHYARD_LEASE_TTL_MS: "3000" };
  let server = await startServer(port, resumeEnv, [], dataDir);
  try {
    await signIn(page, base);
    const made = await page.request.post(`${base}/api/v1/runs`, {
      data: {
        plan: {
          steps: [
            { key: "before", agent: "default", tool: "noop" },
            { key: "long", agent: "default", tool: "sleep", input: { ms: 4000 }, depends_on: ["before"] },
            { key: "after", agent: "default", tool: "noop", depends_on: ["long"] },
          ],
        },
      },
    });
    expect(made.status()).toBe(201);
    const id = (await made.json()).id as string;
    await page.goto(`${base}/runs/${id}`);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
    const node = (key: string) => page.locator(`#run-graph g.dag-node[data-step="${key}"]`);
    await expect(node("long")).toHaveAttribute("data-status", "leased", { timeout: 10_000 });

    await stop(server);
    await expect(page.locator("#link-indicator")).toHaveAttribute("data-state", /reconnecting|offline/, {
      timeout: 15_000,
    });
    server = await startServer(port, resumeEnv, [], dataDir);
    await expect(page.locator("#link-indicator")).toHaveAttribute("data-state", "live", { timeout: 30_000 });
    await expect(page.locator("#run-status")).toHaveText("succeeded", { timeout: 45_000 });

    const stored = (await (await page.request.get(`${base}/api/v1/runs/${id}/events`)).json()).events as {
      seq: number;
    }[];
    const expected = stored.map((e) => String(e.seq)).join(",");
    await expect(page.locator("#run-live")).toHaveAttribute("data-seqs", expected, { timeout: 10_000 });
    expect(stored.length).toBeGreaterThan(8);
    await page.screenshot({ path: "screenshots/run-resumed.png", fullPage: true });
    expect(pageErrors).toEqual([]);
  } finally {
    server.kill();
  }
});
