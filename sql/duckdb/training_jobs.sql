-- Training jobs seen in [$from, $to): one row per job (event_source, job_id), as the pure twin
-- shared/domain/training/job-summary.ts computes it. Every read of cost_events filters event_time.
-- The raw table may hold a row twice: the first ingested copy of each (event_source, event_id, part)
-- counts. Training rows carry the job's cumulative cost; the job's cost is that of its last row in
-- the rollup's order (elapsed_seconds, event_time, event_id), which is what refresh_hourly charges
-- for the job in total. The outcome is that of the job's last finished/failed row; without one, a
-- job silent since before $now - $silence_seconds is 'abandoned', else 'running'.
WITH unique_events AS (
  SELECT
    event_source, event_id, event_time, team, model, business_unit, instance_type, currency, job_id,
    job_phase, epoch, elapsed_seconds, gpu_count, cost
  FROM cost_events
  WHERE event_time >= $from
    AND event_time < $to
    AND event_type = 'ai.cost.training.v1'
    AND job_id IS NOT NULL
    AND elapsed_seconds IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY event_source, event_id, part ORDER BY ingested_at) = 1
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY event_source, job_id
      ORDER BY elapsed_seconds DESC, event_time DESC, event_id DESC
    ) AS from_last,
    ROW_NUMBER() OVER (
      PARTITION BY event_source, job_id
      ORDER BY
        CASE WHEN job_phase IN ('finished', 'failed') THEN 1 ELSE 0 END DESC,
        elapsed_seconds DESC, event_time DESC, event_id DESC
    ) AS from_last_end
  FROM unique_events
),
jobs AS (
  SELECT
    event_source,
    job_id,
    MAX(CASE WHEN from_last = 1 THEN COALESCE(team, 'unallocated') END) AS team,
    MAX(CASE WHEN from_last = 1 THEN COALESCE(model, 'unallocated') END) AS model,
    MAX(CASE WHEN from_last = 1 THEN COALESCE(business_unit, 'unallocated') END) AS business_unit,
    MAX(CASE WHEN from_last = 1 THEN instance_type END) AS instance_type,
    MAX(CASE WHEN from_last = 1 THEN currency END) AS currency,
    MAX(CASE WHEN from_last = 1 THEN cost END) AS cost,
    MAX(CASE WHEN from_last_end = 1 AND job_phase IN ('finished', 'failed') THEN job_phase END) AS end_phase,
    MIN(event_time) AS started_at,
    MAX(event_time) AS last_seen_at,
    MAX(elapsed_seconds) AS duration_seconds,
    MAX(gpu_count) AS gpu_count,
    MAX(epoch) AS epochs
  FROM ranked
  GROUP BY event_source, job_id
)
SELECT
  event_source, job_id, team, model, business_unit, instance_type, currency, started_at, last_seen_at,
  duration_seconds, gpu_count, epochs, cost,
  CASE
    WHEN end_phase IS NOT NULL THEN end_phase
    WHEN last_seen_at < CAST($now AS TIMESTAMPTZ) - to_seconds(CAST($silence_seconds AS BIGINT)) THEN 'abandoned'
    ELSE 'running'
  END AS outcome
FROM jobs
ORDER BY started_at, event_source, job_id
