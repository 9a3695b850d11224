//! Report and task pages: `/campaign/reports` (a unit's roll-up of a period with who submitted, on
//! time or late, and completeness over recent periods), `/campaign/reports/unit` (a unit's report:
//! figures pre-filled from live data, difficulties and proposals written and submitted),
//! `/campaign/tasks` (the task register, overdue flagged) and the dashboard's segment and staff
//! targets. Vietnamese first, `?lang=en`; no scripts; fits a 360-px phone.
//!
//! Submitting takes a signed-in officer whom `kyso_access::decide` allows to report for the unit
//! (or the operator token); every submission is audited under its submitter.

use crate::campaign_data::Fallible;
use crate::dashboard::{esc, failure, page, Text};
use crate::report_data::{self as data, level, Level};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use kyso_access::{decide, Action, Area, Resource};
use kyso_campaign::csv::parse_date;
use kyso_campaign::deadlines::Period;
use kyso_campaign::plan::Percent;
use kyso_campaign::reports::{label, Figures, ReportStatus, Rollup};
use kyso_store::Store;
use serde::Deserialize;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaign/reports", get(overview))
        .route("/campaign/reports/unit", get(unit_page).post(unit_submit))
        .route("/campaign/reports/xlsx", get(xlsx))
        .route("/campaign/tasks", get(tasks_page))
}

#[derive(Deserialize, Default)]
pub struct Params {
    lang: Option<String>,
    unit: Option<String>,
    freq: Option<String>,
    period: Option<String>,
    kind: Option<String>,
    ok: Option<String>,
}

const EXTRA_STYLE: &str = "<style>textarea,input[type=text],input[type=password]{width:100%;box-sizing:border-box;\
font:inherit;padding:.4rem}textarea{min-height:7rem}label{display:block;margin-top:.75rem;font-weight:600}\
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}\
form.inline label{margin:0}.muted{color:#666}.overdue{color:#c62828;font-weight:600}\
.task{border-bottom:1px solid #ddd;padding:.25rem 0}.task dl{display:grid;grid-template-columns:minmax(6rem,9rem) 1fr;\
gap:.15rem .75rem;margin:.25rem 0 .75rem}.task dt{color:#555}.task dd{margin:0}</style>";

fn lang(p: &Params) -> Text {
    Text { en: p.lang.as_deref() == Some("en") }
}

fn q(tx: &Text) -> &'static str {
    if tx.en {
        "&amp;lang=en"
    } else {
        ""
    }
}

fn freq(p: &Params) -> &str {
    p.freq.as_deref().unwrap_or("weekly")
}

