import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { after, type ChildOptions } from "./child-options.ts";
import { childName, kebab } from "./names.ts";
import { SECRETS, type SecretKey, valueFromStack } from "./secrets.ts";

export interface StoredSecret {
  secret: gcp.secretmanager.Secret;
  /** The version the stack wrote; none for a secret whose versions the operator adds. */
  version?: gcp.secretmanager.SecretVersion;
}

/**
 * One Secret Manager secret (`<component>-<key>`) per given value, holding it as its version, and one
 * without a version per secret the operator fills.
 */
export function declareSecrets(
  name: string,
  args: {
    project: string;
    values: Readonly<Partial<Record<SecretKey, pulumi.Input<string>>>>;
    operated: readonly SecretKey[];
    labels: Readonly<Record<string, string>>;
  },
  opts: ChildOptions,
): Partial<Record<SecretKey, StoredSecret>> {
  const stored: Partial<Record<SecretKey, StoredSecret>> = {};
  const keys = [...new Set([...(Object.keys(args.values) as SecretKey[]), ...args.operated])];
  for (const key of keys) {
    const secret = new gcp.secretmanager.Secret(
      childName(name, "secret", kebab(key)),
      {
        project: args.project,
        secretId: secretIdOf(name, key),
        replication: { auto: {} },
        labels: { ...args.labels },
      },
      after(opts),
    );
    const value = args.values[key];
    const version =
      value === undefined
        ? undefined
        : new gcp.secretmanager.SecretVersion(
            childName(name, "secret", kebab(key), "version"),
            { secret: secret.id, secretData: pulumi.secret(value) },
            after(opts),
          );
    stored[key] = { secret, ...(version === undefined ? {} : { version }) };
  }
  return stored;
}

/** The id of the component's secret of `key` (finops-ingest-token). */
function secretIdOf(name: string, key: SecretKey): string {
  return kebab(`${name}-${key}`);
}

function entryOf(key: SecretKey, stored: Readonly<Partial<Record<SecretKey, StoredSecret>>>): StoredSecret {
  const entry = stored[key];
  if (entry === undefined) throw new Error(`secret ${key} is not declared`);
  return entry;
}

/**
 * The secret environment variables of a function that reads `keys`: the stack-held ones. The version is
 * pinned, so a new value rolls out as a new revision rather than at some later cold start.
 */
export function secretEnvironment(
  keys: readonly SecretKey[],
  stored: Readonly<Partial<Record<SecretKey, StoredSecret>>>,
  project: string,
) {
  const held = keys.filter(valueFromStack);
  if (held.length === 0) return undefined;
  return held.map((key) => {
    const { secret, version } = entryOf(key, stored);
    if (version === undefined) throw new Error(`secret ${key} has no value`);
    return { key: SECRETS[key].env, projectId: project, secret: secret.secretId, version: version.version };
  });
}

/** Where a secret the operator fills is mounted, one directory each (a mount hides what else is there). */
export function secretMountPath(key: SecretKey): string {
  return `/etc/secrets/${kebab(key)}`;
}
/** The file, under the mount, that holds the secret's latest version. */
const LATEST_FILE = "latest";

/** The files a function that reads `keys` finds the operator-filled ones in, by environment variable. */
export function secretFileEnvironment(keys: readonly SecretKey[]): Record<string, string> {
  return Object.fromEntries(
    keys
      .filter((key) => !valueFromStack(key))
      .map((key) => [SECRETS[key].env, `${secretMountPath(key)}/${LATEST_FILE}`]),
  );
}

/**
 * The secret volumes of a function that reads `keys`: each operator-filled secret at its latest
 * version, which Cloud Run reads from Secret Manager when the file is read, not when an instance
 * starts, so the function deploys and starts before the secret has a version.
 */
export function secretVolumes(
  keys: readonly SecretKey[],
  stored: Readonly<Partial<Record<SecretKey, StoredSecret>>>,
  project: string,
) {
  const operated = keys.filter((key) => !valueFromStack(key));
  if (operated.length === 0) return undefined;
  return operated.map((key) => ({
    mountPath: secretMountPath(key),
    projectId: project,
    secret: entryOf(key, stored).secret.secretId,
    versions: [{ path: LATEST_FILE, version: "latest" }],
  }));
}
