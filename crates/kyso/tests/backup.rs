//! `kyso backup` / `kyso restore` (docs/DEPLOYMENT.md, "Backups"), on SQLite and PostgreSQL.
//!
//! Under load: the real server issues certificates over its API from three threads and the CLI
//! imports provider lists one after another while `kyso backup` runs. The backup is restored into
//! a fresh data directory (PostgreSQL: a fresh database) and holds every certificate returned
//! before it started and none that was never issued, exactly the source's audit rows up to its
//! head (the chain verifies under the KEK), the pre-load adoption figures, and the figures of a
//! whole number of imports (between those done before it and those started before it ended).
//! Then the refusals: no KEK, a non-empty data directory, an existing backup file; the KEK is
//! not in the backup; a backup of an older schema is migrated forward.

mod support;

use kyso_store::Store;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{http_with, Backend, Env, TempDir};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,01961,Xã Thử,Xã,22.3,105.9,10\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n";
const HAMLETS: &str =
    "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Một\n01961,T01,Xóm Ba\n30856,A1,Ấp Hòa Long\n";
const COMMUNES: [&str; 3] = ["01960", "01961", "30856"];
/// Provider lists imported while the backup runs.
const LOAD_LISTS: usize = 6;
/// The pre-load list's date, and the load lists' date.
const D0: &str = "2026-08-01";
const D1: &str = "2026-09-01";
/// A resident of no register: the API's issuance burst is for them, so it moves no campaign figure.
const BURST_ID: &str = "019190000051";

fn json(out: &str) -> Json {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Twelve adult residents, four per commune.
fn resident(i: usize) -> (String, &'static str, &'static str) {
    let commune = COMMUNES[i % 3];
    let (prefix, hamlet) = if commune == "30856" { ("089", "A1") } else { ("019", "T01") };
    (format!("{prefix}080{:06}", 100 + i), commune, hamlet)
}

fn campaign_files(env: &Env) {
    let mut register = String::from("id_number,full_name,date_of_birth,sex,hamlet_code,commune_code\n");
    for i in 0..12 {
        let (id, commune, hamlet) = resident(i);
        register.push_str(&format!("{id},Nguyễn Văn Số {i},1980-01-0{},M,{hamlet},{commune}\n", 1 + i % 9));
    }
    let head = "id_number,provider,issue_date,expiry_date,status,revoked_date\n";
    let l0 = format!(
        "{head}{},VNPT-CA,2026-01-10,2027-01-10,active,\n{},VNPT-CA,2026-01-10,,active,\n",
        resident(0).0,
        resident(1).0
    );
    for (name, text) in
        [("units.csv", UNITS), ("hamlets.csv", HAMLETS), ("register.csv", register.as_str()), ("l0.csv", l0.as_str())]
    {
        std::fs::write(env.path(name), text).unwrap();
    }
    for k in 1..=LOAD_LISTS {
        std::fs::write(
            env.path(&format!("l{k}.csv")),
            format!("{head}{},VIETTEL-CA,2026-08-15,,active,\n", resident(k + 1).0),
        )
        .unwrap();
    }
}

/// Holders per commune on `D1`, as `kyso campaign progress` counts them from the stored rows.
fn progress(env: &Env) -> BTreeMap<String, (u64, u64)> {
    COMMUNES
        .iter()
        .map(|c| {
            let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", c, "--date", D1]));
            (c.to_string(), (v["holders"].as_u64().unwrap(), v["adults"].as_u64().unwrap()))
        })
        .collect()
}

/// The stored adoption snapshot of `D0` (no recompute), commune by commune.
fn adoption_d0(env: &Env) -> Json {
    json(&env.ok(&["--json", "campaign", "adoption", "--date", D0]))["by_commune"].clone()
}

/// The store of `env` (for reading serials and audit rows), keyed by its KEK.
fn store(env: &Env) -> Store {
    let url = match &env.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", env.data_dir().join("kyso.db").display()),
    };
    let kek = std::fs::read_to_string(env.data_dir().join("kek")).unwrap();
    let kek = kyso_custody::Kek::from_hex(&kek).unwrap();
    rt().block_on(Store::open(&url)).unwrap().with_audit_key(kyso_authority::audit_key(&kek))
}

