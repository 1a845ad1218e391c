/**
 * Secrets the functions read from the environment (shared/runtime/env.ts), kept in Secret Manager.
 * A function gets a secret as an environment variable only if its role set in infra/iam-roles.ts
 * grants it secretAccessor on that secret, so the grant and the wiring cannot drift apart.
 */
export const SECRETS = {
  /** The Slack bot token (xoxb-...) notifySlack posts with. */
  slackBotToken: { env: "SLACK_BOT_TOKEN" },
} as const;

export type SecretKey = keyof typeof SECRETS;
