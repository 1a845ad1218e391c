import { z } from "zod";
import {
  currencySchema,
  gpuCountSchema,
  MAX_GPU_SECONDS,
  nonNegativeNanosSchema,
  ownerFields,
  placementFields,
} from "./common.ts";

export const INFERENCE_V1 = "ai.cost.inference.v1";

const tokens = z.number().int().nonnegative().max(10_000_000);

export const inferenceDataSchema = z
  .object({
    ...ownerFields,
    model_version: ownerFields.model_version.unwrap(),
    business_unit: ownerFields.business_unit.unwrap(),
    ...placementFields,
    gpu_count: gpuCountSchema.optional(),
    gpu_seconds: z.number().nonnegative().max(MAX_GPU_SECONDS).optional(),
    /** Set for models served through a provider's API (priced per token). */
    provider: z.string().trim().min(1).max(64).optional(),
    input_tokens: tokens.optional(),
    cached_input_tokens: tokens.optional(),
    output_tokens: tokens.optional(),
    cache_hit: z.boolean().optional(),
    request_fingerprint: z.string().max(256).optional(),
    cost_nanos: nonNegativeNanosSchema.optional(),
    currency: currencySchema,
  })
  .superRefine((d, ctx) => {
    if (d.cost_nanos !== undefined) return;
    if (d.provider !== undefined) {
      if (d.input_tokens === undefined && d.output_tokens === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["input_tokens"],
          message: "provider events need token counts",
        });
      }
      return;
    }
    if (d.instance_type === undefined && d.accelerator === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["instance_type"],
        message: "one of instance_type, accelerator, provider or cost_nanos is required",
      });
    }
    if (d.gpu_seconds === undefined) {
      ctx.addIssue({ code: "custom", path: ["gpu_seconds"], message: "required to price a GPU request" });
    }
  });

export type InferenceData = z.infer<typeof inferenceDataSchema>;
