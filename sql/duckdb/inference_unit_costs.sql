-- Inference per model over the hours in [$from, $to), from the hourly rollup's inference rows (one
-- row per request): requests, tokens and cost as sums. The cost is the requests' own priced estimate
-- (GPU-seconds × rate, or a provider's tokens × price), before the infrastructure layer divides a
-- covered namespace-hour's cost among its workloads. The unit costs are divided from these sums,
-- exactly, in shared/domain/reports/inference-unit-costs.ts.
SELECT
  COALESCE(model, 'unallocated') AS model,
  currency,
  SUM(rows) AS requests,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cost) AS cost
FROM cost_hourly
WHERE hour >= $from AND hour < $to AND event_type = 'ai.cost.inference.v1'
GROUP BY 1, 2
ORDER BY cost DESC, model, currency
