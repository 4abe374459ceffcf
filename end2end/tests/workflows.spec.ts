import { expect, gotoHydrated, snap, test } from "./fixtures";

// A template whose parameters use every kind the generated form supports: text with a
// pattern, email, uri, date, a choice, integer and number with bounds, a boolean, a list of
// strings, a nested object, and one property outside the subset (a JSON field).
const template = (name: string) => ({
  name,
  description: "Onboards a customer: every kind of field the form supports",
  params_schema: {
    type: "object",
    required: ["customer", "email", "seats"],
    properties: {
      customer: { type: "string", title: "Customer", pattern: "^[A-Z]", description: "Starts with a capital" },
      email: { type: "string", format: "email" },
      site: { type: "string", format: "uri" },
      start: { type: "string", format: "date" },
      tier: { type: "string", enum: ["free", "pro", "enterprise"], default: "pro" },
      seats: { type: "integer", minimum: 1, maximum: 50 },
      discount: { type: "number", minimum: 0, maximum: 0.5 },
      invoice: { type: "boolean", default: true },
      tags: { type: "array", items: { type: "string" } },
      address: {
        type: "object",
        required: ["city"],
        properties: { city: { type: "string" }, zip: { type: "string", pattern: "^[0-9]{5}$" } },
      },
      extra: { oneOf: [{ type: "string" }, { type: "object" }] },
    },
  },
  plan: {
    steps: [
      {
        key: "welcome",
        agent: "default",
        tool: "noop",
        input: {
          customer: "{{params.customer}}",
          email: "{{params.email}}",
          seats: "{{params.seats}}",
          tier: "{{params.tier}}",
          city: "{{params.address.city}}",
          tags: "{{params.tags}}",
          invoice: "{{params.invoice}}",
        },
      },
    ],
  },
});

