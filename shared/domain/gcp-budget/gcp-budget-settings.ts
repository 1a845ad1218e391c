import { z } from "zod";

/** "team-nlp-monthly" → nlp: the team is the first word after "team-". */
export const DEFAULT_DISPLAY_NAME_PATTERN = "^team-(?<team>[a-z0-9]+)(?:[-_ ]|$)";

/**
 * The `gcpBudgets` section of the configuration file: which team a Cloud Billing budget belongs to.
 * First `teams` (by budget id, then by display name), then `displayNamePattern`, then `fallbackTeam`.
 */
export const gcpBudgetsSettingsSchema = z
  .object({
    /** Budget id (the notification's budgetId attribute) or display name → team. */
    teams: z.record(z.string().min(1).max(256), z.string().trim().min(1).max(128)).default({}),
    /** A regular expression over the display name (case-insensitive) whose `team` group (or first group) is the team. */
    displayNamePattern: z
      .string()
      .min(1)
      .max(500)
      .refine((pattern) => {
        try {
          new RegExp(pattern, "i");
          return true;
        } catch {
          return false;
        }
      }, "must be a valid regular expression")
      .default(DEFAULT_DISPLAY_NAME_PATTERN),
    /** The team of a budget nothing else names; absent: no team, and the notifier's fallback channel. */
    fallbackTeam: z.string().trim().min(1).max(128).optional(),
  })
  .strict();

export type GcpBudgetsSettings = z.output<typeof gcpBudgetsSettingsSchema>;

export const DEFAULT_GCP_BUDGETS_SETTINGS: GcpBudgetsSettings = {
  teams: {},
  displayNamePattern: DEFAULT_DISPLAY_NAME_PATTERN,
};
