-- DuckDB only: the connection's staging area for insert_staged_events. Temporary (per connection,
-- never written to the database file). A batch is appended here in columnar chunks, then moved into
-- cost_events by one set-based statement; running this again empties it and frees its memory. The attribution columns, which repeat across a batch,
-- are staged once per distinct combination (staged_dims) so the per-row stage holds few strings.
-- row_index is the row's position in the caller's batch, to name the duplicates back to it.
-- Numbers are staged as DOUBLE so the adapter writes them without a BigInt or value object each:
-- times as whole epoch milliseconds, counts as safe integers (both exact in a DOUBLE), and NaN for
-- NULL (no validated number is NaN). insert_staged_events turns them back into their column types.
CREATE OR REPLACE TEMP TABLE staged_dims (
  dims_id INTEGER NOT NULL,
  event_source VARCHAR NOT NULL,
  event_type VARCHAR NOT NULL,
  basis VARCHAR NOT NULL,
  team VARCHAR,
  model VARCHAR,
  model_version VARCHAR,
  business_unit VARCHAR,
  cost_center VARCHAR,
  namespace VARCHAR,
  environment VARCHAR,
  cloud VARCHAR,
  region VARCHAR,
  labels JSON,
  instance_type VARCHAR,
  accelerator VARCHAR,
  pricing_model VARCHAR,
  provider VARCHAR,
  job_phase VARCHAR,
  currency VARCHAR NOT NULL,
  price_source VARCHAR
);

CREATE OR REPLACE TEMP TABLE staged_events (
  row_index INTEGER NOT NULL,
  dims_id INTEGER NOT NULL,
  event_id VARCHAR NOT NULL,
  part INTEGER NOT NULL,
  event_ms DOUBLE NOT NULL,
  ingested_ms DOUBLE NOT NULL,
  gpu_count DOUBLE,
  gpu_seconds DOUBLE,
  input_tokens DOUBLE,
  cached_input_tokens DOUBLE,
  output_tokens DOUBLE,
  cache_hit DOUBLE,
  epoch DOUBLE,
  elapsed_seconds DOUBLE,
  cost DECIMAL(38, 9) NOT NULL,
  request_fingerprint VARCHAR,
  job_id VARCHAR,
  components JSON,
  payload_hash VARCHAR
);
