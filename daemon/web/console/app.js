// crisisd console: the open incidents, one incident's evidence and playbook, and the commands
// on-call staff need (acknowledge, approve or veto a statement, resolve). Built for a person
// woken at 3 a.m. on a phone: what needs a decision is at the top, with the exact text that
// will be posted and the time left, and one tap vetoes it.
// Plain browser JavaScript, no build step and no CDN: the daemon embeds and serves this file.
// Mention text and URLs come from the public and are shown as text only (never as HTML), and
// only http(s) links are made clickable.
// Nothing is read before sign-in: every call carries the bearer token, and the live feed (an
// EventSource, which cannot send headers) opens with a single-use ticket fetched with it. The
// daemon names the person and their role; the console offers only what that role may do (the
// daemon refuses the rest with 403 anyway).
// The feed sends the live list (incidents not resolved) on connect, then only the incidents that
// changed ("changes"); the console keeps the list and applies each change to it. Resolved ones
// stay below the live list while this page is open (the last 50). The feed leaves out the charts,
// whose points change every tick: the incident on screen is read with its chart every few seconds.
"use strict";

const store = {
  get(k) { try { return localStorage.getItem(k) || ""; } catch { return ""; } },
  set(k, v) { try { v ? localStorage.setItem(k, v) : localStorage.removeItem(k); } catch { /* private mode */ } },
};

const state = {
  incidents: [],           // live ones and the recently resolved, newest first
  synced: false,           // the live list has come over the feed
  selected: null,          // incident id shown in the detail pane
  token: store.get("crisisd-token"),
  name: "",                // from the daemon's session: the token's holder
  role: "",                // viewer | responder | approver | admin
  receivedAt: Date.now(),  // when the last list arrived: countdowns of steps not stamped run from here
  lastEvent: 0,            // last message on the live feed
  live: false,
  busy: new Set(),         // "id/verb" commands in flight
  armed: null,             // "id/step" of a "Post now" waiting for its confirming tap
  seen: new Set(),         // incident ids already shown (to flash new ones)
  error: "",
};

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c.nodeType ? c : String(c));
  return e;
};

// --- formatting ---
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
}
// Server time minus browser time: the demo runs on a scaled story clock, and a laptop's clock
// may be off; ages are measured against the daemon's "now" when it sends one.
let skew = 0;
const serverNow = () => Date.now() + skew;
const since = (iso) => duration(serverNow() - Date.parse(iso));
const pct = (x) => Math.round((x || 0) * 100) + "%";
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const safeUrl = (u) => { try { const p = new URL(u); return p.protocol === "https:" || p.protocol === "http:" ? p.href : null; } catch { return null; } };
const isOpen = (inc) => inc.state !== "resolved";
const ranks = { viewer: 0, responder: 1, approver: 2, admin: 3 };
// What the signed-in role may do: responders acknowledge and resolve, approvers also decide statements.
const may = (need) => !!state.token && (ranks[state.role] ?? -1) >= ranks[need];
const auth = () => ({ "Authorization": "Bearer " + state.token });

// Countdowns and ages are filled in by tick() every second, not by render(): the server pushes
// every second too, and rebuilding buttons that often would swallow a tap that lands between
// press and release. render() only swaps DOM whose markup really changed (patch).
const deadlines = new WeakMap();  // countdown element -> epoch ms when the step is due
function countdownEl(step, cls, prefix) {
  const left = msLeft(step);
  const e = el("span", { class: cls, "data-countdown": prefix });
  deadlines.set(e, Date.now() + left);
  return e;
}
const agoEl = (iso, suffix = " ago") => el("span", { "data-since": iso, "data-suffix": suffix, title: new Date(iso).toLocaleString() });
const rendered = new WeakMap();
function patch(box, nodes) {
  const fresh = document.createElement("div");
  fresh.append(...nodes.filter(n => n !== null && n !== undefined && n !== false));
  const html = fresh.innerHTML;
  if (rendered.get(box) === html) return false;
  rendered.set(box, html);
  box.replaceChildren(...fresh.childNodes);
  return true;
}
function tick() {
  for (const e of document.querySelectorAll("[data-countdown]")) {
    const at = deadlines.get(e);
    if (at === undefined) continue;
    const left = at - Date.now();
    e.textContent = left > 0 ? e.dataset.countdown + duration(left) : "posting…";
    e.classList.toggle("soon", left < 30000);
  }
  for (const e of document.querySelectorAll("[data-since]")) e.textContent = since(e.dataset.since) + e.dataset.suffix;
}

