// The Errors view: the job's error groups (GET /api/v1/errors), one group's sample and its newest
// records (read through the API, never from Elasticsearch). State lives in the URL fragment.
import { api, fmt, h, patchList, setStatus, tailItem, writeHash } from "./app.js";

const $ = (id) => document.getElementById(id);
const SINCE = ["1h", "24h", "7d"];
const ORDERS = ["last_seen", "count"];
export const ERRORS_EVERY_MS = 10000;

let openFingerprint = "";

function when(iso) {
  return (iso || "").replace("T", " ").slice(0, 19);
}

function errorsParams() {
  const params = new URLSearchParams({ since: $("errors-since").value, order: $("errors-order").value });
  if ($("errors-new").checked) params.set("new", "1");
  if (openFingerprint) params.set("group", openFingerprint);
  return params;
}

export function showErrors(params) {
  $("errors-since").value = SINCE.includes(params.get("since")) ? params.get("since") : "24h";
  $("errors-order").value = ORDERS.includes(params.get("order")) ? params.get("order") : "last_seen";
  $("errors-new").checked = params.get("new") === "1";
  openFingerprint = params.get("group") || "";
  refreshErrors();
  if (openFingerprint) openGroup(openFingerprint, false);
  else $("group").hidden = true;
}

function where(sample) {
  return [sample.dataset, sample.host, sample.service].filter(Boolean).join(" · ") || "—";
}

function groupItem(group) {
  const sample = group.sample;
  const target = errorsParams();
  target.set("group", group.fingerprint);
  const link = h("a", { href: `#errors?${target}`, class: "msg", "data-fingerprint": group.fingerprint },
    sample.message || sample.template || group.fingerprint);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    openGroup(group.fingerprint, true);
  });
  return h("li", { "aria-current": group.fingerprint === openFingerprint ? "true" : null },
    h("span", { class: "count", title: "records in this group" }, fmt.format(group.count)),
    h("span", { class: "type" }, sample.type || "(no type)"),
    link,
    h("span", { class: "where" }, where(sample)),
    h("span", { class: "seen" },
      "first ", h("time", { datetime: group.first_seen }, when(group.first_seen)),
      " · last ", h("time", { datetime: group.last_seen }, when(group.last_seen))),
    sample.template ? h("code", { class: "template" }, sample.template) : null);
}

export async function refreshErrors() {
  writeHash("errors", errorsParams());
  const query = new URLSearchParams({
    since: $("errors-since").value,
    order: $("errors-order").value,
    new: String($("errors-new").checked),
    limit: "50",
  });
  try {
    const { body } = await api("GET", `/api/v1/errors?${query}`);
    const list = $("groups");
    if (!body.groups.length) list.replaceChildren(h("li", { class: "muted empty" }, "no error groups in this span"));
    else patchList(list, body.groups, (g) => g.fingerprint, groupItem);
    const n = body.groups.length;
    setStatus("errors-status", `${n} group${n === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error.status !== 401) setStatus("errors-status", `refresh failed: ${error.message}`, true);
  }
}

async function openGroup(fingerprint, focus) {
  openFingerprint = fingerprint;
  writeHash("errors", errorsParams());
  for (const item of $("groups").children) {
    if (item.dataset.key === fingerprint) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  const card = $("group");
  card.hidden = false;
  const path = `/api/v1/errors/${encodeURIComponent(fingerprint)}`;
  try {
    const { body: group } = await api("GET", path);
    const sample = group.sample;
    $("group-title").textContent = `${sample.type || "Error"} · ${fingerprint}`;
    const facts = [
      ["Count", fmt.format(group.count)],
      ["First seen", when(group.first_seen)],
      ["Last seen", when(group.last_seen)],
      ["Dataset", sample.dataset || "—"],
      ["Host", sample.host || "—"],
      ["Service", sample.service || "—"],
      ["Fingerprint", group.fingerprint],
    ];
    $("group-facts").replaceChildren(...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    $("group-message").textContent = sample.message || "(empty)";
    $("group-template").textContent = sample.template || "(from the stack trace, no template)";
    $("group-search").textContent =
      `GET ${group.records.search_url}\n\nPOST ${group.records.index}/_search\n${JSON.stringify(group.records.query, null, 2)}`;
  } catch (error) {
    $("group-title").textContent = `Error group ${fingerprint}`;
    $("group-facts").replaceChildren(h("dt", {}, "Status"), h("dd", { class: "error" },
      error.status === 404 ? "no such group (never seen, or expired)" : error.message));
    for (const id of ["group-message", "group-template", "group-search"]) $(id).textContent = "";
  }
  if (focus) card.focus();
  await refreshGroupRecords();
}

async function refreshGroupRecords() {
  if (!openFingerprint) return;
  try {
    const { body } = await api("GET", `/api/v1/errors/${encodeURIComponent(openFingerprint)}/records?size=20`);
    const list = $("group-records");
    if (!body.records.length) list.replaceChildren(h("li", { class: "muted" }, "no indexed records with this fingerprint"));
    else patchList(list, body.records, (r) => r._id, tailItem);
    setStatus("group-records-status", `${body.count} newest`);
  } catch (error) {
    if (error.status !== 401) setStatus("group-records-status", `could not read records: ${error.message}`, true);
  }
}

export function errorsTick() {
  refreshErrors();
  refreshGroupRecords();
}

export function initErrors() {
  for (const id of ["errors-since", "errors-order", "errors-new"]) $(id).addEventListener("change", refreshErrors);
  $("group-close").addEventListener("click", () => {
    const fingerprint = openFingerprint;
    openFingerprint = "";
    $("group").hidden = true;
    writeHash("errors", errorsParams());
    const link = document.querySelector(`#groups a[data-fingerprint="${CSS.escape(fingerprint)}"]`);
    if (link) link.focus();
  });
  $("group").addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("group-close").click();
  });
}
