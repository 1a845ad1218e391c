-- Daily billed cost from a table with the Cloud Billing export's columns ({{table}}): the twin of
-- sql/bigquery/billing_export_daily.sql, for a billing export copied into the local warehouse.
-- Net cost = cost + SUM(credits.amount), as DECIMAL(38, 9). Labels are read one key at a time
-- (LEFT JOIN UNNEST semantics: an unlabeled row keeps its cost under NULL), never grouped by the
-- unnested key/value pairs, which would count a row once per label.
SELECT
  CAST(usage_start_time AS DATE) AS charge_day,
  billing_account_id,
  project.id AS project_id,
  service.description AS service_name,
  sku.id AS sku_id,
  currency,
  list_filter(labels, l -> l.key = $namespace_label_key)[1].value AS x_namespace,
  list_filter(labels, l -> l.key = $team_label_key)[1].value AS x_team,
  list_filter(labels, l -> l.key = $model_label_key)[1].value AS x_model,
  SUM(CAST(cost AS DECIMAL(38, 9))) AS cost,
  SUM(COALESCE(list_sum(list_transform(credits, c -> CAST(c.amount AS DECIMAL(38, 9)))), 0)) AS credits,
  SUM(
    CAST(cost AS DECIMAL(38, 9))
    + COALESCE(list_sum(list_transform(credits, c -> CAST(c.amount AS DECIMAL(38, 9)))), 0)
  ) AS net_cost
FROM {{table}}
WHERE _PARTITIONTIME >= CAST($start_date AS TIMESTAMP) - INTERVAL 1 DAY
  AND _PARTITIONTIME < CAST($partition_end AS TIMESTAMP)
  AND usage_start_time >= CAST($start_date AS TIMESTAMPTZ)
  AND usage_start_time < CAST($end_date AS TIMESTAMPTZ)
  AND ($invoice_month IS NULL OR invoice.month = $invoice_month)
GROUP BY ALL
ORDER BY charge_day, billing_account_id, project_id, service_name, sku_id, currency, x_namespace, x_team, x_model
