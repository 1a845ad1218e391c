import type { TrackedRun } from "#domain/training/tracked-run.ts";
import { type PortErrorCode, SourceError } from "./port-error.ts";

export type { TrackedRun } from "#domain/training/tracked-run.ts";

/** An experiment by its name or by its id. */
export type ExperimentRef = { name: string } | { id: string };

/** How an experiment is named in answers and logs: its name, or "id <id>". */
export function experimentLabel(ref: ExperimentRef): string {
  return "name" in ref ? ref.name : `id ${ref.id}`;
}

export interface TrainingRunQuery {
  experiments: readonly ExperimentRef[];
  /** Runs that ended at or after this instant are read, and every running run. */
  endedSince: Date;
}

/** An experiment that could not be read for good (no such name, deleted); the others were. */
export interface UnreadExperiment {
  experiment: string;
  reason: string;
}

/** A run the tracker answered that is not a run as documented: its ids where it has them, and why. */
export interface UnreadRun {
  run_id?: string;
  experiment_id?: string;
  /** Names the field at fault: `info.start_time: not a time in milliseconds since 1970`. */
  reason: string;
}

export interface TrainingRunPage {
  /** The experiments read (experimentLabel of each reference), with their ids. */
  experiments: { experiment: string; id: string }[];
  unread: UnreadExperiment[];
  /** Each run once, running or ended since `endedSince`. */
  runs: TrackedRun[];
  /** Runs that could not be read; the others were. */
  unreadRuns: UnreadRun[];
}

/** Where training runs come from (an MLflow tracking server). */
export interface TrainingRunSource {
  runs(query: TrainingRunQuery): Promise<TrainingRunPage>;
}

/**
 * `unavailable`: transient (network, timeout, 429, 5xx); a later run of the import may work.
 * `invalid`: the server refused the request or answered something that is not a runs page.
 */
export type TrainingRunSourceErrorCode = PortErrorCode;

export class TrainingRunSourceError extends SourceError {
  override readonly name = "TrainingRunSourceError";
}
