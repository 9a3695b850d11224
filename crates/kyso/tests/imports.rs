//! Imports as communes receive them: the police register and telecom providers' certificate lists,
//! as CSV or XLSX with Vietnamese headers; every bad row named, the good ones kept, re-imports
//! idempotent; provider-list certificates counted exactly like kyso's own; the worklist as XLSX.
//! On SQLite and PostgreSQL.

mod support;

use kyso_xlsx::{Cell, Column, Value, Workbook, Writer, Ymd};
use serde_json::Value as Json;
use support::{http, http_with, on_both_backends, Backend, Env};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01960,T02,Xóm Ba Họ\n\
30856,A1,Ấp Hòa Long\n";

const AN: &str = "019190000001";
const BINH: &str = "019085000002";
const CHI: &str = "089195000003";
const DUNG: &str = "019080000006";

fn json(out: &str) -> Json {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn rows_of(v: &Json, list: &str) -> Vec<(u64, String)> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v}"))
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn masked(id: &str) -> String {
    format!("{}****{}", &id[..4], &id[8..])
}

fn ymd(y: i32, m: u8, d: u8) -> Ymd {
    Ymd::new(y, m, d).unwrap()
}

fn holders(env: &Env, commune: &str, date: &str) -> u64 {
    let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", commune, "--date", date]));
    v["holders"].as_u64().unwrap()
}

/// A register spanning two communes, headers in upper case and without diacritics, no household
/// column, a hamlet named instead of coded, dates as date cells and as text.
fn register_xlsx() -> Vec<u8> {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let cols: Vec<Column> = ["SỐ ĐỊNH DANH", "Ho va ten", "Ngày sinh", "GIOI TINH", "Thôn", "Mã xã"]
        .into_iter()
        .map(|h| Column::new(h, 16.0))
        .collect();
    w.add_sheet("Dân cư", &cols).unwrap();
    let t = Cell::Text;
    let rows: [[Cell; 6]; 9] = [
        [t(AN), t("Nguyễn Thị An"), Cell::Date(ymd(1990, 3, 15)), t("Nữ"), t("T01"), t("01960")],
        [t(BINH), t("Trần Văn Bình"), t("01/12/1985"), t("Nam"), t("xóm ba họ"), t("01960")],
        [t(CHI), t("Lê Thị Chi"), Cell::Date(ymd(1995, 2, 2)), t("nu"), t("A1"), t("30856")],
        [Cell::Int(19_190_000_009), t("Mất Số 0"), Cell::Date(ymd(1990, 1, 1)), t("Nữ"), t("T01"), t("01960")],
        [t("019085000004"), t("Sai Ngày"), t("31/02/1985"), t("Nam"), t("T01"), t("01960")],
        [t("019080000005"), t("Lạ Thôn"), t("01/01/1980"), t("Nam"), t("T09"), t("01960")],
        [t(AN), t("Trùng"), Cell::Date(ymd(1990, 3, 15)), t("Nữ"), t("T01"), t("01960")],
        [t(DUNG), t("Phạm Văn Dũng"), Cell::Date(ymd(1980, 9, 9)), t("Nam"), t("T02"), t("01960")],
        [t("019085000007"), t("Lạ Xã"), t("01/01/1985"), t("Nam"), t("T01"), t("99999")],
    ];
    for r in &rows {
        w.write_row(r).unwrap();
    }
    w.finish().unwrap().into_inner()
}

on_both_backends!(
    register_xlsx_names_every_bad_row_and_reimports_idempotently,
    register_csv_with_a_bom_needs_its_commune,
    provider_list_csv_counts_like_kyso_certificates,
    provider_list_xlsx_with_title_rows_counts_a_holder_once,
    own_issuance_and_a_later_revocation_list_count,
    worklist_xlsx_from_the_cli_and_the_page,
    conflicting_provider_rows_are_reported_and_the_earlier_end_counts,
    eid_level2_list_names_bad_rows_counts_coverage_and_says_what_each_needs,
    first_signature_worklist_lists_holders_who_never_signed,
);

