-- The notifier's delivery log: one row per alert idempotency key, so a redelivered alert is never
-- posted twice, and where a thread's message is (channel, ts) for chat.update. Several named
-- queries, each after a "-- query: <name>" line; the adapter runs one at a time. Same queries and
-- parameters as the BigQuery twin. Idempotent DDL: safe to run on every start.

-- query: create
CREATE TABLE IF NOT EXISTS alert_log (
  idempotency_key VARCHAR PRIMARY KEY,
  thread_key VARCHAR,
  kind VARCHAR NOT NULL,
  severity VARCHAR NOT NULL,
  channel VARCHAR NOT NULL,
  ts VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  routed_channel VARCHAR,
  delivered_at TIMESTAMPTZ NOT NULL,
  -- What the alert was about, for the dashboard: its title and the scope it filters by.
  title VARCHAR,
  team VARCHAR,
  model VARCHAR,
  business_unit VARCHAR
);

-- A file made before the log kept titles and scopes gets the columns (those rows keep NULLs).
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS title VARCHAR;
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS team VARCHAR;
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS model VARCHAR;
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS business_unit VARCHAR;

-- query: record
-- The first record of a key wins; returns the key when this call inserted it.
INSERT INTO alert_log (
  idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel, delivered_at,
  title, team, model, business_unit
)
VALUES (
  $idempotency_key, $thread_key, $kind, $severity, $channel, $ts, $action, $routed_channel,
  make_timestamptz(CAST($delivered_at_ms AS BIGINT) * 1000),
  $title, $team, $model, $business_unit
)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING idempotency_key;

-- query: find
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  epoch_ms(delivered_at) AS delivered_at_ms
FROM alert_log
WHERE idempotency_key = $idempotency_key;

-- query: find_thread
-- The message the thread's later alerts update: its posted message of the highest severity, latest first.
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  epoch_ms(delivered_at) AS delivered_at_ms
FROM alert_log
WHERE thread_key = $thread_key AND action = 'posted'
ORDER BY
  CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END DESC,
  delivered_at DESC,
  ts DESC
LIMIT 1;

-- query: recent
-- Deliveries in [since, until), newest first: the dashboard's recent alerts.
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  epoch_ms(delivered_at) AS delivered_at_ms
FROM alert_log
WHERE delivered_at >= make_timestamptz(CAST($since_ms AS BIGINT) * 1000)
  AND delivered_at < make_timestamptz(CAST($until_ms AS BIGINT) * 1000)
ORDER BY delivered_at DESC, ts DESC, idempotency_key
LIMIT CAST($limit AS BIGINT);
