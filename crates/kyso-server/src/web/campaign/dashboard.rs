//! `/campaign` (`templates/campaign/dashboard.html`): per commune plan, adults, holders, both
//! readings of the target, milestones, forecast status, the chart and the hamlets; then the
//! segment and 100 %-of-staff targets, the links to the reports and tasks, and the support points.

use super::chart::{chart, Chart};
use super::{asks_en, day_or_today, failure, frame, lang_param, pct};
use crate::i18n::Lang;
use crate::input::Query;
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::forecast::{forecast, DailyCounts, Forecast, Status};
use kyso_campaign::plan::{Percent, TargetKind, TargetValue};
use kyso_store::campaign::{CommuneRow, MilestoneRow, PlanRow};
use kyso_store::Store;
use kyso_tracker::read::{load, target, Fallible};
use kyso_tracker::reports as data;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign/dashboard.html")]
struct Dashboard {
    frame: Frame,
    date: String,
    /// No commune has a plan yet.
    no_plan: bool,
    plans: Vec<PlanView>,
    segments: Vec<Segments>,
    staff: Vec<Staff>,
    /// The support points' last seven days (the desk's `desk/support_section.html`).
    support: Option<crate::web::SupportFigures>,
}

/// A forecast's status as a coloured label.
struct Badge {
    class: &'static str,
    label: &'static str,
}

impl Badge {
    fn of(l: Lang, s: Status) -> Badge {
        match s {
            Status::Green => Badge { class: "badge green", label: l.t("Đúng tiến độ", "On track") },
            Status::Amber => Badge { class: "badge amber", label: l.t("Cần tăng tốc", "Behind") },
            Status::Red => Badge { class: "badge red", label: l.t("Chậm tiến độ", "Off track") },
        }
    }
}

/// One commune's plan and progress.
struct PlanView {
    unit: CommuneRow,
    plan: PlanRow,
    adults: u64,
    holders: u64,
    share: String,
    target: String,
    deadline: String,
    /// The plan does not say whether its target is a level or an increment.
    ambiguous: bool,
    readings: Vec<Reading>,
    chart: Chart,
    start: String,
    end: String,
    hamlets: Vec<Hamlet>,
    reconcile: String,
    /// The first plan of its province links the province's ranking.
    ranking: Option<String>,
}

/// One reading of the target (level or increment) and its forecast.
struct Reading {
    name: &'static str,
    needed: u64,
    gap: u64,
    /// The next milestone: its value, day and status.
    next: Option<(u64, String, Badge)>,
    status: Badge,
    rate: Rate,
}

/// The rate needed beside the recent one, and a warning when a week at the needed rate would beat
/// the unit's best week so far (a plan that needs a different approach, not more of the same).
struct Rate {
    text: String,
    warning: Option<String>,
}

struct Hamlet {
    code: String,
    name: String,
    holders: u64,
    adults: u64,
    share: String,
}

/// A segment target set and each segment's progress.
struct Segments {
    unit: String,
    period: String,
    rows: Vec<(String, u64, Option<u64>, String)>,
    total: i64,
    mismatch: bool,
    source: String,
}

/// A 100 %-of-staff target and each agency's progress.
struct Staff {
    unit: String,
    deadline: String,
    /// Agency, holders / listed, share, missing.
    rows: Vec<(String, String, String, u64)>,
}

