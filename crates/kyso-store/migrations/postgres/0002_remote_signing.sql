CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  id_number TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active','locked')),
  failed_pins BIGINT NOT NULL DEFAULT 0,
  totp_secret BYTEA,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX credentials_id_number ON credentials(id_number);
CREATE TABLE access_tokens (
  token_hash BYTEA PRIMARY KEY,
  id_number TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
