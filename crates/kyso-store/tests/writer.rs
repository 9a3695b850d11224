//! The group-commit path of issuance: on SQLite the direct writer (`SqliteWriter`), on PostgreSQL
//! `Store::commit`. The same batches must give the same rows, errors and audit chain on both, and
//! on SQLite the writer must agree with the sqlx path it replaces and interleave with it safely.
//! PostgreSQL at 127.0.0.1:5432 (database `test`) or KYSO_TEST_POSTGRES_URL; skipped with a
//! notice when absent unless KYSO_REQUIRE_POSTGRES=1.

use kyso_store::{AuditEvent, AuditKey, CertRow, CitizenRow, KeyRow, SqliteWriter, Store, StoreError, Write};

mod support;
use support::TempDir;

struct Backend {
    store: Store,
    writer: Option<SqliteWriter>,
    _dir: Option<TempDir>,
}

impl Backend {
    /// What the committer does: the direct writer where there is one and it takes the batch.
    async fn commit(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        match &mut self.writer {
            Some(w) if SqliteWriter::handles(writes) => w.commit(writes),
            _ => self.store.commit(writes).await,
        }
    }
}

async fn backends(name: &str) -> Vec<Backend> {
    let dir = TempDir::new("kyso-writer", name);
    let sqlite = support::sqlite_in(&dir).await.with_audit_key(AuditKey::insecure_test_key());
    let writer = sqlite.sqlite_writer().expect("open the SQLite writer");
    assert!(writer.is_some(), "a file-backed SQLite store has a direct writer");
    let mut v = vec![Backend { store: sqlite, writer, _dir: Some(dir) }];
    if let Some(pg) = support::postgres_store("w", name).await {
        let pg = pg.with_audit_key(AuditKey::insecure_test_key());
        assert!(pg.sqlite_writer().unwrap().is_none(), "PostgreSQL has no SQLite writer");
        v.push(Backend { store: pg, writer: None, _dir: None })
    }
    v
}

fn citizen(id: &str, level: i64) -> Write {
    Write::Citizen(CitizenRow {
        id_number: id.into(),
        full_name: "Nguyễn Văn An".into(),
        province: "Tỉnh Thái Nguyên".into(),
        commune: Some("Xã Hiệp Lực".into()),
        eid_level: level,
        updated_at: 7,
    })
}

/// The writes of one issuance, as `Authority::issue` hands them to the committer.
fn issuance(serial: &str, id: &str) -> Vec<Write> {
    vec![
        Write::Key(KeyRow {
            id: format!("key-{serial}"),
            backend: "vault".into(),
            algorithm: "ec-p256".into(),
            public_key: vec![4; 91],
            wrapped: vec![1; 155],
            created_at: 9,
        }),
        Write::Certificate(CertRow {
            serial: serial.into(),
            issuer_id: "vnpt".into(),
            profile: "citizen".into(),
            id_number: Some(id.into()),
            subject_cn: "Nguyễn Văn An".into(),
            key_id: Some(format!("key-{serial}")),
            not_before: 10,
            not_after: 20,
            revoked_at: None,
            revocation_reason: None,
            superseded_by: None,
            der: vec![0x30, 0x03, 2, 1, 5],
            created_at: 9,
        }),
        Write::Audit(AuditEvent::new("test", "cert.issue", serial, "citizen 0012****1234 by vnpt")),
        Write::RequireEidLevel { id_number: id.into(), level: 2 },
    ]
}

#[tokio::test]
async fn issuance_batches_store_the_same_rows_on_both_backends() {
    for mut b in backends("rows").await {
        let name = b.store.backend();
        b.commit(&[citizen("001203001234", 2), citizen("001203005678", 2)]).await.unwrap();
        let mut batch = issuance("0a01", "001203001234");
        batch.extend(issuance("0a02", "001203005678"));
        b.commit(&batch).await.unwrap();
        b.commit(&[Write::Setting { name: "k".into(), value: "v".into() }]).await.unwrap();
        b.commit(&[Write::Setting { name: "k".into(), value: "w".into() }]).await.unwrap();
        assert_eq!(b.store.setting("k").await.unwrap().as_deref(), Some("w"), "{name}");

        let c = b.store.certificate("0a02").await.unwrap().expect("stored");
        assert_eq!(
            (c.issuer_id.as_str(), c.id_number.as_deref(), c.key_id.as_deref(), c.subject_cn.as_str()),
            ("vnpt", Some("001203005678"), Some("key-0a02"), "Nguyễn Văn An"),
            "{name}"
        );
        assert_eq!((c.not_before, c.not_after, c.der.as_slice()), (10, 20, &[0x30, 3, 2, 1, 5][..]), "{name}");
        let k = b.store.key("key-0a01").await.unwrap();
        assert_eq!((k.public_key.len(), k.wrapped.len(), k.algorithm.as_str()), (91, 155, "ec-p256"), "{name}");
        let p = b.store.citizen("001203005678").await.unwrap().expect("citizen");
        assert_eq!((p.eid_level, p.commune.as_deref()), (2, Some("Xã Hiệp Lực")), "{name}");

        assert_eq!(b.store.consistency().await.unwrap(), (0, 0), "{name}");
        let r = b.store.verify_audit().await.unwrap();
        assert_eq!((r.rows, r.first_error), (2, None), "{name}");
        let rows = b.store.audit_rows(0, 10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["0a01", "0a02"], "{name}");
    }
}

