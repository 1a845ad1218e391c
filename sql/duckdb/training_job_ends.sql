-- The end of what a refresh of [$from, $to) must rebuild for training: each training row is charged
-- the difference to its job's previous event, so a row in the range changes the charge of the job's
-- later rows. Returns the hour after the latest event of every job with a training row in the range
-- (NULL when there is none); events are read up to $until (the latest event time ingest accepts).
WITH jobs AS (
  SELECT DISTINCT event_source, job_id
  FROM cost_events
  WHERE event_time >= $from
    AND event_time < $to
    AND event_type = 'ai.cost.training.v1'
    AND job_id IS NOT NULL
)
SELECT date_trunc('hour', MAX(e.event_time)) + INTERVAL 1 HOUR AS to_hour
FROM cost_events AS e
SEMI JOIN jobs AS j ON e.event_source = j.event_source AND e.job_id = j.job_id
WHERE e.event_time >= $from
  AND e.event_time < $until
  AND e.event_type = 'ai.cost.training.v1'
