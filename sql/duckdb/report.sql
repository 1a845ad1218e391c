-- Cost per group over the hours in [$from, $to), from the hourly rollup (never the raw events),
-- through the one view (one_view.sql). {{dimensions}} is the adapter's allow-listed group-by column list
-- (dimensions; day, the UTC day; hour, the UTC hour as 2026-11-25T10:00:00Z), each followed by ", " (empty for one total per currency), so it
-- fits before currency in SELECT, GROUP BY and ORDER BY.
WITH hours_read AS (
  SELECT *
  FROM cost_hourly
  WHERE hour >= $from AND hour < $to
),
{{include:one_view}}
SELECT
  {{dimensions}}currency,
  SUM(cost) AS total_cost,
  SUM(rows) AS row_count
FROM (
  SELECT * REPLACE (strftime(hour, '%Y-%m-%dT%H:00:00Z') AS hour), strftime(hour, '%Y-%m-%d') AS day
  FROM final_view
)
GROUP BY {{dimensions}}currency
ORDER BY total_cost DESC, {{dimensions}}currency
