import { readFileSync } from "node:fs";
import { dirname, isAbsolute, posix, relative, resolve, sep } from "node:path";
import { parseAlertRouting } from "#domain/alerts/alert-routing.ts";
import { type Budget, BudgetConfigError, parseBudgets } from "#domain/budgets/budget-config.ts";
import { ConfigError, parseConfig } from "#runtime/config.ts";
import type { BillingExportDataset } from "./grants.ts";
import { selectSourceFiles } from "./source-archive.ts";

/**
 * The configuration file the deployed functions run with (FINOPS_CONFIG): the stack's configuration
 * file (finops:configFile: budgets, pricing, routing, allocations...) with what only the deployment
 * knows laid over it: the BigQuery dataset and retention, the Pub/Sub bus, the Slack channel map from
 * finops:slackChannels, the team of each generated Cloud Billing budget, and the SNS topic and Cost
 * Explorer role this stack created. Validated with the runtime's own schema, so a bad file fails `pulumi up`, not the functions.
 */
export interface ConfigSource {
  /** The file as configured, for messages; absent when the stack names none. */
  file?: string;
  raw: Readonly<Record<string, unknown>>;
  budgets: readonly Budget[];
  /** The Cloud Billing export tables reconciliation reads (`[project.]dataset.table`). */
  billingExportTables: readonly string[];
}

export interface DeploymentSettings {
  dataset: string;
  location: string;
  partitionExpirationDays: number;
  /** alerts.routing entries (fallbackChannel, teamChannel, teams, budgets, severities) over the file's. */
  slackChannels?: Readonly<Record<string, unknown>>;
  /** Display name of each generated Cloud Billing budget → the team that owns it. */
  gcpBudgetTeams: Readonly<Record<string, string>>;
  /** SNS topics of this stack that deliver AWS Cost Anomaly Detection notifications. */
  awsTopicArns: readonly string[];
  /** The Cost Explorer role of this stack, assumed with a Google ID token for `audience`. */
  costExplorerRole?: CostExplorerRole;
}

export interface CostExplorerRole {
  roleArn: string;
  audience: string;
}

type Section = Readonly<Record<string, unknown>>;

function section(value: unknown): Section {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Section) : {};
}

/** A pricing.catalog path, which the file resolves against its own folder, as the archive's root sees it. */
function catalogInArchive(root: string, file: string, catalog: unknown): string | undefined {
  if (typeof catalog !== "string") return undefined;
  const path = relative(root, resolve(root, dirname(file), catalog))
    .split(sep)
    .join(posix.sep);
  if (isAbsolute(path) || selectSourceFiles([path]).length === 0) {
    throw new ConfigError(
      `${file}: pricing.catalog ${catalog} is not in the functions' source (config/, shared/, sql/, functions/)`,
    );
  }
  return path;
}

/** Reads and validates the stack's configuration file (a path relative to the repository root). */
export function readConfigSource(root: string, file: string | undefined): ConfigSource {
  if (file === undefined) return { raw: { version: 1 }, budgets: [], billingExportTables: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(resolve(root, file), "utf8"));
  } catch (cause) {
    throw new ConfigError(`finops:configFile ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = parseConfig(raw, file);
  let budgets: Budget[];
  try {
    budgets = parseBudgets(section(raw).budgets);
  } catch (error) {
    if (!(error instanceof BudgetConfigError)) throw error;
    throw new ConfigError(
      `invalid configuration in ${file}:\n${error.problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  const pricing = section(section(raw).pricing);
  const catalog = catalogInArchive(root, file, pricing.catalog);
  return {
    file,
    raw: catalog === undefined ? section(raw) : { ...section(raw), pricing: { ...pricing, catalog } },
    budgets,
    billingExportTables: parsed.reconciliation.sources.flatMap((source) =>
      source.kind === "gcp-billing-export" ? [source.table] : [],
    ),
  };
}

/** The dataset of a billing export table named `project.dataset.table` or `dataset.table` (this project). */
export function billingExportDataset(table: string, project: string): BillingExportDataset {
  const parts = table.split(/[.:]/);
  const [datasetId, projectId] = parts.length === 3 ? [parts[1], parts[0]] : [parts[0], project];
  return { project: projectId ?? project, datasetId: datasetId ?? table };
}

/** Checks finops:slackChannels as the notifier will read it; the error names the key. */
export function checkSlackChannels(value: unknown): Section | undefined {
  if (value === undefined) return undefined;
  parseAlertRouting(value, "finops:slackChannels");
  return section(value);
}

/** The file's reconciliation section, its Cost Explorer sources that name no role of their own assuming the stack's. */
function withCostExplorerRole(reconciliation: Section, role: CostExplorerRole | undefined): Section {
  const { sources } = reconciliation;
  if (role === undefined || !Array.isArray(sources)) return reconciliation;
  return {
    ...reconciliation,
    sources: sources.map((source: unknown) => {
      const s = section(source);
      return s.kind === "aws-cost-explorer" && s.assumeRoleArn === undefined
        ? { ...s, assumeRoleArn: role.roleArn, audience: role.audience }
        : source;
    }),
  };
}

const ROUTING_MAPS = ["teams", "budgets", "severities"] as const;

function mergeRouting(file: Section, stack: Section | undefined): Section {
  if (stack === undefined) return file;
  const maps = ROUTING_MAPS.filter((key) => file[key] !== undefined || stack[key] !== undefined);
  return {
    ...file,
    ...stack,
    ...Object.fromEntries(maps.map((key) => [key, { ...section(file[key]), ...section(stack[key]) }])),
  };
}

/** The deployed configuration file's text. */
export function deployedConfig(source: ConfigSource, settings: DeploymentSettings): string {
  const { raw } = source;
  const warehouse = section(raw.warehouse);
  const alerts = section(raw.alerts);
  const gcpBudgets = section(raw.gcpBudgets);
  const aws = section(raw.awsAnomalies);
  const topicArns = [
    ...new Set([...((aws.topicArns as string[] | undefined) ?? []), ...settings.awsTopicArns]),
  ];
  const config = {
    ...raw,
    warehouse: {
      ...warehouse,
      kind: "bigquery",
      bigquery: {
        ...section(warehouse.bigquery),
        dataset: settings.dataset,
        location: settings.location,
        partitionExpirationDays: settings.partitionExpirationDays,
        // The stack creates every table and view; the functions hold no DDL rights to need.
        createTables: false,
      },
    },
    bus: { kind: "pubsub" },
    alerts: { ...alerts, routing: mergeRouting(section(alerts.routing), settings.slackChannels) },
    // A team the file names for a budget wins over the budget's owner.
    gcpBudgets: { ...gcpBudgets, teams: { ...settings.gcpBudgetTeams, ...section(gcpBudgets.teams) } },
    ...(topicArns.length === 0 ? {} : { awsAnomalies: { ...aws, topicArns } }),
    ...(raw.reconciliation === undefined
      ? {}
      : { reconciliation: withCostExplorerRole(section(raw.reconciliation), settings.costExplorerRole) }),
  };
  parseConfig(config, `the deployed configuration (from ${source.file ?? "defaults"})`);
  return `${JSON.stringify(config, null, 2)}\n`;
}