/// One runtime for every store of the test binary (a pool lives on the runtime that made it).
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// Every audit row as (seq, action, subject, hash).
fn audit(s: &Store) -> Vec<(i64, String, String, Vec<u8>)> {
    let (rt, mut rows, mut after) = (rt(), Vec::new(), 0);
    loop {
        let page = rt.block_on(s.audit_rows(after, 5000)).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page.into_iter().map(|r| (r.seq, r.action, r.subject, r.hash)));
    }
    rows
}

fn serials(s: &Store) -> HashSet<String> {
    rt().block_on(s.all_serials()).unwrap().into_iter().collect()
}

/// A PostgreSQL database of its own (not a schema: pg_dump and pg_restore work on databases),
/// dropped with the guard; None when PostgreSQL is unavailable outside CI.
struct PgDb {
    name: String,
    url: String,
}

impl PgDb {
    fn create(tag: &str) -> Option<PgDb> {
        let base = kyso_testkit::postgres::base_url();
        let name = kyso_testkit::postgres::schema_name("bk", tag);
        let (ok, out) = support::run(Command::new("psql").arg(&base).args(["-qc", &format!("CREATE DATABASE {name}")]));
        if !ok {
            return kyso_testkit::postgres::unavailable("the PostgreSQL backup test", &out);
        }
        let url = match base.rfind('/') {
            Some(i) => format!("{}/{name}", &base[..i]),
            None => panic!("database URL without a database: {base}"),
        };
        Some(PgDb { name, url })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let base = kyso_testkit::postgres::base_url();
        let _ = Command::new("psql")
            .arg(&base)
            .args(["-qc", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// An env on `backend`; for PostgreSQL on a database of its own (returned to keep it alive).
fn env_on(name: &str, backend: Backend) -> Option<(Env, Option<PgDb>)> {
    let mut env = Env::new(name);
    if backend == Backend::Postgres {
        let db = PgDb::create(name)?;
        env.database_url = Some(db.url.clone());
        return Some((env, Some(db)));
    }
    Some((env, None))
}

#[test]
fn backup_under_load_restores_everything_sqlite() {
    backup_under_load(Backend::Sqlite);
}

#[test]
fn backup_under_load_restores_everything_postgres() {
    backup_under_load(Backend::Postgres);
}

fn backup_under_load(backend: Backend) {
    let Some((env, _src_db)) = env_on("backup-load", backend) else { return };
    env.init();
    campaign_files(&env);
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "register.csv"]);
    env.ok(&["campaign", "import-provider-list", "l0.csv", "--as-of", D0]);
    env.ok(&["campaign", "adoption", "--date", D0, "--refresh"]);
    let adoption_before = adoption_d0(&env);
    assert_eq!(adoption_before.as_array().map(Vec::len), Some(3), "{adoption_before}");
    let who = ["--id", BURST_ID, "--name", "Phạm Thị Dung", "--province", "Tỉnh Thái Nguyên"];
    env.ok(&[&["citizen", "add"][..], &who, &["--eid-level", "2"]].concat());

    // The figures after each number of load imports (0: before any).
    let figures = Arc::new(Mutex::new(vec![progress(&env)]));
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap().trim().to_string();
    let server = env.serve();
    let returned = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut issuers = Vec::new();
    for _ in 0..3 {
        let (stop, returned, url) = (stop.clone(), returned.clone(), format!("{}/api/v1/certificates", env.base_url()));
        let auth = format!("Bearer {token}");
        issuers.push(std::thread::spawn(move || {
            let body = format!(
                r#"{{"id_number":"{BURST_ID}","full_name":"Phạm Thị Dung","province":"Tỉnh Thái Nguyên","provider":"vnpt"}}"#
            );
            while !stop.load(Ordering::Relaxed) {
                let (status, b) =
                    http_with("POST", &url, Some("application/json"), &[("Authorization", &auth)], body.as_bytes()).unwrap();
                assert_eq!(status, 201, "{}", String::from_utf8_lossy(&b));
                let v: Json = serde_json::from_slice(&b).unwrap();
                returned.lock().unwrap().push(v["serial"].as_str().unwrap().to_string());
            }
        }));
    }
    let (started, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let importer = {
        let (env, figures, started, done) =
            (std::mem::ManuallyDrop::new(env_clone(&env)), figures.clone(), started.clone(), done.clone());
        std::thread::spawn(move || {
            for k in 1..=LOAD_LISTS {
                started.store(k, Ordering::SeqCst);
                env.ok(&["campaign", "import-provider-list", &format!("l{k}.csv"), "--as-of", D1]);
                figures.lock().unwrap().push(progress(&env));
                done.store(k, Ordering::SeqCst);
            }
        })
    };
    while done.load(Ordering::SeqCst) < 2 {
        std::thread::sleep(Duration::from_millis(20));
    }
    // What a backup taken from now on must hold. A backup of this small database is quick: back
    // up again until one overlapped certificates being issued (returned while it ran).
    let source = store(&env);
    let mut attempt = 0;
    let (returned_before, imports_before, audit_before, b, imports_started, returned_after, file) = loop {
        attempt += 1;
        let (returned_before, imports_before, audit_before) =
            (returned.lock().unwrap().clone(), done.load(Ordering::SeqCst), audit(&source));
        let file = format!("nightly-{attempt}.bak");
        let b = json(&env.ok(&["--json", "backup", &file]));
        let (imports_started, returned_after) = (started.load(Ordering::SeqCst), returned.lock().unwrap().len());
        if returned_after > returned_before.len() || attempt == 5 {
            break (returned_before, imports_before, audit_before, b, imports_started, returned_after, file);
        }
    };
    assert_eq!(b["kek_included"], false, "{b}");
    // kyso.toml travels in a SQLite backup; a pg_dump archive holds the database only.
    assert_eq!(b["config_included"], backend == Backend::Sqlite, "{b}");
    importer.join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for t in issuers {
        t.join().unwrap();
    }
    drop(server);
    assert!(returned_before.len() > 5, "the load was too light");
    assert!(returned_after > returned_before.len(), "no certificate was issued during any of {attempt} backups");
    let (all_serials, all_audit) = (serials(&source), audit(&source));
    rt().block_on(source.close());
    eprintln!(
        "{} certificates before the backup, {returned_after} after it ended, {} in the end; imports {imports_before}..{imports_started} of {LOAD_LISTS} around it; backup: {b}",
        returned_before.len(),
        all_serials.len()
    );

    // Restore into a fresh data directory (and database).
    let Some((restored, _dst_db)) = env_on("backup-restored", backend) else { return };
    let kek = env.data_dir().join("kek");
    let backup_file = env.path(&file);
    if backend == Backend::Postgres {
        // PostgreSQL backups hold the database: kyso.toml comes with the deployment.
        std::fs::create_dir_all(restored.data_dir()).unwrap();
        std::fs::copy(env.data_dir().join("kyso.toml"), restored.data_dir().join("kyso.toml")).unwrap();
    }
    if backend == Backend::Postgres {
        // A pg_dump archive restored without a PostgreSQL URL: said what to do, nothing created.
        let mut c = restored.cmd();
        let o = c.env_remove("KYSO_DATABASE_URL").args(["restore"]).arg(&backup_file).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("pg_dump") && err.contains("--database-url"), "{err}");
    }
    let r = json(&restored.ok(&["--json", "restore", backup_file.to_str().unwrap(), "--kek", kek.to_str().unwrap()]));
    assert_eq!(r["audit_head_seq"], b["audit_head_seq"], "{r} {b}");
    assert_eq!(r["certificates"], b["certificates"], "{r} {b}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap().trim().to_string();
    assert_eq!(read(&restored.data_dir().join("kek")), read(&kek));

    // Certificates: all returned before the backup began, none that was never issued.
    let rs = store(&restored);
    let got = serials(&rs);
    let lost: Vec<_> = returned_before.iter().filter(|s| !got.contains(*s)).collect();
    assert!(lost.is_empty(), "{} certificates returned before the backup are missing: {lost:?}", lost.len());
    assert!(got.is_subset(&all_serials), "the restore has certificates the source never had");
    assert_eq!(got.len() as u64, b["certificates"].as_u64().unwrap());
    // Audit rows: exactly the source's first rows, at least all written before the backup began,
    // and the chain verifies under the KEK with every certificate's issuance row.
    let rows = audit(&rs);
    assert!(
        rows.len() >= audit_before.len(),
        "{} audit rows restored, {} before the backup",
        rows.len(),
        audit_before.len()
    );
    assert_eq!(rows[..], all_audit[..rows.len()], "the restored audit log is not the source's prefix");
    assert_eq!(rows.last().unwrap().0, b["audit_head_seq"].as_i64().unwrap());
    let c = rt().block_on(rs.check_audit(true)).unwrap();
    assert!(c.ok(), "audit check of the restore: {:?} {:?}", c.chain.first_error, c.mismatches);
    assert_eq!(rt().block_on(rs.consistency()).unwrap(), (0, 0));
    rt().block_on(rs.close());
    // Campaign figures: the pre-load snapshot as it was, and the figures of a whole number of
    // load imports — no import half in.
    assert_eq!(adoption_d0(&restored), adoption_before);
    let now = progress(&restored);
    let figures = figures.lock().unwrap().clone();
    let j = figures.iter().position(|f| *f == now);
    assert!(
        j.is_some_and(|j| j >= imports_before && j <= imports_started),
        "restored figures {now:?} are not those after {imports_before}..{imports_started} imports: {figures:?}"
    );
    // The restored deployment works: its CA keys open under the KEK, the CLI's audit check passes.
    restored.ok(&["audit", "verify", "--full"]);
    restored.ok(&[&["cert", "issue"][..], &who, &["--provider", "vnpt"]].concat());
}

/// An `Env` sharing `env`'s directory and database, for another thread: keep it in a
/// `ManuallyDrop` (dropping an `Env` removes its directory).
fn env_clone(env: &Env) -> Env {
    Env { dir: env.dir.clone(), port: env.port, database_url: env.database_url.clone(), extra_env: Vec::new() }
}

#[test]
fn restore_refuses_what_it_cannot_do_and_migrates_forward() {
    let env = Env::new("backup-refusals");
    env.init();
    env.citizen_with_certificate("019190000001", "Nguyễn Thị An");
    let kek_hex = std::fs::read_to_string(env.data_dir().join("kek")).unwrap();
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap();
    env.ok(&["backup", "a.bak"]);

    // The backup holds neither the KEK (as text or bytes) nor the operator token, and is private.
    let bytes = std::fs::read(env.path("a.bak")).unwrap();
    let kek_raw = hex::decode(kek_hex.trim()).unwrap();
    for (what, needle) in
        [("KEK", kek_hex.trim().as_bytes()), ("KEK bytes", &kek_raw[..]), ("token", token.trim().as_bytes())]
    {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the backup contains the {what}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(env.path("a.bak")).unwrap().permissions().mode() & 0o077, 0);
    }
    // No file beside it (no -wal, no temporary file).
    let names: Vec<String> =
        std::fs::read_dir(&env.dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(!names.iter().any(|n| n.contains("a.bak") && n != "a.bak"), "{names:?}");

    // An existing backup file is not replaced without --force.
    let o = env.kyso(&["backup", "a.bak"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("đã có") && err.contains("--force"), "{err}");
    let b = json(&env.ok(&["--json", "backup", "a.bak", "--force"]));

    // No KEK: a clear Vietnamese-first error, nothing created.
    let target_dir = TempDir::new("kyso-it", "backup-target"); // removed when dropped
    let target = target_dir.path().to_path_buf();
    let fresh = target.join("data");
    let restore = |extra: &[&str], dir: &Path| {
        let mut c = env.cmd();
        c.env("KYSO_DATA_DIR", dir).args(["restore", env.path("a.bak").to_str().unwrap()]).args(extra);
        c.output().unwrap()
    };
    let o = restore(&[], &fresh);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "restored without a KEK");
    let vi = err.find("thiếu khóa mã hóa khóa (KEK)").expect(&err);
    let en = err.find("missing key-encryption key").expect(&err);
    assert!(vi < en && err.contains("--kek") && err.contains("KYSO_KEK"), "{err}");
    assert!(!fresh.exists(), "a failed restore left {}", fresh.display());

    // A wrong KEK: the audit chain says so, nothing installed.
    let wrong = target.join("wrong-kek");
    std::fs::write(&wrong, "ab".repeat(32)).unwrap();
    let o = restore(&["--kek", wrong.to_str().unwrap()], &fresh);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("KEK"), "{err}");
    assert!(!fresh.join("kyso.db").exists());

    // A non-empty data directory is refused without --force; with it, the old database is moved
    // aside, not deleted.
    let o = restore(&["--kek", env.data_dir().join("kek").to_str().unwrap()], &env.data_dir());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("không trống") && err.contains("--force"), "{err}");
    env.citizen_with_certificate("019190000002", "Trần Văn Bình"); // after the backup
    let o = restore(&["--force", "--json"], &env.data_dir());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(v["certificates"], b["certificates"], "{v}");
    let aside = PathBuf::from(v["moved_aside"].as_str().expect("moved aside"));
    assert!(aside.exists(), "{}", aside.display());
    assert_eq!(
        Some(serials(&store(&env)).len() as u64),
        b["certificates"].as_u64(),
        "the certificate made after the backup is gone"
    );

    // Not a backup at all.
    std::fs::write(env.path("junk.bak"), b"not a database").unwrap();
    let mut c = env.cmd();
    let o = c
        .env("KYSO_DATA_DIR", target.join("junk"))
        .args(["restore", "junk.bak", "--kek"])
        .arg(env.data_dir().join("kek"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("không phải bản sao lưu của kyso"), "{err}");

    // An older kyso's database (schema 21) is migrated forward and still verifies.
    let old = target.join("old");
    std::fs::create_dir_all(&old).unwrap();
    let kek = kyso_custody::Kek::from_hex(&kek_hex).unwrap();
    std::fs::write(old.join("kek"), &kek_hex).unwrap();
    let cfg = kyso_authority::Config::demo("http://127.0.0.1:8080");
    std::fs::write(old.join("kyso.toml"), cfg.to_toml()).unwrap();
    rt().block_on(async {
        let s = Store::open_sqlite_at_version(&old.join("kyso.db"), 21)
            .await
            .unwrap()
            .with_audit_key(kyso_authority::audit_key(&kek));
        kyso_authority::Authority::init(&s, &kyso_custody::Vault::new(&kek), &cfg).await.unwrap();
        s.close().await;
    });
    let mut c = env.cmd();
    c.env("KYSO_DATA_DIR", &old).args(["backup"]).arg(target.join("old.bak"));
    assert!(c.status().unwrap().success());
    let mut c = env.cmd();
    let o = c
        .env("KYSO_DATA_DIR", target.join("new"))
        .args(["--json", "restore"])
        .arg(target.join("old.bak"))
        .arg("--kek")
        .arg(old.join("kek"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        (v["from_schema_version"].as_i64(), v["schema_version"].as_i64()),
        (Some(21), Some(kyso_store::backup::schema_version())),
        "{v}"
    );
}
