import { z } from "zod";

/** Integer nano-units as a decimal string (JSON cannot carry int64 exactly) or a safe JSON integer. */
export const nanosSchema = z
  .union([
    z.string().regex(/^-?\d{1,30}$/, "must be an integer count of nano-units"),
    z.number().int().safe(),
  ])
  .transform((v) => BigInt(v));

export const nonNegativeNanosSchema = nanosSchema.refine((v) => v >= 0n, "must not be negative");

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
  .default("USD");

const name = (max = 128) => z.string().trim().min(1, "must not be empty").max(max);

/** Who owns a cost. team/model are required where the event type says so; the rest is optional. */
export const ownerFields = {
  team: name(),
  model: name(),
  model_version: name().optional(),
  business_unit: name().optional(),
  cost_center: name().optional(),
  environment: name(64).optional(),
  namespace: name(253).optional(),
  labels: z.record(z.string().max(128), z.string().max(256)).optional(),
};

export const cloudSchema = z.enum(["gcp", "aws", "azure", "other"]);
export const pricingModelSchema = z.enum(["on_demand", "spot"]);

/** Placement of a workload: how the catalog finds its hourly rate. */
export const placementFields = {
  cloud: cloudSchema.optional(),
  region: name(64).optional(),
  instance_type: name(64).optional(),
  accelerator: name(64).optional(),
  pricing_model: pricingModelSchema.default("on_demand"),
};

/** One GPU-second of one month is about 2.6e6; a week-long single request is absurd. */
export const MAX_GPU_SECONDS = 7 * 24 * 3600;
export const gpuCountSchema = z.number().positive().max(64);
