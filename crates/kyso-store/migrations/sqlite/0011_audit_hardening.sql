-- Audit hardening (issue 14, finding 5).
-- From here on audit_log.hash is an HMAC-SHA-256 under a key derived from the KEK (chain v2); the
-- key is never stored here. Chains written before (plain SHA-256, v1) no longer verify.

-- The certificate events of the log by certificate: `kyso audit verify` compares every
-- certificate's status with its issuance and revocation rows (without this index each certificate
-- scanned the whole log: 51 s for 35,000 certificates).
CREATE INDEX audit_log_action_subject ON audit_log(action, subject);

-- The last verified point of the chain: `kyso audit verify` resumes from here. `mac` is an
-- HMAC under the audit key over (seq, hash, issued, revoked, at): it cannot be forged here.
CREATE TABLE audit_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  issued INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  at INTEGER NOT NULL,
  mac BLOB NOT NULL
);

-- Revocation is append-only: a revoked certificate stays revoked, with the same time and reason,
-- under the same serial and issuer, and is never deleted. (A database owner can drop these
-- triggers; `kyso audit verify` then still finds the certificate whose status disagrees with the log.)
CREATE TRIGGER certificates_revocation_append_only
BEFORE UPDATE ON certificates
WHEN OLD.revoked_at IS NOT NULL AND (
  NEW.revoked_at IS NOT OLD.revoked_at OR NEW.revocation_reason IS NOT OLD.revocation_reason
  OR NEW.serial IS NOT OLD.serial OR NEW.issuer_id IS NOT OLD.issuer_id)
BEGIN
  SELECT RAISE(ABORT, 'revocation is append-only: a revoked certificate stays revoked');
END;
CREATE TRIGGER certificates_revoked_not_deleted
BEFORE DELETE ON certificates
WHEN OLD.revoked_at IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'revocation is append-only: a revoked certificate cannot be deleted');
END;

-- The audit log is append-only (defence in depth: the keyed chain is what proves it).
CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
