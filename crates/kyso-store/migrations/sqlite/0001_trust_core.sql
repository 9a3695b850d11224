CREATE TABLE keys (
  id TEXT PRIMARY KEY,
  backend TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public_key BLOB NOT NULL,
  wrapped BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE authorities (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('root','provider','ocsp','tsa')),
  parent_id TEXT,
  display_name TEXT NOT NULL,
  key_id TEXT NOT NULL REFERENCES keys(id),
  serial TEXT NOT NULL,
  cert_der BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE citizens (
  id_number TEXT PRIMARY KEY,
  full_name TEXT NOT NULL,
  province TEXT NOT NULL,
  commune TEXT,
  eid_level INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE TABLE certificates (
  serial TEXT PRIMARY KEY,
  issuer_id TEXT NOT NULL,
  profile TEXT NOT NULL,
  id_number TEXT,
  subject_cn TEXT NOT NULL,
  key_id TEXT,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  revoked_at INTEGER,
  revocation_reason INTEGER,
  superseded_by TEXT,
  der BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX certificates_id_number ON certificates(id_number);
CREATE INDEX certificates_revoked ON certificates(issuer_id, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE crls (
  issuer_id TEXT NOT NULL,
  crl_number INTEGER NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  der BLOB NOT NULL,
  PRIMARY KEY (issuer_id, crl_number)
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
