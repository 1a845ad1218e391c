-- Inference per model over the hours in [$from, $to): the report_inference view (views/report_inference.sql,
-- which defines what an inference request's cost, tokens and count are) summed per model. The unit
-- costs are divided from these sums, exactly, in shared/domain/reports/inference-unit-costs.ts.
SELECT
  model,
  currency,
  SUM(requests) AS requests,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cost) AS cost
FROM report_inference
WHERE hour >= $from AND hour < $to
GROUP BY model, currency
ORDER BY cost DESC, model, currency
