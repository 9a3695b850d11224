//! Reports end to end on both backends: communes submit weekly and monthly reports (on time, late,
//! missing), the province rolls them up and reports to the ministry, completeness and timeliness
//! per period, the report pages and form, the task register with overdue flags, staff lists and
//! segment targets.

mod support;

use serde_json::Value;
use support::web::{Demo, Visitor};
use support::{free_port, on_both_backends, Backend, Env, Request};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,01849,Xã Phong Quang,Xã,22.2038,105.756,153.46\n\
19,Tỉnh Thái Nguyên,01864,Xã Bằng Thành,Xã,22.6576,105.671,208.22\n\
19,Tỉnh Thái Nguyên,01840,Phường Đức Xuân,Phường,22.1658,105.85,34.46\n\
91,Tỉnh An Giang,30292,Phường Bình Đức,Phường,10.3966,105.399,28.23\n\
33,Tỉnh Hưng Yên,11953,Phường Phố Hiến,Phường,20.6634,106.068,21.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01849,T01,Thôn Một\n";

use support::hiep_luc::{AN, BINH};
/// Hiệp Lực's register: An, Bình and Chi, and a child.
fn hiep_luc() -> String {
    format!("{}019215000005,Lê Văn Nhỏ,01/06/2015,Nam,T01,2\n", support::hiep_luc::REGISTER_HEAD)
}
const PHONG_QUANG: &str = "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
019080000011,Phạm Văn Một,09/09/1980,Nam,T01,1\n\
019181000012,Phạm Thị Hai,09/09/1981,Nữ,T01,1\n";

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
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

on_both_backends!(
    figures_prefill_from_live_data,
    weekly_reports_are_on_time_late_or_refused,
    province_rolls_up_its_communes_also_as_xlsx,
    province_reports_to_the_ministry_and_completeness_counts_weeks,
    monthly_reports_are_due_before_the_20th,
    tasks_are_overdue_after_their_last_day,
    staff_lists_and_segment_targets_count_holders,
    report_pages_and_the_unit_form,
);

/// A fresh env with the campaign's data: units, hamlets, two communes' registers, plans for
/// three communes of Thái Nguyên and one of An Giang (Đức Xuân has none), two certificate
/// holders, and visits in the week of 30 Jul – 5 Aug 2026 (one outside it).
fn communes(backend: Backend) -> Option<Env> {
    let env = Env::on("reports", backend)?;
    env.init();
    for (file, text) in
        [("units.csv", UNITS), ("hamlets.csv", HAMLETS), ("hl.csv", &hiep_luc()), ("pq.csv", PHONG_QUANG)]
    {
        std::fs::write(env.path(file), text).unwrap();
    }
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "hl.csv", "--commune", "01960"]);
    env.ok(&["campaign", "import-register", "pq.csv", "--commune", "01849"]);
    for unit in ["01960", "01849", "01864", "30292"] {
        env.plan_2026(unit);
    }
    env.issue(AN, "vnpt", &[]);
    env.issue(BINH, "viettel", &[]);
    for (date, outcome) in [("2026-07-31", "not-at-home"), ("2026-08-05", "refused"), ("2026-08-06", "not-at-home")] {
        env.ok(&["campaign", "visit", "--id", "019195000003", "--outcome", outcome, "--team", "Tổ 1", "--date", date]);
    }
    Some(env)
}

/// The week of 30 Jul: Hiệp Lực on time (09:59), Phong Quang late (10:05, then a correction),
/// Bằng Thành missing, Bình Đức (An Giang) on time for its own province. The first two answers.
fn submit_the_week(env: &Env) -> (Value, Value) {
    let hiep_luc = submit(env, "01960", "weekly", "2026-07-30", "2026-08-06 09:59");
    let phong_quang = submit(env, "01849", "weekly", "2026-07-30", "2026-08-06 10:05");
    submit(env, "01849", "weekly", "2026-07-30", "2026-08-07 08:00");
    submit(env, "30292", "weekly", "2026-07-30", "2026-08-06 08:00");
    (hiep_luc, phong_quang)
}

