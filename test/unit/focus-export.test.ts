import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCsvRecord, parseCsv } from "#adapters/focus-file/csv.ts";
import { DIMENSIONS } from "#domain/cost-row.ts";
import { FIXED_V1, INFERENCE_V1, TRAINING_V1 } from "#domain/events/cloud-event.ts";
import {
  type AttributedCost,
  type CostPart,
  type ExportLine,
  type Owners,
  splitIntoLines,
} from "#domain/focus-export/export-lines.ts";
import {
  billingPeriod,
  chargePeriod,
  FOCUS_EXPORT_COLUMNS,
  type FocusExportSettings,
  toFocusRow,
} from "#domain/focus-export/focus-row.ts";

const USD = 1_000_000_000n;
const DAY = new Date("2026-11-24T00:00:00Z");
const SETTINGS: FocusExportSettings = {
  granularity: "day",
  from: new Date("2026-11-23T06:00:00Z"),
  to: new Date("2026-11-25T06:00:00Z"),
  billingAccountId: "acct-1",
  billingAccountName: "AI platform",
};

const owners = (overrides: Partial<Owners> = {}): Owners => ({
  team: "applied-nlp",
  model: "chat-assistant",
  model_version: "2025-05",
  business_unit: "research",
  cost_center: "CC-3010",
  namespace: "applied-nlp",
  environment: "training",
  cloud: "gcp",
  ...overrides,
});

const line = (overrides: Partial<ExportLine> = {}): ExportLine => ({
  periodStart: DAY,
  owners: owners(),
  currency: "USD",
  cost_nanos: 12n * USD,
  event_type: TRAINING_V1,
  job_id: "chat-finetune-20261124t0115-328b",
  region: "us-central1",
  ...overrides,
});

/** The FOCUS 1.2 column list (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec v1.2, specification/columns). */
const spec = parseCsv(
  readFileSync(new URL("../fixtures/billing/focus-1.2-columns.csv", import.meta.url), "utf8"),
)
  .slice(1)
  .map(([id, , , level, nulls]) => ({
    id: id?.text ?? "",
    mandatory: level?.text === "Mandatory",
    nullable: nulls?.text === "True",
  }));

describe("FOCUS export columns", () => {
  it("are FOCUS 1.2 columns, with every mandatory one, and our own prefixed x_", () => {
    const known = new Set(spec.map((c) => c.id));
    const ours = FOCUS_EXPORT_COLUMNS.filter((c) => !known.has(c));
    expect(ours.every((c) => c.startsWith("x_"))).toBe(true);
    expect(ours).toEqual(DIMENSIONS.map((d) => `x_${d}`).concat("x_training_job"));
    const missing = spec.filter(
      (c) => c.mandatory && !(FOCUS_EXPORT_COLUMNS as readonly string[]).includes(c.id),
    );
    expect(missing).toEqual([]);
  });

  it("fill every column the spec does not allow to be null, and the usage quantity", () => {
    const notNull = spec.filter((c) => !c.nullable).map((c) => c.id);
    for (const row of [
      toFocusRow(line(), SETTINGS),
      toFocusRow(
        line({ event_type: FIXED_V1, job_id: null, region: null, owners: owners({ cloud: null }) }),
        SETTINGS,
      ),
      toFocusRow(line({ event_type: null, job_id: null, owners: owners({ model_version: null }) }), SETTINGS),
    ]) {
      const empty = FOCUS_EXPORT_COLUMNS.filter((c) => notNull.includes(c) && row[c] === null);
      expect(empty).toEqual([]);
      expect(row).toMatchObject({ ChargeCategory: "Usage", ServiceCategory: "AI and Machine Learning" });
      expect(row.PricingQuantity).not.toBeNull();
      expect(row.PricingUnit).toBe("Hours");
      expect([
        "Generative AI",
        "Machine Learning",
        "AI Platforms",
        "Natural Language Processing",
        "Bots",
        "Other (AI and Machine Learning)",
      ]).toContain(row.ServiceSubcategory);
    }
  });
});

