-- Tables of the embedded warehouse. Idempotent: safe to run on every start.
-- Money is DECIMAL(38,9) holding currency units, so one nano is 0.000000001, exactly.
-- cost_events has no PRIMARY KEY: measured on 200k-row batches, the index cost about a quarter of
-- the insert rate, and DuckDB keeps it in memory. The key (event_source, event_id, part) is kept by
-- insert_staged_events (it skips stored keys; one connection writes), which hourly_rows relies on.
CREATE TABLE IF NOT EXISTS cost_events (
  event_id VARCHAR NOT NULL,
  event_source VARCHAR NOT NULL,
  event_type VARCHAR NOT NULL,
  part INTEGER NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  ingested_at TIMESTAMPTZ NOT NULL,
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
  gpu_count DOUBLE,
  gpu_seconds DOUBLE,
  input_tokens BIGINT,
  cached_input_tokens BIGINT,
  output_tokens BIGINT,
  cache_hit BOOLEAN,
  request_fingerprint VARCHAR,
  job_id VARCHAR,
  job_phase VARCHAR,
  epoch BIGINT,
  elapsed_seconds DOUBLE,
  cost DECIMAL(38, 9) NOT NULL,
  currency VARCHAR NOT NULL,
  components JSON,
  price_source VARCHAR,
  payload_hash VARCHAR
);
-- A file made before payload_hash gets it; its older rows stay NULL (a resend of one is a duplicate).
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS payload_hash VARCHAR;

-- The durable record of what the rollup has not yet seen: the hour of every row inserted since the
-- last refresh, written in the same transaction as the rows themselves and deleted in the same
-- transaction as the refresh that covers it. A crash, a rerun or a stop of any length between the
-- two leaves the hour here, so an acknowledged row always reaches cost_hourly.
CREATE TABLE IF NOT EXISTS pending_hours (
  hour TIMESTAMPTZ NOT NULL
);

-- Keys that came again with a different payload: the first stored copy stays the one counted; the
-- copy refused is kept here whole, beside the hash of the stored one (cost_events has its rows).
CREATE TABLE IF NOT EXISTS conflicting_events (
  received_at TIMESTAMPTZ NOT NULL,
  event_source VARCHAR NOT NULL,
  event_id VARCHAR NOT NULL,
  event_type VARCHAR,
  stored_hash VARCHAR,
  received_hash VARCHAR NOT NULL,
  payload VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS cost_hourly (
  hour TIMESTAMPTZ NOT NULL,
  basis VARCHAR NOT NULL,
  event_type VARCHAR NOT NULL,
  team VARCHAR,
  model VARCHAR,
  model_version VARCHAR,
  business_unit VARCHAR,
  cost_center VARCHAR,
  namespace VARCHAR,
  environment VARCHAR,
  cloud VARCHAR,
  currency VARCHAR NOT NULL,
  cost DECIMAL(38, 9) NOT NULL,
  rows BIGINT NOT NULL,
  gpu_seconds DOUBLE,
  input_tokens BIGINT,
  output_tokens BIGINT,
  refreshed_at TIMESTAMPTZ NOT NULL,
  family VARCHAR,
  cluster VARCHAR,
  node_pool VARCHAR,
  node VARCHAR
);
-- A file made before cost_hourly had the family column gets it (the next refresh fills it in).
ALTER TABLE cost_hourly ADD COLUMN IF NOT EXISTS family VARCHAR;
-- And the resource its costs ran on (reconciliation matches a bill line naming it), likewise.
ALTER TABLE cost_hourly ADD COLUMN IF NOT EXISTS cluster VARCHAR;
ALTER TABLE cost_hourly ADD COLUMN IF NOT EXISTS node_pool VARCHAR;
ALTER TABLE cost_hourly ADD COLUMN IF NOT EXISTS node VARCHAR;

CREATE TABLE IF NOT EXISTS rejected_events (
  rejected_at TIMESTAMPTZ NOT NULL,
  event_source VARCHAR,
  event_id VARCHAR,
  event_type VARCHAR,
  field VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  payload VARCHAR,
  rejection_key VARCHAR
);
-- rejection_key names a rejection so that a redelivery of the same input adds no second row.
ALTER TABLE rejected_events ADD COLUMN IF NOT EXISTS rejection_key VARCHAR;

-- Reconciliation (shared/adapters/warehouse-reconciliation): the imported bill by day, the drift per
-- day and match key, and the calibration factors learned for each day. Each day of a bill source,
-- and each reconciled day, is replaced whole by a re-run, never added to.
CREATE TABLE IF NOT EXISTS billed_costs (
  day DATE NOT NULL,
  source VARCHAR NOT NULL,
  provider VARCHAR NOT NULL,
  billing_account_id VARCHAR NOT NULL,
  sub_account_id VARCHAR,
  service VARCHAR NOT NULL,
  sku_id VARCHAR,
  namespace VARCHAR,
  team VARCHAR,
  model VARCHAR,
  resource_id VARCHAR,
  charge_category VARCHAR,
  charge_class VARCHAR,
  charge_frequency VARCHAR,
  charge_start_day DATE,
  charge_end_day DATE,
  cost_center VARCHAR,
  environment VARCHAR,
  tags VARCHAR,
  billed_cost DECIMAL(38, 9) NOT NULL,
  effective_cost DECIMAL(38, 9) NOT NULL,
  currency VARCHAR NOT NULL,
  imported_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS resource_id VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS charge_category VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS charge_class VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS charge_frequency VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS charge_start_day DATE;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS charge_end_day DATE;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS cost_center VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS environment VARCHAR;
ALTER TABLE billed_costs ADD COLUMN IF NOT EXISTS tags VARCHAR;

CREATE TABLE IF NOT EXISTS reconciliation_daily (
  day DATE NOT NULL,
  match_keys VARCHAR NOT NULL,
  match_label VARCHAR NOT NULL,
  cloud VARCHAR,
  account VARCHAR,
  service VARCHAR,
  namespace VARCHAR,
  team VARCHAR,
  currency VARCHAR NOT NULL,
  estimated DECIMAL(38, 9) NOT NULL,
  reconciled DECIMAL(38, 9) NOT NULL,
  billed DECIMAL(38, 9) NOT NULL,
  drift DECIMAL(38, 9) NOT NULL,
  status VARCHAR NOT NULL,
  reconciled_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS calibration_factors (
  learned_for_day DATE NOT NULL,
  cloud VARCHAR NOT NULL,
  family VARCHAR NOT NULL,
  factor_num VARCHAR NOT NULL,
  factor_den VARCHAR NOT NULL,
  clamped VARCHAR,
  days_used BIGINT NOT NULL,
  estimated DECIMAL(38, 9) NOT NULL,
  billed DECIMAL(38, 9) NOT NULL,
  learned_at TIMESTAMPTZ NOT NULL
);
