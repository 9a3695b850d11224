//! The nation as PostgreSQL partitioning and federation (docs/DEPLOYMENT.md): three clusters made
//! by the test (`kyso_testkit::pg_cluster`; skipped with a notice unless KYSO_REQUIRE_POSTGRES=1)
//! — two provinces' kyso databases (Thái Nguyên 19, An Giang 91) and a national coordinator whose
//! `nation_adoption` is partitioned by province code with each province a postgres_fdw foreign
//! partition. The national roll-up is one query whose plan sends each province its aggregate,
//! and equals the sum of what each province's own roll-up says; the national ranking is the
//! provinces' communes ranked together; with one province's cluster stopped only that province
//! is "unavailable", named, and the other's figures stand; it comes back when the cluster does.
//!
//! The other national tables (migration 26): residents, adults and kyso-certificate holders per
//! province, each aggregate computed by the province (asserted from the plan); one ID number found
//! across the nation — its register row, its kyso certificate and its provider-list certificates
//! with the province's own provider names — each province sent the filter; with a province down,
//! its rows unavailable and named, the other's found.
//!
//! The coordinator's copy of the roll-up equals the live one; a refresh during an outage copies
//! the province that answered and keeps the other's earlier row; detaching a province drops it.

use kyso_store::bulk::BulkProviderCert;
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow, SnapshotRow};
use kyso_store::federation::{Coordinator, ProvinceLink};
use kyso_store::{AuditEvent, AuditKey, Store};
use kyso_testkit::pg_cluster::{or_skip, Cluster};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const DAY: &str = "2026-08-01";

/// (commune, name, holders, adults) per province; a row of another day that must not count.
const P19: &[(&str, &str, i64, i64)] =
    &[("01960", "Xã Hiệp Lực", 40, 100), ("01961", "Xã Thử", 90, 120), ("01962", "Xã Ba", 10, 400)];
const P91: &[(&str, &str, i64, i64)] = &[("30856", "Xã Tân Hội", 300, 500), ("30857", "Xã Mới", 70, 80)];

async fn province(cluster: &Cluster, code: &str, name: &str, communes: &[(&str, &str, i64, i64)]) -> Store {
    let s = Store::open(&cluster.url("postgres")).await.unwrap().with_audit_key(AuditKey::insecure_test_key());
    let rows: Vec<CommuneRow> = communes
        .iter()
        .map(|(c, n, _, _)| CommuneRow {
            code: c.to_string(),
            province_code: code.into(),
            province_name: name.into(),
            name: n.to_string(),
            kind: "commune".into(),
            lat: 21.0,
            lon: 105.0,
            area_km2: None,
        })
        .collect();
    s.upsert_communes(&rows, &AuditEvent::new("test", "units", code, "")).await.unwrap();
    for (c, _, holders, adults) in communes {
        for (date, h) in [(DAY, *holders), ("2026-07-01", holders / 2)] {
            let snap = SnapshotRow {
                commune_code: c.to_string(),
                date: date.into(),
                holders: h,
                adults: *adults,
                taken_at: 1,
            };
            s.save_snapshot(&snap).await.unwrap();
        }
    }
    s
}

/// Residents: (ID number, commune, born); each commune has one hamlet, T01.
const R19: &[(&str, &str, &str)] = &[
    ("019190000001", "01960", "1990-03-15"),
    ("019085000002", "01960", "2009-11-21"), // 17 on the day
    ("001080000003", "01961", "1980-02-29"), // born in Hà Nội, lives in Thái Nguyên
];
const R91: &[(&str, &str, &str)] = &[("091195000004", "30856", "1995-01-01"), ("091208000005", "30857", "2008-11-20")]; // 18 on the day

async fn register(s: &Store, people: &[(&str, &str, &str)]) {
    let audit = AuditEvent::new("test", "register", "r", "");
    let mut communes: Vec<&str> = people.iter().map(|p| p.1).collect();
    communes.dedup();
    let hamlets: Vec<HamletRow> = communes
        .iter()
        .map(|c| HamletRow { commune_code: c.to_string(), code: "T01".into(), name: "Thôn 1".into() })
        .collect();
    s.upsert_hamlets(&hamlets, &audit).await.unwrap();
    let rows: Vec<ResidentRow> = people
        .iter()
        .map(|(id, c, born)| ResidentRow {
            id_number: id.to_string(),
            full_name: Some("Người Thử".into()),
            date_of_birth: born.to_string(),
            sex: "F".into(),
            commune_code: c.to_string(),
            hamlet_code: "T01".into(),
            household: None,
        })
        .collect();
    s.upsert_residents(&rows, &audit).await.unwrap();
}

