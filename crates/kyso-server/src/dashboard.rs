//! Campaign dashboard pages: `/campaign` (per plan: adults, holders, both readings of the target,
//! milestones, forecast status, an inline SVG chart, hamlets) and `/campaign/worklist` (a hamlet's
//! printable door-to-door list). Vietnamese first, `?lang=en`; no scripts; fits a 360-px phone.
//!
//! Read from storage on every request; counting is `kyso-campaign`'s. ID numbers are masked and
//! names shortened on these pages; every worklist view is audited.

use crate::campaign_data::{load, target, vn_date, Fallible};
use crate::input::{self, Bad, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::forecast::{forecast, DailyCounts, Forecast, Status};
use kyso_campaign::plan::{Percent, TargetKind, TargetValue};
use kyso_campaign::worklist::{build_worklist, Outcome};
use kyso_store::campaign::{CommuneRow, MilestoneRow, PlanRow};
use kyso_store::{AuditEvent, Store, Write};
use serde::Deserialize;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaign", get(campaign))
        .route("/campaign/worklist", get(worklist))
        .route("/campaign/worklist.xlsx", get(crate::worklist_export::xlsx_route))
}

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
    commune: Option<String>,
    hamlet: Option<String>,
    /// After a visit was recorded from the list.
    saved: Option<String>,
}

pub(crate) use crate::html::esc;

pub(crate) fn failure(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %input::Clean(&e), "campaign page failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "campaign data unavailable; retry shortly\n").into_response()
}

/// The day the figures are for: `?date=` (typed, see [`input::day`]) or today in Vietnam.
fn as_of(p: &Params) -> Result<String, Bad> {
    Ok(match input::opt_day("date", p.date.as_deref())? {
        None => vn_date(kyso_store::now()),
        Some(d) => d.to_string(),
    })
}

/// `?lang=`: `en` or `vi` (absent: Vietnamese).
pub(crate) fn lang_param(lang: Option<&str>) -> Result<Text, Bad> {
    match lang.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(Text { en: false }),
        Some(l) => input::one_of("lang", l, &["vi", "en"]).map(|l| Text { en: l == "en" }),
    }
}

// ---- /campaign ----

pub(crate) struct Text {
    pub(crate) en: bool,
}

impl Text {
    pub(crate) fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else {
            vi
        }
    }
    fn q(&self) -> &'static str {
        if self.en {
            "&amp;lang=en"
        } else {
            ""
        }
    }
}

/// TRANSITIONAL: the campaign pages' frame around a body still built in Rust.
pub(crate) fn page(tx: &Text, title: &str, nav_path: &str, body: &str) -> Html<String> {
    let here = nav_path.replace("&amp;", "&").replace("&lang=en", "").replace("?lang=en", "");
    let frame = crate::web::layout::Frame::public(crate::i18n::Lang::from_en(tx.en), title).wide().at(here);
    Html(askama::Template::render(&crate::web::layout::RawPage { frame, body }).unwrap_or_default())
}

fn status_badge(tx: &Text, s: Status) -> String {
    let (class, label) = match s {
        Status::Green => ("green", tx.t("Đúng tiến độ", "On track")),
        Status::Amber => ("amber", tx.t("Cần tăng tốc", "Behind")),
        Status::Red => ("red", tx.t("Chậm tiến độ", "Off track")),
    };
    format!("<span class=\"badge {class}\">{label}</span>")
}

/// The rate needed beside the recent one, and a warning when a week at the needed rate would beat
/// the unit's best week so far (a plan that needs a different approach, not more of the same).
fn rate(tx: &Text, f: &Forecast) -> String {
    let recent = f
        .run_rate_14
        .map(|r| format!("; {} {r:.1}/{}", tx.t("14 ngày qua", "last 14 days"), tx.t("ngày", "day")))
        .unwrap_or_default();
    if f.gap == 0 {
        tx.t("đã đạt", "reached").into()
    } else if f.required_rate.is_finite() {
        let mut s = format!("{:.1} {}{recent}", f.required_rate, tx.t("người/ngày", "per day"));
        if f.beyond_best_week {
            let _ = write!(
                s,
                "<br><small>⚠ {} {:.0} {} {})</small>",
                tx.t("cần", "needs"),
                f.required_rate * 7.0,
                tx.t("người/tuần, hơn tuần tốt nhất (", "a week, more than the best week so far ("),
                f.best_week.unwrap_or(0)
            );
        }
        s
    } else {
        format!("{}{recent}", tx.t("đã quá hạn", "deadline passed"))
    }
}

