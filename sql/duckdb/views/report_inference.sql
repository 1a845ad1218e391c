-- Partition column: hour (and day, its UTC date): a BI filter on either reaches cost_hourly's scan.
-- Inference by hour, model and owner: requests (one rollup row per request), tokens and cost, from the
-- hourly rollup's inference rows, as `finops report --view inference` reads them (cost is the
-- requests' own priced estimate). Unit costs divide sums, so a BI tool computes them over its
-- selection: SUM(cost) * 1000 / SUM(requests), SUM(cost) * 1000000 / (SUM(input_tokens) + SUM(output_tokens)).
SELECT
  hour, CAST(hour AS DATE) AS day, COALESCE(model, 'unallocated') AS model, model_version, team,
  business_unit, currency,
  SUM(rows) AS requests,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cost) AS cost
FROM cost_hourly
WHERE event_type = 'ai.cost.inference.v1'
GROUP BY hour, COALESCE(model, 'unallocated'), model_version, team, business_unit, currency
