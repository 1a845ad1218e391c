import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { FUNCTIONS, type FunctionSpec } from "../../functions/registry.ts";
import { resolveSettings } from "../../infra/function-settings.ts";
import {
  checkInvokerMembers,
  FUNCTION_ROLES,
  grantsOf,
  INGEST_ROLES,
  roleSetFor,
  secretsReadBy,
} from "../../infra/iam-roles.ts";
import { accountId, functionName, kebab } from "../../infra/names.ts";
import { checkCron, schedulerSettings } from "../../infra/schedule.ts";
import {
  createSourceArchive,
  ENTRY_FILE,
  entryModule,
  selectSourceFiles,
  sourceFiles,
} from "../../infra/source-archive.ts";
import { deadLetterOf, topicKeyOf } from "../../infra/topics.ts";

const http = (target: string): FunctionSpec => ({ target, folder: kebab(target), trigger: { kind: "http" } });

describe("names", () => {
  it("kebab-cases targets as the registry's folders are named", () => {
    for (const f of FUNCTIONS) expect(kebab(f.target)).toBe(f.folder);
  });

  it("derives service account ids from the component name and fits them in 30 characters", () => {
    expect(accountId("finops", "ingest-events")).toBe("finops-ingest-events");
    const long = accountId("finops-production-eu", "refresh-rollups", "sch");
    expect(long).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    expect(long).not.toBe(accountId("finops-production-eu", "refresh-rollups", "sa"));
    expect(accountId("finops-production-eu", "refresh-rollups", "sch")).toBe(long);
  });

  it("refuses ids a service account cannot have", () => {
    expect(() => accountId("1x", "y")).toThrow(/not valid/);
    expect(functionName("finops", "ingest-http")).toBe("finops-ingest-http");
  });
});

describe("role sets", () => {
  it("has one for every function in the registry", () => {
    for (const f of FUNCTIONS) expect(() => roleSetFor(f.target)).not.toThrow();
    expect(() => roleSetFor("notThere")).toThrow(/iam-roles/);
  });

  it("grants ingest exactly dataEditor on the dataset, jobUser on the project, publisher on the dead-letter topic", () => {
    expect(grantsOf(INGEST_ROLES)).toEqual([
      { scope: "project", role: "roles/bigquery.jobUser" },
      { scope: "dataset", role: "roles/bigquery.dataEditor" },
      { scope: "topic:eventsDeadLetter", role: "roles/pubsub.publisher" },
    ]);
    expect(FUNCTION_ROLES.ingestHttp).toBe(INGEST_ROLES);
  });

  it("grants refresh exactly dataEditor and jobUser", () => {
    expect(grantsOf(roleSetFor("refreshRollups"))).toEqual([
      { scope: "project", role: "roles/bigquery.jobUser" },
      { scope: "dataset", role: "roles/bigquery.dataEditor" },
    ]);
  });

  it("grants the functions being added what they need, and no more", () => {
    const scopes = (target: string) => grantsOf(roleSetFor(target)).map((g) => `${g.scope} ${g.role}`);
    expect(scopes("reconcileDaily")).toEqual([
      "project roles/bigquery.jobUser",
      "dataset roles/bigquery.dataEditor",
      "topic:alerts roles/pubsub.publisher",
      "billingExports roles/bigquery.dataViewer",
    ]);
    expect(scopes("sendScorecardDigest")).toEqual([
      "project roles/bigquery.jobUser",
      "dataset roles/bigquery.dataEditor",
      "topic:alerts roles/pubsub.publisher",
    ]);
    expect(scopes("dashboard")).toEqual([
      "project roles/bigquery.jobUser",
      "dataset roles/bigquery.dataViewer",
    ]);
    expect(scopes("evaluateBudgets")).toContain("enforcementTopics roles/pubsub.publisher");
  });

  it("lets the notifier alone read the Slack token", () => {
    const readers = Object.entries(FUNCTION_ROLES).filter(([, set]) => secretsReadBy(set).length > 0);
    expect(readers.map(([target, set]) => [target, secretsReadBy(set)])).toEqual([
      ["notifySlack", ["slackBotToken"]],
    ]);
  });

  it("refuses public and malformed invokers", () => {
    expect(
      checkInvokerMembers("ingestHttp", ["serviceAccount:a@p.iam.gserviceaccount.com", "group:g@x.com"]),
    ).toHaveLength(2);
    expect(() => checkInvokerMembers("ingestHttp", ["allUsers"])).toThrow(/allUsers may not invoke/);
    expect(() => checkInvokerMembers("ingestHttp", ["allAuthenticatedUsers"])).toThrow(/may not invoke/);
    expect(() => checkInvokerMembers("ingestHttp", ["someone@example.com"])).toThrow(/not an IAM member/);
  });
});