describe("a line as a FOCUS row", () => {
  it("names the training job as the resource and carries every dimension in Tags and x_ columns", () => {
    const row = toFocusRow(line(), SETTINGS);
    expect(row).toMatchObject({
      BilledCost: "12",
      EffectiveCost: "12",
      ListCost: "12",
      ContractedCost: "12",
      BillingAccountId: "acct-1",
      BillingAccountName: "AI platform",
      BillingCurrency: "USD",
      ChargePeriodStart: "2026-11-24T00:00:00Z",
      ChargePeriodEnd: "2026-11-25T00:00:00Z",
      BillingPeriodStart: "2026-11-01T00:00:00Z",
      BillingPeriodEnd: "2026-12-01T00:00:00Z",
      PricingQuantity: "24",
      ProviderName: "Google Cloud",
      PublisherName: "Google Cloud",
      InvoiceIssuerName: "Google Cloud",
      ServiceName: "Model Training",
      ChargeFrequency: "Usage-Based",
      ResourceId: "chat-finetune-20261124t0115-328b",
      ResourceType: "Training Job",
      RegionId: "us-central1",
      SubAccountId: "applied-nlp",
      x_training_job: "chat-finetune-20261124t0115-328b",
      x_cost_center: "CC-3010",
    });
    expect(row.ChargeDescription).toBe(
      "Training job chat-finetune-20261124t0115-328b of chat-assistant 2025-05 by applied-nlp (research)",
    );
    expect(JSON.parse(row.Tags ?? "")).toEqual({
      team: "applied-nlp",
      model: "chat-assistant",
      model_version: "2025-05",
      business_unit: "research",
      cost_center: "CC-3010",
      namespace: "applied-nlp",
      environment: "training",
      training_job: "chat-finetune-20261124t0115-328b",
    });
  });

  it("names a model version for inference, and no provider where the cost names no cloud", () => {
    const inference = toFocusRow(
      line({ event_type: INFERENCE_V1, job_id: null, region: null, owners: owners({ cloud: "aws" }) }),
      SETTINGS,
    );
    expect(inference).toMatchObject({
      ResourceId: "chat-assistant@2025-05",
      ResourceType: "Model",
      ProviderName: "AWS",
    });
    const fixed = toFocusRow(
      line({
        event_type: FIXED_V1,
        job_id: null,
        region: null,
        owners: owners({ cloud: null, model: null }),
      }),
      SETTINGS,
    );
    expect(fixed).toMatchObject({
      ResourceId: null,
      ProviderName: "Unspecified",
      ChargeFrequency: "Recurring",
    });
    expect(JSON.parse(fixed.Tags ?? "")).not.toHaveProperty("model");
  });

  it("cuts a day's charge period to the exported range; an hour is an hour", () => {
    const first = new Date("2026-11-23T00:00:00Z");
    expect(chargePeriod(first, SETTINGS)).toEqual({ start: SETTINGS.from, end: DAY });
    expect(chargePeriod(new Date("2026-11-25T00:00:00Z"), SETTINGS)).toEqual({
      start: new Date("2026-11-25T00:00:00Z"),
      end: SETTINGS.to,
    });
    const hour = new Date("2026-11-24T13:00:00Z");
    expect(chargePeriod(hour, { ...SETTINGS, granularity: "hour" })).toEqual({
      start: hour,
      end: new Date("2026-11-24T14:00:00Z"),
    });
    expect(toFocusRow(line({ periodStart: first }), SETTINGS).PricingQuantity).toBe("18");
    expect(billingPeriod(new Date("2026-12-31T23:00:00Z"))).toEqual({
      start: new Date("2026-12-01T00:00:00Z"),
      end: new Date("2027-01-01T00:00:00Z"),
    });
  });
});

