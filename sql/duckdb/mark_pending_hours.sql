-- DuckDB only: records the hours of the staged (new) rows in pending_hours, in the transaction that
-- inserts them, so the next refresh rebuilds those hours whatever happens in between.
INSERT INTO pending_hours (hour)
SELECT staged.hour
FROM (
  SELECT DISTINCT date_trunc('hour', make_timestamptz(CAST(event_ms AS BIGINT) * 1000)) AS hour
  FROM temp.staged_events
) AS staged
ANTI JOIN pending_hours AS p ON p.hour = staged.hour