function msLeft(step) {
  if (step.due_in_ms === null || step.due_in_ms === undefined) return null;
  return Math.max(0, step.due_in_ms - (Date.now() - (step.receivedAt ?? state.receivedAt)));
}

// Statements a person can still stop or must still allow.
function pendingStatements(inc) {
  if (!isOpen(inc)) return [];
  return (inc.steps || []).filter(s => s.kind === "statement" && s.phase === "open" &&
                                       (s.state === "scheduled" || s.state === "awaiting_approval"));
}

// --- rendering ---
// The statement as it will be posted, its countdown and the veto/approve buttons. `big`: the
// decision box at the top, which names the statement; in the playbook the step row does.
function statementControls(inc, step, big) {
  const key = inc.id + "/" + step.index;
  const busy = state.busy.has(inc.id + "/steps/" + step.index + "/veto") || state.busy.has(inc.id + "/steps/" + step.index + "/approve");
  const left = msLeft(step);
  const wrap = el("div", { class: "statement" + (big ? " big" : ""), "data-statement": key });
  wrap.append(el("div", { class: "statement-head" },
    big ? el("span", {}, "Statement ", el("b", {}, step.statement || ""), " → ", (step.channels || []).join(", "),
             step.language ? " · " + step.language : "") : el("span", {}),
    step.state === "scheduled" && left !== null
      ? countdownEl(step, "countdown", "posts in ")
      : el("span", { class: "countdown waiting" }, step.state === "awaiting_approval" ? "needs your approval" : "")));
  wrap.append(el("blockquote", { class: "text", "data-statement-text": "" }, step.text || "(no text)"));
  if (!may("approver")) {
    wrap.append(el("div", { class: "actions" }, el("span", { class: "quiet" },
      state.token ? "Only an approver can veto or approve (you are " + state.role + ")." : "Sign in to veto or approve.")));
    return wrap;
  }
  const armed = state.armed === key;
  wrap.append(el("div", { class: "actions" },
    el("button", { class: "danger", "data-action": "veto", disabled: busy,
                   onclick: () => command(inc.id, "steps/" + step.index + "/veto") },
       step.state === "awaiting_approval" ? "Reject" : "Veto — do not post"),
    el("button", { class: armed ? "primary armed" : "primary", "data-action": "approve", disabled: busy,
                   onclick: () => {
                     // Posting is public and cannot be undone: it takes a second, deliberate tap.
                     if (!armed) { state.armed = key; render(); setTimeout(() => { if (state.armed === key) { state.armed = null; render(); } }, 5000); return; }
                     state.armed = null;
                     command(inc.id, "steps/" + step.index + "/approve");
                   } },
       armed ? "Tap again to post publicly" : (step.state === "scheduled" ? "Post now" : "Approve and post"))));
  return wrap;
}

function renderDecisions() {
  const box = $("decisions");
  const items = [];
  for (const inc of state.incidents)
    for (const step of pendingStatements(inc))
      items.push(el("div", { class: "decision " + inc.severity, "data-id": inc.id },
        el("div", { class: "decision-title" },
          el("a", { href: "#incident-" + inc.id }, "#" + inc.id + " " + inc.rule + " · " + inc.key),
          el("span", {},
            // Acknowledging stops escalations: offered here too, so one screen does the 3 a.m. job.
            may("responder") && inc.state === "open"
              ? el("button", { class: "small", "data-action": "ack", disabled: state.busy.has(inc.id + "/ack"),
                               onclick: () => command(inc.id, "ack") }, "Acknowledge")
              : null,
            " ",
            el("span", { class: "badge " + inc.severity }, inc.severity))),
        statementControls(inc, step, true)));
  box.hidden = items.length === 0;
  patch(box, items);
}

