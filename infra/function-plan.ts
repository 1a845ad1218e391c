import type { FunctionSpec } from "../functions/registry.ts";
import { type FunctionSettings, type Ingress, resolveSettings } from "./function-settings.ts";
import {
  checkInvokerMembers,
  grantsOf,
  type RoleSet,
  roleSetFor,
  secretsReadBy,
  type TopicKey,
} from "./iam-roles.ts";
import { type SchedulerSettings, schedulerSettings } from "./schedule.ts";
import type { SecretKey } from "./secrets.ts";
import { deadLetterOf, topicKeyOf } from "./topics.ts";

export interface FunctionPlanOptions {
  roles: Readonly<Record<string, RoleSet>>;
  settings?: Readonly<Record<string, Partial<FunctionSettings>>>;
  invokers?: Readonly<Record<string, readonly string[]>>;
  httpIngress?: Ingress;
  /** The secrets that have a value. */
  secrets: readonly SecretKey[];
}

export class FunctionPlanError extends Error {
  override readonly name = "FunctionPlanError";
}

/**
 * Everything about each function that can be decided, and refused, before any resource is declared:
 * its sizing, grants, secrets, invokers, the topic it is pushed from and its dead-letter topic, and
 * its schedule.
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
    const roleSet = roleSetFor(spec.target, options.roles);
    const reads = secretsReadBy(roleSet);
    const missing = reads.filter((key) => !options.secrets.includes(key));
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
      invokers: checkInvokerMembers(spec.target, options.invokers?.[spec.target] ?? []),
      delivery,
      schedule,
    };
  });
}
