-- The optimization scorecard's inputs over [$from, $to): per team, model and placement, the cost of
-- inference requests and training jobs, and what the levers are computed from
-- (shared/domain/scorecard). Every read of cost_events filters event_time (pruning). The first
-- ingested copy of each (event_source, event_id, part) counts.
-- Training rows hold the job's cumulative cost, so each is charged the difference to the job's
-- previous event, read back to $lookback_from, as refresh_hourly charges it; its GPU-seconds are
-- gpu_count × the elapsed difference.
-- cost is the workload's cost in the one view the report reads: in a namespace-hour the
-- infrastructure layer covers (basis 'allocation'), the workload rows divide its cost in proportion
-- to their estimated cost, every nano handed out by largest remainder (as report.sql does, here per
-- row); elsewhere the estimate stands. Allocations no workload estimate falls in, and fixed costs,
-- are not a model's workload and are not read.
-- interruptible: labels.interruptible when it is 'true' or 'false'; otherwise a training job that
-- checkpoints (labels.checkpointing = 'true', or it reports epochs and the label does not say 'false'),
-- or batch inference (environment 'batch' or labels.workload = 'batch').
-- repeats: inference requests whose request_fingerprint the same model saw within
-- $cache_ttl_seconds before, and that were not cache hits: what an exact-match cache would answer.
-- The team and model filters apply last, so the shares and repeats do not depend on them.
-- first_event: the earliest workload event of the window (the same on every row).
-- Events are read through attributed_events.sql, so a self-hosted request a gateway attributed is
-- its gateway owner's, as in the report.
WITH unique_events AS (
  SELECT
    event_source, event_id, part, event_type, event_time, basis, team, business_unit, cost_center,
    model, namespace, environment, labels,
    cloud, region, accelerator, instance_type, pricing_model, provider, currency, cost, gpu_count,
    gpu_seconds, cache_hit, request_fingerprint, job_id, epoch, elapsed_seconds,
    json_extract_string(labels, '$.interruptible') AS interruptible_label,
    json_extract_string(labels, '$.checkpointing') AS checkpointing_label,
    json_extract_string(labels, '$.workload') AS workload_label
  FROM cost_events
  WHERE event_time >= $lookback_from
    AND event_time < $to
    AND (
      (basis = 'estimate' AND event_type = 'ai.cost.training.v1')
      OR (basis = 'estimate' AND event_type = 'ai.cost.inference.v1' AND event_time >= $from)
      OR (basis = 'estimate' AND event_type = 'ai.cost.attribution.v1' AND event_time >= $from)
      OR (basis = 'allocation' AND namespace IS NOT NULL AND event_time >= $from)
    )
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, event_id, part ORDER BY ingested_at) = 1
),
{{include:attributed_events}},
workload AS (
  SELECT
    *,
    CASE
      WHEN event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL
        THEN cost - COALESCE(LAG(cost) OVER job_order, 0)
      ELSE cost
    END AS charged_cost,
    CASE
      WHEN event_type = 'ai.cost.training.v1'
        THEN gpu_count * (elapsed_seconds - COALESCE(LAG(elapsed_seconds) OVER job_order, 0))
      ELSE gpu_seconds
    END AS charged_gpu_seconds,
    MAX(epoch) OVER (PARTITION BY event_type, event_source, job_id) AS job_epochs,
    LAG(event_time) OVER (
      PARTITION BY event_type, model, request_fingerprint ORDER BY event_time, event_source, event_id
    ) AS previous_same
  FROM attributed_events
  WHERE basis = 'estimate'
  WINDOW job_order AS (
    PARTITION BY event_type, event_source, job_id ORDER BY elapsed_seconds, event_time, event_id
  )
),
covering AS (
  SELECT
    date_trunc('hour', event_time) AS hour, namespace, currency,
    CAST(SUM(cost) * 1000000000 AS HUGEINT) AS infra_nanos
  FROM attributed_events
  WHERE basis = 'allocation'
  GROUP BY hour, namespace, currency
),
weighted AS (
  SELECT
    w.*,
    c.infra_nanos,
    GREATEST(CAST(w.charged_cost * 1000000000 AS HUGEINT), 0) AS weight,
    SUM(GREATEST(CAST(w.charged_cost * 1000000000 AS HUGEINT), 0)) OVER per_namespace_hour AS weight_sum
  FROM (SELECT *, date_trunc('hour', event_time) AS hour FROM workload WHERE event_time >= $from) AS w
  LEFT JOIN covering AS c ON c.hour = w.hour AND c.namespace = w.namespace AND c.currency = w.currency
  WINDOW per_namespace_hour AS (PARTITION BY w.hour, w.namespace, w.currency)
),
floored AS (
  SELECT
    *,
    CASE WHEN infra_nanos IS NOT NULL AND weight_sum > 0 THEN (infra_nanos * weight) // weight_sum END
      AS floor_nanos,
    CASE WHEN infra_nanos IS NOT NULL AND weight_sum > 0 THEN (infra_nanos * weight) % weight_sum END
      AS remainder
  FROM weighted
),
placed AS (
  SELECT
    *,
    infra_nanos - SUM(floor_nanos) OVER per_namespace_hour AS leftover,
    ROW_NUMBER() OVER (
      PARTITION BY hour, namespace, currency ORDER BY remainder DESC, event_source, event_id, part
    ) AS place
  FROM floored
  WINDOW per_namespace_hour AS (PARTITION BY hour, namespace, currency)
),
counted AS (
  SELECT
    *,
    CASE
      WHEN floor_nanos IS NULL THEN charged_cost
      ELSE CAST(CAST(floor_nanos + CASE WHEN place <= leftover THEN 1 ELSE 0 END AS DECIMAL(38, 9))
        * 0.000000001 AS DECIMAL(38, 9))
    END AS view_cost,
    COALESCE(team, 'unallocated') AS owner_team,
    COALESCE(model, 'unallocated') AS owner_model,
    CASE WHEN event_type = 'ai.cost.training.v1' THEN 'training' ELSE 'inference' END AS workload,
    CASE
      WHEN interruptible_label IN ('true', 'false') THEN interruptible_label = 'true'
      WHEN event_type = 'ai.cost.training.v1'
        THEN COALESCE(checkpointing_label = 'true', job_epochs IS NOT NULL)
      ELSE COALESCE(environment = 'batch' OR workload_label = 'batch', FALSE)
    END AS is_interruptible,
    COALESCE(
      event_type = 'ai.cost.inference.v1'
        AND request_fingerprint IS NOT NULL
        AND previous_same >= event_time - to_seconds(CAST($cache_ttl_seconds AS BIGINT))
        AND NOT COALESCE(cache_hit, FALSE),
      FALSE
    ) AS is_repeat
  FROM placed
)
SELECT
  owner_team AS team,
  owner_model AS model,
  currency,
  workload,
  is_interruptible AS interruptible,
  namespace, cloud, region, accelerator, instance_type, pricing_model, provider,
  CAST(SUM(view_cost) AS DECIMAL(38, 9)) AS cost,
  COALESCE(SUM(charged_gpu_seconds), 0) AS gpu_seconds,
  COUNT(CASE WHEN workload = 'inference' THEN 1 END) AS requests,
  COUNT(CASE WHEN workload = 'inference' AND request_fingerprint IS NOT NULL THEN 1 END) AS fingerprinted,
  COUNT(CASE WHEN is_repeat THEN 1 END) AS repeats,
  CAST(COALESCE(SUM(CASE WHEN is_repeat THEN view_cost END), 0) AS DECIMAL(38, 9)) AS repeat_cost,
  COUNT(CASE WHEN cache_hit THEN 1 END) AS cache_hits,
  MIN(MIN(event_time)) OVER () AS first_event
FROM counted
WHERE ($team = '' OR owner_team = $team) AND ($model = '' OR owner_model = $model)
GROUP BY
  owner_team, owner_model, currency, workload, is_interruptible, namespace, cloud, region, accelerator,
  instance_type, pricing_model, provider
ORDER BY
  owner_team, owner_model, currency, workload, is_interruptible, namespace, cloud, region, accelerator,
  instance_type, pricing_model, provider
