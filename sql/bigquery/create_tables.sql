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
  refreshed_at TIMESTAMP NOT NULL
)
PARTITION BY DATE(hour)
CLUSTER BY team, model
OPTIONS (
  require_partition_filter = TRUE,
  description = 'Hourly rollup of cost_events, rebuilt by refresh_hourly; what reports and budgets read.'
);

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
