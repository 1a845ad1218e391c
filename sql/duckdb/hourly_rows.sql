-- DuckDB twin: not a query of its own. What cost_hourly holds for some hours, computed from the raw
-- events: CTEs for `{{include:hourly_rows}}` after a CTE `raw_rows` (cost_events rows, each with a
-- boolean in_range: true for the rows of the hours computed, false for the training rows read before
-- them only as predecessors), ending in rolled_up, whose columns are cost_hourly's, in order.
-- refresh_hourly.sql writes it; report.sql reads it for the hours not refreshed yet (the live
-- tail), so an hour shows the same figures before and after its refresh.
-- Each (event_source, event_id, part) is stored once here (insert_staged_events skips stored keys and
-- one connection writes), so unlike the BigQuery twin, whose streaming inserts are at least once,
-- nothing is deduped: that window was half the cost of computing an hour.
-- Training rows hold the job's cumulative cost; each is charged the difference to the job's previous
-- event (by elapsed time), the first its whole cost.
-- family is the instance or SKU family reconciliation calibrates by (the accelerator, else the
-- instance type): kept in the rollup so the daily estimates are read from it, not from raw events,
-- and training rows keep their charged differences. Null for allocations and fixed costs.
-- cluster, node_pool and node are the resource a cost ran on, from its labels: `cluster`, the node
-- pool's (`node_pool`, or GKE's, EKS's, Karpenter's or AKS's node label) and `node`; the allocation
-- import sets cluster and node. Reconciliation splits a bill line naming one among the costs on it.
-- Events are read through attributed_events.sql: a self-hosted request a gateway attributed has its
-- owner, and the attributions themselves add no row.
unique_events AS (
  SELECT
    event_source, event_id, event_type, event_time, basis, team, model, model_version, business_unit,
    cost_center, namespace, environment, cloud, currency, cost, gpu_seconds, input_tokens,
    output_tokens, job_id, elapsed_seconds, COALESCE(accelerator, instance_type) AS family, in_range,
    labels, json_extract_string(labels, '$.cluster') AS cluster,
    COALESCE(
      json_extract_string(labels, '$.node_pool'),
      json_extract_string(labels, '$."cloud.google.com/gke-nodepool"'),
      json_extract_string(labels, '$."eks.amazonaws.com/nodegroup"'),
      json_extract_string(labels, '$."karpenter.sh/nodepool"'),
      json_extract_string(labels, '$."kubernetes.azure.com/agentpool"')
    ) AS node_pool,
    json_extract_string(labels, '$.node') AS node
  FROM raw_rows
),
{{include:attributed_events}},
charged AS (
  SELECT *, cost AS charged_cost
  FROM attributed_events
  WHERE event_type <> 'ai.cost.training.v1' OR job_id IS NULL
  UNION ALL
  -- The window sorts the training rows only, not every row of the hours.
  SELECT
    *,
    cost - COALESCE(
      LAG(cost) OVER (PARTITION BY event_source, job_id ORDER BY elapsed_seconds, event_time, event_id),
      0
    ) AS charged_cost
  FROM attributed_events
  WHERE event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL
),
rolled_up AS (
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
    family, cluster, node_pool, node
  FROM charged
  WHERE in_range
  GROUP BY
    hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
    environment, cloud, currency, family, cluster, node_pool, node
)
