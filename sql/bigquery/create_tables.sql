-- Tables of the cloud warehouse. Idempotent: safe to run on every start. The dataset itself (location,
-- access) belongs to infra/. Money is NUMERIC holding currency units: nine decimals, so one nano is
-- 0.000000001, exactly. Partition filters are required, so no query can scan all history by accident.
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
  price_source STRING
)
PARTITION BY DATE(event_time)
CLUSTER BY model, business_unit
OPTIONS (
  require_partition_filter = TRUE,
  partition_expiration_days = {{partition_expiration_days}},
  description = 'Raw cost rows, one per event (or per hour of a spread cost). Streaming inserts are at least once: refresh_hourly dedupes on (event_source, event_id, part).'
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
  family STRING
)
PARTITION BY DATE(hour)
CLUSTER BY team, model
OPTIONS (
  require_partition_filter = TRUE,
  description = 'Hourly rollup of cost_events, rebuilt by refresh_hourly; what reports and budgets read.'
);

-- A table made before cost_hourly had the family column gets it (the next refresh fills it in).
ALTER TABLE `{{dataset}}`.cost_hourly ADD COLUMN IF NOT EXISTS family STRING;

CREATE TABLE IF NOT EXISTS `{{dataset}}`.rejected_events (
  rejected_at TIMESTAMP NOT NULL,
  event_source STRING,
  event_id STRING,
  event_type STRING,
  field STRING NOT NULL,
  reason STRING NOT NULL,
  payload STRING
)
PARTITION BY DATE(rejected_at)
OPTIONS (
  partition_expiration_days = {{rejected_expiration_days}},
  description = 'Input refused at ingest, with the field and the reason.'
);

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
