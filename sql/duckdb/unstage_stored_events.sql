-- DuckDB only: takes out of the staged batch the rows whose (event_source, event_id, part) is already
-- in cost_events and returns their row_index: the caller's duplicates. A key's copies share one event
-- time (the same CloudEvent), so the lookup reads only [$min_event_time, $max_event_time] (pruning).
DELETE FROM temp.staged_events AS e
USING temp.staged_dims AS d, (
  SELECT event_source, event_id, part
  FROM cost_events
  WHERE event_time >= $min_event_time AND event_time <= $max_event_time
) AS stored
WHERE d.dims_id = e.dims_id
  AND stored.event_source = d.event_source
  AND stored.event_id = e.event_id
  AND stored.part = e.part
RETURNING e.row_index
