-- DuckDB only: empties the staging area after a batch, whether it was stored or not.
DELETE FROM temp.staged_events;
DELETE FROM temp.staged_dims;
