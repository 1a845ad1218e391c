-- Rejected input with rejected_at in [@from, @to), oldest first.
SELECT *
FROM `{{dataset}}`.rejected_events
WHERE rejected_at >= @from AND rejected_at < @to
ORDER BY rejected_at, event_source, event_id, field
