import { describe, expect, it } from "vitest";
import { parseCostEvent } from "#domain/events/parse.ts";
import type { EventPublisher, OutgoingCloudEvent } from "#sdk/batching-publisher.ts";
import {
  canonicalJson,
  createInferenceCostRecorder,
  type InferenceCostRecorderOptions,
  type InferenceEventData,
  type InferenceRequestInfo,
  requestFingerprint,
} from "#sdk/inference-cost.ts";
import { createManualClock } from "#sdk/sdk-clock.ts";
import { type PublisherError, SdkConfigError } from "#sdk/sdk-errors.ts";

function setup(overrides: Partial<InferenceCostRecorderOptions> = {}) {
  const clock = createManualClock(Date.UTC(2026, 10, 2, 12));
  const events: OutgoingCloudEvent[] = [];
  const errors: PublisherError[] = [];
  let next = 0;
  const publisher: EventPublisher = { publish: (e) => events.push(e) };
  const recorder = createInferenceCostRecorder({
    publisher,
    source: "//inference/llm-chat/pod-1",
    model: "llm-chat",
    model_version: "2026-10",
    team: "assistants",
    business_unit: "platform",
    placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpu_count: 0.5 },
    clock,
    idFactory: () => `req-${++next}`,
    onError: (e) => errors.push(e),
    ...overrides,
  });
  const data = (i: number) => events[i]?.data as InferenceEventData;
  return { clock, events, errors, recorder, data };
}

const request = (overrides: Partial<InferenceRequestInfo> = {}): InferenceRequestInfo => ({
  method: "POST",
  path: "/v1/generate",
  headers: { "content-type": "application/json" },
  body: { prompt: "hello", max_tokens: 64 },
  ...overrides,
});