/// Unit codes are short and alphanumeric (they end up in links and redirects).
fn valid_unit(unit: &str) -> bool {
    (2..=8).contains(&unit.len()) && unit.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn bad_request(e: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
}

fn link(tx: &Text, path: &str, unit: &str, period: &Period) -> String {
    format!("{path}?unit={}&amp;freq={}&amp;period={}{}", esc(unit), period.frequency.name(), period.start, q(tx))
}

fn status_cell(tx: &Text, s: &ReportStatus) -> String {
    let time = |at: &time::OffsetDateTime| {
        format!("{:02}:{:02} {:02}/{:02}", at.hour(), at.minute(), at.day(), u8::from(at.month()))
    };
    match s {
        ReportStatus::OnTime { at } => {
            format!("<span class=\"badge green\">{}</span> <small>{}</small>", tx.t("Đúng hạn", "On time"), time(at))
        }
        ReportStatus::Late { at, minutes } => format!(
            "<span class=\"badge amber\">{}</span> <small>{} ({} {})</small>",
            tx.t("Trễ hạn", "Late"),
            time(at),
            late_text(*minutes),
            tx.t("trễ", "late")
        ),
        ReportStatus::Pending => format!("<span class=\"muted\">{}</span>", tx.t("Chưa đến hạn", "Not yet due")),
        ReportStatus::Missing => format!("<span class=\"badge red\">{}</span>", tx.t("Chưa nộp", "Missing")),
    }
}

fn late_text(minutes: i64) -> String {
    match minutes {
        m if m < 60 => format!("{m} ph"),
        m if m < 24 * 60 => format!("{} h {:02}", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

fn pct(p: Option<Percent>) -> String {
    p.map_or("–".into(), |p| p.to_string())
}

fn period_form(tx: &Text, path: &str, unit: &str, period: &Period) -> String {
    let sel = |f: &str| if period.frequency.name() == f { " selected" } else { "" };
    format!(
        "<form class=\"inline noprint\" method=\"get\" action=\"{path}\"><input type=\"hidden\" name=\"unit\" value=\"{}\">{}\
<label>{}<br><select name=\"freq\"><option value=\"weekly\"{}>{}</option><option value=\"monthly\"{}>{}</option></select></label>\
<label>{}<br><input type=\"date\" name=\"period\" value=\"{}\"></label><button>{}</button></form>",
        esc(unit),
        if tx.en { "<input type=\"hidden\" name=\"lang\" value=\"en\">" } else { "" },
        tx.t("Loại báo cáo", "Report"),
        sel("weekly"),
        tx.t("Hằng tuần", "Weekly"),
        sel("monthly"),
        tx.t("Hằng tháng", "Monthly"),
        tx.t("Kỳ bắt đầu ngày", "Period starting"),
        period.start,
        tx.t("Xem", "Show"),
    )
}

/// The figures of a report as a two-column table.
fn figures_table(tx: &Text, f: &Figures) -> String {
    let rate = |x100: u64| format!("{}.{:02}", x100 / 100, x100 % 100);
    let mut rows = vec![
        (tx.t("Người trong độ tuổi", "Adults"), f.adults.to_string()),
        (tx.t("Đã có chứng thư số", "Holders"), f.holders.to_string()),
        (tx.t("Tỷ lệ", "Share"), pct(f.share())),
        (
            tx.t("Chỉ tiêu (tổng số / tăng thêm)", "Target (level / increment)"),
            format!("{} / {}", f.target_level, f.target_increment),
        ),
        (tx.t("So với chỉ tiêu (tổng số)", "Of the target (level)"), pct(f.of_target())),
        (
            tx.t("Mốc kế tiếp (tổng số / tăng thêm)", "Next milestone (level / increment)"),
            if f.milestone_level == 0 {
                "–".into()
            } else {
                format!("{} / {}", f.milestone_level, f.milestone_increment)
            },
        ),
        (tx.t("Chứng thư cấp mới trong kỳ", "Certificates issued in the period"), f.new_certificates.to_string()),
        (tx.t("Người có chứng thư tăng thêm trong kỳ", "New holders in the period"), f.new_holders.to_string()),
        (tx.t("Lượt đến từng nhà trong kỳ", "Door-to-door visits in the period"), f.visits_total().to_string()),
    ];
    for (outcome, n) in &f.visits {
        rows.push(("", format!("{}: {n}", esc(outcome))));
    }
    rows.push((tx.t("Tốc độ 14 ngày (người/ngày)", "14-day rate (per day)"), rate(f.run_rate_x100)));
    let required = if f.past_deadline > 0 && f.green + f.amber + f.red <= 1 {
        tx.t("đã quá hạn", "deadline passed").to_owned()
    } else {
        rate(f.required_rate_x100)
    };
    rows.push((tx.t("Tốc độ cần đạt (người/ngày)", "Required rate (per day)"), required));
    if f.green + f.amber + f.red > 1 {
        rows.push((tx.t("Số đơn vị đã quá hạn chỉ tiêu", "Units past their deadline"), f.past_deadline.to_string()));
    }
    rows.push((
        tx.t("Dự báo: đúng / cần tăng tốc / chậm", "Forecast: on track / behind / off track"),
        format!("{} / {} / {}", f.green, f.amber, f.red),
    ));
    let mut out = String::from("<div class=\"scroll\"><table>");
    for (k, v) in rows {
        let _ = write!(out, "<tr><td>{k}</td><td class=\"n\">{v}</td></tr>");
    }
    out.push_str("</table></div>");
    out
}

// ---- /campaign/reports ----

async fn overview(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let tx = lang(&p);
    let unit = p.unit.clone().unwrap_or_else(|| data::NATIONAL.into());
    if !valid_unit(&unit) {
        return bad_request("unit: a commune (5 digits), province (2 digits) or VN");
    }
    let period = match data::period(freq(&p), p.period.as_deref()) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    if level(&unit) == Level::Commune {
        let target = format!(
            "/campaign/reports/unit?unit={unit}&freq={}&period={}{}",
            period.frequency.name(),
            period.start,
            if tx.en { "&lang=en" } else { "" }
        );
        return Redirect::to(&target).into_response();
    }
    match overview_body(&s.authority.store, &tx, &unit, &period).await {
        Ok(Some((title, body))) => {
            page(&tx, &title, &link(&tx, "/campaign/reports", &unit, &period), &body).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

fn rollup_table(tx: &Text, r: &Rollup, names: &[String], period: &Period) -> String {
    let mut rows = String::new();
    for (row, name) in r.rows.iter().zip(names) {
        let path = if level(&row.unit_code) == Level::Commune { "/campaign/reports/unit" } else { "/campaign/reports" };
        let f = row.figures.as_ref();
        let cell = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let _ = write!(
            rows,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            link(tx, path, &row.unit_code, period),
            esc(name),
            status_cell(tx, &row.status),
            cell(f.map(|f| format!("{} / {}", f.holders, f.adults))),
            cell(f.map(|f| pct(f.share()))),
            cell(f.map(|f| pct(f.of_target()))),
            cell(f.map(|f| f.new_certificates.to_string())),
            cell(f.map(|f| f.visits_total().to_string())),
        );
    }
    let t = &r.total;
    let _ = write!(
        rows,
        "<tr><th>{}</th><th>{}/{}</th><th class=\"n\">{} / {}</th><th class=\"n\">{}</th><th class=\"n\">{}</th>\
<th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        tx.t("Tổng (các đơn vị đã nộp)", "Total (units that submitted)"),
        r.count("on_time") + r.count("late"),
        r.expected(),
        t.holders,
        t.adults,
        pct(t.share()),
        pct(t.of_target()),
        t.new_certificates,
        t.visits_total(),
    );
    format!(
        "<div class=\"scroll\"><table><tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">%</th>\
<th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>{rows}</table></div>",
        tx.t("Đơn vị", "Unit"),
        tx.t("Tình trạng nộp", "Submission"),
        tx.t("Có chứng thư / trong độ tuổi", "Holders / adults"),
        tx.t("% chỉ tiêu", "% of target"),
        tx.t("Cấp mới", "Issued"),
        tx.t("Lượt thăm", "Visits"),
    )
}

fn completeness_table(tx: &Text, unit: &str, list: &[Rollup]) -> String {
    let mut rows = String::new();
    for r in list {
        let rate = |x: Option<f64>| x.map_or("–".into(), |x| format!("{:.0} %", x * 100.0));
        let _ = write!(
            rows,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            link(tx, "/campaign/reports", unit, &r.period),
            label(&r.period, tx.en),
            r.expected(),
            r.count("on_time"),
            r.count("late"),
            r.count("missing"),
            r.count("pending"),
            rate(r.completeness()),
            rate(r.timeliness()),
        );
    }
    format!(
        "<div class=\"scroll\"><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th>\
<th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>{rows}</table></div>",
        tx.t("Kỳ", "Period"),
        tx.t("Phải nộp", "Expected"),
        tx.t("Đúng hạn", "On time"),
        tx.t("Trễ", "Late"),
        tx.t("Chưa nộp", "Missing"),
        tx.t("Chưa đến hạn", "Not yet due"),
        tx.t("Đầy đủ", "Complete"),
        tx.t("Đúng hạn", "Timely"),
    )
}

async fn overview_body(store: &Store, tx: &Text, unit: &str, period: &Period) -> Fallible<Option<(String, String)>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let (roll, names) = data::rollup(store, unit, period, now).await?;
    let history = data::completeness(store, unit, period, 8, now).await?;
    let due = roll.due;
    let title = format!("{} — {}", tx.t("Báo cáo tổng hợp", "Report roll-up"), name);
    let mut body = String::from(EXTRA_STYLE);
    let _ = write!(
        body,
        "<p><strong>{}</strong>. {} {:02}:{:02} {:02}/{:02}/{} ({}).</p>{}",
        label(period, tx.en),
        tx.t("Hạn nộp", "Due"),
        due.hour(),
        due.minute(),
        due.day(),
        u8::from(due.month()),
        due.year(),
        tx.t("giờ Việt Nam; nộp trước thời điểm này là đúng hạn", "Vietnam time; before this instant is on time"),
        period_form(tx, "/campaign/reports", unit, period),
    );
    if roll.rows.is_empty() {
        body.push_str(tx.t("<p>Chưa có đơn vị nào có kế hoạch.</p>", "<p>No unit with a plan yet.</p>"));
    }
    body.push_str(&rollup_table(tx, &roll, &names, period));
    if !roll.unexpected.is_empty() {
        let _ = write!(
            body,
            "<p class=\"muted\">{}: {}</p>",
            tx.t(
                "Báo cáo từ đơn vị không thuộc diện phải nộp (không tính)",
                "Reports from units not expected (not counted)"
            ),
            esc(&roll.unexpected.join(", "))
        );
    }
    let _ = write!(
        body,
        "<p class=\"noprint\"><a href=\"{}&amp;kind=rollup\">{}</a> · <a href=\"{}\">{}</a>{}</p>",
        link(tx, "/campaign/reports/xlsx", unit, period),
        tx.t("Tải XLSX", "Download XLSX"),
        link(tx, "/campaign/reports/unit", unit, period),
        tx.t("Báo cáo của đơn vị này", "This unit's own report"),
        match data::parent(store, unit).await? {
            Some(parent) => format!(
                " · <a href=\"{}\">{}</a>",
                link(tx, "/campaign/reports", &parent, period),
                tx.t("Cấp trên", "Up one level")
            ),
            None => String::new(),
        },
    );
    let _ = write!(
        body,
        "<h2>{}</h2>",
        tx.t("Tính đầy đủ và đúng hạn (8 kỳ gần nhất)", "Completeness and timeliness (last 8 periods)")
    );
    body.push_str(&completeness_table(tx, unit, &history));
    Ok(Some((title, body)))
}

// ---- /campaign/reports/unit ----

async fn unit_page(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let tx = lang(&p);
    let web = crate::web::ctx(&s, &headers, None).await;
    let Some(unit) = p.unit.clone() else { return bad_request("unit is required") };
    let period = match data::period(freq(&p), p.period.as_deref()) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let signed_in = web.staff().map(|(_, who)| (who.subject.clone(), web.csrf_field()));
    match unit_body(&s.authority.store, &tx, &unit, &period, p.ok.is_some(), signed_in).await {
        Ok(Some((title, body))) => {
            page(&tx, &title, &link(&tx, "/campaign/reports/unit", &unit, &period), &body).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

async fn unit_body(
    store: &Store,
    tx: &Text,
    unit: &str,
    period: &Period,
    just_submitted: bool,
    signed_in: Option<(String, String)>,
) -> Fallible<Option<(String, String)>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let figures = data::prefill(store, unit, period, now).await?;
    let previous = data::submissions(store, unit, period).await?;
    let title = format!("{} — {}", tx.t("Báo cáo", "Report"), name);
    let mut body = String::from(EXTRA_STYLE);
    let due = kyso_campaign::reports::rollup(&data::rules(), period, &[], &[], now).due;
    let _ = write!(
        body,
        "<p><strong>{}</strong>. {} {:02}:{:02} {:02}/{:02}/{}.</p>{}",
        label(period, tx.en),
        tx.t("Hạn nộp", "Due"),
        due.hour(),
        due.minute(),
        due.day(),
        u8::from(due.month()),
        due.year(),
        period_form(tx, "/campaign/reports/unit", unit, period),
    );
    if just_submitted {
        let _ = write!(body, "<p class=\"badge green\">{}</p>", tx.t("Đã nộp báo cáo.", "Report submitted."));
    }
    let _ = write!(
        body,
        "<h2>{}</h2><p class=\"muted\">{}</p>",
        tx.t("Số liệu (tự động từ dữ liệu)", "Figures (filled in from live data)"),
        tx.t(
            "Số liệu đến hết ngày cuối kỳ; cấp xã tính từ danh sách dân cư và chứng thư đã cấp, cấp trên cộng số liệu các đơn vị đã nộp.",
            "Figures at the end of the period's last day; a commune's from its register and the certificates issued, a higher unit's the sum of what its units submitted."
        ),
    );
    body.push_str(&figures_table(tx, &figures));
    for (row, f) in previous.iter().rev() {
        let _ = write!(
            body,
            "<h2>{} {} — {}</h2><p>{}: {} {}</p><p><strong>{}</strong><br>{}</p><p><strong>{}</strong><br>{}</p>",
            tx.t("Đã nộp lúc", "Submitted at"),
            esc(&vn_time(row.submitted_at)),
            esc(&row.submitted_by),
            tx.t("Số liệu khi nộp", "Figures when submitted"),
            f.holders,
            tx.t("người có chứng thư", "holders"),
            tx.t("Khó khăn, vướng mắc", "Difficulties"),
            esc(&row.difficulties).replace('\n', "<br>"),
            tx.t("Đề xuất, kiến nghị", "Proposals"),
            esc(&row.proposals).replace('\n', "<br>"),
        );
    }
    let _ = write!(
        body,
        "<h2>{}</h2><form method=\"post\" action=\"/campaign/reports/unit\">\
<input type=\"hidden\" name=\"unit\" value=\"{}\"><input type=\"hidden\" name=\"freq\" value=\"{}\">\
<input type=\"hidden\" name=\"period\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
<label for=\"d\">{}</label><textarea id=\"d\" name=\"difficulties\"></textarea>\
<label for=\"p\">{}</label><textarea id=\"p\" name=\"proposals\"></textarea>\
<label for=\"b\">{}</label><input type=\"text\" id=\"b\" name=\"by\" required>\
{}<button>{}</button></form><p class=\"noprint\"><a href=\"{}&amp;kind=report\">{}</a> · <a href=\"{}\">{}</a></p>",
        if previous.is_empty() {
            tx.t("Nộp báo cáo", "Submit the report")
        } else {
            tx.t("Nộp lại (bổ sung)", "Submit again (correction)")
        },
        esc(unit),
        period.frequency.name(),
        period.start,
        if tx.en { "en" } else { "vi" },
        tx.t("Khó khăn, vướng mắc", "Difficulties"),
        tx.t("Đề xuất, kiến nghị", "Proposals"),
        tx.t("Người báo cáo (họ tên, chức vụ)", "Submitted by (name, position)"),
        match &signed_in {
            // A signed-in officer submits under their account (CSRF-protected); otherwise the
            // operator token stands in.
            Some((who, csrf)) => format!("{csrf}<p class=\"muted\">{} {}</p>", tx.t("Nộp với tài khoản", "Submitting as"), esc(who)),
            None => format!(
                "<label for=\"t\">{}</label><input type=\"password\" id=\"t\" name=\"token\" required autocomplete=\"off\">",
                tx.t("Mã xác thực (operator token) — hoặc đăng nhập tài khoản cán bộ", "Operator token — or sign in as an officer")
            ),
        },
        tx.t("Nộp báo cáo", "Submit"),
        link(tx, "/campaign/reports/xlsx", unit, period),
        tx.t("Tải XLSX", "Download XLSX"),
        match data::parent(store, unit).await? {
            Some(parent) => link(tx, "/campaign/reports", &parent, period),
            None => link(tx, "/campaign/reports", unit, period),
        },
        tx.t("Tổng hợp cấp trên", "The roll-up above"),
    );
    Ok(Some((title, body)))
}

fn vn_time(secs: i64) -> String {
    let t = data::instant(secs).to_offset(kyso_campaign::deadlines::VIETNAM);
    format!("{:02}:{:02} {:02}/{:02}/{}", t.hour(), t.minute(), t.day(), u8::from(t.month()), t.year())
}

#[derive(Deserialize)]
pub struct SubmitForm {
    unit: String,
    freq: String,
    period: String,
    lang: Option<String>,
    #[serde(default)]
    difficulties: String,
    #[serde(default)]
    proposals: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

fn token_ok(s: &AppState, given: &str) -> bool {
    let want = s.operator_token.as_bytes();
    let given = given.trim().as_bytes();
    given.len() == want.len() && given.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The administrative area of a reporting unit, for the access decision.
async fn area_of(store: &Store, unit: &str) -> Fallible<Option<Area>> {
    Ok(match level(unit) {
        Level::National => Some(Area { province: data::NATIONAL.into(), commune: None }),
        Level::Province => Some(Area::province(unit)),
        Level::Commune => store
            .commune(unit)
            .await
            .map_err(|e| e.to_string())?
            .map(|c| Area { province: c.province_code, commune: Some(c.code) }),
    })
}

/// Who submits: a signed-in officer allowed to report for the unit (with the form's CSRF token),
/// or the holder of the operator token. `Err` is the answer to send back.
async fn submitter(s: &AppState, headers: &HeaderMap, f: &SubmitForm) -> Result<String, Response> {
    let web = crate::web::ctx(s, headers, None).await;
    if let Some((_, who)) = web.staff() {
        if !web.csrf_valid(&f.csrf) {
            return Err((StatusCode::FORBIDDEN, "the form expired: reload the page and submit again\n").into_response());
        }
        let area = match area_of(&s.authority.store, &f.unit).await {
            Ok(Some(a)) => a,
            Ok(None) => return Err(bad_request(format!("unknown unit {}", f.unit))),
            Err(e) => return Err(failure(e)),
        };
        return match decide(who, Action::SubmitReport, &Resource::Unit(&area)) {
            Ok(()) => Ok(format!("staff:{}", who.subject)),
            Err(_) => Err((StatusCode::FORBIDDEN, "your account may not report for this unit\n").into_response()),
        };
    }
    if token_ok(s, &f.token) {
        Ok("web".into())
    } else {
        Err((StatusCode::UNAUTHORIZED, "sign in as an officer, or enter the operator token\n").into_response())
    }
}

async fn unit_submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<SubmitForm>) -> Response {
    let actor = match submitter(&s, &headers, &f).await {
        Ok(actor) => actor,
        Err(answer) => return answer,
    };
    let period = match data::period(&f.freq, Some(&f.period)) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let submission = data::Submission {
        unit: &f.unit,
        period,
        by: &f.by,
        difficulties: &f.difficulties,
        proposals: &f.proposals,
        at: kyso_store::now(),
    };
    match data::submit(&s.authority.store, &submission, &actor).await {
        Ok(_) => {
            let en = if f.lang.as_deref() == Some("en") { "&lang=en" } else { "" };
            Redirect::to(&format!(
                "/campaign/reports/unit?unit={}&freq={}&period={}&ok=1{en}",
                f.unit,
                period.frequency.name(),
                period.start
            ))
            .into_response()
        }
        Err(e) if e.starts_with("unknown unit") || e.contains("has not ended") || e.starts_with("say who") => {
            bad_request(e)
        }
        Err(e) => failure(e),
    }
}

// ---- XLSX ----

async fn xlsx(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let Some(unit) = p.unit.clone() else { return bad_request("unit is required") };
    let period = match data::period(freq(&p), p.period.as_deref()) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let rollup = p.kind.as_deref() == Some("rollup");
    match xlsx_bytes(&s.authority.store, &unit, &period, rollup).await {
        Ok(Some(bytes)) => {
            let file = format!(
                "{}-{unit}-{}-{}.xlsx",
                if rollup { "tong-hop" } else { "bao-cao" },
                period.frequency.name(),
                period.start
            );
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

/// A unit's report, or its roll-up, as XLSX; `None` for an unknown unit.
pub async fn xlsx_bytes(store: &Store, unit: &str, period: &Period, rollup: bool) -> Fallible<Option<Vec<u8>>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let bytes = if rollup {
        let (r, names) = data::rollup(store, unit, period, now).await?;
        crate::report_xlsx::rollup(unit, &name, &r, &names)
    } else {
        let figures = data::prefill(store, unit, period, now).await?;
        let submissions = data::submissions(store, unit, period).await?;
        let due = data::rules().due(period);
        crate::report_xlsx::report(unit, &name, period, due, &figures, submissions.last().map(|(r, _)| r))
    };
    bytes.map(Some).map_err(|e| e.to_string())
}

// ---- /campaign/tasks ----

async fn tasks_page(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let tx = lang(&p);
    match tasks_body(&s.authority.store, &tx, p.unit.as_deref()).await {
        Ok(body) => page(&tx, tx.t("Danh mục nhiệm vụ", "Task register"), "/campaign/tasks", &body).into_response(),
        Err(e) => failure(e),
    }
}

async fn tasks_body(store: &Store, tx: &Text, unit: Option<&str>) -> Fallible<String> {
    let today = data::today()?;
    let list = data::tasks(store, unit).await?;
    let all: Vec<_> = list.iter().map(|(_, t)| t.clone()).collect();
    let sum = kyso_campaign::tasks::summary(&all, today);
    let mut body = String::from(EXTRA_STYLE);
    let _ = write!(
        body,
        "<p>{} {today}: {} {}, {} {}, {} {}, <span class=\"overdue\">{} {}</span>.</p>",
        tx.t("Ngày", "On"),
        sum.done,
        tx.t("hoàn thành", "done"),
        sum.in_progress,
        tx.t("đang thực hiện", "in progress"),
        sum.not_started,
        tx.t("chưa thực hiện", "not started"),
        sum.overdue,
        tx.t("quá hạn", "overdue"),
    );
    for (row, t) in &list {
        let overdue = t.overdue(today);
        let status = if tx.en { t.status.name().replace('_', " ") } else { t.status.vietnamese().to_owned() };
        let class = match t.status {
            kyso_campaign::tasks::TaskStatus::Done => "green",
            _ if overdue => "red",
            _ => "amber",
        };
        let dash = |s: &str| if s.is_empty() { "—".to_owned() } else { esc(s) };
        let _ = write!(
            body,
            "<div class=\"task\"><p><strong>{}.</strong> {} <span class=\"badge {class}\">{}</span>{}</p><dl>\
<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>{}</dl></div>",
            esc(&row.number),
            esc(&row.name).replace('\n', "<br>"),
            esc(&status),
            if overdue {
                format!(" <span class=\"overdue\">{}</span>", tx.t("Quá hạn", "Overdue"))
            } else {
                String::new()
            },
            tx.t("Đơn vị chủ trì", "Lead"),
            dash(&row.lead),
            tx.t("Đơn vị phối hợp", "Coordinating"),
            dash(&row.coordinating),
            tx.t("Kết quả", "Expected result"),
            dash(&row.expected_result),
            tx.t("Thời gian hoàn thành", "Deadline"),
            esc(&row.deadline),
            if row.note.is_empty() {
                String::new()
            } else {
                format!("<dt>{}</dt><dd>{}</dd>", tx.t("Ghi chú", "Note"), esc(&row.note))
            },
        );
    }
    Ok(body)
}

// ---- the dashboard's part ----

/// Segment targets and 100 %-of-staff targets with their progress on `date`, and links to the
/// reports and the task register; appended to `/campaign`.
pub(crate) async fn dashboard_section(store: &Store, tx: &Text, date: &str) -> Fallible<String> {
    let on = parse_date(date)?;
    let mut out = String::new();
    for (set, plan, progress) in data::segment_progress(store, on).await? {
        let name = data::unit_name(store, &set.unit_code).await?.unwrap_or_else(|| set.unit_code.clone());
        let mut rows = String::new();
        for p in &progress {
            let (count, share) = match p.holders {
                Some(n) => (n.to_string(), pct(Percent::share(n, p.target))),
                None => {
                    (format!("<span class=\"muted\">{}</span>", tx.t("chưa có số liệu", "no data yet")), "–".into())
                }
            };
            let _ = write!(
                rows,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{count}</td><td class=\"n\">{share}</td></tr>",
                esc(&p.name),
                p.target
            );
        }
        let warnings = plan.check();
        let _ = write!(
            out,
            "<h2>{} — {} ({})</h2><div class=\"scroll\"><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th>\
<th class=\"n\">%</th></tr>{rows}<tr><th>{}</th><th class=\"n\">{}</th><th></th><th></th></tr></table></div><p><small>{}{}{}</small></p>",
            tx.t("Chỉ tiêu theo khối", "Segment targets"),
            esc(&name),
            esc(&set.period),
            tx.t("Khối", "Segment"),
            tx.t("Chỉ tiêu", "Target"),
            tx.t("Đã có chứng thư", "Holders"),
            tx.t("Tổng", "Total"),
            set.total,
            tx.t(
                "Mỗi người chỉ tính vào một khối, theo thứ tự trong bảng. Khối theo danh sách cán bộ: đếm từ danh sách đã nhập; người dân: từ danh sách dân cư.",
                "Each holder counts in one segment, in table order. Listed segments count from imported staff lists; citizens from the register."
            ),
            if warnings.iter().any(|w| matches!(w, kyso_campaign::plan::SegmentWarning::SumMismatch { .. })) {
                tx.t(" Tổng các khối khác tổng chỉ tiêu.", " The segments do not add up to the total.")
            } else {
                ""
            },
            if set.source.is_empty() { String::new() } else { format!(" {}: {}.", tx.t("Nguồn", "Source"), esc(&set.source)) },
        );
    }
    for s in data::staff_progress(store, on).await? {
        let name = data::unit_name(store, &s.unit).await?.unwrap_or_else(|| s.unit.clone());
        let mut rows = String::new();
        for a in &s.agencies {
            let _ = write!(
                rows,
                "<tr><td>{}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&a.agency),
                a.holders,
                a.staff,
                pct(Percent::share(a.holders, a.staff)),
                a.missing()
            );
        }
        let _ = write!(
            out,
            "<h2>{} — {}</h2><p>{} {}.</p><div class=\"scroll\"><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">%</th>\
<th class=\"n\">{}</th></tr>{rows}</table></div>",
            tx.t("100% cán bộ, công chức có chứng thư số", "100 % of staff with a certificate"),
            esc(&name),
            tx.t("Chỉ tiêu 100% đến", "Target 100 % by"),
            esc(s.deadline.as_deref().unwrap_or("–")),
            tx.t("Cơ quan, đơn vị", "Agency"),
            tx.t("Có chứng thư / danh sách", "Holders / listed"),
            tx.t("Còn thiếu", "Missing"),
        );
    }
    let _ = write!(
        out,
        "<h2>{}</h2><p><a href=\"/campaign/reports{}\">{}</a> · <a href=\"/campaign/tasks{}\">{}</a></p>",
        tx.t("Báo cáo và nhiệm vụ", "Reports and tasks"),
        if tx.en { "?lang=en" } else { "" },
        tx.t("Báo cáo tuần, tháng và tổng hợp", "Weekly and monthly reports, roll-up"),
        if tx.en { "?lang=en" } else { "" },
        tx.t("Danh mục nhiệm vụ", "Task register"),
    );
    Ok(out)
}