/// Inline chart: cumulative holders by day, the target lines under both readings, milestones
/// (dotted, with both readings as dots) and the deadline (red). Days count from the chart's start.
fn chart(
    tx: &Text,
    points: &[(i64, u64)],
    span: i64,
    lines: &[(u64, &str, &str)],
    marks: &[(i64, u64, u64)],
    (start, deadline_day, deadline): (&str, i64, &str),
) -> String {
    const W: f64 = 640.0;
    const H: f64 = 260.0;
    const L: f64 = 48.0;
    const B: f64 = 28.0;
    let top =
        lines.iter().map(|l| l.0).chain(points.iter().map(|p| p.1)).chain(marks.iter().map(|m| m.2)).max().unwrap_or(1);
    let ymax = (top as f64 * 1.1).max(10.0);
    let span = span.max(1) as f64;
    let x = |d: i64| L + (W - L - 8.0) * d as f64 / span;
    let y = |n: u64| H - B - (H - B - 8.0) * n as f64 / ymax;
    let mut s = format!(
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\
<line x1=\"{L}\" y1=\"{yb}\" x2=\"{W}\" y2=\"{yb}\" stroke=\"#888\"/><line x1=\"{L}\" y1=\"8\" x2=\"{L}\" y2=\"{yb}\" stroke=\"#888\"/>\
<text x=\"{lx}\" y=\"{yt:.1}\" text-anchor=\"end\">{top}</text><text x=\"{lx}\" y=\"{yb}\" text-anchor=\"end\">0</text>",
        tx.t("Số người có chứng thư theo ngày", "Holders by day"),
        yb = H - B,
        lx = L - 4.0,
        yt = y(ymax as u64) + 10.0,
        top = ymax as u64,
    );
    for (n, label, color) in lines {
        let _ = write!(
            s,
            "<line x1=\"{L}\" y1=\"{yy:.1}\" x2=\"{W}\" y2=\"{yy:.1}\" stroke=\"{color}\" stroke-dasharray=\"6 4\"/>\
<text x=\"{tx_:.1}\" y=\"{ty:.1}\" fill=\"{color}\" text-anchor=\"end\">{} {n}</text>",
            esc(label),
            yy = y(*n),
            tx_ = W - 4.0,
            ty = y(*n) - 3.0,
        );
    }
    for (d, level, increment) in marks {
        let _ = write!(
            s,
            "<line x1=\"{xx:.1}\" y1=\"8\" x2=\"{xx:.1}\" y2=\"{yb}\" stroke=\"#999\" stroke-dasharray=\"2 3\"/>\
<circle cx=\"{xx:.1}\" cy=\"{y1:.1}\" r=\"4\" fill=\"#b26b00\"/><circle cx=\"{xx:.1}\" cy=\"{y2:.1}\" r=\"4\" fill=\"#6a1b9a\"/>",
            xx = x(*d),
            yb = H - B,
            y1 = y(*level),
            y2 = y(*increment),
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{xd:.1}\" y1=\"8\" x2=\"{xd:.1}\" y2=\"{yb}\" stroke=\"#c62828\"/>\
<text x=\"{L}\" y=\"{yl}\">{start}</text><text x=\"{xd:.1}\" y=\"{yl}\" text-anchor=\"middle\" fill=\"#c62828\">{deadline}</text>",
        xd = x(deadline_day),
        yb = H - B,
        yl = H - 10.0,
    );
    let path: Vec<String> = points.iter().map(|(d, n)| format!("{:.1},{:.1}", x(*d), y(*n))).collect();
    let _ = write!(s, "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"{}\"/>", path.join(" "));
    s.push_str("</svg>");
    s
}

pub async fn campaign(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let en = p.lang.as_deref() == Some("en");
    let (tx, date) = match lang_param(p.lang.as_deref()).and_then(|tx| Ok((tx, as_of(&p)?))) {
        Ok(v) => v,
        Err(bad) => return bad.page(en),
    };
    match campaign_body(&s.authority.store, &tx, &date).await {
        Ok(body) => page(
            &tx,
            tx.t("Chiến dịch chữ ký số cho người dân", "Citizen digital signature campaign"),
            "/campaign",
            &body,
        )
        .into_response(),
        Err(e) => failure(e),
    }
}

async fn campaign_body(store: &Store, tx: &Text, date: &str) -> Fallible<String> {
    let date = date.to_owned();
    let plans = store.plans(None).await.map_err(|e| e.to_string())?;
    let mut body = format!(
        "<p>{} <strong>{date}</strong>. {}</p>",
        tx.t("Số liệu ngày", "Figures on"),
        tx.t(
            "Người có chứng thư: cư dân trong danh sách có ít nhất một chứng thư còn hiệu lực, chưa thu hồi (cấp qua kyso hoặc có trong danh sách nhà cung cấp gửi), mỗi người tính một lần.",
            "Holders: registered residents with at least one valid, unrevoked certificate (issued through kyso or reported in a provider's list), each counted once."
        )
    );
    let communes: Vec<_> = plans.iter().filter(|(plan, _)| plan.unit_code.len() == 5).collect();
    if communes.is_empty() {
        body.push_str(tx.t(
            "<p>Chưa có kế hoạch cấp xã. Dùng <code>kyso campaign plan add</code>.</p>",
            "<p>No commune plan yet. Use <code>kyso campaign plan add</code>.</p>",
        ));
    }
    let mut provinces = Vec::new();
    for (plan, ms) in communes {
        let Some(unit) = store.commune(&plan.unit_code).await.map_err(|e| e.to_string())? else { continue };
        body.push_str(&plan_section(store, tx, &unit, plan, ms, &date).await?);
        if !provinces.contains(&unit.province_code) {
            let _ = write!(
                body,
                "<p><a href=\"/campaign/ranking?province={}{}\">{} {}</a></p>",
                esc(&unit.province_code),
                if tx.en { "&amp;lang=en" } else { "" },
                tx.t("Xếp hạng các xã của", "All communes ranked:"),
                esc(&unit.province_name)
            );
            provinces.push(unit.province_code.clone());
        }
    }
    body.push_str(&crate::reports::dashboard_section(store, tx, &date).await?);
    body.push_str(&crate::web::support_section(store, tx.en, &date).await);
    Ok(body)
}

async fn plan_section(
    store: &Store,
    tx: &Text,
    unit: &CommuneRow,
    plan: &PlanRow,
    ms: &[MilestoneRow],
    date: &str,
) -> Fallible<String> {
    let as_of = parse_date(date)?;
    let t = target(plan, ms)?;
    let line = AdultsDenominator::new(
        u8::try_from(plan.min_age).map_err(|e| e.to_string())?,
        parse_date(&plan.reference_date)?,
    )
    .map_err(|e| e.to_string())?;
    let (register, adoption) = load(store, &unit.code, None).await?;
    let adults = line.count(register.residents());
    let holders = adoption.commune_holders_on(&unit.code, as_of);
    let share = Percent::share(holders, adults).map_or("–".into(), |p| p.to_string());
    let readings = t.readings(adults);
    let mut out = format!(
        "<h2>{} — {} <small>({}, {} {})</small></h2>",
        esc(&unit.name),
        esc(&unit.province_name),
        esc(&plan.period),
        tx.t("phiên bản", "version"),
        plan.version
    );
    let _ = write!(
        out,
        "<div class=\"cards\"><div class=\"card\">{} ({}+, {})<b>{adults}</b></div>\
<div class=\"card\">{}<b>{holders}</b></div><div class=\"card\">{}<b>{share}</b></div></div>",
        tx.t("Người trong độ tuổi", "Adults"),
        plan.min_age,
        plan.reference_date,
        tx.t("Đã có chứng thư", "Holders"),
        tx.t("Tỷ lệ", "Share"),
    );
    // Both readings of the target, the recorded one first when the plan says which.
    let value = match t.value {
        TargetValue::Percent(p) => p.to_string(),
        TargetValue::Absolute(n) => n.to_string(),
    };
    let ambiguous = t.kind.is_none();
    let _ = write!(
        out,
        "<p>{} <strong>{}</strong> {} {}. {} {} ({}, {}).</p>",
        tx.t("Chỉ tiêu", "Target"),
        esc(&value),
        tx.t("đến", "by"),
        t.deadline,
        tx.t("Mốc cơ sở", "Baseline"),
        plan.baseline_count,
        plan.baseline_date,
        esc(&plan.baseline_source)
    );
    if ambiguous {
        let _ = write!(
            out,
            "<p><strong>{}</strong></p>",
            tx.t(
                "Kế hoạch không ghi rõ chỉ tiêu là tổng số hay số tăng thêm: hiển thị cả hai cách hiểu.",
                "The plan does not say whether the target is a total or an increment: both readings shown."
            )
        );
    }
    let series: Vec<_> = {
        let mut v = Vec::new();
        let mut day = t.baseline.date.min(as_of);
        while day <= as_of {
            v.push((day, adoption.commune_holders_on(&unit.code, day)));
            day = day.next_day().ok_or("date out of range")?;
        }
        v
    };
    let daily = DailyCounts::new(series.iter().copied());
    let mut rows = String::new();
    let mut readings_list = vec![(TargetKind::Level, readings.level), (TargetKind::Increment, readings.increment)];
    if let Some(k) = t.kind {
        readings_list.retain(|(kind, _)| *kind == k);
    }
    let milestone = t.milestone_readings(adults).into_iter().find(|(d, _)| *d >= as_of);
    for (kind, needed) in &readings_list {
        let f = forecast(&daily, as_of, *needed, t.deadline);
        let name = match kind {
            TargetKind::Level => tx.t("Tổng số (mức)", "Level (total)"),
            TargetKind::Increment => tx.t("Tăng thêm so với mốc cơ sở", "Increment over baseline"),
        };
        let next = match &milestone {
            Some((d, r)) => {
                let n = if *kind == TargetKind::Level { r.level } else { r.increment };
                let mf = forecast(&daily, as_of, n, *d);
                format!("{n} {} {d} {}", tx.t("đến", "by"), status_badge(tx, mf.status))
            }
            None => "–".into(),
        };
        let _ = write!(
            rows,
            "<tr><td>{name}</td><td class=\"n\">{needed}</td><td class=\"n\">{}</td><td>{next}</td><td>{} {}</td></tr>",
            f.gap,
            status_badge(tx, f.status),
            rate(tx, &f)
        );
    }
    let _ = write!(
        out,
        "<div class=\"scroll\"><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th><th>{}</th></tr>{rows}</table></div>",
        tx.t("Cách hiểu", "Reading"),
        tx.t("Cần đạt", "Needed"),
        tx.t("Còn thiếu", "Gap"),
        tx.t("Mốc kế tiếp", "Next milestone"),
        tx.t("Dự báo (tốc độ cần)", "Forecast (required rate)"),
    );
    // Chart from the baseline date to the later of the deadline and today.
    let start = t.baseline.date.min(as_of);
    let end = t.deadline.max(as_of);
    let points: Vec<(i64, u64)> = series.iter().map(|(d, n)| ((*d - start).whole_days(), *n)).collect();
    let mut lines = vec![(readings.level, tx.t("Mức", "Level"), "#b26b00")];
    lines.push((readings.increment, tx.t("Tăng thêm", "Increment"), "#6a1b9a"));
    if let Some(k) = t.kind {
        lines.retain(|(_, _, c)| (*c == "#b26b00") == (k == TargetKind::Level));
    }
    let marks: Vec<(i64, u64, u64)> =
        t.milestone_readings(adults).iter().map(|(d, r)| ((*d - start).whole_days(), r.level, r.increment)).collect();
    let span = (end - start).whole_days();
    let axis = (start.to_string(), (t.deadline - start).whole_days(), t.deadline.to_string());
    out.push_str(&chart(tx, &points, span, &lines, &marks, (&axis.0, axis.1, &axis.2)));
    let _ = write!(
        out,
        "<p><small>{start} → {end}. {}</small></p>",
        tx.t(
            "Đường xanh: số người có chứng thư; đường nét đứt: chỉ tiêu; chấm: các mốc.",
            "Blue: holders; dashed: target; dots: milestones."
        )
    );
    // Hamlets.
    let hamlets = store.hamlets(&unit.code).await.map_err(|e| e.to_string())?;
    let mut hrows = String::new();
    for h in &hamlets {
        let adults = line.count(register.residents().iter().filter(|r| r.hamlet_code == h.code));
        let holders = adoption.hamlet_holders_on(&unit.code, &h.code, as_of);
        let share = Percent::share(holders, adults).map_or("–".into(), |p| p.to_string());
        let _ = write!(
            hrows,
            "<tr><td>{}</td><td class=\"n\">{holders} / {adults}</td><td class=\"n\">{share}</td>\
<td><a href=\"/campaign/worklist?commune={}&amp;hamlet={}{}\">{}</a></td></tr>",
            esc(&h.name),
            esc(&unit.code),
            esc(&h.code),
            tx.q(),
            tx.t("Danh sách", "Worklist"),
        );
    }
    let _ = write!(
        out,
        "<div class=\"scroll\"><table><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">%</th><th></th></tr>{hrows}</table></div>",
        tx.t("Xóm/thôn", "Hamlet"),
        tx.t("Có chứng thư / trong độ tuổi", "Holders / adults"),
    );
    let _ = write!(
        out,
        "<p><a href=\"/campaign/reconcile?commune={}{}\">{}</a></p>",
        esc(&unit.code),
        tx.q(),
        tx.t(
            "Đối soát danh sách: điều cần gửi nhà cung cấp và Công an xã",
            "Reconciliation: what to send the providers and the police"
        ),
    );
    Ok(out)
}

// ---- /campaign/worklist ----

/// "Nguyễn Thị Hồng Nhung" → "Nguyễn T. H. Nhung": enough at the door, less on a screen.
pub(crate) fn short_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, middle @ .., last] => {
            let mut s = (*first).to_owned();
            for m in middle {
                s.push(' ');
                s.extend(m.chars().next());
                s.push('.');
            }
            s.push(' ');
            s.push_str(last);
            s
        }
    }
}

