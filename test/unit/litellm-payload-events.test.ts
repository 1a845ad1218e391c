import { describe, expect, it } from "vitest";
import { parseCostEvent } from "#domain/events/parse.ts";
import { toCostRows } from "#domain/ingest/to-cost-rows.ts";
import { decodeLoggingBody, keptOfPayload, LoggingBodyError } from "#domain/litellm/logging-payload.ts";
import { type PayloadUse, payloadUse } from "#domain/litellm/payload-events.ts";
import { type Deployment, deploymentAtApiBase, deploymentsSchema } from "#domain/otlp/deployments.ts";
import { shippedPricer } from "../support/expected-costs.ts";
import {
  LLAMA_BEHIND_GATEWAY,
  loggingPayload,
  SECRET_MARKERS,
  selfHostedPayload,
} from "../support/litellm-payloads.ts";

/**
 * What each StandardLoggingPayload LiteLLM's generic_api callback sends becomes, from payloads
 * shaped like the fixture (test/fixtures/litellm): provider calls priced by tokens, cache hits free,
 * failures as they were charged, self-hosted calls an attribution of the deployment's span.
 */

const DEPLOYMENTS: Deployment[] = deploymentsSchema.parse([LLAMA_BEHIND_GATEWAY]);

/** The fixture's own times (epoch seconds 1765100000.125 to 1765100001.875). */
const NOW = new Date("2025-12-07T10:00:00.000Z");

function eventOf(use: PayloadUse) {
  if (use.use !== "event") throw new Error(`refused: ${use.reason}`);
  return use;
}

/** The rows ingest would store for the payload's event, priced by the test catalog. */
function rowsOf(use: PayloadUse) {
  const parsed = parseCostEvent(eventOf(use).event, NOW);
  if (!parsed.ok) throw new Error(parsed.rejection.reason);
  const rows = toCostRows(parsed.event, shippedPricer(), NOW);
  if (!rows.ok) throw new Error(rows.rejection.reason);
  return rows.rows;
}

describe("a provider call", () => {
  it("is an inference event priced by the token catalog: owner from the key, model group as the model", () => {
    // Act
    const use = eventOf(payloadUse(loggingPayload(), DEPLOYMENTS));

    // Assess
    expect(use.kind).toBe("provider");
    expect(use.event).toMatchObject({
      id: "chatcmpl-0f2c9a7e5b1d4c3a",
      source: "//litellm",
      type: "ai.cost.inference.v1",
      time: "2025-12-07T09:33:21.875Z",
      data: {
        team: "assistants",
        business_unit: "org-consumer",
        cost_center: "cc-1200",
        environment: "prod",
        model: "chat-fast",
        model_version: "gpt-4o-mini",
        provider: "openai",
        input_tokens: 1000,
        output_tokens: 200,
        labels: {
          "litellm.team_id": "team-7f3a",
          "litellm.end_user": "tenant-acme",
          "litellm.model_group": "chat-fast",
          "litellm.status": "success",
        },
      },
    });
    // gpt-4o-mini (by the provider's model, the group is no catalog name): 1000 × 0.15 + 200 × 0.60 per million.
    expect(rowsOf(use)).toMatchObject([{ cost_nanos: 270_000n, model: "chat-fast" }]);
  });

  it("never carries the prompt or the answer", () => {
    const text = JSON.stringify(eventOf(payloadUse(loggingPayload(), DEPLOYMENTS)).event);
    for (const marker of SECRET_MARKERS) expect(text).not.toContain(marker);
    expect(text).not.toMatch(/"messages"|"response"/);
  });

  it("takes the business unit from a request tag before the key's organization", () => {
    const use = eventOf(
      payloadUse(loggingPayload({ request_tags: ["business_unit:payments", "x"] }), DEPLOYMENTS),
    );
    expect(use.event.data).toMatchObject({ business_unit: "payments" });
    expect(use.event.data).not.toHaveProperty("environment");
  });

  it("with no team on the key is unallocated", () => {
    const use = eventOf(
      payloadUse(
        loggingPayload({ metadata: { user_api_key_team_alias: null, user_api_key_team_id: null } }),
        DEPLOYMENTS,
      ),
    );
    expect(use.event.data).toMatchObject({ team: "unallocated" });
  });

  it("that failed is priced from the usage LiteLLM logged: none, so nothing", () => {
    const use = payloadUse(
      loggingPayload({ status: "failure", prompt_tokens: 0, completion_tokens: 0, response_cost: 0 }),
      DEPLOYMENTS,
    );
    expect(eventOf(use).event.data).toMatchObject({ labels: { "litellm.status": "failure" } });
    expect(rowsOf(use)).toMatchObject([{ cost_nanos: 0n, input_tokens: 0, output_tokens: 0 }]);
  });
});

describe("a cache hit", () => {
  it("costs nothing, on a provider or a deployment alike", () => {
    for (const payload of [
      loggingPayload({ id: "chatcmpl-1_cache_hit1765100001.9", cache_hit: true }),
      {
        ...selfHostedPayload("chatcmpl-2_cache_hit1", "search", "http://vllm-llama.inference:8000/v1", {
          startMs: 1765100000000,
          endMs: 1765100000100,
        }),
        cache_hit: true,
      },
    ]) {
      const use = eventOf(payloadUse(payload, DEPLOYMENTS));
      expect(use.kind).toBe("cache-hit");
      expect(use.event).toMatchObject({
        type: "ai.cost.inference.v1",
        data: { cache_hit: true, cost_nanos: "0" },
      });
      expect(rowsOf(use)).toMatchObject([{ cost_nanos: 0n, cache_hit: true }]);
    }
  });
});