#[tokio::test]
async fn a_failed_batch_leaves_nothing_behind() {
    for mut b in backends("atomic").await {
        let name = b.store.backend();
        b.commit(&[citizen("001203001234", 2), citizen("001203009999", 1)]).await.unwrap();
        b.commit(&issuance("0b01", "001203001234")).await.unwrap();

        // Level 1 and unknown people: refused as a precondition, key and audit rows not written.
        for id in ["001203009999", "001203000000"] {
            let mut batch = issuance("0b02", "001203001234");
            batch.extend(issuance("0b03", id));
            match b.commit(&batch).await {
                Err(StoreError::Precondition(who)) => assert_eq!(who, id, "{name}"),
                other => panic!("{name}: expected a precondition failure, got {other:?}"),
            }
        }
        // A repeated serial: a conflict by constraint, the batch's other rows rolled back.
        let mut batch = issuance("0b04", "001203001234");
        batch.extend(issuance("0b01", "001203001234").into_iter().filter(|w| !matches!(w, Write::Key(_))));
        match b.commit(&batch).await {
            Err(StoreError::Conflict(m)) => assert!(m.contains("serial"), "{name}: {m}"),
            other => panic!("{name}: expected a serial conflict, got {other:?}"),
        }
        // A key id used twice is a database error, not a conflict on the serial.
        let dup_key = issuance("0b01", "001203001234").into_iter().take(1).collect::<Vec<_>>();
        match b.commit(&dup_key).await {
            Err(StoreError::Db(e)) => {
                assert!(e.as_database_error().is_some_and(|d| d.is_unique_violation()), "{name}: {e}")
            }
            other => panic!("{name}: expected a unique violation, got {other:?}"),
        }

        let mut serials = b.store.all_serials().await.unwrap();
        serials.sort();
        assert_eq!(serials, ["0b01"], "{name}");
        assert!(b.store.key("key-0b04").await.is_err(), "{name}: key of a failed batch stored");
        let r = b.store.verify_audit().await.unwrap();
        assert_eq!((r.rows, r.first_error), (1, None), "{name}");
    }
}

#[tokio::test]
async fn other_writes_are_left_to_the_pool() {
    let revoke = [Write::Revoke { serial: "01".into(), at: 1, reason: 1 }];
    assert!(!SqliteWriter::handles(&revoke));
    assert!(SqliteWriter::handles(&issuance("01", "001203001234")));
    for mut b in backends("others").await {
        if let Some(w) = &mut b.writer {
            assert!(w.commit(&revoke).is_err(), "the writer refuses what it does not apply");
        }
        b.commit(&[citizen("001203001234", 2)]).await.unwrap();
        b.commit(&issuance("0c01", "001203001234")).await.unwrap();
        let mut batch = revoke.to_vec();
        batch[0] = Write::Revoke { serial: "0c01".into(), at: 30, reason: 1 };
        batch.push(Write::Audit(AuditEvent::new("test", "cert.revoke", "0c01", "reason 1")));
        b.commit(&batch).await.unwrap();
        assert_eq!(b.store.status("vnpt", "0c01").await.unwrap(), Some((Some(30), 1)), "{}", b.store.backend());
        // the batched lookup a validator makes: the same answers, the wrong issuer and an unknown
        // serial absent, and more pairs than one query takes
        b.commit(&issuance("0c02", "001203001234")).await.unwrap();
        let mut wanted: Vec<(String, String)> = vec![
            ("vnpt".into(), "0c01".into()),
            ("vnpt".into(), "0c02".into()),
            ("viettel".into(), "0c02".into()),
            ("vnpt".into(), "ffff".into()),
        ];
        wanted.extend((0..70).map(|i| ("vnpt".to_string(), format!("aa{i:02}"))));
        let got = b.store.statuses(&wanted).await.unwrap();
        assert_eq!(got.len(), 2, "{}: {got:?}", b.store.backend());
        assert_eq!(got[&("vnpt".to_string(), "0c01".to_string())], (Some(30), 1));
        assert_eq!(got[&("vnpt".to_string(), "0c02".to_string())].0, None);
        let r = b.store.verify_audit().await.unwrap();
        assert_eq!((r.rows, r.first_error), (3, None), "{}", b.store.backend());
    }
}

/// The writer and the sqlx pool (e.g. a revocation while certificates are being issued) write the
/// same file from different threads: every commit lands and the audit chain stays one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_and_pool_interleave_on_one_chain() {
    let b = backends("interleave").await.into_iter().next().expect("sqlite");
    let Backend { store, writer, _dir } = b;
    let mut writer = writer.expect("sqlite writer");
    store.commit(&[citizen("001203001234", 2)]).await.unwrap();
    let direct = std::thread::spawn(move || {
        for i in 0..200 {
            let mut batch = Vec::new();
            for j in 0..5 {
                batch.extend(issuance(&format!("d{i:03}{j}"), "001203001234"));
            }
            writer.commit(&batch).unwrap();
        }
    });
    let mut tasks = Vec::new();
    for t in 0..4 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                s.commit(&[Write::Audit(AuditEvent::new("test", "x", &format!("{t}-{i}"), ""))]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    direct.join().unwrap();
    assert_eq!(store.count_certificates().await.unwrap(), 1000);
    let r = store.verify_audit().await.unwrap();
    assert_eq!((r.rows, r.first_error), (1200, None));
}