pub async fn campaign(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let (l, date) = match lang_param(p.lang.as_deref()).and_then(|l| Ok((l, day_or_today(p.date.as_deref())?))) {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    let store = &s.authority.store;
    let page = async {
        let on = parse_date(&date)?;
        let (no_plan, plans) = plans(store, l, &date).await?;
        let segments = segments(l, store, on).await?;
        let staff = staff(l, store, on).await?;
        let support = crate::web::support_figures(store, &date).await;
        let title = l.t("Chiến dịch chữ ký số cho người dân", "Citizen digital signature campaign");
        Fallible::Ok(Dashboard { frame: frame(l, title, "/campaign"), date, no_plan, plans, segments, staff, support })
    };
    match page.await {
        Ok(page) => render(&page),
        Err(e) => failure(e),
    }
}

/// Every commune plan, in order; `true` first when there is none.
async fn plans(store: &Store, l: Lang, date: &str) -> Fallible<(bool, Vec<PlanView>)> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let mut communes = store.plans(None).await.map_err(err)?;
    communes.retain(|(plan, _)| plan.unit_code.len() == 5);
    let mut out = Vec::new();
    let mut provinces = Vec::new();
    for (plan, ms) in &communes {
        let Some(unit) = store.commune(&plan.unit_code).await.map_err(err)? else { continue };
        let ranking = !provinces.contains(&unit.province_code);
        if ranking {
            provinces.push(unit.province_code.clone());
        }
        out.push(plan_view(store, l, unit, plan.clone(), ms, date, ranking).await?);
    }
    Ok((communes.is_empty(), out))
}

async fn plan_view(
    store: &Store,
    l: Lang,
    unit: CommuneRow,
    plan: PlanRow,
    ms: &[MilestoneRow],
    date: &str,
    ranking: bool,
) -> Fallible<PlanView> {
    let as_of = parse_date(date)?;
    let t = target(&plan, ms)?;
    let line = AdultsDenominator::new(
        u8::try_from(plan.min_age).map_err(|e| e.to_string())?,
        parse_date(&plan.reference_date)?,
    )
    .map_err(|e| e.to_string())?;
    let (register, adoption) = load(store, &unit.code, None).await?;
    let adults = line.count(register.residents());
    let holders = adoption.commune_holders_on(&unit.code, as_of);
    let readings = t.readings(adults);
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
    // Both readings of the target, only the recorded one when the plan says which.
    let mut readings_list = vec![(TargetKind::Level, readings.level), (TargetKind::Increment, readings.increment)];
    if let Some(k) = t.kind {
        readings_list.retain(|(kind, _)| *kind == k);
    }
    let milestone = t.milestone_readings(adults).into_iter().find(|(d, _)| *d >= as_of);
    let rows = readings_list
        .iter()
        .map(|&(kind, needed)| {
            let f = forecast(&daily, as_of, needed, t.deadline);
            let next = milestone.as_ref().map(|(d, r)| {
                let n = if kind == TargetKind::Level { r.level } else { r.increment };
                (n, l.day(*d), Badge::of(l, forecast(&daily, as_of, n, *d).status))
            });
            let name = match kind {
                TargetKind::Level => l.t("Tổng số (mức)", "Level (total)"),
                TargetKind::Increment => l.t("Tăng thêm so với mốc cơ sở", "Increment over baseline"),
            };
            Reading { name, needed, gap: f.gap, next, status: Badge::of(l, f.status), rate: rate(l, &f) }
        })
        .collect();
    // Chart from the baseline date to the later of the deadline and today.
    let start = t.baseline.date.min(as_of);
    let end = t.deadline.max(as_of);
    let points: Vec<(i64, u64)> = series.iter().map(|(d, n)| ((*d - start).whole_days(), *n)).collect();
    let mut lines = vec![(readings.level, l.t("Mức", "Level"), "#b26b00")];
    lines.push((readings.increment, l.t("Tăng thêm", "Increment"), "#6a1b9a"));
    if let Some(k) = t.kind {
        lines.retain(|(_, _, c)| (*c == "#b26b00") == (k == TargetKind::Level));
    }
    let marks: Vec<(i64, u64, u64)> =
        t.milestone_readings(adults).iter().map(|(d, r)| ((*d - start).whole_days(), r.level, r.increment)).collect();
    let axis = (l.day(start), (t.deadline - start).whole_days(), l.day(t.deadline));
    let chart = chart(
        l.t("Số người có chứng thư theo ngày", "Holders by day"),
        &points,
        (end - start).whole_days(),
        &lines,
        &marks,
        (&axis.0, axis.1, &axis.2),
    );
    let mut hamlets = Vec::new();
    for h in store.hamlets(&unit.code).await.map_err(|e| e.to_string())? {
        let adults = line.count(register.residents().iter().filter(|r| r.hamlet_code == h.code));
        let holders = adoption.hamlet_holders_on(&unit.code, &h.code, as_of);
        let share = pct(l, Percent::share(holders, adults));
        hamlets.push(Hamlet { code: h.code, name: h.name, holders, adults, share });
    }
    Ok(PlanView {
        adults,
        holders,
        share: pct(l, Percent::share(holders, adults)),
        target: match t.value {
            TargetValue::Percent(p) => l.share(Some(p)),
            TargetValue::Absolute(n) => l.num(n),
        },
        deadline: l.day(t.deadline),
        ambiguous: t.kind.is_none(),
        readings: rows,
        chart,
        start: l.day(start),
        end: l.day(end),
        hamlets,
        reconcile: format!("/campaign/reconcile?commune={}", unit.code),
        ranking: ranking.then(|| format!("/campaign/ranking?province={}", unit.province_code)),
        unit,
        plan,
    })
}

