//! Reports end to end on both backends: communes submit weekly and monthly reports (on time, late,
//! missing), the province rolls them up and reports to the ministry, completeness and timeliness
//! per period, the report pages and form, the task register with overdue flags, staff lists and
//! segment targets.

mod support;

use serde_json::Value;
use support::{http, Backend, Env};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,01849,Xã Phong Quang,Xã,22.2038,105.756,153.46\n\
19,Tỉnh Thái Nguyên,01864,Xã Bằng Thành,Xã,22.6576,105.671,208.22\n\
19,Tỉnh Thái Nguyên,01840,Phường Đức Xuân,Phường,22.1658,105.85,34.46\n\
91,Tỉnh An Giang,30292,Phường Bình Đức,Phường,10.3966,105.399,28.23\n\
33,Tỉnh Hưng Yên,11953,Phường Phố Hiến,Phường,20.6634,106.068,21.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01849,T01,Thôn Một\n";

const AN: &str = "019190000001";
const BINH: &str = "019085000002";
const HIEP_LUC: &str = "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
019190000001,Nguyễn Thị An,15/03/1990,Nữ,T01,1\n\
019085000002,Trần Văn Bình,1985-12-01,Nam,T01,1\n\
019195000003,Lê Thị Chi,02/02/1995,Nữ,T01,2\n\
019215000005,Lê Văn Nhỏ,01/06/2015,Nam,T01,2\n";
const PHONG_QUANG: &str = "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
019080000011,Phạm Văn Một,09/09/1980,Nam,T01,1\n\
019181000012,Phạm Thị Hai,09/09/1981,Nữ,T01,1\n";

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn plan(env: &Env, unit: &str) {
    env.ok(&[
        "campaign",
        "plan",
        "add",
        "--unit",
        unit,
        "--period",
        "2026",
        "--min-age",
        "15",
        "--reference-date",
        "2026-01-01",
        "--target",
        "63.80%",
        "--kind",
        "unknown",
        "--baseline-count",
        "1",
        "--baseline-date",
        "2025-12-31",
        "--baseline-source",
        "Phụ lục I",
        "--deadline",
        "2026-10-31",
        "--milestone",
        "2026-07-31=35%",
    ]);
}

fn submit(env: &Env, unit: &str, freq: &str, period: &str, at: &str) -> Value {
    json(&env.ok(&[
        "--json",
        "campaign",
        "report",
        "submit",
        "--unit",
        unit,
        "--freq",
        freq,
        "--period",
        period,
        "--by",
        "Nguyễn Văn Báo, Phó Chủ tịch",
        "--difficulties",
        "Người dân đi làm xa",
        "--proposals",
        "Tăng điểm hỗ trợ thứ Bảy",
        "--at",
        at,
    ]))
}

