import { z } from "zod";

/**
 * The `training.mlflowImport` section of the configuration file: which MLflow experiments' runs
 * become training job events, and which of a run's tags, params or metrics name each event field.
 */

/** The event fields a run's tags, params or metrics may give (ai.cost.training.v1's data). */
export const RUN_FIELDS = [
  "team",
  "model",
  "model_version",
  "business_unit",
  "cost_center",
  "environment",
  "cloud",
  "region",
  "instance_type",
  "accelerator",
  "pricing_model",
  "gpu_count",
  "epoch",
] as const;
export type RunField = (typeof RUN_FIELDS)[number];

/**
 * Where a field's value is looked for, first found wins: `tags.<key>`, `params.<key>` or
 * `metrics.<key>` (the latest value), as MLflow's own search syntax names them.
 */
export type RunKey = `${"tags" | "params" | "metrics"}.${string}`;

/** The defaults: the names the cost logger itself writes (params instance_type, num_gpus; tags team, model). */
export const DEFAULT_RUN_KEYS: Readonly<Record<RunField, readonly RunKey[]>> = Object.freeze({
  team: ["tags.team"],
  model: ["tags.model", "params.model_name", "params.model"],
  model_version: ["tags.model_version"],
  business_unit: ["tags.business_unit"],
  cost_center: ["tags.cost_center"],
  environment: ["tags.environment"],
  cloud: ["tags.cloud", "params.cloud"],
  region: ["tags.region", "params.region"],
  instance_type: ["params.instance_type", "tags.instance_type"],
  accelerator: ["params.accelerator", "tags.accelerator"],
  pricing_model: ["tags.pricing_model", "params.pricing_model"],
  gpu_count: ["params.num_gpus", "params.gpu_count", "tags.gpu_count"],
  epoch: ["metrics.epoch"],
});

const runKeySchema = z
  .string()
  .regex(/^(tags|params|metrics)\.\S/, "must be tags.<key>, params.<key> or metrics.<key>")
  .max(260)
  .transform((key) => key as RunKey);

/** One key, or several tried in order. */
const runKeysSchema = z
  .preprocess((value) => (typeof value === "string" ? [value] : value), z.array(runKeySchema).min(1))
  .transform((keys) => keys as readonly RunKey[]);

/** Values that hold for every run where the run itself names none (a cluster's cloud and region). */
const fieldDefaultsSchema = z
  .object({
    team: z.string().trim().min(1).max(128),
    model: z.string().trim().min(1).max(128),
    model_version: z.string().trim().min(1).max(128),
    business_unit: z.string().trim().min(1).max(128),
    cost_center: z.string().trim().min(1).max(128),
    environment: z.string().trim().min(1).max(64),
    cloud: z.enum(["gcp", "aws", "azure", "other"]),
    region: z.string().trim().min(1).max(64),
    instance_type: z.string().trim().min(1).max(64),
    accelerator: z.string().trim().min(1).max(64),
    pricing_model: z.enum(["on_demand", "spot"]),
    gpu_count: z.number().positive().max(64),
  })
  .partial()
  .strict();

export type RunFieldDefaults = z.infer<typeof fieldDefaultsSchema>;

/** An experiment by name (a string, or `{name}`) or by id (`{id}`), with defaults of its own. */
const experimentSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .max(500)
    .transform((name) => ({ name, id: undefined, defaults: {} as RunFieldDefaults })),
  z
    .object({
      name: z.string().trim().min(1).max(500).optional(),
      id: z
        .union([
          z
            .string()
            .trim()
            .regex(/^\S{1,64}$/, "must be an experiment id"),
          z.number().int().min(0),
        ])
        .transform(String)
        .optional(),
      defaults: fieldDefaultsSchema.default({}),
    })
    .strict()
    .refine((e) => (e.name === undefined) !== (e.id === undefined), {
      message: "give either name or id",
    }),
]);

/** An experiment's reference: its name or its id, exactly one of them. */
export function experimentRefOf(experiment: {
  name?: string | undefined;
  id?: string | undefined;
}): { name: string } | { id: string } {
  return experiment.id !== undefined ? { id: experiment.id } : { name: experiment.name ?? "" };
}

export type ExperimentSetting = z.infer<typeof experimentSchema>;

export const mlflowImportSettingsSchema = z
  .object({
    /** The tracking server's root (MLFLOW_TRACKING_URI); /api/2.0/mlflow/ is added. */
    baseUrl: z.url({ protocol: /^https?$/ }),
    experiments: z.array(experimentSchema).min(1, "name at least one experiment"),
    /** Where each event field comes from; a field given here replaces its default list. */
    fields: z.partialRecord(z.enum(RUN_FIELDS), runKeysSchema).default({}),
    /** Values for fields a run does not name (an experiment's own defaults win). */
    defaults: fieldDefaultsSchema.default({}),
    /**
     * The events' CloudEvents source. With the run id it is each event's dedupe key: changing it
     * imports every run again as new events.
     */
    source: z.string().trim().min(1).max(512).default("//mlflow"),
    /** Runs that ended this long ago or less are read again; running runs always are. */
    lookbackHours: z
      .number()
      .positive()
      .max(400 * 24)
      .default(72),
    /**
     * A running run that has logged no metric for this long is charged up to its last metric only
     * (its process most likely died without ending the run); its end, if it ever comes, charges the rest.
     */
    staleAfterHours: z
      .number()
      .positive()
      .max(366 * 24)
      .default(24),
    timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
  })
  .strict();

export type MlflowImportSettings = z.infer<typeof mlflowImportSettingsSchema>;

/** Each field's keys: the configured list, else the default. */
export function runKeysOf(
  settings: Pick<MlflowImportSettings, "fields">,
): Record<RunField, readonly RunKey[]> {
  const keys = {} as Record<RunField, readonly RunKey[]>;
  for (const field of RUN_FIELDS) keys[field] = settings.fields[field] ?? DEFAULT_RUN_KEYS[field];
  return keys;
}