fn outcome_text(tx: &Text, o: &Outcome) -> String {
    match o {
        Outcome::Done => tx.t("đã đăng ký", "registered").into(),
        Outcome::Assisted => tx.t("đã hỗ trợ", "assisted").into(),
        Outcome::NotAtHome => tx.t("vắng nhà", "not at home").into(),
        Outcome::Refused => tx.t("từ chối", "refused").into(),
        Outcome::MovedAway => tx.t("đã chuyển đi", "moved away").into(),
        Outcome::Deceased => tx.t("đã mất", "deceased").into(),
        Outcome::AlreadyHolds { provider } => format!("{} {}", tx.t("đã có ở", "holds one from"), esc(provider)),
    }
}

/// Worklists carry personal data: only staff allowed to view this commune's worklists see them.
pub async fn worklist(State(s): State<AppState>, headers: axum::http::HeaderMap, Query(p): Query<Params>) -> Response {
    let en = p.lang.as_deref() == Some("en");
    let typed = (|| {
        let tx = lang_param(p.lang.as_deref())?;
        let commune = input::code("commune", input::required("commune", p.commune.as_deref())?, 16)?;
        let hamlet = input::code("hamlet", input::required("hamlet", p.hamlet.as_deref())?, 32)?;
        Ok::<_, Bad>((tx, commune, hamlet, as_of(&p)?))
    })();
    let (tx, commune, hamlet, date) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(en),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, kyso_access::Action::ViewWorklist, commune).await {
        return answer;
    }
    // Staff who may record visits here get a form on every line.
    let forms = if crate::web::staff_may(&s, &headers, kyso_access::Action::RecordVisit, commune).await.is_ok() {
        match crate::worklist_export::visit_key(&s.authority.store, true).await {
            Ok(Some(key)) => Some((crate::web::ctx(&s, &headers, None).await.csrf_field(), key)),
            Ok(None) => None,
            Err(e) => return failure(e),
        }
    } else {
        None
    };
    match worklist_body(&s.authority.store, &tx, (commune, hamlet), &date, p.saved.is_some(), forms.as_ref()).await {
        Ok(Some((title, body))) => {
            let nav = format!("/campaign/worklist?commune={}&amp;hamlet={}", esc(commune), esc(hamlet));
            page(&tx, &title, &nav, &body).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => failure(e),
    }
}