fn rows(v: &Value) -> Vec<(String, String)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["unit"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn read_xlsx(path: &std::path::Path) -> Vec<Vec<String>> {
    let file = std::fs::File::open(path).unwrap();
    let mut book = kyso_xlsx::Workbook::open(std::io::BufReader::new(file)).unwrap();
    book.rows(None).unwrap().map(|r| r.unwrap().texts()).collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn reports_roll_up_sqlite() {
    reports_end_to_end(Env::new("reports"));
}

#[test]
fn reports_roll_up_postgres() {
    if let Some(env) = Env::with_backend("reports", Backend::Postgres) {
        reports_end_to_end(env);
    }
}

fn reports_end_to_end(env: Env) {
    env.init();
    for (file, text) in [("units.csv", UNITS), ("hamlets.csv", HAMLETS), ("hl.csv", HIEP_LUC), ("pq.csv", PHONG_QUANG)]
    {
        std::fs::write(env.path(file), text).unwrap();
    }
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "hl.csv", "--commune", "01960"]);
    env.ok(&["campaign", "import-register", "pq.csv", "--commune", "01849"]);
    // Three communes of Thái Nguyên and one of An Giang take part; Đức Xuân has no plan.
    for unit in ["01960", "01849", "01864", "30292"] {
        plan(&env, unit);
    }
    env.issue(AN, "vnpt", &[]);
    env.issue(BINH, "viettel", &[]);
    // Visits in the week of 30 Jul – 5 Aug 2026, one outside it.
    for (date, outcome) in [("2026-07-31", "not-at-home"), ("2026-08-05", "refused"), ("2026-08-06", "not-at-home")] {
        env.ok(&["campaign", "visit", "--id", "019195000003", "--outcome", outcome, "--team", "Tổ 1", "--date", date]);
    }

    // The figures pre-fill from live data: 3 adults (the child is not one), the two holders today.
    let today = json(&env.ok(&["--json", "campaign", "report", "show", "--unit", "01960", "--freq", "monthly"]));
    assert_eq!(today["figures"]["adults"], 3, "{today}");
    let week = json(&env.ok(&[
        "--json",
        "campaign",
        "report",
        "show",
        "--unit",
        "01960",
        "--freq",
        "weekly",
        "--period",
        "30/07/2026",
    ]));
    assert_eq!(week["period"]["label"], "Tuần 30/07–05/08/2026");
    assert_eq!(week["period"]["due"], "2026-08-06 10:00");
    let f = &week["figures"];
    assert_eq!((f["adults"].as_u64(), f["holders"].as_u64()), (Some(3), Some(0)), "{week}");
    // 63.80 % of 3 adults: 2 as a level, 1 + 2 as an increment; 35 % by 31 Jul has passed, no milestone after.
    assert_eq!((f["target_level"].as_u64(), f["target_increment"].as_u64()), (Some(2), Some(3)));
    assert_eq!((f["visits.not-at-home"].as_u64(), f["visits.refused"].as_u64()), (Some(1), Some(1)));
    assert_eq!(f["visits_total"], 2);

    // Hiệp Lực on time (09:59), Phong Quang late (10:05, then a correction), Bằng Thành missing,
    // Bình Đức (An Giang) on time for its own province.
    let v = submit(&env, "01960", "weekly", "2026-07-30", "2026-08-06 09:59");
    assert_eq!(v["status"], "on_time", "{v}");
    let v = submit(&env, "01849", "weekly", "2026-07-30", "2026-08-06 10:05");
    assert_eq!((v["status"].as_str(), v["late_minutes"].as_i64()), (Some("late"), Some(5)), "{v}");
    submit(&env, "01849", "weekly", "2026-07-30", "2026-08-07 08:00");
    submit(&env, "30292", "weekly", "2026-07-30", "2026-08-06 08:00");
    // A period that has not ended cannot be reported; an unknown unit neither; a week starts on Thursday.
    let o = env.kyso(&[
        "campaign",
        "report",
        "submit",
        "--unit",
        "01960",
        "--period",
        "2026-07-30",
        "--by",
        "X",
        "--at",
        "2026-08-05 20:00",
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("has not ended"));
    let o = env.kyso(&[
        "campaign",
        "report",
        "submit",
        "--unit",
        "01960",
        "--period",
        "2026-07-30",
        "--by",
        "X",
        "--at",
        "2999-01-01 09:00",
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("future"));
    let o = env.kyso(&["campaign", "report", "submit", "--unit", "09999", "--period", "2026-07-30", "--by", "X"]);
    assert!(!o.status.success());
    let o = env.kyso(&["campaign", "report", "show", "--unit", "01960", "--period", "2026-07-31"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("Thursday"));

    // The province's roll-up: one row per commune with a plan, the sums of what they submitted.
    let roll = json(&env.ok(&["--json", "campaign", "report", "rollup", "--unit", "19", "--period", "2026-07-30"]));
    assert_eq!(rows(&roll), [pair("01849", "late"), pair("01864", "missing"), pair("01960", "on_time")], "{roll}");
    assert_eq!(
        (roll["expected"].as_u64(), roll["on_time"].as_u64(), roll["late"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(roll["total"]["adults"], 3 + 2, "{roll}");
    assert_eq!(roll["total"]["visits_total"], 2);
    assert_eq!(roll["rows"][0]["at"], "2026-08-06 10:05", "the first submission decides timeliness");

    // The roll-up and a report as XLSX, read back by kyso-xlsx and, where installed, by openpyxl.
    env.ok(&["campaign", "report", "rollup", "--unit", "19", "--period", "2026-07-30", "--xlsx", "roll.xlsx"]);
    env.ok(&["campaign", "report", "show", "--unit", "01960", "--period", "2026-07-30", "--xlsx", "hl.xlsx"]);
    let sheet = read_xlsx(&env.path("roll.xlsx"));
    assert_eq!(sheet[0][..3], ["Mã đơn vị", "Đơn vị", "Tình trạng"]);
    assert_eq!(sheet[1][..5], ["01849", "Xã Phong Quang", "Trễ hạn", "2026-08-06 10:05", "5"], "{sheet:?}");
    assert_eq!(sheet[2][..3], ["01864", "Xã Bằng Thành", "Chưa nộp"]);
    assert_eq!(sheet[3][2], "Đúng hạn");
    assert_eq!((sheet[4][0].as_str(), sheet[4][2].as_str(), sheet[4][5].as_str()), ("Tổng", "2/3 đã nộp", "5"));
    let report = read_xlsx(&env.path("hl.xlsx"));
    let value = |k: &str| report.iter().find(|r| r[0] == k).map(|r| r[1].clone());
    assert_eq!(value("Kỳ báo cáo").as_deref(), Some("Tuần 30/07–05/08/2026"));
    assert_eq!(value("Người trong độ tuổi").as_deref(), Some("3"));
    assert_eq!(value("Khó khăn, vướng mắc").as_deref(), Some("Người dân đi làm xa"));
    if let Some(text) = support::openpyxl_text(&env.path("roll.xlsx")) {
        assert!(text.contains("Xã Phong Quang") && text.contains("Tình trạng"), "{text}");
    }

    // The province reports to the ministry with its roll-up as figures; An Giang's province is missing.
    let v = submit(&env, "19", "weekly", "2026-07-30", "2026-08-06 15:00");
    assert_eq!(v["figures"]["adults"], 5, "{v}");
    let national = json(&env.ok(&["--json", "campaign", "report", "rollup", "--unit", "VN", "--period", "2026-07-30"]));
    assert_eq!(rows(&national), [pair("19", "late"), pair("91", "missing")], "{national}");
    assert_eq!(national["total"]["adults"], 5);

    // Completeness and timeliness over three weeks: the two earlier weeks had no report at all.
    let c = json(&env.ok(&[
        "--json",
        "campaign",
        "report",
        "completeness",
        "--unit",
        "19",
        "--period",
        "2026-07-30",
        "--count",
        "3",
    ]));
    let periods = c["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!((periods[0]["expected"].as_u64(), periods[0]["on_time"].as_u64()), (Some(3), Some(1)));
    assert_eq!(periods[0]["completeness"].as_f64().map(|x| (x * 100.0).round()), Some(67.0));
    assert_eq!(periods[0]["missing_units"], serde_json::json!(["01864"]));
    assert_eq!(periods[1]["period"]["start"], "2026-07-23");
    assert_eq!(periods[1]["missing"], 3);

    // Monthly: due before the 20th, to the minute.
    let v = submit(&env, "01960", "monthly", "2026-07-01", "2026-08-19 23:59");
    assert_eq!(v["status"], "on_time");
    let v = submit(&env, "01849", "monthly", "2026-07-01", "2026-08-20 00:00");
    assert_eq!(v["status"], "late");

    // Tasks: overdue when the last day has passed and the task is not done.
    let add = |number: &str, deadline: &str, status: &str| {
        env.ok(&[
            "campaign",
            "task",
            "add",
            "--unit",
            "01960",
            "--number",
            number,
            "--name",
            "Tuyên truyền",
            "--lead",
            "Phòng Văn hóa – Xã hội",
            "--result",
            "Tin, bài",
            "--deadline",
            deadline,
            "--status",
            status,
        ])
    };
    add("1.", "Tháng 5/2026", "in_progress");
    add("3", "Thực hiện thường xuyên", "not_started");
    add("5", "Trước 31/12/2099", "not_started");
    assert!(!env
        .kyso(&["campaign", "task", "add", "--unit", "01960", "--number", "1", "--name", "x", "--deadline", "5/2026"])
        .status
        .success());
    assert!(!env
        .kyso(&["campaign", "task", "add", "--unit", "01960", "--number", "9", "--name", "x", "--deadline", "sớm"])
        .status
        .success());
    let list = json(&env.ok(&["--json", "campaign", "task", "list", "--unit", "01960"]));
    let overdue: Vec<(String, bool)> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["number"].as_str().unwrap().to_owned(), t["overdue"].as_bool().unwrap()))
        .collect();
    assert_eq!(overdue, [("1".into(), true), ("3".into(), false), ("5".into(), false)]);
    let v = json(
        &env.ok(&["--json", "campaign", "task", "update", "--unit", "01960", "--number", "1", "--status", "done"]),
    );
    assert_eq!((v["status"].as_str(), v["overdue"].as_bool()), (Some("done"), Some(false)));
    assert!(!env
        .kyso(&["campaign", "task", "update", "--unit", "01960", "--number", "77", "--status", "done"])
        .status
        .success());

    // Staff list: two of three listed staff hold a certificate; a bad row is named, masked.
    std::fs::write(
        env.path("staff.csv"),
        format!(
            "Số định danh,Họ và tên,Cơ quan\n{AN},Nguyễn Thị An,UBND xã\n{BINH},Trần Văn Bình,Công an xã\n\
019080000099,Hoàng Văn Chín,Công an xã\n01908000009,Sai Số,UBND xã\n"
        ),
    )
    .unwrap();
    let out = env.ok(&[
        "--json",
        "campaign",
        "staff",
        "import",
        "staff.csv",
        "--unit",
        "01960",
        "--deadline",
        "31/7/2026",
        "--segment",
        "state_agencies",
    ]);
    let v = json(&out);
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(v["rejected"][0]["row"], 5);
    assert!(!out.contains("01908000009") && !out.contains(AN), "{out}");
    let p = json(&env.ok(&["--json", "campaign", "staff", "progress"]));
    let agencies = &p["units"][0]["agencies"];
    assert_eq!((agencies[0]["agency"].as_str(), agencies[0]["holders"].as_u64()), (Some("Công an xã"), Some(1)));
    assert_eq!((agencies[1]["staff"].as_u64(), agencies[1]["holders"].as_u64()), (Some(1), Some(1)));

    // Segment targets: counted where a source exists, "no data" elsewhere.
    env.ok(&[
        "campaign",
        "segments",
        "set",
        "--unit",
        "01960",
        "--period",
        "2026",
        "--total",
        "100",
        "--segment",
        "state_agencies=Khối cơ quan nhà nước=20",
        "--segment",
        "schools=Khối trường học=30",
        "--segment",
        "adult_citizens=Người dân trưởng thành=50=everyone",
    ]);
    let s = json(&env.ok(&["--json", "campaign", "segments", "list"]));
    let held: Vec<Option<u64>> =
        s["sets"][0]["segments"].as_array().unwrap().iter().map(|x| x["holders"].as_u64()).collect();
    // Both holders are listed staff of state agencies; no school list; nobody left for citizens.
    assert_eq!(held, [Some(2), None, Some(0)], "{s}");

    // A provider's list counts for staff as kyso's own certificates do: Chín now holds one.
    std::fs::write(env.path("staff-list.csv"), "id_number,provider,issue_date\n019080000099,VNPT-CA,2026-01-05\n")
        .unwrap();
    env.ok(&["campaign", "import-provider-list", "staff-list.csv", "--as-of", "2026-01-05"]);
    let p = json(&env.ok(&["--json", "campaign", "staff", "progress"]));
    let agencies = &p["units"][0]["agencies"];
    assert_eq!((agencies[0]["staff"].as_u64(), agencies[0]["holders"].as_u64()), (Some(2), Some(2)), "{p}");

    // Pages: the roll-up with statuses, the unit form (token required), tasks, the dashboard part.
    let server = env.serve();
    let base = env.base_url();
    let get = |path: &str| {
        let (status, body) = http("GET", &format!("{base}{path}"), None, &[]).unwrap();
        (status, String::from_utf8(body).unwrap())
    };
    let (status, page) = get("/campaign/reports?unit=19&freq=weekly&period=2026-07-30");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Xã Phong Quang") && page.contains("Trễ hạn") && page.contains("Chưa nộp"), "{page}");
    assert!(page.contains("Tải XLSX") && page.contains("width=device-width"), "{page}");
    let (status, page) = get("/campaign/reports/unit?unit=01960&freq=weekly&period=2026-07-30");
    assert_eq!(status, 200, "{page}");
    // What officers wrote is for staff allowed to read the unit's reports, not the public.
    assert!(page.contains("<textarea") && !page.contains("Tăng điểm hỗ trợ thứ Bảy"), "{page}");
    let officer = support::officer_cookie(&env, "01960");
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let (status, _, page) =
        raw(port, "GET", "/campaign/reports/unit?unit=01960&freq=weekly&period=2026-07-30", &officer, "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Tăng điểm hỗ trợ thứ Bảy"), "{page}");
    let form = "unit=01864&freq=weekly&period=2026-07-30&by=B%E1%BA%B1ng&difficulties=kh%C3%B3&proposals=&token=wrong";
    let (status, _) = http(
        "POST",
        &format!("{base}/campaign/reports/unit"),
        Some("application/x-www-form-urlencoded"),
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 401);
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap();
    let form = form.replace("token=wrong", &format!("token={}", token.trim()));
    let (status, _) = http(
        "POST",
        &format!("{base}/campaign/reports/unit"),
        Some("application/x-www-form-urlencoded"),
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 303);
    let roll = json(&env.ok(&["--json", "campaign", "report", "rollup", "--unit", "19", "--period", "2026-07-30"]));
    assert_eq!(rows(&roll)[1], pair("01864", "late"), "the web submission counts, late");
    let (status, page) = get("/campaign/tasks?unit=01960");
    assert_eq!(status, 200);
    assert!(page.contains("Thực hiện thường xuyên") && page.contains("Hoàn thành"), "{page}");
    let (status, page) = get("/campaign?lang=en");
    assert_eq!(status, 200);
    assert!(
        page.contains("Segment targets") && page.contains("no data yet") && page.contains("100 % of staff"),
        "{page}"
    );
    drop(server);

    let v = json(&env.ok(&["--json", "audit", "verify"]));
    assert_eq!(v["ok"], true, "{v}");
}

/// One request with a Cookie header; returns (status, head, body).
fn raw(port: u16, method: &str, path: &str, cookie: &str, form: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut r =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", form.len());
    r.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    r.push_str(&format!("Cookie: {cookie}\r\n\r\n{form}"));
    s.write_all(r.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    (head.split_whitespace().nth(1).unwrap().parse().unwrap(), head, String::from_utf8_lossy(&buf[end + 4..]).into())
}

/// The value of `name=` in a Set-Cookie line, or of a hidden form field.
fn cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .find_map(|l| l.split_once(&format!("{name}=")).map(|(_, v)| v.split(';').next().unwrap_or("").to_owned()))
}

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {body}"));
    body[at + name.len() + 15..].split('"').next().unwrap().to_owned()
}

#[test]
fn officers_report_only_for_their_own_area() {
    use std::io::BufRead;
    let env = Env::new("reports-officer");
    let port = support::free_port();
    let mut child = env
        .cmd()
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut password = String::new();
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 && password.is_empty() {
        if let Some((_, p)) = line.split_once("password for all: ") {
            password = p.trim().trim_end_matches("):").to_owned();
        }
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let _server = support::Server::new(child);
    support::wait_ready(port);
    assert!(!password.is_empty(), "the demo prints its staff password");

    // Sign in as the commune officer of Hiệp Lực.
    let (_, head, body) = raw(port, "GET", "/staff/login", "", "");
    let pre = format!("kyso_pre={}", cookie(&head, "kyso_pre").unwrap());
    let form = format!("csrf={}&username=canbo.xa&password={}", field(&body, "csrf"), password.replace(' ', "+"));
    let (status, head, _) = raw(port, "POST", "/staff/login", &pre, &form);
    assert_eq!(status, 303, "{head}");
    let session = format!("kyso_session={}", cookie(&head, "kyso_session").unwrap());

    // The form needs no token for a signed-in officer; it carries their CSRF token instead.
    let (status, _, page) = raw(port, "GET", "/campaign/reports/unit?unit=01960", &session, "");
    assert_eq!(status, 200);
    assert!(page.contains("canbo.xa") && !page.contains("name=\"token\""), "{page}");
    let (csrf, period) = (field(&page, "csrf"), field(&page, "period"));
    let post = |unit: &str, csrf: &str| {
        let form = format!("unit={unit}&freq=weekly&period={period}&by=Tr%E1%BA%A7n+V%C4%83n+B%C3%ACnh&difficulties=&proposals=&csrf={csrf}");
        raw(port, "POST", "/campaign/reports/unit", &session, &form).0
    };
    assert_eq!(post("01960", "forged"), 403, "a forged CSRF token");
    assert_eq!(post("19", &csrf), 403, "a commune officer does not report for the province");
    std::fs::write(env.path("pq.csv"), UNITS).unwrap();
    env.ok(&["campaign", "import-units", "pq.csv"]);
    assert_eq!(post("01849", &csrf), 403, "nor for another commune");
    assert_eq!(post("01960", &csrf), 303);
    let v = json(&env.ok(&["--json", "campaign", "report", "show", "--unit", "01960", "--period", &period]));
    let subs = v["submissions"].as_array().unwrap();
    assert_eq!(subs.last().unwrap()["by"], "Trần Văn Bình", "{v}");
}
