// crisisd console: a live list of incidents and one incident's evidence and playbook steps,
// with the commands on-call staff need (acknowledge, approve or veto a statement, resolve).
// Plain browser JavaScript, no build step and no CDN: the daemon embeds and serves this file.
"use strict";

const state = { incidents: [], selected: null, token: localStorage.getItem("crisisd-token") || "", receivedAt: Date.now() };

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c));
  return e;
};

function age(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}

function pct(x) { return Math.round(x * 100) + "%"; }

function renderList() {
  const ul = $("incidents");
  ul.replaceChildren();
  $("empty").hidden = state.incidents.length > 0;
  for (const inc of state.incidents) {
    const li = el("li", { class: [inc.severity, inc.state, state.selected === inc.id ? "selected" : ""].join(" "),
                          "data-id": inc.id, onclick: () => select(inc.id) },
      el("div", { class: "row" },
        el("span", { class: "title" }, "#" + inc.id + " " + inc.rule),
        el("span", { class: "badge " + inc.state }, inc.state)),
      el("div", { class: "row muted" },
        el("span", {}, inc.key + " · " + inc.severity),
        el("span", { title: inc.opened_at }, "opened " + age(inc.opened_at) + " ago")));
    ul.append(li);
  }
}

function countdown(step) {
  if (step.due_in_ms === null || step.due_in_ms === undefined) return null;
  const left = step.due_in_ms - (Date.now() - state.receivedAt);
  const s = Math.max(0, Math.ceil(left / 1000));
  return el("span", { class: "countdown", "data-countdown": "" }, "posts in " + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"));
}

function stepView(inc, step) {
  const title = step.kind === "statement" ? "Statement “" + step.statement + "” → " + step.channels.join(", ")
              : step.kind === "escalate" ? "Escalate → " + step.channels.join(", ")
              : "Notify → " + step.channels.join(", ");
  const box = el("div", { class: "step", "data-step": step.index, "data-phase": step.phase },
    el("div", { class: "row" },
      el("span", { class: "title" }, (step.phase === "resolve" ? "on resolve · " : "") + title),
      el("span", { class: "badge" }, step.status || step.state)));
  if (step.kind === "statement") {
    box.append(el("div", { class: "muted" }, "approval: " + step.approval + (step.language ? " · language: " + step.language : "")));
    if (step.text) box.append(el("div", { class: "text", "data-statement-text": "" }, step.text));
    const cd = step.state === "scheduled" ? countdown(step) : null;
    if (cd) box.append(cd);
    if (step.phase === "open" && (step.state === "scheduled" || step.state === "awaiting_approval")) {
      box.append(el("div", { class: "actions" },
        el("button", { class: "primary", onclick: () => command(inc.id, "steps/" + step.index + "/approve") },
           step.state === "scheduled" ? "Post now" : "Approve and post"),
        el("button", { class: "danger", onclick: () => command(inc.id, "steps/" + step.index + "/veto") }, "Veto")));
    }
  }
  return box;
}

function drawChart(canvas, inc) {
  const pts = inc.series || [];
  const ctx = canvas.getContext("2d");
  const w = canvas.width = canvas.clientWidth * devicePixelRatio;
  const h = canvas.height = canvas.clientHeight * devicePixelRatio;
  ctx.clearRect(0, 0, w, h);
  if (pts.length < 2) return;
  const maxRate = Math.max(1, ...pts.map(p => Math.max(p.rate, p.baseline_rate)));
  const x = (i) => (i / (pts.length - 1)) * (w - 8) + 4;
  const y = (v) => h - 6 - (v / maxRate) * (h - 12);
  const line = (key, color, scale) => {
    ctx.beginPath(); ctx.strokeStyle = color; ctx.lineWidth = 2 * devicePixelRatio;
    pts.forEach((p, i) => { const v = scale ? p[key] * maxRate : p[key]; i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v)); });
    ctx.stroke();
  };
  line("baseline_rate", "#8b98a5", false);
  line("negative_ratio", "#ff5d5d", true);
  line("rate", "#7aa2ff", false);
}

