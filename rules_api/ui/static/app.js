// The logflow console: sign-in, view routing, the overview. No framework, no build step.
import { stackedBars } from "./charts.js";
import { initRules, showRules } from "./rules.js";

const TOKEN_KEY = "logflow.token";
const OVERVIEW_EVERY_MS = 10000;
const TAIL_EVERY_MS = 3000;
const $ = (id) => document.getElementById(id);

export const session = { who: null };

// ---- API ------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

// Every data call carries the token in the Authorization header; never in a URL.
export async function api(method, path, body, headers) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const init = { method, headers: { Accept: "application/json", ...(headers || {}) }, cache: "no-store" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let payload = null;
  const text = await response.text();
  if (text) {
    try { payload = JSON.parse(text); } catch { payload = { detail: text }; }
  }
  if (response.status === 401) {
    signOut("Your token was not accepted; sign in again.");
    throw new ApiError(401, payload);
  }
  if (!response.ok) throw new ApiError(response.status, payload);
  return { body: payload, etag: response.headers.get("ETag") };
}

// ---- URL state (view, range, filters; never the token) ------------------------------------------

export function readHash() {
  const raw = location.hash.replace(/^#/, "");
  const [view, query] = raw.split("?");
  return { view: view || "overview", params: new URLSearchParams(query || "") };
}

export function writeHash(view, params) {
  const clean = new URLSearchParams();
  for (const [key, value] of params) if (value) clean.set(key, value);
  const query = clean.toString();
  const hash = `#${view}${query ? "?" + query : ""}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// ---- small DOM helpers ----------------------------------------------------------------------------

export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace a list's items in place, keyed, so a refresh neither flickers nor loses focus or scroll.
export function patchList(list, items, key, render) {
  const existing = new Map();
  for (const child of list.children) existing.set(child.dataset.key, child);
  const wanted = [];
  for (const item of items) {
    const k = String(key(item));
    const fresh = render(item);
    fresh.dataset.key = k;
    const old = existing.get(k);
    if (old && old.isEqualNode(fresh)) wanted.push(old);
    else wanted.push(fresh);
  }
  wanted.forEach((node, index) => {
    if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
  });
  while (list.children.length > wanted.length) list.lastElementChild.remove();
}

export const fmt = new Intl.NumberFormat("en");

export function setStatus(id, text, isError) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

// ---- sign-in -----------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.who = null;
  stopTimers();
  show("login");
  $("login-error").textContent = message || "";
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    const { body } = await api("GET", "/api/v1/whoami");
    session.who = body;
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("login-error").textContent = error.status === 401 ? "That token was not accepted." : `Sign-in failed: ${error.message}`;
    return false;
  }
  $("who").textContent = `${session.who.name} · ${session.who.role}`;
  document.body.classList.toggle("readonly", !session.who.can_edit);
  document.body.classList.toggle("not-admin", !session.who.can_admin);
  for (const node of document.querySelectorAll("[data-edit]")) node.disabled = !session.who.can_edit;
  for (const node of document.querySelectorAll("[data-admin]")) node.disabled = !session.who.can_admin;
  $("readonly-note").hidden = session.who.can_edit;
  return true;
}

// ---- views ---------------------------------------------------------------------------------------

function show(view) {
  const signedIn = view !== "login";
  $("login-view").hidden = signedIn;
  $("overview-view").hidden = view !== "overview";
  $("rules-view").hidden = view !== "rules";
  $("nav").hidden = !signedIn;
  $("who").hidden = !signedIn;
  $("logout").hidden = !signedIn;
  for (const name of ["overview", "rules"]) {
    const link = $(`nav-${name}`);
    if (name === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "login") $("token").focus();
}

async function route() {
  if (!session.who) return show("login");
  const { view, params } = readHash();
  stopTimers();
  if (view === "rules") {
    show("rules");
    await showRules(params);
  } else {
    show("overview");
    $("range").value = ["15m", "1h", "24h", "7d"].includes(params.get("range")) ? params.get("range") : "1h";
    for (const name of ["dataset", "host", "level", "q"]) $(`tail-${name}`).value = params.get(name) || "";
    startOverview();
  }
}

// ---- overview ------------------------------------------------------------------------------------

const timers = [];
let tailPaused = false;

function stopTimers() {
  while (timers.length) clearInterval(timers.pop());
}

function overviewParams() {
  const params = new URLSearchParams({ range: $("range").value });
  for (const name of ["dataset", "host", "level", "q"]) params.set(name, $(`tail-${name}`).value.trim());
  return params;
}

function startOverview() {
  refreshOverview();
  refreshTail();
  timers.push(setInterval(refreshOverview, OVERVIEW_EVERY_MS));
  timers.push(setInterval(() => { if (!tailPaused) refreshTail(); }, TAIL_EVERY_MS));
}

function barItem(entry, peak) {
  const fill = h("span", { class: "fill" });
  fill.style.width = `${peak ? Math.max(1, Math.round((entry.count / peak) * 100)) : 0}%`;
  return h("li", { title: `${entry.name}: ${entry.count}` },
    h("span", { class: "name" }, entry.name || "(none)"),
    h("span", { class: "track", "aria-hidden": "true" }, fill),
    h("span", { class: "count" }, fmt.format(entry.count)));
}

function drawBars(id, entries) {
  const peak = Math.max(0, ...entries.map((e) => e.count));
  const list = $(id);
  if (!entries.length) {
    list.replaceChildren(h("li", { class: "muted" }, "nothing in this range"));
    return;
  }
  patchList(list, entries, (e) => e.name, (e) => barItem(e, peak));
}

async function refreshOverview() {
  writeHash("overview", overviewParams());
  const range = $("range").value;
  try {
    const [{ body: stats }, { body: unknown }, { body: alerts }] = await Promise.all([
      api("GET", `/api/v1/stats/overview?range=${encodeURIComponent(range)}&top=8`),
      api("GET", "/api/v1/records?dataset=unknown&size=8"),
      api("GET", "/api/v1/alerts?size=10"),
    ]);
    for (const node of document.querySelectorAll("[data-total]")) {
      node.textContent = fmt.format(stats.totals[node.dataset.total] || 0);
    }
    $("unknown-share").textContent = `${(stats.unknown.share * 100).toFixed(1)}%`;
    stackedBars($("chart"), stats);
    patchList($("legend"), stats.datasets, (n) => n, (name) =>
      h("li", {}, h("span", { class: `swatch c${stats.datasets.indexOf(name) % 9}`, "aria-hidden": "true" }), name));
    drawBars("by-level", stats.by_level);
    drawBars("by-host", stats.by_host);
    drawBars("by-rule", stats.by_rule);
    $("unknown-note").textContent = stats.totals.total
      ? `${fmt.format(stats.unknown.count)} of ${fmt.format(stats.totals.total)} events in this range matched no parser.`
      : "No events in this range.";
    drawLines("unknown-sample", unknown.records, (r) => h("li", {}, h("code", {}, lineOf(r))), "no unknown lines indexed");
    drawLines("alerts", alerts.alerts, alertItem, "no alerts");
    const windows = `${stats.windows} window${stats.windows === 1 ? "" : "s"} of ${stats.window_seconds}s`;
    setStatus("overview-status", `${windows} · updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error.status !== 401) setStatus("overview-status", `refresh failed: ${error.message}`, true);
  }
}

