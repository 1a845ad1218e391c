-- Tables of the cloud warehouse. Idempotent: safe to run on every start. The dataset itself (location,
-- access) belongs to infra/. Money is NUMERIC holding currency units: nine decimals, so one nano is
-- 0.000000001, exactly. Partition filters are required, so no query can scan all history by accident.
-- cost_events is partitioned by the hour: a live report reads the hours not refreshed yet (usually
-- the current and the previous one) and a refresh the hours it rebuilds, each a constant filter that
-- prunes to those hours' partitions, known before the query runs (a dry run, maximumBytesBilled).
-- Clustering on event_time instead would prune only blocks already clustered, and freshly streamed
-- rows are the least clustered; the clustering keeps event_type first for the training lookback.
-- BigQuery keeps at most 10,000 partitions a table: 416 days of hours (the retention's maximum).
CREATE TABLE IF NOT EXISTS `{{dataset}}`.cost_events (
  event_id STRING NOT NULL,
  event_source STRING NOT NULL,
  event_type STRING NOT NULL,
  part INT64 NOT NULL,
  event_time TIMESTAMP NOT NULL,
  ingested_at TIMESTAMP NOT NULL,
  basis STRING NOT NULL,
  team STRING,
  model STRING,
  model_version STRING,
  business_unit STRING,
  cost_center STRING,
  namespace STRING,
  environment STRING,
  cloud STRING,
  region STRING,
  labels JSON,
  instance_type STRING,
  accelerator STRING,
  pricing_model STRING,
  provider STRING,
  gpu_count FLOAT64,
  gpu_seconds FLOAT64,
  input_tokens INT64,
  cached_input_tokens INT64,
  output_tokens INT64,
  cache_hit BOOL,
  request_fingerprint STRING,
  job_id STRING,
  job_phase STRING,
  epoch INT64,
  elapsed_seconds FLOAT64,
  cost NUMERIC NOT NULL,
  currency STRING NOT NULL,
  components JSON,
  price_source STRING,
  payload_hash STRING
)
PARTITION BY TIMESTAMP_TRUNC(event_time, HOUR)
CLUSTER BY event_type, model, business_unit
OPTIONS (
  require_partition_filter = TRUE,
  partition_expiration_days = {{partition_expiration_days}},
  description = 'Raw cost rows, one per event (or per hour of a spread cost). Streaming inserts are at least once: refresh_hourly dedupes on (event_source, event_id, part).'
);

ALTER TABLE `{{dataset}}`.cost_events ADD COLUMN IF NOT EXISTS payload_hash STRING;

-- What the rollup has not yet seen: one row per insert batch and event hour, streamed right after
-- the batch's rows and before the batch is acknowledged. refresh_runs.low_water says up to which
-- marked_at every mark has been rebuilt; a refresh reads marks from there to now less a settle
-- margin longer than any insert call may take, so a mark is always visible by the time it is read.
-- A backfill of a year-old day is one mark: the refresh rebuilds that day's hours, scanning that
-- day's partition (and the training lookback before it), not the table.
CREATE TABLE IF NOT EXISTS `{{dataset}}`.ingest_marks (
  batch_id STRING NOT NULL,
  hour TIMESTAMP NOT NULL,
  marked_at TIMESTAMP NOT NULL
)
PARTITION BY DATE(marked_at)
OPTIONS (
  require_partition_filter = TRUE,
  partition_expiration_days = {{partition_expiration_days}},
  description = 'Event hours written by each insert batch, for refreshPending.'
);

CREATE TABLE IF NOT EXISTS `{{dataset}}`.refresh_runs (
  refreshed_at TIMESTAMP NOT NULL,
  low_water TIMESTAMP NOT NULL
)
OPTIONS (description = 'One row per refresh: every ingest mark before low_water has been rebuilt.');

-- Keys that came again with another payload: the first copy stays counted, this one is kept here.
CREATE TABLE IF NOT EXISTS `{{dataset}}`.conflicting_events (
  received_at TIMESTAMP NOT NULL,
  event_source STRING NOT NULL,
  event_id STRING NOT NULL,
  event_type STRING,
  stored_hash STRING,
  received_hash STRING NOT NULL,
  payload STRING NOT NULL
)
PARTITION BY DATE(received_at)
OPTIONS (
  partition_expiration_days = {{rejected_expiration_days}},
  description = 'Copies of stored events that came again with another payload; not counted.'
);

CREATE TABLE IF NOT EXISTS `{{dataset}}`.cost_hourly (
  hour TIMESTAMP NOT NULL,
  basis STRING NOT NULL,
  event_type STRING NOT NULL,
  team STRING,
  model STRING,
  model_version STRING,
  business_unit STRING,
  cost_center STRING,
  namespace STRING,
  environment STRING,
  cloud STRING,
  currency STRING NOT NULL,
  cost NUMERIC NOT NULL,
  `rows` INT64 NOT NULL,
  gpu_seconds FLOAT64,
  input_tokens INT64,
  output_tokens INT64,
  refreshed_at TIMESTAMP NOT NULL,
  family STRING,
  cluster STRING,
  node_pool STRING,
  node STRING
)
PARTITION BY DATE(hour)
CLUSTER BY team, model
OPTIONS (
  require_partition_filter = TRUE,
  description = 'Hourly rollup of cost_events, rebuilt by refresh_hourly; what reports and budgets read.'
);

-- A table made before cost_hourly had the family column gets it (the next refresh fills it in).
ALTER TABLE `{{dataset}}`.cost_hourly ADD COLUMN IF NOT EXISTS family STRING;
-- And the resource its costs ran on (reconciliation matches a bill line naming it), likewise.
ALTER TABLE `{{dataset}}`.cost_hourly ADD COLUMN IF NOT EXISTS cluster STRING;
ALTER TABLE `{{dataset}}`.cost_hourly ADD COLUMN IF NOT EXISTS node_pool STRING;
ALTER TABLE `{{dataset}}`.cost_hourly ADD COLUMN IF NOT EXISTS node STRING;

CREATE TABLE IF NOT EXISTS `{{dataset}}`.rejected_events (
  rejected_at TIMESTAMP NOT NULL,
  event_source STRING,
  event_id STRING,
  event_type STRING,
  field STRING NOT NULL,
  reason STRING NOT NULL,
  payload STRING,
  rejection_key STRING
)
PARTITION BY DATE(rejected_at)
OPTIONS (
  partition_expiration_days = {{rejected_expiration_days}},
  description = 'Input refused at ingest, with the field and the reason.'
);

ALTER TABLE `{{dataset}}`.rejected_events ADD COLUMN IF NOT EXISTS rejection_key STRING;

CREATE TABLE IF NOT EXISTS `{{dataset}}`.billed_costs (
  day DATE NOT NULL,
  source STRING NOT NULL,
  provider STRING NOT NULL,
  billing_account_id STRING NOT NULL,
  sub_account_id STRING,
  service STRING NOT NULL,
  sku_id STRING,
  namespace STRING,
  team STRING,
  model STRING,
  resource_id STRING,
  charge_category STRING,
  charge_class STRING,
  charge_frequency STRING,
  charge_start_day DATE,
  charge_end_day DATE,
  cost_center STRING,
  environment STRING,
  tags STRING,
  billed_cost NUMERIC NOT NULL,
  effective_cost NUMERIC NOT NULL,
  currency STRING NOT NULL,
  imported_at TIMESTAMP NOT NULL
)
PARTITION BY day
CLUSTER BY source, provider, team
OPTIONS (
  require_partition_filter = TRUE,
  description = 'The bill by usage day, in FOCUS terms, one source at a time: an import of a day for a source replaces that day.'
);

ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS resource_id STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS charge_category STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS charge_class STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS charge_frequency STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS charge_start_day DATE;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS charge_end_day DATE;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS cost_center STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS environment STRING;
ALTER TABLE `{{dataset}}`.billed_costs ADD COLUMN IF NOT EXISTS tags STRING;

CREATE TABLE IF NOT EXISTS `{{dataset}}`.reconciliation_daily (
  day DATE NOT NULL,
  match_keys STRING NOT NULL,
  match_label STRING NOT NULL,
  cloud STRING,
  account STRING,
  service STRING,
  namespace STRING,
  team STRING,
  currency STRING NOT NULL,
  estimated NUMERIC NOT NULL,
  reconciled NUMERIC NOT NULL,
  billed NUMERIC NOT NULL,
  drift NUMERIC NOT NULL,
  status STRING NOT NULL,
  reconciled_at TIMESTAMP NOT NULL
)
PARTITION BY day
CLUSTER BY cloud, team, namespace
OPTIONS (
  require_partition_filter = TRUE,
  description = 'Estimated, reconciled (calibrated estimate) and billed cost per day and match key; drift = billed - estimated. A re-run replaces the day.'
);

CREATE TABLE IF NOT EXISTS `{{dataset}}`.calibration_factors (
  learned_for_day DATE NOT NULL,
  cloud STRING NOT NULL,
  family STRING NOT NULL,
  factor_num STRING NOT NULL,
  factor_den STRING NOT NULL,
  clamped STRING,
  days_used INT64 NOT NULL,
  estimated NUMERIC NOT NULL,
  billed NUMERIC NOT NULL,
  learned_at TIMESTAMP NOT NULL
)
PARTITION BY learned_for_day
CLUSTER BY cloud, family
OPTIONS (
  require_partition_filter = TRUE,
  description = 'Calibration factors per (cloud, instance or SKU family), exact (factor_num / factor_den), learned from the days before learned_for_day.'
);