/// The steps of the imports, in the order a commune receives them; each case runs the steps
/// before its own with [`after`], then its own with its checks.
const STEPS: [fn(&Env) -> String; 6] = [register, register_csv, vnpt_list, viettel_list, own_issuance, revocation_list];

/// A fresh env with the units and hamlets, then the first `n` [`STEPS`].
fn after(b: Backend, n: usize) -> Option<Env> {
    let env = Env::on("imports", b)?;
    env.init();
    std::fs::write(env.path("units.csv"), UNITS).unwrap();
    std::fs::write(env.path("hamlets.csv"), HAMLETS).unwrap();
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    for step in &STEPS[..n] {
        step(&env);
    }
    Some(env)
}

/// The register: XLSX over two communes.
fn register(env: &Env) -> String {
    // Saved without an extension: recognised by its content.
    std::fs::write(env.path("register-export"), register_xlsx()).unwrap();
    env.ok(&["--json", "campaign", "import-register", "register-export"])
}

/// The register as CSV with a BOM, for one commune (`--commune`); household present.
fn register_csv(env: &Env) -> String {
    let csv = format!(
        "\u{feff}Số CCCD,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\r\n\
         {AN},Nguyễn Thị An,15/03/1990,Nữ,T01,H9\r\n019192000008,Đỗ Thị Mới,08/08/1992,Nữ,T01,H9\r\n"
    );
    std::fs::write(env.path("register.csv"), csv).unwrap();
    env.ok(&["--json", "campaign", "import-register", "register.csv", "--commune", "01960"])
}

const VNPT_ARGS: [&str; 8] =
    ["--json", "campaign", "import-provider-list", "vnpt.csv", "--provider", "VNPT-CA", "--as-of", "2026-11-01"];

/// A provider list, CSV, provider named by flag.
fn vnpt_list(env: &Env) -> String {
    let list = format!(
        "Số định danh,Ngày cấp,Ngày hết hạn,Trạng thái\n\
         {AN},05/01/2026,,Hoạt động\n\
         {BINH},06/01/2026,01/06/2026,\n\
         {DUNG},07/01/2026,,Thu hồi\n\
         {AN},05/01/2026,,Hoạt động\n\
         019199999999,05/01/2026,,\n\
         0191900000AB,05/01/2026,,\n\
         {CHI},31/02/2026,,\n"
    );
    std::fs::write(env.path("vnpt.csv"), &list).unwrap();
    env.ok(&VNPT_ARGS)
}

/// A second provider's list, XLSX, provider as a column, dates as date cells.
fn viettel_list(env: &Env) -> String {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    // A title row and a blank row above the header, as providers' exports often have.
    let cols: Vec<Column> =
        ["DANH SÁCH CHỨNG THƯ SỐ ĐÃ CẤP", "", "", ""].into_iter().map(|h| Column::new(h, 14.0)).collect();
    w.add_sheet("Viettel", &cols).unwrap();
    w.write_row(&[]).unwrap();
    w.write_row(&["Số CCCD", "Nhà cung cấp", "Ngày cấp", "Ngày hết hạn"].map(Cell::Text)).unwrap();
    w.write_row(&[
        Cell::Text(DUNG),
        Cell::Text("Viettel-CA"),
        Cell::Date(ymd(2026, 2, 1)),
        Cell::Date(ymd(2027, 2, 1)),
    ])
    .unwrap();
    w.write_row(&[Cell::Text(AN), Cell::Text("Viettel-CA"), Cell::Date(ymd(2026, 3, 1))]).unwrap();
    std::fs::write(env.path("viettel.xlsx"), w.finish().unwrap().into_inner()).unwrap();
    env.ok(&["--json", "campaign", "import-provider-list", "viettel.xlsx"])
}

