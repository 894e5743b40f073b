// Jarvis status page: reads /status/stream (Server-Sent Events over fetch, because EventSource
// cannot send an Authorization header) and renders each snapshot; operators get HALT,
// REDUCE ONLY and RESUME through POST /control. Data is only ever set as text, never as HTML.
"use strict";

const TOKEN_KEY = "jarvis.token";
const $ = (id) => document.getElementById(id);
let controller = null;
let retryMs = 1000;
let updates = 0;
const seenFills = new Set();

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

function setLink(state, text) {
  const el = $("link");
  el.className = "badge " + state;
  el.textContent = text;
  document.body.dataset.link = state;
}

function time(ns) {
  return ns ? new Date(Number(ns) / 1e6).toLocaleTimeString() : "";
}

function fillRows(tbodyId, items, columns, columnsCount, emptyText, decorate) {
  const body = $(tbodyId);
  body.replaceChildren();
  if (!items.length) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = columnsCount;
    cell.className = "empty";
    cell.textContent = emptyText;
    return;
  }
  for (const item of items) {
    const row = body.insertRow();
    for (const column of columns) {
      const cell = row.insertCell();
      const value = column(item);
      if (value instanceof Node) cell.append(value); else cell.textContent = value ?? "";
    }
    if (decorate) decorate(row, item);
  }
}

function badge(text, kind, title) {
  const el = document.createElement("span");
  el.className = "badge " + kind;
  el.textContent = text;
  if (title) el.title = title;
  return el;
}

function feedBadge(instrument) {
  const title = instrument.feed.map((f) => `${f.stream}: ${f.status} ${f.reason}`).join("\n");
  if (!instrument.feed.length) return badge("no streams", "unknown", title);
  if (instrument.feed_healthy) return badge("OK", "ok", title);
  const bad = instrument.feed.filter((f) => f.status !== "OK");
  return badge(bad.map((f) => `${f.status} ${f.stream}`).join(", "), "bad", title);
}

function render(status) {
  updates += 1;
  document.body.dataset.updates = String(updates);
  const mode = status.trading.mode;
  const trading = $("trading");
  trading.className = "badge " + mode;
  trading.textContent = mode;
  document.body.dataset.trading = mode;
  $("trading-reason").textContent = status.trading.reason || "";
  const engine = status.risk_engine || "UNKNOWN";
  const engineKind = { ACTIVE: "ok", REDUCING: "warn", HALTED: "bad" }[engine] || "unknown";
  $("risk-engine").className = "badge " + engineKind;
  $("risk-engine").textContent = `engine ${engine}`;
  document.body.dataset.riskEngine = engine;
  $("who").textContent = `${status.subject}${status.operator ? " (operator)" : ""}`;
  $("operator").hidden = !status.operator;
  $("updated").textContent = new Date(status.at_ms).toLocaleTimeString();

  fillRows("instruments", status.instruments, [
    (i) => i.instrument_id,
    (i) => i.mid,
    (i) => i.regime ?? "no controller",
    feedBadge,
  ], 4, "no instruments yet", (row, i) => {
    row.dataset.instrument = i.instrument_id;
    row.dataset.feedHealthy = String(i.feed_healthy);
  });
  fillRows("strategies", status.strategies, [
    (s) => s.strategy_id ?? "—",
    (s) => s.owner ?? "node",
    (s) => s.node_strategy_id,
    (s) => s.coin,
    (s) => s.state,
    (s) => s.component_state,
    (s) => s.rulebook_state,
    (s) => s.gate,
    (s) => s.realized_pnl_usd,
    (s) => s.unrealized_pnl_usd,
  ], 10, "no strategies", (row, s) => { row.dataset.strategy = s.node_strategy_id ?? s.strategy_id; });
  fillRows("positions", status.positions, [
    (p) => p.instrument_id, (p) => p.side, (p) => p.quantity, (p) => p.avg_px_open,
    (p) => p.unrealized_pnl_usd, (p) => p.node_strategy_id,
  ], 6, "no open positions");
  fillRows("orders", status.orders, [
    (o) => time(o.ts_last), (o) => o.client_order_id, (o) => o.instrument_id, (o) => o.side,
    (o) => o.type, (o) => o.status, (o) => o.quantity, (o) => o.filled_qty,
    (o) => o.node_strategy_id,
  ], 9, "no orders", (row, o) => { row.dataset.order = o.client_order_id; });
  const first = updates === 1;
  fillRows("fills", status.fills, [
    (f) => time(f.ts_event), (f) => f.client_order_id, (f) => f.instrument_id, (f) => f.side,
    (f) => f.px, (f) => f.qty, (f) => f.commission, (f) => f.node_strategy_id,
  ], 8, "no fills", (row, f) => {
    const key = `${f.client_order_id}/${f.ts_event}/${f.qty}`;
    row.dataset.fill = f.client_order_id;
    if (!seenFills.has(key) && !first) row.classList.add("fresh");
    seenFills.add(key);
  });
}

async function problem(response) {
  try {
    const body = await response.json();
    return body.detail || response.statusText;
  } catch (_) {
    return response.statusText;
  }
}

async function stream() {
  if (controller) controller.abort();
  controller = new AbortController();
  const current = controller;
  setLink("reconnecting", "connecting");
  let response;
  try {
    response = await fetch("/status/stream", {
      headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" },
      signal: current.signal,
      cache: "no-store",
    });
  } catch (err) {
    if (current.signal.aborted) return;
    return retry(`sidecar unreachable (${err.message})`);
  }
  if (response.status === 401 || response.status === 403) {
    showError(`token refused: ${await problem(response)}`);
    logout();
    return;
  }
  if (!response.ok) return retry(`status stream answered ${response.status}: ${await problem(response)}`);
  showError("");
  $("login").hidden = true;
  $("board").hidden = false;
  setLink("live", "live");
  retryMs = 1000;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (event === "status" && data.length) render(JSON.parse(data.join("\n")));
      }
    }
  } catch (err) {
    if (current.signal.aborted) return;
  }
  if (!current.signal.aborted) retry("status stream closed");
}

function retry(why) {
  setLink("reconnecting", `reconnecting: ${why}`);
  setTimeout(() => { if (token()) stream(); }, retryMs);
  retryMs = Math.min(retryMs * 2, 10000);
}

function logout() {
  if (controller) controller.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  $("board").hidden = true;
  $("login").hidden = false;
  setLink("unknown", "not connected");
}

async function control(mode) {
  const reason = $("reason").value.trim() || `${mode} from the status page`;
  $("control-result").textContent = `${mode}…`;
  try {
    const response = await fetch("/control", {
      method: "POST",
      headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
      body: JSON.stringify({ mode, reason }),
    });
    if (!response.ok) {
      $("control-result").textContent = `${mode} refused (${response.status}): ${await problem(response)}`;
      return;
    }
    const state = await response.json();
    $("control-result").textContent = `now ${state.mode}`;
  } catch (err) {
    $("control-result").textContent = `${mode} failed: sidecar unreachable (${err.message})`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    stream();
  });
  $("forget").addEventListener("click", logout);
  $("halt").addEventListener("click", () => control("HALT"));
  $("reduce-only").addEventListener("click", () => control("REDUCE_ONLY"));
  $("resume").addEventListener("click", () => control("RESUME"));
  if (token()) stream();
});
