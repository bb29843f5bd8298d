// The rules console: list, search, enable/disable, edit as JSON with errors at their paths,
// dry-run, history with diffs and roll back, import and export. It only calls /api/v1.
import { api, h, lineOf, readHash, session, setStatus, writeHash } from "./app.js";

const $ = (id) => document.getElementById(id);
const TEMPLATE = {
  id: "my-rule",
  description: "what this rule is for",
  enabled: true,
  priority: 10,
  when: { all: [{ field: "event.dataset", op: "eq", value: "unknown" }] },
  then: [{ action: "tag", value: "needs-parser" }],
};

let rules = [];
// The rule in the editor: its id and the ETag of the version it was read at (null = a new rule).
const editing = { id: null, etag: null };

// ---- list ----------------------------------------------------------------------------------------

export async function showRules(params) {
  $("rule-search").value = params.get("q") || "";
  $("rule-state").value = params.get("state") || "";
  await loadRules();
  if (params.get("new")) {
    const lines = sessionStorage.getItem("logflow.draft-lines");
    sessionStorage.removeItem("logflow.draft-lines");
    openEditor(null, TEMPLATE);
    if (lines) $("dry-lines").value = lines;
  } else if (params.get("rule")) {
    await openRule(params.get("rule"));
  } else {
    $("editor").hidden = true;
  }
}

async function loadRules() {
  try {
    const { body } = await api("GET", "/api/v1/rules");
    rules = body.rules;
    drawRules();
  } catch (error) {
    setStatus("rules-status", `could not load rules: ${error.message}`, true);
  }
}

function syncHash() {
  const params = new URLSearchParams({ q: $("rule-search").value.trim(), state: $("rule-state").value });
  if (editing.id) params.set("rule", editing.id);
  writeHash("rules", params);
}

function drawRules() {
  syncHash();
  const query = $("rule-search").value.trim().toLowerCase();
  const state = $("rule-state").value;
  const shown = rules.filter((r) => {
    const enabled = r.rule.enabled !== false;
    if (state === "enabled" && !enabled) return false;
    if (state === "disabled" && enabled) return false;
    return !query || JSON.stringify(r.rule).toLowerCase().includes(query);
  });
  const canEdit = session.who && session.who.can_edit;
  const rows = shown.map((r) => {
    const enabled = r.rule.enabled !== false;
    return h("tr", { "data-rule": r.id },
      h("td", {}, h("strong", {}, r.id), h("div", { class: "muted" }, r.rule.description || "")),
      h("td", {}, h("span", { class: enabled ? "badge on" : "badge off" }, enabled ? "enabled" : "disabled")),
      h("td", {}, String(r.version)),
      h("td", {}, `${r.updated_at.replace("T", " ").slice(0, 19)} by ${r.updated_by}`),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "secondary", onclick: () => openRule(r.id) }, canEdit ? "Edit" : "View"),
        h("button", { type: "button", class: "secondary", disabled: !canEdit, "aria-label": `${enabled ? "Disable" : "Enable"} ${r.id}`,
          onclick: () => setEnabled(r.id, !enabled) }, enabled ? "Disable" : "Enable")));
  });
  $("rules-body").replaceChildren(...rows);
  $("rules-count").textContent = `${shown.length} of ${rules.length} rules`;
}

async function setEnabled(id, enabled) {
  try {
    const { body } = await api("PATCH", `/api/v1/rules/${encodeURIComponent(id)}`, { enabled });
    await loadRules();
    if (editing.id === id) await openRule(id);
    setStatus("rules-status", `${id} ${enabled ? "enabled" : "disabled"} (now v${body.version})`);
  } catch (error) {
    setStatus("rules-status", `${id}: ${error.message}`, true);
  }
}

// ---- editor ----------------------------------------------------------------------------------------

async function openRule(id) {
  try {
    const { body, etag } = await api("GET", `/api/v1/rules/${encodeURIComponent(id)}`);
    openEditor(etag, body.rule, id);
    await loadHistory(id);
  } catch (error) {
    setStatus("rules-status", `${id}: ${error.message}`, true);
  }
}

