-- BigQuery only: the record of hours written since the last refresh (see ingest_marks in
-- create_tables.sql). Several statements, each after its "-- query: <name>" line.

-- query: low_water
SELECT MAX(low_water) AS low_water FROM `{{dataset}}`.refresh_runs;

-- query: hours
SELECT DISTINCT hour
FROM `{{dataset}}`.ingest_marks
WHERE marked_at >= @low_water AND marked_at < @snapshot
ORDER BY hour;

-- query: advance
INSERT INTO `{{dataset}}`.refresh_runs (refreshed_at, low_water)
VALUES (CURRENT_TIMESTAMP(), @snapshot);

-- query: tail_hours
SELECT DISTINCT hour
FROM `{{dataset}}`.ingest_marks
WHERE marked_at >= @low_water
ORDER BY hour;
