-- Cost per group over the hours in [@from, @to), through the one view (one_view.sql). Each hour is
-- read from exactly one place: the hours the rollup has settled from cost_hourly, and the hours not
-- refreshed yet (the live tail) from cost_events, computed as the refresh will compute them
-- (hourly_rows.sql), so an hour shows the same figures before and after its refresh.
-- {{tail_events}}, {{tail_lookback}} and {{tail_hours}} are the adapter's predicates on the tail's
-- whole-hour ranges (bound @tail_from_N, @tail_to_N and @tail_lookback_N; live-tail.ts): the raw rows
-- of those hours, the training rows read before each only as predecessors, and the rollup rows they
-- stand in for. Each range is a constant filter on event_time, so only the tail's hourly partitions
-- are read (the lookback reads their training blocks: cost_events is clustered by event_type first).
-- A report of the rollup alone binds one empty range, which prunes every partition.
-- {{dimensions}} is the adapter's allow-listed group-by column list (dimensions; day, the UTC day;
-- hour, the UTC hour as 2026-11-25T10:00:00Z), each followed by ", " (empty for one total per
-- currency), so it fits before currency in SELECT, GROUP BY and ORDER BY.
WITH raw_rows AS (
  SELECT *, TRUE AS in_range
  FROM `{{dataset}}`.cost_events
  WHERE {{tail_events}}
  UNION ALL
  SELECT *, FALSE AS in_range
  FROM `{{dataset}}`.cost_events
  WHERE {{tail_lookback}} AND NOT {{tail_events}} AND event_type = 'ai.cost.training.v1'
),
{{include:hourly_rows}},
hours_read AS (
  SELECT *
  FROM `{{dataset}}`.cost_hourly
  WHERE hour >= @from AND hour < @to AND NOT {{tail_hours}}
  UNION ALL
  SELECT * FROM rolled_up
),
{{include:one_view}}
SELECT
  {{dimensions}}currency,
  SUM(cost) AS total_cost,
  SUM(`rows`) AS row_count
FROM (
  SELECT * REPLACE (FORMAT_TIMESTAMP('%FT%H:00:00Z', hour) AS hour), FORMAT_TIMESTAMP('%F', hour) AS day
  FROM final_view
)
GROUP BY {{dimensions}}currency
ORDER BY total_cost DESC, {{dimensions}}currency
