import { z } from "zod";
import { ownerFields } from "./common.ts";

export const ATTRIBUTION_V1 = "ai.cost.attribution.v1";

/**
 * The labels that name the request on both sides: the deployment's span events carry them (see
 * #domain/otlp/span-events.ts), and an attribution's rows are given the same ones; the rollup joins
 * on them.
 */
export const DEPLOYMENT_LABEL = "otel.deployment";
export const REQUEST_ID_LABEL = "gen_ai.request.id";

/**
 * How far beyond the gateway's view of the request its rows reach: the deployment's span ends
 * inside [request_start, time] but on another machine's clock, which may be this far off.
 */
export const ATTRIBUTION_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Longest request an attribution may describe: its rows cover every hour of it. */
export const MAX_ATTRIBUTED_REQUEST_MS = 24 * 3600 * 1000;

/**
 * Who one request served by a self-hosted deployment belongs to, as a gateway in front of it saw
 * (LiteLLM's key metadata). It costs nothing itself: the deployment's own span of the same request
 * (deployment, request id) carries the GPU time, and the rollup gives that cost this owner
 * (sql/<dialect>/attributed_events.sql). The event's `time` is when the gateway saw the request end.
 */
export const attributionDataSchema = z
  .object({
    /** The `deployments` entry that served the request (its spans' otel.deployment). */
    deployment: z.string().trim().min(1).max(128),
    /** The id the deployment's span names (vLLM's gen_ai.request.id). */
    request_id: z.string().trim().min(1).max(256),
    /** When the gateway received the request. */
    request_start: z.iso.datetime({ offset: true }),
    team: ownerFields.team,
    business_unit: ownerFields.business_unit,
    cost_center: ownerFields.cost_center,
    environment: ownerFields.environment,
    labels: ownerFields.labels,
  })
  .strict();

export type AttributionData = z.infer<typeof attributionDataSchema>;