describe("createInferenceCostRecorder", () => {
  it("publishes one ai.cost.inference.v1 event per request with the wall time as GPU-seconds", async () => {
    const { clock, events, data, recorder } = setup();
    const handle = recorder.start(request());
    await clock.advance(250);
    handle.end({ status: 200 });

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      specversion: "1.0",
      id: "req-1",
      source: "//inference/llm-chat/pod-1",
      type: "ai.cost.inference.v1",
      time: "2026-11-02T12:00:00.250Z",
      datacontenttype: "application/json",
    });
    expect(data(0)).toMatchObject({
      team: "assistants",
      model: "llm-chat",
      model_version: "2026-10",
      business_unit: "platform",
      cloud: "gcp",
      region: "us-central1",
      accelerator: "nvidia-l4",
      gpu_count: 0.5,
      gpu_seconds: 0.25,
    });
  });

  it("every event it emits passes the pipeline's own validation", async () => {
    const { clock, events, recorder } = setup({ labels: { tier: "gold" }, environment: "prod" });
    for (let i = 0; i < 50; i += 1) {
      const handle = recorder.start(request({ headers: { "x-business-unit": `unit-${i % 3}` } }));
      if (i % 2 === 0) handle.setGpuSeconds(0.0123456789);
      if (i % 3 === 0) handle.setTokens({ input: 100 + i, output: 20, cachedInput: 50 });
      if (i % 5 === 0) handle.setCacheHit(true);
      await clock.advance(i);
      handle.end({ status: 200 });
    }
    const rejections = events
      .map((e) => parseCostEvent(JSON.parse(JSON.stringify(e)), new Date(clock.now())))
      .filter((r) => !r.ok);
    expect(events).toHaveLength(50);
    expect(rejections).toEqual([]);
  });

  it("takes the business unit from the header, falling back to the default", () => {
    const { data, recorder } = setup();
    recorder.start(request({ headers: { "x-business-unit": "retail" } })).end();
    recorder.start(request({ headers: { "x-business-unit": ["  ads ", "other"] } })).end();
    recorder.start(request({ headers: {} })).end();
    recorder.start(request({ headers: { "x-business-unit": "   " } })).end();
    recorder.start(request({ headers: { "x-business-unit": "x".repeat(200) } })).end();
    expect([0, 1, 2, 3, 4].map((i) => data(i).business_unit)).toEqual([
      "retail",
      "ads",
      "platform",
      "platform",
      "platform",
    ]);
  });

  it("honours a configured header name, an allow-list and the handler's override", () => {
    const { data, recorder } = setup({
      businessUnitHeader: "X-Tenant-Unit",
      allowedBusinessUnits: ["retail", "ads"],
    });
    recorder.start(request({ headers: { "x-tenant-unit": "retail" } })).end();
    recorder.start(request({ headers: { "x-tenant-unit": "made-up" } })).end();
    recorder.start(request({ headers: { "x-business-unit": "ads" } })).end();
    const handle = recorder.start(request({ headers: { "x-tenant-unit": "retail" } }));
    handle.setBusinessUnit("ads");
    handle.end();
    expect([0, 1, 2, 3].map((i) => data(i).business_unit)).toEqual(["retail", "platform", "platform", "ads"]);
  });

  it("defaults the business unit to unallocated when the team names none", () => {
    const { data, recorder } = setup({ business_unit: undefined });
    recorder.start(request()).end();
    expect(data(0).business_unit).toBe("unallocated");
  });

  it("uses GPU-seconds the handler reports instead of the wall time, and its token counts", async () => {
    const { clock, data, recorder } = setup();
    const handle = recorder.start(request());
    handle.setGpuSeconds(0.042);
    handle.setGpuSeconds(Number.NaN);
    handle.setGpuSeconds(-1);
    handle.setTokens({ input: 1200, output: 3.5, cachedInput: 800 });
    handle.setCacheHit(false);
    await clock.advance(900);
    handle.end();
    expect(data(0)).toMatchObject({
      gpu_seconds: 0.042,
      input_tokens: 1200,
      cached_input_tokens: 800,
      cache_hit: false,
    });
    expect(data(0).output_tokens).toBeUndefined();
  });

  it("publishes once however often end is called", () => {
    const { events, recorder } = setup();
    const handle = recorder.start(request());
    handle.end({ status: 200 });
    handle.end({ status: 500 });
    expect(events).toHaveLength(1);
  });

  it("fingerprints equal requests equally, whatever the key order, and different ones differently", () => {
    const { data, recorder } = setup();
    recorder.start(request({ body: { prompt: "hi", max_tokens: 64 } })).end();
    recorder.start(request({ body: { max_tokens: 64, prompt: "hi" } })).end();
    recorder.start(request({ body: { max_tokens: 64, prompt: "hi!" } })).end();
    recorder.start(request({ path: "/v1/embed", body: { max_tokens: 64, prompt: "hi" } })).end();
    recorder.start(request({ method: "PUT", body: { max_tokens: 64, prompt: "hi" } })).end();
    const prints = [0, 1, 2, 3, 4].map((i) => data(i).request_fingerprint);

    expect(prints[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(prints[1]).toBe(prints[0]);
    expect(new Set(prints).size).toBe(4);
    // Stable across processes: the same request always has this fingerprint.
    expect(requestFingerprint({ method: "post", path: "/v1/generate", headers: {}, body: "abc" })).toBe(
      requestFingerprint({ method: "POST", path: "/v1/generate", headers: {}, body: Buffer.from("abc") }),
    );
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it("fingerprints the body the framework parsed by the end of the request", () => {
    const { data, recorder } = setup();
    recorder.start(request({ body: undefined })).end({ body: { prompt: "hi" } });
    recorder.start(request({ body: { prompt: "hi" } })).end();
    expect(data(0).request_fingerprint).toBe(data(1).request_fingerprint);
  });

  it("uses a user fingerprint function, and records without one when it throws", () => {
    let calls = 0;
    const { data, errors, recorder } = setup({
      fingerprint: (r) => {
        calls += 1;
        if (calls === 2) throw new Error("bad fingerprint");
        return `user:${r.path}`;
      },
    });
    recorder.start(request()).end();
    recorder.start(request()).end();
    expect(data(0).request_fingerprint).toBe("user:/v1/generate");
    expect(data(1).request_fingerprint).toBeUndefined();
    expect(errors.map((e) => e.code)).toEqual(["internal"]);
  });

  it("skips requests the include function leaves out", () => {
    const { events, recorder } = setup({ include: (r) => r.path !== "/healthz" });
    recorder.start(request({ method: "GET", path: "/healthz", body: undefined })).end();
    recorder.start(request()).end();
    expect(events).toHaveLength(1);
  });

  it("never throws into the request path, even when the publisher or a user function does", () => {
    const errors: PublisherError[] = [];
    const recorder = createInferenceCostRecorder({
      publisher: {
        publish: () => {
          throw new Error("publisher exploded");
        },
      },
      source: "//inference/x",
      model: "m",
      model_version: "1",
      team: "t",
      placement: { cloud: "aws", region: "us-east-1", instance_type: "g5.xlarge", gpu_count: 1 },
      include: (r) => {
        if (r.path === "/boom") throw new Error("include exploded");
        return true;
      },
      onError: (e) => {
        errors.push(e);
        throw new Error("and so did onError");
      },
    });
    expect(() => recorder.start(request()).end()).not.toThrow();
    expect(() => recorder.start(request({ path: "/boom" })).end()).not.toThrow();
    expect(() => recorder.start(undefined as unknown as InferenceRequestInfo).end()).not.toThrow();
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it("refuses options that cannot make a valid event, naming the option", () => {
    const publisher: EventPublisher = { publish: () => undefined };
    const base: InferenceCostRecorderOptions = {
      publisher,
      source: "//inference/x",
      model: "m",
      model_version: "1",
      team: "t",
      placement: { cloud: "gcp", region: "us-central1", accelerator: "nvidia-l4", gpu_count: 1 },
    };
    expect(() => createInferenceCostRecorder(base)).not.toThrow();
    expect(() =>
      createInferenceCostRecorder({
        ...base,
        placement: { cloud: "gcp", region: "us-central1", gpu_count: 1 },
      }),
    ).toThrow(/placement\.instance_type/);
    expect(() =>
      createInferenceCostRecorder({ ...base, placement: { ...base.placement, gpu_count: 0 } }),
    ).toThrow(SdkConfigError);
    expect(() => createInferenceCostRecorder({ ...base, model_version: "" })).toThrow(/model_version/);
    expect(() => createInferenceCostRecorder({ ...base, source: "" })).toThrow(/source/);
  });
});