/// kyso's own issuance on top: An's third certificate, Chi's in Tân Hội.
fn own_issuance(env: &Env) -> String {
    env.issue(AN, "vnpt", &[]);
    env.issue(CHI, "viettel", &[]);
    String::new()
}

/// A later list revokes Dũng's Viettel certificate on 10 November.
fn revocation_list(env: &Env) -> String {
    std::fs::write(
        env.path("viettel-revoked.csv"),
        format!("cccd,nha_cung_cap,ngay_cap,ngay_het_han,trang_thai,ngay_thu_hoi\n{DUNG},viettel-ca,01/02/2026,01/02/2027,Đã thu hồi,10/11/2026\n"),
    )
    .unwrap();
    env.ok(&["--json", "campaign", "import-provider-list", "viettel-revoked.csv"])
}

/// The audit chain holds after the case's steps.
fn audit_intact(env: &Env) {
    let v = json(&env.ok(&["--json", "audit", "verify"]));
    assert_eq!(v["ok"], true, "{v}");
}

/// Every bad row of the XLSX register named; re-import updates, never duplicates.
fn register_xlsx_names_every_bad_row_and_reimports_idempotently(b: Backend) {
    let Some(env) = after(b, 0) else { return };
    let out = register(&env);
    let v = json(&out);
    assert_eq!(
        (v["rows"].as_u64(), v["imported"].as_u64(), v["inserted"].as_u64()),
        (Some(9), Some(4), Some(4)),
        "{v}"
    );
    assert_eq!(
        rows_of(&v, "rejected"),
        [
            (5, "id_number".into()),
            (6, "date_of_birth".into()),
            (7, "hamlet_code".into()),
            (8, "id_number".into()),
            (10, "commune_code".into())
        ]
    );
    let reasons: Vec<&str> = v["rejected"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("leading 0 lost"), "{reasons:?}");
    assert_eq!(reasons[3], format!("{} is a duplicate of row 2", masked(AN)));
    assert!(!out.contains(AN) && !out.contains(BINH), "a clear ID number in the report: {out}");
    // Re-import of the same file: never duplicates, and the rows are said unchanged, not updated.
    let v = json(&env.ok(&["--json", "campaign", "import-register", "register-export"]));
    assert_eq!(
        (v["inserted"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()),
        (Some(0), Some(0), Some(4)),
        "{v}"
    );
    let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", "30856"]));
    assert_eq!(v["residents"], 1, "{v}");
    audit_intact(&env);
}

fn register_csv_with_a_bom_needs_its_commune(b: Backend) {
    let Some(env) = after(b, 1) else { return };
    let v = json(&register_csv(&env));
    assert_eq!(
        (v["inserted"].as_u64(), v["updated"].as_u64(), v["rejected"].as_array().map(Vec::len)),
        (Some(1), Some(1), Some(0))
    );
    // Without a commune column, --commune is needed: the header row says so and nothing is imported.
    let o = env.kyso(&["--json", "campaign", "import-register", "register.csv"]);
    assert!(!o.status.success());
    let v = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(rows_of(&v, "rejected"), [(1, "commune_code".into())]);
    let text = env.ok(&["campaign", "import-register", "register.csv", "--commune", "01960"]);
    assert!(text.starts_with("register 01960: imported 2 (new 0, updated 0, unchanged 2), rejected 0"), "{text}");
    audit_intact(&env);
}

/// Bad rows named, unmatched and duplicate rows counted, re-import idempotent; adoption counts
/// the list's certificates (Bình's expires on 1 June, Dũng's is revoked as of the list's date).
fn provider_list_csv_counts_like_kyso_certificates(b: Backend) {
    let Some(env) = after(b, 2) else { return };
    let out = vnpt_list(&env);
    let v = json(&out);
    assert_eq!(
        (v["rows"].as_u64(), v["certificates"].as_u64(), v["inserted"].as_u64()),
        (Some(7), Some(4), Some(4)),
        "{v}"
    );
    assert_eq!(rows_of(&v, "unmatched"), [(6, "id_number".into())]);
    assert_eq!(rows_of(&v, "duplicates"), [(5, String::new())]);
    assert_eq!(rows_of(&v, "rejected"), [(7, "id_number".into()), (8, "issue_date".into())]);
    assert!(!out.contains("019199999999") && out.contains("0191****9999"), "{out}");
    // Idempotent.
    let v = json(&env.ok(&VNPT_ARGS));
    assert_eq!(
        (v["inserted"].as_u64(), v["changed"].as_u64(), v["unchanged"].as_u64()),
        (Some(0), Some(0), Some(4)),
        "{v}"
    );

    // Adoption counts them: Bình's expires on 1 June, Dũng's is revoked as of the list's date.
    assert_eq!(holders(&env, "01960", "2026-01-04"), 0);
    assert_eq!(holders(&env, "01960", "2026-05-31"), 3);
    assert_eq!(holders(&env, "01960", "2026-06-01"), 2, "expiry day no longer counts");
    assert_eq!(holders(&env, "01960", "2026-10-31"), 2);
    assert_eq!(holders(&env, "01960", "2026-11-01"), 1, "revocation day no longer counts");
    audit_intact(&env);
}

/// A title row and a blank row above the header, as providers' exports often have.
fn provider_list_xlsx_with_title_rows_counts_a_holder_once(b: Backend) {
    let Some(env) = after(b, 3) else { return };
    let v = json(&viettel_list(&env));
    assert_eq!((v["certificates"].as_u64(), v["inserted"].as_u64()), (Some(2), Some(2)), "{v}");
    assert_eq!(v["rejected"].as_array().map(Vec::len), Some(0), "{v}");
    // An holds two listed certificates and still counts once; Dũng counts again through Viettel.
    assert_eq!(holders(&env, "01960", "2026-11-01"), 2);
    audit_intact(&env);
}

/// An now holds three certificates, still one holder; Chi counts in Tân Hội. A later list's
/// revocation stops counting that day; the same list quoted (streaming parser) changes nothing.
fn own_issuance_and_a_later_revocation_list_count(b: Backend) {
    let Some(env) = after(b, 4) else { return };
    own_issuance(&env);
    let today = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960"]));
    assert_eq!(today["holders"], 2, "{today}");
    assert_eq!(json(&env.ok(&["--json", "campaign", "progress", "--commune", "30856"]))["holders"], 1);

    let v = json(&revocation_list(&env));
    assert_eq!((v["inserted"].as_u64(), v["changed"].as_u64()), (Some(0), Some(1)), "{v}");
    assert_eq!(holders(&env, "01960", "2026-11-09"), 2);
    assert_eq!(holders(&env, "01960", "2026-11-10"), 1);
    // The same list with quoted fields and a CRLF takes the streaming parser: the same rows, nothing new.
    std::fs::write(
        env.path("viettel-quoted.csv"),
        format!("cccd,nha_cung_cap,ngay_cap,ngay_het_han,trang_thai,ngay_thu_hoi\r\n\"{DUNG}\",\"Viettel-CA\",01/02/2026,01/02/2027,\"Đã thu hồi\",10/11/2026\r\n"),
    )
    .unwrap();
    let v = json(&env.ok(&["--json", "campaign", "import-provider-list", "viettel-quoted.csv"]));
    assert_eq!((v["rows"].as_u64(), v["unchanged"].as_u64()), (Some(1), Some(1)), "{v}");
    audit_intact(&env);
}

/// The worklist as XLSX: Bình (expired) and Dũng (revoked) in Xóm Ba Họ, masked; the same list
/// from the worklist page's "Tải XLSX" link, for staff only.
fn worklist_xlsx_from_the_cli_and_the_page(b: Backend) {
    let Some(env) = after(b, STEPS.len()) else { return };
    let out = env.ok(&["campaign", "worklist", "--commune", "01960", "--hamlet", "T02", "--xlsx", "t02.xlsx"]);
    assert!(out.contains("t02.xlsx"), "{out}");
    let bytes = std::fs::read(env.path("t02.xlsx")).unwrap();
    let mut book = Workbook::open(std::io::Cursor::new(bytes)).unwrap();
    let rows: Vec<Vec<String>> = book.rows(None).unwrap().map(|r| r.unwrap().texts()).collect();
    assert_eq!(rows[0][..3], ["Hộ".to_string(), "Số định danh (đã che)".into(), "Họ và tên".into()], "{rows:?}");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    let mut expected = vec![masked(BINH), masked(DUNG)];
    expected.sort();
    let mut got: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(rows.iter().flatten().all(|c| !c.contains(BINH) && !c.contains(DUNG)));
    assert!(matches!(book.rows(None).unwrap().next().unwrap().unwrap().cells[0], Value::Text(_)));

    // The same list from the worklist page's "Tải XLSX" link.
    let server = env.serve();
    let page = format!("{}/campaign/worklist?commune=01960&hamlet=T02", env.base_url());
    let cookie = support::officer_cookie(&env, "01960");
    let (status, body) = http_with("GET", &page, None, &[("Cookie", &cookie)], &[]).unwrap();
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("/campaign/worklist.xlsx?commune=01960&amp;hamlet=T02&amp;date=") && body.contains("Tải XLSX")
    );
    let url = format!("{}/campaign/worklist.xlsx?commune=01960&hamlet=T02", env.base_url());
    let (status, _) = http("GET", &url, None, &[]).unwrap();
    assert_eq!(status, 303, "the XLSX worklist is for staff only");
    let (status, bytes) = http_with("GET", &url, None, &[("Cookie", &cookie)], &[]).unwrap();
    assert_eq!(status, 200);
    let mut book = Workbook::open(std::io::Cursor::new(bytes)).unwrap();
    let web: Vec<Vec<String>> = book.rows(None).unwrap().map(|r| r.unwrap().texts()).collect();
    assert_eq!(web, rows);
    let (status, _) = http_with(
        "GET",
        &format!("{}/campaign/worklist.xlsx?commune=01960&hamlet=T99", env.base_url()),
        None,
        &[("Cookie", &cookie)],
        &[],
    )
    .unwrap();
    assert_eq!(status, 404);
    drop(server);
    audit_intact(&env);
}