describe("a call to a configured deployment", () => {
  const window = {
    startMs: Date.parse("2025-12-07T09:59:30.000Z"),
    endMs: Date.parse("2025-12-07T09:59:34.000Z"),
  };

  it("is an attribution of the deployment's request, by LiteLLM's id, whatever the api_base's trailing path", () => {
    for (const apiBase of [
      "http://vllm-llama.inference:8000/v1",
      "http://VLLM-LLAMA.inference:8000/v1/",
      "http://vllm-llama.inference:8000/v1/chat/completions",
    ]) {
      const use = eventOf(
        payloadUse(selfHostedPayload("chatcmpl-abc", "search", apiBase, window), DEPLOYMENTS),
      );
      expect(use.kind).toBe("self-hosted");
      expect(use.event).toMatchObject({
        id: "chatcmpl-abc",
        source: "//litellm",
        type: "ai.cost.attribution.v1",
        time: "2025-12-07T09:59:34.000Z",
        data: {
          deployment: "llama-chat",
          request_id: "chatcmpl-abc",
          request_start: "2025-12-07T09:59:30.000Z",
          team: "search",
          business_unit: "org-consumer",
        },
      });
    }
  });

  it("is stored as costless rows in every hour the deployment's span may end in, keyed by its labels", () => {
    const rows = rowsOf(
      payloadUse(
        selfHostedPayload("chatcmpl-abc", "search", "http://vllm-llama.inference:8000/v1", window),
        DEPLOYMENTS,
      ),
    );
    // 09:54:30 to 10:04:34 with the five minutes of clock skew either side: two hours.
    expect(rows.map((r) => r.event_time.toISOString())).toEqual([
      "2025-12-07T09:54:30.000Z",
      "2025-12-07T10:00:00.000Z",
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({
        event_type: "ai.cost.attribution.v1",
        cost_nanos: 0n,
        team: "search",
        labels: { "otel.deployment": "llama-chat", "gen_ai.request.id": "chatcmpl-abc" },
      });
    }
  });

  it("matches api_bases by whole path segments only", () => {
    expect(deploymentAtApiBase(DEPLOYMENTS, "http://vllm-llama.inference:8000/v10")).toBeUndefined();
    expect(deploymentAtApiBase(DEPLOYMENTS, "not a url")).toBeUndefined();
  });
});

describe("a payload that cannot become an event is refused, naming LiteLLM's field", () => {
  it.each([
    ["no id", { id: undefined }, "id"],
    ["no end time", { endTime: null }, "endTime"],
    ["an end before its start", { endTime: 1765099999 }, "endTime"],
    [
      "no provider and no deployment's api_base",
      { custom_llm_provider: null, api_base: "http://10.0.0.9:8000/v1" },
      "custom_llm_provider",
    ],
  ])("%s", (_name, overrides, field) => {
    const use = payloadUse({ ...loggingPayload(), ...overrides }, DEPLOYMENTS);
    expect(use).toMatchObject({ use: "refused", field });
  });
});

describe("the callback's bodies", () => {
  const a = loggingPayload({ id: "a" });
  const b = loggingPayload({ id: "b" });

  it("reads a JSON array (json_array), one object (single) and NDJSON (ndjson)", () => {
    expect(decodeLoggingBody(JSON.stringify([a, b])).map((p) => (p as { id: string }).id)).toEqual([
      "a",
      "b",
    ]);
    expect(decodeLoggingBody(JSON.stringify(a))).toHaveLength(1);
    expect(decodeLoggingBody(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`)).toHaveLength(2);
  });

  it.each([
    ["an empty body", "  ", "body"],
    ["a JSON scalar", "42", "body"],
    ["a bad NDJSON line", `${JSON.stringify(a)}\n{"id": "b",`, "body line 2"],
  ])("refuses %s, naming where", (_name, body, field) => {
    expect(() => decodeLoggingBody(body)).toThrow(LoggingBodyError);
    try {
      decodeLoggingBody(body);
    } catch (error) {
      expect((error as LoggingBodyError).field).toBe(field);
    }
  });
});

describe("keptOfPayload: what may be stored of a refused payload", () => {
  it("keeps the plain fields the schema reads and the key's ids; drops prompt, answer and client metadata", () => {
    const kept = keptOfPayload({
      model: "gpt-4o",
      prompt_tokens: 12,
      startTime: 1_765_100_000.5,
      cache_hit: false,
      request_tags: ["a", "b"],
      messages: [{ role: "user", content: "SECRET-PROMPT" }],
      response: { choices: [{ message: { content: "SECRET-ANSWER" } }] },
      // A field the schema reads, holding what it never would: dropped, not kept as it is.
      model_group: { injected: "SECRET-NESTED" },
      end_user: ["SECRET-LIST", { x: 1 }],
      metadata: {
        user_api_key_team_id: "team-1",
        user_api_key_hash: "SECRET-KEY-HASH",
        spend_logs_metadata: { note: "SECRET-METADATA" },
      },
    });
    expect(kept).toEqual({
      model: "gpt-4o",
      prompt_tokens: 12,
      startTime: 1_765_100_000.5,
      cache_hit: false,
      request_tags: ["a", "b"],
      metadata: { user_api_key_team_id: "team-1" },
    });
    expect(JSON.stringify(kept)).not.toMatch(/SECRET/);
  });

  it("keeps nothing of what is not an object", () => {
    for (const raw of [null, 42, "text", ["a"]]) expect(keptOfPayload(raw)).toEqual({});
  });
});
