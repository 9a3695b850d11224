//! Test set-up shared by the storage tests: every test runs on embedded SQLite and on
//! PostgreSQL (127.0.0.1:5432, database `test`, or KYSO_TEST_POSTGRES_URL; required when
//! KYSO_REQUIRE_POSTGRES=1).
#![allow(dead_code)]

use kyso_store::{AuditKey, Store};

/// Both backends, keyed with the public test audit key ([`AuditKey::insecure_test_key`]: these
/// tests have no KEK).
pub async fn backends(name: &str) -> Vec<(Store, Option<tempdir::TempDir>)> {
    let dir = tempdir::TempDir::new(name);
    let sqlite = Store::open(&format!("sqlite://{}/kyso.db", dir.path().display()))
        .await
        .expect("open sqlite")
        .with_audit_key(AuditKey::insecure_test_key());
    let mut v = vec![(sqlite, Some(dir))];
    let url =
        std::env::var("KYSO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("t_{}_{}_{}", name, std::process::id(), kyso_store::now() % 100_000);
    match Store::open_postgres_schema(&url, &schema).await {
        Ok(pg) => v.push((pg.with_audit_key(AuditKey::insecure_test_key()), None)),
        Err(e) if std::env::var("KYSO_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PostgreSQL required but unavailable: {e}")
        }
        Err(e) => eprintln!("NOTICE: PostgreSQL unavailable ({e}); test `{name}` ran on SQLite only"),
    }
    v
}

pub mod tempdir {
    pub struct TempDir(std::path::PathBuf);
    impl TempDir {
        pub fn new(name: &str) -> TempDir {
            let p =
                std::env::temp_dir().join(format!("kyso-store-{name}-{}-{}", std::process::id(), kyso_store::now()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
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