/// Two rows of one certificate (ID number, provider, issue date) that disagree: a conflict naming
/// both rows, not a duplicate, and the row that says revoked is believed.
fn conflicting_provider_rows_are_reported_and_the_earlier_end_counts(b: Backend) {
    let Some(env) = after(b, 2) else { return };
    let list = format!(
        "cccd,nha_cung_cap,ngay_cap,ngay_het_han,trang_thai,ngay_thu_hoi\n\
         {AN},FPT-CA,05/01/2026,05/01/2027,Hoạt động,\n\
         {DUNG},FPT-CA,05/01/2026,05/01/2027,,\n\
         {AN},FPT-CA,05/01/2026,05/01/2027,Thu hồi,01/06/2026\n\
         {DUNG},FPT-CA,05/01/2026,05/01/2027,Hoạt động,\n"
    );
    std::fs::write(env.path("fpt.csv"), list).unwrap();
    let args = ["--json", "campaign", "import-provider-list", "fpt.csv", "--as-of", "2026-11-01"];
    let v = json(&env.ok(&args));
    assert_eq!(v["certificates"].as_u64(), Some(2), "{v}");
    assert_eq!(rows_of(&v, "duplicates"), [(5, String::new())]);
    assert_eq!(rows_of(&v, "conflicts"), [(4, String::new())]);
    let reason = v["conflicts"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("row 2 says expiry 2027-01-05, status active")
            && reason.contains("row 4 says expiry 2027-01-05, status revoked, ended 2026-06-01"),
        "{reason}"
    );
    // the text output names the conflict too
    let text = env.ok(&args[1..]);
    assert!(text.contains("1 duplicates, 1 conflicts") && text.contains("conflicts with row 2"), "{text}");
    assert!(!text.contains(AN), "{text}");
    // An's FPT certificate ends on 1 June, as the second row says; Dũng's still counts.
    assert_eq!(holders(&env, "01960", "2026-05-31"), 2);
    assert_eq!(holders(&env, "01960", "2026-06-01"), 1, "the revoked row's end counts");
    audit_intact(&env);
}

