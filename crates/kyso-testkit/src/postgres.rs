//! The PostgreSQL the storage tests also run on: `KYSO_TEST_POSTGRES_URL`, else the local
//! `postgres://postgres@127.0.0.1:5432/test`. Outside CI an unreachable server skips the
//! PostgreSQL run with a notice; `KYSO_REQUIRE_POSTGRES=1` makes that a failure.

/// The test database's URL.
pub fn base_url() -> String {
    std::env::var("KYSO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema name no other test uses: `<prefix>_<name>_<pid>_<unique>` (dashes made underscores).
pub fn schema_name(prefix: &str, name: &str) -> String {
    format!("{prefix}_{}_{}_{}", name.replace('-', "_"), std::process::id(), crate::unique())
}

/// The URL of `base` with `schema` first on the search path.
pub fn with_search_path(base: &str, schema: &str) -> String {
    format!("{base}?options=-c%20search_path%3D{schema}")
}

/// PostgreSQL could not be reached for `what`: panic under `KYSO_REQUIRE_POSTGRES=1`, else a
/// notice; None.
pub fn unavailable<T>(what: &str, err: &dyn std::fmt::Display) -> Option<T> {
    if std::env::var("KYSO_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("PostgreSQL required but unavailable: {err}");
    }
    eprintln!("NOTICE: PostgreSQL unavailable ({err}); {what} ran on SQLite only");
    None
}
