// The console in real headless Chromium during a scripted spike: `crisisd demo` (the real
// daemon, fed over a real local websocket) plays the bundled outage at 20x speed while the
// test signs in with an approver's token (from a tokens file handed to the demo), watches the
// incident appear without reloading the page, checks that a viewer's console shows the statement
// without the buttons to veto, approve or acknowledge, vetoes the holding statement as the
// approver, checks that nothing for it reached the brand account's outbox, and saves screenshots
// (desktop and phone) under the output folder. The live feed is counted by event: the list comes
// once, and the incident appearing and then being vetoed arrive as changes, not as the list again.
// A cluster's incidents name their replica, and a removal counts only for its replica's copy.
//
//   node console_test.mjs --crisisd PATH/crisisd --out DIR
//
// Exit 0 pass, 1 fail, 77 skipped (no Chromium or no playwright-core: run `npm ci` here).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const crisisd = arg("--crisisd", join(here, "../../build/dev/crisisd"));
const out = arg("--out", join(here, "out"));
const chromiumPath = "/usr/bin/chromium";

const skip = (why) => { console.log("SKIP: " + why); process.exit(77); };
if (!existsSync(chromiumPath)) skip(chromiumPath + " is not installed (Debian package chromium)");
let chromium;
try {
  ({ chromium } = createRequire(import.meta.url)("playwright-core"));
} catch {
  skip("playwright-core is not installed: run `npm ci` in tests/browser");
}
if (!existsSync(crisisd)) { console.error("FAIL: no crisisd binary at " + crisisd); process.exit(1); }

mkdirSync(out, { recursive: true });
const demoDir = join(out, "demo");
rmSync(demoDir, { recursive: true, force: true });
const profile = join(tmpdir(), "crisisd-chromium-" + process.pid);

const failures = [];
const check = (ok, what) => { console.log((ok ? "ok   " : "FAIL ") + what); if (!ok) failures.push(what); };

// --- the people: a viewer and an approver, by the hash of their tokens ---
const viewerToken = randomBytes(32).toString("base64url");
const approverToken = randomBytes(32).toString("base64url");
const sha = (t) => createHash("sha256").update(t).digest("hex");
const tokensFile = join(out, "tokens.yaml");
writeFileSync(tokensFile, "tokens:\n" +
  `  - {name: "Vera Viewer", role: viewer, sha256: "${sha(viewerToken)}"}\n` +
  `  - {name: "Anna Berger", role: approver, sha256: "${sha(approverToken)}"}\n`);

// --- the daemon and its scripted spike ---
const demo = spawn(crisisd, ["demo", "--headless", "--speed", "20", "--dir", demoDir, "--tokens-file", tokensFile],
                   { stdio: ["ignore", "pipe", "pipe"] });
