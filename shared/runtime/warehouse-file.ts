import { existsSync } from "node:fs";
import type { Config } from "./config.ts";

/**
 * A command that only reads was pointed at a local warehouse that does not exist. Nothing was
 * opened or created: reading a warehouse never makes one (an empty one would answer every report,
 * budget and export with zeros).
 */
export class NoWarehouseError extends Error {
  override readonly name = "NoWarehouseError";
  /** The absolute path of the DuckDB file that is not there. */
  readonly path: string;

  constructor(path: string) {
    super(`no warehouse at ${path} (run finops start or finops ingest first, or set FINOPS_DUCKDB_PATH)`);
    this.path = path;
  }
}

/** Throws NoWarehouseError when the configuration's local warehouse file does not exist (BigQuery: never). */
export function assertWarehouseExists(config: Config): void {
  if (config.warehouse.kind !== "duckdb") return;
  const { path } = config.warehouse.duckdb;
  if (!existsSync(path)) throw new NoWarehouseError(path);
}
