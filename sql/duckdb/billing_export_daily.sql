-- The Cloud Billing export's charges from a table with its columns ({{table}}): the twin of
-- sql/bigquery/billing_export_daily.sql, for a billing export copied into the local warehouse.
-- Cost and credits summed apart as DECIMAL(38, 9); labels as a JSON array of {key, value}.
SELECT
  usage_start_time AS charge_start,
  usage_end_time AS charge_end,
  billing_account_id,
  project.id AS project_id,
  service.description AS service_name,
  sku.id AS sku_id,
  cost_type,
  currency,
  CAST(to_json(labels) AS VARCHAR) AS labels,
  SUM(CAST(cost AS DECIMAL(38, 9))) AS cost,
  SUM(COALESCE(list_sum(list_transform(credits, c -> CAST(c.amount AS DECIMAL(38, 9)))), 0)) AS credits
FROM {{table}}
WHERE _PARTITIONTIME >= CAST($partition_start AS TIMESTAMP)
  AND _PARTITIONTIME < CAST($partition_end AS TIMESTAMP)
  AND usage_end_time > CAST($start_date AS TIMESTAMPTZ)
  AND usage_start_time < CAST($end_date AS TIMESTAMPTZ)
  AND ($invoice_month IS NULL OR invoice.month = $invoice_month)
GROUP BY ALL
ORDER BY charge_start, charge_end, billing_account_id, project_id, service_name, sku_id, cost_type, currency, labels