function listItem(inc) {
  const pending = pendingStatements(inc).length;
  const fresh = !state.seen.has(inc.id);
  return el("li", { class: ["incident", inc.severity, inc.state, state.selected === inc.id ? "selected" : "", fresh ? "fresh" : ""].join(" "),
                    "data-id": inc.id },
    el("a", { href: "#incident-" + inc.id, "aria-current": state.selected === inc.id ? "true" : null },
      el("div", { class: "row" },
        el("span", { class: "title" }, "#" + inc.id + " " + inc.rule),
        el("span", { class: "badge " + inc.state }, inc.state)),
      el("div", { class: "row quiet" },
        el("span", {}, inc.key + " · ", el("span", { class: "sev " + inc.severity }, inc.severity),
           inc.replica ? el("span", { class: "replica" }, " · " + inc.replica) : null),
        isOpen(inc) ? agoEl(inc.opened_at) : el("span", {}, "resolved " + clock(inc.resolved_at))),
      pending ? el("div", { class: "needs" }, "statement waiting for a decision") : null));
}

function renderList() {
  const open = state.incidents.filter(isOpen);
  const resolved = state.incidents.filter(i => !isOpen(i));
  patch($("incidents"), open.map(listItem));
  patch($("resolved"), resolved.slice(0, 50).map(listItem));
  $("empty").hidden = open.length > 0;
  $("open-count").textContent = open.length ? String(open.length) : "";
  $("resolved-pane").hidden = resolved.length === 0;
  $("resolved-count").textContent = String(resolved.length);
  for (const inc of state.incidents) state.seen.add(inc.id);
  const waiting = open.reduce((n, i) => n + pendingStatements(i).length, 0);
  document.title = (waiting ? "⚠ decide · " : "") + (open.length ? "(" + open.length + ") " : "") + "crisisd";
}

function stepView(inc, step) {
  const what = step.kind === "statement" ? "Statement “" + (step.statement || "") + "”"
             : step.kind === "escalate" ? "Escalate" : "Notify";
  const status = step.state === "emitted" ? (step.status || "queued") : step.state.replace("_", " ");
  const box = el("li", { class: "step " + step.state + " " + (step.status || ""), "data-step": step.index, "data-phase": step.phase,
                         "data-state": step.state },
    el("div", { class: "row" },
      el("span", {}, step.phase === "resolve" ? el("span", { class: "quiet" }, "when resolved · ") : null,
         el("b", {}, what), " → " + (step.channels || []).join(", ")),
      el("span", { class: "badge step-" + step.state + " " + (step.status || "") }, status)),
    step.kind === "statement" ? el("div", { class: "quiet" }, "approval: " + step.approval + (step.language ? " · " + step.language : "")) : null);
  if (step.kind === "statement" && step.phase === "open" && isOpen(inc) &&
      (step.state === "scheduled" || step.state === "awaiting_approval")) {
    box.append(statementControls(inc, step, false));
  } else if (step.kind === "statement" && step.text) {
    box.append(el("blockquote", { class: "text" + (step.state === "vetoed" ? " struck" : "") }, step.text));
  } else if (step.state === "scheduled" && msLeft(step) !== null) {
    box.append(countdownEl(step, "countdown", "in "));
  }
  return box;
}

