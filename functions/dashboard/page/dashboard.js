// The dashboard page: reads the selection from the URL and the form, asks data?… for the charts and
// data/budget, data/reconciliation, data/scorecard for the slower panels, and draws each as it
// comes. No framework; Chart.js draws, tables.js writes the table behind each chart.

import * as charts from "./charts.js";
import { formatDay, formatMoney, formatPercent, formatTime } from "./format.js";
import { renderTable } from "./tables.js";

const DIMENSIONS = ["team", "model", "business_unit"];
const DAY_MS = 86_400_000;
const form = document.getElementById("filters");
const budgetSelect = document.getElementById("budget-select");
let request = 0;

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const addDays = (day, n) => isoDay(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);

/** The inclusive dates of a range preset, in UTC. */
function presetRange(preset, today = isoDay(Date.now())) {
  if (preset === "month") return { from: `${today.slice(0, 8)}01`, to: today };
  if (preset === "last-month") {
    const first = `${today.slice(0, 8)}01`;
    const last = addDays(first, -1);
    return { from: `${last.slice(0, 8)}01`, to: last };
  }
  return { from: addDays(today, 1 - Number(preset)), to: today };
}

/** The selection: the form's values, or the URL's on first load. */
function selection() {
  const data = new FormData(form);
  const state = Object.fromEntries(DIMENSIONS.map((d) => [d, data.get(d) ?? ""]));
  return {
    ...state,
    from: data.get("from"),
    to: data.get("to"),
    preset: data.get("preset"),
    budget: budgetSelect.value,
  };
}