function openEditor(etag, rule, id) {
  editing.id = id || null;
  editing.etag = etag;
  $("editor").hidden = false;
  $("editor-title").textContent = id ? `Rule ${id}` : "New rule";
  $("rule-json").value = JSON.stringify(rule, null, 2);
  $("rule-json").readOnly = !(session.who && session.who.can_edit);
  $("rule-errors").replaceChildren();
  $("rule-json").removeAttribute("aria-invalid");
  $("dry-results").replaceChildren();
  $("rule-delete").hidden = !id;
  if (!id) $("history").replaceChildren(h("li", { class: "muted" }, "a new rule has no history yet"));
  syncHash();
  $("rule-json").focus();
}

// Where each value of a (valid) JSON text sits, by its path in the API's `$.a.b[0]` notation.
export function locate(text) {
  const spots = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const str = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    ws();
    const start = i;
    if (text[i] === "{") {
      i++; ws();
      if (text[i] === "}") i++;
      else for (;;) {
        ws(); const key = str(); ws(); i++;
        value(`${path}.${key}`); ws();
        if (text[i++] !== ",") break;
      }
    } else if (text[i] === "[") {
      i++; ws();
      if (text[i] === "]") i++;
      else for (let n = 0; ; n++) {
        value(`${path}[${n}]`); ws();
        if (text[i++] !== ",") break;
      }
    } else if (text[i] === '"') str();
    else while (i < text.length && /[^\s,\]}]/.test(text[i])) i++;
    spots.set(path, { start, end: i });
  };
  try { value("$"); } catch { /* only called on text JSON.parse accepted */ }
  return spots;
}

function parent(path) {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut > 0 ? path.slice(0, cut) : "$";
}

function showErrors(errors) {
  const text = $("rule-json").value;
  const spots = locate(text);
  const items = errors.map((error) => {
    let path = error.path || "$";
    while (!spots.has(path) && path !== "$") path = parent(path);
    const spot = spots.get(path);
    const line = spot ? text.slice(0, spot.start).split("\n").length : null;
    return h("li", {},
      h("button", { type: "button", class: "link path", onclick: () => select(spot) }, error.path || "$"),
      ` ${error.message}`, line ? h("span", { class: "muted" }, ` (line ${line})`) : null);
  });
  $("rule-errors").replaceChildren(...items);
  if (errors.length) $("rule-json").setAttribute("aria-invalid", "true");
  else $("rule-json").removeAttribute("aria-invalid");
}

function select(spot) {
  const area = $("rule-json");
  area.focus();
  if (spot) area.setSelectionRange(spot.start, spot.end);
}

function readRule() {
  try {
    return JSON.parse($("rule-json").value);
  } catch (error) {
    showErrors([{ path: "$", message: `not valid JSON: ${error.message}` }]);
    return null;
  }
}

function errorsOf(error) {
  const list = (error.body && error.body.errors) || [];
  return list.length ? list : [{ path: "$", message: error.message }];
}

async function validate() {
  const rule = readRule();
  if (!rule) return;
  try {
    const { body } = await api("POST", "/api/v1/rules:validate", rule);
    showErrors(body.errors);
    if (body.valid) $("rule-errors").replaceChildren(h("li", { class: "ok" }, "valid"));
  } catch (error) {
    showErrors(errorsOf(error));
  }
}

async function save() {
  const rule = readRule();
  if (!rule) return;
  try {
    const isNew = !editing.id;
    const path = isNew ? "/api/v1/rules" : `/api/v1/rules/${encodeURIComponent(editing.id)}`;
    const { body } = await api(isNew ? "POST" : "PUT", path, rule, isNew ? {} : { "If-Match": editing.etag });
    await loadRules();
    await openRule(body.id);
    setStatus("rules-status", `${body.id} saved as version ${body.version}`);
    $("rule-errors").replaceChildren(h("li", { class: "ok" }, `saved: version ${body.version}`));
  } catch (error) {
    if (error.status === 412) showErrors([{ path: "$", message: "someone changed this rule since you opened it; reopen it to see their version" }]);
    else showErrors(errorsOf(error));
  }
}

