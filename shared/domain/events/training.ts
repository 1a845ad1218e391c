import { z } from "zod";
import {
  currencySchema,
  gpuCountSchema,
  nonNegativeNanosSchema,
  ownerFields,
  placementFields,
} from "./common.ts";

export const TRAINING_V1 = "ai.cost.training.v1";

/** A year of wall-clock time: longer than any real job, short enough to catch unit mistakes (ms for s). */
export const MAX_JOB_SECONDS = 366 * 24 * 3600;

/**
 * One lifecycle event of a training job. `elapsed_seconds` is cumulative since the job started, so
 * events can arrive in any order: the job's cost up to an event is a function of that event alone.
 */
export const trainingDataSchema = z
  .object({
    ...ownerFields,
    job_id: z.string().trim().min(1).max(256),
    phase: z.enum(["started", "progress", "finished", "failed"]),
    ...placementFields,
    gpu_count: gpuCountSchema,
    epoch: z.number().int().nonnegative().optional(),
    elapsed_seconds: z.number().nonnegative().max(MAX_JOB_SECONDS),
    /** Cumulative cost up to this event, when the launcher knows it. */
    cost_nanos: nonNegativeNanosSchema.optional(),
    currency: currencySchema,
  })
  .superRefine((d, ctx) => {
    if (d.cost_nanos === undefined && d.instance_type === undefined && d.accelerator === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["instance_type"],
        message: "one of instance_type, accelerator or cost_nanos is required",
      });
    }
  });

export type TrainingData = z.infer<typeof trainingDataSchema>;
