-- DuckDB only: moves the staged batch (already unique on (event_source, event_id, part)) into
-- cost_events, skipping keys already stored. A key's copies share one event time (the same
-- CloudEvent), so the lookup reads only [$min_event_time, $max_event_time] of the batch (pruning).
-- Returns the number of rows inserted.
INSERT INTO cost_events (
  event_id, event_source, event_type, part, event_time, ingested_at, basis, team, model,
  model_version, business_unit, cost_center, namespace, environment, cloud, region, labels,
  instance_type, accelerator, pricing_model, provider, gpu_count, gpu_seconds, input_tokens,
  cached_input_tokens, output_tokens, cache_hit, request_fingerprint, job_id, job_phase, epoch,
  elapsed_seconds, cost, currency, components, price_source
)
SELECT
  e.event_id, d.event_source, d.event_type, e.part, e.event_time, e.ingested_at, d.basis, d.team, d.model,
  d.model_version, d.business_unit, d.cost_center, d.namespace, d.environment, d.cloud, d.region,
  COALESCE(d.labels, '{}'), d.instance_type, d.accelerator, d.pricing_model, d.provider, e.gpu_count,
  e.gpu_seconds, e.input_tokens, e.cached_input_tokens, e.output_tokens, e.cache_hit,
  e.request_fingerprint, e.job_id, d.job_phase, e.epoch, e.elapsed_seconds, e.cost, d.currency,
  COALESCE(e.components, '{}'), d.price_source
FROM temp.staged_events AS e
JOIN temp.staged_dims AS d ON d.dims_id = e.dims_id
ANTI JOIN (
  SELECT event_source, event_id, part
  FROM cost_events
  WHERE event_time >= $min_event_time AND event_time <= $max_event_time
) AS stored
  ON stored.event_source = d.event_source AND stored.event_id = e.event_id AND stored.part = e.part
