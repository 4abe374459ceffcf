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

  // Live: a change made elsewhere, and a new run, appear without a reload or a click.
  await expect(page.locator("#link-indicator")).toHaveAttribute("data-state", "live");
  const approve = await request.post(`/api/v1/runs/${gated}/steps/gate/approve`, { data: { rationale: "looks right" } });
  expect(approve.status()).toBe(204);
  await expect(row(gated).locator(".pill")).toHaveText("succeeded", { timeout: 5_000 });
  const fresh = await submit([{ key: "later", agent: "default", tool: "noop" }]);
  await expect(row(fresh).locator(".pill")).toHaveText("succeeded", { timeout: 5_000 });
  // Refresh still re-reads on demand.
  await page.locator("#refresh-runs").click();
  await expect(row(fresh)).toBeVisible();
});

test("a run's page shows what its agents produced, as safe Markdown", async ({ page, request }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const res = await request.post("/api/v1/runs", {
    data: {
      plan: {
        steps: [
          {
            key: "summarise",
            agent: "default",
            tool: "noop",
            input: {
              text:
                "## Findings\n\n**3 hosts** need patches. <script>window.__xss = 1</script> " +
                "<img src=x onerror=\"window.__xss = 2\"> [report](https://example.com/r) " +
                "[click](javascript:window.__xss=3) ![pixel](https://tracker.example/p.gif)",
            },
          },
          {
            key: "notify",
            agent: "default",
            tool: "fail",
            depends_on: ["summarise"],
            input: { message: "<svg onload=\"window.__xss = 4\"></svg> mail server said **no**", retryable: false },
          },
        ],
      },
    },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  await expect
    .poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status)
    .toBe("failed");

  await gotoHydrated(page, "/runs");
  await page.locator(`#runs-table tr[data-run="${id}"] a`).click();
  await expect(page).toHaveURL(`/runs/${id}`);
  await expect(page.locator("#run-status")).toHaveText("failed");
  const output = page.locator('[data-step="summarise"] .step-output');
  await expect(output.locator("h2")).toHaveText("Findings");
  await expect(output.locator("strong")).toHaveText("3 hosts");
  await expect(output).toContainText("<script>window.__xss = 1</script>");
  await expect(output.locator("a")).toHaveCount(1);
  await expect(output.locator("a")).toHaveAttribute("href", "https://example.com/r");
  await expect(output).toContainText("[image: pixel]");
  const error = page.locator('[data-step="notify"] .step-error');
  await expect(error).toContainText('<svg onload="window.__xss = 4"></svg>');
  await expect(error.locator("strong")).toHaveText("no");
  await expect(page.locator("#run-steps").locator("script, img, svg, iframe")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(dialogs).toEqual([]);
  await snap(page, "run-detail");

  // An id that does not exist (or is another project's) is "not found", with status 404.
  await gotoHydrated(page, "/runs/0192aaaa-0000-7000-8000-000000000000", 404);
  await expect(page.locator("#run-error")).toHaveText("run 0192aaaa-0000-7000-8000-000000000000 not found");
});

test("a plan written in the browser shows every problem under its step, submits nothing, and a good one starts", async ({
  page,
  request,
}) => {
  // Other tests create runs meanwhile, so "nothing submitted" is read off the page's own
  // calls: no start_run until the plan is fixed.
  const starts: string[] = [];
  page.on("request", (req) => {
    if (req.url().includes("/api/fn/start_run")) starts.push(req.url());
  });
  await gotoHydrated(page, "/runs");
  await page.locator("#new-run").click();
  // Three mistakes: an unknown tool, a misspelt dependency, a key with capitals and a space.
  const plan = {
    steps: [
      { key: "fetch", agent: "default", tool: "teleport" },
      { key: "store", agent: "default", tool: "noop", depends_on: ["fetchh"] },
      { key: "Bad Key", agent: "default", tool: "noop" },
    ],
  };
  await page.locator("#plan-text").fill(JSON.stringify(plan, null, 2));
  await page.locator("#start-run").click();
  const issues = page.locator("#plan-issues");
  await expect(issues).toContainText("nothing was submitted");
  const at = (index: number, field: string) =>
    issues.locator(`.plan-issue-step[data-index="${index}"] .plan-issue[data-field="${field}"]`);
  await expect(at(0, "tool")).toContainText("unknown tool 'teleport'");
  await expect(at(1, "depends_on")).toContainText("unknown step 'fetchh'");
  await expect(at(2, "key")).toContainText("'Bad Key'");
  await expect(issues.locator(".plan-issue-step").nth(0)).toContainText("Step 1 · fetch");
  await snap(page, "plan-editor-problems");
  expect(starts).toEqual([]);

  // Not JSON: one problem for the whole plan, naming where it stopped.
  await page.locator("#plan-text").fill('{"steps": [');
  await page.locator("#check-plan").click();
  await expect(issues.locator('.plan-issue[data-field="json"]')).toContainText("line 1");

  // Fixed: it starts, and the page goes to the new run.
  await page.locator("#plan-text").fill(JSON.stringify({ steps: [{ key: "fetch", agent: "default", tool: "noop" }] }));
  await page.locator("#check-plan").click();
  await expect(page.locator("#plan-ok")).toBeVisible();
  await page.locator("#start-run").click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  expect(starts).toHaveLength(1);
  const id = page.url().split("/").pop();
  expect((await request.get(`/api/v1/runs/${id}`)).status()).toBe(200);
});

test("a run's page steers the run: pause, resume, cancel with a reason, each control off when it cannot apply", async ({
  page,
  request,
}) => {
  const res = await request.post("/api/v1/runs", {
    data: { plan: { steps: [{ key: "wait", agent: "default", tool: "sleep", input: { ms: 600000 } }] } },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  await expect.poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status).toBe("running");
  await gotoHydrated(page, `/runs/${id}`);
  const status = page.locator("#run-status");
  const control = (action: string) => page.locator(`#run-controls [data-action="${action}"]`);
  await expect(status).toHaveText("running");
  await expect(control("resume")).toBeDisabled();
  await expect(control("resume")).toHaveAttribute("title", "only a paused run resumes");

  await control("pause").click();
  await expect(status).toHaveText("paused");
  await expect(control("pause")).toBeDisabled();
  await control("resume").click();
  await expect(status).toHaveText("running");
  // A change made elsewhere shows here too, without a reload: the page follows the run.
  expect((await request.post(`/api/v1/runs/${id}/pause`)).status()).toBe(204);
  await expect(status).toHaveText("paused");
  expect((await request.post(`/api/v1/runs/${id}/resume`)).status()).toBe(204);
  await expect(status).toHaveText("running");

  await page.locator("#cancel-reason").fill("wrong target");
  await snap(page, "run-controls");
  await control("cancel").click();
  await expect(status).toHaveText("cancelled");
  for (const action of ["pause", "resume", "cancel"]) {
    await expect(control(action)).toBeDisabled();
    await expect(control(action)).toHaveAttribute("title", "the run has ended");
  }
  const run = await (await request.get(`/api/v1/runs/${id}`)).json();
  expect(run.reason).toContain("wrong target");
});

test("a run's page draws its plan on the server, recolours it live, takes an approval inline and filters its history", async ({
  page,
  request,
}) => {
  const res = await request.post("/api/v1/runs", {
    data: {
      plan: {
        steps: [
          { key: "fetch", agent: "default", tool: "noop" },
          { key: "deploy", agent: "default", tool: "approval", input: { summary: "ship it" }, depends_on: ["fetch"] },
          { key: "notify", agent: "default", tool: "noop", depends_on: ["deploy"] },
        ],
      },
    },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  await expect.poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status).toBe("awaiting_approval");

  // The first paint already has the graph, coloured by status: it is in the server's HTML.
  const html = await (await request.get(`/runs/${id}`)).text();
  expect(html).toContain('<svg class="dag"');
  expect(html).toContain('data-step="deploy" data-status="awaiting_approval"');
  expect(html).toContain('data-step="fetch" data-status="succeeded"');
  expect(html).toContain('<svg class="timeline"');

  await gotoHydrated(page, `/runs/${id}`);
  const node = (key: string) => page.locator(`#run-graph g.dag-node[data-step="${key}"]`);
  await expect(node("deploy")).toHaveAttribute("data-status", "awaiting_approval");
  await expect(page.locator("#run-graph path.dag-edge")).toHaveCount(2);
  await expect(page.locator('#run-timeline rect.tl-approval[data-step="deploy"]')).toHaveCount(1);
  await expect(page.locator('#run-timeline rect.tl-running[data-step="fetch"]')).toHaveCount(1);
  await snap(page, "run-graph");

  // Approve inline: the rationale is required, then the rest of the run goes on, live.
  const card = page.locator("#step-deploy");
  const approve = card.locator('[data-action="approve"]');
  await expect(approve).toBeDisabled();
  await card.locator("textarea").fill("checked the diff");
  await approve.click();
  await expect(node("deploy")).toHaveAttribute("data-status", "succeeded");
  await expect(node("notify")).toHaveAttribute("data-status", "succeeded");
  await expect(page.locator("#run-status")).toHaveText("succeeded");
  await expect(card.locator("textarea")).toHaveCount(0);

  // The history lists every event; the filter keeps one kind.
  const events = (await (await request.get(`/api/v1/runs/${id}/events`)).json()).events as { seq: number }[];
  await expect(page.locator("#run-history tbody tr")).toHaveCount(events.length);
  await page.locator("#history-kind").selectOption("step_approved");
  const rows = page.locator("#run-history tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-kind", "step_approved");
  await expect(rows.first()).toContainText("checked the diff");
  await snap(page, "run-history");

  // Run again: a new run of the same plan, linked both ways.
  await page.locator('#run-controls [data-action="rerun"]').click();
  await expect(page).not.toHaveURL(new RegExp(id));
  const again = page.url().split("/").pop()!;
  await expect(page.locator("#run-lineage")).toContainText("Runs again");
  await expect(page.locator(`#run-lineage a[href="/runs/${id}"]`)).toBeVisible();
  await expect(page.locator('#run-graph g.dag-node[data-step="deploy"]')).toHaveAttribute("data-status", "awaiting_approval");
  const rerun = await (await request.get(`/api/v1/runs/${again}`)).json();
  expect(rerun.plan).toEqual((await (await request.get(`/api/v1/runs/${id}`)).json()).plan);
  await page.locator(`#run-lineage a[href="/runs/${id}"]`).click();
  await expect(page.locator(`#run-lineage a[href="/runs/${again}"]`)).toBeVisible();
  await expect(page.locator("#run-lineage")).toContainText("Run again as");
  expect((await request.post(`/api/v1/runs/${again}/cancel`, { data: { reason: "test done" } })).status()).toBe(204);
});

test("a run's graph changes colour as its steps move, with nothing done on the page", async ({ page, request }) => {
  const res = await request.post("/api/v1/runs", {
    data: {
      plan: {
        steps: [
          { key: "wait", agent: "default", tool: "sleep", input: { ms: 5000 } },
          { key: "after", agent: "default", tool: "noop", depends_on: ["wait"] },
        ],
      },
    },
  });
  expect(res.status()).toBe(201);
  const id = (await res.json()).id as string;
  await gotoHydrated(page, `/runs/${id}`);
  const node = (key: string) => page.locator(`#run-graph g.dag-node[data-step="${key}"]`);
  await expect(node("wait")).toHaveAttribute("data-status", "leased");
  await expect(node("after")).toHaveAttribute("data-status", "pending");
  await expect(node("after")).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
  await expect(node("wait")).toHaveAttribute("data-status", "succeeded");
  await expect(page.locator("#run-status")).toHaveText("succeeded");
});

test("the Runs page filters by status, project and id, pages by cursor, and cancels a selection", async ({
  page,
  request,
}) => {
  // 52 finished runs in a project of their own: two pages.
  const project = `paging-${Date.now()}`;
  expect((await request.post("/api/v1/admin/projects", { data: { name: project } })).status()).toBe(201);
  for (let i = 0; i < 52; i++) {
    const made = await request.post("/api/v1/runs", {
      data: { project, plan: { steps: [{ key: "one", agent: "default", tool: "noop" }] } },
    });
    expect(made.status()).toBe(201);
  }
  // Three that keep running, to cancel together.
  const sleepers: string[] = [];
  for (let i = 0; i < 3; i++) {
    const made = await request.post("/api/v1/runs", {
      data: { plan: { steps: [{ key: "wait", agent: "default", tool: "sleep", input: { ms: 600000 } }] } },
    });
    sleepers.push((await made.json()).id);
  }
  for (const id of sleepers) {
    await expect.poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status).toBe("running");
  }

  await gotoHydrated(page, "/runs");
  const rows = page.locator("#runs-table tbody tr");
  await page.locator("#filter-project").selectOption(project);
  await expect(rows).toHaveCount(50);
  await expect(page.locator("#page-number")).toHaveText("Page 1");
  const firstPage = await rows.first().getAttribute("data-run");
  await page.locator("#page-older").click();
  await expect(page.locator("#page-number")).toHaveText("Page 2");
  await expect(rows).toHaveCount(2);
  await expect(page.locator("#page-older")).toBeDisabled();
  await page.locator("#page-newer").click();
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toHaveAttribute("data-run", firstPage!);

  // Status, then a part of one id.
  await page.locator("#filter-project").selectOption("");
  await page.locator("#filter-status").selectOption("running");
  for (const id of sleepers) await expect(page.locator(`#runs-table tr[data-run="${id}"]`)).toBeVisible();
  await expect(page.locator("#runs-table .pill").filter({ hasNotText: "running" })).toHaveCount(0);
  await page.locator("#filter-text").fill(sleepers[1].slice(-12).toUpperCase());
  await page.locator("#filter-text").press("Enter");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-run", sleepers[1]);
  await page.locator("#filter-text").fill("");
  await page.locator("#filter-text").press("Enter");

  // Select the three and cancel them with one reason.
  for (const id of sleepers) await page.locator(`#runs-table tr[data-run="${id}"] .select-run`).check();
  await expect(page.locator("#bulk-bar")).toContainText("3 selected");
  await page.locator("#bulk-reason").fill("cleaning up");
  await snap(page, "runs-bulk");
  await page.locator("#bulk-cancel").click();
  await expect(page.locator("#bulk-outcome")).toContainText("Cancelled 3 of 3.");
  for (const id of sleepers) {
    const run = await (await request.get(`/api/v1/runs/${id}`)).json();
    expect(run.status).toBe("cancelled");
    expect(run.reason).toContain("cleaning up");
  }
  await snap(page, "runs-filters");
});
