-- Rebuilds cost_hourly for the hours in [@from, @to) from cost_events, in one transaction: a reader
-- sees the old hours or the new ones, never a half. @from and @to are whole hours.
-- Streaming inserts are at least once, so the raw table may hold a row twice: the first ingested
-- copy of each (event_source, event_id, part) counts.
-- Training rows hold the job's cumulative cost; each is charged the difference to the job's previous
-- event (by elapsed time), the first its whole cost. Training rows are read from @lookback_from
-- (<= @from) so that the first event inside the range finds its predecessor; only hours in
-- [@from, @to) are written. Every read of cost_events filters event_time (partition pruning).
-- family is the instance or SKU family reconciliation calibrates by (the accelerator, else the
-- instance type): kept in the rollup so the daily estimates are read from it, not from raw events,
-- and training rows keep their charged differences. Null for allocations and fixed costs.
-- Events are read through attributed_events.sql: a self-hosted request a gateway attributed has its
-- owner, and the attributions themselves add no row.
BEGIN TRANSACTION;

DELETE FROM `{{dataset}}`.cost_hourly
WHERE hour >= @from AND hour < @to;

INSERT INTO `{{dataset}}`.cost_hourly (
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, cost, `rows`, gpu_seconds, input_tokens, output_tokens, refreshed_at,
  family
)
WITH raw_rows AS (
  -- Every row of the range, and before it only training rows (cost_events is clustered by
  -- event_type first, so the lookback reads the training blocks of its days, not the days whole).
  SELECT * FROM `{{dataset}}`.cost_events
  WHERE event_time >= @from AND event_time < @to
  UNION ALL
  SELECT * FROM `{{dataset}}`.cost_events
  WHERE event_time >= @lookback_from AND event_time < @from
    AND event_type = 'ai.cost.training.v1'
),
unique_events AS (
  SELECT
    event_source, event_id, event_type, event_time, basis, team, model, model_version, business_unit,
    cost_center, namespace, environment, cloud, currency, cost, gpu_seconds, input_tokens,
    output_tokens, job_id, elapsed_seconds, COALESCE(accelerator, instance_type) AS family, labels
  FROM raw_rows
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, event_id, part ORDER BY ingested_at) = 1
),
{{include:attributed_events}},
charged AS (
  SELECT
    *,
    IF(
      event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL,
      cost - COALESCE(
        LAG(cost) OVER (
          PARTITION BY event_type, event_source, job_id
          ORDER BY elapsed_seconds, event_time, event_id
        ),
        0
      ),
      cost
    ) AS charged_cost
  FROM attributed_events
)
SELECT
  TIMESTAMP_TRUNC(event_time, HOUR) AS hour,
  basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency,
  SUM(charged_cost) AS cost,
  COUNT(*) AS `rows`,
  SUM(gpu_seconds) AS gpu_seconds,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  CURRENT_TIMESTAMP() AS refreshed_at,
  family
FROM charged
WHERE event_time >= @from
GROUP BY
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, family;

COMMIT TRANSACTION;
