-- The seen-store (shared/ports/seen-store.ts): the highest value seen per key. Several statements,
-- each after its "-- query: <name>" line; the adapter runs them one at a time.
-- `previous` only carries the value before the last claim out of RETURNING.

-- query: create
CREATE TABLE IF NOT EXISTS seen_keys (
  key VARCHAR PRIMARY KEY,
  value BIGINT NOT NULL,
  previous BIGINT,
  updated_at TIMESTAMPTZ NOT NULL
);

-- query: claim
INSERT INTO seen_keys AS s (key, value, previous, updated_at)
VALUES ($key, $value, NULL, $updated_at)
ON CONFLICT (key) DO UPDATE SET
  previous = s.value,
  value = greatest(s.value, excluded.value),
  updated_at = excluded.updated_at
RETURNING previous;

-- query: restore
UPDATE seen_keys
SET value = $previous, previous = NULL, updated_at = $updated_at
WHERE key = $key AND value = $value;

-- query: forget
DELETE FROM seen_keys WHERE key = $key AND value = $value;