let stdout = "", stderr = "";
demo.stdout.on("data", (d) => { stdout += d; });
demo.stderr.on("data", (d) => { stderr += d; });
const demoExited = new Promise((resolve) => demo.on("exit", resolve));

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let browser;
let code = 1;
try {
  const m = await until(() => /console\s+(http:\/\/127\.0\.0\.1:\d+\/)\s+access token: (\S+)/.exec(stdout), 20000, "the demo's console address");
  const [, url, token] = m;

  // A fresh profile directory (playwright passes it to Chromium as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  // Counts the live feed's events by name in every page (window.__feedEvents), without touching
  // the console's own code.
  await browser.addInitScript(() => {
    window.__feedEvents = {};
    const add = EventSource.prototype.addEventListener;
    EventSource.prototype.addEventListener = function (name, fn, opts) {
      return add.call(this, name, function (e) {
        window.__feedEvents[name] = (window.__feedEvents[name] || 0) + 1;
        return fn.call(this, e);
      }, opts);
    };
  });
  const feedEvents = (p) => p.evaluate(() => ({ ...window.__feedEvents }));
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Refused sign-in probes (401) are expected HTTP errors, not script errors; but the page must
  // not ask for anything the server does not have (a favicon, a stale asset name).
  const missing = [];
  page.on("response", (r) => { if (r.status() === 404) missing.push(r.url()); });
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) consoleErrors.push(msg.text());
  });

  await page.goto(url);
  // A marker that a reload would wipe: the incident must arrive over the live feed.
  await page.evaluate(() => { window.__noReload = true; });
  check(await page.isVisible("#signed-out"), "signed out, the console shows no data and asks for a token");

  // Token login: a wrong token is refused, the approver's token is accepted.
  await page.fill("#token", "not-the-token");
  await page.click("#login button[type=submit]");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0, null, { timeout: 5000 });
  check(!(await page.isVisible("#who")), "a wrong token is refused");
  await page.fill("#token", approverToken);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#who:not([hidden])", { timeout: 5000 });
  check(/Anna Berger \(approver\)/.test(await page.textContent("#who-name")), "signed in as the approver, named by the daemon");
  await page.waitForSelector("#live.on", { timeout: 10000 });
  check(true, "live feed connected (with a ticket)");

  // The spike: the incident appears in the list and its statement at the top, no reload.
  const item = await page.waitForSelector("#incidents li.incident", { timeout: 90000 });
  const id = Number(await item.getAttribute("data-id"));
  check(id > 0, "incident #" + id + " appeared without reloading the page");
  const seenAtOpen = await feedEvents(page);
  check(seenAtOpen.incidents === 1 && seenAtOpen.changes >= 1,
        "it came as a change; the list was sent once, on connect: " + JSON.stringify(seenAtOpen));
  const veto = await page.waitForSelector(`#decisions .decision[data-id="${id}"] [data-action=veto]`, { timeout: 30000 });
  const decision = await page.$(`#decisions .decision[data-id="${id}"]`);
  const text = (await decision.$eval("[data-statement-text]", (e) => e.textContent)).trim();
  check(text.length > 10, "the exact statement text is shown: " + JSON.stringify(text));
  check(/posts in \d/.test(await decision.$eval("[data-countdown]", (e) => e.textContent)), "a countdown shows when it will post");
  check(await page.evaluate(() => document.title.includes("decide")), "the tab title says a decision is needed");
  await page.screenshot({ path: join(out, "console-decision.png"), fullPage: true });
  check(await decision.$("[data-action=approve]") !== null, "the approver is offered approve and veto");

  // The same decision for a viewer: the text, but no button to veto, approve or acknowledge.
  // Its page learns of the veto only from the feed (the approver's page also has the command's answer).
  const pv = await browser.newPage();
  await pv.goto(url);
  await pv.waitForSelector("#who:not([hidden])", { timeout: 5000 });  // the token kept from the approver's sign-in
  await pv.click("#logout");
  const listsBefore = (await feedEvents(pv)).incidents || 0;
  await pv.fill("#token", viewerToken);
  await pv.click("#login button[type=submit]");
  await pv.waitForFunction(() => /Vera Viewer \(viewer\)/.test(document.getElementById("who-name").textContent), null, { timeout: 5000 });
  const seen = await pv.waitForSelector(`#decisions .decision[data-id="${id}"] [data-statement-text]`, { timeout: 10000 });
  check((await seen.textContent()).trim() === text, "the viewer sees the statement text");
  check(await pv.$$eval("[data-action]", (b) => b.length) === 0, "the viewer gets no veto, approve, acknowledge or resolve button");
  await pv.screenshot({ path: join(out, "console-viewer.png"), fullPage: true });
  // The viewer's own feed has sent its list (the decision may have come from the REST read first).
  await pv.waitForFunction((n) => (window.__feedEvents.incidents || 0) > n, listsBefore, { timeout: 10000 });
  const viewerBefore = await feedEvents(pv);

  // When the statement would post, read before the veto (a vetoed step has no due time).
  const api = async (path) => (await fetch(url + path, { headers: { Authorization: "Bearer " + token } })).json();
  const scheduled = (await api("api/v1/incidents/" + id)).steps.find((s) => s.phase === "open" && s.state === "scheduled");
  const due = Date.parse(scheduled?.due);
  check(Number.isFinite(due), "the statement is scheduled with a due time: " + JSON.stringify(scheduled));

  await veto.click();
  // The delta: the viewer's console shows the statement gone from the decisions, with no new list.
  await pv.waitForFunction(() => !document.querySelector(`#decisions .decision`), null, { timeout: 10000 });
  const viewerAfter = await feedEvents(pv);
  check(viewerAfter.incidents === viewerBefore.incidents && (viewerAfter.changes || 0) > (viewerBefore.changes || 0),
        "the viewer's console applied the veto from a change, without the list being resent: " +
        JSON.stringify(viewerBefore) + " → " + JSON.stringify(viewerAfter));
  await pv.close();

  await page.click(`#incidents li.incident[data-id="${id}"] a`);
  await page.waitForSelector(`#detail .step[data-phase=open][data-state=vetoed]`, { timeout: 10000 });
  check(true, "the statement step shows as vetoed");
  await page.waitForFunction(() => !document.querySelector("#decisions .decision"), null, { timeout: 10000 });
  check(true, "nothing is left waiting for a decision");
  const history = await page.$eval("#detail .history", (e) => e.textContent);
  check(/Anna Berger/.test(history), "the history names who vetoed: " + JSON.stringify(history.slice(0, 200)));
  check(await page.evaluate(() => window.__noReload === true), "the page was never reloaded");

  // In a cluster every incident names its replica, and a removal counts only for the copy of the
  // replica that sent it (a partition moving: the new owner's copy may come before the old
  // owner's removal). Played through the console's own handler of the feed's changes, with a
  // copy of this incident said to be held by another replica.
  const cluster = await page.evaluate((id) => {
    const other = id + 1000000;
    const base = state.incidents.find((i) => i.id === id);
    applyChanges({ replica: "replica-b", incidents: [{ ...base, id: other, replica: "replica-b", state: "open" }], removed: [] });
    const shown = document.querySelector(`#incidents li.incident[data-id="${other}"]`)?.textContent || "";
    applyChanges({ replica: "replica-a", incidents: [], removed: [other] });
    const kept = state.incidents.some((i) => i.id === other);
    applyChanges({ replica: "replica-b", incidents: [], removed: [other] });
    return { shown, kept, gone: !state.incidents.some((i) => i.id === other) };
  }, id);
  check(/replica-b/.test(cluster.shown), "an incident of a cluster names its replica in the list: " + JSON.stringify(cluster.shown));
  check(cluster.kept, "a removal sent by another replica leaves the copy of the replica that holds it");
  check(cluster.gone, "a removal sent by the replica that holds it takes it out");

  // Which statement was vetoed, from the API; then wait past its due time and read the outbox.
  check((await fetch(url + "api/v1/incidents/" + id)).status === 401, "the API refuses a read without a token");
  const detail = await api("api/v1/incidents/" + id);
  const vetoed = detail.steps.find((s) => s.phase === "open" && s.state === "vetoed");
  check(!!vetoed, "the API reports the step vetoed");
  // Only once the statement's due time has passed on the daemon's own (story) clock, plus a story
  // minute (3 s at 20x) for a delivery to reach the outbox, does an empty outbox show the veto held.
  await until(async () => Date.parse((await api("api/v1/incidents")).now) >= due + 60000, 30000,
              "the story clock past the statement's due time");
  const outbox = join(demoDir, "outbox.jsonl");
  const posted = existsSync(outbox)
    ? readFileSync(outbox, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    : [];
  const leaked = posted.filter((p) => p.kind === "statement" && p.statement === vetoed?.statement && p.incident?.id === id);
  check(leaked.length === 0, "the outbox got nothing for the vetoed statement (" + posted.length + " other post(s))");
  await page.screenshot({ path: join(out, "console-vetoed.png"), fullPage: true });

  // The same incident on a phone, opened from the link a page carries (#incident-N).
  const p2 = await browser.newPage();
  await p2.setViewportSize({ width: 390, height: 844 });
  await p2.goto(url + "#incident-" + id);
  await p2.waitForSelector(`#detail .step[data-state=vetoed]`, { timeout: 10000 });
  check(!(await p2.isVisible("#list-pane")), "on a phone the incident fills the screen");
  check(await p2.isVisible("#detail .back"), "on a phone there is a way back to the list");
  await p2.screenshot({ path: join(out, "console-phone.png"), fullPage: true });
  await p2.close();

  check(missing.length === 0, "no request for a missing resource" + (missing.length ? ": " + missing.join(", ") : ""));
  check(consoleErrors.length === 0, "no JavaScript errors" + (consoleErrors.length ? ": " + consoleErrors.join("; ") : ""));
  code = failures.length ? 1 : 0;
} catch (e) {
  console.error("FAIL: " + e.message);
  console.error("--- demo stdout ---\n" + stdout.slice(-3000) + "\n--- demo stderr ---\n" + stderr.slice(-3000));
  code = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (demo.exitCode === null) demo.kill("SIGTERM");
  const status = await Promise.race([demoExited, new Promise((r) => setTimeout(() => r("timeout"), 15000))]);
  if (status === "timeout") { demo.kill("SIGKILL"); console.error("FAIL: crisisd demo did not stop on SIGTERM"); code = 1; }
  rmSync(profile, { recursive: true, force: true });
}
console.log(code === 0 ? "PASS (screenshots in " + out + ")" : "FAILED: " + failures.join("; "));
process.exit(code);
