-- Partition column: day (the reconciled UTC day): a BI filter on it reaches reconciliation_daily's scan.
-- Estimated vs reconciled (calibrated) vs billed cost per day, as `finops report --view
-- reconciliation` reads what reconcileDaily stored: one row per day and value of the keys the day was
-- matched on (match_keys, e.g. "cloud,namespace,team"); a key it was not matched on is null.
-- drift = billed - estimated. Cost without an owning team (bill lines without the label, idle and
-- unallocated estimates) has a null team: a row of its own, never dropped.
SELECT
  day, match_keys, cloud, namespace, team, currency,
  SUM(estimated) AS estimated,
  SUM(reconciled) AS reconciled,
  SUM(billed) AS billed,
  SUM(drift) AS drift
FROM reconciliation_daily
GROUP BY day, match_keys, cloud, namespace, team, currency
