import { z } from "zod";
import { cloudSchema, currencySchema, nonNegativeNanosSchema, ownerFields } from "./common.ts";
import { windowSchema } from "./window.ts";

export const FIXED_V1 = "ai.cost.fixed.v1";

/** A fixed cost (licence, platform fee) for a period, amortized evenly over the period's hours. */
export const fixedDataSchema = z.object({
  ...ownerFields,
  model: ownerFields.model.optional(),
  description: z.string().trim().min(1).max(256),
  cloud: cloudSchema.optional(),
  period: windowSchema,
  cost_nanos: nonNegativeNanosSchema,
  currency: currencySchema,
});

export type FixedData = z.infer<typeof fixedDataSchema>;
