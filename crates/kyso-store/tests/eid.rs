//! e-ID levels from the police list (migration 18), on SQLite and PostgreSQL: batches upserted
//! with their audit row, a re-import writing nothing, a changed row updated, and the levels read
//! back per commune and hamlet through the register (people not in it kept, not shown).

use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::eid::EidLevelRow;
use kyso_store::{AuditEvent, Store};

mod support;
use support::backends;

fn ev() -> AuditEvent {
    AuditEvent::new("test", "campaign.eid_list.import", "e-ID level 2", "rows")
}

async fn register(s: &Store) {
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
    s.upsert_communes(&[commune("01960", "19"), commune("30856", "91")], &ev()).await.unwrap();
    let hamlet = |c: &str, h: &str| HamletRow { commune_code: c.into(), code: h.into(), name: h.into() };
    s.upsert_hamlets(&[hamlet("01960", "T01"), hamlet("01960", "T02"), hamlet("30856", "A1")], &ev()).await.unwrap();
    let resident = |id: &str, c: &str, h: &str, born: &str| ResidentRow {
        id_number: id.into(),
        full_name: None,
        date_of_birth: born.into(),
        sex: "F".into(),
        commune_code: c.into(),
        hamlet_code: h.into(),
        household: None,
    };
    let rows = [
        resident("019190000001", "01960", "T01", "1990-01-01"),
        resident("019190000002", "01960", "T02", "1991-01-01"),
        resident("019190000003", "01960", "T02", "2015-01-01"),
        resident("089190000004", "30856", "A1", "1990-01-01"),
    ];
    s.upsert_residents(&rows, &ev()).await.unwrap();
}

fn level(id: &str, level: i64, on: Option<&str>) -> EidLevelRow {
    EidLevelRow { id_number: id.into(), level, verified_on: on.map(Into::into) }
}

#[tokio::test]
async fn eid_levels_upsert_idempotently_and_read_per_commune() {
    for (s, _d) in backends("eid-levels").await {
        let b = s.backend();
        register(&s).await;
        let list = [
            level("019190000001", 2, Some("2026-01-05")),
            level("019190000002", 1, None),
            level("019190000003", 2, None),
            level("089190000004", 2, None),
            level("019199999999", 2, None), // not in the register: kept
        ];
        let audit_before = s.verify_audit().await.unwrap().head_seq;
        let n = s.upsert_eid_levels_batch(&list, &ev()).await.unwrap();
        assert_eq!((n.inserted, n.updated, n.unchanged), (5, 0, 0), "{b}");
        let audit = s.verify_audit().await.unwrap();
        assert_eq!((audit.head_seq, audit.first_error), (audit_before + 1, None), "{b}: one audit row a batch");
        // the same list again writes nothing
        let n = s.upsert_eid_levels_batch(&list, &ev()).await.unwrap();
        assert_eq!((n.inserted, n.updated, n.unchanged), (0, 0, 5), "{b}");
        // a later list raises one person to level 2 and dates another
        let later = [level("019190000002", 2, Some("2026-02-01")), level("019190000001", 2, Some("2026-01-05"))];
        let n = s.upsert_eid_levels_batch(&later, &ev()).await.unwrap();
        assert_eq!((n.inserted, n.updated, n.unchanged), (0, 1, 1), "{b}");

        let ids = |rows: Vec<EidLevelRow>| {
            rows.into_iter().map(|r| (r.id_number, r.level, r.verified_on)).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(s.eid_levels("01960", None).await.unwrap()),
            [
                ("019190000001".into(), 2, Some("2026-01-05".into())),
                ("019190000002".into(), 2, Some("2026-02-01".into())),
                ("019190000003".into(), 2, None),
            ],
            "{b}"
        );
        assert_eq!(s.eid_levels("01960", Some("T01")).await.unwrap().len(), 1, "{b}");
        assert!(s.eid_list_covers("01960").await.unwrap() && s.eid_list_covers("30856").await.unwrap(), "{b}");
        assert!(!s.eid_list_covers("99999").await.unwrap(), "{b}");
        // level-2 adults per commune, of one province or all (born by the age line); no ID numbers
        let all = s.eid_level2_adults(None, "2011-11-01").await.unwrap();
        assert_eq!(
            all,
            [("01960".to_string(), 2), ("30856".to_string(), 1)],
            "{b}: the child and the unlisted left out"
        );
        assert_eq!(s.eid_level2_adults(Some("91"), "2011-11-01").await.unwrap(), [("30856".to_string(), 1)], "{b}");
        assert_eq!(
            s.eid_level2_adults(None, "2020-01-01").await.unwrap()[0].1,
            3,
            "{b}: the child counts on a later line"
        );
        // a bad row fails the whole batch, nothing of it written
        let bad = [level("019190000005", 2, None), level("01919000000X", 2, None)];
        assert!(s.upsert_eid_levels_batch(&bad, &ev()).await.is_err(), "{b}");
        assert!(s.upsert_eid_levels_batch(&[level("019190000005", 3, None)], &ev()).await.is_err(), "{b}");
        assert_eq!(s.eid_level2_adults(None, "2020-01-01").await.unwrap()[0].1, 3, "{b}");
    }
}
