-- DuckDB only: takes out of the staged batch every row whose event (event_source, event_id) is
-- already stored, whatever its time, and returns each one's row_index and verdict:
--   conflict   a stored row of the event has another payload_hash: the first copy stays counted;
--   duplicate  the same payload (or a row stored before hashes existed) with this part stored.
-- A key is looked up across all of cost_events, not within the batch's times: a resend with another
-- `time` must still find its first copy.
CREATE OR REPLACE TEMP TABLE staged_verdicts AS
WITH keys AS (
  SELECT DISTINCT d.event_source, e.event_id
  FROM temp.staged_events AS e
  JOIN temp.staged_dims AS d ON d.dims_id = e.dims_id
),
stored AS (
  SELECT c.event_source, c.event_id, c.part, c.payload_hash
  FROM cost_events AS c
  SEMI JOIN keys AS k ON c.event_source = k.event_source AND c.event_id = k.event_id
)
SELECT
  e.row_index,
  CASE WHEN bool_or(s.payload_hash <> e.payload_hash) THEN 'conflict' ELSE 'duplicate' END AS verdict,
  any_value(s.payload_hash) FILTER (WHERE s.payload_hash <> e.payload_hash) AS stored_hash
FROM temp.staged_events AS e
JOIN temp.staged_dims AS d ON d.dims_id = e.dims_id
JOIN stored AS s ON s.event_source = d.event_source AND s.event_id = e.event_id
GROUP BY e.row_index
HAVING bool_or(s.payload_hash <> e.payload_hash) OR bool_or(s.part = e.part);

DELETE FROM temp.staged_events
WHERE row_index IN (SELECT row_index FROM temp.staged_verdicts);

SELECT row_index, verdict, stored_hash FROM temp.staged_verdicts
