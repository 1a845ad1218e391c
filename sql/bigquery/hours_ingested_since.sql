-- The hours a refresh must rebuild after rows ingested at or after @since: [first hour, last hour + 1h)
-- of their event times, within the event-time lookback [@lookback_from, @lookback_to) (partition
-- pruning). A training row changes what the job's later events are charged (each is charged the
-- difference to its predecessor), so the end extends to the latest event of every training job
-- touched. One row; both columns are NULL when nothing was ingested.
WITH touched AS (
  SELECT event_time, event_type, event_source, job_id
  FROM `{{dataset}}`.cost_events
  WHERE event_time >= @lookback_from
    AND event_time < @lookback_to
    AND ingested_at >= @since
),
touched_jobs AS (
  SELECT DISTINCT event_source, job_id
  FROM touched
  WHERE event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL
),
job_ends AS (
  SELECT MAX(e.event_time) AS latest
  FROM `{{dataset}}`.cost_events AS e
  JOIN touched_jobs AS j
    ON e.event_source = j.event_source AND e.job_id = j.job_id
  WHERE e.event_time >= @lookback_from
    AND e.event_time < @lookback_to
    AND e.event_type = 'ai.cost.training.v1'
)
SELECT
  TIMESTAMP_TRUNC(MIN(event_time), HOUR) AS from_hour,
  TIMESTAMP_ADD(
    TIMESTAMP_TRUNC(GREATEST(MAX(event_time), COALESCE((SELECT latest FROM job_ends), MAX(event_time))), HOUR),
    INTERVAL 1 HOUR
  ) AS to_hour
FROM touched
