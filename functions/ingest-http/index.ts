import { http } from "@google-cloud/functions-framework";
import { ingestStatus } from "#app/ingest-events.ts";
import { binaryToStructured } from "#domain/events/decode-body.ts";
import { isRetryableError } from "#ports/port-error.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** POST a CloudEvent, a batch or NDJSON: 200 all taken, 207 some rejected, 400 none taken, 503 retry. */
http("ingestHttp", async (req, res) => {
  if (req.method !== "POST") {
    res.set("Allow", "POST").status(405).json({ error: "use POST" });
    return;
  }
  const { ingestEvents } = await getRuntime();
  const raw = req.rawBody ?? "";
  const contentType = req.get("content-type");
  const input = binaryToStructured(req.headers, raw, contentType) ?? { body: raw, contentType };
  try {
    const summary = await ingestEvents.ingest(input.body, input.contentType);
    res.status(ingestStatus(summary)).json(summary);
  } catch (error) {
    if (!isRetryableError(error)) throw error;
    res.set("Retry-After", "30").status(503).json({ error: "storage unavailable, retry later" });
  }
});
