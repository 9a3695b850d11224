//! `kyso federation` end to end (docs/DEPLOYMENT.md, "Nation: partitioning and federation"): a
//! province's kyso database filled by the real imports (units, hamlets, register, a provider
//! list) and a national coordinator, two clusters made by the test (`kyso_testkit::pg_cluster`;
//! skipped with a notice unless KYSO_REQUIRE_POSTGRES=1). `kyso federation attach` makes the
//! province a foreign partition; `kyso federation rollup` gives the province's own adoption
//! figures (`kyso campaign adoption`) in one pushed-down query; with the province's cluster
//! stopped it names the province unavailable in both languages and exits 3; a bad code or a
//! password on the command line never reaches SQL. `kyso federation ranking` ranks the
//! province's communes (Vietnamese by default, `--lang en`, `--json`), `register` counts its
//! residents and adults, `person` finds an ID number's register row and provider-list
//! certificate across the nation, printing the number masked; all three exit 3 during the
//! outage, naming the province. `refresh` keeps the roll-up in the coordinator's copy, which
//! `rollup --copy` reads, also while the province is down.

mod support;
use kyso_testkit::pg_cluster::{or_skip, Cluster};
use serde_json::Value;
use support::*;

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,01961,Xã Thử,Xã,22.3,105.9,10\n";
const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Một\n01961,T01,Xóm Ba\n";
const REGISTER: &str = "id_number,full_name,date_of_birth,sex,hamlet_code,commune_code\n\
019190000001,Nguyễn Thị An,1990-03-15,F,T01,01960\n\
019185000005,Đỗ Thị Em,1985-05-05,F,T01,01960\n\
019080000004,Phạm Văn Dũng,1980-02-29,M,T01,01961\n";
const LIST: &str = "id_number,provider,issue_date,expiry_date,status,revoked_date\n\
019190000001,VNPT-CA,2026-01-10,2027-01-10,active,\n\
019080000004,VIETTEL-CA,2026-03-01,,active,\n";

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn federation_rollup_from_a_province_and_its_outage() {
    let made = (|| Ok::<_, String>((Cluster::primary("cli-p19")?, Cluster::primary("cli-nation")?)))();
    let Some((mut p19, nation)) = or_skip("kyso federation", made) else { return };
    let mut env = Env::new("federation");
    env.database_url = Some(p19.url("postgres"));
    env.init();
    for (name, text) in [("units.csv", UNITS), ("hamlets.csv", HAMLETS), ("register.csv", REGISTER), ("list.csv", LIST)]
    {
        std::fs::write(env.path(name), text).unwrap();
    }
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "register.csv"]);
    env.ok(&["campaign", "import-provider-list", "list.csv", "--as-of", "2026-08-01"]);
    let own = json(&env.ok(&["--json", "campaign", "adoption", "--date", "2026-08-01"]));
    assert_eq!(own["holders"].as_i64(), Some(2), "{own}");

    let coord = nation.url("postgres");
    let port = p19.port.to_string();
    let attach = [
        "federation",
        "attach",
        "--coordinator-url",
        &coord,
        "--province",
        "19",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--dbname",
        "postgres",
        "--user",
        "postgres",
    ];
    env.ok(&attach);
    // refused before any SQL: a code that is not two digits, a password flag (there is none)
    let mut bad = attach;
    bad[5] = "1a";
    let o = env.kyso(&bad);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("mã tỉnh «1a» không hợp lệ"), "{err}");
    assert!(!env
        .kyso(&[
            "federation",
            "attach",
            "--coordinator-url",
            &coord,
            "--province",
            "20",
            "--host",
            "h",
            "--password",
            "x"
        ])
        .status
        .success());

    let r = json(&env.ok(&["--json", "federation", "rollup", "--coordinator-url", &coord, "--date", "01/08/2026"]));
    assert_eq!(r["one_query"], true, "{r}");
    assert_eq!(r["provinces"][0]["code"], "19");
    assert_eq!(r["holders"].as_i64(), own["holders"].as_i64(), "{r} vs {own}");
    assert_eq!(r["provinces"][0]["communes"].as_i64(), Some(2), "{r}");
    assert_eq!(r["adults"].as_i64(), Some(3), "{r}");
    assert_eq!(r["unavailable"].as_array().map(Vec::len), Some(0));
    // the same as text: a line per province, in Vietnamese numbers
    let text = env.ok(&["federation", "rollup", "--coordinator-url", &coord, "--date", "01/08/2026"]);
    assert!(text.contains("\n19  xã 2  người trưởng thành 3  có chứng thư số 2  66,67 %\n"), "{text}");

    // The coordinator's copy: refreshed from the live roll-up, read back the same.
    let c = json(&env.ok(&["--json", "federation", "refresh", "--coordinator-url", &coord, "--date", "01/08/2026"]));
    assert_eq!(c["copied"][0], "19", "{c}");
    let copy = json(&env.ok(&[
        "--json",
        "federation",
        "rollup",
        "--coordinator-url",
        &coord,
        "--date",
        "2026-08-01",
        "--copy",
    ]));
    assert_eq!(
        (copy["holders"].as_i64(), copy["adults"].as_i64()),
        (r["holders"].as_i64(), r["adults"].as_i64()),
        "{copy}"
    );
    assert!(copy["copied_at"].as_i64().is_some() && r["copied_at"].is_null(), "{copy} {r}");

    // The national ranking: Xã Thử (1 of 1 adult) before Xã Hiệp Lực (1 of 2), Vietnamese first.
    let text = env.ok(&["federation", "ranking", "--coordinator-url", &coord, "--date", "01/08/2026"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Xếp hạng xã toàn quốc ngày 01/08/2026", "{text}");
    assert_eq!(lines[1], "  1. 01961 (tỉnh 19)  100,00 %  1 / 1 người trưởng thành có chứng thư số", "{text}");
    assert_eq!(lines[2], "  2. 01960 (tỉnh 19)  50,00 %  1 / 2 người trưởng thành có chứng thư số", "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    let text = env.ok(&[
        "federation",
        "ranking",
        "--coordinator-url",
        &coord,
        "--date",
        "2026-08-01",
        "--limit",
        "1",
        "--lang",
        "en",
    ]);
    assert_eq!(
        text.trim(),
        "National commune ranking on 01/08/2026\n  1. 01961 (province 19)  100.00%  1 / 1 adults hold a certificate"
    );
    let r = json(&env.ok(&["--json", "federation", "ranking", "--coordinator-url", &coord, "--date", "2026-08-01"]));
    assert_eq!(r["communes"][0]["commune_code"], "01961", "{r}");
    assert_eq!((r["communes"][1]["holders"].as_i64(), r["communes"][1]["adults"].as_i64()), (Some(1), Some(2)), "{r}");
    assert_eq!(r["unavailable"].as_array().map(Vec::len), Some(0));

    // The register per province (adults 18+ on the day) and one person across the nation.
    let r = json(&env.ok(&["--json", "federation", "register", "--coordinator-url", &coord, "--date", "01/08/2026"]));
    assert_eq!(
        (r["residents"].as_i64(), r["adults"].as_i64(), r["holders"].as_i64()),
        (Some(3), Some(3), Some(0)),
        "{r}"
    );
    assert_eq!(r["provinces"][0]["code"], "19");
    assert_eq!(r["adults_born_by"], "2008-08-01");
    let text = env.ok(&["federation", "person", "--coordinator-url", &coord, "--id-number", "019190000001"]);
    assert!(text.starts_with("Số định danh 0191****0001\n  cư trú tại tỉnh 19, xã 01960, thôn T01\n"), "{text}");
    assert!(text.contains("danh sách nhà cung cấp VNPT-CA (tỉnh 19): cấp ngày 10/01/2026, active"), "{text}");
    assert!(!text.contains("019190000001"), "the ID number in full: {text}");
    let r =
        json(&env.ok(&["--json", "federation", "person", "--coordinator-url", &coord, "--id-number", "019190000001"]));
    assert_eq!(r["provider_list"][0]["issued_on"], "2026-01-10", "{r}");
    assert_eq!(r["id_number"], "0191****0001");
    let o = env.kyso(&["federation", "person", "--coordinator-url", &coord, "--id-number", "01919"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--id-number"));

    // The province's cluster stops: named unavailable, exit status 3.
    p19.stop();
    for (cmd, want) in [
        (["federation", "ranking", "--date", "2026-08-01"], "19  không có số liệu: tỉnh 19: không truy cập được"),
        (["federation", "register", "--date", "2026-08-01"], "toàn quốc (các tỉnh đã trả lời)  cư dân 0"),
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--coordinator-url", &coord]);
        let o = env.kyso(&args);
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(3), "{cmd:?}: {text}{}", String::from_utf8_lossy(&o.stderr));
        assert!(text.contains(want) && text.contains("19  không có số liệu"), "{cmd:?}: {text}");
    }
    // the roll-up: Vietnamese first, English on request
    let o = env.kyso(&["federation", "rollup", "--coordinator-url", &coord, "--date", "2026-08-01"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{text}{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.starts_with("Tổng hợp toàn quốc ngày 01/08/2026\n"), "{text}");
    assert!(text.contains("19  không có số liệu: tỉnh 19: không truy cập được"), "{text}");
    assert!(!text.contains("province 19"), "{text}");
    assert!(text.contains("toàn quốc (các tỉnh đã trả lời)  người trưởng thành 0  có chứng thư số 0"), "{text}");
    let o = env.kyso(&["federation", "rollup", "--coordinator-url", &coord, "--date", "2026-08-01", "--lang", "en"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{text}{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("19  unavailable: province 19: its database cannot be reached"), "{text}");
    assert!(text.contains("nation (provinces that answered)  adults 0  holders 0"), "{text}");
    // the refresh keeps the earlier copy and says so; the copy still answers
    let o = env.kyso(&["federation", "refresh", "--coordinator-url", &coord, "--date", "2026-08-01"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("19  không có số liệu (giữ bản chép trước): tỉnh 19"));
    let o = env.kyso(&["federation", "refresh", "--coordinator-url", &coord, "--date", "2026-08-01", "--lang", "en"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("19  unavailable (its earlier copy kept): province 19"));
    let text = env.ok(&["federation", "rollup", "--coordinator-url", &coord, "--date", "2026-08-01", "--copy"]);
    assert!(
        text.contains("bản chép ở máy điều phối")
            && text.contains("toàn quốc  người trưởng thành 3  có chứng thư số 2  66,67 %"),
        "{text}"
    );
    let text = env.ok(&[
        "federation",
        "rollup",
        "--coordinator-url",
        &coord,
        "--date",
        "2026-08-01",
        "--copy",
        "--lang",
        "en",
    ]);
    assert!(text.contains("the coordinator's copy") && text.contains("nation  adults 3  holders 2  66.67%"), "{text}");
    p19.start().unwrap();
    env.ok(&["federation", "detach", "--coordinator-url", &coord, "--province", "19"]);
}
