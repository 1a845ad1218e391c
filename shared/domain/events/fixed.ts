import { z } from "zod";
import { cloudSchema, currencySchema, nonNegativeNanosSchema, ownerFields } from "./common.ts";
import { windowSchema } from "./window.ts";

export const FIXED_V1 = "ai.cost.fixed.v1";

/**
 * How a fixed cost reaches owners: `owner` (default) charges the event's team; `usage` shares each
 * hour's amortized cost among the owners that used something that hour (only the event's model's
 * users when it names a model), in proportion to their cost; `shares` splits it by fixed weights
 * per team.
 */
export const fixedAllocationSchema = z.union([
  z.enum(["owner", "usage"]),
  z
    .object({
      shares: z
        .record(z.string().trim().min(1).max(128), z.number().int().positive().max(1_000_000))
        .refine((s) => Object.keys(s).length > 0, "at least one team")
        .refine((s) => Object.keys(s).length <= 50, "at most 50 teams"),
    })
    .strict(),
]);

/** A fixed cost (licence, platform fee) for a period, amortized evenly over the period's hours. */
export const fixedDataSchema = z.object({
  ...ownerFields,
  model: ownerFields.model.optional(),
  description: z.string().trim().min(1).max(256),
  cloud: cloudSchema.optional(),
  period: windowSchema,
  cost_nanos: nonNegativeNanosSchema,
  currency: currencySchema,
  allocate: fixedAllocationSchema.default("owner"),
});

export type FixedData = z.infer<typeof fixedDataSchema>;
