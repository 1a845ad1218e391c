import {
  CostExplorerClient,
  type Expression,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandInput,
  type GetCostAndUsageCommandOutput,
  type GroupDefinition,
  type MetricValue,
} from "@aws-sdk/client-cost-explorer";
import { type BilledLine, ownerColumns } from "#domain/billing/billed-line.ts";
import type { OwnerMapping } from "#domain/billing/owner-mapping.ts";
import { decimalToNanos, MoneyFormatError } from "#domain/money.ts";
import {
  type BillingPeriod,
  type BillingSource,
  BillingSourceError,
  checkBillingPeriod,
} from "#ports/billing-source.ts";
import {
  type GoogleWebIdentityOptions,
  googleWebIdentityCredentials,
  WebIdentityCredentialsError,
} from "./google-web-identity-credentials.ts";

export interface AwsCostExplorerBillingSourceOptions {
  /** Defaults to a client for us-east-1, Cost Explorer's only endpoint. */
  client?: CostExplorerClient;
  /**
   * The default client's credentials: a role assumed with the runtime's Google identity (web identity
   * federation) when set, else the default credential chain.
   */
  webIdentity?: GoogleWebIdentityOptions;
  /** The payer (management) account the costs are billed to: FOCUS BillingAccountId. */
  billingAccountId: string;
  /**
   * The cost allocation tag to group by besides SERVICE (Cost Explorer takes at most two GroupBy):
   * "team" by default, or "model". Its value lands in Tags and so in x_team / x_model.
   */
  groupByTag?: string;
  /** Narrows the query (linked accounts, a cost category); passed through as the request's Filter. */
  filter?: Expression;
  /** Which tags name the owner columns (the grouped tag lands in Tags under its key). */
  ownerMapping?: OwnerMapping;
  /** Stops a runaway pagination (every page is a billed request, $0.01). */
  maxPages?: number;
}

const BILLED_METRIC = "UnblendedCost";
const EFFECTIVE_METRIC = "AmortizedCost";

/** The GetCostAndUsage request for a period: daily, both cost metrics, grouped by tag and service. */
export function costAndUsageRequest(
  period: BillingPeriod,
  options: Pick<AwsCostExplorerBillingSourceOptions, "groupByTag" | "filter">,
  nextPageToken?: string,
): GetCostAndUsageCommandInput {
  return {
    TimePeriod: { Start: period.start, End: period.end },
    Granularity: "DAILY",
    Metrics: [BILLED_METRIC, EFFECTIVE_METRIC],
    GroupBy: [
      { Type: "TAG", Key: options.groupByTag ?? "team" },
      { Type: "DIMENSION", Key: "SERVICE" },
    ],
    ...(options.filter ? { Filter: options.filter } : {}),
    ...(nextPageToken ? { NextPageToken: nextPageToken } : {}),
  };
}

/** Throttling, server faults and transport failures may pass; the rest will fail the same way again. */
function toSourceError(error: unknown): BillingSourceError {
  if (error instanceof WebIdentityCredentialsError) {
    return new BillingSourceError(error.transient ? "unavailable" : "invalid", error.message, {
      cause: error,
    });
  }
  const e = error as { name?: string; message?: string; $fault?: string; $metadata?: unknown };
  const transient =
    e.$fault === "server" ||
    e.$metadata === undefined ||
    [
      "ThrottlingException",
      "LimitExceededException",
      "DataUnavailableException",
      "RequestChangedException",
    ].includes(e.name ?? "");
  return new BillingSourceError(
    transient ? "unavailable" : "invalid",
    `Cost Explorer GetCostAndUsage failed: ${e.name ?? "Error"}: ${e.message ?? String(error)}`,
    { cause: error },
  );
}

function amount(
  metric: MetricValue | undefined,
  name: string,
  where: string,
): { nanos: bigint; unit: string } {
  if (metric?.Amount === undefined) throw new BillingSourceError("invalid", `${where}: no ${name}`);
  try {
    return { nanos: decimalToNanos(metric.Amount), unit: metric.Unit ?? "" };
  } catch (cause) {
    if (cause instanceof MoneyFormatError)
      throw new BillingSourceError("invalid", `${where}: ${name} ${cause.message}`, { cause });
    throw cause;
  }
}

/** Where the tag and the service sit in each group's Keys: as the response defines them, else as asked. */
function keyPositions(
  definitions: readonly GroupDefinition[],
  tagKey: string,
): { tag: number; service: number } {
  const tag = definitions.findIndex((d) => d.Type === "TAG" && d.Key === tagKey);
  const service = definitions.findIndex((d) => d.Type === "DIMENSION" && d.Key === "SERVICE");
  if (tag < 0 || service < 0) {
    throw new BillingSourceError(
      "invalid",
      `response groups by ${JSON.stringify(definitions)}, not TAG ${tagKey} and SERVICE`,
    );
  }
  return { tag, service };
}

