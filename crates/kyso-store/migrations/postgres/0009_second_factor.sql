-- The last TOTP time step each credential accepted: a code is good once (RFC 6238 §5.2).
CREATE TABLE totp_steps (
  credential_id TEXT PRIMARY KEY,
  last_step BIGINT NOT NULL
);
