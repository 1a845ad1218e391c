-- DuckDB only: the connection's staging area for insert_staged_events. Temporary (per connection,
-- never written to the database file). A batch is appended here in columnar chunks, then moved into
-- cost_events by one set-based statement. The attribution columns, which repeat across a batch,
-- are staged once per distinct combination (staged_dims) so the per-row stage holds few strings.
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
  dims_id INTEGER NOT NULL,
  event_id VARCHAR NOT NULL,
  part INTEGER NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  ingested_at TIMESTAMPTZ NOT NULL,
  gpu_count DOUBLE,
  gpu_seconds DOUBLE,
  input_tokens BIGINT,
  cached_input_tokens BIGINT,
  output_tokens BIGINT,
  cache_hit BOOLEAN,
  request_fingerprint VARCHAR,
  job_id VARCHAR,
  epoch BIGINT,
  elapsed_seconds DOUBLE,
  cost DECIMAL(38, 9) NOT NULL,
  components JSON
);
