import { basename } from "node:path";
import { createImportBill, type ImportBill } from "#app/import-bill.ts";
import { createReconcileDaily, type NamedBillingSource, type ReconcileDaily } from "#app/reconcile-daily.ts";
import { createReconciliationView, type ReconciliationView } from "#app/reconciliation-view.ts";
import { layerOwnerMapping, type OwnerMapping, ownerMapping } from "#domain/billing/owner-mapping.ts";
import {
  AWS_WEB_IDENTITY_AUDIENCE,
  type BillingSourceSettings,
} from "#domain/reconciliation/reconciliation-settings.ts";
import type { AlertClaims } from "#ports/alert-claims.ts";
import type { BillingSource } from "#ports/billing-source.ts";
import type { Bus } from "#ports/bus.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import type { Warehouse } from "#ports/warehouse.ts";
import { type Config, ConfigError } from "./config.ts";

export interface ReconciliationParts {
  reconcileDaily: ReconcileDaily;
  importBill: ImportBill;
  reconciliationView: ReconciliationView;
}

/** A source's owner mapping: its own keys and rewrites on top of the section's. */
function sourceOwnerMapping(config: Config, settings: BillingSourceSettings): OwnerMapping {
  const section = config.reconciliation.ownerMapping;
  if (settings.ownerMapping === undefined) return ownerMapping(section);
  return ownerMapping(layerOwnerMapping(section, settings.ownerMapping));
}

async function createBillingSource(config: Config, settings: BillingSourceSettings): Promise<BillingSource> {
  switch (settings.kind) {
    case "gcp-billing-export": {
      const { createBigQueryClient } = await import("#adapters/bigquery/bigquery-client.ts");
      const { createGcpBillingExportBillingSource } = await import(
        "#adapters/gcp-billing-export/gcp-billing-export-billing-source.ts"
      );
      const location = settings.location ?? config.warehouse.bigquery.location;
      return createGcpBillingExportBillingSource({
        client: createBigQueryClient({ projectId: config.projectId, location }),
        table: settings.table,
        ownerMapping: sourceOwnerMapping(config, settings),
        lateDays: settings.lateDays,
        location,
        ...(settings.maximumBytesBilled === undefined
          ? {}
          : { maximumBytesBilled: settings.maximumBytesBilled }),
      });
    }
    case "aws-cost-explorer": {
      const { createAwsCostExplorerBillingSource } = await import(
        "#adapters/aws-cost-explorer/aws-cost-explorer-billing-source.ts"
      );
      return createAwsCostExplorerBillingSource({
        billingAccountId: settings.billingAccountId,
        groupByTag: settings.groupByTag,
        ownerMapping: sourceOwnerMapping(config, settings),
        maxPages: settings.maxPages,
        webIdentity:
          settings.assumeRoleArn === undefined
            ? undefined
            : { roleArn: settings.assumeRoleArn, audience: settings.audience ?? AWS_WEB_IDENTITY_AUDIENCE },
      });
    }
    case "focus-file": {
      const { createFocusFileBillingSource } = await import(
        "#adapters/focus-file/focus-file-billing-source.ts"
      );
      return createFocusFileBillingSource({
        path: settings.path,
        ownerMapping: sourceOwnerMapping(config, settings),
      });
    }
  }
}

/** The configured bill sources, each under its name (a FOCUS file's default: its file name). */
async function createBillingSources(config: Config): Promise<NamedBillingSource[]> {
  const sources: NamedBillingSource[] = [];
  for (const [index, settings] of config.reconciliation.sources.entries()) {
    const name = settings.name ?? (settings.kind === "focus-file" ? basename(settings.path) : settings.kind);
    if (sources.some((s) => s.name === name)) {
      throw new ConfigError(
        `reconciliation.sources.${index}.name: ${name} names another source too; give each a name`,
      );
    }
    sources.push({ name, source: await createBillingSource(config, settings) });
  }
  return sources;
}

/** Reconciliation's store (beside the warehouse, through its SqlRunner), sources and use cases. */
export async function composeReconciliation(
  config: Config,
  parts: { warehouse: Warehouse; bus: Bus; claims: AlertClaims; clock: Clock; logger: Logger },
): Promise<ReconciliationParts> {
  const { createWarehouseReconciliationStore } = await import(
    "#adapters/warehouse-reconciliation/warehouse-reconciliation-store.ts"
  );
  const { readFocusFile } = await import("#adapters/focus-file/focus-file-billing-source.ts");
  const store = createWarehouseReconciliationStore({ sql: parts.warehouse.sql });
  const importMapping = ownerMapping(config.reconciliation.ownerMapping);
  return {
    reconcileDaily: createReconcileDaily({
      ...parts,
      store,
      sources: await createBillingSources(config),
      settings: config.reconciliation,
    }),
    importBill: createImportBill({
      store,
      clock: parts.clock,
      logger: parts.logger,
      readBill: (path, progress) => readFocusFile(path, { ownerMapping: importMapping }, progress),
      ownerMapping: importMapping,
    }),
    reconciliationView: createReconciliationView({ store }),
  };
}
