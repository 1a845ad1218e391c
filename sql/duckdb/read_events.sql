-- Raw rows with event times in [$from, $to), in key order: what was stored, for checks and tools.
SELECT *
FROM cost_events
WHERE event_time >= $from AND event_time < $to
ORDER BY event_source, event_id, part, ingested_at
