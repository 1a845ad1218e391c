import { z } from "zod";
import { cloudSchema, currencySchema, nonNegativeNanosSchema, ownerFields } from "./common.ts";
import { windowSchema } from "./window.ts";

export const ALLOCATION_V1 = "ai.cost.allocation.v1";

export const costComponentsSchema = z
  .object({
    gpu: nonNegativeNanosSchema.default(0n),
    cpu: nonNegativeNanosSchema.default(0n),
    ram: nonNegativeNanosSchema.default(0n),
    pv: nonNegativeNanosSchema.default(0n),
    network: nonNegativeNanosSchema.default(0n),
    other: nonNegativeNanosSchema.default(0n),
  })
  .strict();

/** A cost that another system (Kubecost/OpenCost) allocated to an owner for a window. */
export const allocationDataSchema = z.object({
  ...ownerFields,
  model: ownerFields.model.optional(),
  cluster: z.string().trim().min(1).max(128),
  cloud: cloudSchema.optional(),
  region: z.string().max(64).optional(),
  window: windowSchema,
  components: costComponentsSchema,
  gpu_hours: z.number().nonnegative().optional(),
  currency: currencySchema,
});

export type AllocationData = z.infer<typeof allocationDataSchema>;
