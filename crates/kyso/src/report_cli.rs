//! `kyso campaign report|task|segments|staff …`: weekly and monthly reports (show the pre-filled
//! figures, submit with difficulties and proposals, roll up, completeness and timeliness), the task
//! register, segment targets and staff lists for 100 %-of-staff targets.
//!
//! A thin shell over `kyso_tracker::reports` (the read model the pages use) and
//! `kyso_tracker::registers` (the writes, each audited); ID numbers are masked in everything
//! printed here.

use crate::output::out;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use kyso_campaign::csv::parse_date;
use kyso_campaign::deadlines::{Period, VIETNAM};
use kyso_campaign::reports::{label, Figures, ReportStatus, Rollup};
use kyso_store::reports::{SegmentSetRow, TaskRow};
use kyso_store::Store;
use kyso_tracker::registers::{self, NewTask};
use kyso_tracker::reports::{self as data};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

const ACTOR: &str = "cli";

#[derive(clap::Args)]
pub struct PeriodArgs {
    /// Commune (5 digits), province (2 digits) or VN (the ministry).
    #[arg(long)]
    pub unit: String,
    /// weekly (Thursday to Wednesday, due Thursday 10:00) or monthly (due the 20th).
    #[arg(long, default_value = "weekly")]
    pub freq: String,
    /// First day of the period (YYYY-MM-DD or dd/mm/yyyy); default: the period being reported today.
    #[arg(long)]
    pub period: Option<String>,
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// A unit's report for a period: figures pre-filled from live data and what was submitted.
    Show {
        #[command(flatten)]
        p: PeriodArgs,
        /// Also write the report as an XLSX file.
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// Submit a unit's report: the figures are filled in; the unit writes difficulties and proposals.
    Submit {
        #[command(flatten)]
        p: PeriodArgs,
        /// Who submits (name and position).
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        difficulties: String,
        #[arg(long, default_value = "")]
        proposals: String,
        /// When a paper report was received ("YYYY-MM-DD HH:MM", Vietnam time); default: now.
        #[arg(long)]
        at: Option<String>,
    },
    /// A province's (or the ministry's, --unit VN) roll-up: one row per unit below, who submitted, the sums.
    Rollup {
        #[command(flatten)]
        p: PeriodArgs,
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// Completeness and timeliness of the reports to a unit over recent periods, newest first.
    Completeness {
        #[command(flatten)]
        p: PeriodArgs,
        #[arg(long, default_value_t = 8)]
        count: usize,
    },
}

#[derive(Subcommand)]
pub enum TaskCommand {
    /// Add a task to a unit's register.
    Add {
        #[arg(long)]
        unit: String,
        /// The plan's numbering, e.g. 4.1.
        #[arg(long)]
        number: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        lead: String,
        #[arg(long, default_value = "")]
        coordinating: String,
        #[arg(long, default_value = "")]
        result: String,
        /// As the plan writes it: 31/7/2026, "Trước 31/7/2026", "Tháng 5/2026", "Thường xuyên".
        #[arg(long)]
        deadline: String,
        /// not_started, in_progress or done.
        #[arg(long, default_value = "not_started")]
        status: String,
    },
    /// A unit's tasks (or all), overdue ones flagged against today in Vietnam.
    List {
        #[arg(long)]
        unit: Option<String>,
    },
    /// Change a task's status, deadline or note.
    Update {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        number: String,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        deadline: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum SegmentCommand {
    /// Set a plan's segment targets, in assignment order (replaces earlier ones for the unit and period).
    Set {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        period: String,
        /// The plan's total (warned about when the segments do not add up to it).
        #[arg(long)]
        total: u64,
        /// `key=Name=target`, or `key=Name=target=everyone` for the catch-all; repeat, in order.
        #[arg(long = "segment", required = true)]
        segments: Vec<String>,
        #[arg(long, default_value = "")]
        source: String,
    },
    /// Segment targets with their progress today (or on --date).
    List {
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Import a staff list (CSV: ID number, full name, agency) for a 100 %-of-staff target.
    Import {
        file: PathBuf,
        #[arg(long)]
        unit: String,
        /// The date by which every listed person should hold a certificate.
        #[arg(long)]
        deadline: String,
        /// The segment these agencies count toward, when the plan has segments.
        #[arg(long)]
        segment: Option<String>,
    },
    /// Staff and holders per agency today (or on --date).
    Progress {
        #[arg(long)]
        date: Option<String>,
    },
}

fn a(e: String) -> anyhow::Error {
    anyhow!(e)
}

fn period_of(p: &PeriodArgs) -> Result<Period> {
    data::period(&p.freq, p.period.as_deref()).map_err(a)
}

fn now() -> time::OffsetDateTime {
    data::instant(kyso_store::now())
}

fn vn(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

fn period_json(p: &Period) -> Value {
    json!({"frequency": p.frequency.name(), "start": p.start.to_string(), "last_day": p.last_day().to_string(),
           "label": label(p, false), "due": vn(data::rules().due(p))})
}

pub fn figures_json(f: &Figures) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in f.to_pairs() {
        m.insert(k, json!(v));
    }
    m.insert("share".into(), json!(f.share().map(|p| p.to_string())));
    m.insert("of_target".into(), json!(f.of_target().map(|p| p.to_string())));
    m.insert("visits_total".into(), json!(f.visits_total()));
    Value::Object(m)
}

fn status_json(s: &ReportStatus) -> Value {
    match s {
        ReportStatus::OnTime { at } => json!({"status": "on_time", "at": vn(*at)}),
        ReportStatus::Late { at, minutes } => json!({"status": "late", "at": vn(*at), "late_minutes": minutes}),
        other => json!({"status": other.name()}),
    }
}

pub fn rollup_json(unit: &str, r: &Rollup, names: &[String]) -> Value {
    let rows: Vec<Value> = r
        .rows
        .iter()
        .zip(names)
        .map(|(row, name)| {
            let mut v = status_json(&row.status);
            v["unit"] = json!(row.unit_code);
            v["name"] = json!(name);
            v["figures"] = row.figures.as_ref().map_or(Value::Null, figures_json);
            v["review"] = row.review.map_or(Value::Null, |s| json!(s.key()));
            v
        })
        .collect();
    json!({"unit": unit, "period": period_json(&r.period), "expected": r.expected(), "on_time": r.count("on_time"),
           "late": r.count("late"), "missing": r.count("missing"), "pending": r.count("pending"),
           "completeness": r.completeness(), "timeliness": r.timeliness(), "total": figures_json(&r.total),
           "rows": rows, "unexpected": r.unexpected})
}

/// "YYYY-MM-DD HH:MM" (or a date alone, at 00:00) in Vietnam time → Unix seconds.
fn parse_at(text: &str) -> Result<i64> {
    let text = text.trim();
    let (date, clock) = text.split_once([' ', 'T']).unwrap_or((text, "00:00"));
    let date = parse_date(date).map_err(|e| anyhow!("--at: {e}"))?;
    let (h, m) = clock.split_once(':').context("--at: write the time as HH:MM")?;
    let t = time::Time::from_hms(h.parse()?, m.get(..2).unwrap_or(m).parse()?, 0).context("--at: not a time of day")?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_offset(VIETNAM).unix_timestamp())
}

async fn report_value(store: &Store, unit: &str, period: &Period) -> Result<Value> {
    let name = data::unit_name(store, unit).await.map_err(a)?.with_context(|| format!("unknown unit {unit}"))?;
    let figures = data::prefill(store, unit, period, now()).await.map_err(a)?;
    let submissions: Vec<Value> = data::submissions(store, unit, period)
        .await
        .map_err(a)?
        .iter()
        .map(|(r, f)| {
            json!({"submitted_at": vn(data::instant(r.submitted_at)), "by": r.submitted_by,
                   "difficulties": r.difficulties, "proposals": r.proposals, "figures": figures_json(f)})
        })
        .collect();
    let topics =
        kyso_tracker::hotline::topics(store, &kyso_tracker::hotline::scope_of(unit), period, 5).await.map_err(a)?;
    let topics: Vec<Value> =
        topics.iter().map(|t| json!({"topic": t.topic.key(), "asked": t.asked, "resolved": t.resolved})).collect();
    Ok(json!({"unit": unit, "name": name, "period": period_json(period), "figures": figures_json(&figures),
              "submissions": submissions, "hotline_topics": topics}))
}

fn report_text(v: &Value) -> String {
    let f = &v["figures"];
    let mut s = format!(
        "{} ({}) — {} (due {})\nadults {}, holders {} ({}), target {} as a level / {} as an increment ({} of the level)\n\
new certificates {}, new holders {}, visits {}; 14-day rate {}/100 a day, required {}/100",
        v["name"].as_str().unwrap_or(""),
        v["unit"].as_str().unwrap_or(""),
        v["period"]["label"].as_str().unwrap_or(""),
        v["period"]["due"].as_str().unwrap_or(""),
        f["adults"],
        f["holders"],
        f["share"].as_str().unwrap_or("-"),
        f["target_level"],
        f["target_increment"],
        f["of_target"].as_str().unwrap_or("-"),
        f["new_certificates"],
        f["new_holders"],
        f["visits_total"],
        f["run_rate_x100"],
        f["required_rate_x100"],
    );
    for sub in v["submissions"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\nsubmitted {} by {}: difficulties: {} | proposals: {}",
            sub["submitted_at"].as_str().unwrap_or(""),
            sub["by"].as_str().unwrap_or(""),
            sub["difficulties"].as_str().unwrap_or(""),
            sub["proposals"].as_str().unwrap_or("")
        ));
    }
    s
}

fn rollup_text(v: &Value) -> String {
    let mut s = format!(
        "{} — {}: {} of {} submitted ({} on time, {} late, {} missing, {} not yet due); holders {} of {} adults",
        v["unit"].as_str().unwrap_or(""),
        v["period"]["label"].as_str().unwrap_or(""),
        v["on_time"].as_u64().unwrap_or(0) + v["late"].as_u64().unwrap_or(0),
        v["expected"],
        v["on_time"],
        v["late"],
        v["missing"],
        v["pending"],
        v["total"]["holders"],
        v["total"]["adults"],
    );
    for r in v["rows"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n  {:<6} {:<28} {:<8} {}",
            r["unit"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or(""),
            r["status"].as_str().unwrap_or(""),
            r["at"].as_str().unwrap_or("")
        ));
    }
    s
}

pub async fn run_report(store: &Store, c: ReportCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        ReportCommand::Show { p, xlsx } => {
            let period = period_of(&p)?;
            let v = report_value(store, &p.unit, &period).await?;
            if let Some(file) = xlsx {
                write_xlsx(store, &file, &p.unit, &period, false).await?;
            }
            out(json_mode, v.clone(), &report_text(&v));
        }
        ReportCommand::Submit { p, by, difficulties, proposals, at } => {
            let period = period_of(&p)?;
            let at = match at {
                Some(t) => parse_at(&t)?,
                None => kyso_store::now(),
            };
            if at > kyso_store::now() {
                bail!("--at is in the future: a report is recorded when it was received");
            }
            let s = data::Submission {
                unit: &p.unit,
                period,
                by: &by,
                difficulties: &difficulties,
                proposals: &proposals,
                at,
            };
            let (row, figures) = data::submit(store, &s, ACTOR).await.map_err(a)?;
            let status = registers::submission_status(&p.unit, &period, &figures, at).map_err(a)?;
            let mut v = status_json(&status);
            v["id"] = json!(row.id);
            v["unit"] = json!(p.unit);
            v["period"] = period_json(&period);
            v["figures"] = figures_json(&figures);
            let text = format!(
                "submitted report {} for {} ({}), {}",
                row.id,
                p.unit,
                label(&period, true),
                v["status"].as_str().unwrap_or("")
            );
            out(json_mode, v, &text);
        }
        ReportCommand::Rollup { p, xlsx } => {
            let period = period_of(&p)?;
            let (r, names) = data::rollup(store, &p.unit, &period, now()).await.map_err(a)?;
            let v = rollup_json(&p.unit, &r, &names);
            if let Some(file) = xlsx {
                write_xlsx(store, &file, &p.unit, &period, true).await?;
            }
            out(json_mode, v.clone(), &rollup_text(&v));
        }
        ReportCommand::Completeness { p, count } => {
            let period = period_of(&p)?;
            let list = data::completeness(store, &p.unit, &period, count, now()).await.map_err(a)?;
            let periods: Vec<Value> = list
                .iter()
                .map(|r| {
                    let missing: Vec<&str> = r
                        .rows
                        .iter()
                        .filter(|row| row.status == ReportStatus::Missing)
                        .map(|row| row.unit_code.as_str())
                        .collect();
                    json!({"period": period_json(&r.period), "expected": r.expected(), "on_time": r.count("on_time"),
                           "late": r.count("late"), "missing": r.count("missing"), "pending": r.count("pending"),
                           "completeness": r.completeness(), "timeliness": r.timeliness(), "missing_units": missing})
                })
                .collect();
            let text = periods
                .iter()
                .map(|p| {
                    format!(
                        "{:<24} expected {}, on time {}, late {}, missing {}, not yet due {}",
                        p["period"]["label"].as_str().unwrap_or(""),
                        p["expected"],
                        p["on_time"],
                        p["late"],
                        p["missing"],
                        p["pending"]
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(json_mode, json!({"unit": p.unit, "periods": periods}), &text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn write_xlsx(store: &Store, file: &std::path::Path, unit: &str, period: &Period, rollup: bool) -> Result<()> {
    let bytes = kyso_tracker::report_xlsx::xlsx_bytes(store, unit, period, rollup)
        .await
        .map_err(a)?
        .with_context(|| format!("unknown unit {unit}"))?;
    std::fs::write(file, bytes).with_context(|| format!("cannot write {}", file.display()))
}

fn task_json(r: &TaskRow, today: time::Date) -> Result<Value> {
    let t = data::task_of(r).map_err(a)?;
    Ok(json!({"unit": r.unit_code, "number": r.number, "name": r.name, "lead": r.lead, "coordinating": r.coordinating,
              "expected_result": r.expected_result, "deadline": r.deadline,
              "last_day": t.deadline().ok().and_then(|d| d.last_day()).map(|d| d.to_string()),
              "status": r.status, "overdue": t.overdue(today), "note": r.note}))
}

pub async fn run_task(store: &Store, c: TaskCommand, json_mode: bool) -> Result<ExitCode> {
    let today = data::today().map_err(a)?;
    match c {
        TaskCommand::Add { unit, number, name, lead, coordinating, result, deadline, status } => {
            let task = NewTask { unit: unit.clone(), number, name, lead, coordinating, result, deadline, status };
            let row = registers::add_task(store, task, ACTOR).await?;
            let v = task_json(&row, today)?;
            out(json_mode, v, &format!("added task {} for {unit}", row.number));
        }
        TaskCommand::List { unit } => {
            let list = data::tasks(store, unit.as_deref()).await.map_err(a)?;
            let rows = list.iter().map(|(r, _)| task_json(r, today)).collect::<Result<Vec<_>>>()?;
            let text = rows
                .iter()
                .map(|t| {
                    format!(
                        "{:<5} {:<12} {:<30} {}{}",
                        t["number"].as_str().unwrap_or(""),
                        t["status"].as_str().unwrap_or(""),
                        t["deadline"].as_str().unwrap_or(""),
                        t["name"].as_str().unwrap_or("").chars().take(70).collect::<String>(),
                        if t["overdue"] == true { "  OVERDUE" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(json_mode, json!({"date": today.to_string(), "tasks": rows}), &text);
        }
        TaskCommand::Update { unit, number, status, deadline, note } => {
            let changes = (status.as_deref(), deadline.as_deref(), note.as_deref());
            let row = registers::update_task(store, &unit, &number, changes, ACTOR).await?;
            let v = task_json(&row, today)?;
            out(json_mode, v, &format!("task {} of {unit}: {}", row.number, row.status));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn date_or_today(date: Option<&str>) -> Result<time::Date> {
    match date {
        Some(d) => parse_date(d).map_err(|e| anyhow!("--date: {e}")),
        None => data::today().map_err(a),
    }
}

pub async fn run_segments(store: &Store, c: SegmentCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        SegmentCommand::Set { unit, period, total, segments, source } => {
            let rows = segments.iter().map(|s| registers::segment_row(s)).collect::<Result<Vec<_>>>()?;
            let set = SegmentSetRow { unit_code: unit.clone(), period, total: i64::try_from(total)?, source };
            let warnings = registers::set_segments(store, &set, &rows, ACTOR).await?;
            let text = format!(
                "{} segments for {unit}{}",
                rows.len(),
                if warnings.is_empty() { "" } else { " (see warnings)" }
            );
            let text =
                std::iter::once(text).chain(warnings.iter().map(|w| format!("warning: {w}"))).collect::<Vec<_>>();
            out(json_mode, json!({"unit": unit, "segments": rows.len(), "warnings": warnings}), &text.join("\n"));
        }
        SegmentCommand::List { date } => {
            let on = date_or_today(date.as_deref())?;
            let sets = data::segment_progress(store, on).await.map_err(a)?;
            let v: Vec<Value> = sets
                .iter()
                .map(|(set, _, progress)| {
                    json!({"unit": set.unit_code, "period": set.period, "total": set.total,
                           "segments": progress.iter().map(|p| json!({"key": p.key, "name": p.name, "target": p.target,
                               "holders": p.holders})).collect::<Vec<_>>()})
                })
                .collect();
            let mut text = String::new();
            for (set, _, progress) in &sets {
                text.push_str(&format!("{} {} (total {})\n", set.unit_code, set.period, set.total));
                for p in progress {
                    let holders = p.holders.map_or("no data yet".into(), |n| n.to_string());
                    text.push_str(&format!("  {:<20} {:>8}  {holders}\n", p.key, p.target));
                }
            }
            out(json_mode, json!({"date": on.to_string(), "sets": v}), text.trim_end());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_staff(store: &Store, c: StaffCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        StaffCommand::Import { file, unit, deadline, segment } => {
            let deadline = parse_date(&deadline).map_err(|e| anyhow!("--deadline: {e}"))?.to_string();
            if data::unit_name(store, &unit).await.map_err(a)?.is_none() {
                bail!("unknown unit {unit}");
            }
            let f = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let text =
                kyso_campaign::csv::read_utf8(f).with_context(|| format!("{} is not UTF-8 text", file.display()))?;
            let (report, up) =
                registers::import_staff(store, &text, &unit, &deadline, segment.as_deref(), ACTOR).await?;
            let imported = report.items.len();
            let rejected: Vec<Value> =
                report.errors.iter().map(|e| json!({"row": e.row, "field": e.field, "reason": e.reason})).collect();
            let mut text = format!(
                "imported {} (new {}, updated {}), rejected {}",
                imported,
                up.inserted,
                up.updated,
                report.errors.len()
            );
            for e in &report.errors {
                text.push_str(&format!("\n  {e}"));
            }
            out(
                json_mode,
                json!({"imported": imported, "inserted": up.inserted, "updated": up.updated, "rejected": rejected}),
                &text,
            );
            if !report.errors.is_empty() && imported == 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        StaffCommand::Progress { date } => {
            let on = date_or_today(date.as_deref())?;
            let list = data::staff_progress(store, on).await.map_err(a)?;
            let v: Vec<Value> = list
                .iter()
                .map(|s| {
                    json!({"unit": s.unit, "deadline": s.deadline, "agencies": s.agencies.iter().map(|a| json!({
                        "agency": a.agency, "staff": a.staff, "holders": a.holders})).collect::<Vec<_>>()})
                })
                .collect();
            let mut text = String::new();
            for s in &list {
                text.push_str(&format!("{} (100 % by {})\n", s.unit, s.deadline.as_deref().unwrap_or("-")));
                for ag in &s.agencies {
                    text.push_str(&format!("  {:<32} {} / {}\n", ag.agency, ag.holders, ag.staff));
                }
            }
            out(json_mode, json!({"date": on.to_string(), "units": v}), text.trim_end());
        }
    }
    Ok(ExitCode::SUCCESS)
}
