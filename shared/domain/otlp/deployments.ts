import { z } from "zod";
import { cloudSchema, gpuCountSchema, pricingModelSchema } from "#domain/events/common.ts";
import { type Attributes, stringAttribute } from "./spans.ts";

const name = (max = 128) => z.string().trim().min(1, "must not be empty").max(max);

/** Where a deployment's replicas run: how the catalog prices their GPU time. */
export const deploymentPlacementSchema = z
  .object({
    cloud: cloudSchema,
    region: name(64),
    instanceType: name(64).optional(),
    accelerator: name(64).optional(),
    /** GPUs one replica holds: each second of a replica's busy time is this many GPU-seconds. */
    gpusPerReplica: gpuCountSchema,
    pricingModel: pricingModelSchema.default("on_demand"),
  })
  .strict()
  .refine((p) => p.instanceType !== undefined || p.accelerator !== undefined, {
    message: "one of instanceType or accelerator is required",
    path: ["instanceType"],
  });

/** The resource attributes a replica is told apart by, first present wins (OTEL_RESOURCE_ATTRIBUTES keys). */
export const DEFAULT_REPLICA_ATTRIBUTES = ["k8s.pod.name", "service.instance.id", "host.name"] as const;

/**
 * One entry of the `deployments` section: the spans whose resource carries every attribute of
 * `match` with that value belong to it; it says what they serve (model, version), who owns them and
 * where they run. vLLM puts no model on its spans, so the model comes from here.
 */
export const deploymentSchema = z
  .object({
    /** The deployment's name in labels and answers. */
    name: name(),
    /** Resource attributes and the values they must have, e.g. {"service.name": "vllm-llama"}. */
    match: z
      .record(name(256), z.string().max(256))
      .refine((m) => Object.keys(m).length > 0, "must name at least one resource attribute"),
    /** The served model (for SGLang, the span's gen_ai.response.model when absent). */
    model: name().optional(),
    modelVersion: name().optional(),
    owner: z
      .object({
        team: name(),
        /** The default business unit; an HTTP server span's request header can name another. */
        businessUnit: name().optional(),
        costCenter: name().optional(),
      })
      .strict(),
    namespace: name(253).optional(),
    environment: name(64).optional(),
    /** Absent for a service that only calls provider APIs: its GPU spans are refused, naming it. */
    placement: deploymentPlacementSchema.optional(),
    /**
     * Which spans measure its GPU time: `inference-spans`, vLLM's `llm_request` and SGLang's request
     * spans; `http-server-spans`, the HTTP server spans of an instrumented service (FastAPI), the
     * span's duration as GPU time.
     */
    gpuTimeFrom: z.enum(["inference-spans", "http-server-spans"]).default("inference-spans"),
    /** For HTTP server spans: the captured request header naming the business unit. */
    businessUnitHeader: name().default("x-business-unit"),
    /** HTTP routes (http.route or url.path) that are not inference: health checks, metrics. */
    ignoreRoutes: z.array(name(512)).max(100).default([]),
    /**
     * The base URLs a gateway reaches it at (LiteLLM's `api_base` for it, e.g.
     * "http://vllm-llama.inference:8000/v1"): a gateway's record of a request sent there is the
     * same request as the deployment's span, and gives it its owner instead of being a second cost.
     */
    apiBases: z
      .array(z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).max(512))
      .max(20)
      .default([]),
    /** Resource attributes that tell its replicas apart, first present wins; none present: one replica. */
    replicaAttributes: z
      .array(name(256))
      .min(1)
      .max(10)
      .default([...DEFAULT_REPLICA_ATTRIBUTES]),
  })
  .strict();

export const deploymentsSchema = z
  .array(deploymentSchema)
  .max(1000)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `${d.name} is used by another deployment`,
        });
      }
      seen.add(d.name);
    });
  })
  .default([]);

export type Deployment = z.infer<typeof deploymentSchema>;
export type DeploymentPlacement = z.infer<typeof deploymentPlacementSchema>;

/** The first deployment whose `match` the resource satisfies, or undefined. */
export function deploymentOf(
  deployments: readonly Deployment[],
  resource: Attributes,
): Deployment | undefined {
  return deployments.find((d) =>
    Object.entries(d.match).every(([key, value]) => stringAttribute(resource, key) === value),
  );
}

/** Which replica of the deployment a resource is: the first replica attribute present, or "". */
export function replicaOf(deployment: Deployment, resource: Attributes): string {
  for (const key of deployment.replicaAttributes) {
    const value = stringAttribute(resource, key);
    if (value !== undefined && value !== "") return value;
  }
  return "";
}

/** An api_base without its trailing slashes (URL lower-cases the scheme and host), to compare with another. */
function normalizedBase(url: string): string | undefined {
  try {
    const parsed = new URL(url.trim());
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

/**
 * The deployment a gateway reached at `apiBase`: the first whose `apiBases` holds it, or a prefix of
 * it ending at a path segment (LiteLLM may log ".../v1" or ".../v1/chat/completions").
 */
export function deploymentAtApiBase(
  deployments: readonly Deployment[],
  apiBase: string,
): Deployment | undefined {
  const base = normalizedBase(apiBase);
  if (base === undefined) return undefined;
  return deployments.find((d) =>
    d.apiBases.some((configured) => {
      const known = normalizedBase(configured);
      return known !== undefined && (base === known || base.startsWith(`${known}/`));
    }),
  );
}
