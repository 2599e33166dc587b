// Drives the QA console in headless Chromium (Debian's /usr/bin/chromium) with playwright-core.
// Run by tests/console/test_console_browser.py: BASE, SCREENSHOT, NODE_MODULES and CHROMIUM come from
// the environment. Protocol on stdio: prints "READY" once a scenario is active, waits for a line on
// stdin (how many requests the test has sent), prints "RESULT <json>" at the end. Any failure exits 1.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { chromium } = require(path.join(process.env.NODE_MODULES, "playwright-core"));

const BASE = process.env.BASE;
const TIMEOUT = 10000;
const result = { steps: [] };
const step = (name) => { result.steps.push(name); process.stderr.write(`[e2e] ${name}\n`); };

function nextStdinLine() {
  const rl = readline.createInterface({ input: process.stdin });
  return new Promise((resolve) => rl.once("line", (line) => { rl.close(); resolve(line); }));
}

async function rowsText(page) {
  return page.$$eval("#journal tbody tr", (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent.trim())));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // only this sandbox: a request anywhere else fails the run
    const elsewhere = [];
    page.on("request", (r) => { if (!r.url().startsWith(BASE)) elsewhere.push(r.url()); });

    await page.goto(BASE + "/__sandbox/ui");
    await page.waitForFunction(() => document.querySelector("#health").textContent.startsWith("ok"));
    step("page loaded");

    // -- scenarios, through the page ---------------------------------------------------------------
    await page.click('#tabs button[data-tab="scenarios"]');
    await page.waitForSelector("#scenarios-unavailable:not([hidden]), #scenarios-available tbody tr, #scenarios-none:not([hidden])");
    result.scenarioEngine = await page.isHidden("#scenarios-unavailable");
    if (result.scenarioEngine) {
      const library = await page.$$eval("#scenarios-available tbody tr", (trs) => trs.map((tr) => tr.dataset.name));
      result.library = library;
      if (library.includes("flaky-5xx")) {
        // a library scenario for one tenant with a seed, then off again
        await page.fill('#scenario-form input[name="tenant"]', "console-e2e-tenant");
        await page.fill('#scenario-form input[name="seed"]', "7");
        await page.click('#scenarios-available tr[data-name="flaky-5xx"] button.activate');
        const row = '#scenarios-active tr[data-name="flaky-5xx"]';
        await page.waitForSelector(row);
        const cells = await page.$$eval(row + " td", (tds) => tds.map((td) => td.textContent.trim()));
        if (cells[1] !== "console-e2e-tenant" || cells[2] !== "7") throw new Error("activation row: " + JSON.stringify(cells));
        await page.click(row + " button.deactivate");
        await page.waitForSelector(row, { state: "detached" });
        step("library scenario activated for a tenant with seed 7, then deactivated");
      }
      await page.fill('#scenario-form input[name="tenant"]', "");
      await page.fill('#scenario-form input[name="seed"]', "5");
      await page.click("#inline-scenario summary");
      await page.fill("#scenario-definition", JSON.stringify({
        name: "console-e2e",
        description: "the console end-to-end test: the second product read gets a 503",
        rules: [{ name: "second-read-503", match: { api: "click2sync", method: "GET", path: "/click2sync/api/product" },
                  when: { nth: [2] }, action: { status: 503 } }],
      }));
      await page.click("#activate-inline");
      await page.waitForSelector('#scenarios-active tr[data-name="console-e2e"]');
      step("inline scenario activated globally through the page");
    } else {
      step("scenario engine not available: the page says so");
    }

    // -- live journal ------------------------------------------------------------------------------
    await page.click('#tabs button[data-tab="journal"]');
    const before = (await rowsText(page)).length;
    process.stdout.write("READY\n");
    const sent = Number(await nextStdinLine());
    await page.waitForFunction((n) => document.querySelectorAll("#journal tbody tr").length >= n, before + sent);
    const rows = await rowsText(page);
    result.rows = rows.slice(0, sent);
    step("new requests appeared without a reload");

    // filters
    const klass = result.scenarioEngine ? "5xx" : "4xx";
    await page.fill('#journal-filters input[name="status"]', klass);
    await page.waitForFunction((k) => {
      const trs = Array.from(document.querySelectorAll("#journal tbody tr"));
      return trs.length > 0 && trs.every((tr) => tr.cells[6].textContent.startsWith(k[0]));
    }, klass);
    result.filtered = await rowsText(page);
    await page.fill('#journal-filters input[name="status"]', "");
    await page.selectOption('#journal-filters select[name="api"]', "click2sync");
    await page.fill('#journal-filters input[name="path"]', "/api/product");
    await page.waitForFunction(() => {
      const trs = Array.from(document.querySelectorAll("#journal tbody tr"));
      return trs.length >= 4 && trs.every((tr) => tr.cells[5].textContent.includes("/api/product"));
    });
    step("filters by status, API and path");

    // detail of the faulted request (or of the newest one without a scenario engine)
    const detail = async (status) => {
      await page.click(`#journal tbody tr:has(td:text-is("${status}"))`);
      await page.waitForFunction((s) => !document.querySelector("#detail").hidden &&
        document.querySelector("#detail-response").textContent.startsWith(s), String(status));
      const out = {};
      for (const part of ["title", "meta", "fault", "violations", "curl", "request", "response"]) {
        out[part] = await page.textContent("#detail-" + part);
      }
      return out;
    };
    result.details = { 400: await detail(400) };
    await page.click("#copy-curl");
    await page.waitForFunction(() => document.querySelector("#notice").textContent.includes("copied"));
    result.clipboard = await page.evaluate(() => navigator.clipboard.readText());
    step("detail with a contract violation opened, curl copied");
    result.details[result.scenarioEngine ? 503 : 200] = await detail(result.scenarioEngine ? 503 : 200);
    step("detail of the request a scenario rule answered");
    await page.screenshot({ path: process.env.SCREENSHOT });
    step("screenshot taken");

    // -- webhooks, data, violations ------------------------------------------------------------------
    await page.click('#tabs button[data-tab="webhooks"]');
    await page.waitForSelector("#webhooks-empty:not([hidden]), #webhooks tbody tr");
    await page.click('#tabs button[data-tab="data"]');
    await page.waitForSelector("#data-collections li[data-collection]");
    result.collections = await page.$$eval("#data-collections li[data-collection]", (lis) => lis.map((li) => li.dataset.collection));
    await page.click('#data-collections li[data-collection="products"]');
    result.products = JSON.parse(await page.textContent("#data-view")).length;
    await page.click('#tabs button[data-tab="violations"]');
    await page.waitForSelector("#violations tbody tr");
    result.violations = await page.$$eval("#violations tbody tr", (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent.trim())));
    step("webhooks, data browser and violations shown");

    // -- export ---------------------------------------------------------------------------------------
    await page.waitForFunction(() => document.querySelector("#export-json").title !== "");
    result.exportAvailable = !(await page.$eval("#export-json", (a) => a.classList.contains("disabled")));
    if (result.exportAvailable) {
      for (const [id, key] of [["#export-json", "json"], ["#export-har", "har"]]) {
        const [download] = await Promise.all([page.waitForEvent("download"), page.click(id)]);
        result["export_" + key] = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
      }
      step("session exported (JSON and HAR)");
    } else {
      step("session export not available: the buttons are disabled");
    }

    // -- reset ----------------------------------------------------------------------------------------
    page.once("dialog", (d) => d.accept());
    await page.click("#reset");
    await page.waitForFunction(() => document.querySelector("#notice").textContent.startsWith("Reset"));
    step("reset");

    // -- the API reference (/{prefix}/docs), through the header's link: authorize, Try it out ---------
    result.docsLinks = await page.$$eval(".api-docs a", (as) => as.map((a) => a.getAttribute("href")));
    const [docs] = await Promise.all([context.waitForEvent("page"), page.click('.api-docs a[href="/click2sync/docs"]')]);
    docs.setDefaultTimeout(TIMEOUT);
    docs.on("pageerror", (e) => errors.push(String(e)));
    docs.on("request", (r) => { if (!r.url().startsWith(BASE)) elsewhere.push(r.url()); });
    const docsFailed = [];
    docs.on("response", (r) => { if (r.status() >= 400) docsFailed.push(`${r.status()} ${r.url()}`); });
    await docs.waitForSelector(".opblock");
    result.docs = {
      title: await docs.title(),
      operations: await docs.$$eval(".opblock .opblock-summary-operation-id", (els) => els.map((e) => e.textContent.trim())),
      warnings: await docs.$$eval(".swagger-ui .errors-wrapper", (els) => els.map((e) => e.textContent.trim())),
    };
    await docs.click(".auth-wrapper .authorize");
    await docs.fill(".modal-ux input", "c2s-demo-key");  // the C2SKey header
    await docs.click(".modal-ux .auth-btn-wrapper button.authorize");
    await docs.click(".modal-ux .auth-btn-wrapper button.btn-done");
    const op = "#operations-default-listProducts";
    await docs.click(`${op} .opblock-summary`);
    await docs.click(`${op} .try-out__btn`);
    await docs.fill(`${op} tr[data-param-name="offset"] input`, "0");
    await docs.click(`${op} .execute`);
    const answered = `${op} .live-responses-table tbody .response-col_status`;
    await docs.waitForSelector(answered);
    result.docs.tryItOut = {
      status: (await docs.textContent(answered)).trim(),
      url: (await docs.textContent(`${op} .request-url pre`)).trim(),
      body: (await docs.textContent(`${op} .live-responses-table tbody .response-col_description pre`)).trim().slice(0, 2000),
    };
    result.docs.failed = docsFailed;
    step("API reference opened from the header, Try it out answered");

    result.pageErrors = errors;
    result.elsewhere = elsewhere;
    process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  process.stderr.write(`[e2e] FAILED after steps ${JSON.stringify(result.steps)}: ${e.stack || e}\n`);
  process.exit(1);
});
