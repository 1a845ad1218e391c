-- Partition column: day (the UTC day of a job's reports): a BI filter on it prunes cost_events' partitions.
-- Training jobs, one row per job and UTC day it reported on, read as `finops report --view training`
-- and training_jobs.sql read them: the first ingested copy of each event counts; owner, placement
-- and cost are those of the day's last report in the rollup's order (elapsed_seconds, event_time,
-- event_id). Reports are cumulative, so each figure is the job's to date: over a range of days a
-- job's cost, duration, epochs and GPU-hours are their MAX (on its last day), never their sum.
-- outcome is finished or failed once the job said so, else running; last_seen_at shows a silence
-- (the report calls a job abandoned after training.silenceMinutes of it). Cost per epoch: cost / epochs.
WITH unique_events AS (
  SELECT
    DATE(event_time) AS day, event_source, event_id, event_time, team, model, business_unit, instance_type,
    currency, job_id, job_phase, epoch, elapsed_seconds, gpu_count, cost
  FROM `{{dataset}}`.cost_events
  WHERE event_type = 'ai.cost.training.v1' AND job_id IS NOT NULL AND elapsed_seconds IS NOT NULL
  -- Per day too (copies of an event share its time), so a filter on day is carried below the window.
  QUALIFY ROW_NUMBER() OVER (PARTITION BY DATE(event_time), event_source, event_id, part ORDER BY ingested_at) = 1
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY day, event_source, job_id
      ORDER BY elapsed_seconds DESC, event_time DESC, event_id DESC
    ) AS from_last,
    ROW_NUMBER() OVER (
      PARTITION BY day, event_source, job_id
      ORDER BY
        CASE WHEN job_phase IN ('finished', 'failed') THEN 1 ELSE 0 END DESC,
        elapsed_seconds DESC, event_time DESC, event_id DESC
    ) AS from_last_end
  FROM unique_events
)
SELECT
  day,
  event_source,
  job_id,
  MAX(CASE WHEN from_last = 1 THEN COALESCE(team, 'unallocated') END) AS team,
  MAX(CASE WHEN from_last = 1 THEN COALESCE(model, 'unallocated') END) AS model,
  MAX(CASE WHEN from_last = 1 THEN COALESCE(business_unit, 'unallocated') END) AS business_unit,
  MAX(CASE WHEN from_last = 1 THEN instance_type END) AS instance_type,
  MAX(CASE WHEN from_last = 1 THEN currency END) AS currency,
  COALESCE(
    MAX(CASE WHEN from_last_end = 1 AND job_phase IN ('finished', 'failed') THEN job_phase END), 'running'
  ) AS outcome,
  MIN(event_time) AS first_seen_at,
  MAX(event_time) AS last_seen_at,
  MAX(elapsed_seconds) AS duration_seconds,
  MAX(gpu_count) AS gpu_count,
  MAX(gpu_count) * MAX(elapsed_seconds) / 3600 AS gpu_hours,
  MAX(epoch) AS epochs,
  MAX(CASE WHEN from_last = 1 THEN cost END) AS cost
FROM ranked
GROUP BY day, event_source, job_id
