//! The nation as PostgreSQL partitioning and federation (docs/DEPLOYMENT.md): three clusters made
//! by the test (`kyso_testkit::pg_cluster`; skipped with a notice unless KYSO_REQUIRE_POSTGRES=1)
//! — two provinces' kyso databases (Thái Nguyên 19, An Giang 91) and a national coordinator whose
//! `nation_adoption` is partitioned by province code with each province a postgres_fdw foreign
//! partition. The national roll-up is one query whose plan sends each province its aggregate,
//! and equals the sum of what each province's own roll-up says; the national ranking is the
//! provinces' communes ranked together; with one province's cluster stopped only that province
//! is "unavailable", named, and the other's figures stand; it comes back when the cluster does.

use kyso_store::campaign::{CommuneRow, SnapshotRow};
use kyso_store::federation::{Coordinator, ProvinceLink};
use kyso_store::{AuditEvent, AuditKey, Store};
use kyso_testkit::pg_cluster::{or_skip, Cluster};
use std::collections::BTreeMap;
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

    coord.detach("91").await.unwrap();
    assert_eq!(coord.provinces().await.unwrap(), vec!["19"]);
    coord.close(Duration::from_secs(5)).await;
}
