import type { IngestRejection, IngestSummary } from "#app/ingest-events.ts";
import {
  experimentRefOf,
  type MlflowImportSettings,
  runKeysOf,
} from "#domain/training/mlflow-import-settings.ts";
import {
  type MissingField,
  runToTrainingEvents,
  type TrainingCloudEvent,
} from "#domain/training/tracked-run.ts";
import type { Clock } from "#ports/clock.ts";
import { type Logger, silentLogger } from "#ports/logger.ts";
import {
  type ExperimentRef,
  experimentLabel,
  type TrainingRunSource,
  type UnreadExperiment,
} from "#ports/training-run-source.ts";

/** Events per ingest call: one CloudEvents batch, as the emitters send them. */
export const MAX_EVENTS_PER_BATCH = 500;
/** Most skipped runs an import's answer lists; all are logged, and counted. */
const MAX_LISTED = 100;
const HOUR_MS = 3_600_000;

export interface ImportMlflowRunsDeps {
  source: TrainingRunSource;
  /** The ingest use case (runtime.ingestEvents.ingest): validation, pricing, dedupe, storage. */
  ingest: (body: string, contentType?: string) => Promise<IngestSummary>;
  settings: MlflowImportSettings;
  clock: Clock;
  logger?: Logger;
}

/**
 * A run nothing was sent for: what it lacks (owner, placement, GPU count) or what is wrong in it. A
 * run MLflow answered malformed has the ids it came with, if any.
 */
export interface SkippedRun {
  run_id?: string;
  experiment_id?: string;
  /** Each missing field, with the run keys it was looked for under: `team (tags.team)`. */
  missing?: string[];
  reason?: string;
}

export interface MlflowImportSummary {
  /** When the import ran; running runs are measured to it. */
  at: Date;
  /** Runs that ended since this instant were read, and every running run. */
  since: Date;
  experiments: { experiment: string; id: string }[];
  /** Experiments that do not exist or are deleted: nothing was read from them. */
  unread: UnreadExperiment[];
  /** Runs read (malformed ones, skipped, included). */
  runs: number;
  /** Runs whose events were sent (already stored ones come back as duplicates). */
  imported: number;
  /** SCHEDULED runs: nothing to charge yet. */
  scheduled: number;
  /** Runs skipped for what they lack or hold, each listed (up to 100) and logged. */
  skipped: number;
  skippedRuns: SkippedRun[];
  /** Events sent to ingest, and what it made of them. */
  events: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: IngestRejection[];
}

export interface ImportMlflowRuns {
  /** Reads the configured experiments' running and recently ended runs and ingests their events. */
  import(): Promise<MlflowImportSummary>;
}

const refOf = (experiment: MlflowImportSettings["experiments"][number]): ExperimentRef =>
  experimentRefOf(experiment);

const describeMissing = (missing: readonly MissingField[]) =>
  missing.map((m) => `${m.field} (${m.keys.join(", ")})`);

/**
 * The MLflow import: each configured experiment's runs become training job events (see
 * runToTrainingEvents) and go through the ingest use case, so they are validated, priced by the
 * catalog from placement × GPU count × elapsed time, and deduped by (source, id) like any event.
 * Importing again adds nothing; a running run adds its new progress, an ended one its end. A run
 * that lacks its owner, placement or GPU count is skipped, counted, listed and logged with what it
 * lacks, and never fails the others; so is a run MLflow answered malformed. A fault of MLflow or of
 * the warehouse is thrown (retryable ones say so): what was ingested before it stays, and the next
 * run adds only the rest.
 */
export function createImportMlflowRuns(deps: ImportMlflowRunsDeps): ImportMlflowRuns {
  const { source, ingest, settings, clock } = deps;
  const logger = deps.logger ?? silentLogger;
  const keys = runKeysOf(settings);

  return {
    async import() {
      const at = clock.now();
      const since = new Date(at.getTime() - settings.lookbackHours * HOUR_MS);
      const page = await source.runs({ experiments: settings.experiments.map(refOf), endedSince: since });
      for (const unread of page.unread) {
        logger.warn("mlflow experiment not read", { experiment: unread.experiment, reason: unread.reason });
      }
      // Each experiment's own defaults over the section's.
      const defaultsByLabel = new Map(
        settings.experiments.map((e) => [experimentLabel(refOf(e)), { ...settings.defaults, ...e.defaults }]),
      );
      const defaultsById = new Map(
        page.experiments.map((e) => [e.id, defaultsByLabel.get(e.experiment) ?? settings.defaults]),
      );

      const summary: MlflowImportSummary = {
        at,
        since,
        experiments: page.experiments,
        unread: page.unread,
        runs: page.runs.length + page.unreadRuns.length,
        imported: 0,
        scheduled: 0,
        skipped: 0,
        skippedRuns: [],
        events: 0,
        accepted: 0,
        duplicates: 0,
        conflicts: 0,
        rejected: [],
      };
      const skip = (run: SkippedRun) => {
        summary.skipped += 1;
        if (summary.skippedRuns.length < MAX_LISTED) summary.skippedRuns.push(run);
        logger.warn("mlflow run not imported", { ...run });
      };

      for (const unreadable of page.unreadRuns) skip(unreadable);
      const events: TrainingCloudEvent[] = [];
      for (const run of page.runs) {
        const result = runToTrainingEvents(run, {
          source: settings.source,
          keys,
          defaults: defaultsById.get(run.experiment_id) ?? settings.defaults,
          now: at,
          since,
          staleAfterMs: settings.staleAfterHours * HOUR_MS,
        });
        const who = { run_id: run.run_id, experiment_id: run.experiment_id };
        switch (result.kind) {
          case "events":
            summary.imported += 1;
            events.push(...result.events);
            break;
          case "not_started":
            summary.scheduled += 1;
            break;
          case "incomplete":
            skip({ ...who, missing: describeMissing(result.missing) });
            break;
          case "invalid":
            skip({ ...who, reason: result.reason });
            break;
        }
      }

      for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) {
        const batch = events.slice(i, i + MAX_EVENTS_PER_BATCH);
        const answer = await ingest(JSON.stringify(batch), "application/cloudevents-batch+json");
        summary.events += batch.length;
        summary.accepted += answer.accepted;
        summary.duplicates += answer.duplicates;
        summary.conflicts += answer.conflicts;
        // Positions in the whole import, not in the batch.
        summary.rejected.push(...answer.rejected.map((r) => ({ ...r, index: r.index + i })));
      }
      if (summary.rejected.length > 0) {
        logger.warn("ingest refused mlflow run events", {
          rejected: summary.rejected.length,
          first: summary.rejected.slice(0, 5).map((r) => `${r.id ?? "?"}: ${r.reason}`),
        });
      }
      logger.info("mlflow runs imported", {
        runs: summary.runs,
        imported: summary.imported,
        skipped: summary.skipped,
        accepted: summary.accepted,
        duplicates: summary.duplicates,
      });
      return summary;
    },
  };
}

/** The summary as the function answers it. */
export function importSummaryToJson(summary: MlflowImportSummary): Record<string, unknown> {
  return {
    ...summary,
    at: summary.at.toISOString(),
    since: summary.since.toISOString(),
    rejected: summary.rejected.length,
    rejections: summary.rejected.slice(0, MAX_LISTED),
  };
}
