-- Daily billed cost from the Cloud Billing export (standard or detailed table, {{table}} fully
-- qualified), one row per (day, account, project, service, SKU, currency, namespace, team, model).
-- Net cost = cost + SUM(credits.amount) (credits are negative and repeated), summed as NUMERIC so
-- float drift does not reach the bill. Labels are read one key at a time from the labels array
-- (LEFT JOIN UNNEST semantics: an unlabeled row keeps its cost under NULL); grouping by the
-- unnested key/value pairs would count a row once per label.
-- Filters: usage day in [@start_date, @end_date) (UTC), partitions from a day before @start_date
-- (required partition filter; rows land in later partitions when they arrive late) up to
-- @partition_end, and, when @invoice_month (YYYYMM) is not NULL, that invoice month only.
SELECT
  DATE(usage_start_time) AS charge_day,
  billing_account_id,
  project.id AS project_id,
  service.description AS service_name,
  sku.id AS sku_id,
  currency,
  (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @namespace_label_key LIMIT 1) AS x_namespace,
  (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @team_label_key LIMIT 1) AS x_team,
  (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @model_label_key LIMIT 1) AS x_model,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS credits,
  SUM(CAST(cost AS NUMERIC) + IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS net_cost
FROM `{{table}}`
WHERE _PARTITIONTIME >= TIMESTAMP_SUB(TIMESTAMP(@start_date), INTERVAL 1 DAY)
  AND _PARTITIONTIME < @partition_end
  AND usage_start_time >= TIMESTAMP(@start_date)
  AND usage_start_time < TIMESTAMP(@end_date)
  AND (@invoice_month IS NULL OR invoice.month = @invoice_month)
GROUP BY charge_day, billing_account_id, project_id, service_name, sku_id, currency, x_namespace, x_team, x_model
ORDER BY charge_day, billing_account_id, project_id, service_name, sku_id, currency, x_namespace, x_team, x_model
