import type { FunctionSpec } from "../functions/registry.ts";
import { type FunctionSettings, type Ingress, resolveSettings } from "./function-settings.ts";
import {
  checkInvokerMembers,
  grantsOf,
  type RoleSet,
  roleSetFor,
  secretsReadBy,
  storesInput,
  type TopicKey,
  withIngestToken,
} from "./iam-roles.ts";
import { type SchedulerSettings, schedulerSettings } from "./schedule.ts";
import { type SecretKey, valueFromStack } from "./secrets.ts";
import { deadLetterOf, topicKeyOf } from "./topics.ts";
import { directVpcSettings, type VpcEgress } from "./vpc-egress.ts";

export interface FunctionPlanOptions {
  roles: Readonly<Record<string, RoleSet>>;
  settings?: Readonly<Record<string, Partial<FunctionSettings>>>;
  invokers?: Readonly<Record<string, readonly string[]>>;
  httpIngress?: Ingress;
  /** The secrets whose value the stack holds (infra/secrets.ts "stack"). */
  secrets: readonly SecretKey[];
  /** The network the functions that call private endpoints reach them through. */
  vpcEgress?: VpcEgress;
}

export class FunctionPlanError extends Error {
  override readonly name = "FunctionPlanError";
}

/**
 * Refuses a public function that IAM would not protect and nothing else would: anyone may invoke it,
 * so it must be HTTP, takes no invokers, and, when it stores what it is sent, checks the bearer token.
 */
function checkPublic(spec: FunctionSpec, roleSet: RoleSet, invokers: readonly string[]): void {
  if (spec.public === undefined) return;
  if (spec.trigger.kind !== "http") {
    throw new FunctionPlanError(`${spec.target} is public, but only an HTTP function can be`);
  }
  if (invokers.length > 0) {
    throw new FunctionPlanError(
      `invokers given for ${spec.target}, which anyone may invoke (${spec.public.check} checks its callers)`,
    );
  }
  if (spec.public.check !== "bearer-token" && storesInput(roleSet)) {
    throw new FunctionPlanError(
      `${spec.target} is public and stores what it is sent, so it must check the bearer token (public.check "bearer-token")`,
    );
  }
}

/**
 * Everything about each function that can be decided, and refused, before any resource is declared:
 * its sizing, grants, secrets, invokers, the topic it is pushed from and its dead-letter topic, its
 * schedule and its network egress.
 */
export function planFunctions(specs: readonly FunctionSpec[], options: FunctionPlanOptions) {
  const unknownInvokers = Object.keys(options.invokers ?? {}).filter(
    (target) => !specs.some((s) => s.target === target && s.trigger.kind === "http"),
  );
  if (unknownInvokers.length > 0) {
    throw new FunctionPlanError(
      `invokers given for ${unknownInvokers.join(", ")}, which are not HTTP functions`,
    );
  }
  return specs.map((spec) => {
    // A public function's caller is outside by definition (SNS), whatever the other HTTP functions allow.
    const ingress: Ingress = spec.public === undefined ? (options.httpIngress ?? "ALLOW_ALL") : "ALLOW_ALL";
    const settings = resolveSettings(spec, {
      ...(spec.trigger.kind === "http" ? { ingress } : {}),
      ...options.settings?.[spec.target],
    });
    const ownRoles = roleSetFor(spec.target, options.roles);
    const roleSet = spec.public?.check === "bearer-token" ? withIngestToken(ownRoles) : ownRoles;
    const invokers = options.invokers?.[spec.target] ?? [];
    checkPublic(spec, roleSet, invokers);
    const reads = secretsReadBy(roleSet);
    const missing = reads.filter((key) => valueFromStack(key) && !options.secrets.includes(key));
    if (missing.length > 0) {
      throw new FunctionPlanError(
        `${spec.target} reads the secret ${missing.join(", ")}, which has no value`,
      );
    }
    const topic = spec.trigger.kind === "topic" ? topicKeyOf(spec.trigger.topic) : undefined;
    const delivery: { topic: TopicKey; deadLetter: TopicKey } | undefined =
      topic === undefined ? undefined : { topic, deadLetter: deadLetterOf(topic) };
    const schedule: SchedulerSettings | undefined =
      spec.trigger.kind === "schedule"
        ? schedulerSettings(spec.trigger.cron, settings.timeoutSeconds)
        : undefined;
    return {
      spec,
      settings,
      grants: grantsOf(roleSet),
      reads,
      invokers: checkInvokerMembers(spec.target, invokers),
      delivery,
      schedule,
      egress: directVpcSettings(spec.target, options.vpcEgress),
    };
  });
}