fn rate(l: Lang, f: &Forecast) -> Rate {
    let recent = f
        .run_rate_14
        .map(|r| format!("; {} {}/{}", l.t("14 ngày qua", "last 14 days"), l.dec(r, 1), l.t("ngày", "day")))
        .unwrap_or_default();
    if f.gap == 0 {
        Rate { text: l.t("đã đạt", "reached").into(), warning: None }
    } else if f.required_rate.is_finite() {
        let warning = f.beyond_best_week.then(|| {
            format!(
                "{} {} {} {})",
                l.t("cần", "needs"),
                l.dec(f.required_rate * 7.0, 0),
                l.t("người/tuần, hơn tuần tốt nhất (", "a week, more than the best week so far ("),
                l.num(f.best_week.unwrap_or(0))
            )
        });
        Rate { text: format!("{} {}{recent}", l.dec(f.required_rate, 1), l.t("người/ngày", "per day")), warning }
    } else {
        Rate { text: format!("{}{recent}", l.t("đã quá hạn", "deadline passed")), warning: None }
    }
}

/// Segment targets with their progress on `on`.
async fn segments(l: Lang, store: &Store, on: time::Date) -> Fallible<Vec<Segments>> {
    let mut out = Vec::new();
    for (set, plan, progress) in data::segment_progress(store, on).await? {
        let unit = data::unit_name(store, &set.unit_code).await?.unwrap_or_else(|| set.unit_code.clone());
        let rows = progress
            .into_iter()
            .map(|p| {
                let share = p.holders.map_or("–".into(), |n| pct(l, Percent::share(n, p.target)));
                (p.name, p.target, p.holders, share)
            })
            .collect();
        let mismatch =
            plan.check().iter().any(|w| matches!(w, kyso_campaign::plan::SegmentWarning::SumMismatch { .. }));
        out.push(Segments { unit, period: set.period, rows, total: set.total, mismatch, source: set.source });
    }
    Ok(out)
}

/// 100 %-of-staff targets with their progress on `on`.
async fn staff(l: Lang, store: &Store, on: time::Date) -> Fallible<Vec<Staff>> {
    let mut out = Vec::new();
    for s in data::staff_progress(store, on).await? {
        let unit = data::unit_name(store, &s.unit).await?.unwrap_or_else(|| s.unit.clone());
        let rows = s
            .agencies
            .iter()
            .map(|a| {
                let share = pct(l, Percent::share(a.holders, a.staff));
                (a.agency.clone(), format!("{} / {}", l.num(a.holders), l.num(a.staff)), share, a.missing())
            })
            .collect();
        out.push(Staff { unit, deadline: s.deadline.map_or_else(|| "–".into(), |d| l.date(d)), rows });
    }
    Ok(out)
}
