// Chart.js charts of the page (Chart.js is the UMD build, a global served from this origin).
// Each chart keeps the exact amounts beside the plotted numbers, for its tooltips.

import { formatCompact, formatDay, formatMoney, toNumber } from "./format.js";

/** Colour-blind-safe series colours (Okabe-Ito first), each readable on white; grey for "others". */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#8C6D31",
  "#6B6ECF",
];
const OTHERS = "#9A9A9A";
const INK = "#1F2933";
const GRID = "#E4E7EB";

const charts = new Map();

function draw(canvasId, config) {
  charts.get(canvasId)?.destroy();
  const { Chart } = globalThis;
  Chart.defaults.color = INK;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  const chart = new Chart(document.getElementById(canvasId), {
    ...config,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      ...config.options,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } }, ...config.options?.plugins },
    },
  });
  charts.set(canvasId, chart);
  return chart;
}

/** Removes a chart whose section has nothing to show. */
export function clear(canvasId) {
  charts.get(canvasId)?.destroy();
  charts.delete(canvasId);
}

const moneyTooltip = (currency) => ({
  callbacks: {
    label: (item) => {
      const exact = item.dataset.amounts?.[item.dataIndex];
      return `${item.dataset.label}: ${exact == null ? "–" : formatMoney(exact, currency)}`;
    },
  },
});

const moneyAxis = (currency, extra = {}) => ({
  beginAtZero: true,
  grid: { color: GRID },
  ticks: { callback: (value) => formatCompact(value, currency) },
  ...extra,
});

/** Daily spend, one stacked bar per day, one colour per series. */
export function stackedDaily(canvasId, days, series, currency) {
  return draw(canvasId, {
    type: "bar",
    data: {
      labels: days.map(formatDay),
      datasets: series.map((s, i) => ({
        label: s.name,
        data: s.daily.map(toNumber),
        amounts: s.daily,
        backgroundColor: s.others === undefined ? PALETTE[i % PALETTE.length] : OTHERS,
        stack: "spend",
      })),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { x: { stacked: true, grid: { display: false } }, y: moneyAxis(currency, { stacked: true }) },
      plugins: { tooltip: moneyTooltip(currency) },
    },
  });
}

/**
 * Spend to date against the budget's thresholds, and the forecast to the period's end; the part
 * reconciled against a bill beneath it, and, for a budget the filters cannot narrow (`greyed`), its
 * whole spend in grey with the selection's part in colour.
 */
export function burnDown(canvasId, budget, { greyed = false, selectionLabel = null } = {}) {
  const { currency, days, cumulative, thresholds } = budget;
  const todayIndex = days.indexOf(budget.today);
  const forecast = days.map((_, i) =>
    i === todayIndex ? cumulative[i] : i === days.length - 1 ? budget.forecast.amount : null,
  );
  const thresholdColour = (percent) =>
    greyed ? "#9AA5B1" : percent >= 100 ? "#B42318" : percent >= 80 ? "#B54708" : "#667085";
  const line = (label, amounts, style) => ({
    label,
    data: amounts.map(toNumber),
    amounts,
    pointRadius: 0,
    ...style,
  });
  const datasets = [
    line(greyed ? "Budget's spend to date (whole scope)" : "Spend to date", cumulative, {
      borderColor: greyed ? OTHERS : PALETTE[0],
      backgroundColor: greyed ? "rgba(154, 154, 154, 0.12)" : "rgba(0, 114, 178, 0.15)",
      fill: "origin",
      borderWidth: 3,
    }),
  ];
  if (budget.cumulative_reconciled && budget.basis?.reconciled_to) {
    datasets.push(
      line("of which reconciled against the bill", budget.cumulative_reconciled, {
        borderColor: greyed ? "#7B8794" : PALETTE[2],
        backgroundColor: greyed ? "rgba(123, 135, 148, 0.18)" : "rgba(0, 158, 115, 0.25)",
        fill: "origin",
        borderWidth: 1,
      }),
    );
  }
  if (budget.cumulative_selection && selectionLabel) {
    datasets.push(
      line(selectionLabel, budget.cumulative_selection, { borderColor: PALETTE[0], borderWidth: 3 }),
    );
  }
  datasets.push(
    line(`Forecast (${budget.forecast.method})`, forecast, {
      borderColor: greyed ? OTHERS : PALETTE[3],
      borderDash: [6, 4],
      spanGaps: true,
      pointRadius: (ctx) => (ctx.raw === null ? 0 : 3),
      borderWidth: 2,
    }),
    ...thresholds.map((t) =>
      line(
        `${t.percent}% · ${formatMoney(t.amount, currency, 0)}`,
        days.map(() => t.amount),
        {
          borderColor: thresholdColour(t.percent),
          borderDash: [2, 3],
          borderWidth: t.percent === 100 ? 2 : 1,
        },
      ),
    ),
  );
  return draw(canvasId, {
    type: "line",
    data: { labels: days.map(formatDay), datasets },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { x: { grid: { display: false } }, y: moneyAxis(currency) },
      plugins: { tooltip: moneyTooltip(currency) },
    },
  });
}

/** Horizontal bars, largest first: top models, scorecard savings. */
export function horizontalBars(canvasId, labels, datasets, currency) {
  return draw(canvasId, {
    type: "bar",
    data: {
      labels,
      datasets: datasets.map((d, i) => ({
        label: d.label,
        data: d.amounts.map(toNumber),
        amounts: d.amounts,
        backgroundColor: d.colour ?? PALETTE[i % PALETTE.length],
        maxBarThickness: 28,
      })),
    },
    options: {
      indexAxis: "y",
      scales: { x: moneyAxis(currency), y: { grid: { display: false } } },
      plugins: {
        tooltip: moneyTooltip(currency),
        legend: { display: datasets.length > 1, position: "bottom" },
      },
    },
  });
}

/** Side-by-side bars per day (estimated against billed). */
export function groupedDaily(canvasId, days, datasets, currency) {
  return draw(canvasId, {
    type: "bar",
    data: {
      labels: days.map(formatDay),
      datasets: datasets.map((d, i) => ({
        label: d.label,
        data: d.amounts.map(toNumber),
        amounts: d.amounts,
        backgroundColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { x: { grid: { display: false } }, y: moneyAxis(currency) },
      plugins: { tooltip: moneyTooltip(currency) },
    },
  });
}
