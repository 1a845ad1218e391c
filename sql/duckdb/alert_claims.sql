-- Claims an alert's idempotency key: stores it with this caller's one-off token unless the key is
-- already stored, then reads back whose token the key holds. The claim is the caller's only if the
-- token is its own, so of two callers racing on one key exactly one wins; a later call always loses.
CREATE TABLE IF NOT EXISTS alert_claims (
  claim_key VARCHAR PRIMARY KEY,
  claim_token VARCHAR NOT NULL,
  claimed_at TIMESTAMPTZ NOT NULL
);
INSERT INTO alert_claims (claim_key, claim_token, claimed_at)
VALUES ($claim_key, $claim_token, $claimed_at)
ON CONFLICT (claim_key) DO NOTHING;
SELECT claim_token = $claim_token AS claimed FROM alert_claims WHERE claim_key = $claim_key;