function drawLines(id, items, render, emptyText) {
  const list = $(id);
  if (!items.length) {
    list.replaceChildren(h("li", { class: "muted" }, emptyText));
    return;
  }
  patchList(list, items, (item) => item._id, render);
}

export function lineOf(record) {
  const event = record.event || {};
  return event.original || record.message || JSON.stringify(record);
}

function alertItem(alert) {
  const event = alert.event || {};
  const rule = (alert.rule && alert.rule.id) || "?";
  // The rule's severity word lives in alert.severity (event.severity is ECS's number).
  const severity = String((alert.alert && alert.alert.severity) || event.severity || "alert");
  return h("li", {},
    h("span", { class: `sev sev-${severity}` }, severity),
    h("time", {}, (event.ingested || alert["@timestamp"] || "").replace("T", " ").slice(0, 19)),
    h("span", { class: "rule" }, Array.isArray(rule) ? rule.join(", ") : rule),
    h("span", { class: "msg" }, alert.message || ""));
}

function tailItem(record) {
  const event = record.event || {};
  const level = (record.log && record.log.level) || "";
  return h("li", {},
    h("time", { datetime: event.ingested || record["@timestamp"] || "" }, (event.ingested || record["@timestamp"] || "").slice(11, 19)),
    h("span", { class: "ds" }, event.dataset || ""),
    h("span", { class: "host" }, (record.host && record.host.name) || ""),
    h("span", { class: `lvl lvl-${level.toLowerCase()}` }, level),
    h("code", { class: "msg" }, record.message || lineOf(record)));
}

async function refreshTail() {
  const params = overviewParams();
  writeHash("overview", params);
  const query = new URLSearchParams({ size: "25" });
  for (const name of ["dataset", "host", "level", "q"]) if (params.get(name)) query.set(name, params.get(name));
  try {
    const { body } = await api("GET", `/api/v1/records?${query}`);
    drawLines("tail", body.records, tailItem, "no records match");
    setStatus("tail-status", `${body.count} newest · ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error.status !== 401) setStatus("tail-status", `refresh failed: ${error.message}`, true);
  }
}

// ---- wiring ---------------------------------------------------------------------------------------

function init() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    if (token && (await signIn(token))) {
      if (!location.hash) writeHash("overview", new URLSearchParams());
      await route();
      $("main").focus();
    }
  });
  $("logout").addEventListener("click", () => signOut("Signed out."));
  $("range").addEventListener("change", () => refreshOverview());
  $("tail-form").addEventListener("submit", (event) => {
    event.preventDefault();
    refreshTail();
  });
  $("tail-pause").addEventListener("click", () => {
    tailPaused = !tailPaused;
    $("tail-pause").setAttribute("aria-pressed", String(tailPaused));
    $("tail-pause").textContent = tailPaused ? "Resume" : "Pause";
  });
  $("unknown-to-rule").addEventListener("click", () => {
    const lines = [...$("unknown-sample").querySelectorAll("code")].map((c) => c.textContent);
    sessionStorage.setItem("logflow.draft-lines", lines.join("\n"));
    location.hash = "#rules?new=1";
  });
  window.addEventListener("hashchange", route);
  initRules();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token).then((ok) => (ok ? route() : show("login")));
  else show("login");
}

init();
