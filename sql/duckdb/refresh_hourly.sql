-- Rebuilds cost_hourly for the hours in [$from, $to) from cost_events. The adapter runs it inside a
-- transaction (with the pending hours it consumes), so a reader sees the old hours or the new ones,
-- never a half. $from and $to are whole hours. What an hour holds is hourly_rows.sql.
-- Training rows are read from $lookback_from (<= $from) so that the first event inside the range
-- finds its predecessor; only hours in [$from, $to) are written. Every read of cost_events filters
-- event_time (pruning).
DELETE FROM cost_hourly
WHERE hour >= $from AND hour < $to;

INSERT INTO cost_hourly (
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, cost, rows, gpu_seconds, input_tokens, output_tokens, refreshed_at,
  family, cluster, node_pool, node
)
WITH raw_rows AS (
  SELECT *, event_time >= $from AS in_range
  FROM cost_events
  WHERE event_time >= $lookback_from
    AND event_time < $to
    AND (event_time >= $from OR event_type = 'ai.cost.training.v1')
),
{{include:hourly_rows}}
SELECT * FROM rolled_up;
