-- Rejections by key (rejected_events.rejection_key): which of @keys (a JSON array of strings) are
-- already stored, so that a redelivered input adds no second row and no second dead-letter message.
-- Rejections are kept 30 days (partition expiration); the filter reads only those partitions.
SELECT DISTINCT rejection_key
FROM `{{dataset}}`.rejected_events
WHERE rejected_at >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 31 DAY)
  AND rejection_key IN UNNEST(JSON_VALUE_ARRAY(@keys))
