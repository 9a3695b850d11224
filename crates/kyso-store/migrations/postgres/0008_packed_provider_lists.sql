-- Provider-list certificates packed per ID range (see the SQLite migration of the same number
-- and kyso-store/src/listed.rs): the same blocks on both backends, so one merge rule.
CREATE TABLE list_providers (
  code INTEGER PRIMARY KEY CHECK (code >= 0 AND code < 65535),
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE provider_list_imports (
  id BIGINT PRIMARY KEY,
  source TEXT NOT NULL,
  imported_at BIGINT NOT NULL
);
CREATE TABLE provider_cert_blocks (
  first_id BIGINT PRIMARY KEY,
  last_id BIGINT NOT NULL,
  records INTEGER NOT NULL,
  data BYTEA NOT NULL,
  CHECK (last_id >= first_id AND records > 0 AND length(data) = records * 32)
);
ALTER TABLE provider_certificates RENAME TO provider_certificates_v7;
