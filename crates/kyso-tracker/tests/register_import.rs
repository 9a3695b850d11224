//! The police-register import through its bulk path, on SQLite and PostgreSQL: a first load, a
//! re-import that writes nothing, a month with a changed, a moved and a new resident (only those
//! written), bad and duplicate rows named with their row and field, `--commune` scoping; after
//! each import the stored register index (updated in place, not rebuilt) equals one built from a
//! scan of the register, hashes included.

use kyso_campaign::register_index::RegisterIndex;
use kyso_store::campaign::{CommuneRow, HamletRow};
use kyso_store::{AuditEvent, AuditKey, Store};
use kyso_testkit::TempDir;
use kyso_tracker::import::{import_register, RegisterImported};
use kyso_tracker::register_index::{build, register_index_at};
use kyso_tracker::Silent;

async fn stores(name: &str, dir: &TempDir) -> Vec<Store> {
    let mut v = vec![Store::open(&format!("sqlite://{}/kyso.db", dir.path().display())).await.unwrap()];
    let schema = kyso_testkit::postgres::schema_name("ri", name);
    match Store::open_postgres_schema(&kyso_testkit::postgres::base_url(), &schema).await {
        Ok(pg) => v.push(pg),
        Err(e) => kyso_testkit::postgres::unavailable::<()>(&format!("test `{name}`"), &e).unwrap_or(()),
    }
    v.into_iter().map(|s| s.with_audit_key(AuditKey::insecure_test_key())).collect()
}

async fn units(s: &Store) {
    let ev = AuditEvent::new("test", "campaign.units.import", "units", "test");
    let commune = |code: &str, province: &str| CommuneRow {
        code: code.into(),
        province_code: province.into(),
        province_name: format!("Tỉnh {province}"),
        name: format!("Xã {code}"),
        kind: "commune".into(),
        lat: 22.0,
        lon: 105.0,
        area_km2: None,
    };
    s.upsert_communes(&[commune("01960", "19"), commune("30856", "91")], &ev).await.unwrap();
    let hamlet = |c: &str, h: &str| HamletRow { commune_code: c.into(), code: h.into(), name: format!("Thôn {h}") };
    s.upsert_hamlets(&[hamlet("01960", "T01"), hamlet("01960", "T02"), hamlet("30856", "A1")], &ev).await.unwrap();
}

const HEADER: &str = "id_number,full_name,date_of_birth,sex,hamlet_code,household,commune_code\n";

async fn import(s: &Store, dir: &TempDir, name: &str, body: &str, commune: Option<&str>) -> RegisterImported {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{HEADER}{body}")).unwrap();
    import_register(s, &path, commune, None, "test", &mut Silent).await.unwrap()
}

/// The stored index equals one built afresh from the register.
async fn index_is_current(s: &Store, what: &str) -> RegisterIndex {
    let (stored, generation) = register_index_at(s, &mut Silent).await.unwrap();
    assert_eq!(generation, s.register_generation().await.unwrap(), "{what}: stored index current");
    let (fresh, _) = build(s, &mut Silent).await.unwrap();
    assert_eq!(stored.len(), fresh.len(), "{what}");
    let (a, b) = (stored.lookup(), fresh.lookup());
    for id in [19_190_000_001u64, 19_185_000_002, 19_100_000_003, 89_195_000_004, 19_190_000_005] {
        let (x, y) = (a.find(id), b.find(id));
        assert_eq!(x.is_some(), y.is_some(), "{what}: {id}");
        if let (Some(x), Some(y)) = (x, y) {
            assert_eq!((stored.get(id), stored.hash_at(x)), (fresh.get(id), fresh.hash_at(y)), "{what}: {id}");
        }
    }
    stored
}

