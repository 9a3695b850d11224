//! Report and task pages: `/campaign/reports` (a unit's roll-up of a period with who submitted, on
//! time or late, and completeness over recent periods), `/campaign/reports/unit` (a unit's report:
//! figures pre-filled from live data, difficulties and proposals written and submitted),
//! `/campaign/tasks` (the task register, overdue flagged) and the dashboard's segment and staff
//! targets. Vietnamese first, `?lang=en`; no scripts; fits a 360-px phone.
//!
//! Submitting takes a signed-in officer whom `kyso_access::decide` allows to report for the unit
//! (or the operator token); every submission is audited under its submitter.
//!
//! Who reads what (`Action::ReadReports`): everyone sees the figures of every unit and whether
//! its report came in (on time, late, missing), as the plans publish them, in the pages and the
//! XLSX. Only staff that `decide` allows to read the unit's reports see what officers wrote
//! (difficulties, proposals), who submitted and when, and earlier submissions.

use crate::campaign_data::Fallible;
use crate::dashboard::{esc, failure, page, Text};
use crate::input::{self, Bad, Form, Query};
use crate::report_data::{self as data, level, Level};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
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

/// A report query, typed: the unit, the period (frequency and first day), XLSX kind.
struct Typed {
    tx: Text,
    unit: String,
    period: Period,
    rollup: bool,
}

fn typed(p: &Params, default_unit: Option<&str>) -> Result<Typed, Bad> {
    let tx = crate::dashboard::lang_param(p.lang.as_deref())?;
    let unit = match (p.unit.as_deref().filter(|u| !u.trim().is_empty()), default_unit) {
        (Some(u), _) => unit_code(u)?,
        (None, Some(d)) => d.to_owned(),
        (None, None) => return Err(Bad::new("unit", "còn thiếu.", "is missing.")),
    };
    let freq = input::one_of("freq", p.freq.as_deref().unwrap_or("weekly"), &["weekly", "monthly"])?;
    let period = typed_period(freq, input::opt_day("period", p.period.as_deref())?)?;
    let rollup = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        None => false,
        Some(k) => input::one_of("kind", k, &["report", "rollup"])? == "rollup",
    };
    Ok(Typed { tx, unit, period, rollup })
}

fn unit_code(u: &str) -> Result<String, Bad> {
    let u = u.trim();
    if !valid_unit(u) {
        return Err(Bad::new(
            "unit",
            "mã xã (5 chữ số), mã tỉnh (2 chữ số) hoặc VN.",
            "a commune (5 digits), province (2 digits) or VN.",
        ));
    }
    Ok(u.to_owned())
}

fn typed_period(freq: &str, start: Option<time::Date>) -> Result<Period, Bad> {
    data::period(freq, start.map(|d| d.to_string()).as_deref()).map_err(|_| {
        Bad::new(
            "period",
            "không phải ngày bắt đầu của một kỳ báo cáo (tuần bắt đầu thứ Năm, tháng bắt đầu ngày 1).",
            "is not the first day of a report period (weeks start on Thursday, months on the 1st).",
        )
    })
}

/// May the signed-in staff member read what officers wrote in this unit's reports?
async fn may_read(s: &AppState, headers: &HeaderMap, unit: &str) -> bool {
    let web = crate::web::ctx(s, headers, None).await;
    let Some((_, who)) = web.staff() else { return false };
    match area_of(&s.authority.store, unit).await {
        Ok(Some(area)) => decide(who, Action::ReadReports, &Resource::Unit(&area)).is_ok(),
        _ => false,
    }
}

fn q(tx: &Text) -> &'static str {
    if tx.en {
        "&amp;lang=en"
    } else {
        ""
    }
}

