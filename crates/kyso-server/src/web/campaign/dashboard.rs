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
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::forecast::{forecast, DailyCounts, Forecast, Status};
use kyso_campaign::plan::{Percent, TargetKind, TargetValue};
use kyso_campaign::signed_use::Window;
use kyso_store::campaign::{CommuneRow, MilestoneRow, PlanRow};
use kyso_store::Store;
use kyso_tracker::read::{load, target, Fallible};
use kyso_tracker::reports as data;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
    /// A commune (5 digits) or a province (2): only its own plans, targets and support points.
    unit: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign/dashboard.html")]
struct Dashboard {
    frame: Frame,
    date: String,
    /// The unit the page is about ("Xã Hiệp Lực, Tỉnh Thái Nguyên"), when one was asked for.
    unit: Option<String>,
    /// The units with something to show, as (code, name), for the chooser (whole-country view).
    units: Vec<(String, String)>,
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
    /// The forecast's status, or "too early to judge" when there are not a week of figures yet.
    fn of_forecast(l: Lang, f: &Forecast) -> Badge {
        if f.judgeable() {
            Badge::of(l, f.status)
        } else {
            Badge {
                class: "badge",
                label: l.t("Chưa đủ 7 ngày số liệu để đánh giá", "Too early to judge (under 7 days)"),
            }
        }
    }

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
    /// Adults with a level-2 e-ID account (the police list), and their share of the adults.
    level2: u64,
    level2_share: String,
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
    /// The commune's own dashboard.
    page: String,
    /// The first plan of its province links the province's ranking.
    ranking: Option<String>,
    /// Dossiers needing signatures received by the commune, fully signed, over the day, week and
    /// month: (window, needing, fully signed, share).
    dossiers: Vec<(&'static str, u64, u64, String)>,
    /// Holders who signed at least once this month (kyso's signatures and dossiers).
    signers: u64,
    /// The renewal cliff (`campaign/renewals_section.html`).
    renewals: super::renewals::Section,
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
    unit_code: String,
    unit: String,
    period: String,
    rows: Vec<(String, u64, Option<u64>, String)>,
    total: i64,
    mismatch: bool,
    source: String,
}

/// A 100 %-of-staff target and each agency's progress.
struct Staff {
    unit_code: String,
    unit: String,
    deadline: String,
    /// Agency, holders / listed, share, missing.
    rows: Vec<(String, String, String, u64)>,
    /// Staff and community-team members trained / all of them (share), issue 21.
    trained: String,
}

pub async fn campaign(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let (l, date) = match lang_param(p.lang.as_deref()).and_then(|l| Ok((l, day_or_today(p.date.as_deref())?))) {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    // A commune's or province's officer lands on their own unit's page (`unit=all`: the country).
    if p.unit.is_none() {
        let c = crate::web::ctx(&s, &headers, None).await;
        if let Some((staff, _)) = c.staff().filter(|(st, _)| matches!(st.scope_kind.as_str(), "commune" | "province")) {
            let date = p.date.as_deref().map(|d| format!("&date={}", crate::web::urlencode(d))).unwrap_or_default();
            let to = format!("/campaign?unit={}{date}", crate::web::urlencode(&staff.scope_code));
            return Redirect::to(&l.href(&to)).into_response();
        }
    }
    let unit = match p.unit.as_deref().filter(|u| !u.trim().is_empty() && *u != "all") {
        None => None,
        Some(u) => match crate::input::code("unit", u, 8) {
            Ok(u) => Some(u.to_owned()),
            Err(bad) => return bad.page(l.en()),
        },
    };
    // the replica while it is within its lag bound (docs/DEPLOYMENT.md)
    let store = s.authority.read_store();
    let page = async {
        let on = parse_date(&date)?;
        let scope = match &unit {
            Some(u) => match Scope::of(store, u).await? {
                Some(scope) => Some(scope),
                None => return Ok(None),
            },
            None => None,
        };
        let (no_plan, plans, names) = plans(store, l, &date, scope.as_ref()).await?;
        let mut segments = segments(l, store, on).await?;
        let mut staff = staff(l, store, on).await?;
        let mut units: Vec<(String, String)> = names
            .into_iter()
            .chain(segments.iter().map(|s| (s.unit_code.clone(), s.unit.clone())))
            .chain(staff.iter().map(|s| (s.unit_code.clone(), s.unit.clone())))
            .collect();
        units.sort();
        units.dedup_by(|a, b| a.0 == b.0);
        // A commune's page shows its own support points; a province's none (they are its
        // communes'); the whole country's all of them.
        let support = match &scope {
            Some(sc) if sc.province.is_some() => None,
            Some(sc) => crate::web::support_figures(store, l, &date, Some(&sc.code)).await,
            None => crate::web::support_figures(store, l, &date, None).await,
        };
        if let Some(sc) = &scope {
            segments.retain(|s| sc.is(&s.unit_code));
            staff.retain(|s| sc.is(&s.unit_code));
        }
        let title = match &scope {
            Some(sc) => format!("{} — {}", l.t("Chiến dịch chữ ký số", "Digital signature campaign"), sc.name),
            None => l.t("Chiến dịch chữ ký số cho người dân", "Citizen digital signature campaign").to_owned(),
        };
        let page = Dashboard {
            frame: frame(l, &title, "/campaign"),
            date,
            unit: scope.map(|s| s.name),
            units,
            no_plan,
            plans,
            segments,
            staff,
            support,
        };
        Fallible::Ok(Some(page))
    };
    match page.await {
        Ok(Some(page)) => render(&page),
        Ok(None) => crate::input::Bad::new(
            "unit",
            "Không có xã, phường hay tỉnh nào có mã này.",
            "No commune, ward or province has this code.",
        )
        .page(l.en()),
        Err(e) => failure(e),
    }
}

/// The unit a dashboard is narrowed to: a commune (its own figures only) or a province (its own
/// targets and its communes' plans).
struct Scope {
    code: String,
    /// For a province: its code, to match its communes' plans.
    province: Option<String>,
    name: String,
}

impl Scope {
    async fn of(store: &Store, code: &str) -> Fallible<Option<Scope>> {
        let err = |e: kyso_store::StoreError| e.to_string();
        if let Some(c) = store.commune(code).await.map_err(err)? {
            return Ok(Some(Scope { code: c.code, province: None, name: format!("{}, {}", c.name, c.province_name) }));
        }
        Ok(data::unit_name(store, code).await?.map(|name| Scope {
            code: code.to_owned(),
            province: Some(code.to_owned()),
            name,
        }))
    }

    /// The unit itself.
    fn is(&self, unit: &str) -> bool {
        unit == self.code
    }

    /// A commune of this scope: the commune itself, or one of the province's.
    fn holds(&self, commune: &CommuneRow) -> bool {
        match &self.province {
            None => commune.code == self.code,
            Some(p) => &commune.province_code == p,
        }
    }
}

/// Every commune plan in the scope, in order; `true` first when there is none anywhere; then the
/// communes with a plan as (code, name).
async fn plans(
    store: &Store,
    l: Lang,
    date: &str,
    scope: Option<&Scope>,
) -> Fallible<(bool, Vec<PlanView>, Vec<(String, String)>)> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let mut communes = store.plans(None).await.map_err(err)?;
    communes.retain(|(plan, _)| plan.unit_code.len() == 5);
    let mut out = Vec::new();
    let mut names = Vec::new();
    let mut provinces = Vec::new();
    for (plan, ms) in &communes {
        let Some(unit) = store.commune(&plan.unit_code).await.map_err(err)? else { continue };
        names.push((unit.code.clone(), format!("{}, {}", unit.name, unit.province_name)));
        if scope.is_some_and(|sc| !sc.holds(&unit)) {
            continue;
        }
        let ranking = !provinces.contains(&unit.province_code);
        if ranking {
            provinces.push(unit.province_code.clone());
        }
        out.push(plan_view(store, l, unit, plan.clone(), ms, date, ranking).await?);
    }
    Ok((communes.is_empty(), out, names))
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
    let eid = kyso_tracker::eid::commune_coverage(store, &unit.code, &register, &line).await?;
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
                (n, l.day(*d), Badge::of_forecast(l, &forecast(&daily, as_of, n, *d)))
            });
            let name = match kind {
                TargetKind::Level => l.t("Tổng số (mức)", "Level (total)"),
                TargetKind::Increment => l.t("Tăng thêm so với mốc cơ sở", "Increment over baseline"),
            };
            Reading { name, needed, gap: f.gap, next, status: Badge::of_forecast(l, &f), rate: rate(l, &f) }
        })
        .collect::<Vec<Reading>>();
    let needed: Vec<(&'static str, u64)> = rows.iter().map(|r| (r.name, r.needed)).collect();
    let projected = (&forecast(&daily, as_of, 0, t.deadline), t.deadline);
    let loaded = (&register, &adoption);
    let renewals = super::renewals::section(store, l, (&unit.code, as_of), loaded, projected, &needed).await?;
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
    let dossiers = kyso_tracker::signed_use::windows(store, &unit.code, as_of)
        .await?
        .into_iter()
        .map(|(w, share)| {
            let name = match w {
                Window::Day => l.t("Ngày", "Day"),
                Window::Week => l.t("Tuần (thứ Hai – Chủ nhật)", "Week (Monday – Sunday)"),
                Window::Month => l.t("Tháng", "Month"),
            };
            (name, share.needing, share.fully_signed, pct(l, share.share()))
        })
        .collect();
    let (month_start, month_end) = Window::Month.around(as_of);
    let signers = kyso_tracker::signed_use::signers_between(store, &unit.code, month_start, month_end).await?;
    Ok(PlanView {
        renewals,
        dossiers,
        signers,
        adults,
        holders,
        share: pct(l, Percent::share(holders, adults)),
        level2: eid.level2,
        level2_share: pct(l, eid.share()),
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
        page: format!("/campaign?unit={}", unit.code),
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
        // Only once there is a week to compare with.
        let warning = (f.beyond_best_week && f.judgeable()).then(|| {
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
        out.push(Segments {
            unit_code: set.unit_code.clone(),
            unit,
            period: set.period,
            rows,
            total: set.total,
            mismatch,
            source: set.source,
        });
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
        let t = kyso_tracker::training::unit_share(store, &s.unit, &on.to_string()).await?;
        out.push(Staff {
            unit_code: s.unit.clone(),
            unit,
            deadline: s.deadline.map_or_else(|| "–".into(), |d| l.date(d)),
            rows,
            trained: format!("{} / {} ({})", l.num(t.trained), l.num(t.people), pct(l, t.share())),
        });
    }
    Ok(out)
}