/// A provider list: (ID, provider, issue day). Providers named in the order given, so that the
/// provinces' provider codes differ.
async fn list(s: &Store, names: &[&str], rows: &[(u64, &str, i32)]) {
    let certs: Vec<BulkProviderCert> = rows
        .iter()
        .enumerate()
        .map(|(i, &(id, p, issued))| BulkProviderCert {
            id,
            issued,
            expires: None,
            ended: None,
            row: i as u32 + 2,
            provider: names.iter().position(|n| *n == p).unwrap() as u16,
            status: 0,
        })
        .collect();
    let names = names.iter().map(|n| n.to_string()).collect();
    let audit = AuditEvent::new("test", "campaign.provider_list.import", "list", "");
    s.bulk_upsert_provider_certificates(Arc::new(certs), Arc::new(names), "list.csv", &audit).await.unwrap();
}

fn link(code: &str, c: &Cluster) -> ProvinceLink {
    ProvinceLink {
        code: code.into(),
        host: "127.0.0.1".into(),
        port: c.port,
        dbname: "postgres".into(),
        user: "postgres".into(),
        password: None,
    }
}

/// Each province's own roll-up (kyso's `adoption_rollup` on its database): code → (communes, holders, adults).
async fn own(stores: &[&Store]) -> BTreeMap<String, (i64, i64, i64)> {
    let mut out = BTreeMap::new();
    for s in stores {
        for r in s.adoption_rollup(DAY).await.unwrap() {
            if let (Some(h), Some(a)) = (r.holders, r.adults) {
                let e = out.entry(r.province_code.clone()).or_insert((0, 0, 0));
                *e = (e.0 + 1, e.1 + h, e.2 + a);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_rollup_is_one_pushed_down_query_and_an_outage_is_one_province() {
    let made = (|| {
        Ok::<_, String>((Cluster::primary("fed-p19")?, Cluster::primary("fed-p91")?, Cluster::primary("fed-nation")?))
    })();
    let Some((p19, mut p91, nation)) = or_skip("the federation test", made) else { return };
    let s19 = province(&p19, "19", "Tỉnh Thái Nguyên", P19).await;
    let s91 = province(&p91, "91", "Tỉnh An Giang", P91).await;

    let coord = Coordinator::connect(&nation.url("postgres")).await.unwrap();
    coord.attach(&link("19", &p19)).await.unwrap();
    coord.attach(&link("91", &p91)).await.unwrap();
    assert_eq!(coord.provinces().await.unwrap(), vec!["19", "91"]);
    // refusals before any SQL: a code that is not two digits, a host with a quote, attached twice
    for bad in [
        ProvinceLink { code: "1x".into(), ..link("19", &p19) },
        ProvinceLink { host: "h'; DROP".into(), ..link("20", &p19) },
    ] {
        let e = coord.attach(&bad).await.unwrap_err().to_string();
        assert!(e.contains("không hợp lệ") && e.contains("not valid"), "{e}");
    }
    let e = coord.attach(&link("19", &p19)).await.unwrap_err().to_string();
    assert!(e.contains("attached already"), "{e}");
    // A province attached by an earlier kyso (the adoption partition only, no province-code
    // option): the next connect adds what is missing.
    nation
        .psql(
            "postgres",
            "DROP FOREIGN TABLE nation_register_p19, nation_provider_blocks_p19; \
             ALTER SERVER province_19 OPTIONS (DROP options)",
        )
        .unwrap();
    let upgraded = Coordinator::connect(&nation.url("postgres")).await.unwrap();
    let parts = "SELECT count(*) FROM pg_class WHERE relname LIKE 'nation\\_%\\_p19'";
    assert_eq!(nation.psql("postgres", parts).unwrap(), "5");
    let told = "SELECT count(*) FROM pg_foreign_server, unnest(srvoptions) o \
                WHERE srvname = 'province_19' AND o = 'options=-c kyso.province_code=19'";
    assert_eq!(nation.psql("postgres", told).unwrap(), "1");
    upgraded.close(Duration::from_secs(5)).await;

    // One query, each province sent its aggregate.
    let plan = coord.explain_rollup(DAY).await.unwrap();
    assert_eq!(plan.matches("Foreign Scan").count(), 2, "{plan}");
    assert!(plan.starts_with("Append") && !plan.contains("GroupAggregate"), "aggregated on the coordinator:\n{plan}");
    assert_eq!(
        plan.matches("Remote SQL: SELECT province_code, count(*), sum(holders)::bigint, sum(adults)::bigint").count(),
        2,
        "the aggregate is not pushed down:\n{plan}"
    );
    assert!(plan.contains("GROUP BY 1"), "{plan}");

    // The roll-up equals the sum of the provinces' own.
    let expected = own(&[&s19, &s91]).await;
    assert_eq!(expected.len(), 2);
    let r = coord.rollup(DAY).await.unwrap();
    assert!(r.one_query && r.unavailable.is_empty(), "{r:?}");
    let got: BTreeMap<_, _> = r.provinces.iter().map(|p| (p.code.clone(), (p.communes, p.holders, p.adults))).collect();
    assert_eq!(got, expected);
    assert_eq!((r.holders, r.adults), (expected.values().map(|v| v.1).sum(), expected.values().map(|v| v.2).sum()));
    assert_eq!((r.holders, r.adults), (140 + 370, 620 + 580), "the hand-made figures");
    // The coordinator's copy: filled from the live query, read back the same, with its time.
    assert_eq!(coord.copied_rollup(DAY).await.unwrap().provinces.len(), 0);
    coord.refresh_rollup(DAY, 1_000).await.unwrap();
    let c = coord.copied_rollup(DAY).await.unwrap();
    assert_eq!(c.provinces, r.provinces);
    assert_eq!((c.holders, c.adults, c.copied_at), (r.holders, r.adults, Some(1_000)));
    assert_eq!(r.copied_at, None);

    // The national ranking: communes of both provinces, by share.
    let (top, missing) = coord.ranking(DAY, 3).await.unwrap();
    assert!(missing.is_empty());
    let codes: Vec<_> = top.iter().map(|c| c.commune_code.as_str()).collect();
    assert_eq!(codes, ["30857", "01961", "30856"], "87.5 %, 75 %, 60 %");

    // An Giang's cluster goes down: only An Giang is unavailable, named; Thái Nguyên stands.
    p91.stop();
    let r = coord.rollup(DAY).await.unwrap();
    assert!(!r.one_query);
    assert_eq!(r.unavailable.len(), 1, "{r:?}");
    let m = &r.unavailable[0];
    assert_eq!(m.code, "91");
    assert!(
        m.message.contains("tỉnh 91: không truy cập được")
            && m.message.contains("province 91: its database cannot be reached"),
        "{}",
        m.message
    );
    let got: BTreeMap<_, _> = r.provinces.iter().map(|p| (p.code.clone(), (p.communes, p.holders, p.adults))).collect();
    assert_eq!(got.get("19"), expected.get("19"));
    assert_eq!(got.len(), 1);
    assert_eq!((r.holders, r.adults), (140, 620), "the total of the provinces that answered");
    // A refresh during the outage: Thái Nguyên's row copied again, An Giang's earlier row kept.
    let live = coord.refresh_rollup(DAY, 2_000).await.unwrap();
    assert_eq!(live.unavailable.len(), 1);
    let c = coord.copied_rollup(DAY).await.unwrap();
    assert_eq!((c.holders, c.adults, c.copied_at), (140 + 370, 620 + 580, Some(1_000)), "{c:?}");
    let copied_19 = nation.psql("postgres", "SELECT copied_at FROM nation_rollup_copy WHERE province_code = '19'");
    assert_eq!(copied_19.unwrap(), "2000");
    let (top, missing) = coord.ranking(DAY, 3).await.unwrap();
    assert_eq!(missing.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["91"]);
    assert_eq!(top.iter().map(|c| c.commune_code.as_str()).collect::<Vec<_>>(), ["01961", "01960", "01962"]);

    // Back: one query again, every province.
    p91.start().unwrap();
    let mut r = coord.rollup(DAY).await.unwrap();
    for _ in 0..20 {
        if r.one_query {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        r = coord.rollup(DAY).await.unwrap();
    }
    assert!(r.one_query && r.unavailable.is_empty(), "{r:?}");
    assert_eq!(r.provinces.len(), 2);

    national_tables(&coord, &s19, &s91, &p19, &mut p91).await;

    coord.detach("91").await.unwrap();
    assert_eq!(coord.provinces().await.unwrap(), vec!["19"]);
    let c = coord.copied_rollup(DAY).await.unwrap();
    assert_eq!(
        c.provinces.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        ["19"],
        "a detached province's copy goes"
    );
    for table in ["adoption", "register", "register_ids", "certificates", "provider_blocks"] {
        let left =
            nation.psql("postgres", &format!("SELECT count(*) FROM pg_class WHERE relname = 'nation_{table}_p91'"));
        assert_eq!(left.unwrap(), "0", "{table}");
    }
    coord.close(Duration::from_secs(5)).await;
}

/// The register (blocks and ID blocks), certificates and provider-list blocks: counts per
/// province and one person across the nation, pushed down; then An Giang down again.
async fn national_tables(coord: &Coordinator, s19: &Store, s91: &Store, p19: &Cluster, p91: &mut Cluster) {
    register(s19, R19).await;
    register(s91, R91).await;
    // a kyso citizen certificate of the first Thái Nguyên resident (valid 2026), and one revoked
    let cert = |serial: &str, revoked: &str| {
        format!(
            "INSERT INTO certificates (serial, issuer_id, profile, id_number, subject_cn, not_before, not_after, \
             revoked_at, der, created_at) VALUES ('{serial}', 'ca-1', 'citizen', '019190000001', 'NGUYEN THI AN', \
             1767225600, 1798761600, {revoked}, '\\x00', 1)"
        )
    };
    p19.psql("postgres", &cert("0A01", "NULL")).unwrap();
    p19.psql("postgres", &cert("0A02", "1770000000")).unwrap();
    // provider lists: codes differ between the provinces (names in another order)
    list(
        s19,
        &["VNPT-CA", "VIETTEL-CA"],
        &[(19_190_000_001, "VIETTEL-CA", 20_400), (91_195_000_004, "VNPT-CA", 20_300)],
    )
    .await;
    list(s91, &["FPT-CA", "VNPT-CA"], &[(91_195_000_004, "VNPT-CA", 20_500), (91_195_000_004, "FPT-CA", 20_501)]).await;

    // Residents and adults (18 on 2026-11-20: born by 2008-11-20) and holders at 2026-11-20.
    let (born_by, at) = ("2008-11-20", 1_795_132_800);
    let r = coord.register(born_by, at).await.unwrap();
    assert!(r.one_query && r.unavailable.is_empty(), "{r:?}");
    let got: Vec<_> = r.provinces.iter().map(|p| (p.code.as_str(), p.residents, p.adults, p.holders)).collect();
    assert_eq!(got, [("19", 3, 2, 1), ("91", 2, 2, 0)]);

    let plans = coord.explain_national("091195000004", born_by, at).await.unwrap();
    for (plan, remote) in [
        (&plans[0], "Remote SQL: SELECT province_code, sum(n), sum(width_bucket("),
        (&plans[1], "Remote SQL: SELECT province_code, count(DISTINCT id_number)"),
        (&plans[2], "WHERE ((first_id <= 91195000004::bigint)) AND ((last_id >= 91195000004::bigint))"),
        (&plans[3], "WHERE ((id_number = '091195000004'))"),
        (&plans[4], "WHERE ((first_id <= 91195000004::bigint)) AND ((last_id >= 91195000004::bigint))"),
    ] {
        assert_eq!(plan.matches("Foreign Scan").count(), 2, "{plan}");
        assert_eq!(plan.matches(remote).count(), 2, "not sent to each province ({remote}):\n{plan}");
        assert!(
            !plan.contains("Aggregate\n") && !plan.contains("HashAggregate"),
            "aggregated on the coordinator:\n{plan}"
        );
    }
    assert!(plans[0].contains("GROUP BY 1") && plans[1].contains("GROUP BY 1"), "{}\n{}", plans[0], plans[1]);

    // One person across the nation: lives in An Giang, listed by both provinces' lists.
    let p = coord.person("091195000004").await.unwrap();
    assert!(p.unavailable.is_empty());
    assert_eq!(p.residents.len(), 1);
    assert_eq!((p.residents[0].province_code.as_str(), p.residents[0].commune_code.as_str()), ("91", "30856"));
    assert!(p.certificates.is_empty());
    let listed: Vec<_> =
        p.listed.iter().map(|l| (l.province_code.as_str(), l.provider.as_str(), l.listed.issued)).collect();
    assert_eq!(listed, [("19", "VNPT-CA", 20_300), ("91", "VNPT-CA", 20_500), ("91", "FPT-CA", 20_501)]);
    let p = coord.person("019190000001").await.unwrap();
    assert_eq!(p.residents.iter().map(|r| r.province_code.as_str()).collect::<Vec<_>>(), ["19"]);
    let serials: Vec<_> = p.certificates.iter().map(|c| (c.serial.as_str(), c.revoked_at)).collect();
    assert_eq!(serials, [("0A01", None), ("0A02", Some(1_770_000_000))]);
    assert_eq!(p.listed.len(), 1);
    assert_eq!(coord.person("999999999999").await.unwrap().residents.len(), 0);

    // An Giang down: its rows unavailable, Thái Nguyên's found.
    p91.stop();
    let r = coord.register(born_by, at).await.unwrap();
    assert!(!r.one_query);
    assert_eq!(r.unavailable.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["91"]);
    assert_eq!(r.provinces.iter().map(|p| (p.code.as_str(), p.residents)).collect::<Vec<_>>(), [("19", 3)]);
    let p = coord.person("019190000001").await.unwrap();
    assert_eq!(p.unavailable.len(), 1, "{:?}", p.unavailable);
    assert!(p.unavailable[0].message.contains("tỉnh 91: không truy cập được"), "{}", p.unavailable[0].message);
    assert_eq!((p.residents.len(), p.certificates.len(), p.listed.len()), (1, 2, 1));
    p91.start().unwrap();
    for _ in 0..20 {
        if coord.register(born_by, at).await.unwrap().one_query {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("An Giang did not come back");
}
