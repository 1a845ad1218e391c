-- DuckDB twin: not a query of its own. The one view in which no dollar appears twice, as CTEs for
-- `{{include:one_view}}` after a CTE `hours_read` (the cost_hourly rows to read), ending in final_view
-- (hour, the dimensions, currency, cost, rows). report.sql, views/report_cost.sql and what reads
-- them share it, so the rule lives in one place (docs/architecture.md, "Money and the one view"). The rule:
-- in a namespace-hour that the infrastructure layer covers (basis 'allocation': Kubernetes
-- allocations, DCGM-adjusted), the workload estimates (requests, training) do not add to it: they
-- divide its cost among their owners in proportion to their estimated cost (GPU-seconds × rate),
-- every nano handed out by largest remainder. Elsewhere each row stands as it is.
-- Then fixed costs shared by usage (owner 'shared') go, hour by hour, to the owners that used
-- something that hour (the fixed cost's model's users when it names one), in proportion to their
-- cost, again by largest remainder; an hour nobody used keeps them under 'shared'. 'idle' is not
-- usage.
hourly AS (
  SELECT
    *,
    basis = 'estimate' AND event_type IN ('ai.cost.inference.v1', 'ai.cost.training.v1') AS is_workload
  FROM hours_read
),
covering AS (
  SELECT hour, namespace, currency, CAST(SUM(cost) * 1000000000 AS HUGEINT) AS infra_nanos
  FROM hourly
  WHERE basis = 'allocation' AND namespace IS NOT NULL
  GROUP BY hour, namespace, currency
),
weighted AS (
  SELECT
    w.*,
    c.infra_nanos,
    GREATEST(CAST(w.cost * 1000000000 AS HUGEINT), 0) AS weight,
    SUM(GREATEST(CAST(w.cost * 1000000000 AS HUGEINT), 0)) OVER per_namespace_hour AS weight_sum
  FROM hourly AS w
  JOIN covering AS c ON c.hour = w.hour AND c.namespace = w.namespace AND c.currency = w.currency
  WHERE w.is_workload
  WINDOW per_namespace_hour AS (PARTITION BY w.hour, w.namespace, w.currency)
),
floored AS (
  SELECT
    *,
    (infra_nanos * weight) // weight_sum AS floor_nanos,
    (infra_nanos * weight) % weight_sum AS remainder
  FROM weighted
  WHERE weight_sum > 0
),
shared_out AS (
  SELECT
    *,
    infra_nanos - SUM(floor_nanos) OVER per_namespace_hour AS leftover,
    ROW_NUMBER() OVER (
      PARTITION BY hour, namespace, currency
      ORDER BY remainder DESC, team, model, model_version, business_unit, cost_center, environment, cloud,
        event_type
    ) AS place
  FROM floored
  WINDOW per_namespace_hour AS (PARTITION BY hour, namespace, currency)
),
covered AS (
  SELECT DISTINCT hour, namespace, currency FROM floored
),
one_view AS (
  SELECT
    hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
    CAST(CAST(floor_nanos + CASE WHEN place <= leftover THEN 1 ELSE 0 END AS DECIMAL(38, 9)) * 0.000000001
      AS DECIMAL(38, 9)) AS cost,
    rows
  FROM shared_out
  UNION ALL
  SELECT
    h.hour, h.team, h.model, h.model_version, h.business_unit, h.cost_center, h.namespace, h.environment, h.cloud,
    h.currency, h.cost, h.rows
  FROM hourly AS h
  LEFT JOIN covered AS c ON c.hour = h.hour AND c.namespace = h.namespace AND c.currency = h.currency
  WHERE c.hour IS NULL OR NOT (h.is_workload OR h.basis = 'allocation')
),
shared_cost AS (
  SELECT hour, currency, model AS scope_model, CAST(SUM(cost) * 1000000000 AS HUGEINT) AS shared_nanos
  FROM one_view
  WHERE team = 'shared'
  GROUP BY hour, currency, model
),
claims AS (
  SELECT
    s.hour, s.currency, s.scope_model, s.shared_nanos,
    u.team, u.model, u.model_version, u.business_unit, u.cost_center, u.namespace, u.environment, u.cloud,
    GREATEST(CAST(u.cost * 1000000000 AS HUGEINT), 0) AS weight,
    SUM(GREATEST(CAST(u.cost * 1000000000 AS HUGEINT), 0)) OVER per_share AS weight_sum
  FROM shared_cost AS s
  JOIN one_view AS u
    ON u.hour = s.hour AND u.currency = s.currency AND u.team NOT IN ('shared', 'idle')
    AND (s.scope_model = 'unallocated' OR u.model = s.scope_model)
  WINDOW per_share AS (PARTITION BY s.hour, s.currency, s.scope_model)
),
claims_floored AS (
  SELECT
    *,
    (shared_nanos * weight) // weight_sum AS floor_nanos,
    (shared_nanos * weight) % weight_sum AS remainder
  FROM claims
  WHERE weight_sum > 0
),
claims_placed AS (
  SELECT
    *,
    shared_nanos - SUM(floor_nanos) OVER per_share AS leftover,
    ROW_NUMBER() OVER (
      PARTITION BY hour, currency, scope_model
      ORDER BY remainder DESC, team, model, model_version, business_unit, cost_center, namespace, environment,
        cloud
    ) AS place
  FROM claims_floored
  WINDOW per_share AS (PARTITION BY hour, currency, scope_model)
),
usage_shared AS (
  SELECT DISTINCT hour, currency, scope_model FROM claims_floored
),
final_view AS (
  SELECT
    hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
    CAST(CAST(floor_nanos + CASE WHEN place <= leftover THEN 1 ELSE 0 END AS DECIMAL(38, 9)) * 0.000000001
      AS DECIMAL(38, 9)) AS cost,
    0 AS rows
  FROM claims_placed
  UNION ALL
  SELECT
    v.hour, v.team, v.model, v.model_version, v.business_unit, v.cost_center, v.namespace, v.environment, v.cloud,
    v.currency, v.cost, v.rows
  FROM one_view AS v
  LEFT JOIN usage_shared AS o ON o.hour = v.hour AND o.currency = v.currency AND o.scope_model = v.model
  WHERE v.team <> 'shared' OR o.hour IS NULL
)