#[tokio::test]
async fn register_imports_write_only_what_changed_and_keep_the_index_current() {
    let dir = TempDir::new("kyso-tracker", "register-import");
    for s in stores("register-import", &dir).await {
        let b = s.backend();
        units(&s).await;
        let first = "019190000001,Lê Văn An,1990-01-01,M,T01,H1,01960\n\
                     019185000002,Trần Thị Bình,1985-02-02,F,T02,,01960\n\
                     019190000009,Bad Date,1990-13-01,M,T01,H1,01960\n\
                     019100000003,Phạm Văn Chí,2000-03-03,M,T01,H2,01960\n\
                     019190000001,Lê Văn An,1990-01-01,M,T01,H1,01960\n\
                     089195000004,Vũ Thị Dung,1995-04-04,F,A1,H9,30856\n";
        let r = import(&s, &dir, "first.csv", first, None).await;
        assert_eq!((r.rows, r.kept, r.inserted, r.updated, r.unchanged), (6, 4, 4, 0, 0), "{b}");
        let rejected: Vec<(usize, Option<&str>)> = r.rejected.iter().map(|i| (i.row, i.field)).collect();
        assert_eq!(rejected, vec![(4, Some("date_of_birth")), (6, Some("id_number"))], "{b}: row and field named");
        assert!(r.rejected[1].reason.contains("duplicate of row 2"), "{b}: {}", r.rejected[1].reason);
        index_is_current(&s, b).await;
        let c = s.citizen("019185000002").await.unwrap().unwrap();
        assert_eq!((c.full_name.as_str(), c.province.as_str()), ("Trần Thị Bình", "Tỉnh 19"), "{b}");

        // The same file again: nothing written, the generation unchanged.
        let g = s.register_generation().await.unwrap();
        let r = import(&s, &dir, "first.csv", first, None).await;
        assert_eq!((r.kept, r.inserted, r.updated, r.unchanged), (4, 0, 0, 4), "{b}");
        assert_eq!(s.register_generation().await.unwrap(), g, "{b}: nothing written");

        // A month later: one renamed, one moved hamlet, one new, one unchanged, one household dropped.
        let month = "019190000001,Lê Văn Ân,1990-01-01,M,T01,H1,01960\n\
                     019185000002,Trần Thị Bình,1985-02-02,F,T01,,01960\n\
                     019100000003,Phạm Văn Chí,2000-03-03,M,T01,,01960\n\
                     089195000004,Vũ Thị Dung,1995-04-04,F,A1,H9,30856\n\
                     019190000005,Đỗ Văn Năm,1990-05-05,M,T02,H5,01960\n";
        let r = import(&s, &dir, "month.csv", month, None).await;
        assert_eq!((r.kept, r.inserted, r.updated, r.unchanged), (5, 1, 3, 1), "{b}");
        assert!(s.register_generation().await.unwrap() > g, "{b}");
        assert_eq!(s.resident("019190000001").await.unwrap().unwrap().full_name.as_deref(), Some("Lê Văn Ân"), "{b}");
        assert_eq!(s.resident("019185000002").await.unwrap().unwrap().hamlet_code, "T01", "{b}");
        assert_eq!(s.resident("019100000003").await.unwrap().unwrap().household, None, "{b}");
        assert_eq!(s.citizen("019190000001").await.unwrap().unwrap().full_name, "Lê Văn Ân", "{b}");
        assert_eq!(s.residents("01960", Some("T01")).await.unwrap().len(), 3, "{b}");
        index_is_current(&s, b).await;

        // One commune's import: rows of another commune rejected and not written.
        let scoped = "089195000004,Vũ Thị Dung,1995-04-04,F,A1,H10,30856\n\
                      019190000005,Đỗ Văn Năm,1990-05-05,M,T01,H5,01960\n";
        let r = import(&s, &dir, "scoped.csv", scoped, Some("01960")).await;
        assert_eq!((r.kept, r.updated), (1, 1), "{b}");
        assert_eq!(r.rejected.iter().map(|i| (i.row, i.field)).collect::<Vec<_>>(), vec![(2, Some("commune_code"))]);
        assert_eq!(s.resident("089195000004").await.unwrap().unwrap().household.as_deref(), Some("H9"), "{b}");
        index_is_current(&s, b).await;
    }
}

/// The two ways a register file is read give the same import: a plain CSV is read whole and
/// checked on two threads split by ID number; one with a quoted field is streamed record by
/// record. Title rows, a blank line, bad rows, warnings and duplicates (a repeat whose first
/// occurrence falls to the other thread's half of the file included) come out the same, in
/// row order, and the same rows are stored.
#[tokio::test]
async fn a_plain_csv_read_whole_imports_as_the_streamed_one() {
    let dir = TempDir::new("kyso-tracker", "register-plain");
    let body = "019190000001,Lê Văn An,1990-01-01,M,T01,H1,01960\n\
                \n\
                019185000002,Trần Thị Bình,1985-02-02,F,T02,,01960\n\
                019190000009,Bad Date,1990-13-01,M,T01,H1,01960\n\
                019100000003,Phạm Văn Chí,2001-03-03,M,T01,H2,01960\n\
                12345,Short Id,1990-01-01,M,T01,H1,01960\n\
                019190000001,Lê Văn An lại,1990-01-01,M,T01,H1,01960\n\
                019185000002,Trần Thị Bình lại,1985-02-02,F,T02,,01960\n\
                089195000004,Vũ Thị Dung,1995-04-04,F,ZZ,H9,30856\n\
                089195000005,Vũ Văn Năm,1995-05-05,M,A1,H9,30856\n";
    let title = "DANH SÁCH DÂN CƯ,,,,,,\n";
    let mut got = Vec::new();
    for (name, text) in [
        ("plain.csv", format!("{title}{HEADER}{body}")),
        // one quoted field: the streaming parser
        ("quoted.csv", format!("{title}{HEADER}{body}").replace("Vũ Văn Năm", "\"Vũ Văn Năm\"")),
    ] {
        let sub = TempDir::new("kyso-tracker", &format!("register-plain-{name}"));
        let s = stores(&format!("register-plain-{name}"), &sub).await.remove(0);
        units(&s).await;
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let r = import_register(&s, &path, None, None, "test", &mut Silent).await.unwrap();
        let issues =
            |v: &[kyso_campaign::RowIssue]| v.iter().map(|i| (i.row, i.field, i.reason.clone())).collect::<Vec<_>>();
        let stored: Vec<_> = s
            .residents("01960", None)
            .await
            .unwrap()
            .into_iter()
            .chain(s.residents("30856", None).await.unwrap())
            .map(|r| (r.id_number, r.full_name, r.hamlet_code))
            .collect();
        got.push((r.rows, r.kept, r.inserted, issues(&r.rejected), issues(&r.warnings), stored));
    }
    let (plain, streamed) = (&got[0], &got[1]);
    assert_eq!(plain, streamed);
    let (rows, kept, inserted, rejected, warnings, stored) = plain;
    assert_eq!((*rows, *kept, *inserted), (9, 4, 4));
    let rejected_rows: Vec<usize> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(rejected_rows, [6, 8, 9, 10, 11], "bad date, short ID, two repeats, unknown hamlet: {rejected:?}");
    assert!(rejected[2].2.contains("duplicate of row 3"), "{rejected:?}");
    assert!(rejected[3].2.contains("duplicate of row 5"), "{rejected:?}");
    assert!(!warnings.is_empty(), "the ID's birth year differs from the row's: a warning");
    assert_eq!(stored.len(), 4);
}
