-- The seen-store (shared/ports/seen-store.ts): the highest value seen per key. Several statements,
-- each after its "-- query: <name>" line; the adapter runs them one at a time (claim is a
-- multi-statement script: BigQuery has no RETURNING).

-- query: create
CREATE TABLE IF NOT EXISTS `{{dataset}}.seen_keys` (
  key STRING NOT NULL,
  value INT64 NOT NULL,
  previous INT64,
  updated_at TIMESTAMP NOT NULL
)
CLUSTER BY key;

-- query: claim
DECLARE prior INT64;
BEGIN TRANSACTION;
SET prior = (SELECT value FROM `{{dataset}}.seen_keys` WHERE key = @key);
MERGE `{{dataset}}.seen_keys` AS s
USING (SELECT @key AS key, @value AS value, @updated_at AS updated_at) AS n
ON s.key = n.key
WHEN MATCHED THEN UPDATE SET
  previous = s.value,
  value = GREATEST(s.value, n.value),
  updated_at = n.updated_at
WHEN NOT MATCHED THEN INSERT (key, value, previous, updated_at)
  VALUES (n.key, n.value, NULL, n.updated_at);
COMMIT TRANSACTION;
SELECT CAST(prior AS STRING) AS previous;

-- query: restore
UPDATE `{{dataset}}.seen_keys`
SET value = @previous, previous = NULL, updated_at = @updated_at
WHERE key = @key AND value = @value;

-- query: forget
DELETE FROM `{{dataset}}.seen_keys` WHERE key = @key AND value = @value;
