-- DuckDB twin: not a query of its own. Where a gateway's attribution gives a self-hosted request its
-- owner, as CTEs for `{{include:attributed_events}}` after a CTE `unique_events` (cost_events rows,
-- each key once, with at least event_source, event_id, event_type, event_time, labels and the owner
-- columns), ending in attributed_events: the same columns without labels and without the
-- attribution rows themselves, each ai.cost.inference.v1 row whose (labels."otel.deployment",
-- labels."gen_ai.request.id") an attribution in the same hour names carrying that attribution's
-- team, business_unit, cost_center and environment. Every reader of raw events that builds costs
-- (hourly_rows.sql: the refresh and the live tail; scorecard_inputs.sql) selects events through it,
-- so the rule lives here only (docs/architecture.md, "Self-hosted requests behind a gateway"). An
-- attribution has a row in every hour its request's span may end in (see
-- shared/domain/ingest/to-cost-rows.ts), so the join never looks outside the hour; two attributions
-- of one request: the first by (event_source, event_id) wins.
attributions AS (
  SELECT
    date_trunc('hour', event_time) AS hour,
    json_extract_string(labels, '$."otel.deployment"') AS deployment,
    json_extract_string(labels, '$."gen_ai.request.id"') AS request_id,
    team, business_unit, cost_center, environment
  FROM unique_events
  WHERE event_type = 'ai.cost.attribution.v1'
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY date_trunc('hour', event_time), deployment, request_id ORDER BY event_source, event_id
  ) = 1
),
attributed_events AS (
  SELECT
    e.* EXCLUDE (labels) REPLACE (
      CASE WHEN a.hour IS NULL THEN e.team ELSE a.team END AS team,
      CASE WHEN a.hour IS NULL THEN e.business_unit ELSE a.business_unit END AS business_unit,
      CASE WHEN a.hour IS NULL THEN e.cost_center ELSE a.cost_center END AS cost_center,
      CASE WHEN a.hour IS NULL THEN e.environment ELSE a.environment END AS environment
    )
  FROM unique_events AS e
  LEFT JOIN attributions AS a
    ON e.event_type = 'ai.cost.inference.v1'
    AND a.hour = date_trunc('hour', e.event_time)
    AND a.deployment = json_extract_string(e.labels, '$."otel.deployment"')
    AND a.request_id = json_extract_string(e.labels, '$."gen_ai.request.id"')
  WHERE e.event_type <> 'ai.cost.attribution.v1'
)
