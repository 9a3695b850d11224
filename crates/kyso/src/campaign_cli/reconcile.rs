//! `kyso campaign reconcile`: what the providers, the police and the commune should each correct,
//! from the register, the certificate sources and the visit log (the page's list, masked, audited).

use super::ACTOR;
use crate::commands::out;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::csv::parse_date;
use kyso_server::reconcile::{finding_text, recipient_text, reconcile_xlsx, reconciliation};
use kyso_store::{AuditEvent, Store, Write};
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
    let (unit, hamlets, lines) = reconciliation(store, commune, day)
        .await
        .map_err(|e| anyhow!(e))?
        .with_context(|| format!("--commune: unknown commune {commune}"))?;
    let how = if xlsx.is_some() { ", xlsx" } else { "" };
    let audit = AuditEvent::new(
        ACTOR,
        "campaign.reconcile.export",
        commune,
        format!("{} findings on {date}{how}", lines.len()),
    );
    store.commit(&[Write::Audit(audit)]).await?;
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
