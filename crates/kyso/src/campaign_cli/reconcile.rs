//! `kyso campaign reconcile|unmatched`: what the providers, the police and the commune should each
//! correct (`kyso_tracker::reconcile`, the page's list, masked, audited), printed.

use super::meter::Shown;
use super::ACTOR;
use crate::output::out;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::csv::parse_date;
use kyso_store::Store;
use kyso_tracker::reconcile::{export_reconciliation, finding_text, recipient_text, reconcile_xlsx};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub(super) async fn reconcile(
    store: &Store,
    commune: &str,
    date: &str,
    xlsx: Option<&Path>,
    json_mode: bool,
) -> Result<ExitCode> {
    let day = parse_date(date).map_err(|e| anyhow!("--date: {e}"))?;
    let how = if xlsx.is_some() { ", xlsx" } else { "" };
    let (unit, hamlets, lines) = export_reconciliation(store, commune, day, how, ACTOR).await?;
    if let Some(path) = xlsx {
        let bytes = reconcile_xlsx(&hamlets, &lines).map_err(|e| anyhow!(e))?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut text = format!("{} ({commune}) on {date}: {} findings", unit.name, lines.len());
    for group in lines.chunk_by(|a, b| a.finding.recipient() == b.finding.recipient()) {
        text.push_str(&format!("\n{} ({}):", recipient_text(true, group[0].finding.recipient()), group.len()));
        for l in group {
            text.push_str(&format!(
                "\n  {:<6} {:<6} {}  {}",
                l.hamlet_code,
                l.household.as_deref().unwrap_or(""),
                l.masked_id,
                finding_text(true, &l.finding)
            ));
        }
    }
    if let Some(path) = xlsx {
        text.push_str(&format!("\nwritten to {}", path.display()));
    }
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            json!({"finding": l.finding.name(), "hamlet": l.hamlet_code, "household": l.household,
                   "id_masked": l.masked_id, "text": finding_text(false, &l.finding)})
        })
        .collect();
    out(json_mode, json!({"commune": commune, "date": date, "findings": rows}), &text);
    Ok(ExitCode::SUCCESS)
}

/// `kyso campaign unmatched`: the certificates providers listed for ID numbers that no commune's
/// register has — the national correction list to the providers (a mistyped number) and to the
/// police (a resident missing from the register). Masked; each provider's count first.
pub(super) async fn unmatched(
    store: &Store,
    provider: Option<&str>,
    date: Option<&str>,
    xlsx: Option<&Path>,
    json_mode: bool,
) -> Result<ExitCode> {
    use kyso_campaign::register_index::{iso_date, masked_key};
    let how = if xlsx.is_some() { ", xlsx" } else { "" };
    let u = kyso_tracker::reconcile::unmatched(store, provider, date, (how, ACTOR), &mut Shown::default()).await?;
    let (records, by_provider) = (&u.records, &u.by_provider);
    let name = |code: u16| u.name(code);
    let scope = date.map_or(String::new(), |d| format!(" valid on {d}"));
    if let Some(path) = xlsx {
        let bytes = kyso_tracker::reconcile::unmatched_xlsx(&u).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut text = format!("{} listed certificates{scope} for ID numbers in no register", records.len());
    for (p, n) in by_provider {
        text.push_str(&format!("\n  {p:<14} {n}"));
        for l in records.iter().filter(|l| name(l.provider) == p.as_str()).take(5) {
            text.push_str(&format!("\n    {} issued {} {}", masked_key(l.id), iso_date(l.issued), l.status_name()));
        }
    }
    match xlsx {
        Some(path) => text.push_str(&format!("\nwritten to {}", path.display())),
        None if !records.is_empty() => text.push_str("\n(five a provider here; --xlsx FILE writes them all)"),
        None => {}
    }
    let rows: Vec<_> = records
        .iter()
        .map(|l| {
            json!({"provider": name(l.provider), "id_masked": masked_key(l.id), "issued": iso_date(l.issued),
                   "expires": l.expires.map(iso_date), "status": l.status_name()})
        })
        .collect();
    let counts: serde_json::Map<String, serde_json::Value> =
        by_provider.iter().map(|(p, n)| (p.clone(), json!(n))).collect();
    out(json_mode, json!({"date": date, "by_provider": counts, "certificates": rows}), &text);
    Ok(ExitCode::SUCCESS)
}
