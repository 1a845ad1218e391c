import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { after, type ChildOptions } from "./child-options.ts";
import { childName, kebab } from "./names.ts";
import { SECRETS, type SecretKey } from "./secrets.ts";

export interface StoredSecret {
  secret: gcp.secretmanager.Secret;
  version: gcp.secretmanager.SecretVersion;
}

/** One Secret Manager secret per given value (`<component>-<key>`), holding it as its version. */
export function declareSecrets(
  name: string,
  args: {
    project: string;
    values: Readonly<Partial<Record<SecretKey, pulumi.Input<string>>>>;
    labels: Readonly<Record<string, string>>;
  },
  opts: ChildOptions,
): Partial<Record<SecretKey, StoredSecret>> {
  const stored: Partial<Record<SecretKey, StoredSecret>> = {};
  for (const key of Object.keys(args.values) as SecretKey[]) {
    const secret = new gcp.secretmanager.Secret(
      childName(name, "secret", kebab(key)),
      {
        project: args.project,
        secretId: kebab(`${name}-${key}`),
        replication: { auto: {} },
        labels: { ...args.labels },
      },
      after(opts),
    );
    const version = new gcp.secretmanager.SecretVersion(
      childName(name, "secret", kebab(key), "version"),
      { secret: secret.id, secretData: pulumi.secret(args.values[key] as pulumi.Input<string>) },
      after(opts),
    );
    stored[key] = { secret, version };
  }
  return stored;
}

/**
 * The secret environment variables of a function that reads `keys`. The version is pinned, so a new
 * value rolls out as a new revision rather than at some later cold start.
 */
export function secretEnvironment(
  keys: readonly SecretKey[],
  stored: Readonly<Partial<Record<SecretKey, StoredSecret>>>,
  project: string,
) {
  if (keys.length === 0) return undefined;
  return keys.map((key) => {
    const entry = stored[key];
    if (entry === undefined) throw new Error(`secret ${key} has no value`);
    return {
      key: SECRETS[key].env,
      projectId: project,
      secret: entry.secret.secretId,
      version: entry.version.version,
    };
  });
}
