-- Partition column: day (the UTC day), as in the BigQuery view, where a filter on it prunes.
-- Daily cost by every dimension, from report_cost (the one view: each dollar once; idle, unallocated
-- and shared included): `finops report --view trend` for a BI tool, which picks the dimension and
-- shows a day without cost as zero (the report lists those days itself).
SELECT
  day, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency,
  SUM(cost) AS cost,
  SUM(rows) AS rows
FROM report_cost
GROUP BY day, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency
