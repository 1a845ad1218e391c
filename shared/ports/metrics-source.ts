import type { GpuUsage, GpuWindow } from "#domain/gpu-split/gpu-usage.ts";
import { SourceError } from "./port-error.ts";

export type {
  GpuIdentity,
  GpuUsage,
  GpuWindow,
  PodRef,
  UsageSample,
  UsageSeries,
} from "#domain/gpu-split/gpu-usage.ts";

/**
 * What a caller of a MetricsSource branches on:
 * - `unavailable`: transient (network, timeout, 5xx, 429, the server's own timeout or overload);
 *   the same call may succeed later.
 * - `invalid`: the request cannot succeed as made (bad query or parameters, too many points,
 *   an answer that is not what the API documents); retrying the same call fails the same way.
 */
export type MetricsSourceErrorCode = "unavailable" | "invalid";

export interface MetricsSourceErrorDetails {
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** The server's own error class (Prometheus `errorType`: bad_data, execution, timeout, ...). */
  errorType?: string;
}

export class MetricsSourceError extends SourceError {
  override readonly name = "MetricsSourceError";
  readonly status: number | undefined;
  readonly errorType: string | undefined;

  constructor(
    code: MetricsSourceErrorCode,
    message: string,
    details: MetricsSourceErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.status = details.status;
    this.errorType = details.errorType;
  }
}

/** Where GPU usage comes from (DCGM through Prometheus in production). */
export interface MetricsSource {
  /**
   * Per GPU (or MIG instance) seen in [window.from, window.to): one series per pod that held it
   * and one with `pod: null` for times none did, sampled every `stepSeconds` from `window.from`.
   * Samples carry utilization as a 0..1 ratio; unusable values (NaN, sentinels) are left out.
   */
  gpuUsage(window: GpuWindow, stepSeconds: number): Promise<GpuUsage[]>;
}
