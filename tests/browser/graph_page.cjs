// Drives Debian's Chromium (headless, no network, a fresh profile) over a
// kdsl graph page and prints what it saw as JSON, for test_graph_page.py to
// judge. Usage: node graph_page.cjs PAGE.html PLAN.json OUT.json
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const [pagePath, planPath, outPath] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planPath, "utf8"));

async function visibleLayers(page) {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("g.node"))
      .filter((g) => !g.classList.contains("hidden") && g.getBoundingClientRect().width > 0)
      .map((g) => g.dataset.layer).sort());
}

async function state(page) {
  return page.evaluate(() => ({
    placement: window.kdslGraph.placement(),
    opened: window.kdslGraph.opened(),
    collapsedShown: Array.from(document.querySelectorAll("g.collapsed"))
      .filter((g) => !g.classList.contains("hidden")).map((g) => g.dataset.container).sort(),
    clustersShown: Array.from(document.querySelectorAll("g.cluster"))
      .filter((g) => !g.classList.contains("hidden")).map((g) => g.dataset.container).sort(),
    edgesShown: Array.from(document.querySelectorAll("path.edge"))
      .filter((p) => !p.classList.contains("hidden") && p.getAttribute("d")).length,
    scale: +document.querySelector("svg.kdsl-graph").dataset.scale,
    viewport: document.querySelector("g.viewport").getAttribute("transform"),
  }));
}

async function clickSelector(page, selector) {
  const handle = await page.$(selector);
  if (!handle) throw new Error("nothing matches " + selector);
  await handle.click();
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kdsl-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.KDSL_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1920, height: 1080 },
    offline: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run"],
  });
  const out = { console: [], requests: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") out.console.push(m.text()); });
    page.on("pageerror", (e) => out.console.push("pageerror: " + e.message));
    page.on("request", (r) => { if (!r.url().startsWith("file:")) out.requests.push(r.url()); });
    await page.goto("file://" + path.resolve(pagePath));
    await page.waitForFunction(() => window.kdslGraph !== undefined);

    out.layerElements = await page.evaluate(() =>
      Array.from(document.querySelectorAll("g.layer")).map((g) => g.dataset.layer));
    out.initial = await state(page);
    out.initialVisible = await visibleLayers(page);
    if (plan.mode === "placement") {  // only: the page's placement, closed and all open
      await clickSelector(page, "#kdsl-open-all");
      out.allOpen = await state(page);
      out.allOpenVisible = await visibleLayers(page);
      return;
    }

    // Open a block by clicking its collapsed box, then one inside it.
    for (const cid of plan.open) {
      await clickSelector(page, `g.collapsed[data-container="${cid}"]`);
    }
    out.afterOpen = await state(page);
    out.afterOpenVisible = await visibleLayers(page);

    // Details of a clicked layer.
    await clickSelector(page, `g.node[data-layer="${plan.details}"]`);
    out.details = await page.evaluate(() => ({
      layer: document.getElementById("kdsl-details").dataset.layer,
      title: document.querySelector("#kdsl-details h2").textContent,
      fields: Array.from(document.querySelectorAll("#kdsl-details dt")).map((dt) =>
        [dt.textContent, dt.nextElementSibling.textContent]),
    }));
    await page.evaluate(() => window.kdslGraph.fit());
    await page.screenshot({ path: plan.screenshot });

    // Collapse the innermost again by clicking its cluster's title.
    const inner = plan.open[plan.open.length - 1];
    await clickSelector(page, `g.cluster[data-container="${inner}"] text.cluster-title`);
    out.afterClose = await state(page);
    out.afterCloseVisible = await visibleLayers(page);

    // Search by name for a layer hidden in a collapsed block, jump to it.
    await page.fill("#kdsl-search", plan.search);
    out.searchMatches = await page.evaluate(() =>
      Array.from(document.querySelectorAll("g.node.match")).map((g) => g.dataset.layer));
    await page.press("#kdsl-search", "Enter");
    out.afterSearch = await state(page);
    out.afterSearchVisible = await visibleLayers(page);
    out.searchDetails = await page.evaluate(() => document.getElementById("kdsl-details").dataset.layer);
    out.searchStatus = await page.textContent("#kdsl-found");
    await page.fill("#kdsl-search", plan.searchClass);
    out.classMatches = await page.evaluate(() =>
      Array.from(document.querySelectorAll("g.node.match")).map((g) => g.dataset.layer));

    // Zoom with the wheel and a button, pan with a drag.
    const before = (await state(page)).scale;
    await page.mouse.move(700, 500);
    await page.mouse.wheel(0, -300);
    out.wheelScale = [before, (await state(page)).scale];
    await clickSelector(page, "#kdsl-zoom-out");
    out.buttonScale = (await state(page)).scale;
    const v0 = (await state(page)).viewport;
    await page.mouse.move(600, 600);
    await page.mouse.down();
    await page.mouse.move(700, 650, { steps: 5 });
    await page.mouse.up();
    out.pan = [v0, (await state(page)).viewport];

    // Everything open: the page's placement must equal kdsl's own.
    await clickSelector(page, "#kdsl-open-all");
    out.allOpen = await state(page);
    out.allOpenVisible = await visibleLayers(page);
    out.allOpenEdgePaths = await page.evaluate(() =>
      Array.from(document.querySelectorAll("path.edge")).map((p) => p.getAttribute("d")));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.writeFileSync(outPath, JSON.stringify(out));
  }
})().catch((e) => { console.error(e); process.exit(1); });
