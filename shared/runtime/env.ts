import { z } from "zod";

/** What a bearer token may be: long enough not to be guessed, and sendable in a header as is. */
export const bearerTokenSchema = z
  .string()
  .min(16, "at least 16 characters (openssl rand -hex 32 makes one)")
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces (openssl rand -hex 32 makes one)");

/** Every environment variable the project reads, in one place (README lists them). */
const envSchema = z.object({
  FINOPS_CONFIG: z.string().optional(),
  FINOPS_WAREHOUSE: z.enum(["duckdb", "bigquery"]).optional(),
  FINOPS_DUCKDB_PATH: z.string().optional(),
  FINOPS_BQ_DATASET: z.string().optional(),
  FINOPS_BQ_LOCATION: z.string().optional(),
  FINOPS_BUS: z.enum(["memory", "pubsub"]).optional(),
  FINOPS_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
  FINOPS_LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  /** The instant the CLI's commands take as now (an ISO date-time, read by bin/run-operation.ts). */
  FINOPS_NOW: z.string().optional(),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  PUBSUB_EMULATOR_HOST: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().optional(),
  MLFLOW_TRACKING_TOKEN: z.string().optional(),
  /** The bearer token the public receivers (ingestTraces) require of senders. */
  FINOPS_INGEST_TOKEN: bearerTokenSchema.optional(),
  /** A file holding that token: in the cloud, the Secret Manager secret mounted at its latest version. */
  FINOPS_INGEST_TOKEN_FILE: z.string().optional(),
  SLACK_API_URL: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  K_SERVICE: z.string().optional(),
});

export type Env = Readonly<z.infer<typeof envSchema>>;

export class EnvError extends Error {
  override readonly name = "EnvError";
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const blankless = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(blankless);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnvError(`environment variable ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return Object.freeze(parsed.data);
}
