-- DuckDB only: moves the staged batch into cost_events. By now the stage holds only new keys: unique
-- on (event_source, event_id, part) within the batch, and unstage_stored_events took out the keys
-- already stored (duplicates and conflicts). Staged numbers come back to their types here (see create_staging.sql). Returns the
-- number of rows inserted.
INSERT INTO cost_events (
  event_id, event_source, event_type, part, event_time, ingested_at, basis, team, model,
  model_version, business_unit, cost_center, namespace, environment, cloud, region, labels,
  instance_type, accelerator, pricing_model, provider, gpu_count, gpu_seconds, input_tokens,
  cached_input_tokens, output_tokens, cache_hit, request_fingerprint, job_id, job_phase, epoch,
  elapsed_seconds, cost, currency, components, price_source, payload_hash
)
SELECT
  e.event_id, d.event_source, d.event_type, e.part,
  make_timestamptz(CAST(e.event_ms AS BIGINT) * 1000),
  make_timestamptz(CAST(e.ingested_ms AS BIGINT) * 1000),
  d.basis, d.team, d.model, d.model_version, d.business_unit, d.cost_center, d.namespace,
  d.environment, d.cloud, d.region, COALESCE(d.labels, '{}'), d.instance_type, d.accelerator,
  d.pricing_model, d.provider,
  NULLIF(e.gpu_count, 'NaN'::DOUBLE),
  NULLIF(e.gpu_seconds, 'NaN'::DOUBLE),
  CAST(NULLIF(e.input_tokens, 'NaN'::DOUBLE) AS BIGINT),
  CAST(NULLIF(e.cached_input_tokens, 'NaN'::DOUBLE) AS BIGINT),
  CAST(NULLIF(e.output_tokens, 'NaN'::DOUBLE) AS BIGINT),
  CAST(NULLIF(e.cache_hit, 'NaN'::DOUBLE) AS BOOLEAN),
  e.request_fingerprint, e.job_id, d.job_phase,
  CAST(NULLIF(e.epoch, 'NaN'::DOUBLE) AS BIGINT),
  NULLIF(e.elapsed_seconds, 'NaN'::DOUBLE),
  e.cost, d.currency, COALESCE(e.components, '{}'), d.price_source, e.payload_hash
FROM temp.staged_events AS e
JOIN temp.staged_dims AS d ON d.dims_id = e.dims_id