async fn worklist_body(
    store: &Store,
    tx: &Text,
    (commune, hamlet): (&str, &str),
    date: &str,
    saved: bool,
    forms: Option<&(String, String)>,
) -> Fallible<Option<(String, String)>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let date = date.to_owned();
    let as_of = parse_date(&date)?;
    let Some(unit) = store.commune(commune).await.map_err(err)? else { return Ok(None) };
    let hamlets = store.hamlets(commune).await.map_err(err)?;
    let Some(h) = hamlets.iter().find(|h| h.code == hamlet) else { return Ok(None) };
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let min_age = match store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back() {
        Some((plan, _)) => u8::try_from(plan.min_age).map_err(|e| e.to_string())?,
        None => 15,
    };
    let line = AdultsDenominator::new(min_age, as_of).map_err(|e| e.to_string())?;
    let log = crate::worklist_export::visit_log(store, &register, commune, Some(hamlet)).await?;
    let list = build_worklist(&register, &adoption, &line, &log, (commune, hamlet), as_of);
    let audit = AuditEvent::new(
        "web",
        "campaign.worklist.view",
        &format!("{commune}/{hamlet}"),
        format!("{} entries on {date}", list.entries.len()),
    );
    store.commit(&[Write::Audit(audit)]).await.map_err(err)?;
    let mut rows = String::new();
    for (n, e) in list.entries.iter().enumerate() {
        let _ = write!(
            rows,
            "<tr><td class=\"n\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td style=\"min-width:6rem\"></td></tr>",
            n + 1,
            esc(e.household.as_deref().unwrap_or("")),
            esc(&e.masked_id),
            esc(&short_name(e.full_name.as_deref().unwrap_or(""))),
            e.last_outcome.as_ref().map(|o| outcome_text(tx, o)).unwrap_or_default(),
        );
        // On screen, the line's visit form below it, full width (a phone has no room beside it);
        // on paper, the empty outcome column to write in.
        if let Some((csrf, key)) = forms {
            let form = crate::visits::line_form(tx, csrf, commune, hamlet, &crate::visits::handle(key, e.person()));
            let _ = write!(rows, "<tr class=\"noprint\"><td></td><td colspan=\"5\">{form}</td></tr>");
        }
    }
    let title = format!("{} — {}, {}", tx.t("Danh sách đến từng nhà", "Door-to-door worklist"), h.name, unit.name);
    let saved = if saved {
        format!(
            "<p class=\"noprint\" role=\"status\"><strong>{}</strong></p>",
            tx.t("Đã ghi nhận kết quả.", "Outcome recorded.")
        )
    } else {
        String::new()
    };
    let body = format!(
        "{saved}<p>{} {date}: <strong>{}</strong> {} ({}+).</p><p class=\"noprint\"><a href=\"/campaign{}\">← {}</a> · \
<a href=\"/campaign/worklist.xlsx?commune={}&amp;hamlet={}&amp;date={date}\">{}</a></p>\
<div class=\"scroll\"><table><tr><th class=\"n\">#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{rows}</table></div>",
        tx.t("Ngày", "On"),
        list.entries.len(),
        tx.t("người trong độ tuổi chưa có chứng thư còn hiệu lực", "adults without a valid certificate"),
        min_age,
        if tx.en { "?lang=en" } else { "" },
        tx.t("Tổng quan chiến dịch", "Campaign overview"),
        esc(commune),
        esc(hamlet),
        tx.t("Tải XLSX", "Download XLSX"),
        tx.t("Hộ", "Household"),
        tx.t("Số định danh", "ID number"),
        tx.t("Họ tên", "Name"),
        tx.t("Lần thăm trước", "Last visit"),
        tx.t("Kết quả", "Outcome"),
    );
    Ok(Some((title, body)))
}
