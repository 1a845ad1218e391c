import { z } from "zod";
import { topicArnParts } from "#domain/sns/sns-message.ts";

const amount = z.number().finite().nonnegative();

/**
 * The `awsAnomalies` section of the configuration file: which SNS topics may deliver Cost Anomaly
 * Detection notifications, how old a message may be, how impact maps to severity, and which team
 * owns an anomaly.
 */
export const awsAnomaliesSettingsSchema = z
  .object({
    /** Only these topics are confirmed and heard; anything else is refused. */
    topicArns: z
      .array(
        z
          .string()
          .refine(
            (arn) => topicArnParts(arn) !== undefined,
            "must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)",
          ),
      )
      .min(1),
    /** A message whose Timestamp is older than this is refused as replayed. SNS retries for up to an hour by default. */
    maxAgeSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(3600),
    /** Total impact (USD) from which an anomaly is a warning, and from which it is critical; below: info. */
    severity: z
      .object({ warning: amount.default(100), critical: amount.default(1000) })
      .strict()
      .refine((s) => s.critical >= s.warning, {
        message: "critical must be at least warning",
        path: ["critical"],
      })
      .default({ warning: 100, critical: 1000 }),
    /** Owner by monitor ARN, monitor name, linked account id or dimension value (e.g. the service), first match wins in that order. */
    teams: z.record(z.string().min(1).max(1024), z.string().trim().min(1).max(128)).default({}),
    /** The team of an anomaly no entry names; absent: no team, and the notifier's fallback channel. */
    fallbackTeam: z.string().trim().min(1).max(128).optional(),
    /** How long a fetched signing certificate is trusted. */
    certificateTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(86_400),
  })
  .strict();

export type AwsAnomaliesSettings = z.output<typeof awsAnomaliesSettingsSchema>;