function renderDetail() {
  const d = $("detail");
  const inc = state.incidents.find(i => i.id === state.selected);
  if (!inc) { d.hidden = true; return; }
  d.hidden = false;
  const ev = inc.evidence || {};
  const metric = (v, label) => el("div", { class: "metric" }, el("b", {}, v), el("span", {}, label));
  const canvas = el("canvas", { "aria-label": "volume, negative share and baseline" });
  d.replaceChildren(
    el("div", { class: "row" },
      el("h2", {}, "#" + inc.id + " · " + inc.rule + " · " + inc.key),
      el("span", { class: "badge " + inc.state }, inc.state)),
    el("div", { class: "muted" }, inc.severity + " · opened " + new Date(inc.opened_at).toLocaleString() +
       (inc.resolved_at ? " · resolved " + new Date(inc.resolved_at).toLocaleString() : "")),
    el("div", { class: "toolbar" },
      el("button", { onclick: () => command(inc.id, "ack"), disabled: inc.state !== "open" ? "" : null }, "Acknowledge"),
      el("button", { onclick: () => command(inc.id, "resolve"), disabled: inc.state === "resolved" ? "" : null }, "Resolve")),
    el("div", { id: "cmd-error", class: "error", role: "alert" }),
    el("h3", {}, "Evidence when it opened"),
    el("div", { class: "metrics" },
      metric(ev.count ?? 0, "mentions in window"),
      metric(ev.negative_count ?? 0, "negative"),
      metric(pct(ev.negative_ratio ?? 0), "negative share"),
      metric(ev.unique_authors ?? 0, "different authors"),
      metric((ev.volume_ratio ?? 0).toFixed(1) + "×", "volume vs. baseline"),
      metric((ev.rate ?? 0).toFixed(1) + "/min", "rate")),
    canvas,
    el("div", { class: "muted" }, "blue: mentions per minute · grey: baseline · red: negative share"),
    el("h3", {}, "Playbook"),
    ...(inc.steps || []).map(s => stepView(inc, s)),
    el("h3", {}, "Most negative mentions"),
    el("div", {}, ...((ev.samples || []).map(s => el("div", { class: "sample" },
      el("div", { class: "row" },
        el("span", { class: "muted" }, s.author || "unknown"),
        el("span", { class: "score" }, s.compound.toFixed(2))),
      el("div", {}, s.text),
      s.url ? el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer" }, "open at source") : null)))),
    el("h3", {}, "History"),
    el("ul", {}, ...(inc.history || []).map(h => el("li", { class: "muted" },
      new Date(h.at).toLocaleTimeString() + " · " + h.who + " · " + h.what))));
  drawChart(canvas, inc);
}

function render() { renderList(); renderDetail(); }

function select(id) { state.selected = id; render(); }

function apply(list) {
  state.incidents = list.incidents || [];
  state.receivedAt = Date.now();
  if (state.selected === null && state.incidents.length) state.selected = state.incidents[0].id;
  render();
}

async function command(id, verb) {
  const err = $("cmd-error");
  if (!state.token) { if (err) err.textContent = "Sign in with your access token first."; return; }
  const r = await fetch("/api/v1/incidents/" + id + "/" + verb, {
    method: "POST", headers: { "Authorization": "Bearer " + state.token, "X-Crisisd-User": "console" } });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    if (err) err.textContent = r.status === 401 ? "Your token was not accepted." : (body.error || ("HTTP " + r.status));
    return;
  }
  const inc = await r.json();
  state.incidents = state.incidents.map(i => i.id === inc.id ? inc : i);
  state.receivedAt = Date.now();
  render();
}

function connect() {
  const es = new EventSource("/api/v1/events");
  es.addEventListener("incidents", (e) => apply(JSON.parse(e.data)));
  es.onopen = () => { $("live").textContent = "live"; $("live").className = "live on"; };
  es.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "live off"; };
}

function showLogin() {
  $("login").hidden = !!state.token;
  $("who").hidden = !state.token;
  $("who").textContent = "signed in";
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value.trim();
  localStorage.setItem("crisisd-token", state.token);
  showLogin();
});

showLogin();
fetch("/api/v1/incidents").then(r => r.json()).then(apply).catch(() => {});
connect();
setInterval(() => {
  // Ages and countdowns move without a server round trip.
  renderList();
  if (document.querySelector("[data-countdown]")) renderDetail();
}, 1000);