/**
 * The billed lines of one GetCostAndUsage page. TAG keys come back as "<tagKey>$<value>";
 * "<tagKey>$" is the untagged cost and gets no tag.
 */
export function billedLinesOfPage(
  page: GetCostAndUsageCommandOutput | Omit<GetCostAndUsageCommandOutput, "$metadata">,
  options: Pick<AwsCostExplorerBillingSourceOptions, "billingAccountId" | "groupByTag" | "ownerMapping">,
): BilledLine[] {
  const tagKey = options.groupByTag ?? "team";
  const requested: GroupDefinition[] = [
    { Type: "TAG", Key: tagKey },
    { Type: "DIMENSION", Key: "SERVICE" },
  ];
  const positions = keyPositions(page.GroupDefinitions?.length ? page.GroupDefinitions : requested, tagKey);
  const lines: BilledLine[] = [];
  for (const result of page.ResultsByTime ?? []) {
    const start = result.TimePeriod?.Start;
    const end = result.TimePeriod?.End;
    if (!start || !end) throw new BillingSourceError("invalid", "a result has no TimePeriod");
    for (const group of result.Groups ?? []) {
      const keys = group.Keys ?? [];
      const where = `${start} ${JSON.stringify(keys)}`;
      const tagged = keys[positions.tag] ?? "";
      const service = keys[positions.service];
      if (service === undefined) throw new BillingSourceError("invalid", `${where}: no SERVICE key`);
      const prefix = `${tagKey}$`;
      const tagValue = tagged.startsWith(prefix) ? tagged.slice(prefix.length) : tagged;
      const tags: Record<string, string> = tagValue === "" ? {} : { [tagKey]: tagValue };
      const billed = amount(group.Metrics?.[BILLED_METRIC], BILLED_METRIC, where);
      const effective = amount(group.Metrics?.[EFFECTIVE_METRIC], EFFECTIVE_METRIC, where);
      if (billed.unit !== effective.unit) {
        throw new BillingSourceError(
          "invalid",
          `${where}: ${BILLED_METRIC} in ${billed.unit}, ${EFFECTIVE_METRIC} in ${effective.unit}`,
        );
      }
      lines.push({
        ChargePeriodStart: start,
        ChargePeriodEnd: end,
        // Grouped by tag and service, Cost Explorer says nothing of the record type: all of it is
        // the day's cost (AmortizedCost spreads upfront fees over the days they cover).
        ChargeCategory: "Usage",
        ChargeClass: null,
        ChargeFrequency: null,
        ProviderName: "AWS",
        BillingAccountId: options.billingAccountId,
        SubAccountId: null,
        ServiceName: service,
        BilledCost: billed.nanos,
        EffectiveCost: effective.nanos,
        BillingCurrency: billed.unit,
        Tags: tags,
        ...ownerColumns(tags, "AWS", options.ownerMapping),
      });
    }
  }
  return lines;
}

/**
 * A BillingSource over AWS Cost Explorer GetCostAndUsage: one daily query with UnblendedCost
 * (BilledCost) and AmortizedCost (EffectiveCost), grouped by one cost allocation tag and SERVICE,
 * following NextPageToken. Each page is a billed request, so it asks for both metrics at once.
 */
export function createAwsCostExplorerBillingSource(
  options: AwsCostExplorerBillingSourceOptions,
): BillingSource {
  const client =
    options.client ??
    new CostExplorerClient({
      region: "us-east-1",
      ...(options.webIdentity ? { credentials: googleWebIdentityCredentials(options.webIdentity) } : {}),
    });
  const maxPages = options.maxPages ?? 100;
  return {
    async billedLines(period) {
      checkBillingPeriod(period);
      const lines: BilledLine[] = [];
      let token: string | undefined;
      for (let pages = 0; ; pages++) {
        if (pages >= maxPages) {
          throw new BillingSourceError("invalid", `GetCostAndUsage still paginating after ${maxPages} pages`);
        }
        let page: GetCostAndUsageCommandOutput;
        try {
          page = await client.send(new GetCostAndUsageCommand(costAndUsageRequest(period, options, token)));
        } catch (error) {
          throw toSourceError(error);
        }
        lines.push(...billedLinesOfPage(page, options));
        token = page.NextPageToken;
        if (!token) return lines;
      }
    },
  };
}
