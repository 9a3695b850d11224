CREATE TABLE keys (
  id TEXT PRIMARY KEY,
  backend TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public_key BYTEA NOT NULL,
  wrapped BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE authorities (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('root','provider','ocsp','tsa')),
  parent_id TEXT,
  display_name TEXT NOT NULL,
  key_id TEXT NOT NULL REFERENCES keys(id),
  serial TEXT NOT NULL,
  cert_der BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE citizens (
  id_number TEXT PRIMARY KEY,
  full_name TEXT NOT NULL,
  province TEXT NOT NULL,
  commune TEXT,
  eid_level BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE TABLE certificates (
  serial TEXT PRIMARY KEY,
  issuer_id TEXT NOT NULL,
  profile TEXT NOT NULL,
  id_number TEXT,
  subject_cn TEXT NOT NULL,
  key_id TEXT,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  revoked_at BIGINT,
  revocation_reason BIGINT,
  superseded_by TEXT,
  der BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX certificates_id_number ON certificates(id_number);
CREATE INDEX certificates_revoked ON certificates(issuer_id, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE crls (
  issuer_id TEXT NOT NULL,
  crl_number BIGINT NOT NULL,
  this_update BIGINT NOT NULL,
  next_update BIGINT NOT NULL,
  der BYTEA NOT NULL,
  PRIMARY KEY (issuer_id, crl_number)
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
