//! `kyso campaign adoption --refresh`: every commune's holders and adults, recomputed from the
//! register's column index and the certificate sources, agree commune by commune and day by day
//! with the campaign core's count (`kyso campaign progress`) — kyso's own certificates and
//! provider lists, expired, revoked, not-yet-issued, repeated and unmatched rows included; the
//! import brings its own date up to date; a register change makes the index rebuild. On SQLite
//! and PostgreSQL.

mod support;

use serde_json::Value as Json;
use support::{Backend, Env};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,01961,Xã Thử,Xã,22.3,105.9,10\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Một\n01960,T02,Xóm Hai\n\
01961,T01,Xóm Ba\n30856,A1,Ấp Hòa Long\n";

// Born 1990 (adult), 2011-06-01 (15 from 1 June 2026), 2012 (14), a 29 February birthday.
const REGISTER: &str = "id_number,full_name,date_of_birth,sex,hamlet_code,commune_code\n\
019190000001,Nguyễn Thị An,1990-03-15,F,T01,01960\n\
019211000002,Trần Văn Bình,2011-06-01,M,T02,01960\n\
019312000003,Lê Thị Chi,2012-01-01,F,T01,01960\n\
019080000004,Phạm Văn Dũng,1980-02-29,M,T01,01961\n\
019185000005,Đỗ Thị Em,1985-05-05,F,T01,01961\n\
089095000006,Võ Văn Phúc,1995-02-02,M,A1,30856\n";

const LIST: &str = "id_number,provider,issue_date,expiry_date,status,revoked_date\n\
019190000001,VNPT-CA,2026-01-10,2027-01-10,active,\n\
019190000001,VIETTEL-CA,2026-03-01,,active,\n\
019211000002,VNPT-CA,2026-02-01,2026-05-01,expired,\n\
019211000002,FPT-CA,2026-06-15,,active,\n\
019312000003,VNPT-CA,2026-01-05,,revoked,2026-04-01\n\
019185000005,BKAV-CA,2026-07-01,2029-07-01,active,\n\
019185000005,BKAV-CA,2026-07-01,2029-07-01,active,\n\
019299000777,VNPT-CA,2026-01-01,,active,\n\
089095000006,MOBIFONE-CA,2026-01-20,2026-03-20,active,\n";

