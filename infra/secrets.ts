/**
 * Secrets the functions read, kept in Secret Manager. A function gets a secret only if its role set in
 * infra/iam-roles.ts grants it secretAccessor on that secret, so the grant and the wiring cannot drift
 * apart. Where the value comes from says how the function gets it:
 * - "stack": the stack's configuration holds it; the stack writes it as a version, and the function
 *   gets it as the environment variable `env`, pinned to that version.
 * - "operator": the stack creates the secret and the operator adds its versions (gcloud secrets
 *   versions add), so the value is never in the stack's state; the function gets the latest version
 *   as a file whose path is in `env`, read at run time, so a secret without a version fails requests
 *   (which say so in the log), not the deployment, and a new version needs no redeployment.
 */
export const SECRETS = {
  /** The Slack bot token (xoxb-...) notifySlack posts with. */
  slackBotToken: { env: "SLACK_BOT_TOKEN", value: "stack" },
  /** The bearer token the public receivers require of senders (shared/runtime/bearer-token.ts). */
  ingestToken: { env: "FINOPS_INGEST_TOKEN_FILE", value: "operator" },
} as const satisfies Record<string, { env: string; value: "stack" | "operator" }>;

export type SecretKey = keyof typeof SECRETS;

/** Whether the secret's value comes from the stack's configuration (else the operator adds its versions). */
export function valueFromStack(key: SecretKey): boolean {
  return SECRETS[key].value === "stack";
}
