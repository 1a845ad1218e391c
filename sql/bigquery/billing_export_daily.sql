-- The Cloud Billing export (standard or detailed table, {{table}} fully qualified) as charges: one
-- row per (usage start, usage end, account, project, service, SKU, cost type, currency, labels),
-- for the caller to spread over the days each usage period covers and to read owners from the
-- labels (as a JSON array of {key, value}). Cost and credits (negative, repeated) are summed as
-- NUMERIC apart, so float drift does not reach the bill and credits stay their own lines.
-- Filters: usage period overlapping [@start_date, @end_date) (UTC), partitions from
-- @partition_start (required partition filter; a month's charge is exported around its start, so
-- partitions are read from a month before the period) up to @partition_end (rows arrive late),
-- and, when @invoice_month (YYYYMM) is not NULL, that invoice month only.
SELECT
  usage_start_time AS charge_start,
  usage_end_time AS charge_end,
  billing_account_id,
  project.id AS project_id,
  service.description AS service_name,
  sku.id AS sku_id,
  cost_type,
  currency,
  TO_JSON_STRING(labels) AS labels,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS credits
FROM `{{table}}`
WHERE _PARTITIONTIME >= @partition_start
  AND _PARTITIONTIME < @partition_end
  AND usage_end_time > TIMESTAMP(@start_date)
  AND usage_start_time < TIMESTAMP(@end_date)
  AND (@invoice_month IS NULL OR invoice.month = @invoice_month)
GROUP BY charge_start, charge_end, billing_account_id, project_id, service_name, sku_id, cost_type, currency, labels
ORDER BY charge_start, charge_end, billing_account_id, project_id, service_name, sku_id, cost_type, currency, labels