const cost = (nanos: bigint, o: Owners = owners()): AttributedCost => ({
  periodStart: DAY,
  owners: o,
  currency: "USD",
  cost_nanos: nanos,
});
const part = (event_type: string, job_id: string | null, weight: bigint, o: Owners = owners()): CostPart => ({
  periodStart: DAY,
  owners: o,
  currency: "USD",
  event_type,
  job_id,
  region: job_id === null ? null : "us-central1",
  weight_nanos: weight,
});

describe("splitting the view's figures by what they are made of", () => {
  it("splits an owner's cost over its event types and jobs in proportion, every nano kept", () => {
    const lines = splitIntoLines(
      [cost(10n * USD + 1n)],
      [
        part(TRAINING_V1, "job-b", 1n * USD),
        part(TRAINING_V1, "job-a", 3n * USD),
        part(INFERENCE_V1, null, 1n * USD),
      ],
    );
    expect(lines.map((l) => [l.event_type, l.job_id, l.cost_nanos])).toEqual([
      [INFERENCE_V1, null, 2n * USD],
      [TRAINING_V1, "job-a", 6n * USD + 1n],
      [TRAINING_V1, "job-b", 2n * USD],
    ]);
  });

  it("keeps a cost without parts whole, gives one whose parts weigh nothing to the first, drops zeros", () => {
    const alone = owners({ team: "idle" });
    expect(splitIntoLines([cost(5n, alone)], [])).toEqual([
      { ...cost(5n, alone), event_type: null, job_id: null, region: null },
    ]);
    const lines = splitIntoLines([cost(7n)], [part(TRAINING_V1, "b", 0n), part(TRAINING_V1, "a", -3n)]);
    expect(lines.map((l) => [l.job_id, l.cost_nanos])).toEqual([["a", 7n]]);
    expect(splitIntoLines([cost(0n)], [part(INFERENCE_V1, null, 5n)])).toEqual([]);
  });

  it("conserves every owner's cost, whatever the parts (property)", () => {
    const teams = ["a", "b", "c"];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...teams), fc.bigInt(-(10n ** 12n), 10n ** 12n)), { maxLength: 6 }),
        fc.array(
          fc.tuple(
            fc.constantFrom(...teams),
            fc.constantFrom(INFERENCE_V1, TRAINING_V1, FIXED_V1),
            fc.option(fc.constantFrom("j1", "j2", "j3"), { nil: null }),
            fc.bigInt(-(10n ** 9n), 10n ** 12n),
          ),
          { maxLength: 12 },
        ),
        (costSpecs, partSpecs) => {
          // One cost per team, as the view has one row per owner and period.
          const costs = [...new Map(costSpecs).entries()].map(([team, nanos]) =>
            cost(nanos, owners({ team })),
          );
          const parts = partSpecs.map(([team, type, job, weight]) =>
            part(type, job, weight, owners({ team })),
          );
          const lines = splitIntoLines(costs, parts);
          for (const c of costs) {
            const mine = lines.filter((l) => l.owners.team === c.owners.team);
            expect(mine.reduce((sum, l) => sum + l.cost_nanos, 0n)).toBe(c.cost_nanos);
            expect(mine.every((l) => l.cost_nanos !== 0n)).toBe(true);
          }
        },
      ),
    );
  });
});

describe("the CSV writer beside the importer's reader", () => {
  it("writes what parseCsv reads back: texts as texts (quotes, commas, line breaks, NULL, empty), nulls as nulls", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.option(fc.oneof(fc.string(), fc.constantFrom("", "NULL", 'a,"b"\r\nc')), { nil: null }),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          { minLength: 1, maxLength: 5 },
        ),
        (records) => {
          // A record of one null is an empty line, which is a record of one empty field: still null.
          const parsed = parseCsv(records.map(formatCsvRecord).join(""));
          const read = parsed.map((r) => r.map((f) => (!f.quoted && f.text === "" ? null : f.text)));
          expect(read).toEqual(records);
        },
      ),
    );
  });
});
