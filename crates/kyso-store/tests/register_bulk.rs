//! The register's bulk writer (`Store::write_register`), on SQLite and PostgreSQL: rows streamed
//! into one transaction with one audit row; a first load into an empty register, then new,
//! changed, moved and unchanged rows told apart whatever the importer guessed; one generation bump
//! per write; residents known to issuance as citizens of level 0 without a `citizens` row, and
//! those with one renamed by the register; a feed that stops before its commit writes nothing;
//! the row-per-resident table of migrations 3–26 converted into blocks.

use kyso_store::bulk::{RegisterFeed, RegisterWrite, RegisterWritten};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::{AuditEvent, Store};
use tokio::sync::mpsc;

mod support;
use support::backends;

fn ev(what: &str) -> AuditEvent {
    AuditEvent::new("test", "campaign.register.import", "register", what)
}

async fn units(s: &Store) {
    let commune = CommuneRow {
        code: "01960".into(),
        province_code: "19".into(),
        province_name: "Tỉnh Thái Nguyên".into(),
        name: "Xã Hiệp Lực".into(),
        kind: "commune".into(),
        lat: 22.0,
        lon: 105.0,
        area_km2: None,
    };
    s.upsert_communes(&[commune], &ev("units")).await.unwrap();
    let hamlet = |h: &str| HamletRow { commune_code: "01960".into(), code: h.into(), name: h.into() };
    s.upsert_hamlets(&[hamlet("T01"), hamlet("T02")], &ev("hamlets")).await.unwrap();
}

fn resident(id: &str, name: Option<&str>, hamlet: &str) -> ResidentRow {
    ResidentRow {
        id_number: id.into(),
        full_name: name.map(Into::into),
        date_of_birth: "1990-01-02".into(),
        sex: "F".into(),
        commune_code: "01960".into(),
        hamlet_code: hamlet.into(),
        household: Some("H1".into()),
    }
}

/// Writes `rows` (in batches of two) and commits with `audit`, or stops before the commit.
async fn write(s: &Store, rows: Vec<RegisterWrite>, commit: Option<AuditEvent>) -> kyso_store::Result<RegisterWritten> {
    let (tx, rx) = mpsc::channel(2);
    let feed = async move {
        for batch in rows.chunks(2) {
            tx.send(RegisterFeed::Rows(batch.to_vec())).await.unwrap();
        }
        if let Some(a) = commit {
            tx.send(RegisterFeed::Commit(a)).await.unwrap();
        }
    };
    let (written, ()) = tokio::join!(s.write_register(rx), feed);
    written
}

fn new(r: ResidentRow) -> RegisterWrite {
    RegisterWrite { row: r, known: false }
}

fn known(r: ResidentRow) -> RegisterWrite {
    RegisterWrite { row: r, known: true }
}

async fn audit_count(s: &Store) -> usize {
    s.audit_rows(0, 1000).await.unwrap().iter().filter(|a| a.action == "campaign.register.import").count()
}

