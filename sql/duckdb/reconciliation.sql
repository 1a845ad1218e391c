-- The reconciliation store (shared/adapters/warehouse-reconciliation): the daily estimates read from
-- the hourly rollup, and the bill, drift rows and calibration factors it keeps (create_tables.sql).
-- Rows to write come as one JSON array parameter (money as exact decimal strings), so a batch is one
-- statement. A write with $replace first deletes what it replaces, in the same transaction.

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
  FROM cost_hourly
  WHERE hour >= $from AND hour < $to
),
covered AS (
  SELECT hour, namespace, currency
  FROM hourly
  WHERE namespace IS NOT NULL
  GROUP BY hour, namespace, currency
  HAVING bool_or(basis = 'allocation' AND cloud IS NOT NULL) AND SUM(CASE WHEN is_workload THEN GREATEST(cost, 0) ELSE 0 END) > 0
)
SELECT
  strftime(h.hour, '%Y-%m-%d') AS day, h.cloud, h.namespace, h.team, h.family, h.cluster,
  h.node_pool, h.node, h.currency,
  CAST(SUM(h.cost) AS DECIMAL(38, 9)) AS cost
FROM hourly AS h
LEFT JOIN covered AS c ON c.hour = h.hour AND c.namespace = h.namespace AND c.currency = h.currency
WHERE h.cloud IS NOT NULL AND NOT (h.is_workload AND c.hour IS NOT NULL)
GROUP BY day, h.cloud, h.namespace, h.team, h.family, h.cluster, h.node_pool, h.node, h.currency
ORDER BY
  day, h.cloud, h.namespace NULLS LAST, h.team NULLS LAST, h.family NULLS LAST, h.cluster NULLS LAST,
  h.node_pool NULLS LAST, h.node NULLS LAST, h.currency;

-- query: store_billed
BEGIN TRANSACTION;
DELETE FROM billed_costs
WHERE $replace AND source = $source AND day >= CAST($from_day AS DATE) AND day < CAST($to_day AS DATE);
INSERT INTO billed_costs (
  day, source, provider, billing_account_id, sub_account_id, service, sku_id, namespace, team, model,
  resource_id, charge_category, charge_class, charge_frequency, charge_start_day, charge_end_day,
  cost_center, environment, tags, billed_cost, effective_cost, currency, imported_at
)
SELECT
  CAST(r->>'day' AS DATE), $source, r->>'provider', r->>'billing_account_id', r->>'sub_account_id',
  r->>'service', r->>'sku_id', r->>'namespace', r->>'team', r->>'model', r->>'resource_id',
  r->>'charge_category', r->>'charge_class', r->>'charge_frequency', CAST(r->>'charge_start_day' AS DATE),
  CAST(r->>'charge_end_day' AS DATE), r->>'cost_center', r->>'environment', r->>'tags',
  CAST(r->>'billed_cost' AS DECIMAL(38, 9)), CAST(r->>'effective_cost' AS DECIMAL(38, 9)),
  r->>'currency', $imported_at
FROM (SELECT unnest(from_json($lines, '["JSON"]')) AS r);
COMMIT;

-- query: read_billed
SELECT
  day, source, provider, billing_account_id, sub_account_id, service, sku_id, namespace, team, model,
  resource_id, charge_category, charge_class, charge_frequency, charge_start_day, charge_end_day,
  cost_center, environment, tags, billed_cost, effective_cost, currency
FROM billed_costs
WHERE day >= CAST($from_day AS DATE) AND day < CAST($to_day AS DATE)
ORDER BY
  day, source, provider, billing_account_id, sub_account_id NULLS LAST, service, sku_id NULLS LAST,
  namespace NULLS LAST, team NULLS LAST, model NULLS LAST, resource_id NULLS LAST,
  charge_category NULLS LAST, charge_start_day NULLS LAST;

-- query: store_day
BEGIN TRANSACTION;
DELETE FROM reconciliation_daily WHERE $replace AND day = CAST($day AS DATE);
DELETE FROM calibration_factors WHERE $replace AND learned_for_day = CAST($day AS DATE);
INSERT INTO reconciliation_daily (
  day, match_keys, match_label, cloud, account, service, namespace, team, currency, estimated,
  reconciled, billed, drift, status, reconciled_at
)
SELECT
  CAST($day AS DATE), r->>'match_keys', r->>'match_label', r->>'cloud', r->>'account', r->>'service',
  r->>'namespace', r->>'team', $currency, CAST(r->>'estimated' AS DECIMAL(38, 9)),
  CAST(r->>'reconciled' AS DECIMAL(38, 9)), CAST(r->>'billed' AS DECIMAL(38, 9)),
  CAST(r->>'drift' AS DECIMAL(38, 9)), r->>'status', $reconciled_at
FROM (SELECT unnest(from_json($rows, '["JSON"]')) AS r);
INSERT INTO calibration_factors (
  learned_for_day, cloud, family, factor_num, factor_den, clamped, days_used, estimated, billed, learned_at
)
SELECT
  CAST($day AS DATE), f->>'cloud', f->>'family', f->>'factor_num', f->>'factor_den', f->>'clamped',
  CAST(f->>'days_used' AS BIGINT), CAST(f->>'estimated' AS DECIMAL(38, 9)),
  CAST(f->>'billed' AS DECIMAL(38, 9)), $reconciled_at
FROM (SELECT unnest(from_json($factors, '["JSON"]')) AS f);
COMMIT;

-- query: read_rows
SELECT
  day, match_keys, match_label, cloud, account, service, namespace, team, currency, estimated, reconciled,
  billed, drift, status, reconciled_at
FROM reconciliation_daily
WHERE day >= CAST($from_day AS DATE) AND day < CAST($to_day AS DATE)
ORDER BY day, match_label, currency;

-- query: read_factors
SELECT
  learned_for_day, cloud, family, factor_num, factor_den, clamped, days_used, estimated, billed
FROM calibration_factors
WHERE learned_for_day >= CAST($from_day AS DATE) AND learned_for_day < CAST($to_day AS DATE)
ORDER BY learned_for_day, cloud, family;
