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
  seq BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  issued BIGINT NOT NULL,
  revoked BIGINT NOT NULL,
  at BIGINT NOT NULL,
  mac BYTEA NOT NULL
);

-- Revocation is append-only: a revoked certificate stays revoked, with the same time and reason,
-- under the same serial and issuer, and is never deleted or truncated. (A database owner can drop
-- these triggers; `kyso audit verify` then still finds the certificate whose status disagrees
-- with the log.)
CREATE FUNCTION kyso_revocation_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
    RAISE EXCEPTION 'revocation is append-only: a revoked certificate cannot be deleted';
  END IF;
  RAISE EXCEPTION 'revocation is append-only: a revoked certificate stays revoked';
END
$$;
CREATE TRIGGER certificates_revocation_append_only
BEFORE UPDATE ON certificates FOR EACH ROW
WHEN (OLD.revoked_at IS NOT NULL AND (
  NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.revocation_reason IS DISTINCT FROM OLD.revocation_reason
  OR NEW.serial IS DISTINCT FROM OLD.serial OR NEW.issuer_id IS DISTINCT FROM OLD.issuer_id))
EXECUTE FUNCTION kyso_revocation_append_only();
CREATE TRIGGER certificates_revoked_not_deleted
BEFORE DELETE ON certificates FOR EACH ROW
WHEN (OLD.revoked_at IS NOT NULL)
EXECUTE FUNCTION kyso_revocation_append_only();

-- The audit log is append-only (defence in depth: the keyed chain is what proves it).
CREATE FUNCTION kyso_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION kyso_audit_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION kyso_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION kyso_audit_append_only();
CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON certificates FOR EACH STATEMENT EXECUTE FUNCTION kyso_revocation_append_only();