async function remove() {
  if (!editing.id || !confirm(`Delete rule ${editing.id}? Its history is kept; you can roll back.`)) return;
  try {
    await api("DELETE", `/api/v1/rules/${encodeURIComponent(editing.id)}`, undefined, { "If-Match": editing.etag });
    setStatus("rules-status", `${editing.id} deleted`);
    await loadHistory(editing.id);
    await loadRules();
  } catch (error) {
    showErrors(errorsOf(error));
  }
}

// ---- dry run -----------------------------------------------------------------------------------

function flatten(value, prefix, out) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else out[prefix] = JSON.stringify(value);
  return out;
}

// Fields that differ between two dry runs of the same line for reasons other than the rules:
// the ingest time, and @timestamp when the line had none and it fell back to the ingest time.
function volatile(before) {
  const skip = new Set(["event.ingested"]);
  if (before["@timestamp"] && before.event && before["@timestamp"] === before.event.ingested) skip.add("@timestamp");
  return skip;
}

function changes(before, after) {
  const a = flatten(before, "", {}), b = flatten(after, "", {});
  const skip = volatile(before);
  const rows = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (skip.has(key)) continue;
    if (a[key] !== b[key]) rows.push(`${key}: ${a[key] === undefined ? "—" : a[key]} → ${b[key] === undefined ? "—" : b[key]}`);
  }
  return rows;
}

function hitsOf(result) {
  const ids = result.rule && result.rule.id;
  return ids === undefined || ids === null ? [] : Array.isArray(ids) ? ids : [ids];
}

async function dryRun() {
  const rule = readRule();
  if (!rule) return;
  const lines = $("dry-lines").value.split("\n").filter((l) => l.trim());
  if (!lines.length) {
    $("dry-results").replaceChildren(h("p", { class: "muted" }, "paste some lines first"));
    return;
  }
  const others = $("dry-with-others").checked
    ? rules.filter((r) => r.id !== rule.id && r.rule.enabled !== false).map((r) => r.rule)
    : [];
  try {
    const [{ body: before }, { body: after }] = await Promise.all([
      api("POST", "/api/v1/rules:test", { rules: [], lines }),
      api("POST", "/api/v1/rules:test", { rules: [rule, ...others], lines }),
    ]);
    const rows = lines.map((line, index) => {
      const b = before.results[index], a = after.results[index];
      const hits = hitsOf(a);
      const diff = a.dropped ? ["dropped"] : changes(b, a);
      return h("tr", {},
        h("td", {}, h("code", {}, line)),
        h("td", {}, hits.length ? hits.join(", ") : h("span", { class: "muted" }, "no rule")),
        h("td", {}, diff.length ? h("ul", { class: "changes" }, diff.map((d) => h("li", {}, h("code", {}, d)))) : h("span", { class: "muted" }, "unchanged")),
        h("td", {}, h("details", {}, h("summary", {}, "records"),
          h("p", {}, "before"), h("pre", {}, JSON.stringify(b, null, 2)),
          h("p", {}, "after"), h("pre", {}, JSON.stringify(a, null, 2)))));
    });
    const hitCount = after.results.filter((r) => hitsOf(r).includes(rule.id)).length;
    $("dry-results").replaceChildren(
      h("p", { class: "status" }, `${rule.id} hit ${hitCount} of ${lines.length} lines`),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Rules hit"),
          h("th", { scope: "col" }, "Before → after"), h("th", { scope: "col" }, "Records"))),
        h("tbody", {}, rows))));
    $("rule-errors").replaceChildren();
  } catch (error) {
    showErrors(errorsOf(error).map((e) => ({ ...e, path: (e.path || "$").replace(/^\$\.rules\[0\]/, "$") })));
  }
}

async function sampleLines() {
  try {
    const { body } = await api("GET", "/api/v1/records?size=20");
    $("dry-lines").value = body.records.map(lineOf).join("\n");
  } catch (error) {
    $("dry-results").replaceChildren(h("p", { class: "error" }, `could not read records: ${error.message}`));
  }
}