function drawChart(canvas, inc) {
  const pts = (inc.series || []).map(p => ({ ...p, t: Date.parse(p.at) }));
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.width = Math.max(1, canvas.clientWidth * dpr);
  const h = canvas.height = Math.max(1, canvas.clientHeight * dpr);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  ctx.font = (11 * dpr) + "px system-ui, sans-serif";
  if (pts.length < 2) {
    ctx.fillStyle = "#8b98a5";
    ctx.fillText("collecting data…", 10 * dpr, h / 2);
    return;
  }
  const pad = { l: 8 * dpr, r: 8 * dpr, t: 16 * dpr, b: 16 * dpr };
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t || t0 + 1;
  const maxRate = Math.max(1, ...pts.map(p => Math.max(p.rate, p.baseline_rate)));
  const x = (t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (w - pad.l - pad.r);
  const y = (v) => h - pad.b - (v / maxRate) * (h - pad.t - pad.b);
  // negative share as a filled area behind the lines (scaled to the full height)
  ctx.beginPath();
  ctx.moveTo(x(pts[0].t), y(0));
  for (const p of pts) ctx.lineTo(x(p.t), y(p.negative_ratio * maxRate));
  ctx.lineTo(x(pts[pts.length - 1].t), y(0));
  ctx.closePath();
  ctx.fillStyle = "rgba(255, 93, 93, 0.18)";
  ctx.fill();
  const line = (key, color, dash) => {
    ctx.beginPath(); ctx.strokeStyle = color; ctx.lineWidth = 2 * dpr; ctx.setLineDash(dash.map(d => d * dpr));
    pts.forEach((p, i) => i ? ctx.lineTo(x(p.t), y(p[key])) : ctx.moveTo(x(p.t), y(p[key])));
    ctx.stroke();
    ctx.setLineDash([]);
  };
  line("baseline_rate", "#8b98a5", [4, 4]);
  line("rate", "#7aa2ff", []);
  const opened = Date.parse(inc.opened_at);
  if (opened >= t0 && opened <= t1) {
    ctx.strokeStyle = "#f5b942"; ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath(); ctx.moveTo(x(opened), pad.t); ctx.lineTo(x(opened), h - pad.b); ctx.stroke();
    ctx.fillStyle = "#f5b942";
    const label = "opened " + clock(inc.opened_at);
    const lx = Math.min(x(opened) + 4 * dpr, w - ctx.measureText(label).width - 4 * dpr);
    ctx.fillText(label, lx, 12 * dpr);
  }
  ctx.fillStyle = "#8b98a5";
  const top = maxRate.toFixed(1) + "/min";
  ctx.fillText(top, w - pad.r - ctx.measureText(top).width, 12 * dpr);
  ctx.fillText(clock(pts[0].at), pad.l, h - 3 * dpr);
  const end = clock(pts[pts.length - 1].at);
  ctx.fillText(end, w - pad.r - ctx.measureText(end).width, h - 3 * dpr);
}

function renderDetail() {
  const d = $("detail");
  const inc = state.incidents.find(i => i.id === state.selected);
  document.body.classList.toggle("has-detail", !!inc);
  if (!inc) { d.hidden = true; patch(d, []); return; }
  d.hidden = false;
  const ev = inc.evidence || {};
  const metric = (v, label) => el("div", { class: "metric" }, el("b", {}, v), el("span", {}, label));
  const canvas = el("canvas", { id: "chart", role: "img", "aria-label": "mentions per minute, baseline and negative share for " + inc.key });
  const busy = (verb) => state.busy.has(inc.id + "/" + verb);
  const samples = ev.samples || [];
  patch(d, [
    el("a", { class: "back", href: "#" }, "← all incidents"),
    el("div", { class: "row" },
      el("h2", { class: "detail-title" }, "#" + inc.id + " " + inc.rule + " · " + inc.key),
      el("span", { class: "badge " + inc.state }, inc.state)),
    el("div", { class: "quiet" }, el("span", { class: "sev " + inc.severity }, inc.severity),
       " · opened " + new Date(inc.opened_at).toLocaleString() + " (", agoEl(inc.opened_at), ")",
       inc.acknowledged_at ? " · acknowledged " + clock(inc.acknowledged_at) : "",
       inc.resolved_at ? " · resolved " + clock(inc.resolved_at) : "",
       // In a cluster: the replica that holds the incident now (its partition's owner).
       inc.replica ? el("span", { class: "replica" }, " · on " + inc.replica) : null),
    may("responder") ? el("div", { class: "toolbar" },
      el("button", { "data-action": "ack", disabled: inc.state !== "open" || busy("ack"), onclick: () => command(inc.id, "ack") },
         inc.state === "open" ? "Acknowledge" : "Acknowledged"),
      el("button", { "data-action": "resolve", disabled: inc.state === "resolved" || busy("resolve"),
                     onclick: () => command(inc.id, "resolve") }, "Resolve"))
      : el("p", { class: "quiet" }, state.token ? "Your role (" + state.role + ") can read, not act."
                                                  : "Sign in at the top to acknowledge, veto, approve or resolve."),
    el("div", { id: "cmd-error", class: "error", role: "alert" }, state.error),
    el("h3", {}, "Playbook"),
    el("ol", { class: "steps" }, ...(inc.steps || []).map(s => stepView(inc, s))),
    el("h3", {}, "Evidence when it opened"),
    el("div", { class: "metrics" },
      metric(ev.count ?? 0, "mentions in window"),
      metric(ev.negative_count ?? 0, "negative"),
      metric(pct(ev.negative_ratio), "negative share"),
      metric(ev.unique_authors ?? 0, "different authors"),
      metric((ev.volume_ratio ?? 0).toFixed(1) + "×", "volume vs. baseline"),
      metric((ev.rate ?? 0).toFixed(1) + "/min", "rate")),
    canvas,
    el("div", { class: "legend quiet" },
      el("span", { class: "key rate" }, "mentions/min"), el("span", { class: "key base" }, "baseline"),
      el("span", { class: "key neg" }, "negative share"), el("span", { class: "key open" }, "opened")),
    el("h3", {}, "Most negative mentions"),
    samples.length ? el("ul", { class: "samples" }, ...samples.map(s => {
      const url = safeUrl(s.url);
      return el("li", { class: "sample" },
        el("div", { class: "row" },
          el("span", { class: "quiet" }, (s.author || "unknown") + (s.source ? " · on " + s.source : "") + (s.at ? " · " + clock(s.at) : "")),
          el("span", { class: "score", title: "sentiment (−1 … 1)" }, (s.compound ?? 0).toFixed(2))),
        el("div", { class: "sample-text", lang: s.lang || null }, s.text),
        url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow" }, "open at source ↗") : null);
    })) : el("p", { class: "quiet" }, "No sample mentions kept for this incident."),
    el("h3", {}, "History"),
    el("ul", { class: "history" }, ...(inc.history || []).map(h => el("li", {},
      el("time", { datetime: h.at }, clock(h.at)), " ", el("b", {}, h.who), " ", h.what)))]);
  // The chart's data changes on every push even when the markup does not.
  const chart = $("chart");
  if (chart) requestAnimationFrame(() => drawChart(chart, inc));
}

function renderLive() {
  const live = $("live");
  const stale = state.live && Date.now() - state.lastEvent > 10000;
  live.className = "live " + (state.live && !stale ? "on" : "off");
  live.textContent = !state.live ? "offline — reconnecting" : stale ? "no update for " + duration(Date.now() - state.lastEvent) : "live";
}

function renderLogin() {
  $("login").hidden = !!state.token;
  $("who").hidden = !state.token;
  $("who-name").textContent = "signed in as " + state.name + " (" + state.role + ")";
  $("signed-out").hidden = !!state.token;
}

function render() {
  renderList();
  renderDecisions();
  renderDetail();
  renderLive();
  renderLogin();
  tick();
}

// --- data ---
function selectFromHash() {
  const m = /^#incident-(\d+)$/.exec(location.hash);
  state.selected = m ? Number(m[1]) : null;
  state.error = "";
}

// Each incident's steps count down from when that incident arrived: with changes, incidents
// arrive at different times.
function stamp(inc, at) {
  for (const s of inc.steps || []) s.receivedAt = at;
  return inc;
}
const keepResolved = 50;
function setIncidents(list) {
  list.sort((a, b) => b.id - a.id);
  let resolved = 0;
  state.incidents = list.filter(i => isOpen(i) || i.id === state.selected || ++resolved <= keepResolved);
}
// Puts incidents in (replacing those with the same id) and takes `gone` ids out. In a cluster a
// removal is one replica's (`from`): while a partition moves, the new owner's copy may come
// before the old owner's removal, and the copy stays.
function upsert(incs, gone = [], from = undefined) {
  const now = Date.now();
  const byId = new Map(state.incidents.map(i => [i.id, i]));
  for (const inc of incs) {
    // The feed leaves the chart out: the points read last stay until the next read.
    const old = byId.get(inc.id);
    if (inc.series === undefined && old && old.series) inc.series = old.series;
    byId.set(inc.id, stamp(inc, now));
  }
  for (const id of gone) {
    const held = byId.get(id);
    if (held && (!from || !held.replica || held.replica === from)) byId.delete(id);
  }
  setIncidents([...byId.values()]);
}

// The live list (on connect or after falling behind): it replaces every live incident; resolved
// ones seen before stay below it.
function apply(list) {
  const now = Date.now();
  const held = new Map(state.incidents.map(i => [i.id, i]));
  const live = (list.incidents || []).map(i => {
    if (i.series === undefined && held.get(i.id)?.series) i.series = held.get(i.id).series;
    return stamp(i, now);
  });
  setIncidents(live.concat(state.incidents.filter(i => !isOpen(i) && !live.some(l => l.id === i.id))));
  state.synced = true;
  state.receivedAt = now;
  if (list.now) skew = Date.parse(list.now) - Date.now();
  pickFirst();
  render();
}

// What changed since the last event: the incidents (a resolved one leaves the live list) and the
// ids the daemon no longer holds.
function applyChanges(delta) {
  upsert(delta.incidents || [], delta.removed || [], delta.replica);
  if (delta.now) skew = Date.parse(delta.now) - Date.now();
  pickFirst();
  render();
}

// The REST list (everything the daemon holds): before the feed's list it fills the console;
// after it, it only adds the resolved incidents the feed does not send.
function applyHistory(list) {
  const known = new Set(state.incidents.map(i => i.id));
  const fresh = (list.incidents || []).filter(i => !known.has(i.id) && (!state.synced || !isOpen(i)));
  if (!state.synced) state.receivedAt = Date.now();
  if (list.now && !state.synced) skew = Date.parse(list.now) - Date.now();
  upsert(fresh);
  pickFirst();
  render();
}

function pickFirst() {  // On a wide screen, show the newest open incident when nothing was chosen.
  if (state.selected === null && !location.hash && window.matchMedia("(min-width: 801px)").matches) {
    const first = state.incidents.find(isOpen);
    if (first) { state.selected = first.id; refreshSelected(); }
  }
}

// The chart (and samples) of the incident on screen move with every tick of the daemon, which
// the feed does not send: the one open incident shown is read again every few seconds.
// An incident opened from a link that the console does not hold (resolved a while ago) is read
// once, too.
async function refreshSelected() {
  const id = state.selected;
  const inc = state.incidents.find(i => i.id === id);
  // A resolved incident's chart no longer moves: read once.
  if (!state.token || id === null || (inc && !isOpen(inc) && inc.series !== undefined) || document.hidden) return;
  try {
    const r = await fetch("/api/v1/incidents/" + id, { headers: auth() });
    if (!r.ok) return;
    const body = await r.json();
    if (body.id === id && state.selected === id) { upsert([body]); render(); }
  } catch { /* the next round or the feed brings it */ }
}

async function command(id, verb) {
  const key = id + "/" + verb;
  if (!state.token) { state.error = "Sign in with your access token first."; render(); return; }
  state.busy.add(key);
  state.error = "";
  render();
  try {
    const r = await fetch("/api/v1/incidents/" + id + "/" + verb, { method: "POST", headers: auth() });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      if (r.status === 401) { signOut(); state.error = "Your token was not accepted. Sign in again."; }
      else if (r.status === 403) state.error = "Your role (" + state.role + ") may not do that.";
      else state.error = (body.error || ("HTTP " + r.status)) + (r.status === 409 ? " (it may already have happened)" : "");
      if (state.selected !== id) state.selected = id;
    } else if (body.id !== undefined) {
      upsert([body]);
    }
  } catch (e) {
    state.error = "crisisd did not answer (" + e.message + "). Nothing was changed; try again.";
  } finally {
    state.busy.delete(key);
    render();
  }
}

// The live feed: a fresh ticket for each connection. When the stream breaks, EventSource would
// retry with the spent ticket, so it is closed and a new one is fetched after a pause.
let feed = null;
let feedTimer = null;
async function connect() {
  clearTimeout(feedTimer);
  if (feed) { feed.close(); feed = null; }
  if (!state.token) return;
  const token = state.token;
  let ticket;
  try {
    const r = await fetch("/api/v1/events/ticket", { method: "POST", headers: auth() });
    if (r.status === 401) { signOut(); return; }
    if (!r.ok) throw new Error("HTTP " + r.status);
    ticket = (await r.json()).ticket;
  } catch {
    state.live = false; renderLive();
    feedTimer = setTimeout(connect, 3000);
    return;
  }
  if (token !== state.token) return;  // signed out (or in as someone else) meanwhile
  const es = feed = new EventSource("/api/v1/events?ticket=" + encodeURIComponent(ticket));
  es.addEventListener("incidents", (e) => {
    state.live = true;
    state.lastEvent = Date.now();
    apply(JSON.parse(e.data));
  });
  es.addEventListener("now", (e) => {
    state.live = true;
    state.lastEvent = Date.now();
    const now = JSON.parse(e.data).now;
    if (now) skew = Date.parse(now) - Date.now();
  });
  es.addEventListener("changes", (e) => {
    state.live = true;
    state.lastEvent = Date.now();
    applyChanges(JSON.parse(e.data));
  });
  es.onopen = () => { state.live = true; state.lastEvent = Date.now(); renderLive(); };
  es.onerror = () => {
    es.close();
    state.synced = false;
    if (feed === es) feed = null;
    state.live = false; renderLive();
    feedTimer = setTimeout(connect, 2000);
  };
}

async function load() {
  try {
    const r = await fetch("/api/v1/incidents", { headers: auth() });
    if (r.status === 401) { signOut(); return; }
    if (r.ok) applyHistory(await r.json());
  } catch { /* the live feed brings it */ }
}

// --- sign-in ---
// The token is checked at once: 200 signs in, 401 is a wrong token; anything else (the daemon
// unreachable, an error) is not a verdict on the token and is reported as such.
// Returns the session ({name, role}) or null for a refused token.
async function signIn(token) {
  const r = await fetch("/api/v1/session", { headers: { "Authorization": "Bearer " + token } });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error("the daemon answered " + r.status);
  return r.json();
}

function signOut() {
  state.token = "";
  state.name = state.role = "";
  state.incidents = [];
  state.synced = false;
  state.live = false;
  store.set("crisisd-token", "");
  clearTimeout(feedTimer);
  if (feed) { feed.close(); feed = null; }
  render();
}

function signedIn(token, session) {
  state.token = token;
  state.name = session.name;
  state.role = session.role;
  store.set("crisisd-token", token);
  render();
  load();
  connect();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $("token").value.trim();
  $("login-error").textContent = "";
  let session;
  try {
    session = await signIn(token);
    if (!session) { $("login-error").textContent = "That token was not accepted."; return; }
  } catch {
    $("login-error").textContent = "crisisd did not answer; try again.";
    return;
  }
  $("token").value = "";
  signedIn(token, session);
});
$("logout").addEventListener("click", signOut);
window.addEventListener("hashchange", () => {
  selectFromHash();
  render();
  if (state.selected !== null) window.scrollTo(0, 0);
  // Not held (resolved a while ago), or held without its chart (the feed leaves it out).
  const inc = state.incidents.find(i => i.id === state.selected);
  if (state.selected !== null && (!inc || inc.series === undefined)) refreshSelected();
});

selectFromHash();
render();
// A token kept from the last visit is checked again: it may have been revoked since.
if (state.token) {
  const kept = state.token;
  state.token = "";
  signIn(kept).then((session) => { if (session) signedIn(kept, session); else signOut(); })
              .catch(() => { state.token = kept; render(); load(); connect(); });
}
setInterval(() => {
  // Ages, countdowns and the staleness warning move without a server round trip.
  tick();
  renderLive();
}, 1000);
setInterval(refreshSelected, 5000);
window.addEventListener("resize", () => {
  const inc = state.incidents.find(i => i.id === state.selected);
  if (inc && $("chart")) drawChart($("chart"), inc);
});
