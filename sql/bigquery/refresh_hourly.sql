-- Rebuilds cost_hourly for the hours in [@from, @to) from cost_events, in one transaction: a reader
-- sees the old hours or the new ones, never a half. @from and @to are whole hours. What an hour
-- holds is hourly_rows.sql.
-- Training rows are read from @lookback_from (<= @from) so that the first event inside the range
-- finds its predecessor; only hours in [@from, @to) are written. Every read of cost_events filters
-- event_time (partition pruning).
BEGIN TRANSACTION;

DELETE FROM `{{dataset}}`.cost_hourly
WHERE hour >= @from AND hour < @to;

INSERT INTO `{{dataset}}`.cost_hourly (
  hour, basis, event_type, team, model, model_version, business_unit, cost_center, namespace,
  environment, cloud, currency, cost, `rows`, gpu_seconds, input_tokens, output_tokens, refreshed_at,
  family, cluster, node_pool, node
)
WITH raw_rows AS (
  -- Every row of the range, and before it only training rows (cost_events is clustered by
  -- event_type first, so the lookback reads the training blocks of its hours, not the hours whole).
  SELECT *, TRUE AS in_range FROM `{{dataset}}`.cost_events
  WHERE event_time >= @from AND event_time < @to
  UNION ALL
  SELECT *, FALSE AS in_range FROM `{{dataset}}`.cost_events
  WHERE event_time >= @lookback_from AND event_time < @from
    AND event_type = 'ai.cost.training.v1'
),
{{include:hourly_rows}}
SELECT * FROM rolled_up;

COMMIT TRANSACTION;
