-- Dossiers (hồ sơ) received at a desk or through the portal API, checked against a procedure's
-- signing rules. Files are kept as SHA-256 hashes with their verdicts, never their contents.
CREATE TABLE procedures (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- The files it asks for, as JSON: [{"role", "name", "signer", "required"}].
  files TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE dossiers (
  id INTEGER PRIMARY KEY,
  procedure_code TEXT NOT NULL REFERENCES procedures(code),
  -- The applicant's 12-digit ID number (for matching holders); pages and logs show it masked.
  applicant_id TEXT NOT NULL,
  applicant_masked TEXT NOT NULL,
  -- The commune (or province) of the desk or portal that received it.
  unit_code TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('desk','api')),
  received_by TEXT NOT NULL,
  needs_signatures INTEGER NOT NULL,
  fully_signed INTEGER NOT NULL,
  -- What is missing, as JSON (empty list when fully signed).
  missing TEXT NOT NULL,
  -- Vietnam's date at reception (YYYY-MM-DD) and the instant.
  day TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX dossiers_unit_day ON dossiers(unit_code, day);
CREATE INDEX dossiers_day ON dossiers(day);
CREATE TABLE dossier_files (
  dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
  -- Its place in the dossier as submitted.
  position INTEGER NOT NULL,
  role TEXT NOT NULL,
  file_name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 BLOB NOT NULL,
  -- The detached signature's hash (.p7s), when the file came with one.
  signature_sha256 BLOB,
  verdict TEXT NOT NULL,
  satisfied INTEGER NOT NULL,
  reason_vi TEXT NOT NULL,
  reason_en TEXT NOT NULL,
  -- The applicant's signing certificate serial (hex) when the applicant signed validly.
  applicant_serial TEXT,
  PRIMARY KEY (dossier_id, role)
);
