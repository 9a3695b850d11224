//! Reaching people (issue 21 items 4–6) over HTTP and the CLI on SQLite and PostgreSQL, on the
//! demo's Hiệp Lực: the hotline (questions logged with the caller masked, the area's log, the FAQ
//! found without diacritics on the guidance page, operator hours), training records and report
//! approval. One demo per backend.

mod support;

use serde_json::Value;
use std::sync::MutexGuard;
use support::web::{DemoEnv, Visitor};
use support::{on_both_backends, Backend};

fn demo(backend: Backend) -> Option<MutexGuard<'static, DemoEnv>> {
    support::web::shared_demo(backend, "reach", "info", |_| {})
}

fn login_staff(d: &DemoEnv, user: &str) -> Visitor {
    Visitor::login(d.port, "/staff/login", &[("username", user), ("password", &d.password)], "/desk")
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

on_both_backends!(
    hotline_logs_masked_questions_per_area,
    the_guide_shows_the_faq_and_the_hours,
    training_sessions_count_toward_the_share_trained,
    the_province_approves_or_returns_and_approval_freezes,
);

fn hotline_logs_masked_questions_per_area(b: Backend) {
    let Some(d) = demo(b) else { return };
    let mut op = login_staff(&d, "tongdai");
    let page = op.get("/campaign/hotline").text();
    // The demo's week: questions logged with callers masked, the most-asked topic first.
    assert!(page.contains("091****678"), "{page}");
    assert!(!page.contains("0912345678"), "a caller in full on the page");
    assert!(page.contains("Định danh điện tử mức 2"), "{page}");
    let r = op.submit(
        "/campaign/hotline",
        "/campaign/hotline/call",
        &[
            ("unit", "01960"),
            ("topic", "fees"),
            ("question", "Hỏi phí gia hạn"),
            ("caller", "0911 000 111"),
            ("resolved", "1"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().starts_with("/campaign/hotline?ok="), "{}", r.location());
    let page = op.get("/campaign/hotline").text();
    assert!(page.contains("091****111") && page.contains("Hỏi phí gia hạn"), "{page}");
    assert!(!page.contains("0911000111") && !page.contains("0911 000 111"));
    // A bad caller is named, nothing stored.
    let r = op.submit(
        "/campaign/hotline",
        "/campaign/hotline/call",
        &[("unit", "01960"), ("topic", "fees"), ("caller", "Nguyễn An")],
    );
    assert!(r.location().contains("err="), "{}", r.location());
    // Without the form's token: refused.
    let r = op.post("/campaign/hotline/call", &[("csrf", "x"), ("unit", "01960"), ("topic", "fees")]);
    assert_eq!(r.status, 403);
    // The commune officer reads their commune's questions; support staff have no hotline page.
    let mut officer = login_staff(&d, "canbo.xa");
    let page = officer.get("/campaign/hotline").text();
    assert!(page.contains("Hỏi phí gia hạn"), "{page}");
    let r = officer.submit("/campaign/hotline", "/campaign/hotline/call", &[("unit", "01849"), ("topic", "pin")]);
    assert_eq!(r.status, 403, "another commune's question");
    assert_eq!(login_staff(&d, "hotro.hieplu").get("/campaign/hotline").status, 403);
    // The audit log and the server log carry the caller masked only.
    assert!(!d.demo.log_text().contains("0911000111"));
    let top =
        json(&d.env.ok(&["--json", "campaign", "hotline", "topics", "--unit", "01960", "--period", &this_week()]));
    assert_eq!(top["topics"][0]["topic"], "eid_level2", "{top}");
    assert!(top["topics"].as_array().unwrap().iter().any(|t| t["topic"] == "fees"), "{top}");
    // The weekly report carries the week's most-asked topics of the unit's area.
    let report =
        json(&d.env.ok(&["--json", "campaign", "report", "show", "--unit", "01960", "--period", &this_week()]));
    assert_eq!(report["hotline_topics"][0]["topic"], "eid_level2", "{report}");
    let page = officer.get(&format!("/campaign/reports/unit?unit=01960&freq=weekly&period={}", this_week())).text();
    assert!(page.contains("Câu hỏi tổng đài nhiều nhất trong tuần"), "{page}");
}

/// The first day (Thursday) of this week, as the weekly periods start.
fn this_week() -> String {
    let days = (kyso_store::now() + 7 * 3600).div_euclid(86_400);
    // 1970-01-01 was a Thursday: day numbers divisible by 7 are Thursdays.
    kyso_calendar::iso_date_wide(days - days.rem_euclid(7))
}

fn the_guide_shows_the_faq_and_the_hours(b: Backend) {
    let Some(d) = demo(b) else { return };
    let mut visitor = Visitor::new(d.port);
    let page = visitor.get("/huong-dan").text();
    assert!(page.contains("1900 6868") && page.contains("13:30–20:00"), "{page}");
    assert!(page.contains("Vì sao cần định danh điện tử mức 2?"), "the store's FAQ");
    let found = visitor.get("/huong-dan?q=chu+ky+so+phi").text();
    assert!(found.contains("Chữ ký số có mất phí không?"), "{found}");
    assert!(!found.contains("Vì sao cần định danh điện tử mức 2?"), "{found}");
    let none = visitor.get("/huong-dan?q=xyzzy+qwerty").text();
    assert!(none.contains("Không tìm thấy câu hỏi phù hợp"), "{none}");
    // The operator edits the FAQ; the guide shows the new entry at once.
    let mut op = login_staff(&d, "tongdai");
    let r = op.submit(
        "/campaign/hotline",
        "/campaign/hotline/faq",
        &[("topic", "register"), ("question", "Đăng ký tài khoản ở đâu?"), ("answer", "Tại Bộ phận Một cửa xã.")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(visitor.get("/huong-dan?q=dang+ky+tai+khoan").text().contains("Tại Bộ phận Một cửa xã."));
    // The commune officer may not edit it.
    let mut officer = login_staff(&d, "canbo.xa");
    let r = officer.submit(
        "/campaign/hotline",
        "/campaign/hotline/faq",
        &[("topic", "other"), ("question", "x"), ("answer", "y")],
    );
    assert_eq!(r.status, 403);
    let faq = json(&d.env.ok(&["--json", "campaign", "hotline", "faq", "dinh danh muc 2"]));
    assert!(!faq["entries"].as_array().unwrap().is_empty(), "{faq}");
}

fn training_sessions_count_toward_the_share_trained(b: Backend) {
    let Some(d) = demo(b) else { return };
    let shares = json(&d.env.ok(&["--json", "campaign", "training", "show"]));
    let hl = shares["units"].as_array().unwrap().iter().find(|u| u["unit"] == "01960").cloned().unwrap();
    // The demo: 36 staff and 12 team members; 20 staff and 8 volunteers at last week's session.
    assert_eq!(
        (hl["people"].as_u64(), hl["staff"].as_u64(), hl["volunteers"].as_u64()),
        (Some(48), Some(36), Some(12)),
        "{hl}"
    );
    let before = hl["trained"].as_u64().unwrap();
    assert!(before >= 28, "{hl}");
    let mut officer = login_staff(&d, "canbo.xa");
    let page = officer.get("/campaign/training?unit=01960").text();
    assert!(page.contains("VNPT Thái Nguyên và Công an xã Hiệp Lực"), "{page}");
    assert!(!has_full_id(&page), "no full ID number in the roster: masked only");
    // Tick the last person on the roster (a volunteer not trained yet) and one person on no list.
    let roster = page.matches("name=\"p").count();
    assert_eq!(roster, 48, "{page}");
    let today = kyso_calendar::vn_date(kyso_store::now());
    let last = format!("p{}", roster - 1);
    let fields = [
        ("unit", "01960"),
        ("date", today.as_str()),
        ("trainer", "Sở Khoa học và Công nghệ"),
        ("topic", "Ký số hồ sơ thủ tục hành chính"),
        ("roster", "48"),
        (last.as_str(), "1"),
        ("others", "019301000099, Lê Văn Ngoài, volunteer"),
    ];
    let r = officer.submit("/campaign/training?unit=01960", "/campaign/training/session", &fields);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().contains("ok="), "{}", r.location());
    let shares = json(&d.env.ok(&["--json", "campaign", "training", "show"]));
    let hl = shares["units"].as_array().unwrap().iter().find(|u| u["unit"] == "01960").cloned().unwrap();
    assert_eq!(hl["trained"].as_u64(), Some(before + 1), "{hl}");
    assert!(hl["unlisted"].as_u64() >= Some(1), "{hl}");
    // A roster that changed since the page was drawn, and another commune: refused.
    let mut stale = fields.to_vec();
    stale[4] = ("roster", "47");
    let r = officer.submit("/campaign/training?unit=01960", "/campaign/training/session", &stale);
    assert!(r.location().contains("err="), "{}", r.location());
    let mut other = fields.to_vec();
    other[0] = ("unit", "01849");
    assert_eq!(officer.submit("/campaign/training", "/campaign/training/session", &other).status, 403);
    // A future day is refused with the field named.
    let mut future = fields.to_vec();
    future[1] = ("date", "2099-01-01");
    let r = officer.submit("/campaign/training?unit=01960", "/campaign/training/session", &future);
    assert!(r.location().contains("err=date"), "{}", r.location());
    // The dashboard shows it beside the 100 %-of-staff target.
    let dash = Visitor::new(d.port).get("/campaign?unit=01960").text();
    assert!(dash.contains("thành viên tổ công nghệ số cộng đồng đã tập huấn") && dash.contains(" / 48 ("), "{dash}");
    // The report's figures carry the share.
    let report = json(&d.env.ok(&["--json", "campaign", "report", "show", "--unit", "01960", "--freq", "weekly"]));
    assert_eq!(report["figures"]["training_people"], 48, "{report}");
}

fn the_province_approves_or_returns_and_approval_freezes(b: Backend) {
    let Some(d) = demo(b) else { return };
    let url = "/campaign/reports/unit?unit=01960-CA&freq=weekly";
    // The commune officer may not approve (not the level above); the page offers no form.
    let mut xa = login_staff(&d, "canbo.xa");
    assert!(!xa.get(url).text().contains("/campaign/reports/review"));
    let page = xa.get(url);
    let r = xa.post(
        "/campaign/reports/review",
        &[
            ("csrf", &page.csrf()),
            ("unit", "01960-CA"),
            ("freq", "weekly"),
            ("period", &period_of(&page.text())),
            ("decision", "approve"),
        ],
    );
    assert_eq!(r.status, 403);
    // The province officer returns the police's report: a reason is required.
    let mut tinh = login_staff(&d, "canbo.tinh");
    let page = tinh.get(url);
    let text = page.text();
    assert!(text.contains("/campaign/reports/review") && text.contains("Chờ phê duyệt"), "{text}");
    let period = period_of(&text);
    let review = |v: &mut Visitor, decision: &str, reason: &str| {
        let csrf = v.get(url).csrf();
        v.post(
            "/campaign/reports/review",
            &[
                ("csrf", &csrf),
                ("unit", "01960-CA"),
                ("freq", "weekly"),
                ("period", &period),
                ("decision", decision),
                ("reason", reason),
            ],
        )
    };
    let r = review(&mut tinh, "return", " ");
    assert_eq!(r.status, 400, "{}", r.text());
    let r = review(&mut tinh, "return", "Bổ sung số người đã xác thực mức 2 trong tuần");
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().contains("reviewed=returned"), "{}", r.location());
    // Returned twice: the second decision finds nothing to decide.
    assert_eq!(review(&mut tinh, "approve", "").status, 409);
    // The unit corrects and resubmits.
    let o = d.env.kyso(&[
        "campaign",
        "report",
        "submit",
        "--unit",
        "01960-CA",
        "--freq",
        "weekly",
        "--period",
        &period,
        "--by",
        "Công an xã",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = review(&mut tinh, "approve", "");
    assert_eq!(r.status, 303, "{}", r.text());
    let text = tinh.get(url).text();
    assert!(text.contains("Đã phê duyệt") && text.contains("Bổ sung số người đã xác thực mức 2"), "{text}");
    // Frozen: no resubmission, on the CLI or the page.
    let o = d.env.kyso(&[
        "campaign",
        "report",
        "submit",
        "--unit",
        "01960-CA",
        "--freq",
        "weekly",
        "--period",
        &period,
        "--by",
        "Công an xã",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("approved"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !xa.get(url).text().contains("method=\"post\" action=\"/campaign/reports/unit\""),
        "no submission form once approved"
    );
    let csrf = xa.get("/campaign/hotline").csrf();
    let r = xa.post(
        "/campaign/reports/unit",
        &[("csrf", &csrf), ("unit", "01960-CA"), ("freq", "weekly"), ("period", &period), ("by", "Công an xã")],
    );
    assert_eq!(r.status, 409, "{}", r.text());
    // The audit log names the province officer for both decisions.
    let status =
        json(&d.env.ok(&["--json", "campaign", "approval", "status", "--unit", "01960-CA", "--period", &period]));
    let states: Vec<&str> =
        status["reviews"].as_array().unwrap().iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["returned", "approved"], "{status}");
    let audit = d.env.ok(&["--json", "audit", "show", "--limit", "100000", "--action", "campaign.report."]);
    assert!(audit.contains("campaign.report.return") && audit.contains("campaign.report.approve"), "{audit}");
    // The province's roll-up counts approved reports: the demo approved the commune's latest week.
    let roll = json(&d.env.ok(&["--json", "campaign", "report", "rollup", "--unit", "19", "--period", &period]));
    assert!(roll["rows"].as_array().unwrap().iter().any(|r| r["unit"] == "01960-CA"), "{roll}");
}

/// The period's first day from a report page's period form.
fn period_of(page: &str) -> String {
    let at = page.find("name=\"period\" value=\"").expect("period field") + "name=\"period\" value=\"".len();
    page[at..at + 10].to_owned()
}

/// Twelve digits in a row: an ID number in full.
fn has_full_id(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 12 {
            return true;
        }
    }
    false
}
