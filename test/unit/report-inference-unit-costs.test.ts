import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTable } from "#domain/report-format.ts";
import { type InferenceUsage, inferenceTable, unitCosts } from "#domain/reports/inference-unit-costs.ts";

const usage = (overrides: Partial<InferenceUsage>): InferenceUsage => ({
  model: "chat",
  currency: "USD",
  requests: 1000,
  input_tokens: 600_000,
  output_tokens: 400_000,
  cost_nanos: 2_000_000_000n,
  ...overrides,
});

describe("unitCosts", () => {
  it("divides the exact sums once, rounding half away from zero to the nano", () => {
    expect(unitCosts(usage({}))).toEqual({
      per_1k_requests_nanos: 2_000_000_000n,
      per_million_tokens_nanos: 2_000_000_000n,
    });
    // 1 nano over 3 requests: 333.33… nanos per 1,000, 0.333… nanos per token × 1e6.
    expect(unitCosts(usage({ requests: 3, input_tokens: 2, output_tokens: 1, cost_nanos: 1n }))).toEqual({
      per_1k_requests_nanos: 333n,
      per_million_tokens_nanos: 333_333n,
    });
    expect(unitCosts(usage({ requests: 2000, cost_nanos: 1n })).per_1k_requests_nanos).toBe(1n);
  });

  it("has no unit cost without requests or tokens", () => {
    expect(unitCosts(usage({ requests: 0, input_tokens: null, output_tokens: null }))).toEqual({
      per_1k_requests_nanos: null,
      per_million_tokens_nanos: null,
    });
    expect(unitCosts(usage({ input_tokens: 0, output_tokens: null })).per_million_tokens_nanos).toBeNull();
  });

  it("times the requests gives back the cost to within half a nano per 1,000", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (cost, n) => {
          const per1k = unitCosts(usage({ requests: n, cost_nanos: cost })).per_1k_requests_nanos as bigint;
          const error = per1k * BigInt(n) - cost * 1000n;
          expect(2n * (error < 0n ? -error : error)).toBeLessThanOrEqual(BigInt(n));
        },
      ),
    );
  });
});

describe("inferenceTable", () => {
  it("gives each model's counts and unit costs, and TOTAL lines over all models", () => {
    // Prepare: a GPU-served model without tokens must not dilute the cost per million tokens.
    const table = inferenceTable([
      usage({}),
      usage({
        model: "ranker",
        requests: 3000,
        input_tokens: null,
        output_tokens: null,
        cost_nanos: 900_000_000n,
      }),
    ]);

    // Act
    const json = JSON.parse(formatTable(table, "json")) as Record<string, unknown>[];
    const text = formatTable(table, "table");

    // Assess
    expect(json[1]).toEqual({
      model: "ranker",
      currency: "USD",
      requests: 3000,
      input_tokens: null,
      output_tokens: null,
      cost_nanos: "900000000",
      amount: "0.9",
      per_1k_requests_nanos: "300000000",
      per_1k_requests: "0.3",
      per_million_tokens_nanos: null,
      per_million_tokens: null,
    });
    expect(table.totals).toEqual([
      {
        currency: "USD",
        requests: 4000,
        input_tokens: 600_000,
        output_tokens: 400_000,
        cost_nanos: 2_900_000_000n,
        per_1k_requests_nanos: 725_000_000n,
        per_million_tokens_nanos: 2_000_000_000n,
      },
    ]);
    expect(text.trimEnd().split("\n").at(-1)).toMatch(
      /^TOTAL\s+4,000\s+600,000\s+400,000\s+2\.90 USD\s+0\.7250 USD\s+2\.0000 USD$/,
    );
  });
});
