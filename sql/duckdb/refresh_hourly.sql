-- Rebuilds cost_hourly for the hours in [$from, $to) from cost_events. The adapter runs it inside a
-- transaction (with the pending hours it consumes), so a reader sees the old hours or the new ones,
-- never a half. $from and $to are whole hours.
-- The raw table may hold a row twice (the twin's streaming inserts are at least once), so the first
-- ingested copy of each (event_source, event_id, part) counts.
-- Training rows hold the job's cumulative cost; each is charged the difference to the job's previous
-- event (by elapsed time), the first its whole cost. Training rows are read from $lookback_from
-- (<= $from) so that the first event inside the range finds its predecessor; only hours in
-- [$from, $to) are written. Every read of cost_events filters event_time (pruning).
-- family is the instance or SKU family reconciliation calibrates by (the accelerator, else the
-- instance type): kept in the rollup so the daily estimates are read from it, not from raw events,
-- and training rows keep their charged differences. Null for allocations and fixed costs.
-- Events are read through attributed_events.sql: a self-hosted request a gateway attributed has its
-- owner, and the attributions themselves add no row.
DELETE FROM cost_hourly
WHERE hour >= $from AND hour < $to;

INSERT INTO cost_hourly (
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, cost, rows, gpu_seconds, input_tokens, output_tokens, refreshed_at,
  family
)
WITH unique_events AS (
  SELECT
    event_source, event_id, event_type, event_time, basis, team, model, model_version, business_unit,
    cost_center, namespace, environment, cloud, currency, cost, gpu_seconds, input_tokens,
    output_tokens, job_id, elapsed_seconds, COALESCE(accelerator, instance_type) AS family, labels
  FROM cost_events
  WHERE event_time >= $lookback_from
    AND event_time < $to
    AND (event_time >= $from OR event_type = 'ai.cost.training.v1')
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, event_id, part ORDER BY ingested_at) = 1
),
{{include:attributed_events}},
charged AS (
  SELECT
    *,
    CASE
      WHEN event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL
        THEN cost - COALESCE(
          LAG(cost) OVER (
            PARTITION BY event_type, event_source, job_id
            ORDER BY elapsed_seconds, event_time, event_id
          ),
          0
        )
      ELSE cost
    END AS charged_cost
  FROM attributed_events
)
SELECT
  date_trunc('hour', event_time) AS hour,
  basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency,
  CAST(SUM(charged_cost) AS DECIMAL(38, 9)) AS cost,
  COUNT(*) AS rows,
  SUM(gpu_seconds) AS gpu_seconds,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  CURRENT_TIMESTAMP AS refreshed_at,
  family
FROM charged
WHERE event_time >= $from
GROUP BY
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, family;
