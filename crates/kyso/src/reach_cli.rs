//! `kyso campaign hotline|training|approval …` (issue 21): what officers script — log a hotline
//! question, keep the FAQ and the operator hours, list the week's most-asked topics; record a
//! training session, import a community team's roster, show the share trained; approve or return
//! a unit's report, register reporting agencies. A thin shell over `kyso_tracker::{hotline,
//! training, approval}`; callers and ID numbers are printed masked.

use crate::output::out;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use kyso_store::Store;
use kyso_tracker::hotline as service;
use serde_json::json;
use std::process::ExitCode;

const ACTOR: &str = "cli";

#[derive(Subcommand)]
pub enum HotlineCommand {
    /// Log a question: the unit it concerns, its topic, answered or not; the caller is stored masked.
    Log {
        /// Commune (5 digits) or province (2 digits).
        #[arg(long)]
        unit: String,
        /// eid_level2, register, provider, activate, pin, sign, renewal, fees, support_point or other.
        #[arg(long)]
        topic: String,
        #[arg(long, default_value = "")]
        question: String,
        /// The caller's phone (10 digits) or ID number (12 digits); stored and printed masked.
        #[arg(long, default_value = "")]
        caller: String,
        /// The question was answered on the call.
        #[arg(long)]
        resolved: bool,
    },
    /// Add an FAQ entry, or replace one (--id).
    FaqSave {
        #[arg(long, default_value_t = 0)]
        id: i64,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        question: String,
        #[arg(long)]
        answer: String,
    },
    /// Search the FAQ; diacritics optional ("chu ky so" finds "chữ ký số").
    Faq {
        #[arg(default_value = "")]
        query: String,
    },
    /// The most-asked topics of a week (the weekly report's section).
    Topics {
        #[command(flatten)]
        p: crate::report_cli::PeriodArgs,
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Set the hotline's number and operator hours (shown on the guidance page).
    Hours {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        hours: String,
    },
}

pub async fn run_hotline(store: &Store, c: HotlineCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        HotlineCommand::Log { unit, topic, question, caller, resolved } => {
            let input = service::CallInput {
                unit: &unit,
                topic: &topic,
                question: &question,
                caller: &caller,
                resolved,
                at: kyso_store::now(),
            };
            let row = service::log_call(store, &input, ACTOR).await.map_err(|e| anyhow!(e))?;
            let v = json!({"id": row.id, "unit": unit, "topic": row.topic, "caller": row.caller_masked, "resolved": row.resolved});
            out(json_mode, v, &format!("logged question {} ({}, caller {})", row.id, row.topic, row.caller_masked));
        }
        HotlineCommand::FaqSave { id, topic, question, answer } => {
            let row = service::save_faq(store, id, &topic, &question, &answer, ACTOR).await.map_err(|e| anyhow!(e))?;
            out(json_mode, json!({"id": row.id, "topic": row.topic}), &format!("saved FAQ entry {}", row.id));
        }
        HotlineCommand::Faq { query } => {
            let rows = service::search_faq(store, &query, 100).await.map_err(|e| anyhow!(e))?;
            let v: Vec<_> = rows
                .iter()
                .map(|r| json!({"id": r.id, "topic": r.topic, "question": r.question, "answer": r.answer}))
                .collect();
            let text: Vec<String> =
                rows.iter().map(|r| format!("{:>4}  {}\n      {}", r.id, r.question, r.answer)).collect();
            out(json_mode, json!({"entries": v}), &text.join("\n"));
        }
        HotlineCommand::Topics { p, limit } => {
            let period =
                kyso_tracker::reports::period(&p.freq, p.period.as_deref()).map_err(|e| anyhow!("--period: {e}"))?;
            let top =
                service::topics(store, &service::scope_of(&p.unit), &period, limit).await.map_err(|e| anyhow!(e))?;
            let v: Vec<_> =
                top.iter().map(|t| json!({"topic": t.topic.key(), "asked": t.asked, "resolved": t.resolved})).collect();
            let text: Vec<String> = top
                .iter()
                .map(|t| format!("{:<16} {:>5} asked, {:>5} answered", t.topic.key(), t.asked, t.resolved))
                .collect();
            let label = kyso_campaign::reports::label(&period, true);
            out(
                json_mode,
                json!({"unit": p.unit, "period": label, "topics": v}),
                &format!("{label}\n{}", text.join("\n")),
            );
        }
        HotlineCommand::Hours { phone, hours } => {
            service::set_info(store, &phone, &hours, ACTOR).await.map_err(|e| anyhow!(e))?;
            out(json_mode, json!({"phone": phone.trim(), "hours": hours.trim()}), "saved the hotline's hours");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum TrainingCommand {
    /// Record a session held: day, unit, trainer, topic, and who attended (a CSV file of
    /// id_number,full_name,kind with kind staff or volunteer; a header row is optional).
    Record {
        /// Commune (5 digits) or province (2 digits).
        #[arg(long)]
        unit: String,
        /// The day held (YYYY-MM-DD or dd/mm/yyyy).
        #[arg(long)]
        date: String,
        #[arg(long)]
        trainer: String,
        #[arg(long)]
        topic: String,
        #[arg(long, value_name = "CSV")]
        attendees: std::path::PathBuf,
    },
    /// Import a community digital-technology team's roster (staff-list columns: ID number, name,
    /// and the team in the agency column). Bad rows are named, the rest kept.
    ImportTeam {
        file: std::path::PathBuf,
        #[arg(long)]
        unit: String,
    },
    /// The share of staff and community-team members trained, per unit (a province's, or all).
    Show {
        #[arg(long)]
        province: Option<String>,
        /// As of this day (default: today).
        #[arg(long)]
        date: Option<String>,
    },
}

/// Attendee lines: `id_number,full_name,kind`; a first line naming the columns is skipped.
fn attendee_lines(text: &str) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && !line.starts_with(|c: char| c.is_ascii_digit())) {
            continue;
        }
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        match parts.as_slice() {
            [id, name, kind] => out.push(((*id).to_owned(), (*name).to_owned(), (*kind).to_owned())),
            _ => return Err(anyhow!("row {}: write id_number,full_name,kind", i + 1)),
        }
    }
    Ok(out)
}

