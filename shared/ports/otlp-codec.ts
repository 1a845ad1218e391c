import type { TraceExport } from "#domain/otlp/spans.ts";

/** The two OTLP/HTTP encodings: `application/x-protobuf` and `application/json`. */
export type OtlpEncoding = "protobuf" | "json";

/** What ExportTraceServiceResponse.partial_success says; absent when every span was taken. */
export interface TracePartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * Reads and writes OTLP/HTTP trace messages with the OpenTelemetry project's own protobuf types
 * (the adapter in shared/adapters/otlp). Bodies come already inflated.
 */
export interface OtlpTraceCodec {
  /** An ExportTraceServiceRequest: protobuf bytes, or the JSON mapping (text or already parsed). Throws TraceDecodeError. */
  decodeRequest(body: Buffer | string | object, encoding: OtlpEncoding): TraceExport;
  /** An ExportTraceServiceRequest as protobuf bytes, what an exporter sends (the demo's inference server). */
  encodeRequest(request: TraceExport): Buffer;
  /** An ExportTraceServiceResponse in the request's encoding. */
  encodeResponse(partialSuccess: TracePartialSuccess | undefined, encoding: OtlpEncoding): Buffer;
  /** A google.rpc.Status (what a 4xx or 5xx answer carries) in the request's encoding. */
  encodeStatus(code: number, message: string, encoding: OtlpEncoding): Buffer;
}
