// murakkab live dashboard: polls /v1/dashboard/state and renders tables and small SVG line charts.
// No libraries, no network beyond this server. Each chart keeps the numbers it draws in
// data-values (JSON) so what is on screen can be checked against the API.
"use strict";

const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(250, Number(params.get("refresh")) || 2000);
const SVGNS = "http://www.w3.org/2000/svg";
let lastState = null;

function fmt(v, digits) {
  if (v === null || v === undefined) return "–";
  if (typeof v !== "number") return String(v);
  return v.toLocaleString("en-US", {maximumFractionDigits: digits === undefined ? 3 : digits});
}

function el(tag, attrs, text) {
  const e = document.createElementNS(tag === "svg" || attrs && attrs.svg ? SVGNS : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs || {})) if (k !== "svg") e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// A line chart of one series of bins (oldest first, `binS` wall seconds each): a y axis with 0, half
// and max in `unit`, a time axis with ticks every quarter of the window in seconds before now.
function lineChart(svg, values, color, binS, unit) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  const pad = {l: 52, r: 10, t: 8, b: 32};
  const max = Math.max(1e-9, ...values);
  const n = values.length;
  const x = i => pad.l + (n > 1 ? i / (n - 1) : 0) * (w - pad.l - pad.r);
  const y = v => h - pad.b - (v / max) * (h - pad.t - pad.b);
  const axis = {svg: 1, stroke: "#999"};
  svg.appendChild(el("line", {...axis, x1: pad.l, y1: h - pad.b, x2: w - pad.r, y2: h - pad.b}));
  svg.appendChild(el("line", {...axis, x1: pad.l, y1: pad.t, x2: pad.l, y2: h - pad.b}));
  for (const f of [0, 0.5, 1]) {
    svg.appendChild(el("text", {svg: 1, x: pad.l - 4, y: y(f * max) + 3, "font-size": 10, "text-anchor": "end"},
                       fmt(f * max, 2)));
  }
  svg.appendChild(el("text", {svg: 1, x: 2, y: pad.t + 2, "font-size": 9, fill: "#555"}, unit));
  // bin i covers [now - (n - i) binS, now - (n - i - 1) binS): label its end
  const ticks = [...new Set([0, Math.round((n - 1) / 4), Math.round((n - 1) / 2), Math.round(3 * (n - 1) / 4), n - 1])];
  for (const i of ticks) {
    const ago = (n - 1 - i) * binS;
    svg.appendChild(el("line", {...axis, x1: x(i), y1: h - pad.b, x2: x(i), y2: h - pad.b + 4}));
    svg.appendChild(el("text", {svg: 1, class: "tick", x: x(i), y: h - pad.b + 14, "font-size": 10,
                                "text-anchor": i === 0 ? "start" : (i === n - 1 ? "end" : "middle")},
                       ago === 0 ? "now" : `-${fmt(ago, 0)} s`));
  }
  svg.appendChild(el("text", {svg: 1, x: (pad.l + w - pad.r) / 2, y: h - 2, "font-size": 9, fill: "#555",
                              "text-anchor": "middle"}, "wall-clock seconds before now"));
  const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  svg.appendChild(el("polyline", {svg: 1, points: pts, fill: "none", stroke: color, "stroke-width": 2}));
  svg.dataset.values = JSON.stringify(values);
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows.map(cells => {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (c && typeof c === "object") { td.textContent = c.text; if (c.cls) td.className = c.cls; }
      else td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }));
  return body;
}

function stepLine(s) {
  if (s.skipped) return `${s.task} · skipped`;
  const pools = (s.pools || []).map(p => p.split("|").slice(-2).join("|")).join(",");
  return `${s.task} · ${s.model || s.kind} · ${pools} · ${s.calls} · ${fmt(s.latency_s, 3)} · ` +
         `${s.tokens_in}/${s.tokens_out} · ${fmt(s.energy_wh, 4)} · ${fmt(s.cost_usd, 5)}`;
}

