import { readFileSync } from "node:fs";
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandOutput,
  type Group,
} from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  billedLinesOfPage,
  createAwsCostExplorerBillingSource,
} from "#adapters/aws-cost-explorer/aws-cost-explorer-billing-source.ts";
import { BillingSourceError } from "#ports/billing-source.ts";

type Page = Omit<GetCostAndUsageCommandOutput, "$metadata">;

// The AWS CLI's documented GetCostAndUsage answer (monthly, GroupBy SERVICE then TAG Environment).
const fixture = (): Page =>
  JSON.parse(
    readFileSync(
      new URL("../fixtures/billing/get-cost-and-usage.monthly-groupby-service-tag.json", import.meta.url),
      "utf8",
    ),
  ) as Page;

/** The fixture as a daily page of our request: AmortizedCost added next to each UnblendedCost. */
function withAmortized(page: Page, amortized: readonly string[]): Page {
  let i = 0;
  for (const result of page.ResultsByTime ?? []) {
    for (const group of result.Groups ?? []) {
      const metrics = group.Metrics ?? {};
      metrics.AmortizedCost = { Amount: amortized[i++] ?? "0", Unit: "USD" };
      group.Metrics = metrics;
    }
  }
  return page;
}

function firstPage(): Page {
  const page = withAmortized(fixture(), ["38.1000000001", "0.2682364644"]);
  const result = page.ResultsByTime?.[0];
  if (result) result.TimePeriod = { Start: "2017-09-01", End: "2017-09-02" };
  page.NextPageToken = "page-2";
  return page;
}

/** A second page built from the same shape: the next day, one group. */
function secondPage(): Page {
  const page = fixture();
  const result = page.ResultsByTime?.[0];
  if (!result) throw new Error("fixture has no result");
  result.TimePeriod = { Start: "2017-09-02", End: "2017-09-03" };
  const group: Group = {
    Keys: ["Amazon Elastic Compute Cloud - Compute", "Environment$Prod"],
    Metrics: {
      UnblendedCost: { Amount: "1234.567890123", Unit: "USD" },
      AmortizedCost: { Amount: "1000", Unit: "USD" },
    },
  };
  result.Groups = [group];
  return page;
}

const ce = mockClient(CostExplorerClient);

