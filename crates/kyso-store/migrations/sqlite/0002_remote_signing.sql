CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  id_number TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active','locked')),
  failed_pins INTEGER NOT NULL DEFAULT 0,
  totp_secret BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX credentials_id_number ON credentials(id_number);
CREATE TABLE access_tokens (
  token_hash BLOB PRIMARY KEY,
  id_number TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
