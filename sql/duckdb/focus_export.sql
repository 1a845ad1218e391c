-- Our attributed costs for `finops export --format focus`, over the hours in [$from, $to), per
-- charge period: $granularity 'hour' or 'day' (UTC).

-- query: costs
-- The one view in which no dollar appears twice, as reports read it (views/report_cost.sql holds
-- report.sql's chain over every hour), summed per charge period and owners: the export's total over
-- a range is the report's.
SELECT
  CASE WHEN $granularity = 'day' THEN date_trunc('day', hour) ELSE hour END AS period_start,
  team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
  SUM(cost) AS cost
FROM report_cost
WHERE hour >= $from AND hour < $to
GROUP BY ALL
ORDER BY period_start, team, model, model_version, business_unit, cost_center, namespace, environment, cloud,
  currency

-- query: parts
-- What each owner's cost in a charge period is made of, to split the view's figure by (in proportion):
-- the rollup's cost per event type and, for training, each job's part. cost_hourly keeps no job_id,
-- so the jobs come from the training events themselves, charged as refresh_hourly charges them (a
-- row's cumulative cost minus its job's previous row's, read from $lookback_from so that the first
-- row in range finds its predecessor; the first copy of a duplicated row counts). Training rows are
-- few, a heartbeat per job every few minutes; inference is read from the rollup only.
WITH training AS (
  SELECT
    event_source, event_id, event_time, team, model, model_version, business_unit, cost_center, namespace,
    environment, cloud, region, currency, job_id, elapsed_seconds, cost
  FROM cost_events
  WHERE event_time >= $lookback_from
    AND event_time < $to
    AND event_type = 'ai.cost.training.v1'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, event_id, part ORDER BY ingested_at) = 1
),
charged AS (
  SELECT
    *,
    cost - CASE
      WHEN job_id IS NULL THEN 0
      ELSE COALESCE(
        LAG(cost) OVER (PARTITION BY event_source, job_id ORDER BY elapsed_seconds, event_time, event_id),
        0
      )
    END AS charged_cost
  FROM training
),
parts AS (
  SELECT
    date_trunc('hour', event_time) AS hour, team, model, model_version, business_unit, cost_center, namespace,
    environment, cloud, currency, 'ai.cost.training.v1' AS event_type, job_id, region, charged_cost AS weight
  FROM charged
  WHERE event_time >= $from
  UNION ALL
  SELECT
    hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
    event_type, NULL, NULL, cost
  FROM cost_hourly
  WHERE hour >= $from AND hour < $to AND event_type <> 'ai.cost.training.v1'
)
SELECT
  CASE WHEN $granularity = 'day' THEN date_trunc('day', hour) ELSE hour END AS period_start,
  team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
  event_type, job_id, region,
  SUM(weight) AS weight
FROM parts
GROUP BY ALL
ORDER BY period_start, team, model, model_version, business_unit, cost_center, namespace, environment, cloud,
  currency, event_type, job_id, region
