import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { describe, expect, it } from "vitest";
import type { LiteLlmIngestAnswer } from "#app/ingest-lite-llm.ts";
import type { CostRow } from "#domain/cost-row.ts";
import type { ReportRow, TimeRange } from "#ports/warehouse.ts";
import { readEnv } from "#runtime/env.ts";
import { openLocalSession } from "../../bin/commands/local-session.ts";
import {
  LLAMA_API_BASE,
  LLAMA_BEHIND_GATEWAY,
  loggingPayload,
  selfHostedPayload,
} from "../support/litellm-payloads.ts";
import {
  floorHour,
  HOUR_MS,
  postJson,
  refreshRollups,
  report,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";
import { provider, vllmRequest } from "../support/vllm-spans.ts";

/**
 * LiteLLM in front of a self-hosted vLLM, through the local stack's real receivers: vLLM's spans
 * exported as protobuf by OpenTelemetry's own exporter to POST /v1/traces, LiteLLM's generic_api
 * payloads to POST /v1/litellm. A request both describe is counted once, with LiteLLM's owner and
 * vLLM's GPU time, in either order of arrival, and the result is the same to the nano.
 */

/** A minute into the hour that began ten minutes ago: every time is recent and in one hour. */
const BASE_MS = floorHour(Date.now() - 10 * 60_000) + 60_000;
const RANGE: TimeRange = {
  from: new Date(floorHour(BASE_MS) - HOUR_MS),
  to: new Date(floorHour(BASE_MS) + 2 * HOUR_MS),
};
/** Who LiteLLM says sent each of vLLM's requests chatcmpl-0..2; chatcmpl-3 came from no gateway. */
const GATEWAY_TEAMS = ["search", "search", "assistants"];

async function openSession(): Promise<TestSession & { remove(): void }> {
  const db = tempDuckDb("finops-litellm-");
  const config = join(db.dir, "finops.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      deployments: [LLAMA_BEHIND_GATEWAY],
    }),
  );
  const session = await openLocalSession(0, {
    env: readEnv({ FINOPS_CONFIG: config, FINOPS_DUCKDB_PATH: db.path, FINOPS_LOG_LEVEL: "error" }),
    scheduleEveryMs: () => HOUR_MS,
  });
  return { ...session, remove: db.remove };
}

/** vLLM's four requests of one continuous batch, exported as protobuf to the stack's /v1/traces. */
async function sendSpans(session: TestSession): Promise<void> {
  const p = provider(
    { "service.name": "vllm-llama-chat", "k8s.pod.name": "llama-chat-0" },
    new ProtoTraceExporter({ url: `${session.stack.url}/v1/traces` }),
  );
  for (let i = 0; i < 4; i++) vllmRequest(p, i, BASE_MS + i * 500, 4, 3);
  await p.forceFlush();
  await p.shutdown();
}

/** LiteLLM's records of three of those requests, and one call of its own to a provider. */
async function sendLiteLlm(session: TestSession): Promise<LiteLlmIngestAnswer> {
  const payloads = [
    ...GATEWAY_TEAMS.map((team, i) =>
      selfHostedPayload(`chatcmpl-${i}`, team, LLAMA_API_BASE, {
        startMs: BASE_MS + i * 500 - 150,
        endMs: BASE_MS + i * 500 + 4100,
      }),
    ),
    loggingPayload({
      id: "chatcmpl-openai-1",
      startTime: BASE_MS / 1000,
      endTime: (BASE_MS + 1800) / 1000,
      metadata: { user_api_key_team_alias: "search" },
    }),
  ];
  const { status, body } = await postJson<LiteLlmIngestAnswer>(
    session.stack,
    "/v1/litellm",
    JSON.stringify(payloads),
  );
  expect(status).toBe(200);
  return body;
}

const byTeam = async (session: TestSession) => {
  await refreshRollups(session.stack);
  const rows = await report(session.runtime, { by: ["team", "business_unit", "cost_center"], ...RANGE });
  return rows
    .map((r: ReportRow) => ({ ...r.group, cost: r.cost_nanos, rows: r.rows }))
    .sort((a, b) => String(a.team).localeCompare(String(b.team)));
};

/** vLLM's rows, by the request id they carry. */
async function spanCosts(session: TestSession): Promise<Map<string, bigint>> {
  const reader = session.runtime.warehouse as unknown as { readEvents(r: TimeRange): Promise<CostRow[]> };
  const rows = (await reader.readEvents(RANGE)).filter((r) => r.event_source === "//otlp/v1/traces");
  return new Map(rows.map((r) => [r.labels["gen_ai.request.id"] ?? "", r.cost_nanos]));
}

async function run(order: "vllm-first" | "litellm-first") {
  const session = await openSession();
  try {
    if (order === "vllm-first") await sendSpans(session);
    else await sendLiteLlm(session);
    const meanwhile = await byTeam(session);
    if (order === "vllm-first") await sendLiteLlm(session);
    else await sendSpans(session);
    return { meanwhile, final: await byTeam(session), spans: await spanCosts(session) };
  } finally {
    await session.close();
    session.remove();
  }
}

describe("LiteLLM in front of a self-hosted vLLM", () => {
  it("counts each request once, LiteLLM's owner and vLLM's GPU time, the same in both orders of arrival", async () => {
    // Act
    const vllmFirst = await run("vllm-first");
    const litellmFirst = await run("litellm-first");

    // Assess: the GPU time per request, as vLLM's spans priced it.
    const span = (i: number) => vllmFirst.spans.get(`chatcmpl-${i}`) ?? -1n;
    expect(vllmFirst.spans.size).toBe(4);
    expect([...litellmFirst.spans.values()]).toEqual([...vllmFirst.spans.values()]);
    for (let i = 0; i < 4; i++) expect(span(i)).toBeGreaterThan(0n);
    const openAi = 270_000n;
    expect(vllmFirst.final).toEqual([
      { team: "assistants", business_unit: "org-consumer", cost_center: "cc-1200", cost: span(2), rows: 1 },
      { team: "platform", business_unit: "infrastructure", cost_center: "cc-0001", cost: span(3), rows: 1 },
      {
        team: "search",
        business_unit: "org-consumer",
        cost_center: "cc-1200",
        cost: span(0) + span(1) + openAi,
        rows: 3,
      },
    ]);
    expect(litellmFirst.final).toEqual(vllmFirst.final);

    // Meanwhile: vLLM alone is the deployment's configured owner's; LiteLLM alone, only its provider call.
    expect(vllmFirst.meanwhile).toEqual([
      {
        team: "platform",
        business_unit: "infrastructure",
        cost_center: "cc-0001",
        cost: span(0) + span(1) + span(2) + span(3),
        rows: 4,
      },
    ]);
    expect(litellmFirst.meanwhile).toEqual([
      { team: "search", business_unit: "org-consumer", cost_center: "cc-1200", cost: openAi, rows: 1 },
    ]);
  }, 60_000);
});