test("a template's generated form shows the server's errors by field, then starts a run", async ({ page, request }) => {
  const name = `onboard-${Date.now()}`;
  const saved = await request.post("/api/v1/workflows", { data: template(name) });
  expect(saved.status(), await saved.text()).toBe(201);

  // Listed in the Workflows section.
  await gotoHydrated(page, "/workflows");
  await expect(page.locator(`[data-template="${name}"]`)).toContainText("11 parameters");
  await snap(page, "workflows");
  await page.locator(`[data-template="${name}"] a`).click();
  await expect(page.locator("#workflow-name")).toHaveText(name);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");

  // Every supported kind has its own control; the unsupported one is a JSON field.
  await expect(page.locator("#param-email")).toHaveAttribute("type", "email");
  await expect(page.locator("#param-site")).toHaveAttribute("type", "url");
  await expect(page.locator("#param-start")).toHaveAttribute("type", "date");
  await expect(page.locator("#param-seats")).toHaveAttribute("type", "number");
  await expect(page.locator("#param-tier")).toHaveValue('"pro"');
  await expect(page.locator("#param-invoice")).toBeChecked();
  await expect(page.locator("#param-tags")).toHaveClass(/list-input/);
  await expect(page.locator("#param-address-city")).toBeVisible();
  await expect(page.locator("#param-extra")).toHaveClass(/json-input/);

  // Bad values: the server's own messages, each next to its field; nothing starts.
  await page.locator("#param-customer").fill("lowercase inc");
  await page.locator("#param-email").fill("not-an-email");
  await page.locator("#param-seats").fill("99");
  await page.locator("#param-address-zip").fill("12");
  await page.locator("#start-workflow").click();
  const errorOf = (pointer: string) => page.locator(`[data-field="${pointer}"] > .field-error`);
  await expect(errorOf("/customer")).toContainText("does not match");
  await expect(errorOf("/email")).toContainText("is not a \"email\"");
  await expect(errorOf("/seats")).toContainText("99");
  await expect(errorOf("/address/city")).toContainText("required");
  await expect(errorOf("/address/zip")).toContainText("does not match");
  await expect(page).toHaveURL(new RegExp(`/workflows/${name}$`));
  await snap(page, "workflow-form-errors");
  const runsBefore = await (await request.get(`/api/v1/workflows/${name}`)).json();
  expect(runsBefore.name).toBe(name);

  // Fixed: the run starts and the page goes to it; the outputs carry the values, typed.
  await page.locator("#param-customer").fill("Acme");
  await page.locator("#param-email").fill("ops@acme.example");
  await page.locator("#param-seats").fill("12");
  await page.locator("#param-tier").selectOption('"enterprise"');
  await page.locator("#param-tags").fill("eu\nvip");
  await page.locator("#param-tags").blur();
  await page.locator("#param-address-city").fill("Lyon");
  await page.locator("#param-address-zip").fill("69001");
  await page.locator("#param-invoice").uncheck();
  await page.locator("#start-workflow").click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop()!;
  await expect
    .poll(async () => (await (await request.get(`/api/v1/runs/${id}`)).json()).status)
    .toBe("succeeded");
  const run = await (await request.get(`/api/v1/runs/${id}`)).json();
  expect(run.steps[0].output).toEqual({
    customer: "Acme",
    email: "ops@acme.example",
    seats: 12,
    tier: "enterprise",
    city: "Lyon",
    tags: ["eu", "vip"],
    invoice: false,
  });

  // The top bar's search finds the template by name and the run by part of its id.
  const search = page.locator("#global-search");
  await search.fill(name.slice(0, 12));
  await expect(page.locator(`#search-results [data-href="/workflows/${name}"]`)).toBeVisible();
  await search.fill(id.slice(-10));
  await expect(page.locator(`#search-results [data-href="/runs/${id}"]`)).toBeVisible();
  await snap(page, "search-runs-and-workflows");
  await search.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/runs/${id}$`));
});

test("a template with mistakes is refused field by field from the editor", async ({ page }) => {
  await gotoHydrated(page, "/workflows");
  await page.locator("#new-template").click();
  await page.locator("#template-name").fill(`broken-${Date.now()}`);
  await page.locator("#template-plan").fill(
    JSON.stringify({
      steps: [
        { key: "a", agent: "default", tool: "noop", input: { to: "{{params.nobody}}" } },
        { key: "b", agent: "default", tool: "no-such-tool" },
      ],
    }),
  );
  await page.locator("#save-template").click();
  await expect(page.locator("#template-problems")).toContainText("params.nobody");
  await expect(page.locator('#template-problems [data-field="plan/steps/0/input/to"]')).toBeVisible();
  // All at once: the unknown tool too, and the heading counts them.
  await expect(page.locator("#template-problems")).toContainText("no-such-tool");
  await expect(page.locator("#template-problems > p")).toHaveText(/Not saved: [2-9] problems/);
  await snap(page, "workflow-editor-problems");
  // The example plan as given saves.
  await page.locator("#template-plan").fill(
    JSON.stringify({ steps: [{ key: "a", agent: "default", tool: "noop", input: { url: "{{params.url}}" } }] }),
  );
  await page.locator("#save-template").click();
  await expect(page.locator("#template-saved")).toContainText("version 1");
});

test("a template's form on a phone", async ({ page, request }) => {
  const name = `phone-${Date.now()}`;
  expect((await request.post("/api/v1/workflows", { data: template(name) })).status()).toBe(201);
  await page.setViewportSize({ width: 390, height: 844 });
  await gotoHydrated(page, `/workflows/${name}`);
  await expect(page.locator("#param-email")).toBeVisible();
  const box = await page.locator("#param-email").boundingBox();
  expect(box!.width).toBeGreaterThan(250);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, "workflow-form-phone");

  // The list of templates reads on a phone too: nothing wider than the screen.
  await gotoHydrated(page, "/workflows");
  await expect(page.locator(`a[href="/workflows/${name}"]`).first()).toBeVisible();
  const listOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(listOverflow).toBeLessThanOrEqual(0);
  await snap(page, "workflows-phone");
});