/// The command fails; its stderr.
fn refused(env: &Env, args: &[&str]) -> String {
    let o = env.kyso(args);
    assert!(!o.status.success(), "kyso {args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The audit chain still verifies after the case's steps.
fn audit_intact(env: &Env) {
    let v = json(&env.ok(&["--json", "audit", "verify"]));
    assert_eq!(v["ok"], true, "{v}");
}

/// The figures pre-fill from live data: 3 adults (the child is not one), the two holders today.
fn figures_prefill_from_live_data(b: Backend) {
    let Some(env) = communes(b) else { return };
    let today = json(&env.ok(&["--json", "campaign", "report", "show", "--unit", "01960", "--freq", "monthly"]));
    assert_eq!(today["figures"]["adults"], 3, "{today}");
    let args = ["--json", "campaign", "report", "show", "--unit", "01960", "--freq", "weekly", "--period"];
    let week = json(&env.ok(&[&args[..], &["30/07/2026"]].concat()));
    assert_eq!(week["period"]["label"], "Tuần 30/07–05/08/2026");
    assert_eq!(week["period"]["due"], "2026-08-06 10:00");
    let f = &week["figures"];
    assert_eq!((f["adults"].as_u64(), f["holders"].as_u64()), (Some(3), Some(0)), "{week}");
    // 63.80 % of 3 adults: 2 as a level, 1 + 2 as an increment; 35 % by 31 Jul has passed, no milestone after.
    assert_eq!((f["target_level"].as_u64(), f["target_increment"].as_u64()), (Some(2), Some(3)));
    assert_eq!((f["visits.not-at-home"].as_u64(), f["visits.refused"].as_u64()), (Some(1), Some(1)));
    assert_eq!(f["visits_total"], 2);
    audit_intact(&env);
}

/// On time to the minute, late by minutes; a period that has not ended cannot be reported, an
/// unknown unit neither; a week starts on Thursday.
fn weekly_reports_are_on_time_late_or_refused(b: Backend) {
    let Some(env) = communes(b) else { return };
    let (v, late) = submit_the_week(&env);
    assert_eq!(v["status"], "on_time", "{v}");
    assert_eq!((late["status"].as_str(), late["late_minutes"].as_i64()), (Some("late"), Some(5)), "{late}");
    let early = ["campaign", "report", "submit", "--unit", "01960", "--period", "2026-07-30", "--by", "X", "--at"];
    assert!(refused(&env, &[&early[..], &["2026-08-05 20:00"]].concat()).contains("has not ended"));
    assert!(refused(&env, &[&early[..], &["2999-01-01 09:00"]].concat()).contains("future"));
    refused(&env, &["campaign", "report", "submit", "--unit", "09999", "--period", "2026-07-30", "--by", "X"]);
    let e = refused(&env, &["campaign", "report", "show", "--unit", "01960", "--period", "2026-07-31"]);
    assert!(e.contains("Thursday"), "{e}");
    audit_intact(&env);
}

/// The province's roll-up: one row per commune with a plan, the sums of what they submitted; the
/// roll-up and a report as XLSX, read back by kyso-xlsx and, where installed, by openpyxl.
fn province_rolls_up_its_communes_also_as_xlsx(b: Backend) {
    let Some(env) = communes(b) else { return };
    submit_the_week(&env);
    let roll = json(&env.ok(&["--json", "campaign", "report", "rollup", "--unit", "19", "--period", "2026-07-30"]));
    assert_eq!(rows(&roll), [pair("01849", "late"), pair("01864", "missing"), pair("01960", "on_time")], "{roll}");
    assert_eq!(
        (roll["expected"].as_u64(), roll["on_time"].as_u64(), roll["late"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(roll["total"]["adults"], 3 + 2, "{roll}");
    assert_eq!(roll["total"]["visits_total"], 2);
    assert_eq!(roll["rows"][0]["at"], "2026-08-06 10:05", "the first submission decides timeliness");

    env.ok(&["campaign", "report", "rollup", "--unit", "19", "--period", "2026-07-30", "--xlsx", "roll.xlsx"]);
    env.ok(&["campaign", "report", "show", "--unit", "01960", "--period", "2026-07-30", "--xlsx", "hl.xlsx"]);
    let sheet = read_xlsx(&env.path("roll.xlsx"));
    assert_eq!(sheet[0][..3], ["Mã đơn vị", "Đơn vị", "Tình trạng"]);
    assert_eq!(sheet[1][..5], ["01849", "Xã Phong Quang", "Trễ hạn", "06/08/2026 10:05", "5"], "{sheet:?}");
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
    audit_intact(&env);
}

/// The province reports to the ministry with its roll-up as figures (An Giang's province is
/// missing); completeness and timeliness over three weeks, the two earlier ones without reports.
fn province_reports_to_the_ministry_and_completeness_counts_weeks(b: Backend) {
    let Some(env) = communes(b) else { return };
    submit_the_week(&env);
    let v = submit(&env, "19", "weekly", "2026-07-30", "2026-08-06 15:00");
    assert_eq!(v["figures"]["adults"], 5, "{v}");
    let national = json(&env.ok(&["--json", "campaign", "report", "rollup", "--unit", "VN", "--period", "2026-07-30"]));
    assert_eq!(rows(&national), [pair("19", "late"), pair("91", "missing")], "{national}");
    assert_eq!(national["total"]["adults"], 5);

    let args = ["--json", "campaign", "report", "completeness", "--unit", "19", "--period", "2026-07-30"];
    // Completeness and timeliness count reports the province approved: none yet.
    let c = json(&env.ok(&[&args[..], &["--count", "3"]].concat()));
    assert_eq!(c["periods"][0]["completeness"].as_f64(), Some(0.0), "{c}");
    for unit in ["01960", "01849"] {
        env.ok(&["campaign", "approval", "approve", "--unit", unit, "--period", "2026-07-30"]);
    }
    let c = json(&env.ok(&[&args[..], &["--count", "3"]].concat()));
    let periods = c["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!((periods[0]["expected"].as_u64(), periods[0]["on_time"].as_u64()), (Some(3), Some(1)));
    assert_eq!(periods[0]["completeness"].as_f64().map(|x| (x * 100.0).round()), Some(67.0));
    assert_eq!(periods[0]["timeliness"].as_f64().map(|x| (x * 100.0).round()), Some(33.0));
    assert_eq!(periods[0]["missing_units"], serde_json::json!(["01864"]));
    assert_eq!(periods[1]["period"]["start"], "2026-07-23");
    assert_eq!(periods[1]["missing"], 3);
    audit_intact(&env);
}

fn monthly_reports_are_due_before_the_20th(b: Backend) {
    let Some(env) = communes(b) else { return };
    let v = submit(&env, "01960", "monthly", "2026-07-01", "2026-08-19 23:59");
    assert_eq!(v["status"], "on_time");
    let v = submit(&env, "01849", "monthly", "2026-07-01", "2026-08-20 00:00");
    assert_eq!(v["status"], "late");
    audit_intact(&env);
}

/// Hiệp Lực's task register: 1. due May 2026, 3 ongoing, 5 due end of 2099; task 1 then done.
fn add_tasks(env: &Env) {
    let add = |number: &str, deadline: &str, status: &str| {
        let args = ["campaign", "task", "add", "--unit", "01960", "--number", number, "--name", "Tuyên truyền"];
        let more = ["--lead", "Phòng Văn hóa – Xã hội", "--result", "Tin, bài", "--deadline", deadline, "--status"];
        env.ok(&[&args[..], &more[..], &[status]].concat());
    };
    add("1.", "Tháng 5/2026", "in_progress");
    add("3", "Thực hiện thường xuyên", "not_started");
    add("5", "Trước 31/12/2099", "not_started");
}

fn mark_task_1_done(env: &Env) -> Value {
    json(&env.ok(&["--json", "campaign", "task", "update", "--unit", "01960", "--number", "1", "--status", "done"]))
}

/// Tasks: overdue when the last day has passed and the task is not done.
fn tasks_are_overdue_after_their_last_day(b: Backend) {
    let Some(env) = communes(b) else { return };
    add_tasks(&env);
    refused(
        &env,
        &["campaign", "task", "add", "--unit", "01960", "--number", "1", "--name", "x", "--deadline", "5/2026"],
    );
    refused(&env, &["campaign", "task", "add", "--unit", "01960", "--number", "9", "--name", "x", "--deadline", "sớm"]);
    let list = json(&env.ok(&["--json", "campaign", "task", "list", "--unit", "01960"]));
    let overdue: Vec<(String, bool)> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["number"].as_str().unwrap().to_owned(), t["overdue"].as_bool().unwrap()))
        .collect();
    assert_eq!(overdue, [("1".into(), true), ("3".into(), false), ("5".into(), false)]);
    let v = mark_task_1_done(&env);
    assert_eq!((v["status"].as_str(), v["overdue"].as_bool()), (Some("done"), Some(false)));
    refused(&env, &["campaign", "task", "update", "--unit", "01960", "--number", "77", "--status", "done"]);
    audit_intact(&env);
}

/// Hiệp Lực's staff list (three listed, a bad row) and segment targets; the import's answer.
fn staff_and_segments(env: &Env) -> String {
    std::fs::write(
        env.path("staff.csv"),
        format!(
            "Số định danh,Họ và tên,Cơ quan\n{AN},Nguyễn Thị An,UBND xã\n{BINH},Trần Văn Bình,Công an xã\n\
019080000099,Hoàng Văn Chín,Công an xã\n01908000009,Sai Số,UBND xã\n"
        ),
    )
    .unwrap();
    let args = ["--json", "campaign", "staff", "import", "staff.csv", "--unit", "01960", "--deadline", "31/7/2026"];
    let out = env.ok(&[&args[..], &["--segment", "state_agencies"]].concat());
    let segments = [
        "state_agencies=Khối cơ quan nhà nước=20",
        "schools=Khối trường học=30",
        "adult_citizens=Người dân trưởng thành=50=everyone",
    ];
    let mut args = vec!["campaign", "segments", "set", "--unit", "01960", "--period", "2026", "--total", "100"];
    for s in &segments {
        args.extend(["--segment", s]);
    }
    env.ok(&args);
    out
}

/// A provider's list that gives Chín, a listed staff member, a certificate.
fn chin_holds_a_provider_certificate(env: &Env) {
    std::fs::write(env.path("staff-list.csv"), "id_number,provider,issue_date\n019080000099,VNPT-CA,2026-01-05\n")
        .unwrap();
    env.ok(&["campaign", "import-provider-list", "staff-list.csv", "--as-of", "2026-01-05"]);
}

/// Staff list: two of three listed staff hold a certificate; a bad row is named, masked. Segment
/// targets: counted where a source exists, "no data" elsewhere. A provider's list counts for
/// staff as kyso's own certificates do.
fn staff_lists_and_segment_targets_count_holders(b: Backend) {
    let Some(env) = communes(b) else { return };
    let out = staff_and_segments(&env);
    let v = json(&out);
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(v["rejected"][0]["row"], 5);
    assert!(!out.contains("01908000009") && !out.contains(AN), "{out}");
    let p = json(&env.ok(&["--json", "campaign", "staff", "progress"]));
    let agencies = &p["units"][0]["agencies"];
    assert_eq!((agencies[0]["agency"].as_str(), agencies[0]["holders"].as_u64()), (Some("Công an xã"), Some(1)));
    assert_eq!((agencies[1]["staff"].as_u64(), agencies[1]["holders"].as_u64()), (Some(1), Some(1)));

    let s = json(&env.ok(&["--json", "campaign", "segments", "list"]));
    let held: Vec<Option<u64>> =
        s["sets"][0]["segments"].as_array().unwrap().iter().map(|x| x["holders"].as_u64()).collect();
    // Both holders are listed staff of state agencies; no school list; nobody left for citizens.
    assert_eq!(held, [Some(2), None, Some(0)], "{s}");

    chin_holds_a_provider_certificate(&env);
    let p = json(&env.ok(&["--json", "campaign", "staff", "progress"]));
    let agencies = &p["units"][0]["agencies"];
    assert_eq!((agencies[0]["staff"].as_u64(), agencies[0]["holders"].as_u64()), (Some(2), Some(2)), "{p}");
    audit_intact(&env);
}

/// Pages: the roll-up with statuses, the unit form (token required), tasks, the dashboard part.
fn report_pages_and_the_unit_form(b: Backend) {
    let Some(env) = communes(b) else { return };
    submit_the_week(&env);
    add_tasks(&env);
    mark_task_1_done(&env);
    staff_and_segments(&env);
    chin_holds_a_provider_certificate(&env);
    let server = env.serve();
    let get = |path: &str| {
        let r = Request::get(path).send(env.port);
        (r.status, r.text())
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
    let r = Request::get("/campaign/reports/unit?unit=01960&freq=weekly&period=2026-07-30")
        .cookies(&officer)
        .send(env.port);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Tăng điểm hỗ trợ thứ Bảy"), "{}", r.text());
    let form = "unit=01864&freq=weekly&period=2026-07-30&by=B%E1%BA%B1ng&difficulties=kh%C3%B3&proposals=&token=wrong";
    let post = |form: &str| Request::post("/campaign/reports/unit").form(form).send(env.port).status;
    assert_eq!(post(form), 401);
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap();
    assert_eq!(post(&form.replace("token=wrong", &format!("token={}", token.trim()))), 303);
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
    audit_intact(&env);
}

#[test]
fn officers_report_only_for_their_own_area() {
    let env = Env::new("reports-officer");
    let demo = Demo::start(&env, free_port(), None, |_| {});
    let port = demo.port;

    // Sign in as the commune officer of Hiệp Lực.
    let staff = [("username", "canbo.xa"), ("password", demo.password())];
    let session = Visitor::login(port, "/staff/login", &staff, "/desk").cookies();

    // The form needs no token for a signed-in officer; it carries their CSRF token instead.
    let r = Request::get("/campaign/reports/unit?unit=01960").cookies(&session).send(port);
    assert_eq!(r.status, 200);
    let page = r.text();
    assert!(page.contains("canbo.xa") && !page.contains("name=\"token\""), "{page}");
    let (csrf, period) = (r.field("csrf"), r.field("period"));
    let post = |unit: &str, csrf: &str| {
        let form = format!("unit={unit}&freq=weekly&period={period}&by=Tr%E1%BA%A7n+V%C4%83n+B%C3%ACnh&difficulties=&proposals=&csrf={csrf}");
        Request::post("/campaign/reports/unit").cookies(&session).form(&form).send(port).status
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
