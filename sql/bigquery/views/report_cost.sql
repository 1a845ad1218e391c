-- Partition column: hour (and day, its UTC date): a BI filter on either prunes cost_hourly's partitions.
-- Cost by hour and every dimension through the one view in which no dollar appears twice, for Looker
-- Studio or any BI tool (cost_hourly requires a partition filter, so a query of this view needs one).
-- It holds the one view (one_view.sql) over all hours; a filter on hour is pushed through
-- it, as every join, window and grouping of the chain is per hour. idle, unallocated and shared
-- (fixed costs in an hour nobody used) are owners like any other, so totals are the whole cost.
WITH hours_read AS (
  SELECT * FROM `{{dataset}}`.cost_hourly
),
{{include:one_view}}
SELECT
  hour, DATE(hour) AS day, team, model, model_version, business_unit, cost_center, namespace, environment,
  cloud, currency,
  SUM(cost) AS cost,
  SUM(`rows`) AS `rows`
FROM final_view
GROUP BY hour, team, model, model_version, business_unit, cost_center, namespace, environment, cloud, currency
