//! `kyso campaign plan …`: plans as versioned targets with a baseline and milestones.

use super::{iso, progress::target, ACTOR};
use crate::output::out;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::plan::{Percent, TargetValue};
use kyso_store::campaign::{MilestoneRow, PlanRow};
use kyso_store::{AuditEvent, Store};
use serde_json::json;
use std::process::ExitCode;

// Parsed once per process: the size of the arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum PlanCommand {
    /// Record a plan for a unit (a new version when the unit and period already have one).
    Add(PlanArgs),
    /// The latest version of every plan.
    List,
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Commune (5 digits) or province (2 digits) code.
    #[arg(long)]
    pub unit: String,
    #[arg(long)]
    pub period: String,
    /// Age line of the denominator: 14, 15, 16 or 18.
    #[arg(long, default_value_t = 15)]
    pub min_age: u8,
    /// The date the age line is measured on.
    #[arg(long)]
    pub reference_date: String,
    /// `63.80%` (share of adults) or `3496` (holders).
    #[arg(long)]
    pub target: String,
    /// level (the total to reach), increment (on top of the baseline) or unknown (show both).
    #[arg(long, default_value = "unknown")]
    pub kind: String,
    #[arg(long)]
    pub baseline_count: u64,
    #[arg(long)]
    pub baseline_date: String,
    #[arg(long)]
    pub baseline_source: String,
    #[arg(long)]
    pub deadline: String,
    /// `DATE=35%` or `DATE=1918`; repeat for several.
    #[arg(long = "milestone")]
    pub milestones: Vec<String>,
}

/// `63.80%` → percent in hundredths; `3496` → absolute holders.
fn target_value(text: &str) -> Result<TargetValue> {
    let text = text.trim();
    if let Some(p) = text.strip_suffix('%') {
        let p = p.trim().replace(',', ".");
        let (whole, frac) = p.split_once('.').unwrap_or((&p, ""));
        if frac.len() > 2 || whole.is_empty() || !(whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
            bail!("'{text}' is not a percent with at most two decimals (e.g. 63.80%)");
        }
        let hundredths: u32 = format!("{whole}{frac:0<2}").parse()?;
        if hundredths > 10_000 {
            bail!("'{text}' is more than 100 %");
        }
        Ok(TargetValue::Percent(Percent::from_hundredths(hundredths)))
    } else {
        Ok(TargetValue::Absolute(
            text.parse().map_err(|_| anyhow!("'{text}' is neither a percent (63.80%) nor a number of holders"))?,
        ))
    }
}

fn value_columns(v: TargetValue) -> (Option<i64>, Option<i64>) {
    match v {
        TargetValue::Percent(p) => (Some(i64::from(p.hundredths())), None),
        TargetValue::Absolute(n) => (None, Some(n as i64)),
    }
}

fn value_of(percent: Option<i64>, absolute: Option<i64>) -> Result<TargetValue> {
    kyso_server::campaign_data::value_of(percent, absolute).map_err(|e| anyhow!(e))
}

pub(super) fn value_text(v: TargetValue) -> String {
    match v {
        TargetValue::Percent(p) => p.to_string(),
        TargetValue::Absolute(n) => format!("{n} holders"),
    }
}

pub async fn add_plan(store: &Store, a: &PlanArgs, actor: &str) -> Result<PlanRow> {
    AdultsDenominator::new(a.min_age, parse_date(&a.reference_date).map_err(|e| anyhow!("--reference-date: {e}"))?)
        .map_err(|e| anyhow!("--min-age: {e}"))?;
    if !matches!(a.kind.as_str(), "level" | "increment" | "unknown") {
        bail!("--kind must be level, increment or unknown");
    }
    if !(a.unit.len() == 2 || a.unit.len() == 5) || !a.unit.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--unit: a 2-digit province or 5-digit commune code");
    }
    let (percent, absolute) = value_columns(target_value(&a.target).map_err(|e| anyhow!("--target: {e}"))?);
    let mut milestones = Vec::new();
    for m in &a.milestones {
        let (date, value) =
            m.split_once('=').with_context(|| format!("--milestone '{m}': write DATE=35% or DATE=1918"))?;
        let (p, n) = value_columns(target_value(value).map_err(|e| anyhow!("--milestone: {e}"))?);
        milestones.push(MilestoneRow { date: iso("milestone", date)?, percent_hundredths: p, absolute: n });
    }
    let plan = PlanRow {
        id: 0,
        unit_code: a.unit.clone(),
        period: a.period.clone(),
        version: 0,
        min_age: i64::from(a.min_age),
        reference_date: iso("reference-date", &a.reference_date)?,
        target_kind: a.kind.clone(),
        target_percent_hundredths: percent,
        target_absolute: absolute,
        baseline_count: a.baseline_count as i64,
        baseline_date: iso("baseline-date", &a.baseline_date)?,
        baseline_source: a.baseline_source.clone(),
        deadline: iso("deadline", &a.deadline)?,
        created_at: 0,
    };
    let detail =
        format!("period {}, target {} ({}), deadline {}", plan.period, a.target, plan.target_kind, plan.deadline);
    Ok(store
        .add_plan(&plan, &milestones, &AuditEvent::new(actor, "campaign.plan.add", &plan.unit_code, detail))
        .await?)
}

pub(super) async fn plan_add(store: &Store, a: PlanArgs, json_mode: bool) -> Result<ExitCode> {
    let p = add_plan(store, &a, ACTOR).await?;
    out(
        json_mode,
        json!({"id": p.id, "unit": p.unit_code, "period": p.period, "version": p.version}),
        &format!("plan {} for {} ({}), version {}", p.id, p.unit_code, p.period, p.version),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn plan_list(store: &Store, json_mode: bool) -> Result<ExitCode> {
    let plans = store.plans(None).await?;
    let mut lines = Vec::new();
    let mut v = Vec::new();
    for (p, ms) in &plans {
        let target = target(p, ms)?;
        lines.push(format!(
            "{} {} v{}: {}+ on {}, target {} ({}), baseline {} on {} ({}), deadline {}, {} milestone(s)",
            p.unit_code,
            p.period,
            p.version,
            p.min_age,
            p.reference_date,
            value_text(target.value),
            p.target_kind,
            p.baseline_count,
            p.baseline_date,
            p.baseline_source,
            p.deadline,
            ms.len()
        ));
        v.push(json!({"id": p.id, "unit": p.unit_code, "period": p.period, "version": p.version, "min_age": p.min_age,
            "reference_date": p.reference_date, "kind": p.target_kind, "target": value_text(target.value),
            "baseline": {"count": p.baseline_count, "date": p.baseline_date, "source": p.baseline_source},
            "deadline": p.deadline, "milestones": ms.iter().map(|m| json!({"date": m.date, "target": value_of(m.percent_hundredths, m.absolute).map(value_text).unwrap_or_default()})).collect::<Vec<_>>()}));
    }
    out(json_mode, json!(v), &lines.join("\n"));
    Ok(ExitCode::SUCCESS)
}
