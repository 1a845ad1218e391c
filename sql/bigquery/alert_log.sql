-- The notifier's delivery log: one row per alert idempotency key, so a redelivered alert is never
-- posted twice, and where a thread's message is (channel, ts) for chat.update. Several named
-- queries, each after a "-- query: <name>" line; the adapter runs one at a time. Same queries and
-- parameters as the DuckDB twin. The table is small (one row per alert), so it is clustered by key
-- rather than partitioned: lookups by key need no partition filter. Idempotent DDL.

-- query: create
CREATE TABLE IF NOT EXISTS `{{dataset}}`.alert_log (
  idempotency_key STRING NOT NULL,
  thread_key STRING,
  kind STRING NOT NULL,
  severity STRING NOT NULL,
  channel STRING NOT NULL,
  ts STRING NOT NULL,
  action STRING NOT NULL,
  routed_channel STRING,
  delivered_at TIMESTAMP NOT NULL,
  -- What the alert was about, for the dashboard: its title and the scope it filters by.
  title STRING,
  team STRING,
  model STRING,
  business_unit STRING
)
CLUSTER BY idempotency_key, thread_key;

-- A table made before the log kept titles and scopes gets the columns (those rows keep NULLs).
ALTER TABLE `{{dataset}}`.alert_log
  ADD COLUMN IF NOT EXISTS title STRING,
  ADD COLUMN IF NOT EXISTS team STRING,
  ADD COLUMN IF NOT EXISTS model STRING,
  ADD COLUMN IF NOT EXISTS business_unit STRING;

-- query: record
-- The first record of a key wins (MERGE inserts only a key not yet stored); the script answers whether
-- the stored row is this delivery.
MERGE `{{dataset}}`.alert_log AS t
USING (
  SELECT
    @idempotency_key AS idempotency_key, @thread_key AS thread_key, @kind AS kind,
    @severity AS severity, @channel AS channel, @ts AS ts, @action AS action,
    @routed_channel AS routed_channel, TIMESTAMP_MILLIS(@delivered_at_ms) AS delivered_at,
    @title AS title, @team AS team, @model AS model, @business_unit AS business_unit
) AS s
ON t.idempotency_key = s.idempotency_key
WHEN NOT MATCHED THEN
  INSERT (idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel, delivered_at,
    title, team, model, business_unit)
  VALUES (s.idempotency_key, s.thread_key, s.kind, s.severity, s.channel, s.ts, s.action,
    s.routed_channel, s.delivered_at, s.title, s.team, s.model, s.business_unit);
SELECT channel = @channel AND ts = @ts AS inserted
FROM `{{dataset}}`.alert_log
WHERE idempotency_key = @idempotency_key;

-- query: find
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  UNIX_MILLIS(delivered_at) AS delivered_at_ms
FROM `{{dataset}}`.alert_log
WHERE idempotency_key = @idempotency_key;

-- query: find_thread
-- The message the thread's later alerts update: its posted message of the highest severity, latest first.
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  UNIX_MILLIS(delivered_at) AS delivered_at_ms
FROM `{{dataset}}`.alert_log
WHERE thread_key = @thread_key AND action = 'posted'
ORDER BY
  CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END DESC,
  delivered_at DESC,
  ts DESC
LIMIT 1;

-- query: recent
-- Deliveries in [since, until), newest first: the dashboard's recent alerts.
SELECT idempotency_key, thread_key, kind, severity, channel, ts, action, routed_channel,
  title, team, model, business_unit,
  UNIX_MILLIS(delivered_at) AS delivered_at_ms
FROM `{{dataset}}`.alert_log
WHERE delivered_at >= TIMESTAMP_MILLIS(@since_ms) AND delivered_at < TIMESTAMP_MILLIS(@until_ms)
ORDER BY delivered_at DESC, ts DESC, idempotency_key
LIMIT @limit;