function render(st) {
  lastState = st;
  document.body.dataset.refreshedUnix = String(st.now_unix);
  const plan = st.plan;
  document.getElementById("plan").textContent = plan
    ? `plan v${plan.version} ${plan.plan_id} · ${plan.policy} · objective ${plan.objective} · PUE ${plan.pue}`
    : "no plan deployed";
  const t = st.totals;
  const n = Object.values(t.requests_by_status).reduce((a, b) => a + b, 0);
  document.getElementById("t-requests").textContent =
    `${n} (${Object.entries(t.requests_by_status).map(([k, v]) => `${v} ${k}`).join(", ") || "none"})`;
  document.getElementById("t-energy").textContent = fmt(t.energy_wh, 4);
  document.getElementById("t-power").textContent = t.power_w === null ? "unknown" : fmt(t.power_w, 0);
  document.getElementById("t-instances").textContent = fmt(st.pools.reduce((a, p) => a + p.ready, 0), 0);
  const perModelS = st.time_scale === 1 ? "" : " (model time)";
  lineChart(document.getElementById("chart-rate"), st.series.arrivals_rps, "#1f77b4", st.series.bin_s,
            `req/s${perModelS}`);
  lineChart(document.getElementById("chart-power"), st.series.attributed_power_w, "#d62728", st.series.bin_s, "W");
  document.getElementById("scale").textContent = st.time_scale === 1 ? "" :
    `Simulated backends run at time scale ${st.time_scale}: 1 wall-clock second is ${fmt(1 / st.time_scale, 3)} ` +
    "model seconds. Rates and power are per model second, the time energy is accounted in.";
  fillTable("pools", st.pools.map(p => [p.pool, p.model || "", `${p.units_per_instance}x${p.hardware}`,
    p.operating_point, p.backend, p.planned, p.desired, p.ready, p.provisioning, p.draining,
    `${p.load} / ${p.slots}`, p.power_w === null ? "unknown" : fmt(p.power_w, 0)]));
  fillTable("tiers", st.tiers.map(r => [r.workflow, r.tier, r.slo, fmt(r.rate_rps, 3), r.finished, r.met,
    r.attainment === null ? "–" : {text: `${(100 * r.attainment).toFixed(1)}%`, cls: r.attainment >= 0.99 ? "good" : "bad"}]));
  const body = fillTable("jobs", st.recent.map(j => [j.id, j.workflow, j.tier,
    {text: j.status, cls: j.status === "completed" ? "good" : (j.status === "failed" ? "bad" : "")},
    fmt(j.latency_s, 3), fmt(j.energy_wh, 4), fmt(j.cost_usd, 5),
    {text: j.error ? j.error : j.steps.map(stepLine).join("\n"), cls: "steps"}]));
  [...body.rows].forEach((tr, i) => { tr.dataset.job = st.recent[i].id; tr.dataset.energyWh = String(st.recent[i].energy_wh); });
  document.getElementById("window").textContent = `(jobs finished in the last ${st.window_s} s)`;
  document.getElementById("basis").textContent = `Power: ${t.power_basis}. Energy: ${t.energy_basis}.`;
}

async function refresh() {
  const key = sessionStorage.getItem("murakkab-key");
  const status = document.getElementById("status");
  try {
    const r = await fetch("/v1/dashboard/state", {headers: key ? {Authorization: `Bearer ${key}`} : {}});
    if (r.status === 401 || r.status === 403) {
      document.getElementById("login").hidden = false;
      status.textContent = `the API needs an admin key (HTTP ${r.status})`;
      return;
    }
    if (!r.ok) { status.textContent = `state request failed: HTTP ${r.status}`; return; }
    document.getElementById("login").hidden = true;
    render(await r.json());
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    status.textContent = `server unreachable (${e.message}); retrying`;
  }
}

document.getElementById("login").addEventListener("submit", ev => {
  ev.preventDefault();
  sessionStorage.setItem("murakkab-key", document.getElementById("key").value.trim());
  refresh();
});

refresh();
setInterval(refresh, REFRESH_MS);