// ---- history -----------------------------------------------------------------------------------

function describeChange(change) {
  const show = (v) => JSON.stringify(v);
  if (change.op === "add") return `+ ${change.path} = ${show(change.value)}`;
  if (change.op === "remove") return `− ${change.path} (was ${show(change.old)})`;
  return `~ ${change.path}: ${show(change.old)} → ${show(change.value)}`;
}

async function loadHistory(id) {
  try {
    const { body } = await api("GET", `/api/v1/rules/${encodeURIComponent(id)}/versions`);
    const current = Math.max(...body.versions.map((v) => v.version));
    const canEdit = session.who && session.who.can_edit;
    const items = [...body.versions].reverse().map((v) => h("li", { "data-version": v.version },
      h("div", { class: "history-head" },
        h("strong", {}, `v${v.version}`), ` ${v.action} by ${v.updated_by} at ${v.updated_at.replace("T", " ").slice(0, 19)}`,
        v.version !== current && v.rule
          ? h("button", { type: "button", class: "secondary", disabled: !canEdit, onclick: () => rollback(id, v.version) }, `Roll back to v${v.version}`)
          : null),
      h("ul", { class: "diff" }, v.diff.length ? v.diff.map((c) => h("li", { class: `op-${c.op}` }, h("code", {}, describeChange(c)))) : h("li", { class: "muted" }, "no change"))));
    $("history").replaceChildren(...items);
  } catch (error) {
    $("history").replaceChildren(h("li", { class: "error" }, error.message));
  }
}

async function rollback(id, version) {
  try {
    const { body } = await api("POST", `/api/v1/rules/${encodeURIComponent(id)}/rollback`, { version });
    await loadRules();
    await openRule(id);
    setStatus("rules-status", `${id} rolled back to v${version} (now v${body.version})`);
  } catch (error) {
    setStatus("rules-status", `${id}: ${error.message}`, true);
  }
}

// ---- import / export ---------------------------------------------------------------------------

async function exportRules() {
  try {
    const { body } = await api("GET", "/api/v1/rules:export");
    const blob = new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `logflow-rules-${body.exported_at.slice(0, 10)}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    setStatus("rules-status", `exported ${body.count} rules`);
  } catch (error) {
    setStatus("rules-status", `export failed: ${error.message}`, true);
  }
}

async function importRules(file) {
  try {
    const parsed = JSON.parse(await file.text());
    const list = Array.isArray(parsed) ? parsed : parsed.rules;
    if (!Array.isArray(list)) throw new Error("expected a list of rules or an export ({\"rules\": [...]})");
    const { body } = await api("POST", "/api/v1/rules:import", { rules: list, mode: "merge" });
    setStatus("rules-status", `imported: ${body.created.length} created, ${body.updated.length} updated, ${body.unchanged.length} unchanged`);
    await loadRules();
  } catch (error) {
    const detail = error.body && error.body.errors && error.body.errors.length
      ? error.body.errors.map((e) => `${e.path} ${e.message}`).join("; ") : error.message;
    setStatus("rules-status", `import failed: ${detail}`, true);
  }
}

// ---- wiring --------------------------------------------------------------------------------------

export function initRules() {
  $("rule-search").addEventListener("input", drawRules);
  $("rule-state").addEventListener("change", drawRules);
  $("rule-new").addEventListener("click", () => { openEditor(null, TEMPLATE); $("history").replaceChildren(); });
  $("rule-validate").addEventListener("click", validate);
  $("rule-save").addEventListener("click", save);
  $("rule-delete").addEventListener("click", remove);
  $("editor-close").addEventListener("click", () => { editing.id = null; $("editor").hidden = true; syncHash(); });
  $("dry-run").addEventListener("click", dryRun);
  $("dry-sample").addEventListener("click", sampleLines);
  $("rule-export").addEventListener("click", exportRules);
  $("rule-import-button").addEventListener("click", () => $("rule-import").click());
  $("rule-import").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) importRules(file);
  });
  readHash();
}
