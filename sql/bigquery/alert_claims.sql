-- Claims an alert's idempotency key: stores it with this caller's one-off token unless the key is
-- already stored, then reads back whose token the key holds. The claim is the caller's only if the
-- token is its own. The no-op WHEN MATCHED clause keeps the MERGE a mutating statement, which
-- BigQuery runs one at a time per table (a conflicting one fails, and the caller retries), so of two
-- callers racing on one key one inserts and the other matches the stored row.
CREATE TABLE IF NOT EXISTS `{{dataset}}.alert_claims` (
  claim_key STRING NOT NULL,
  claim_token STRING NOT NULL,
  claimed_at TIMESTAMP NOT NULL
)
CLUSTER BY claim_key;
MERGE `{{dataset}}.alert_claims` AS stored
USING (SELECT @claim_key AS claim_key, @claim_token AS claim_token, @claimed_at AS claimed_at) AS incoming
ON stored.claim_key = incoming.claim_key
WHEN MATCHED THEN
  UPDATE SET claimed_at = stored.claimed_at
WHEN NOT MATCHED THEN
  INSERT (claim_key, claim_token, claimed_at) VALUES (incoming.claim_key, incoming.claim_token, incoming.claimed_at);
SELECT LOGICAL_AND(claim_token = @claim_token) AS claimed
FROM `{{dataset}}.alert_claims`
WHERE claim_key = @claim_key;
