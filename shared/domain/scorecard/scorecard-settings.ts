import { z } from "zod";
import { decimalToNanos, type Nanos } from "#domain/money.ts";

const effortWeeks = (weeks: number) => z.number().positive().max(52).default(weeks);

/**
 * The `scorecard` section of the configuration file: what the optimization scorecard cannot
 * measure and takes from here instead (each value shows up in the scorecard's assumptions).
 */
export const scorecardSettingsSchema = z
  .object({
    /** Days of data behind a scorecard unless a caller asks for another window. */
    windowDays: z.number().int().min(1).max(400).default(30),
    /** Loaded cost of one engineer-week, a decimal string in the cost's currency: prices each lever's effort. */
    engineerWeekCost: z
      .string()
      .regex(/^\d{1,9}(\.\d{1,9})?$/, 'must be a decimal string such as "5000"')
      .default("5000"),
    spot: z
      .object({ effortWeeks: effortWeeks(2) })
      .strict()
      .prefault({}),
    quantization: z
      .object({
        /** How much faster a model serves with 4-bit weights: GPU time divides by it. Not measured. */
        speedup: z.number().gt(1).max(8).default(2),
        /** Models that are already quantized, or whose accuracy budget rules it out. */
        excludeModels: z.array(z.string().trim().min(1).max(128)).default([]),
        effortWeeks: effortWeeks(3),
      })
      .strict()
      .prefault({}),
    caching: z
      .object({
        /** A repeat counts as cacheable when the same fingerprint was seen this recently. */
        ttlHours: z.number().positive().max(720).default(24),
        effortWeeks: effortWeeks(1),
      })
      .strict()
      .prefault({}),
    rightSizing: z
      .object({
        /** Busiest share (p95) of the smaller GPU's compute a moved workload may use. */
        targetUtilization: z.number().gt(0).max(1).default(0.6),
        /** Largest share of the smaller GPU's memory the measured peak may fill. */
        memoryHeadroom: z.number().gt(0).max(1).default(0.8),
        /** Step of the DCGM samples read for the window (dcgm-exporter scrapes every 30 s). */
        stepSeconds: z.number().int().min(30).max(3600).default(300),
        effortWeeks: effortWeeks(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ScorecardSettings = z.output<typeof scorecardSettingsSchema>;

export const DEFAULT_SCORECARD_SETTINGS: ScorecardSettings = scorecardSettingsSchema.parse({});

export function engineerWeekNanos(settings: ScorecardSettings): Nanos {
  return decimalToNanos(settings.engineerWeekCost);
}
