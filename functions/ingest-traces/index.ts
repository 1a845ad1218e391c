import { MAX_BODY_BYTES, mediaType } from "#domain/events/decode-body.ts";
import { TraceDecodeError } from "#domain/otlp/spans.ts";
import type { OtlpEncoding } from "#ports/otlp-codec.ts";
import { isRetryableError } from "#ports/port-error.ts";
import { HttpError, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** google.rpc.Code values the answers use. */
const INVALID_ARGUMENT = 3;
const UNAVAILABLE = 14;
/** Seconds an exporter should wait before sending an export again that could not be stored. */
const RETRY_AFTER_SECONDS = 2;

const CONTENT_TYPES: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: "application/x-protobuf",
  json: "application/json",
};

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = mediaType(contentType);
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  return undefined;
}

/**
 * OTLP/HTTP traces (POST /v1/traces locally): an ExportTraceServiceRequest as
 * `application/x-protobuf` or `application/json`, gzip-compressed or not. Answers as the OTLP
 * specification says, in the request's encoding: 200 with an ExportTraceServiceResponse (its
 * partialSuccess counts and names the spans refused, each for a reason in the span); 400 with a
 * google.rpc.Status for a body that is not a trace export; 413 with a Status for one over
 * MAX_BODY_BYTES once inflated; 503 with Retry-After and a Status when
 * the warehouse cannot take the events now (the exporter sends the export again, which counts once).
 */
httpFunction("ingestTraces", { methods: ["POST"] }, async (req, res) => {
  const encoding = encodingOf(req.get("content-type"));
  if (encoding === undefined) {
    throw new HttpError(415, "content-type: application/x-protobuf or application/json", {
      field: "content-type",
    });
  }
  const runtime = await getRuntime();
  const { ingestTraces } = runtime;
  const otlpCodec = await runtime.otlpCodec();
  const send = (status: number, body: Buffer, headers: Record<string, string> = {}) => {
    res
      .status(status)
      .set({ ...headers, "content-type": CONTENT_TYPES[encoding] })
      .send(body);
  };
  // As the other receivers bound what they read: a small gzip body may inflate to far more.
  const size = req.rawBody?.length ?? 0;
  if (size > MAX_BODY_BYTES) {
    send(
      413,
      otlpCodec.encodeStatus(
        INVALID_ARGUMENT,
        `body: ${size} bytes, over the ${MAX_BODY_BYTES} allowed`,
        encoding,
      ),
    );
    return;
  }
  let request: ReturnType<typeof otlpCodec.decodeRequest>;
  try {
    // The framework has read the body (and inflated gzip): JSON parsed into req.body, the rest raw.
    const body: Buffer | object = encoding === "json" ? (req.body ?? {}) : (req.rawBody ?? Buffer.alloc(0));
    request = otlpCodec.decodeRequest(body, encoding);
  } catch (error) {
    if (!(error instanceof TraceDecodeError)) throw error;
    send(400, otlpCodec.encodeStatus(INVALID_ARGUMENT, error.message, encoding));
    return;
  }
  try {
    const answer = await ingestTraces.ingest(request);
    send(200, otlpCodec.encodeResponse(answer.partialSuccess, encoding));
  } catch (error) {
    if (!isRetryableError(error)) throw error;
    send(
      503,
      otlpCodec.encodeStatus(UNAVAILABLE, "the warehouse cannot take the spans now: retry", encoding),
      {
        "retry-after": String(RETRY_AFTER_SECONDS),
      },
    );
  }
});
