//! Report pages: `/campaign/reports` (a unit's roll-up of a period with who submitted, on time or
//! late, and completeness over recent periods; `templates/campaign/rollup.html`),
//! `/campaign/reports/unit` (a unit's report: figures pre-filled from live data, difficulties and
//! proposals written and submitted; `templates/campaign/report.html`) and their XLSX.
//! Vietnamese first, `?lang=en`; no scripts; fits a 360-px phone.
//!
//! Submitting takes a signed-in officer whom `kyso_access::decide` allows to report for the unit
//! (or the operator token); every submission is audited under its submitter.
//!
//! Who reads what (`Action::ReadReports`): everyone sees the figures of every unit and whether
//! its report came in (on time, late, missing), as the plans publish them, in the pages and the
//! XLSX. Only staff that `decide` allows to read the unit's reports see what officers wrote
//! (difficulties, proposals), who submitted and when, and earlier submissions.

use super::{asks_en, failure, frame, lang_param, pct, xlsx_download};
use crate::i18n::Lang;
use crate::input::{self, Bad, Form, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kyso_access::{decide, Action, Area, Resource};
use kyso_campaign::deadlines::Period;
use kyso_campaign::reports::{label, Figures, ReportStatus, ReviewState, Rollup};
use kyso_store::Store;
use kyso_tracker::read::Fallible;
use kyso_tracker::reports::{self as data, level, Level};
use serde::Deserialize;
use time::OffsetDateTime;

#[derive(Deserialize, Default)]
pub struct Params {
    lang: Option<String>,
    unit: Option<String>,
    freq: Option<String>,
    period: Option<String>,
    kind: Option<String>,
    ok: Option<String>,
    /// After a review: `approved` or `returned`.
    reviewed: Option<String>,
}

/// A report query, typed: the unit, the period (frequency and first day), XLSX kind.
struct Typed {
    l: Lang,
    unit: String,
    period: Period,
    rollup: bool,
}

fn typed(p: &Params, default_unit: Option<&str>) -> Result<Typed, Bad> {
    let l = lang_param(p.lang.as_deref())?;
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
    Ok(Typed { l, unit, period, rollup })
}

/// Unit codes are short and alphanumeric (they end up in links and redirects).
pub(super) fn unit_code(u: &str) -> Result<String, Bad> {
    let u = u.trim();
    let agency = kyso_campaign::approval::agency_parts(u).is_some();
    if !agency && (!(2..=8).contains(&u.len()) || !u.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return Err(Bad::new(
            "unit",
            "phải là mã xã (5 chữ số), mã tỉnh (2 chữ số), VN hoặc mã cơ quan (như 01960-CA).",
            "must be a commune (5 digits), a province (2 digits), VN or an agency (such as 01960-CA).",
        ));
    }
    Ok(u.to_owned())
}

fn typed_period(freq: &str, start: Option<time::Date>) -> Result<Period, Bad> {
    data::period(freq, start.map(|d| d.to_string()).as_deref()).map_err(|_| {
        Bad::new(
            "period",
            "phải là ngày đầu của một kỳ (tuần bắt đầu thứ Năm, tháng bắt đầu ngày 1).",
            "must be the first day of a period (weeks start on Thursday, months on the 1st).",
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

/// A report page of `unit` for `period` (without the language: see [`Lang::href`]).
fn link(path: &str, unit: &str, period: &Period) -> String {
    format!("{path}?unit={unit}&freq={}&period={}", period.frequency.name(), period.start)
}

/// `dd/mm/yyyy HH:MM` (the instant is in Vietnam time already).
fn clock(t: OffsetDateTime) -> String {
    format!("{} {:02}:{:02}", kyso_fmt::date(t.date()), t.hour(), t.minute())
}

/// What the period form and the heading of both report pages show.
struct PeriodView {
    label: String,
    due: String,
    unit: String,
    weekly: bool,
    start: String,
}

impl PeriodView {
    fn new(l: Lang, unit: &str, period: &Period, due: OffsetDateTime) -> PeriodView {
        PeriodView {
            label: label(period, l.en()),
            due: clock(due),
            unit: unit.to_owned(),
            weekly: period.frequency.name() == "weekly",
            start: period.start.to_string(),
        }
    }
}

/// A unit's submission status: a label, and the time it came in only for readers of its reports.
struct StatusCell {
    class: &'static str,
    label: &'static str,
    small: Option<String>,
}

impl StatusCell {
    fn new(l: Lang, s: &ReportStatus, full: bool) -> StatusCell {
        let time = |at: &OffsetDateTime| {
            if full {
                format!("{:02}:{:02} {:02}/{:02}", at.hour(), at.minute(), at.day(), u8::from(at.month()))
            } else {
                String::new()
            }
        };
        let (class, label, small) = match s {
            ReportStatus::OnTime { at } => ("badge green", l.t("Đúng hạn", "On time"), Some(time(at))),
            ReportStatus::Late { at, minutes } => {
                let late = if full { late_text(*minutes) } else { String::new() };
                ("badge amber", l.t("Trễ hạn", "Late"), Some(format!("{} ({late} {})", time(at), l.t("trễ", "late"))))
            }
            ReportStatus::Pending => ("muted", l.t("Chưa đến hạn", "Not yet due"), None),
            ReportStatus::Missing => ("badge red", l.t("Chưa nộp", "Missing"), None),
        };
        StatusCell { class, label, small }
    }
}

fn late_text(minutes: i64) -> String {
    match minutes {
        m if m < 60 => format!("{m} ph"),
        m if m < 24 * 60 => format!("{} h {:02}", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

/// The figures of a report as label and value.
fn figure_rows(l: Lang, f: &Figures) -> Vec<(&'static str, String)> {
    let rate = |x100: u64| l.dec(x100 as f64 / 100.0, 2);
    let mut rows = vec![
        (l.t("Người trong độ tuổi", "Adults"), l.num(f.adults)),
        (l.t("Đã có chứng thư số", "Holders"), l.num(f.holders)),
        (l.t("Tỷ lệ", "Share"), pct(l, f.share())),
        (
            l.t("Chỉ tiêu (tổng số / tăng thêm)", "Target (level / increment)"),
            format!("{} / {}", l.num(f.target_level), l.num(f.target_increment)),
        ),
        (l.t("So với chỉ tiêu (tổng số)", "Of the target (level)"), pct(l, f.of_target())),
        (
            l.t("Mốc kế tiếp (tổng số / tăng thêm)", "Next milestone (level / increment)"),
            if f.milestone_level == 0 {
                "–".into()
            } else {
                format!("{} / {}", l.num(f.milestone_level), l.num(f.milestone_increment))
            },
        ),
        (l.t("Chứng thư cấp mới trong kỳ", "Certificates issued in the period"), l.num(f.new_certificates)),
        (l.t("Người có chứng thư tăng thêm trong kỳ", "New holders in the period"), l.num(f.new_holders)),
        (l.t("Lượt đến từng nhà trong kỳ", "Door-to-door visits in the period"), l.num(f.visits_total())),
    ];
    for (outcome, n) in &f.visits {
        rows.push(("", format!("{outcome}: {}", l.num(n))));
    }
    rows.push((l.t("Tốc độ 14 ngày (người/ngày)", "14-day rate (per day)"), rate(f.run_rate_x100)));
    let required = if f.past_deadline > 0 && f.green + f.amber + f.red <= 1 {
        l.t("đã quá hạn", "deadline passed").to_owned()
    } else {
        rate(f.required_rate_x100)
    };
    rows.push((l.t("Tốc độ cần đạt (người/ngày)", "Required rate (per day)"), required));
    if f.green + f.amber + f.red > 1 {
        rows.push((l.t("Số đơn vị đã quá hạn chỉ tiêu", "Units past their deadline"), l.num(f.past_deadline)));
    }
    rows.push((
        l.t("Dự báo: đúng / cần tăng tốc / chậm", "Forecast: on track / behind / off track"),
        format!("{} / {} / {}", l.num(f.green), l.num(f.amber), l.num(f.red)),
    ));
    let signed = f.signed_dossiers();
    rows.push((
        l.t("Hồ sơ cần ký số trong kỳ / đã ký đầy đủ", "Dossiers needing signatures / fully signed"),
        format!("{} / {}", signed.needing, signed.fully_signed),
    ));
    rows.push((l.t("Tỷ lệ hồ sơ được ký số đầy đủ", "Share of dossiers fully signed"), pct(l, signed.share())));
    rows.push((
        l.t("Người có chứng thư đã ký số trong kỳ / người có chứng thư", "Holders who signed in the period / holders"),
        format!("{} / {}", f.signers, f.holders),
    ));
    rows.push((
        l.t("Định danh điện tử mức 2 / người trong độ tuổi", "Level-2 e-ID / adults"),
        format!("{} / {} ({})", l.num(f.eid_level2), l.num(f.adults), pct(l, f.eid_share())),
    ));
    rows.push((
        l.t("Cán bộ, thành viên tổ công nghệ số đã tập huấn", "Staff and community-team members trained"),
        format!("{} / {} ({})", l.num(f.trained), l.num(f.training_people), pct(l, f.trained_share())),
    ));
    rows
}

// ---- /campaign/reports ----

#[derive(Template)]
#[template(path = "campaign/rollup.html")]
struct RollupPage {
    frame: Frame,
    period: PeriodView,
    rows: Vec<RollupLine>,
    /// Units that submitted of those expected, and the total of their figures.
    submitted: String,
    total: [String; 5],
    unexpected: String,
    /// The figure columns' headings, repeated beside each value when the table reflows on a phone.
    heads: [&'static str; 5],
    xlsx: String,
    own: String,
    parent: Option<String>,
    history: Vec<PeriodLine>,
}

/// A unit's line of the roll-up.
struct RollupLine {
    link: String,
    name: String,
    status: StatusCell,
    /// The level above's review of the latest submission: (badge class, label).
    review: Option<(&'static str, &'static str)>,
    /// Holders / adults, share, share of the target, certificates issued, visits.
    cells: [String; 5],
}

/// A review state as a badge: (class, label).
pub(super) fn review_badge(l: Lang, s: ReviewState) -> (&'static str, &'static str) {
    let class = match s {
        ReviewState::Approved => "badge green",
        ReviewState::Returned => "badge red",
        ReviewState::Submitted => "badge amber",
    };
    (class, l.t(s.label().0, s.label().1))
}

/// A period's completeness: expected, on time, late, missing, pending, complete, timely.
struct PeriodLine {
    link: String,
    label: String,
    cells: [String; 7],
}

pub async fn overview(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let Typed { l, unit, period, .. } = match typed(&p, Some(data::NATIONAL)) {
        Ok(t) => t,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    if matches!(level(&unit), Level::Commune | Level::Agency) {
        return Redirect::to(&l.href(&link("/campaign/reports/unit", &unit, &period))).into_response();
    }
    let full = may_read(&s, &headers, &unit).await;
    match rollup_page(s.authority.read_store(), l, &unit, &period, full).await {
        Ok(Some(page)) => render(&page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

fn figure_cells(l: Lang, f: &Figures) -> [String; 5] {
    [
        format!("{} / {}", l.num(f.holders), l.num(f.adults)),
        pct(l, f.share()),
        pct(l, f.of_target()),
        l.num(f.new_certificates),
        l.num(f.visits_total()),
    ]
}

fn rollup_lines(l: Lang, r: &Rollup, names: &[String], period: &Period, full: bool) -> Vec<RollupLine> {
    r.rows
        .iter()
        .zip(names)
        .map(|(row, name)| {
            let path = if matches!(level(&row.unit_code), Level::Commune | Level::Agency) {
                "/campaign/reports/unit"
            } else {
                "/campaign/reports"
            };
            RollupLine {
                link: link(path, &row.unit_code, period),
                name: name.clone(),
                status: StatusCell::new(l, &row.status, full),
                review: row.review.map(|s| review_badge(l, s)),
                cells: row.figures.as_ref().map_or_else(|| ["–"; 5].map(String::from), |f| figure_cells(l, f)),
            }
        })
        .collect()
}

fn period_lines(l: Lang, unit: &str, list: &[Rollup]) -> Vec<PeriodLine> {
    let rate = |x: Option<f64>| x.map_or("–".into(), |x| kyso_fmt::percent(x * 100.0, 0, l.style()));
    list.iter()
        .map(|r| PeriodLine {
            link: link("/campaign/reports", unit, &r.period),
            label: label(&r.period, l.en()),
            cells: [
                l.num(r.expected()),
                l.num(r.count("on_time")),
                l.num(r.count("late")),
                l.num(r.count("missing")),
                l.num(r.count("pending")),
                rate(r.completeness()),
                rate(r.timeliness()),
            ],
        })
        .collect()
}

async fn rollup_page(store: &Store, l: Lang, unit: &str, period: &Period, full: bool) -> Fallible<Option<RollupPage>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let (roll, names) = data::rollup(store, unit, period, now).await?;
    let history = data::completeness(store, unit, period, 8, now).await?;
    let title = format!("{} — {}", l.t("Báo cáo tổng hợp", "Report roll-up"), name);
    let here = link("/campaign/reports", unit, period);
    Ok(Some(RollupPage {
        period: PeriodView::new(l, unit, period, roll.due),
        rows: rollup_lines(l, &roll, &names, period, full),
        submitted: format!("{}/{}", roll.count("on_time") + roll.count("late"), roll.expected()),
        total: figure_cells(l, &roll.total),
        unexpected: roll.unexpected.join(", "),
        heads: [
            l.t("Có chứng thư / trong độ tuổi", "Holders / adults"),
            "%",
            l.t("% chỉ tiêu", "% of target"),
            l.t("Cấp mới", "Issued"),
            l.t("Lượt thăm", "Visits"),
        ],
        xlsx: format!("{}&kind=rollup", link("/campaign/reports/xlsx", unit, period)),
        own: link("/campaign/reports/unit", unit, period),
        parent: data::parent(store, unit).await?.map(|parent| link("/campaign/reports", &parent, period)),
        history: period_lines(l, unit, &history),
        frame: frame(l, title, here),
    }))
}

// ---- /campaign/reports/unit ----

#[derive(Template)]
#[template(path = "campaign/report.html")]
struct ReportPage {
    frame: Frame,
    period: PeriodView,
    freq: &'static str,
    just_submitted: bool,
    figures: Vec<(&'static str, String)>,
    /// The reader may see what officers wrote.
    full: bool,
    previous: Vec<Previous>,
    /// The signed-in officer and the form's CSRF token; else the operator token is asked for.
    signed_in: Option<(String, String)>,
    xlsx: String,
    above: String,
    /// The level above's review of the latest submission and the returns before it.
    review: Option<ReviewView>,
    /// The report was approved: its figures are frozen, no new submission.
    frozen: bool,
    /// The signed-in officer may approve or return the latest submission (with the CSRF token).
    review_form: Option<String>,
    /// What just happened: approved or returned.
    reviewed: Option<&'static str>,
    /// A weekly report's most-asked hotline topics in the unit's area: (topic, asked, answered).
    topics: Vec<(&'static str, String, String)>,
}

/// A review as the report page shows it.
struct ReviewView {
    badge: (&'static str, &'static str),
    by: String,
    at: String,
    /// Returns of this period with their reasons, oldest first (at, by, reason).
    returns: Vec<(String, String, Vec<String>)>,
}

/// An earlier submission, newest first.
struct Previous {
    at: String,
    by: String,
    holders: u64,
    difficulties: Vec<String>,
    proposals: Vec<String>,
}

pub async fn unit_page(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let Typed { l, unit, period, .. } = match typed(&p, None) {
        Ok(t) => t,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    let web = crate::web::ctx(&s, &headers, None).await;
    let signed_in = web.staff().map(|(_, who)| (who.subject.clone(), web.csrf.clone()));
    let full = may_read(&s, &headers, &unit).await;
    let approver = match (web.staff(), area_of(&s.authority.store, &unit).await) {
        (Some((_, who)), Ok(Some(area))) => {
            decide(who, Action::ApproveReport, &Resource::Unit(&area)).is_ok().then(|| web.csrf.clone())
        }
        _ => None,
    };
    let reviewed = match p.reviewed.as_deref() {
        Some("approved") => Some(l.t("Đã phê duyệt báo cáo.", "Report approved.")),
        Some("returned") => Some(l.t("Đã trả lại báo cáo.", "Report returned.")),
        _ => None,
    };
    let page = report_page(&s.authority.store, l, &unit, &period, (p.ok.is_some(), full), signed_in).await;
    let page = match page {
        Ok(Some(mut page)) => match review_view(&s.authority.store, l, &unit, &period, full).await {
            Ok((review, state)) => {
                page.frozen = state == Some(ReviewState::Approved);
                page.review_form = approver.filter(|_| state == Some(ReviewState::Submitted));
                page.review = review;
                page.reviewed = reviewed;
                Ok(Some(page))
            }
            Err(e) => Err(e),
        },
        other => other,
    };
    match page {
        Ok(Some(page)) => render(&page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}

async fn report_page(
    store: &Store,
    l: Lang,
    unit: &str,
    period: &Period,
    (just_submitted, full): (bool, bool),
    signed_in: Option<(String, String)>,
) -> Fallible<Option<ReportPage>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let figures = data::prefill(store, unit, period, now).await?;
    // What officers wrote, who and when: only for those allowed to read this unit's reports.
    let previous = if full { data::submissions(store, unit, period).await? } else { Vec::new() };
    let title = format!("{} — {}", l.t("Báo cáo", "Report"), name);
    let due = kyso_campaign::reports::rollup(&data::rules(), period, &[], &[], now).due;
    let lines = |s: &str| s.split('\n').map(str::to_owned).collect();
    let previous = previous
        .iter()
        .rev()
        .map(|(row, f)| Previous {
            at: clock(data::instant(row.submitted_at).to_offset(kyso_campaign::deadlines::VIETNAM)),
            by: row.submitted_by.clone(),
            holders: f.holders,
            difficulties: lines(&row.difficulties),
            proposals: lines(&row.proposals),
        })
        .collect();
    let above = match data::parent(store, unit).await? {
        Some(parent) => link("/campaign/reports", &parent, period),
        None => link("/campaign/reports", unit, period),
    };
    Ok(Some(ReportPage {
        frame: frame(l, title, link("/campaign/reports/unit", unit, period)),
        period: PeriodView::new(l, unit, period, due),
        freq: period.frequency.name(),
        just_submitted,
        figures: figure_rows(l, &figures),
        full,
        previous,
        signed_in,
        xlsx: format!("{}&kind=report", link("/campaign/reports/xlsx", unit, period)),
        above,
        review: None,
        frozen: false,
        review_form: None,
        reviewed: None,
        topics: hotline_topics(store, l, unit, period).await?,
    }))
}

/// The week's most-asked hotline topics of the unit's area (weekly reports only).
async fn hotline_topics(
    store: &Store,
    l: Lang,
    unit: &str,
    period: &Period,
) -> Fallible<Vec<(&'static str, String, String)>> {
    if period.frequency.name() != "weekly" {
        return Ok(Vec::new());
    }
    let scope = kyso_tracker::hotline::scope_of(unit);
    let top = kyso_tracker::hotline::topics(store, &scope, period, 5).await?;
    Ok(top.iter().map(|t| (l.t(t.topic.label().0, t.topic.label().1), l.num(t.asked), l.num(t.resolved))).collect())
}

/// The latest submission's review (who and when only for readers of the unit's reports) and its state.
async fn review_view(
    store: &Store,
    l: Lang,
    unit: &str,
    period: &Period,
    full: bool,
) -> Fallible<(Option<ReviewView>, Option<ReviewState>)> {
    let Some((_, state, latest)) = kyso_tracker::approval::latest(store, unit, period).await? else {
        return Ok((None, None));
    };
    let when = |at: Option<i64>| at.map(|t| l.datetime(t)).unwrap_or_default();
    let returns = if full {
        kyso_tracker::approval::history(store, unit, period)
            .await?
            .into_iter()
            .filter(|r| r.state == "returned")
            .map(|r| {
                (
                    when(r.reviewed_at),
                    r.reviewed_by.unwrap_or_default(),
                    r.reason.split('\n').map(str::to_owned).collect(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let view = ReviewView {
        badge: review_badge(l, state),
        by: if full { latest.reviewed_by.clone().unwrap_or_default() } else { String::new() },
        at: if full { when(latest.reviewed_at) } else { String::new() },
        returns,
    };
    Ok((Some(view), Some(state)))
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

/// The administrative area of a reporting unit (an agency's: the unit it reports beside), for
/// the access decision.
pub(super) async fn area_of(store: &Store, unit: &str) -> Fallible<Option<Area>> {
    if level(unit) == Level::Agency {
        if data::unit_name(store, unit).await?.is_none() {
            return Ok(None);
        }
        return Box::pin(area_of(store, data::admin_unit(unit))).await;
    }
    Ok(match level(unit) {
        Level::National => Some(Area { province: data::NATIONAL.into(), commune: None }),
        Level::Province => Some(Area::province(unit)),
        Level::Agency => None,
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
            Ok(None) => return Err(no_such_unit().page(asks_en(f.lang.as_deref()))),
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

fn no_such_unit() -> Bad {
    Bad::new("unit", "không có trong danh mục hành chính.", "is not in the list of administrative units.")
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
        return Err(Bad::new(
            "by",
            "còn thiếu: hãy ghi họ tên và chức vụ người báo cáo.",
            "is missing: write the submitter's name and position.",
        ));
    }
    Ok((unit, period))
}

pub async fn unit_submit(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<SubmitForm>) -> Response {
    let en = asks_en(f.lang.as_deref());
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
            let done = format!("{}&ok=1", link("/campaign/reports/unit", &unit, &period));
            Redirect::to(&Lang::from_en(en).href(&done)).into_response()
        }
        Err(e) if e.starts_with("unknown unit") => no_such_unit().page(en),
        Err(e) if e.contains("approved figures do not change") => {
            let mut bad = Bad::sentence(
                "period",
                "Báo cáo kỳ này đã được cấp trên phê duyệt; số liệu đã khóa, không nộp lại được.",
                "This period's report was approved by the level above; its figures are frozen and it cannot be submitted again.",
            );
            bad.status = StatusCode::CONFLICT;
            bad.page(en)
        }
        Err(e) if e.contains("has not ended") => Bad::new(
            "period",
            format!("chưa kết thúc: hãy nộp báo cáo từ ngày {}.", kyso_fmt::date(period.end)),
            format!("has not ended yet: submit the report from {}.", kyso_fmt::date(period.end)),
        )
        .page(en),
        Err(e) => failure(e),
    }
}

// ---- XLSX ----

pub async fn xlsx(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let Typed { unit, period, rollup, .. } = match typed(&p, None) {
        Ok(t) => t,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    let full = may_read(&s, &headers, &unit).await;
    match kyso_tracker::report_xlsx::xlsx_bytes_for(s.authority.read_store(), &unit, &period, rollup, full).await {
        Ok(Some(bytes)) => {
            let kind = if rollup { "tong-hop" } else { "bao-cao" };
            xlsx_download(&format!("{kind}-{unit}-{}-{}.xlsx", period.frequency.name(), period.start), bytes)
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => failure(e),
    }
}
