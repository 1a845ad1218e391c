-- DuckDB only: the hours rows were inserted into since the last refresh, oldest first (see create_tables.sql).
-- query: list
SELECT DISTINCT hour FROM pending_hours ORDER BY hour;

-- query: clear
DELETE FROM pending_hours;
