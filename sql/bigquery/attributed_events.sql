-- BigQuery twin: not a query of its own. Where a gateway's attribution gives a self-hosted request
-- its owner, as CTEs for `{{include:attributed_events}}` after a CTE `unique_events` (cost_events
-- rows, each key once, with at least event_source, event_id, event_type, event_time, labels and the
-- owner columns), ending in attributed_events: the same columns without labels and without the
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
    TIMESTAMP_TRUNC(event_time, HOUR) AS hour,
    JSON_VALUE(labels, '$."otel.deployment"') AS deployment,
    JSON_VALUE(labels, '$."gen_ai.request.id"') AS request_id,
    team, business_unit, cost_center, environment
  FROM unique_events
  WHERE event_type = 'ai.cost.attribution.v1'
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY TIMESTAMP_TRUNC(event_time, HOUR), JSON_VALUE(labels, '$."otel.deployment"'),
      JSON_VALUE(labels, '$."gen_ai.request.id"')
    ORDER BY event_source, event_id
  ) = 1
),
attributed_events AS (
  SELECT
    e.* EXCEPT (labels) REPLACE (
      IF(a.hour IS NULL, e.team, a.team) AS team,
      IF(a.hour IS NULL, e.business_unit, a.business_unit) AS business_unit,
      IF(a.hour IS NULL, e.cost_center, a.cost_center) AS cost_center,
      IF(a.hour IS NULL, e.environment, a.environment) AS environment
    )
  FROM unique_events AS e
  LEFT JOIN attributions AS a
    ON e.event_type = 'ai.cost.inference.v1'
    AND a.hour = TIMESTAMP_TRUNC(e.event_time, HOUR)
    AND a.deployment = JSON_VALUE(e.labels, '$."otel.deployment"')
    AND a.request_id = JSON_VALUE(e.labels, '$."gen_ai.request.id"')
  WHERE e.event_type != 'ai.cost.attribution.v1'
)
