/* commerce-sandbox QA console: vanilla JS over the /__sandbox JSON routes. No build step, no network
   beyond this sandbox. */
"use strict";
(function () {
  const ROOT = "/__sandbox";
  const POLL_MS = 1000;
  const MAX_ROWS = 1000;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  const state = {
    apis: [], tenants: new Set(), seq: 0, rows: [], selected: null, polling: false,
    filterKey: "", scenariosAvailable: null, dataApi: null, dataCollection: null,
  };

  // -- helpers -----------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(ROOT + path, init);
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { raw: text }; }
    if (!res.ok) {
      const err = new Error((data && (data.message || data.error)) || `${res.status} ${res.statusText}`);
      err.status = res.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  let noticeTimer = null;
  function notice(text, isError) {
    const n = $("#notice");
    n.textContent = text;
    n.className = isError ? "error" : "";
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { n.textContent = ""; }, isError ? 8000 : 4000);
  }

  function pretty(text) {
    if (text === null || text === undefined || text === "") return "";
    if (typeof text !== "string") return JSON.stringify(text, null, 2);
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }

  function time(t) {
    if (t === null || t === undefined) return "";
    const d = new Date(typeof t === "number" ? t * 1000 : t);
    return isNaN(d) ? String(t) : d.toISOString().replace("T", " ").slice(0, 19);
  }

  function statusClass(s) { return s === null || s === undefined ? "snone" : "s" + String(s)[0]; }

  function rememberTenant(t) {
    if (!t || state.tenants.has(t)) return;
    state.tenants.add(t);
    $("#tenants").append(el("option", { value: t, label: whoIs(t) ? t + " · " + whoIs(t) : null }));
  }

  // -- tenants: the hashed id beside the public part of its credential ---------------------------
  // From /__sandbox/credentials: every record with a "tenant" is a key, a user, a consumer, an account
  // or a store. Shown: user names, store and account names, integration names, and the first six
  // characters of a key (never a whole secret; "#n" tells apart keys that start alike).
  const tenantNames = new Map();
  const KEY_FIELDS = ["key", "api_key", "consumer_key", "store_key"];
  function publicPart(node, keys) {
    if (node.username) return node.username;
    if (node.custom_label) return "store " + node.custom_label;
    if (node.label && node.api_key && !node.store_key) return "account " + node.label;
    const field = KEY_FIELDS.find((f) => typeof node[f] === "string");
    if (!field) return node.integration || "";
    const key = node[field];
    const prefix = key.slice(0, 6);
    const alike = keys.filter((k) => k.slice(0, 6) === prefix);
    const n = alike.length > 1 ? " #" + (alike.indexOf(key) + 1) : "";
    return (node.integration ? node.integration + ", " : "") + "key " + prefix + "…" + n;
  }
  function learnTenants(credentials) {
    for (const creds of Object.values(credentials || {})) {
      const records = [];
      (function walk(node) {
        if (Array.isArray(node)) { node.forEach(walk); return; }
        if (!node || typeof node !== "object") return;
        if (node.tenant !== undefined && node.tenant !== null) records.push(node);
        Object.values(node).forEach(walk);
      })(creds);
      const keys = [...new Set(records.map((r) => KEY_FIELDS.map((f) => r[f]).find((v) => typeof v === "string"))
        .filter(Boolean))];
      for (const r of records) {
        const who = publicPart(r, keys);
        const id = String(r.tenant);
        const names = tenantNames.get(id) || [];
        if (who && !names.includes(who)) names.push(who);
        tenantNames.set(id, names);
      }
    }
  }
  function whoIs(t) {
    const names = tenantNames.get(String(t)) || [];
    return names.length > 3 ? names.slice(0, 3).join(", ") + ` +${names.length - 3}` : names.join(", ");
  }
  function tenantCell(t, empty) {
    if (!t) return empty || "";
    const who = whoIs(t);
    return who ? [String(t), el("span", { class: "who" }, " " + who)] : String(t);
  }

  function queryString(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // -- tabs --------------------------------------------------------------------------------------
  const loaders = {};
  function showTab(name) {
    $$("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
    $$(".tab").forEach((s) => s.classList.toggle("active", s.id === "tab-" + name));
    if (loaders[name]) loaders[name]().catch((e) => notice(e.message, true));
    history.replaceState(null, "", "#" + name);
  }
  $$("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

  // -- health, export, reset ---------------------------------------------------------------------
  async function loadHealth() {
    try {
      const h = await api("GET", "/health");
      state.apis = h.apis || [];
      const clock = h.clock && (h.clock.now !== undefined ? time(h.clock.now) : "");
      $("#health").textContent = `${h.status} · ${state.apis.length} APIs · state: ${h.state} · seed: ${h.seed}` +
        (clock ? ` · clock: ${clock}` : "");
      $("#health").className = "health";
      for (const sel of $$('select[name="api"]')) {
        const keep = sel.value;
        const first = sel.closest("#data-filters") ? [] : [el("option", { value: "" }, "all")];
        sel.replaceChildren(...first, ...state.apis.map((a) => el("option", { value: a }, a)));
        if (keep) sel.value = keep;
      }
    } catch (e) {
      $("#health").textContent = "sandbox not reachable: " + e.message;
      $("#health").className = "health down";
    }
  }

  async function probeExport() {
    for (const [id, path] of [["#export-json", "/export"], ["#export-har", "/export?format=har"]]) {
      let ok = false;
      try { ok = (await fetch(ROOT + path, { method: "HEAD", cache: "no-store" })).ok; } catch (e) { ok = false; }
      const a = $(id);
      a.classList.toggle("disabled", !ok);
      a.setAttribute("aria-disabled", String(!ok));
      a.title = ok ? "GET " + ROOT + path : "session export not available on this sandbox";
    }
  }

  $("#reset").addEventListener("click", async () => {
    if (!window.confirm("Reset every API back to its seeded state?")) return;
    try {
      const r = await api("POST", "/reset", {});
      notice(`Reset: ${Array.isArray(r.reset) ? r.reset.length + " namespaces" : "done"}`);
      const active = $(".tab.active");
      if (active && loaders[active.id.slice(4)]) loaders[active.id.slice(4)]();
    } catch (e) { notice("Reset failed: " + e.message, true); }
  });

  // -- journal -----------------------------------------------------------------------------------
  function journalFilters() {
    const f = $("#journal-filters");
    const out = {};
    for (const name of ["api", "tenant", "method", "status", "path", "scenario"]) out[name] = f.elements[name].value.trim();
    return out;
  }

  function journalRow(e) {
    const fault = e.scenario ? el("span", { class: "tag fault" }, e.scenario + (e.rule !== null && e.rule !== undefined ? " / " + e.rule : "")) : null;
    const viol = e.violations && e.violations.length ? el("span", { class: "tag violation" }, e.violations.length + " violation" + (e.violations.length > 1 ? "s" : "")) : null;
    const query = e.query && Object.keys(e.query).length ? "?" + new URLSearchParams(e.query).toString() : "";
    // a webhook the sandbox sent on its own (the scheduler), not a request it answered
    const outbound = e.direction === "outbound" ? el("span", { class: "tag" }, "sent: " + (e.event || "webhook") + (e.attempt > 1 ? " #" + e.attempt : "")) : null;
    const tr = el("tr", { dataset: { seq: e.seq }, onclick: () => selectEntry(e.seq) },
      el("td", {}, e.seq), el("td", {}, time(e.time)), el("td", {}, e.api), el("td", {}, tenantCell(e.tenant)),
      el("td", {}, e.method), el("td", { class: "path" }, e.path + query),
      el("td", { class: statusClass(e.status) }, e.status === null || e.status === undefined ? "no answer" : e.status),
      el("td", {}, e.duration_ms !== undefined ? Math.round(e.duration_ms) : ""),
      el("td", {}, outbound, " ", fault, " ", viol));
    if (state.selected === e.seq) tr.classList.add("selected");
    return tr;
  }

  async function pollJournal(reset) {
    if (state.polling) return;
    state.polling = true;
    try {
      const filters = journalFilters();
      const key = JSON.stringify(filters);
      if (reset || key !== state.filterKey) {
        state.filterKey = key;
        state.seq = 0;
        state.rows = [];
        $("#journal tbody").replaceChildren();
      }
      const data = await api("GET", "/requests" + queryString({ ...filters, since: state.seq, limit: 500 }));
      const fresh = (data.requests || []).filter((e) => e.seq > state.seq).sort((a, b) => a.seq - b.seq);
      const body = $("#journal tbody");
      for (const e of fresh) {
        state.rows.unshift(e);
        rememberTenant(e.tenant);
        const tr = journalRow(e);
        if (state.seq) tr.classList.add("fresh");
        body.prepend(tr);
        state.seq = Math.max(state.seq, e.seq);
      }
      while (state.rows.length > MAX_ROWS) {
        state.rows.pop();
        body.lastElementChild && body.lastElementChild.remove();
      }
      $("#journal-empty").hidden = state.rows.length > 0;
      $("#journal-count").textContent = `${state.rows.length} shown`;
    } catch (e) {
      $("#journal-count").textContent = "journal unavailable: " + e.message;
    } finally {
      state.polling = false;
    }
  }

  function shellQuote(s) { return "'" + String(s).replace(/'/g, "'\\''") + "'"; }

  const SKIP_HEADERS = new Set(["host", "content-length", "connection", "accept-encoding", "user-agent", "accept"]);
  function curlFor(e) {
    const query = e.query && Object.keys(e.query).length ? "?" + new URLSearchParams(e.query).toString() : "";
    // a webhook the sandbox sent on its own (the scheduler), not a request it answered
    const outbound = e.direction === "outbound" ? el("span", { class: "tag" }, "sent: " + (e.event || "webhook") + (e.attempt > 1 ? " #" + e.attempt : "")) : null;
    const url = location.origin + e.path + query;
    const parts = ["curl", "-sS"];
    if (e.method !== "GET" || (e.request && e.request.body)) parts.push("-X", e.method);
    parts.push(shellQuote(url));
    const headers = (e.request && e.request.headers) || {};
    for (const [k, v] of Object.entries(headers)) {
      if (SKIP_HEADERS.has(k.toLowerCase())) continue;
      parts.push("-H", shellQuote(`${k}: ${v}`));
    }
    if (e.request && e.request.body) parts.push("--data-raw", shellQuote(e.request.body));
    return parts.join(" ");
  }

  function headerBlock(h) {
    return Object.entries(h || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  }

  function selectEntry(seq) {
    const e = state.rows.find((r) => r.seq === seq);
    if (!e) return;
    state.selected = seq;
    $$("#journal tbody tr").forEach((tr) => tr.classList.toggle("selected", Number(tr.dataset.seq) === seq));
    $("#detail").hidden = false;
    $("#detail-title").textContent = `${e.method} ${e.path}`;
    const meta = [["seq", e.seq], ["time", time(e.time)], ["API", e.api], ["tenant", e.tenant ? [e.tenant, whoIs(e.tenant)].filter(Boolean).join(" · ") : "—"],
      ["status", e.status === null || e.status === undefined ? "no answer (connection fault)" : e.status],
      ["duration", e.duration_ms !== undefined ? e.duration_ms + " ms" : ""]];
    $("#detail-meta").replaceChildren(...meta.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    const fault = $("#detail-fault");
    // why the rules tried before (or instead of) the one that fired did not fire: each matcher's reason
    const misses = (e.rule_misses || []).length ? el("div", { class: "misses" },
      el("strong", { class: "small" }, "Rules that did not fire"),
      el("ul", { class: "small" }, e.rule_misses.map((m) => el("li", {},
        el("span", { class: "scenario" }, m.scenario), " · rule ", el("span", { class: "rule" }, String(m.rule)),
        ": ", m.reason)))) : null;
    if (e.scenario) {
      fault.replaceChildren(el("div", { class: "box fault" },
        el("strong", {}, "Scenario rule fired: "), el("span", { class: "scenario" }, e.scenario),
        " · rule ", el("span", { class: "rule" }, e.rule === null || e.rule === undefined ? "?" : String(e.rule)),
        e.fault ? el("pre", { class: "code" }, pretty(e.fault)) : null), misses || "");
    } else {
      fault.replaceChildren(el("p", { class: "muted small" }, "No scenario rule fired on this request."), misses || "");
    }
    const vbox = $("#detail-violations");
    if (e.violations && e.violations.length) {
      vbox.replaceChildren(el("div", { class: "box violation" }, el("strong", {}, "Contract violations"),
        el("ul", {}, e.violations.map((v) => el("li", {},
          typeof v === "string" ? v : `${v.pointer || v.path || ""} ${v.reason || v.message || JSON.stringify(v)}`)))));
    } else {
      vbox.replaceChildren(el("p", { class: "muted small" }, "No contract violations."));
    }
    $("#detail-curl").textContent = curlFor(e);
    const query = e.query && Object.keys(e.query).length ? "?" + new URLSearchParams(e.query).toString() : "";
    // a webhook the sandbox sent on its own (the scheduler), not a request it answered
    const outbound = e.direction === "outbound" ? el("span", { class: "tag" }, "sent: " + (e.event || "webhook") + (e.attempt > 1 ? " #" + e.attempt : "")) : null;
    $("#detail-request").textContent = `${e.method} ${e.path}${query}\n${headerBlock(e.request && e.request.headers)}\n\n${pretty(e.request && e.request.body)}`;
    $("#detail-response").textContent = `${e.status === null || e.status === undefined ? "(no answer)" : e.status}\n${headerBlock(e.response && e.response.headers)}\n\n${pretty(e.response && e.response.body)}`;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      const ta = el("textarea", { style: "position:fixed;left:-9999px" });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      ta.remove();
      return ok;
    }
  }

  $("#copy-curl").addEventListener("click", async () => {
    const text = $("#detail-curl").textContent;
    notice((await copyText(text)) ? "curl command copied" : "copy failed: select the curl text by hand", false);
  });
  $("#detail-close").addEventListener("click", () => {
    $("#detail").hidden = true;
    state.selected = null;
    $$("#journal tbody tr.selected").forEach((tr) => tr.classList.remove("selected"));
  });
  let filterTimer = null;
  $("#journal-filters").addEventListener("input", () => { clearTimeout(filterTimer); filterTimer = setTimeout(() => pollJournal(true), 250); });
  $("#journal-filters").addEventListener("reset", () => setTimeout(() => pollJournal(true), 0));
  $("#journal-filters").addEventListener("submit", (ev) => { ev.preventDefault(); pollJournal(true); });
  loaders.journal = () => pollJournal(false);

  // -- scenarios ---------------------------------------------------------------------------------
  function scenarioArgs() {
    const f = $("#scenario-form");
    const out = {};
    const tenant = f.elements.tenant.value.trim();
    const seed = f.elements.seed.value.trim();
    if (tenant) out.tenant = tenant;
    if (seed !== "") out.seed = parseInt(seed, 10);
    return out;
  }

  async function loadScenarios() {
    let data;
    try {
      data = await api("GET", "/scenarios");
    } catch (e) {
      if (e.status === 404 || e.status === 405 || e.status === 501) {
        state.scenariosAvailable = false;
        $("#scenarios-unavailable").hidden = false;
        $("#scenarios-body").hidden = true;
        return;
      }
      throw e;
    }
    state.scenariosAvailable = true;
    $("#scenarios-unavailable").hidden = true;
    $("#scenarios-body").hidden = false;
    const active = data.active || [];
    $("#scenarios-active tbody").replaceChildren(...(active.length ? active.map((r) => {
      rememberTenant(r.tenant);
      return el("tr", { dataset: { name: r.name } },
        el("td", {}, el("strong", {}, r.name), r.description ? el("div", { class: "muted small" }, r.description) : null),
        el("td", {}, tenantCell(r.tenant, "all tenants")), el("td", {}, r.seed === null || r.seed === undefined ? "" : r.seed),
        el("td", {}, r.rules), el("td", {}, time(r.activated_at)),
        el("td", {}, el("button", { type: "button", onclick: () => showScenario(r.name) }, "Show"), " ",
          el("button", { type: "button", class: "danger deactivate", onclick: () => deactivate(r.name, r.tenant) }, "Deactivate")));
    }) : [el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No scenario is active: every request gets the normal answer."))]));
    const available = data.available || [];
    $("#scenarios-none").hidden = available.length > 0;
    $("#scenarios-available tbody").replaceChildren(...available.map((s) => el("tr", { dataset: { name: s.name } },
      el("td", {}, el("strong", {}, s.name)), el("td", {}, s.description || ""), el("td", {}, s.seed), el("td", {}, s.rules),
      el("td", {}, el("button", { type: "button", onclick: () => showScenario(s.name) }, "Show"), " ",
        el("button", { type: "button", class: "activate", onclick: () => activate({ name: s.name }) }, "Activate")))));
  }

  async function showScenario(name) {
    try {
      const data = await api("GET", "/scenarios/" + encodeURIComponent(name));
      $("#scenario-shown-title").textContent = name;
      $("#scenario-shown-title").hidden = false;
      $("#scenario-shown").textContent = pretty(data.scenario);
      $("#scenario-shown").hidden = false;
      $("#scenario-shown-title").scrollIntoView({ block: "start", behavior: "smooth" });
    } catch (e) { notice(e.message, true); }
  }

  async function activate(spec) {
    try {
      const body = { ...spec, ...scenarioArgs() };
      const r = await api("POST", "/scenarios", body);
      const s = r.scenario || {};
      notice(`Activated ${s.name}${s.tenant ? " for " + s.tenant : " globally"}${s.seed !== undefined && s.seed !== null ? " (seed " + s.seed + ")" : ""}`);
    } catch (e) {
      const detail = e.data && e.data.errors ? " — " + e.data.errors.map((x) => `${x.pointer || ""} ${x.reason || ""}`).join("; ") : "";
      notice("Activation failed: " + e.message + detail, true);
    }
    await loadScenarios();
  }

  async function deactivate(name, tenant) {
    try {
      await api("DELETE", "/scenarios" + (name ? "/" + encodeURIComponent(name) : "") + queryString({ tenant: tenant || "" }));
      notice(name ? `Deactivated ${name}` : "Deactivated all scenarios");
    } catch (e) { notice("Deactivation failed: " + e.message, true); }
    await loadScenarios();
  }

  $("#deactivate-all").addEventListener("click", () => deactivate(null, $("#scenario-form").elements.tenant.value.trim()));
  $("#activate-inline").addEventListener("click", () => {
    let definition;
    try { definition = JSON.parse($("#scenario-definition").value); } catch (e) {
      notice("The definition is not valid JSON: " + e.message, true);
      return;
    }
    activate(definition);
  });
  $("#scenario-form").addEventListener("submit", (ev) => ev.preventDefault());
  loaders.scenarios = loadScenarios;

  // -- webhooks ----------------------------------------------------------------------------------
  async function loadWebhooks() {
    const f = $("#webhook-filters");
    const data = await api("GET", "/webhooks" + queryString({ api: f.elements.api.value, status: f.elements.status.value }));
    const rows = data.webhooks || [];
    $("#webhooks-empty").hidden = rows.length > 0;
    $("#webhooks tbody").replaceChildren(...rows.map((w) => {
      const attempts = w.attempts || [];
      const last = attempts[attempts.length - 1];
      const lastText = last ? [last.status, last.error, last.duration_ms !== undefined ? last.duration_ms + " ms" : null]
        .filter((x) => x !== undefined && x !== null && x !== "").join(" · ") : "—";
      return el("tr", { onclick: () => { $("#webhook-detail").hidden = false; $("#webhook-detail").textContent = pretty(w); } },
        el("td", {}, time(w.created_at)), el("td", {}, w.api), el("td", {}, tenantCell(w.tenant)), el("td", {}, w.event),
        el("td", { class: "path" }, w.url), el("td", { class: w.status === "delivered" ? "s2" : w.status === "failed" ? "s5" : "" }, w.status),
        el("td", {}, attempts.length), el("td", {}, lastText));
    }));
  }
  $("#webhooks-refresh").addEventListener("click", () => loadWebhooks().catch((e) => notice(e.message, true)));
  $("#webhook-filters").addEventListener("change", () => loadWebhooks().catch((e) => notice(e.message, true)));
  $("#webhooks-deliver").addEventListener("click", async () => {
    try { const r = await api("POST", "/webhooks/deliver", {}); notice(`Attempted ${r.attempted} deliveries`); } catch (e) { notice(e.message, true); }
    loadWebhooks().catch((e) => notice(e.message, true));
  });
  loaders.webhooks = loadWebhooks;

  // -- data --------------------------------------------------------------------------------------
  async function loadData() {
    const f = $("#data-filters");
    const apiName = f.elements.api.value || state.apis[0];
    if (!apiName) return;
    const tenant = f.elements.tenant.value.trim();
    const data = await api("GET", "/data/" + encodeURIComponent(apiName) + queryString({ tenant }));
    const items = [];
    for (const [t, colls] of Object.entries(data.tenants || {})) {
      rememberTenant(t);
      items.push(el("li", { class: "tenant" }, "tenant ", tenantCell(t)));
      for (const [name, rows] of Object.entries(colls)) {
        const li = el("li", { dataset: { collection: name, tenant: t }, onclick: () => showCollection(apiName, t, name, rows, li) },
          name, " ", el("span", { class: "muted" }, `(${rows.length})`));
        items.push(li);
      }
    }
    $("#data-collections").replaceChildren(...(items.length ? items : [el("li", { class: "tenant" }, "nothing stored")]));
    $("#data-title").textContent = "";
    $("#data-view").textContent = "";
  }
  function showCollection(apiName, tenant, name, rows, li) {
    $$("#data-collections li").forEach((x) => x.classList.toggle("selected", x === li));
    $("#data-title").textContent = `${apiName} / ${tenant} / ${name} (${rows.length})`;
    $("#data-view").textContent = pretty(rows);
  }
  $("#data-refresh").addEventListener("click", () => loadData().catch((e) => notice(e.message, true)));
  $("#data-filters").addEventListener("change", () => loadData().catch((e) => notice(e.message, true)));
  $("#data-filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadData().catch((e) => notice(e.message, true)); });
  loaders.data = loadData;

  // -- violations --------------------------------------------------------------------------------
  async function loadViolations() {
    const data = await api("GET", "/violations");
    const rows = data.violations || [];
    $("#violations-empty").hidden = rows.length > 0;
    $("#violations tbody").replaceChildren(...rows.map((v) => el("tr", {},
      el("td", {}, v.seq), el("td", {}, v.direction), el("td", {}, v.api), el("td", {}, tenantCell(v.tenant)),
      el("td", { class: "path" }, `${v.method || ""} ${v.path || ""}`), el("td", {}, v.status === undefined ? "" : v.status),
      el("td", {}, el("ul", {}, (v.errors || []).map((x) => el("li", {},
        typeof x === "string" ? x : `${x.pointer || ""} ${x.reason || x.message || JSON.stringify(x)}`)))))));
  }
  $("#violations-refresh").addEventListener("click", () => loadViolations().catch((e) => notice(e.message, true)));
  $("#violations-clear").addEventListener("click", async () => {
    try { await api("DELETE", "/violations"); } catch (e) { notice(e.message, true); }
    loadViolations().catch((e) => notice(e.message, true));
  });
  loaders.violations = loadViolations;

  // -- start -------------------------------------------------------------------------------------
  async function start() {
    await loadHealth();
    try { learnTenants(await api("GET", "/credentials")); } catch (e) { /* ids alone */ }
    probeExport();
    const tab = (location.hash || "#journal").slice(1);
    showTab(loaders[tab] ? tab : "journal");
    if (tab !== "journal") pollJournal(false);
    setInterval(() => { if ($("#journal-filters").elements.live.checked && !document.hidden) pollJournal(false); }, POLL_MS);
    setInterval(loadHealth, 15000);
    // is the scenario engine there? (the tab says so when opened; this only loads it early)
    loadScenarios().catch(() => {});
  }
  start();
})();
