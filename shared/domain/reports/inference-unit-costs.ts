import { divRound, type Nanos } from "../money.ts";
import type { ReportRecord, ReportTable } from "../report-format.ts";

/** A model's inference over a range: what the inference_unit_costs query sums. */
export interface InferenceUsage {
  model: string;
  currency: string;
  requests: number;
  /** Null when none of the model's requests reported tokens. */
  input_tokens: number | null;
  output_tokens: number | null;
  cost_nanos: Nanos;
}

export interface UnitCosts {
  /** cost × 1,000 / requests, rounded half away from zero to the nano; null without requests. */
  per_1k_requests_nanos: Nanos | null;
  /** cost × 1,000,000 / (input + output tokens), rounded likewise; null without tokens. */
  per_million_tokens_nanos: Nanos | null;
}

/** Exact unit costs from exact sums: the division happens once, on the totals, never per request. */
export function unitCosts(usage: {
  requests: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_nanos: Nanos;
}): UnitCosts {
  const tokens = BigInt(usage.input_tokens ?? 0) + BigInt(usage.output_tokens ?? 0);
  return {
    per_1k_requests_nanos:
      usage.requests > 0 ? divRound(usage.cost_nanos * 1000n, BigInt(usage.requests)) : null,
    per_million_tokens_nanos: tokens > 0n ? divRound(usage.cost_nanos * 1_000_000n, tokens) : null,
  };
}

/**
 * Cost per 1,000 requests and per million tokens by model, with the counts behind them. The TOTAL
 * lines give the same unit costs over all models of a currency.
 */
export function inferenceTable(usage: readonly InferenceUsage[]): ReportTable {
  return {
    columns: [
      { key: "model", kind: "text" },
      { key: "currency", kind: "text" },
      { key: "requests", kind: "count" },
      { key: "input_tokens", heading: "input tokens", kind: "count" },
      { key: "output_tokens", heading: "output tokens", kind: "count" },
      { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount" },
      {
        key: "per_1k_requests_nanos",
        heading: "per 1k requests",
        kind: "money",
        amountKey: "per_1k_requests",
        digits: 4,
      },
      {
        key: "per_million_tokens_nanos",
        heading: "per 1M tokens",
        kind: "money",
        amountKey: "per_million_tokens",
        digits: 4,
      },
    ],
    rows: usage.map((u) => ({ ...u, ...unitCosts(u) })),
    totals: currencyTotals(usage),
  };
}

/**
 * Per currency, over all models: the counts, the cost, cost per 1,000 requests, and cost per million
 * tokens over the models that reported tokens (a model without tokens would inflate it).
 */
function currencyTotals(usage: readonly InferenceUsage[]): ReportRecord[] {
  const totals = new Map<string, InferenceUsage & { token_cost_nanos: Nanos }>();
  const add = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);
  for (const u of usage) {
    const t = totals.get(u.currency) ?? {
      model: "",
      currency: u.currency,
      requests: 0,
      input_tokens: null,
      output_tokens: null,
      cost_nanos: 0n,
      token_cost_nanos: 0n,
    };
    const reportsTokens = (u.input_tokens ?? 0) + (u.output_tokens ?? 0) > 0;
    totals.set(u.currency, {
      ...t,
      requests: t.requests + u.requests,
      input_tokens: add(t.input_tokens, u.input_tokens),
      output_tokens: add(t.output_tokens, u.output_tokens),
      cost_nanos: t.cost_nanos + u.cost_nanos,
      token_cost_nanos: t.token_cost_nanos + (reportsTokens ? u.cost_nanos : 0n),
    });
  }
  return [...totals.values()].map(({ model: _, token_cost_nanos, ...t }) => ({
    ...t,
    per_1k_requests_nanos: unitCosts(t).per_1k_requests_nanos,
    per_million_tokens_nanos: unitCosts({ ...t, cost_nanos: token_cost_nanos }).per_million_tokens_nanos,
  }));
}