describe("AWS Cost Explorer billing source", () => {
  beforeEach(() => ce.reset());

  it("asks once per page for daily unblended and amortized cost by tag and service, following NextPageToken", async () => {
    ce.on(GetCostAndUsageCommand).resolvesOnce(firstPage()).resolvesOnce(secondPage());
    const source = createAwsCostExplorerBillingSource({
      client: new CostExplorerClient({ region: "us-east-1" }),
      billingAccountId: "123456789012",
      groupByTag: "Environment",
    });

    const lines = await source.billedLines({ start: "2017-09-01", end: "2017-09-03" });

    const calls = ce.commandCalls(GetCostAndUsageCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input).toEqual({
      TimePeriod: { Start: "2017-09-01", End: "2017-09-03" },
      Granularity: "DAILY",
      Metrics: ["UnblendedCost", "AmortizedCost"],
      GroupBy: [
        { Type: "TAG", Key: "Environment" },
        { Type: "DIMENSION", Key: "SERVICE" },
      ],
    });
    expect(calls[1]?.args[0].input.NextPageToken).toBe("page-2");

    expect(lines).toEqual([
      {
        ChargePeriodStart: "2017-09-01",
        ChargePeriodEnd: "2017-09-02",
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: null,
        ProviderName: "AWS",
        BillingAccountId: "123456789012",
        SubAccountId: null,
        ServiceName: "Amazon Simple Storage Service",
        BilledCost: 40_354_377_313n,
        EffectiveCost: 38_100_000_000n,
        BillingCurrency: "USD",
        Tags: {},
        x_namespace: null,
        x_team: null,
        x_model: null,
        x_cost_center: null,
        x_environment: null,
      },
      expect.objectContaining({
        ServiceName: "Amazon Simple Storage Service",
        BilledCost: 268_236_464n,
        EffectiveCost: 268_236_464n,
        Tags: { Environment: "Dev" },
      }),
      expect.objectContaining({
        ChargePeriodStart: "2017-09-02",
        ChargePeriodEnd: "2017-09-03",
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: null,
        ServiceName: "Amazon Elastic Compute Cloud - Compute",
        BilledCost: 1_234_567_890_123n,
        EffectiveCost: 1_000_000_000_000n,
        Tags: { Environment: "Prod" },
      }),
    ]);
  });

  it("puts the team tag into x_team, and the untagged key gets no team", () => {
    const page: Page = {
      GroupDefinitions: [
        { Type: "TAG", Key: "team" },
        { Type: "DIMENSION", Key: "SERVICE" },
      ],
      ResultsByTime: [
        {
          TimePeriod: { Start: "2024-09-01", End: "2024-09-02" },
          Total: {},
          Estimated: true,
          Groups: [
            {
              Keys: ["team$ml-platform", "Amazon SageMaker"],
              Metrics: {
                UnblendedCost: { Amount: "0.1", Unit: "USD" },
                AmortizedCost: { Amount: "0.2", Unit: "USD" },
              },
            },
            {
              Keys: ["team$", "Amazon SageMaker"],
              Metrics: {
                UnblendedCost: { Amount: "3.06", Unit: "USD" },
                AmortizedCost: { Amount: "3.06", Unit: "USD" },
              },
            },
          ],
        },
      ],
    };
    const lines = billedLinesOfPage(page, { billingAccountId: "1" });
    expect(lines.map((l) => [l.x_team, l.Tags, l.BilledCost, l.EffectiveCost])).toEqual([
      ["ml-platform", { team: "ml-platform" }, 100_000_000n, 200_000_000n],
      [null, {}, 3_060_000_000n, 3_060_000_000n],
    ]);
    const byModel = billedLinesOfPage(
      {
        GroupDefinitions: [
          { Type: "DIMENSION", Key: "SERVICE" },
          { Type: "TAG", Key: "model" },
        ],
        ResultsByTime: [
          {
            TimePeriod: { Start: "2024-09-01", End: "2024-09-02" },
            Groups: [
              {
                Keys: ["Amazon Bedrock", "model$claude"],
                Metrics: {
                  UnblendedCost: { Amount: "1", Unit: "USD" },
                  AmortizedCost: { Amount: "1", Unit: "USD" },
                },
              },
            ],
          },
        ],
      },
      { billingAccountId: "1", groupByTag: "model" },
    );
    expect(byModel.map((l) => [l.ServiceName, l.x_model, l.x_team])).toEqual([
      ["Amazon Bedrock", "claude", null],
    ]);
  });

  it("rejects a page without the amortized metric it asked for (the raw CLI example has none)", async () => {
    ce.on(GetCostAndUsageCommand).resolves(fixture());
    const source = createAwsCostExplorerBillingSource({
      billingAccountId: "1",
      groupByTag: "Environment",
      client: new CostExplorerClient({}),
    });
    await expect(source.billedLines({ start: "2017-09-01", end: "2017-10-01" })).rejects.toMatchObject({
      name: "BillingSourceError",
      code: "invalid",
    });
  });

  it("maps throttling to unavailable and access denied to invalid, and checks the period before calling", async () => {
    const source = createAwsCostExplorerBillingSource({
      billingAccountId: "1",
      client: new CostExplorerClient({}),
    });
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $fault: "client",
      $metadata: {},
    });
    const denied = Object.assign(new Error("denied"), {
      name: "AccessDeniedException",
      $fault: "client",
      $metadata: {},
    });
    ce.on(GetCostAndUsageCommand).rejectsOnce(throttled).rejectsOnce(denied);
    await expect(source.billedLines({ start: "2024-09-01", end: "2024-09-02" })).rejects.toMatchObject({
      code: "unavailable",
    });
    await expect(source.billedLines({ start: "2024-09-01", end: "2024-09-02" })).rejects.toMatchObject({
      code: "invalid",
    });
    const calls = ce.commandCalls(GetCostAndUsageCommand).length;
    await expect(source.billedLines({ start: "2024-09-02", end: "2024-09-02" })).rejects.toBeInstanceOf(
      BillingSourceError,
    );
    expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(calls);
  });
});