function restoreFromUrl() {
  const params = new URLSearchParams(location.search);
  for (const d of DIMENSIONS) {
    const value = params.get(d) ?? "";
    const select = form.elements[d];
    if (value && ![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
    select.value = value;
  }
  const preset = params.get("preset") ?? (params.get("from") ? "custom" : "30");
  form.elements.preset.value = preset;
  const range =
    preset === "custom" ? { from: params.get("from"), to: params.get("to") } : presetRange(preset);
  form.elements.from.value = range.from ?? "";
  form.elements.to.value = range.to ?? range.from ?? "";
  if (params.get("budget"))
    budgetSelect.add(new Option(params.get("budget"), params.get("budget"), true, true));
}

/** The page's own URL for a selection (shareable), and the data query (its `to` is exclusive). */
function queries(state) {
  const page = new URLSearchParams();
  const api = new URLSearchParams();
  for (const d of DIMENSIONS) {
    if (state[d]) {
      page.set(d, state[d]);
      api.set(d, state[d]);
    }
  }
  page.set("preset", state.preset);
  if (state.preset === "custom") {
    page.set("from", state.from);
    page.set("to", state.to);
  }
  api.set("from", state.from);
  api.set("to", addDays(state.to, 1));
  if (state.budget) {
    page.set("budget", state.budget);
    api.set("budget", state.budget);
  }
  return { page, api };
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = message === "";
}

/** Shows a section's chart and table, or its message when it has nothing to show. */
function sectionState(canvasId, message) {
  const section = document.getElementById(canvasId).closest("section");
  const empty = section.querySelector(".empty");
  section.querySelector(".chart").hidden = message !== null;
  section.querySelector("details").hidden = message !== null;
  empty.hidden = message === null;
  if (message !== null) {
    charts.clear(canvasId);
    if (message !== "") empty.textContent = message;
  }
}

function fillOptions(options, filters) {
  for (const d of DIMENSIONS) {
    const select = form.elements[d];
    const first = select.options[0];
    const values = new Set(options[d]);
    if (filters[d]) values.add(filters[d]);
    select.replaceChildren(first, ...[...values].sort().map((v) => new Option(v, v)));
    select.value = filters[d] ?? "";
  }
}

function renderDaily(canvasId, tableId, data, series, what) {
  if (series.length === 0) {
    sectionState(canvasId, "");
    return;
  }
  sectionState(canvasId, null);
  charts.stackedDaily(canvasId, data.days, series, data.currency);
  const canvas = document.getElementById(canvasId);
  canvas.setAttribute(
    "aria-label",
    `Daily spend by ${what}, ${series.length} series; highest ${series[0].name} at ${formatMoney(series[0].total, data.currency)}`,
  );
  renderTable(document.getElementById(tableId), {
    caption: `Daily spend by ${what} (${data.currency})`,
    columns: [{ label: "Day" }, ...series.map((s) => ({ label: s.name, numeric: true }))],
    rows: [
      ...data.days.map((day, i) => [
        formatDay(day),
        ...series.map((s) => formatMoney(s.daily[i], data.currency)),
      ]),
      [{ text: "Total", className: "strong" }, ...series.map((s) => formatMoney(s.total, data.currency))],
    ],
  });
}

/** "business unit consumer and model vision-tagger": the filters the page has set, in words. */
function filterWords() {
  const state = selection();
  const parts = DIMENSIONS.filter((d) => state[d]).map((d) => `${d.replace("_", " ")} ${state[d]}`);
  return parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

const capitalized = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** "$2,016.74 reconciled against the bill (2 days, to Dec 6) and $2,200.07 still an estimate (calibrated)". */
function basisWords(basis, currency) {
  if (basis === null) return "";
  const estimate = `${formatMoney(basis.estimate, currency)} still an estimate${basis.calibrated ? " (calibrated)" : ""}`;
  if (basis.reconciled_to === null) return `: nothing reconciled against a bill yet, ${estimate}`;
  const days = `${basis.reconciled_days} day${basis.reconciled_days === 1 ? "" : "s"}, to ${formatDay(basis.reconciled_to)}`;
  return `: ${formatMoney(basis.reconciled, currency)} reconciled against the bill (${days}) and ${estimate}`;
}

function renderBudget(panel) {
  const { list, burn_down: burn } = panel;
  budgetSelect.replaceChildren(
    ...list.map(
      (b) =>
        new Option(
          b.selection && !b.selection.narrowed && !b.selection.whole
            ? `${b.name} (${b.selection.note})`
            : b.name,
          b.name,
        ),
    ),
  );
  budgetSelect.disabled = list.length < 2;
  const summary = document.getElementById("budget-summary");
  const note = document.getElementById("budget-note");
  const card = document.getElementById("chart-budget").closest("section");
  const kpi = document.getElementById("kpi-budget");
  if (burn === null) {
    summary.textContent = "";
    note.hidden = true;
    card.classList.remove("unnarrowed");
    sectionState(
      "chart-budget",
      "No budget concerns this selection. Add one to the configuration's budgets.",
    );
    kpi.textContent = "none";
    kpi.className = "kpi-value";
    return;
  }
  budgetSelect.value = burn.name;
  sectionState("chart-budget", null);
  const c = burn.currency;
  // A budget the filters cannot narrow is the whole scope's: greyed, unless all its spend is the selection's.
  const open = burn.selection !== null && !burn.selection.narrowed;
  const wider = open && !burn.selection.whole;
  card.classList.toggle("unnarrowed", wider);
  note.hidden = !open;
  note.textContent = !open
    ? ""
    : wider
      ? `${capitalized(burn.selection.note)}: its spend is the whole ${burn.kind_text}'s, not the selection's. ` +
        `Of it, ${formatMoney(burn.selection.spend, c)} is ${filterWords()} this period.`
      : `${capitalized(burn.selection.note)}, but all of its spend this period is ${filterWords()}.`;
  summary.textContent =
    `${burn.name} (${burn.kind_text} for ${burn.scope_text}, owner ${burn.owner}, ${burn.period.kind} from ${burn.period.label}): ` +
    `${formatMoney(burn.spend, c)} of ${formatMoney(burn.amount, c)}, ${formatPercent(burn.percent)} used` +
    `${basisWords(burn.basis, c)}; ` +
    `forecast ${formatMoney(burn.forecast.amount, c)} (${formatPercent(burn.forecast.percent)}) by the period's end ` +
    `(as of ${formatTime(panel.as_of)}).`;
  kpi.textContent = `${formatPercent(burn.percent)} of ${burn.name}${wider ? ` (${burn.kind_text}, not narrowed)` : ""}`;
  kpi.className = `kpi-value ${wider ? "unnarrowed" : burn.percent >= 100 ? "over" : burn.percent >= 80 ? "near" : ""}`;
  charts.burnDown("chart-budget", burn, {
    greyed: wider,
    selectionLabel: wider ? `of which ${filterWords()}` : null,
  });
  document
    .getElementById("chart-budget")
    .setAttribute(
      "aria-label",
      `Budget burn-down. ${wider ? `${note.textContent} ` : ""}${summary.textContent}`,
    );
  const columns = [{ label: "Day" }, { label: "Spend to date", numeric: true }];
  const reconciled = burn.basis?.reconciled_to ? burn.cumulative_reconciled : null;
  if (reconciled) columns.push({ label: "Of which reconciled", numeric: true });
  if (burn.cumulative_selection) columns.push({ label: `Of which ${filterWords()}`, numeric: true });
  const blanks = columns.length - 2;
  renderTable(document.getElementById("table-budget"), {
    caption: `${burn.name}: spend since the period began`,
    columns,
    rows: burn.days
      .map((day, i) => ({ day, i }))
      .filter(({ i }) => burn.cumulative[i] !== null)
      .map(({ day, i }) => [
        formatDay(day),
        formatMoney(burn.cumulative[i], c),
        ...(reconciled ? [formatMoney(reconciled[i], c)] : []),
        ...(burn.cumulative_selection ? [formatMoney(burn.cumulative_selection[i], c)] : []),
      ])
      .concat([
        ["Forecast at period end", formatMoney(burn.forecast.amount, c), ...Array(blanks).fill("")],
        ...burn.thresholds.map((t) => [
          `${t.percent}% threshold`,
          formatMoney(t.amount, c),
          ...Array(blanks).fill(""),
        ]),
      ]),
  });
}

function renderTopModels(data) {
  const top = data.top_models;
  if (top.length === 0) {
    sectionState("chart-top-models", "");
    return;
  }
  sectionState("chart-top-models", null);
  charts.horizontalBars(
    "chart-top-models",
    top.map((m) => m.model),
    [{ label: "Cost", amounts: top.map((m) => m.cost) }],
    data.currency,
  );
  renderTable(document.getElementById("table-top-models"), {
    caption: `Top models by cost (${data.currency})`,
    columns: [{ label: "Model" }, { label: "Cost", numeric: true }, { label: "Share", numeric: true }],
    rows: top.map((m) => [m.model, formatMoney(m.cost, data.currency), formatPercent(m.share_percent)]),
  });
}

function renderAlerts(data) {
  const container = document.getElementById("alerts");
  if (data.alerts.items.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "No alerts in this range.";
    container.replaceChildren(p);
    return;
  }
  renderTable(container, {
    caption: "Alerts delivered in the range, newest first",
    columns: [
      { label: "When" },
      { label: "Severity" },
      { label: "Kind" },
      { label: "About", wrap: true },
      { label: "Channel", wrap: true },
    ],
    rows: data.alerts.items.map((a) => {
      // An alert the filters cannot narrow is the whole scope's: shown greyed, saying so.
      const greyed = a.not_narrowed === null ? "" : " unnarrowed";
      return [
        { text: formatTime(a.delivered_at), className: greyed },
        { text: a.severity, className: `sev ${a.severity}${greyed}` },
        { text: a.kind, className: greyed },
        { text: a.not_narrowed === null ? a.about : `${a.about} (${a.not_narrowed})`, className: greyed },
        { text: a.action === "updated" ? `${a.channel} (updated)` : a.channel, className: greyed },
      ];
    }),
  });
}

function renderReconciliation(panel) {
  const summary = document.getElementById("recon-summary");
  if (panel.status !== "ok") {
    summary.textContent = "";
    sectionState("chart-recon", panel.note);
    return;
  }
  sectionState("chart-recon", null);
  const c = panel.currency;
  summary.textContent =
    `Estimated ${formatMoney(panel.estimated, c)}, billed ${formatMoney(panel.billed, c)}: ` +
    `drift ${formatMoney(panel.drift, c)}${panel.drift_percent === null ? "" : ` (${panel.drift_percent}%)`}.` +
    (panel.note ? ` ${panel.note}` : "");
  charts.groupedDaily(
    "chart-recon",
    panel.days.map((d) => d.day),
    [
      { label: "Estimated", amounts: panel.days.map((d) => d.estimated) },
      { label: "Billed", amounts: panel.days.map((d) => d.billed) },
    ],
    c,
  );
  renderTable(document.getElementById("table-recon"), {
    caption: "Largest drifts (billed − estimated)",
    columns: [
      { label: "Day" },
      { label: "Key", wrap: true },
      { label: "Drift", numeric: true },
      { label: "Status" },
    ],
    rows: panel.largest.map((r) => [
      formatDay(r.day),
      r.label,
      `${formatMoney(r.drift, c)}${r.drift_percent === null ? "" : ` (${r.drift_percent}%)`}`,
      r.status,
    ]),
  });
}

function renderScorecard(panel) {
  const summary = document.getElementById("score-summary");
  if (panel.status !== "ok" || panel.models.length === 0) {
    summary.textContent = "";
    sectionState("chart-score", panel.note ?? "No scorecard yet for this selection.");
    return;
  }
  sectionState("chart-score", null);
  const c = panel.currency;
  summary.textContent = `Monthly savings if each model takes its levers, combined (they compose, they do not add).${panel.note ? ` ${panel.note}` : ""}`;
  charts.horizontalBars(
    "chart-score",
    panel.models.map((m) => m.model),
    [
      { label: "Monthly cost", amounts: panel.models.map((m) => m.monthly_cost), colour: "#9A9A9A" },
      {
        label: "Combined monthly savings",
        amounts: panel.models.map((m) => m.combined_savings),
        colour: "#009E73",
      },
    ],
    c,
  );
  renderTable(document.getElementById("table-score"), {
    caption: "Savings per lever, highest return first",
    columns: [
      { label: "Model" },
      { label: "Lever" },
      { label: "Monthly savings", numeric: true },
      { label: "Percent", numeric: true },
      { label: "Risk" },
      { label: "ROI (weeks)", numeric: true },
    ],
    rows: panel.models.flatMap((m) => [
      ...m.levers.map((l) => [
        m.model,
        l.lever,
        formatMoney(l.monthly_savings, c),
        `${l.percent}%`,
        l.risk,
        l.roi_weeks === null ? "–" : String(l.roi_weeks),
      ]),
      [
        m.model,
        { text: "combined", className: "strong" },
        formatMoney(m.combined_savings, c),
        `${m.combined_percent}%`,
        "",
        "",
      ],
    ]),
  });
}

function renderOverview(data) {
  fillOptions(data.options, data.filters);
  const parts = DIMENSIONS.filter((d) => data.filters[d]).map(
    (d) => `${d.replace("_", " ")} ${data.filters[d]}`,
  );
  const lastDay = isoDay(Date.parse(data.range.to) - 1);
  document.getElementById("subtitle").textContent =
    `${formatDay(data.days[0])} – ${formatDay(lastDay)} (UTC) · ${parts.length === 0 ? "whole organization" : parts.join(" · ")}` +
    ` · ${data.currency}${data.other_currencies.length > 0 ? ` (not shown: ${data.other_currencies.join(", ")})` : ""}` +
    ` · as of ${formatTime(data.generated_at)}`;
  document.getElementById("kpi-total").textContent = formatMoney(data.total, data.currency);
  document.getElementById("kpi-team").textContent = data.spend_by_team[0]
    ? `${data.spend_by_team[0].name} · ${formatMoney(data.spend_by_team[0].total, data.currency, 0)}`
    : "–";
  document.getElementById("kpi-model").textContent = data.top_models[0]
    ? `${data.top_models[0].model} · ${formatPercent(data.top_models[0].share_percent)}`
    : "–";
  renderDaily("chart-team", "table-team", data, data.spend_by_team, "team");
  renderDaily("chart-model", "table-model", data, data.spend_by_model, "model");
  renderTopModels(data);
  renderAlerts(data);
}

/** The page's parts: where each one's data comes from, how it is drawn, and the section it fills. */
const PARTS = [
  { path: "data", render: renderOverview, section: null },
  { path: "data/budget", render: renderBudget, section: "chart-budget" },
  { path: "data/reconciliation", render: renderReconciliation, section: "chart-recon" },
  { path: "data/scorecard", render: renderScorecard, section: "chart-score" },
];

/** Asks for one part and draws it, unless a newer selection was asked for meanwhile. */
async function loadPart(part, api, mine) {
  const section = part.section && document.getElementById(part.section).closest("section");
  section?.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(new URL(`${part.path}?${api}`, document.baseURI), {
      headers: { accept: "application/json" },
    });
    const body = await res.json();
    if (mine !== request) return;
    if (!res.ok) throw new Error(body.error ?? `the data request failed (${res.status})`);
    part.render(body);
  } finally {
    if (mine === request) section?.setAttribute("aria-busy", "false");
  }
}

async function load() {
  const state = selection();
  if (!state.from || !state.to || state.from > state.to) {
    showError("Pick a range whose start is on or before its end.");
    return;
  }
  const { page, api } = queries(state);
  history.replaceState(null, "", `${location.pathname}?${page}`);
  const main = document.getElementById("main");
  main.setAttribute("aria-busy", "true");
  const mine = ++request;
  const results = await Promise.allSettled(PARTS.map((part) => loadPart(part, api, mine)));
  if (mine !== request) return;
  const failed = results.find((r) => r.status === "rejected");
  showError(failed ? `Could not load the data: ${failed.reason.message}` : "");
  main.setAttribute("aria-busy", "false");
}

form.addEventListener("change", (event) => {
  const { name } = event.target;
  if (name === "preset" && event.target.value !== "custom") {
    const range = presetRange(event.target.value);
    form.elements.from.value = range.from;
    form.elements.to.value = range.to;
  }
  if (name === "from" || name === "to") form.elements.preset.value = "custom";
  if (DIMENSIONS.includes(name)) budgetSelect.value = "";
  load();
});
budgetSelect.addEventListener("change", load);
document.getElementById("reset").addEventListener("click", () => {
  for (const d of DIMENSIONS) form.elements[d].value = "";
  form.elements.preset.value = "30";
  const range = presetRange("30");
  form.elements.from.value = range.from;
  form.elements.to.value = range.to;
  budgetSelect.value = "";
  load();
});

restoreFromUrl();
if (document.readyState === "loading") addEventListener("DOMContentLoaded", load);
else load();