describe("function settings", () => {
  it("gives ingest 512Mi, one vCPU, concurrency 8 and 60 s", () => {
    const ingest = FUNCTIONS.find((f) => f.target === "ingestEvents");
    if (!ingest) throw new Error("ingestEvents missing from the registry");
    expect(resolveSettings(ingest)).toMatchObject({
      availableMemory: "512Mi",
      availableCpu: "1",
      concurrency: 8,
      timeoutSeconds: 60,
    });
  });

  it("refuses concurrency above 1 without a whole vCPU, as gen2 does", () => {
    expect(() => resolveSettings(http("x"), { availableCpu: undefined })).toThrow(/needs availableCpu >= 1/);
    expect(() => resolveSettings(http("x"), { availableCpu: "0.5", concurrency: 2 })).toThrow(
      /availableCpu >= 1/,
    );
    expect(resolveSettings(http("x"), { availableCpu: undefined, concurrency: 1 }).concurrency).toBe(1);
  });

  it("sizes the notifier, routers, reports and reconciliation for their load", () => {
    const settings = (target: string, kind: FunctionSpec["trigger"]) =>
      resolveSettings({ target, folder: kebab(target), trigger: kind });
    expect(settings("notifySlack", { kind: "topic", topic: "finops-alerts" })).toMatchObject({
      concurrency: 4,
      maxInstances: 3,
    });
    expect(settings("routeAwsAnomaly", { kind: "http" })).toMatchObject({
      availableMemory: "256Mi",
      availableCpu: undefined,
      concurrency: 1,
    });
    expect(settings("dashboard", { kind: "http" }).availableMemory).toBe("1Gi");
    expect(settings("reconcileDaily", { kind: "schedule", cron: "0 6 * * *" })).toMatchObject({
      availableMemory: "1Gi",
      timeoutSeconds: 900,
      maxInstances: 1,
    });
  });

  it("caps event-triggered timeouts at 540 s", () => {
    const topic: FunctionSpec = {
      target: "t",
      folder: "t",
      trigger: { kind: "topic", topic: "finops-alerts" },
    };
    expect(() => resolveSettings(topic, { timeoutSeconds: 600 })).toThrow(/1 to 540/);
    expect(resolveSettings(http("x"), { timeoutSeconds: 600 }).timeoutSeconds).toBe(600);
  });
});

describe("schedules", () => {
  it("accepts the registry's crons and normalises spacing", () => {
    const crons = FUNCTIONS.flatMap((f) => (f.trigger.kind === "schedule" ? [f.trigger.cron] : []));
    for (const cron of crons) expect(checkCron(cron)).toBe(cron);
    expect(checkCron(" 0  */2 * * 1-5 ")).toBe("0 */2 * * 1-5");
    expect(checkCron("0,30 8-18 1 1,7 0")).toBe("0,30 8-18 1 1,7 0");
  });

  it("refuses malformed crons with the field named", () => {
    expect(() => checkCron("*/10 * * *")).toThrow(/5 fields/);
    expect(() => checkCron("61 * * * *")).toThrow(/minute 61/);
    expect(() => checkCron("* 5-2 * * *")).toThrow(/backwards/);
    expect(() => checkCron("* * * JAN *")).toThrow(/month/);
  });

  it("runs in UTC with a deadline covering the function's timeout", () => {
    expect(schedulerSettings("*/10 * * * *", 300)).toEqual({
      schedule: "*/10 * * * *",
      timeZone: "Etc/UTC",
      attemptDeadline: "330s",
      retryCount: 1,
    });
    expect(schedulerSettings("* * * * *", 3600).attemptDeadline).toBe("1800s");
  });
});

describe("topics", () => {
  it("maps registry topic names to TOPICS keys", () => {
    expect(topicKeyOf("finops-cost-events")).toBe("events");
    expect(() => topicKeyOf("nope")).toThrow(/not in TOPICS/);
  });

  it("pairs each topic a function reads with its dead-letter topic", () => {
    expect(deadLetterOf("alerts")).toBe("alertsDeadLetter");
    expect(() => deadLetterOf("alertsDeadLetter")).toThrow(/has no dead-letter topic/);
  });
});

describe("source archive", () => {
  it("takes functions, shared, sql, config and the manifests; leaves tests, dotfiles and the rest", () => {
    const picked = selectSourceFiles([
      "package.json",
      "package-lock.json",
      "functions/registry.ts",
      "functions/ingest-http/index.ts",
      "shared/domain/money.ts",
      "shared/domain/money.test.ts",
      "shared/.DS_Store",
      "shared/.cache/x.ts",
      "sql/bigquery/report.sql",
      "config/price-catalog.json",
      "infra/index.ts",
      "test/unit/money.test.ts",
      "bin/finops.ts",
      "data/finops.duckdb",
      "tsconfig.json",
      "functions-extra/x.ts",
    ]);
    expect(picked).toEqual([
      "config/price-catalog.json",
      "functions/ingest-http/index.ts",
      "functions/registry.ts",
      "package-lock.json",
      "package.json",
      "shared/domain/money.ts",
      "sql/bigquery/report.sql",
    ]);
  });

  it("generates an entry that loads only the target's module and refuses a Node without type stripping", () => {
    const entry = entryModule(FUNCTIONS);
    expect(entry).toContain("process.features.typescript");
    expect(entry).toContain('"ingestEvents":"ingest-events"');
    expect(entry).toContain("process.env.FUNCTION_TARGET");
  });

  it("builds the archive from a tree with the generated files, and names it by content", async () => {
    const root = mkdtempSync(join(tmpdir(), "finops-archive-"));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write("package.json", "{}");
    write("package-lock.json", "{}");
    write("functions/ingest-http/index.ts", "export {};");
    write("functions/ingest-http/index.test.ts", "export {};");
    write("infra/index.ts", "export {};");
    const specs = [http("ingestHttp")];
    const archive = (config: string) =>
      createSourceArchive(root, sourceFiles(root, specs), specs, { "finops.config.json": config });
    const first = archive("{}");
    expect(first.files).toEqual([
      "finops.config.json",
      "functions/ingest-http/index.ts",
      ENTRY_FILE,
      "package-lock.json",
      "package.json",
    ]);
    expect(Object.keys(await first.archive.assets).sort()).toEqual([...first.files].sort());
    expect(archive("{}").hash).toBe(first.hash);
    expect(archive('{"version":1}').hash).not.toBe(first.hash);
    write("functions/ingest-http/index.ts", "export const changed = 1;");
    expect(archive("{}").hash).not.toBe(first.hash);
    expect(() => sourceFiles(root, [http("ingestEvents")])).toThrow(
      /functions\/ingest-events\/index.ts is missing/,
    );
  });
});
