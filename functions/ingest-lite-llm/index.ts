import { MAX_BODY_BYTES } from "#domain/events/decode-body.ts";
import { LoggingBodyError } from "#domain/litellm/logging-payload.ts";
import { HttpError, hasBody, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * LiteLLM's generic_api logging callback (POST /v1/litellm locally): a JSON array of
 * StandardLoggingPayload, one object, or NDJSON (sent as application/x-ndjson), gzip-compressed or
 * not. 200 with the counts (refused payloads listed); 400 naming the field for a body that is not
 * the callback's output; 413 over MAX_BODY_BYTES; 503 with Retry-After when the warehouse cannot
 * take the events now (the error boundary's).
 */
httpFunction("ingestLiteLlm", { methods: ["POST"] }, async (req, res) => {
  // The framework has read the body (and inflated gzip) into rawBody, but only with a content-type.
  if (req.rawBody === undefined && hasBody(req)) {
    throw new HttpError(
      415,
      "content-type: required with a body (application/json or application/x-ndjson)",
      {
        field: "content-type",
      },
    );
  }
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) {
    throw new HttpError(413, `body: ${raw.length} bytes, over the ${MAX_BODY_BYTES} allowed`, {
      field: "body",
    });
  }
  const { ingestLiteLlm } = await getRuntime();
  try {
    res.status(200).json(await ingestLiteLlm.ingest(raw.toString("utf8")));
  } catch (error) {
    if (error instanceof LoggingBodyError) throw new HttpError(400, error.message, { field: error.field });
    throw error;
  }
});