/// Unit codes are short and alphanumeric (they end up in links and redirects).
fn valid_unit(unit: &str) -> bool {
    (2..=8).contains(&unit.len()) && unit.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn link(tx: &Text, path: &str, unit: &str, period: &Period) -> String {
    format!("{path}?unit={}&amp;freq={}&amp;period={}{}", esc(unit), period.frequency.name(), period.start, q(tx))
}

/// A unit's submission status; the time it came in only for readers of its reports (`full`).
fn status_cell(tx: &Text, s: &ReportStatus, full: bool) -> String {
    let time = |at: &time::OffsetDateTime| {
        if full {
            format!("{:02}:{:02} {:02}/{:02}", at.hour(), at.minute(), at.day(), u8::from(at.month()))
        } else {
            String::new()
        }
    };
    match s {
        ReportStatus::OnTime { at } => {
            format!("<span class=\"badge green\">{}</span> <small>{}</small>", tx.t("Đúng hạn", "On time"), time(at))
        }
        ReportStatus::Late { at, minutes } => format!(
            "<span class=\"badge amber\">{}</span> <small>{} ({} {})</small>",
            tx.t("Trễ hạn", "Late"),
            time(at),
            if full { late_text(*minutes) } else { String::new() },
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

async fn overview(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let Typed { tx, unit, period, .. } = match typed(&p, Some(data::NATIONAL)) {
        Ok(t) => t,
        Err(bad) => return bad.page(lang(&p).en),
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
    let full = may_read(&s, &headers, &unit).await;
    match overview_body(&s.authority.store, &tx, &unit, &period, full).await {
        Ok(Some((title, body))) => {
            page(&tx, &title, &link(&tx, "/campaign/reports", &unit, &period), &body).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

fn rollup_table(tx: &Text, r: &Rollup, names: &[String], period: &Period, full: bool) -> String {
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
            status_cell(tx, &row.status, full),
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

async fn overview_body(
    store: &Store,
    tx: &Text,
    unit: &str,
    period: &Period,
    full: bool,
) -> Fallible<Option<(String, String)>> {
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
    body.push_str(&rollup_table(tx, &roll, &names, period, full));
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
    let Typed { tx, unit, period, .. } = match typed(&p, None) {
        Ok(t) => t,
        Err(bad) => return bad.page(lang(&p).en),
    };
    let web = crate::web::ctx(&s, &headers, None).await;
    let signed_in = web.staff().map(|(_, who)| (who.subject.clone(), web.csrf_field()));
    let full = may_read(&s, &headers, &unit).await;
    match unit_body(&s.authority.store, &tx, &unit, &period, (p.ok.is_some(), full), signed_in).await {
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
    (just_submitted, full): (bool, bool),
    signed_in: Option<(String, String)>,
) -> Fallible<Option<(String, String)>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let figures = data::prefill(store, unit, period, now).await?;
    // What officers wrote, who and when: only for those allowed to read this unit's reports.
    let previous = if full { data::submissions(store, unit, period).await? } else { Vec::new() };
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
    if !full {
        let _ = write!(
            body,
            "<p class=\"muted\">{}</p>",
            tx.t(
                "Nội dung báo cáo đã nộp (khó khăn, đề xuất, người báo cáo, thời điểm nộp) chỉ cán bộ có thẩm quyền xem sau khi đăng nhập.",
                "What was submitted (difficulties, proposals, who submitted and when) is shown only to authorised staff after signing in."
            )
        );
    }
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
            Ok(None) => {
                let en = f.lang.as_deref() == Some("en");
                return Err(Bad::new("unit", "không có đơn vị này.", "no such unit.").page(en));
            }
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

/// The form's values, typed and within the store's limits.
fn typed_submission(f: &SubmitForm) -> Result<(String, Period), Bad> {
    use kyso_store::limits::{PROPOSALS, REPORT_TEXT, SUBMITTED_BY};
    let unit = unit_code(&f.unit)?;
    let freq = input::one_of("freq", &f.freq, &["weekly", "monthly"])?;
    let period = typed_period(freq, Some(input::day("period", &f.period)?))?;
    input::text(SUBMITTED_BY, f.by.trim())?;
    input::text(REPORT_TEXT, f.difficulties.trim())?;
    input::text(PROPOSALS, f.proposals.trim())?;
    if f.by.trim().is_empty() {
        return Err(Bad::new("by", "hãy ghi họ tên và chức vụ người báo cáo.", "say who submits (name and position)."));
    }
    Ok((unit, period))
}

async fn unit_submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<SubmitForm>) -> Response {
    let en = f.lang.as_deref() == Some("en");
    let (unit, period) = match typed_submission(&f) {
        Ok(v) => v,
        Err(bad) => return bad.page(en),
    };
    let actor = match submitter(&s, &headers, &f).await {
        Ok(actor) => actor,
        Err(answer) => return answer,
    };
    let submission = data::Submission {
        unit: &unit,
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
                unit,
                period.frequency.name(),
                period.start
            ))
            .into_response()
        }
        Err(e) if e.starts_with("unknown unit") => Bad::new("unit", "không có đơn vị này.", "no such unit.").page(en),
        Err(e) if e.contains("has not ended") => Bad::new(
            "period",
            format!("kỳ báo cáo chưa kết thúc: nộp từ ngày {}.", period.end),
            format!("the period has not ended yet: report it from {}.", period.end),
        )
        .page(en),
        Err(e) => failure(e),
    }
}

// ---- XLSX ----

async fn xlsx(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let Typed { unit, period, rollup, .. } = match typed(&p, None) {
        Ok(t) => t,
        Err(bad) => return bad.page(lang(&p).en),
    };
    let full = may_read(&s, &headers, &unit).await;
    match xlsx_bytes_for(&s.authority.store, &unit, &period, rollup, full).await {
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

// Moved to kyso-tracker; named here for the handler above and old callers.
pub use kyso_tracker::report_xlsx::{xlsx_bytes, xlsx_bytes_for};

// ---- /campaign/tasks ----

async fn tasks_page(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let typed = (|| {
        let tx = crate::dashboard::lang_param(p.lang.as_deref())?;
        let unit = p.unit.as_deref().filter(|u| !u.trim().is_empty()).map(unit_code).transpose()?;
        Ok::<_, Bad>((tx, unit))
    })();
    let (tx, unit) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(lang(&p).en),
    };
    match tasks_body(&s.authority.store, &tx, unit.as_deref()).await {
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