/// The police's level-2 list, CSV with a title row then XLSX: bad rows named by file line, STT
/// and field, the rest kept (one not in the register too), re-import idempotent; the coverage
/// of level 2 among adults; worklist lines saying what each person needs next, filtered by it.
fn eid_level2_list_names_bad_rows_counts_coverage_and_says_what_each_needs(b: Backend) {
    let Some(env) = after(b, 2) else { return };
    let list = format!(
        "Danh sách công dân đã định danh điện tử mức 2\n\
         STT,Số CCCD,Họ tên,Mức độ định danh,Ngày kích hoạt\n\
         1,{AN},Nguyễn Thị An,Mức 2,05/01/2026\n\
         2,{BINH},,2,\n\
         3,01919000000,,2,\n\
         4,{DUNG},,Mức 3,\n\
         5,{AN},,Mức 2,\n\
         6,019199999999,,Mức 2,31/12/2025\n"
    );
    std::fs::write(env.path("eid.csv"), list).unwrap();
    let args = ["--json", "campaign", "import-eid-level2", "eid.csv"];
    let v = json(&env.ok(&args));
    assert_eq!(
        (v["rows"].as_u64(), v["imported"].as_u64(), v["inserted"].as_u64()),
        (Some(6), Some(3), Some(3)),
        "{v}"
    );
    assert_eq!(rows_of(&v, "rejected"), [(5, "id_number".into()), (6, "level".into()), (7, "id_number".into())]);
    let stts: Vec<_> =
        v["rejected"].as_array().unwrap().iter().map(|r| r["stt"].as_str().unwrap().to_string()).collect();
    assert_eq!(stts, ["3", "4", "5"]);
    assert_eq!(v["rejected"][2]["reason"], format!("{} is a duplicate of row 3", masked(AN)));
    let v = json(&env.ok(&args));
    assert_eq!(
        (v["inserted"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()),
        (Some(0), Some(0), Some(3)),
        "{v}"
    );

    // Level 2 among Hiệp Lực's four adults: An and Bình (the unknown ID number counts nowhere).
    let p = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960", "--date", "2026-11-01"]));
    assert_eq!(p["eid_level2"], serde_json::json!({"adults": 4, "level2": 2, "share": "50.00 %"}), "{p}");
    let text = env.ok(&["campaign", "progress", "--commune", "01960", "--date", "2026-11-01"]);
    assert!(text.contains("level-2 e-ID: 2 of 4 adults"), "{text}");

    // Xóm Ba Họ: Bình has level 2 and needs a certificate, Dũng needs level 2 at the police first.
    let need = |filter: Option<&str>| -> Vec<(String, String)> {
        let mut a =
            vec!["--json", "campaign", "worklist", "--commune", "01960", "--hamlet", "T02", "--date", "2026-11-01"];
        a.extend(filter.map(|f| ["--need", f]).into_iter().flatten());
        let v = json(&env.ok(&a));
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id_masked"].as_str().unwrap().into(), e["need"].as_str().unwrap_or("").into()))
            .collect()
    };
    let mut all = need(None);
    all.sort();
    let mut expected = vec![(masked(BINH), "certificate".to_string()), (masked(DUNG), "level2".to_string())];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(need(Some("level2")), [(masked(DUNG), "level2".to_string())]);
    assert_eq!(need(Some("certificate")), [(masked(BINH), "certificate".to_string())]);
    assert!(need(Some("first-signature")).is_empty(), "nobody holds a certificate yet");
    let text = env.ok(&["campaign", "worklist", "--commune", "01960", "--hamlet", "T02", "--date", "2026-11-01"]);
    assert!(text.contains("cần định danh mức 2 tại Công an") && text.contains("cần chứng thư số"), "{text}");
    let o = env.kyso(&["campaign", "worklist", "--commune", "01960", "--hamlet", "T02", "--need", "soon"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--need"));

    // A later list as XLSX, ID column only: Dũng now has level 2.
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    w.add_sheet("Mức 2", &[Column::new("Số định danh", 16.0)]).unwrap();
    w.write_row(&[Cell::Text(DUNG)]).unwrap();
    std::fs::write(env.path("eid.xlsx"), w.finish().unwrap().into_inner()).unwrap();
    let v = json(&env.ok(&["--json", "campaign", "import-eid-level2", "eid.xlsx"]));
    assert_eq!((v["imported"].as_u64(), v["inserted"].as_u64()), (Some(1), Some(1)), "{v}");
    let p = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960", "--date", "2026-11-01"]));
    assert_eq!(p["eid_level2"]["share"], "75.00 %", "{p}");
    assert!(need(Some("level2")).is_empty());

    // The month's report figures carry it (they add up across units like the other counts).
    let r = json(&env.ok(&[
        "--json",
        "campaign",
        "report",
        "show",
        "--unit",
        "01960",
        "--freq",
        "monthly",
        "--period",
        "2026-10-01",
    ]));
    assert_eq!((r["figures"]["eid_level2"].as_u64(), r["figures"]["adults"].as_u64()), (Some(3), Some(4)), "{r}");

    // The worklist page says it too, filtered by need; an unknown need is refused by name.
    let server = env.serve();
    let cookie = support::officer_cookie(&env, "01960");
    let url = format!("{}/campaign/worklist?commune=01960&hamlet=T02&date=2026-11-01&need=certificate", env.base_url());
    let (status, body) = http_with("GET", &url, None, &[("Cookie", &cookie)], &[]).unwrap();
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("cần chứng thư số") && body.contains(&masked(DUNG)) && body.contains(&masked(BINH)),
        "{body}"
    );
    // The province's ranking: its level-2 coverage, and each commune's, against the adults of the
    // day's snapshots (as the ranking's own figures).
    env.ok(&["campaign", "adoption", "--refresh", "--date", "2026-11-01"]);
    let url = format!("{}/campaign/ranking?province=19&date=2026-11-01", env.base_url());
    let (status, body) = http("GET", &url, None, &[]).unwrap();
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Định danh điện tử mức 2") && body.contains("<strong>3</strong> / 4"), "{body}");
    let url = format!("{}/campaign/worklist?commune=01960&hamlet=T02&need=soon", env.base_url());
    let (status, body) = http_with("GET", &url, None, &[("Cookie", &cookie)], &[]).unwrap();
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    drop(server);
    audit_intact(&env);
}

/// `--need first-signature`: the hamlet's holders who never signed (An holds kyso's and the
/// providers' certificates and has not signed), each line saying so; nobody else.
fn first_signature_worklist_lists_holders_who_never_signed(b: Backend) {
    let Some(env) = after(b, 5) else { return };
    let args = ["--json", "campaign", "worklist", "--commune", "01960", "--hamlet", "T01", "--need", "first-signature"];
    let v = json(&env.ok(&args));
    let lines: Vec<(&str, &str)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id_masked"].as_str().unwrap(), e["need_text"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(masked(AN).as_str(), "cần ký số lần đầu")], "{v}");
    // the ordinary list of the hamlet does not have An (a holder)
    let v = json(&env.ok(&args[..7]));
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["id_masked"] != masked(AN).as_str()), "{v}");
}
