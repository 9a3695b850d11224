//! `kyso campaign plan …`: plans as versioned targets with a baseline and milestones.

use super::{progress::target, ACTOR};
use crate::output::out;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use kyso_campaign::plan::TargetValue;
use kyso_store::campaign::PlanRow;
use kyso_store::Store;
use kyso_tracker::plan::{value_text, NewPlan};
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

fn value_of(percent: Option<i64>, absolute: Option<i64>) -> Result<TargetValue> {
    kyso_tracker::read::value_of(percent, absolute).map_err(|e| anyhow!(e))
}

/// Records a plan (`kyso_tracker::plan::add_plan`).
pub async fn add_plan(store: &Store, a: &PlanArgs, actor: &str) -> Result<PlanRow> {
    let plan = NewPlan {
        unit: a.unit.clone(),
        period: a.period.clone(),
        min_age: a.min_age,
        reference_date: a.reference_date.clone(),
        target: a.target.clone(),
        kind: a.kind.clone(),
        baseline_count: a.baseline_count,
        baseline_date: a.baseline_date.clone(),
        baseline_source: a.baseline_source.clone(),
        deadline: a.deadline.clone(),
        milestones: a.milestones.clone(),
    };
    kyso_tracker::plan::add_plan(store, &plan, actor).await
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
