//! Backups at the storage layer (`kyso_store::backup`). SQLite: the online backup copies one
//! snapshot while another connection commits between its steps (progress never goes back: the
//! copy is not restarted), and the restored copy holds whole commits only, its chain verifying
//! to the manifest's head; refusals (an existing file, a file that is no backup, a newer schema, a
//! damaged file) leave no temporary file behind. PostgreSQL: the exported snapshot's manifest is
//! what the database held at that instant, whatever is committed after.

mod support;

use kyso_store::backup::{self, BackupError, BackupOptions, Check, Progress};
use kyso_store::{AuditKey, Store, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{cert, ev, postgres_store, sqlite_in, TempDir};

fn opts(force: bool, pages_per_step: i32) -> BackupOptions {
    BackupOptions {
        force,
        check: Check::Full,
        kyso_version: "test".into(),
        config: Some("base_url = \"http://127.0.0.1:8080\"\n".into()),
        pages_per_step,
    }
}

/// One certificate and its issuance row per commit, as the authority writes them.
async fn issue(s: &Store, serial: &str) {
    s.commit(&[Write::Certificate(cert(serial, "vnpt")), ev("cert.issue", serial)]).await.unwrap();
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_is_one_snapshot_while_commits_go_on() {
    let dir = TempDir::new("kyso-store", "backup-snapshot");
    let s = sqlite_in(&dir).await.with_audit_key(AuditKey::insecure_test_key());
    for i in 0..400 {
        issue(&s, &format!("{i:040x}")).await;
    }
    // A writer committing all along the copy, which goes one page per step.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                issue(&s, &format!("{:040x}", 1_000_000 + n)).await;
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let src = dir.path().join("kyso.db");
    let dest = dir.path().join("b.bak");
    let d = dest.clone();
    let (m, seen) = tokio::task::spawn_blocking(move || {
        let mut seen: Vec<Progress> = Vec::new();
        let m = backup::backup_sqlite(&src, &d, &opts(false, 1), &mut |p| {
            seen.push(p);
            std::thread::sleep(std::time::Duration::from_micros(200)); // let the writer in
        })
        .unwrap();
        (m, seen)
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written_during = writer.await.unwrap();
    assert!(written_during > 0, "nothing was committed during the copy");
    assert!(seen.len() > 10, "{} steps", seen.len());
    assert!(seen.windows(2).all(|w| w[1].pages_done >= w[0].pages_done), "the copy restarted");
    let last = seen.last().unwrap();
    assert_eq!(last.pages_done, last.pages_total);
    assert!(m.certificates >= 400 && m.audit_rows == m.certificates && m.audit_head_seq == m.audit_rows, "{m:?}");
    assert_eq!(m.schema_version, backup::schema_version());
    assert_eq!(backup::read_manifest(&dest).unwrap(), m);
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    assert!(!dir.path().join("b.bak-wal").exists());

    // Restored: whole commits only, the chain ends at the manifest's head.
    let target = dir.path().join("restored.db");
    let prepared = backup::prepare_restore(&dest, &target, Check::Full).unwrap();
    assert_eq!(prepared.manifest, m);
    let r = Store::open_restoring(prepared.path()).await.unwrap().with_audit_key(AuditKey::insecure_test_key());
    assert_eq!(r.all_serials().await.unwrap().len() as i64, m.certificates);
    assert_eq!(r.consistency().await.unwrap(), (0, 0));
    let v = r.verify_audit().await.unwrap();
    assert!(v.first_error.is_none(), "{v:?}");
    assert_eq!((v.head_seq, v.head_hash.clone()), (m.audit_head_seq, m.audit_head_hash.clone()));
    r.close().await;
    assert_eq!(prepared.install(&target).unwrap(), None);
    assert!(target.exists() && !dir.path().join("restored.db-wal").exists());
    // The manifest was taken out of the restored database.
    assert!(matches!(backup::read_manifest(&target), Err(BackupError::NotABackup(..))));
    assert!(s.all_serials().await.unwrap().len() as i64 > m.certificates);
    s.close().await;
}

#[tokio::test]
async fn sqlite_refusals_leave_nothing_behind() {
    let dir = TempDir::new("kyso-store", "backup-refusals");
    let s = sqlite_in(&dir).await.with_audit_key(AuditKey::insecure_test_key());
    issue(&s, "aa01").await;
    let src = dir.path().join("kyso.db");
    let dest = dir.path().join("b.bak");
    backup::backup_sqlite(&src, &dest, &opts(false, 64), &mut |_| {}).unwrap();
    // An existing file: refused, then replaced with --force.
    assert!(matches!(backup::backup_sqlite(&src, &dest, &opts(false, 64), &mut |_| {}), Err(BackupError::Exists(_))));
    issue(&s, "aa02").await;
    let m = backup::backup_sqlite(&src, &dest, &opts(true, 64), &mut |_| {}).unwrap();
    assert_eq!(m.certificates, 2);
    let target = dir.path().join("restored.db");
    // The live database is no backup (no manifest).
    assert!(matches!(backup::prepare_restore(&src, &target, Check::Full), Err(BackupError::NotABackup(..))));
    // Nor is a text file.
    std::fs::write(dir.path().join("junk"), b"not a database at all, just text").unwrap();
    assert!(matches!(
        backup::prepare_restore(&dir.path().join("junk"), &target, Check::Full),
        Err(BackupError::NotABackup(..))
    ));
    // A backup of a newer kyso.
    let newer = dir.path().join("newer.bak");
    std::fs::copy(&dest, &newer).unwrap();
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.execute("UPDATE kyso_backup SET value = '999' WHERE name = 'schema_version'", []).unwrap();
    drop(c);
    match backup::prepare_restore(&newer, &target, Check::Full) {
        Err(BackupError::NewerSchema { backup: 999, known }) => assert_eq!(known, backup::schema_version()),
        other => panic!("{:?}", other.err()),
    }
    // A damaged backup: a b-tree page's type byte overwritten.
    let damaged = dir.path().join("damaged.bak");
    let mut bytes = std::fs::read(&dest).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let pages = bytes.len() / page;
    for p in (pages / 2)..pages {
        bytes[p * page] = 0x07;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    for how in [Check::Full, Check::Quick] {
        let r = backup::prepare_restore(&damaged, &target, how);
        assert!(r.is_err(), "a damaged backup passed the {how:?} check");
    }
    assert!(!target.exists());
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    s.close().await;
}

#[tokio::test]
async fn postgres_snapshot_is_what_the_database_held_then() {
    let Some(s) = postgres_store("t", "backup-snapshot").await else { return };
    let s = s.with_audit_key(AuditKey::insecure_test_key());
    for i in 0..5 {
        issue(&s, &format!("bb{i:02}")).await;
    }
    let snap = s.pg_snapshot("test", None).await.unwrap();
    issue(&s, "bb99").await; // after the snapshot
    let m = snap.manifest.clone();
    assert_eq!((m.certificates, m.audit_rows, m.audit_head_seq), (5, 5, 5), "{m:?}");
    assert_eq!(m.schema_version, backup::schema_version());
    assert!(!snap.id.is_empty());
    snap.end().await.unwrap();
    let v = s.verify_audit().await.unwrap();
    assert_eq!(v.head_seq, 6);
    // On SQLite there is no such snapshot.
    let dir = TempDir::new("kyso-store", "backup-pg-on-sqlite");
    let lite = sqlite_in(&dir).await;
    assert!(lite.pg_snapshot("test", None).await.is_err());
    s.close().await;
}
