//! Test set-up shared by the storage tests: every test runs on embedded SQLite and on
//! PostgreSQL (127.0.0.1:5432, database `test`, or KYSO_TEST_POSTGRES_URL; required when
//! KYSO_REQUIRE_POSTGRES=1).
#![allow(dead_code)]

use kyso_store::{AuditEvent, AuditKey, CertRow, Store, Write};
use kyso_testkit::postgres;
pub use kyso_testkit::TempDir;

/// Both backends, keyed with the public test audit key ([`AuditKey::insecure_test_key`]: these
/// tests have no KEK).
pub async fn backends(name: &str) -> Vec<(Store, Option<TempDir>)> {
    let dir = TempDir::new("kyso-store", name);
    let sqlite = sqlite_in(&dir).await.with_audit_key(AuditKey::insecure_test_key());
    let mut v = vec![(sqlite, Some(dir))];
    if let Some(pg) = postgres_store("t", name).await {
        v.push((pg.with_audit_key(AuditKey::insecure_test_key()), None));
    }
    v
}

/// A SQLite store in `dir`.
pub async fn sqlite_in(dir: &TempDir) -> Store {
    Store::open(&format!("sqlite://{}/kyso.db", dir.path().display())).await.expect("open sqlite")
}

/// A store in a fresh PostgreSQL schema, or None (with a notice) when PostgreSQL is down outside CI.
pub async fn postgres_store(prefix: &str, name: &str) -> Option<Store> {
    match Store::open_postgres_schema(&postgres::base_url(), &postgres::schema_name(prefix, name)).await {
        Ok(pg) => Some(pg),
        Err(e) => postgres::unavailable(&format!("test `{name}`"), &e),
    }
}

/// A certificate row of `issuer` (content irrelevant to the storage tests).
pub fn cert(serial: &str, issuer: &str) -> CertRow {
    CertRow {
        serial: serial.into(),
        issuer_id: issuer.into(),
        profile: "citizen".into(),
        id_number: Some("001203001234".into()),
        subject_cn: "Nguyễn Văn An".into(),
        key_id: None,
        not_before: 1,
        not_after: 2,
        revoked_at: None,
        revocation_reason: None,
        superseded_by: None,
        der: vec![0x30, 0x00],
        created_at: 1,
    }
}

/// An audit row by the actor `test`.
pub fn ev(action: &str, subject: &str) -> Write {
    Write::Audit(AuditEvent::new("test", action, subject, "detail"))
}

/// What a database owner can do: drop the append-only triggers of migration 11 (the audit log's
/// and the revocations').
pub async fn drop_append_only_triggers(s: &Store) {
    let sql = if s.backend() == "sqlite" {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
         DROP TRIGGER certificates_revocation_append_only; DROP TRIGGER certificates_revoked_not_deleted;"
    } else {
        "DROP TRIGGER audit_log_no_update ON audit_log; DROP TRIGGER audit_log_no_delete ON audit_log; \
         DROP TRIGGER certificates_revocation_append_only ON certificates; DROP TRIGGER certificates_revoked_not_deleted ON certificates;"
    };
    s.execute_raw(sql).await.expect("drop the triggers");
}
