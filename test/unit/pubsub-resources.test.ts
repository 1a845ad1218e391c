import { describe, expect, it } from "vitest";
import { GRPC_STATUS } from "#adapters/pubsub/pubsub-errors.ts";
import {
  checkPubSubResources,
  createPubSubResources,
  type PubSubAdmin,
  type PubSubResources,
} from "#adapters/pubsub/pubsub-resources.ts";
import { TOPICS } from "#ports/bus.ts";
import { BusError } from "#ports/bus-error.ts";
import { silentLogger } from "#ports/logger.ts";
import { localSubscriptions } from "#runtime/local-subscriptions.ts";
import { FUNCTIONS } from "../../functions/registry.ts";

const PROJECT = "finops-prod";

function grpcError(code: number): Error {
  return Object.assign(new Error(`${code} status`), { code });
}

interface FakeState {
  topics: Set<string>;
  /** Subscription name → topic path. */
  subscriptions: Map<string, string>;
  created: string[];
  /** gRPC code every call fails with, when set. */
  failWith?: number;
}

/** Stands in for the Pub/Sub client: topics and subscriptions in memory, NOT_FOUND for what is not there. */
function fakeAdmin(state: FakeState): PubSubAdmin {
  const guard = () => {
    if (state.failWith !== undefined) throw grpcError(state.failWith);
  };
  return {
    async createTopic(name) {
      guard();
      if (state.topics.has(name)) throw grpcError(GRPC_STATUS.ALREADY_EXISTS);
      state.topics.add(name);
      state.created.push(`topic ${name}`);
    },
    topic: (topic) => ({
      async getMetadata() {
        guard();
        if (!state.topics.has(topic)) throw grpcError(GRPC_STATUS.NOT_FOUND);
        return [{ name: `projects/${PROJECT}/topics/${topic}` }];
      },
      async createSubscription(name, options) {
        guard();
        if (state.subscriptions.has(name)) throw grpcError(GRPC_STATUS.ALREADY_EXISTS);
        state.subscriptions.set(name, `projects/${PROJECT}/topics/${topic}`);
        state.created.push(
          `subscription ${name} to ${topic}, dead letters to ${options?.deadLetterPolicy?.deadLetterTopic}`,
        );
      },
    }),
    subscription: (name) => ({
      async getMetadata() {
        guard();
        const topic = state.subscriptions.get(name);
        if (topic === undefined) throw grpcError(GRPC_STATUS.NOT_FOUND);
        return [{ topic }];
      },
    }),
  };
}

const DEAD_LETTERS: Record<string, string> = {
  [TOPICS.events]: TOPICS.eventsDeadLetter,
  [TOPICS.alerts]: TOPICS.alertsDeadLetter,
  [TOPICS.gcpBudgets]: TOPICS.gcpBudgetsDeadLetter,
};

/** What the local stack needs: every topic, and its subscriptions with their dead-letter topics. */
const LOCAL: PubSubResources = {
  topics: Object.values(TOPICS),
  subscriptions: localSubscriptions(FUNCTIONS).map(({ topic, name }) => ({
    name,
    topic,
    ...(DEAD_LETTERS[topic] === undefined ? {} : { deadLetterTopic: DEAD_LETTERS[topic] }),
  })),
};

async function failure(promise: Promise<unknown>): Promise<BusError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BusError);
  return error as BusError;
}

describe("the local stack's Pub/Sub resources on real Pub/Sub: checked, never created", () => {
  it("names, in one line, every topic and subscription that is missing", async () => {
    const state: FakeState = {
      topics: new Set([TOPICS.events, TOPICS.alerts, TOPICS.gcpBudgets, TOPICS.gcpBudgetsDeadLetter]),
      subscriptions: new Map([
        ["routeGcpBudget-local", `projects/${PROJECT}/topics/${TOPICS.gcpBudgets}`],
        ["notifySlack-local", `projects/${PROJECT}/topics/${TOPICS.events}`],
      ]),
      created: [],
    };

    const error = await failure(checkPubSubResources(fakeAdmin(state), PROJECT, LOCAL));

    expect(error.code).toBe("invalid");
    expect(error.message).not.toContain("\n");
    expect(error.message).toMatch(
      new RegExp(
        `^Pub/Sub project ${PROJECT} lacks ` +
          "topic finops-cost-events-dead-letter, topic finops-alerts-dead-letter, " +
          "subscription ingestEvents-local \\(to topic finops-cost-events\\), " +
          "subscription notifySlack-local to topic finops-alerts \\(it exists, attached to " +
          `projects/${PROJECT}/topics/finops-cost-events\\); nothing is created on real Pub/Sub`,
      ),
    );
    expect(error.message).toMatch(/PUBSUB_EMULATOR_HOST/);
    expect(state.created).toEqual([]);
  });

  it("passes when everything is there", async () => {
    const state: FakeState = {
      topics: new Set(Object.values(TOPICS)),
      subscriptions: new Map(
        LOCAL.subscriptions.map((s) => [s.name, `projects/${PROJECT}/topics/${s.topic}`] as const),
      ),
      created: [],
    };
    await expect(checkPubSubResources(fakeAdmin(state), PROJECT, LOCAL)).resolves.toBeUndefined();
  });

  it("reports a check it could not make as the failure it is, not as something missing", async () => {
    const denied = await failure(
      checkPubSubResources(
        fakeAdmin({
          topics: new Set(),
          subscriptions: new Map(),
          created: [],
          failWith: GRPC_STATUS.PERMISSION_DENIED,
        }),
        PROJECT,
        LOCAL,
      ),
    );
    expect(denied.code).toBe("invalid");
    expect(denied.message).toMatch(/^cannot check Pub\/Sub (topic|subscription) .*: 7 status$/);

    const down = await failure(
      checkPubSubResources(
        fakeAdmin({
          topics: new Set(),
          subscriptions: new Map(),
          created: [],
          failWith: GRPC_STATUS.UNAVAILABLE,
        }),
        PROJECT,
        LOCAL,
      ),
    );
    expect(down.code).toBe("unavailable");
  });
});

describe("createPubSubResources (the emulator)", () => {
  it("creates the topics, then each subscription with its dead-letter topic, and is idempotent", async () => {
    const state: FakeState = { topics: new Set([TOPICS.alerts]), subscriptions: new Map(), created: [] };
    const policy = { maxDeliveryAttempts: 5 };

    await createPubSubResources(fakeAdmin(state), PROJECT, LOCAL, policy, silentLogger);

    expect([...state.topics].sort()).toEqual(Object.values(TOPICS).sort());
    expect(state.created.filter((c) => c.startsWith("subscription")).sort()).toEqual([
      `subscription ingestEvents-local to finops-cost-events, dead letters to projects/${PROJECT}/topics/finops-cost-events-dead-letter`,
      `subscription notifySlack-local to finops-alerts, dead letters to projects/${PROJECT}/topics/finops-alerts-dead-letter`,
      `subscription routeGcpBudget-local to finops-gcp-budgets, dead letters to projects/${PROJECT}/topics/finops-gcp-budgets-dead-letter`,
    ]);

    const before = state.created.length;
    await createPubSubResources(fakeAdmin(state), PROJECT, LOCAL, policy, silentLogger);
    expect(state.created).toHaveLength(before);
    await expect(checkPubSubResources(fakeAdmin(state), PROJECT, LOCAL)).resolves.toBeUndefined();
  });
});
