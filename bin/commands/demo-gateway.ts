import type { LiteLlmIngestAnswer } from "#app/ingest-lite-llm.ts";
import { demoGatewayTraffic } from "#domain/demo/gateway-traffic.ts";
import type { DemoOut, LocalSession } from "./local-session.ts";

/**
 * The demo's vLLM behind LiteLLM, over HTTP to the running stack as the real systems send: each
 * hour's spans as one OTLP/HTTP protobuf export to POST /v1/traces, and LiteLLM's generic_api
 * payloads as a JSON array to POST /v1/litellm (see #domain/demo/gateway-traffic.ts).
 */
export async function sendGatewayDemo(
  session: LocalSession,
  options: { from: Date; hours: number; seed: string; now: Date; out: DemoOut },
): Promise<void> {
  const { stack, runtime } = session;
  const codec = await runtime.otlpCodec();
  let spans = 0;
  let payloads = 0;
  for (const hour of demoGatewayTraffic(options)) {
    const traces = await fetch(`${stack.url}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array(codec.encodeRequest(hour.spans)),
    });
    await traces.arrayBuffer();
    if (!traces.ok) throw new Error(`/v1/traces answered ${traces.status}`);
    const litellm = await fetch(`${stack.url}/v1/litellm`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(hour.payloads),
    });
    const answer = (await litellm.json()) as LiteLlmIngestAnswer;
    if (!litellm.ok || answer.rejected.length > 0) {
      throw new Error(`/v1/litellm answered ${litellm.status}: ${JSON.stringify(answer)}`);
    }
    spans += hour.spans.resourceSpans.reduce((n, rs) => n + rs.spans.length, 0);
    payloads += hour.payloads.length;
  }
  options.out.write(
    `  vLLM behind LiteLLM: ${spans} request spans as OTLP protobuf to /v1/traces, ${payloads} LiteLLM payloads to /v1/litellm\n`,
  );
}
