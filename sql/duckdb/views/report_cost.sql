-- Partition column: hour (and day, its UTC date), as in the BigQuery view, where a filter on it prunes.
-- Cost by hour and every dimension through the one view in which no dollar appears twice: the
-- BigQuery view of the same name for Looker Studio or any BI tool, here for DuckDB. It holds the
-- one view (one_view.sql) over all hours; every join, window and grouping of it is per hour,
-- so a filter on hour gives the report's figures. (DuckDB materializes the chain's shared steps, so
-- here the filter applies after them: fine for a local file.) idle, unallocated and shared (fixed
-- costs in an hour nobody used) are owners like any other, so totals over the view are the whole cost.
WITH hours_read AS (
  SELECT * FROM cost_hourly
),
{{include:one_view}}
SELECT
  hour, CAST(hour AS DATE) AS day, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency,
  SUM(cost) AS cost,
  SUM(rows) AS rows
FROM final_view
GROUP BY hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency
