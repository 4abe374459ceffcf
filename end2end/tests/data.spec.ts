// Data mode of the orchestrator panel: a CSV with three bad rows is checked as it is sent —
// its rows with problems listed, its schema and scores shown — and nothing is written until
// the person confirms; then the rest is written with a progress bar, read back through the
// store on the dataset's page, and found by name. Empty, binary and malformed files
// (one past 200 MB among them) are refused naming what is wrong, and write nothing.
import { mkdtempSync, openSync, writeSync, closeSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, gotoHydrated, snap, test } from "./fixtures";

/** 12 rows; row 3's id is not an integer, row 5's score is not a number, row 6 repeats id 1. */
const CSV = [
  "id,name,score,joined",
  "1,ann,3.5,2026-12-01",
  "2,bob,4,2026-12-02",
  "x,cid,1,2026-12-03",
  "4,dee,,2026-12-04",
  "5,eve,abc,2026-12-05",
  "1,eli,2,2026-12-06",
  "7,fay,2,2026-12-07",
  "8,gus,2,2026-12-08",
  "9,hal,2,2026-12-09",
  "10,ivy,2,2026-12-10",
  "11,jon,2,2026-12-11",
  "12,kim,2,2026-12-12",
].join("\n") + "\n";

async function openDataMode(page: import("@playwright/test").Page) {
  await gotoHydrated(page, "/datasets");
  await page.locator('.mode-button[data-mode="data"]').click();
  await expect(page.locator("#data-file")).toBeAttached();
}

async function datasetCount(request: import("@playwright/test").APIRequestContext, q = ""): Promise<number> {
  const res = await request.get(`/api/v1/datasets?limit=200&q=${encodeURIComponent(q)}`);
  expect(res.status()).toBe(200);
  return ((await res.json()).datasets as unknown[]).length;
}

test("a CSV with three bad rows is checked, confirmed, written with progress and read back", async ({ page, request }) => {
  const name = `people-${Date.now()}`;
  await openDataMode(page);
  await page.locator("#data-file").setInputFiles({ name: `${name}.csv`, mimeType: "text/csv", buffer: Buffer.from(CSV) });

  const check = page.locator("#data-check");
  await expect(check).toBeVisible();
  await expect(page.locator("#data-rows")).toHaveText("12 rows");
  // No key chosen yet: the values that do not fit their column's kind.
  await expect(page.locator("#data-bad-rows")).toHaveText("2 rows with problems (left out when written)");
  // A key column: checked again on the server, from the staged copy.
  await page.locator("#data-key").selectOption("id");
  await expect(page.locator("#data-bad-rows")).toHaveText("3 rows with problems (left out when written)");
  const problems = page.locator("#data-problems li");
  await expect(problems).toHaveCount(3);
  await expect(problems.nth(0)).toContainText("Row 3");
  await expect(problems.nth(0)).toContainText("'x' is not an integer");
  await expect(problems.nth(1)).toContainText("Row 5");
  await expect(problems.nth(1)).toContainText("'abc' is not a number");
  await expect(problems.nth(2)).toContainText("Row 6");
  await expect(problems.nth(2)).toContainText("duplicate key '1' (first in row 1)");
  // The schema and the scores.
  const kinds = page.locator("#data-schema tbody .kind-chip");
  await expect(kinds).toHaveText(["integer", "text", "number", "date"]);
  // Completeness 47 of 48 values present; validity 45 of those 47 fit.
  await expect(page.locator(".data-score-value").nth(0)).toHaveText("97.9 %");
  await expect(page.locator(".data-score-value").nth(1)).toHaveText("95.7 %");
  await expect(page.locator("#data-preview tbody tr")).toHaveCount(12);
  await expect(page.locator("#data-preview tbody tr.data-row-bad")).toHaveCount(3);
  // Checked, not written.
  expect(await datasetCount(request, name)).toBe(0);
  await page.locator("#data-name").fill(name);
  await snap(page, "data-check");

  await expect(page.locator("#data-write")).toHaveText("Write 9 rows");
  await page.locator("#data-write").click();
  const written = page.locator("#data-written");
  await expect(written).toHaveAttribute("data-status", "ready");
  await expect(written).toContainText("9 rows (3 left out with problems)");
  await expect(written.locator("progress")).toHaveAttribute("value", "9");
  expect(await datasetCount(request, name)).toBe(1);
  await expect(page.locator("#data-datasets")).toContainText(name);
  await snap(page, "data-written");

  // Read back through the store on the dataset's page.
  await written.locator("a").click();
  await expect(page.locator("#dataset-name")).toContainText(name);
  await expect(page.locator("#dataset-rows tbody tr")).toHaveCount(9);
  await expect(page.locator("#dataset-rows tbody tr").nth(2)).toContainText("dee");
  await expect(page.locator("#dataset-rows-range")).toHaveText("Rows 1–9 of 9");
  await expect(page.locator("#dataset-rows-next")).toHaveText("Next");
  await expect(page.locator("#dataset-rows-next")).toBeDisabled();
  await snap(page, "dataset-page");

  // Listed on the Datasets page and found by the top bar's search.
  await gotoHydrated(page, "/datasets");
  await page.locator("#datasets-search").fill(name.slice(0, 12));
  await expect(page.locator("#datasets-table")).toContainText(name);
  await page.locator("#global-search").fill(name);
  await expect(page.locator("#search-results")).toContainText(name);
});

