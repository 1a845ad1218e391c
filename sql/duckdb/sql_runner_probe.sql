-- DuckDB only: what test/contract/sql-runner.test.ts runs to check how SqlRunner binds and returns values.
-- query: values
SELECT CAST($amount AS DECIMAL(38, 9)) * 3 AS money, $at AS at, $n + 1 AS n, $x * 2 AS x,
  $flag AS flag, $text AS text, DATE '2026-11-23' AS day, NULL AS nothing;
-- query: two_statements
CREATE TEMP TABLE IF NOT EXISTS probe (v BIGINT);
INSERT INTO probe VALUES (1), (2);
SELECT SUM(v) AS total FROM probe;