#[tokio::test]
async fn register_bulk_writes_counts_and_keeps_the_generation_honest() {
    for (s, _d) in backends("register-bulk").await {
        let b = s.backend();
        units(&s).await;
        let g0 = s.register_generation().await.unwrap();

        // First load: an empty register.
        let rows = vec![
            new(resident("019190000003", Some("Lê Thị Ba"), "T02")),
            new(resident("019190000001", Some("Lê Thị An"), "T01")),
            new(resident("019190000002", None, "T01")),
        ];
        let w = write(&s, rows, Some(ev("first"))).await.unwrap();
        assert_eq!((w.inserted, w.updated, w.unchanged, w.first_load), (3, 0, 0, true), "{b}");
        assert_eq!(w.generation_before, g0, "{b}");
        assert!(w.generation_after > g0, "{b}: one bump");
        assert_eq!(s.register_generation().await.unwrap(), w.generation_after, "{b}");
        assert_eq!(s.residents("01960", Some("T01")).await.unwrap().len(), 2, "{b}: the hamlet index answers");
        assert_eq!(s.resident("019190000002").await.unwrap().unwrap().full_name, None, "{b}");
        let c = s.citizen("019190000001").await.unwrap().expect("a resident is a citizen");
        assert_eq!(
            (c.full_name.as_str(), c.province.as_str(), c.commune.as_deref()),
            ("Lê Thị An", "Tỉnh Thái Nguyên", Some("Xã Hiệp Lực")),
            "{b}"
        );
        assert_eq!(s.citizen("019190000002").await.unwrap().unwrap().full_name, "", "{b}: no name, empty");
        assert_eq!(c.eid_level, 0, "{b}");
        // A citizen kyso has dealt with (a level set) has a row, which the register renames.
        s.execute_raw(
            "INSERT INTO citizens (id_number, full_name, province, commune, eid_level, updated_at) \
             VALUES ('019190000002', 'Old', 'P', 'C', 2, 1)",
        )
        .await
        .unwrap();
        let audits = audit_count(&s).await;

        // Again: one changed (guessed known), one unchanged (guessed changed), one new guessed
        // known, one known guessed new.
        let rows = vec![
            known(resident("019190000001", Some("Lê Thị Ân"), "T02")),
            known(resident("019190000003", Some("Lê Thị Ba"), "T02")),
            known(resident("019190000004", Some("Vũ Văn Bốn"), "T01")),
            new(resident("019190000002", Some("Đặng Thị Hai"), "T01")),
        ];
        let w2 = write(&s, rows, Some(ev("again"))).await.unwrap();
        assert_eq!((w2.inserted, w2.updated, w2.unchanged, w2.first_load), (1, 2, 1, false), "{b}");
        assert_eq!(w2.generation_before, w.generation_after, "{b}");
        assert!(w2.generation_after > w2.generation_before, "{b}");
        assert_eq!(audit_count(&s).await, audits + 1, "{b}: one audit row per import");
        let an = s.resident("019190000001").await.unwrap().unwrap();
        assert_eq!((an.full_name.as_deref(), an.hamlet_code.as_str()), (Some("Lê Thị Ân"), "T02"), "{b}");
        assert_eq!(s.citizen("019190000001").await.unwrap().unwrap().full_name, "Lê Thị Ân", "{b}");
        let two = s.citizen("019190000002").await.unwrap().unwrap();
        assert_eq!((two.full_name.as_str(), two.eid_level, two.province.as_str()), ("Đặng Thị Hai", 2, "P"), "{b}");
        assert!(s.citizen("019190000004").await.unwrap().is_some(), "{b}");
        assert_eq!(s.resident("019190000001").await.unwrap().unwrap().hamlet_code, "T02", "{b}: moved");
        let t01: Vec<String> =
            s.residents("01960", Some("T01")).await.unwrap().into_iter().map(|r| r.id_number).collect();
        assert_eq!(t01, ["019190000002", "019190000004"], "{b}: moved out of T01");

        // Nothing changed: the generation stays, the import is still audited.
        let w3 = write(&s, vec![known(resident("019190000004", Some("Vũ Văn Bốn"), "T01"))], Some(ev("same")))
            .await
            .unwrap();
        assert_eq!((w3.inserted, w3.updated, w3.unchanged), (0, 0, 1), "{b}");
        assert_eq!(w3.generation_after, w3.generation_before, "{b}");
        assert_eq!(audit_count(&s).await, audits + 2, "{b}");

        // A feed that stops before its commit writes nothing.
        let g = s.register_generation().await.unwrap();
        let stopped = write(&s, vec![new(resident("019190000009", Some("X"), "T01"))], None).await;
        assert!(stopped.is_err(), "{b}");
        assert!(s.resident("019190000009").await.unwrap().is_none(), "{b}");
        assert_eq!(s.register_generation().await.unwrap(), g, "{b}");

        // The row-level path bumps the generation too.
        s.upsert_residents(&[resident("019190000008", Some("Y"), "T01")], &ev("row")).await.unwrap();
        assert!(s.register_generation().await.unwrap() > g, "{b}: bumped");
        assert_eq!(s.residents("01960", None).await.unwrap().len(), 5, "{b}");
        // The foreign key to the hamlets holds.
        let stray = s.upsert_residents(&[resident("019190000007", None, "ZZ")], &ev("x")).await;
        assert!(stray.is_err(), "{b}: a resident of an unknown hamlet is refused");
    }
}

#[tokio::test]
async fn the_row_per_resident_table_of_migration_26_is_converted() {
    for (s, _d) in backends("register-convert").await {
        let b = s.backend();
        units(&s).await;
        s.execute_raw(
            "CREATE TABLE residents_v26 (id_number TEXT PRIMARY KEY, full_name TEXT, date_of_birth TEXT NOT NULL, \
             sex TEXT NOT NULL, commune_code TEXT NOT NULL, hamlet_code TEXT NOT NULL, household TEXT, updated_at BIGINT NOT NULL); \
             INSERT INTO residents_v26 VALUES ('019190000002', 'Lê Thị Hai', '1990-01-02', 'F', '01960', 'T01', 'H1', 5); \
             INSERT INTO residents_v26 VALUES ('019190000001', NULL, '2012-05-06', 'M', '01960', 'T02', NULL, 5);",
        )
        .await
        .unwrap();
        let g = s.register_generation().await.unwrap();
        let audits = audit_count(&s).await;
        assert_eq!(s.convert_v26_residents().await.unwrap(), 2, "{b}");
        assert_eq!(s.convert_v26_residents().await.unwrap(), 0, "{b}: the old table is gone");
        assert!(s.register_generation().await.unwrap() > g, "{b}: the register index will be rebuilt");
        assert_eq!(
            s.resident("019190000002").await.unwrap().unwrap(),
            resident("019190000002", Some("Lê Thị Hai"), "T01")
        );
        let one = s.resident("019190000001").await.unwrap().unwrap();
        assert_eq!(
            (one.full_name, one.date_of_birth.as_str(), one.sex.as_str(), one.household),
            (None, "2012-05-06", "M", None)
        );
        assert_eq!(s.residents("01960", None).await.unwrap().len(), 2, "{b}");
        assert_eq!(audit_count(&s).await, audits, "{b}: a conversion is not an import");
    }
}
