-- Cost per group over the hours in [$from, $to), from the hourly rollup (never the raw events).
-- {{dimensions}} is the adapter's allow-listed group-by column list, each followed by ", " (empty
-- for one total per currency), so it fits before currency in SELECT, GROUP BY and ORDER BY.
SELECT
  {{dimensions}}currency,
  SUM(cost) AS total_cost,
  SUM(rows) AS row_count
FROM cost_hourly
WHERE hour >= $from AND hour < $to
GROUP BY {{dimensions}}currency
ORDER BY total_cost DESC, {{dimensions}}currency
