-- Rejections by key (rejected_events.rejection_key): which of $keys (a JSON array of strings) are
-- already stored, so that a redelivered input adds no second row and no second dead-letter message.
SELECT DISTINCT rejection_key
FROM rejected_events
WHERE rejection_key IN (SELECT unnest(from_json($keys, '["VARCHAR"]')))
