import { ingestStatus } from "#app/ingest-events.ts";
import {
  binaryToStructured,
  isEventMediaType,
  MAX_BODY_BYTES,
  mediaType,
} from "#domain/events/decode-body.ts";
import { HttpError, hasBody, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * POST a CloudEvent, a batch or NDJSON (gzip-compressed or not): 200 all taken, 207 some rejected,
 * 400 none taken (each answered with the ingest summary); 413 a body over MAX_BODY_BYTES, 415 a body
 * without a content-type, of a type that holds no events (not JSON nor NDJSON, outside binary mode)
 * or in another content-encoding, 503 retry later (the error boundary's).
 */
httpFunction("ingestHttp", { methods: ["POST"] }, async (req, res) => {
  // The framework has read the body (and inflated gzip) into rawBody, but only with a content-type.
  if (req.rawBody === undefined && hasBody(req)) {
    throw new HttpError(
      415,
      "content-type: required with a body (application/json, application/cloudevents-batch+json or application/x-ndjson)",
      { field: "content-type" },
    );
  }
  const raw = req.rawBody ?? "";
  if (raw.length > MAX_BODY_BYTES) {
    throw new HttpError(413, `body: ${raw.length} bytes, over the ${MAX_BODY_BYTES} allowed`, {
      field: "body",
    });
  }
  const { ingestEvents } = await getRuntime();
  const contentType = req.get("content-type");
  const binary = binaryToStructured(req.headers, raw, contentType);
  if (binary === undefined && raw.length > 0 && !isEventMediaType(mediaType(contentType))) {
    throw new HttpError(
      415,
      `content-type: ${mediaType(contentType)} holds no events (application/json, application/cloudevents-batch+json or application/x-ndjson)`,
      { field: "content-type" },
    );
  }
  const input = binary ?? { body: raw, contentType };
  const summary = await ingestEvents.ingest(input.body, input.contentType);
  res.status(ingestStatus(summary)).json(summary);
});
