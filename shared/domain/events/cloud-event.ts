import { z } from "zod";
import { ALLOCATION_V1, type AllocationData, allocationDataSchema } from "./allocation.ts";
import { ATTRIBUTION_V1, type AttributionData, attributionDataSchema } from "./attribution.ts";
import { FIXED_V1, type FixedData, fixedDataSchema } from "./fixed.ts";
import { INFERENCE_V1, type InferenceData, inferenceDataSchema } from "./inference.ts";
import { TRAINING_V1, type TrainingData, trainingDataSchema } from "./training.ts";

export const COST_EVENT_TYPES = [INFERENCE_V1, TRAINING_V1, ALLOCATION_V1, FIXED_V1, ATTRIBUTION_V1] as const;
export type CostEventType = (typeof COST_EVENT_TYPES)[number];

export const dataSchemas = {
  [INFERENCE_V1]: inferenceDataSchema,
  [TRAINING_V1]: trainingDataSchema,
  [ALLOCATION_V1]: allocationDataSchema,
  [FIXED_V1]: fixedDataSchema,
  [ATTRIBUTION_V1]: attributionDataSchema,
} as const;

/** CloudEvents 1.0 structured-mode attributes we rely on. `time` is required: cost needs a when. */
export const envelopeSchema = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1).max(256),
  source: z.string().min(1).max(512),
  type: z.enum(COST_EVENT_TYPES),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().max(512).optional(),
  datacontenttype: z.string().optional(),
  dataschema: z.string().optional(),
  data: z.unknown(),
});

interface EventBase {
  id: string;
  source: string;
  time: Date;
  subject?: string;
}
export type InferenceEvent = EventBase & { type: typeof INFERENCE_V1; data: InferenceData };
export type TrainingEvent = EventBase & { type: typeof TRAINING_V1; data: TrainingData };
export type AllocationEvent = EventBase & { type: typeof ALLOCATION_V1; data: AllocationData };
export type FixedEvent = EventBase & { type: typeof FIXED_V1; data: FixedData };
export type AttributionEvent = EventBase & { type: typeof ATTRIBUTION_V1; data: AttributionData };
export type CostEvent = InferenceEvent | TrainingEvent | AllocationEvent | FixedEvent | AttributionEvent;

export { ALLOCATION_V1, ATTRIBUTION_V1, FIXED_V1, INFERENCE_V1, TRAINING_V1 };
