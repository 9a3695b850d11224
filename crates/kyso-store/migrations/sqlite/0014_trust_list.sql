-- The national trust list (kyso-trust; docs/TRUST-LIST.md) as imported: each edition's TOML text,
-- its sequence number and hash. The newest row is the list in force; older editions stay for the
-- record (which list validated what). Imports are audited.
CREATE TABLE trust_lists (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sequence_number BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  body TEXT NOT NULL,
  imported_at BIGINT NOT NULL,
  imported_by TEXT NOT NULL
);
-- Revocation data and CA certificates fetched over HTTP for certificates kyso did not issue
-- (kyso-authority/src/online): OCSP responses keyed by issuer and serial, CRLs and caIssuers
-- certificates by URL. A row is served until next_update (Unix seconds); past it, it is fetched
-- again. Shared by every process on the database.
CREATE TABLE fetch_cache (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  body BLOB NOT NULL,
  fetched_at BIGINT NOT NULL,
  next_update BIGINT NOT NULL
);
CREATE INDEX fetch_cache_next_update ON fetch_cache (next_update);