pub async fn run_training(store: &Store, c: TrainingCommand, json_mode: bool) -> Result<ExitCode> {
    use kyso_tracker::training as service;
    match c {
        TrainingCommand::Record { unit, date, trainer, topic, attendees } => {
            let text =
                std::fs::read_to_string(&attendees).map_err(|e| anyhow!("cannot read {}: {e}", attendees.display()))?;
            let lines = attendee_lines(&text)?;
            let list: Vec<service::Attendee<'_>> = lines
                .iter()
                .map(|(id, name, kind)| service::Attendee { id_number: id, full_name: name, kind })
                .collect();
            let session = service::NewSession { unit: &unit, held_on: &date, trainer: &trainer, topic: &topic };
            let row = service::record_session(store, &session, &list, ACTOR).await.map_err(|e| anyhow!(e))?;
            let v = json!({"id": row.id, "unit": row.unit_code, "date": row.held_on, "attendees": list.len()});
            out(json_mode, v, &format!("recorded session {} ({} attendees)", row.id, list.len()));
        }
        TrainingCommand::ImportTeam { file, unit } => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
            let (n, issues) = service::import_team(store, &unit, &text, ACTOR).await.map_err(|e| anyhow!(e))?;
            let mut lines = vec![format!("imported {n} team members for {unit}")];
            lines.extend(issues.iter().cloned());
            out(json_mode, json!({"imported": n, "rejected": issues}), &lines.join("\n"));
        }
        TrainingCommand::Show { province, date } => {
            let date = match date {
                Some(d) => kyso_campaign::csv::parse_date(&d).map_err(|e| anyhow!("--date: {e}"))?.to_string(),
                None => kyso_tracker::read::vn_date(kyso_store::now()),
            };
            let shares = service::shares(store, province.as_deref(), &date).await.map_err(|e| anyhow!(e))?;
            let v: Vec<_> = shares
                .iter()
                .map(|(u, t)| json!({"unit": u, "people": t.people, "trained": t.trained, "staff": t.staff,
                    "staff_trained": t.staff_trained, "volunteers": t.volunteers, "volunteers_trained": t.volunteers_trained,
                    "unlisted": t.unlisted, "share": t.share().map(|p| p.to_string())}))
                .collect();
            let text: Vec<String> = shares
                .iter()
                .map(|(u, t)| {
                    let share = t.share().map_or("–".to_owned(), |p| {
                        kyso_fmt::percent_x100(i64::from(p.hundredths()), kyso_fmt::Style::En)
                    });
                    format!("{u:<10} {:>5} of {:>5} trained ({share})", t.trained, t.people)
                })
                .collect();
            out(json_mode, json!({"date": date, "units": v}), &text.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum ApprovalCommand {
    /// Approve a unit's latest report for a period (the level above; its figures then freeze).
    Approve {
        #[command(flatten)]
        p: crate::report_cli::PeriodArgs,
    },
    /// Return a unit's latest report for a period, saying what to correct.
    Return {
        #[command(flatten)]
        p: crate::report_cli::PeriodArgs,
        #[arg(long)]
        reason: String,
    },
    /// The review of a unit's submissions for a period.
    Status {
        #[command(flatten)]
        p: crate::report_cli::PeriodArgs,
    },
    /// Register an agency reporting beside a commune or province (code such as 01960-CA).
    AddAgency {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// police, telecom, mass_org or other.
        #[arg(long)]
        kind: String,
    },
}

pub async fn run_approval(store: &Store, c: ApprovalCommand, json_mode: bool) -> Result<ExitCode> {
    use kyso_campaign::approval::Decision;
    use kyso_tracker::approval as service;
    let period_of = |p: &crate::report_cli::PeriodArgs| {
        kyso_tracker::reports::period(&p.freq, p.period.as_deref()).map_err(|e| anyhow!("--period: {e}"))
    };
    match c {
        ApprovalCommand::Approve { p } => {
            let period = period_of(&p)?;
            let row = service::decide(store, &p.unit, &period, &Decision::Approve, ACTOR)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            out(
                json_mode,
                json!({"unit": p.unit, "report": row.report_id, "state": row.state}),
                &format!("approved report {} of {}", row.report_id, p.unit),
            );
        }
        ApprovalCommand::Return { p, reason } => {
            let period = period_of(&p)?;
            let row = service::decide(store, &p.unit, &period, &Decision::Return { reason }, ACTOR)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            out(
                json_mode,
                json!({"unit": p.unit, "report": row.report_id, "state": row.state}),
                &format!("returned report {} of {}", row.report_id, p.unit),
            );
        }
        ApprovalCommand::Status { p } => {
            let period = period_of(&p)?;
            let rows = service::history(store, &p.unit, &period).await.map_err(|e| anyhow!(e))?;
            let v: Vec<_> = rows
                .iter()
                .map(|r| json!({"report": r.report_id, "state": r.state, "by": r.reviewed_by, "at": r.reviewed_at, "reason": r.reason}))
                .collect();
            let text: Vec<String> =
                rows.iter().map(|r| format!("{:>5} {:<10} {}", r.report_id, r.state, r.reason)).collect();
            out(json_mode, json!({"unit": p.unit, "reviews": v}), &text.join("\n"));
        }
        ApprovalCommand::AddAgency { code, name, kind } => {
            let row = service::add_agency(store, &code, &name, &kind, ACTOR).await.map_err(|e| anyhow!(e))?;
            out(
                json_mode,
                json!({"code": row.code, "unit": row.unit_code, "name": row.name, "kind": row.kind}),
                &format!("agency {} beside {}", row.code, row.unit_code),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
