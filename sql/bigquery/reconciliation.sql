-- The reconciliation store (shared/adapters/warehouse-reconciliation): the daily estimates read from
-- the hourly rollup, and the bill, drift rows and calibration factors it keeps (create_tables.sql).
-- Rows to write come as one JSON array parameter (money as exact decimal strings, cast to NUMERIC),
-- so a batch is one statement. A write with @replace first deletes what it replaces, in the same
-- transaction. Every table is read and written through its partition column.

-- query: estimates_daily
-- Each dollar once, as the report's one view counts it: in a namespace-hour that Kubernetes
-- allocations cover and where workload estimates (requests, training) cost something, the
-- allocations stand and those estimates do not add to them. The allocations keep their own owner
-- (the pod's and namespace's labels, what the bill's labels say too); they have no family.
-- Each day keeps the resource (cluster, node pool, node) its costs ran on, for bill lines naming one.
-- Allocations that name no cloud (allocations.cloud unset) cannot be matched with a bill: they cover
-- nothing here, and the workload estimates of their namespace-hours stand instead.
WITH hourly AS (
  SELECT
    hour, basis, namespace, team, cloud, family, cluster, node_pool, node, currency, cost,
    basis = 'estimate' AND event_type IN ('ai.cost.inference.v1', 'ai.cost.training.v1') AS is_workload
  FROM `{{dataset}}`.cost_hourly
  WHERE hour >= @from AND hour < @to
),
covered AS (
  SELECT hour, namespace, currency
  FROM hourly
  WHERE namespace IS NOT NULL
  GROUP BY hour, namespace, currency
  HAVING LOGICAL_OR(basis = 'allocation' AND cloud IS NOT NULL) AND SUM(IF(is_workload, GREATEST(cost, 0), 0)) > 0
)
SELECT
  FORMAT_TIMESTAMP('%F', h.hour) AS day, h.cloud, h.namespace, h.team, h.family, h.cluster,
  h.node_pool, h.node, h.currency,
  SUM(h.cost) AS cost
FROM hourly AS h
LEFT JOIN covered AS c ON c.hour = h.hour AND c.namespace = h.namespace AND c.currency = h.currency
WHERE h.cloud IS NOT NULL AND NOT (h.is_workload AND c.hour IS NOT NULL)
GROUP BY day, h.cloud, h.namespace, h.team, h.family, h.cluster, h.node_pool, h.node, h.currency
ORDER BY
  day, h.cloud, h.namespace NULLS LAST, h.team NULLS LAST, h.family NULLS LAST, h.cluster NULLS LAST,
  h.node_pool NULLS LAST, h.node NULLS LAST, h.currency;

-- query: store_billed
BEGIN TRANSACTION;
DELETE FROM `{{dataset}}`.billed_costs
WHERE @replace AND source = @source AND day >= DATE(@from_day) AND day < DATE(@to_day);
INSERT INTO `{{dataset}}`.billed_costs (
  day, source, provider, billing_account_id, sub_account_id, service, sku_id, namespace, team, model,
  resource_id, charge_category, charge_class, charge_frequency, charge_start_day, charge_end_day,
  cost_center, environment, tags, billed_cost, effective_cost, currency, imported_at
)
SELECT
  DATE(JSON_VALUE(r, '$.day')), @source, JSON_VALUE(r, '$.provider'), JSON_VALUE(r, '$.billing_account_id'),
  JSON_VALUE(r, '$.sub_account_id'), JSON_VALUE(r, '$.service'), JSON_VALUE(r, '$.sku_id'),
  JSON_VALUE(r, '$.namespace'), JSON_VALUE(r, '$.team'), JSON_VALUE(r, '$.model'), JSON_VALUE(r, '$.resource_id'),
  JSON_VALUE(r, '$.charge_category'), JSON_VALUE(r, '$.charge_class'), JSON_VALUE(r, '$.charge_frequency'),
  DATE(JSON_VALUE(r, '$.charge_start_day')), DATE(JSON_VALUE(r, '$.charge_end_day')),
  JSON_VALUE(r, '$.cost_center'), JSON_VALUE(r, '$.environment'), JSON_VALUE(r, '$.tags'),
  CAST(JSON_VALUE(r, '$.billed_cost') AS NUMERIC), CAST(JSON_VALUE(r, '$.effective_cost') AS NUMERIC),
  JSON_VALUE(r, '$.currency'), @imported_at
FROM UNNEST(JSON_QUERY_ARRAY(@lines)) AS r;
COMMIT TRANSACTION;

-- query: read_billed
SELECT
  day, source, provider, billing_account_id, sub_account_id, service, sku_id, namespace, team, model,
  resource_id, charge_category, charge_class, charge_frequency, charge_start_day, charge_end_day,
  cost_center, environment, tags, billed_cost, effective_cost, currency
FROM `{{dataset}}`.billed_costs
WHERE day >= DATE(@from_day) AND day < DATE(@to_day)
ORDER BY
  day, source, provider, billing_account_id, sub_account_id NULLS LAST, service, sku_id NULLS LAST,
  namespace NULLS LAST, team NULLS LAST, model NULLS LAST, resource_id NULLS LAST,
  charge_category NULLS LAST, charge_start_day NULLS LAST;

-- query: store_day
BEGIN TRANSACTION;
DELETE FROM `{{dataset}}`.reconciliation_daily WHERE @replace AND day = DATE(@day);
DELETE FROM `{{dataset}}`.calibration_factors WHERE @replace AND learned_for_day = DATE(@day);
INSERT INTO `{{dataset}}`.reconciliation_daily (
  day, match_keys, match_label, cloud, account, service, namespace, team, currency, estimated,
  reconciled, billed, drift, status, reconciled_at
)
SELECT
  DATE(@day), JSON_VALUE(r, '$.match_keys'), JSON_VALUE(r, '$.match_label'), JSON_VALUE(r, '$.cloud'),
  JSON_VALUE(r, '$.account'), JSON_VALUE(r, '$.service'), JSON_VALUE(r, '$.namespace'),
  JSON_VALUE(r, '$.team'), @currency, CAST(JSON_VALUE(r, '$.estimated') AS NUMERIC),
  CAST(JSON_VALUE(r, '$.reconciled') AS NUMERIC), CAST(JSON_VALUE(r, '$.billed') AS NUMERIC),
  CAST(JSON_VALUE(r, '$.drift') AS NUMERIC), JSON_VALUE(r, '$.status'), @reconciled_at
FROM UNNEST(JSON_QUERY_ARRAY(@rows)) AS r;
INSERT INTO `{{dataset}}`.calibration_factors (
  learned_for_day, cloud, family, factor_num, factor_den, clamped, days_used, estimated, billed, learned_at
)
SELECT
  DATE(@day), JSON_VALUE(f, '$.cloud'), JSON_VALUE(f, '$.family'), JSON_VALUE(f, '$.factor_num'),
  JSON_VALUE(f, '$.factor_den'), JSON_VALUE(f, '$.clamped'), CAST(JSON_VALUE(f, '$.days_used') AS INT64),
  CAST(JSON_VALUE(f, '$.estimated') AS NUMERIC), CAST(JSON_VALUE(f, '$.billed') AS NUMERIC), @reconciled_at
FROM UNNEST(JSON_QUERY_ARRAY(@factors)) AS f;
COMMIT TRANSACTION;

-- query: read_rows
SELECT
  day, match_keys, match_label, cloud, account, service, namespace, team, currency, estimated, reconciled,
  billed, drift, status, reconciled_at
FROM `{{dataset}}`.reconciliation_daily
WHERE day >= DATE(@from_day) AND day < DATE(@to_day)
ORDER BY day, match_label, currency;

-- query: read_factors
SELECT
  learned_for_day, cloud, family, factor_num, factor_den, clamped, days_used, estimated, billed
FROM `{{dataset}}`.calibration_factors
WHERE learned_for_day >= DATE(@from_day) AND learned_for_day < DATE(@to_day)
ORDER BY learned_for_day, cloud, family;
