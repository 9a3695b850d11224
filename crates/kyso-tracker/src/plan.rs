//! Campaign plans as versioned targets with a baseline and milestones: a plan as written
//! (`63.80%`, `3496`, dates in either format) checked and recorded.

use anyhow::{anyhow, bail, Context, Result};
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::plan::{Percent, TargetValue};
use kyso_store::campaign::{MilestoneRow, PlanRow};
use kyso_store::{AuditEvent, Store};

/// A plan as its author writes it; the errors name the CLI's flags.
#[derive(Clone, Debug)]
pub struct NewPlan {
    /// Commune (5 digits) or province (2 digits) code.
    pub unit: String,
    pub period: String,
    /// Age line of the denominator: 14, 15, 16 or 18.
    pub min_age: u8,
    /// The date the age line is measured on.
    pub reference_date: String,
    /// `63.80%` (share of adults) or `3496` (holders).
    pub target: String,
    /// level, increment or unknown.
    pub kind: String,
    pub baseline_count: u64,
    pub baseline_date: String,
    pub baseline_source: String,
    pub deadline: String,
    /// `DATE=35%` or `DATE=1918`.
    pub milestones: Vec<String>,
}

/// `63.80%` → percent in hundredths; `3496` → absolute holders.
pub fn target_value(text: &str) -> Result<TargetValue> {
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

/// `63.80 %` or `3496 holders`.
pub fn value_text(v: TargetValue) -> String {
    match v {
        TargetValue::Percent(p) => p.to_string(),
        TargetValue::Absolute(n) => format!("{n} holders"),
    }
}

fn iso(field: &str, text: &str) -> Result<String> {
    Ok(parse_date(text).map_err(|e| anyhow!("--{field}: {e}"))?.to_string())
}

/// Records a plan (a new version when the unit and period already have one), audited.
pub async fn add_plan(store: &Store, a: &NewPlan, actor: &str) -> Result<PlanRow> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_percent_with_two_decimals_or_a_count() {
        assert_eq!(target_value("63.80%").unwrap(), TargetValue::Percent(Percent::from_hundredths(6380)));
        assert_eq!(target_value(" 63,8 %").unwrap(), TargetValue::Percent(Percent::from_hundredths(6380)));
        assert_eq!(target_value("3496").unwrap(), TargetValue::Absolute(3496));
        for bad in ["63.801%", "100.01%", "%", "x%", "many"] {
            assert!(target_value(bad).is_err(), "{bad}");
        }
        assert_eq!(value_text(target_value("3496").unwrap()), "3496 holders");
    }
}