test("a required column is checked through the API", async ({ request }) => {
  const res = await request.post("/api/v1/datasets/check?file_name=people.csv&key=id&required=score", {
    headers: { "content-type": "text/csv" },
    data: CSV,
  });
  expect(res.status()).toBe(200);
  const check = await res.json();
  expect(check.profile.bad_rows).toBe(4);
  expect(check.profile.problems.map((p: { row: number; problem: string }) => `${p.row}:${p.problem}`)).toEqual([
    "3:mismatch",
    "4:missing",
    "5:mismatch",
    "6:duplicate_key",
  ]);
  const gone = await request.delete(`/api/v1/datasets/check/${check.upload}`);
  expect(gone.status()).toBe(204);
});

test("empty, binary and malformed files (one past 200 MB) are refused and write nothing", async ({ page, request }) => {
  test.setTimeout(120_000);
  await openDataMode(page);
  const problem = page.locator("#data-problem");

  await page.locator("#data-file").setInputFiles({ name: "empty.csv", mimeType: "text/csv", buffer: Buffer.alloc(0) });
  await expect(problem).toContainText("the file is empty; nothing was written");
  await expect(page.locator("#data-check")).toHaveCount(0);

  await page.locator("#data-file").setInputFiles({
    name: "photo.csv",
    mimeType: "text/csv",
    buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
  });
  await expect(problem).toContainText("the file looks binary");

  // 210 MB of good rows, then a broken one: streamed by the browser, refused naming its line.
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-data-"));
  const big = path.join(dir, "big.csv");
  const fd = openSync(big, "w");
  const line = "12345,some text that pads the row out,3.25,2026-12-07\n";
  const block = line.repeat(20_000);
  const blocks = Math.ceil(210_000_000 / block.length);
  writeSync(fd, "id,text,score,day\n");
  for (let i = 0; i < blocks; i++) writeSync(fd, block);
  writeSync(fd, '1,"broken,2,3\n');
  closeSync(fd);
  try {
    await page.locator("#data-file").setInputFiles(big);
    await expect(page.locator("#data-sending")).toContainText("big.csv");
    await expect(problem).toContainText(`line ${blocks * 20_000 + 2}`, { timeout: 90_000 });
    await expect(problem).toContainText("nothing was written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // No dataset from any of them (other tests write datasets meanwhile: asked by file name).
  for (const name of ["empty.csv", "photo.csv", "big.csv"]) {
    expect(await datasetCount(request, name)).toBe(0);
  }
  await snap(page, "data-refused");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

  test("the data mode fits the screen", async ({ page }) => {
    await gotoHydrated(page, "/");
    await page.locator("#toggle-right").click();
    await page.locator('.mode-button[data-mode="data"]').click();
    await page.locator("#data-file").setInputFiles({ name: "phone.csv", mimeType: "text/csv", buffer: Buffer.from(CSV) });
    await expect(page.locator("#data-check")).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await snap(page, "data-phone");
    await page.locator("#data-discard").click();
    await expect(page.locator("#data-check")).toHaveCount(0);
  });
});