fn json(out: &str) -> Json {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn adoption_sqlite() {
    adoption(Env::new("adoption"));
}

#[test]
fn adoption_postgres() {
    if let Some(env) = Env::with_backend("adoption", Backend::Postgres) {
        adoption(env);
    }
}

fn adoption(env: Env) {
    env.init();
    for (name, text) in [("units.csv", UNITS), ("hamlets.csv", HAMLETS), ("register.csv", REGISTER), ("list.csv", LIST)]
    {
        std::fs::write(env.path(name), text).unwrap();
    }
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "register.csv"]);
    env.ok(&["campaign", "import-provider-list", "list.csv", "--as-of", "2026-08-01"]);
    // The import recomputed its own date: no --refresh needed to read it.
    let v = json(&env.ok(&["--json", "campaign", "adoption", "--date", "2026-08-01"]));
    assert_eq!((v["not_recomputed"].as_u64(), v["holders"].as_u64()), (Some(0), Some(3)), "{v}");
    // One of kyso's own certificates, for a resident no list names.
    env.citizen_with_certificate("019080000004", "Phạm Văn Dũng");
    let today =
        json(&env.ok(&["--json", "campaign", "progress", "--commune", "01961"]))["date"].as_str().unwrap().to_owned();

    let mut days = vec![
        "2026-01-09",
        "2026-01-10",
        "2026-02-28",
        "2026-03-20",
        "2026-04-01",
        "2026-05-01",
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2027-01-10",
        "2028-02-29",
    ];
    days.push(&today);
    let mut seen_nonzero = false;
    for day in days {
        let v = json(&env.ok(&["--json", "campaign", "adoption", "--date", day, "--refresh"]));
        assert_eq!(v["communes"], 3, "{v}");
        assert_eq!(v["not_recomputed"], 0, "{v}");
        for c in v["by_commune"].as_array().unwrap() {
            let code = c["code"].as_str().unwrap();
            let p = json(&env.ok(&["--json", "campaign", "progress", "--commune", code, "--date", day]));
            assert_eq!((&c["holders"], &c["adults"]), (&p["holders"], &p["adults"]), "{code} on {day}: {v}");
            seen_nonzero |= c["holders"].as_u64().unwrap() > 0;
        }
        let sum: u64 = v["provinces"].as_array().unwrap().iter().map(|p| p["holders"].as_u64().unwrap()).sum();
        assert_eq!(v["holders"].as_u64(), Some(sum));
    }
    assert!(seen_nonzero);

    // The national correction list: the one listed certificate whose ID number no register
    // has, masked; none of it valid before its issue day; another provider's list has none.
    let out = env.ok(&["--json", "campaign", "unmatched", "--xlsx", "unmatched.xlsx"]);
    assert!(!out.contains("019299000777"), "a clear ID number: {out}");
    let v = json(&out);
    let rows = v["certificates"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!((rows[0]["provider"].as_str(), rows[0]["id_masked"].as_str()), (Some("VNPT-CA"), Some("0192****0777")));
    assert_eq!(rows[0]["issued"], "2026-01-01");
    assert_eq!(v["by_provider"]["VNPT-CA"], 1);
    let v = json(&env.ok(&["--json", "campaign", "unmatched", "--date", "2025-12-31"]));
    assert_eq!(v["certificates"].as_array().map(Vec::len), Some(0), "{v}");
    let v = json(&env.ok(&["--json", "campaign", "unmatched", "--provider", "bkav-ca"]));
    assert_eq!(v["certificates"].as_array().map(Vec::len), Some(0), "{v}");
    assert!(std::fs::metadata(env.path("unmatched.xlsx")).unwrap().len() > 0);
    if let Some(text) = support::openpyxl_text(&env.path("unmatched.xlsx")) {
        assert!(text.contains("0192****0777") && text.contains("VNPT-CA") && !text.contains("019299000777"), "{text}");
    }

    // The unmatched list row's person joins the register: the register's generation moved, so
    // the next recompute rebuilds the index and counts them (the list row was kept).
    let before = json(&env.ok(&["--json", "campaign", "adoption", "--date", "2026-08-01", "--refresh"]));
    std::fs::write(
        env.path("late.csv"),
        "id_number,full_name,date_of_birth,sex,hamlet_code,commune_code\n019299000777,Hà Văn Muộn,1999-09-09,M,T02,01960\n",
    )
    .unwrap();
    env.ok(&["campaign", "import-register", "late.csv"]);
    let after = json(&env.ok(&["--json", "campaign", "adoption", "--date", "2026-08-01", "--refresh"]));
    let n = |v: &Json, k: &str| v[k].as_u64().unwrap();
    assert_eq!((n(&after, "holders"), n(&after, "adults")), (n(&before, "holders") + 1, n(&before, "adults") + 1));
    let p = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960", "--date", "2026-08-01"]));
    let c = after["by_commune"].as_array().unwrap().iter().find(|c| c["code"] == "01960").unwrap().clone();
    assert_eq!((&c["holders"], &c["adults"]), (&p["holders"], &p["adults"]), "{after}");
    // Without --refresh a day never recomputed is reported as such, not as zero holders.
    let v = json(&env.ok(&["--json", "campaign", "adoption", "--date", "2030-01-01"]));
    assert_eq!(v["not_recomputed"], 3, "{v}");
    assert!(v["by_commune"][0]["holders"].is_null(), "{v}");
    // Now in the register, the person is off the correction list.
    let v = json(&env.ok(&["--json", "campaign", "unmatched"]));
    assert_eq!(v["certificates"].as_array().map(Vec::len), Some(0), "{v}");
}
