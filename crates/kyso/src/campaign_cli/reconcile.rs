//! `kyso campaign reconcile`: what the providers, the police and the commune should each correct,
//! from the register, the certificate sources and the visit log (the page's list, masked, audited).

use super::ACTOR;
use crate::output::out;
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
    use kyso_campaign::register_index::{day_number, iso_date, masked_key};
    let day = date.map(|d| day_number(d).with_context(|| format!("--date: {d} is not YYYY-MM-DD"))).transpose()?;
    let index = std::sync::Arc::new(super::adoption::register_index(store).await?);
    let (records, names) =
        store.listed_where(move |l| index.get(l.id).is_none() && day.is_none_or(|d| l.valid_on(d))).await?;
    let name = |code: u16| names.get(usize::from(code)).map_or("?", String::as_str);
    let wanted = |code: u16| provider.is_none_or(|p| name(code).eq_ignore_ascii_case(p));
    let records: Vec<_> = records.into_iter().filter(|l| wanted(l.provider)).collect();
    let mut by_provider: Vec<(&str, usize)> = Vec::new();
    for l in &records {
        match by_provider.iter_mut().find(|(n, _)| *n == name(l.provider)) {
            Some((_, count)) => *count += 1,
            None => by_provider.push((name(l.provider), 1)),
        }
    }
    by_provider.sort();
    let scope = date.map_or(String::new(), |d| format!(" valid on {d}"));
    let audit = AuditEvent::new(
        ACTOR,
        "campaign.unmatched.export",
        provider.unwrap_or("all providers"),
        format!("{} certificates{scope}{}", records.len(), if xlsx.is_some() { ", xlsx" } else { "" }),
    );
    store.commit(&[Write::Audit(audit)]).await?;
    let end = |d: Option<i32>| d.map(iso_date).unwrap_or_default();
    if let Some(path) = xlsx {
        let mut w = kyso_xlsx::Writer::new(std::io::Cursor::new(Vec::new()));
        let columns = [
            kyso_xlsx::Column::new("Nhà cung cấp", 16.0),
            kyso_xlsx::Column::new("Số định danh (đã che)", 20.0),
            kyso_xlsx::Column::new("Ngày cấp", 12.0),
            kyso_xlsx::Column::new("Ngày hết hạn", 12.0),
            kyso_xlsx::Column::new("Trạng thái", 10.0),
        ];
        let e = |e: kyso_xlsx::Error| anyhow!("{}: {e}", path.display());
        w.add_sheet("Không có trong CSDL dân cư", &columns).map_err(e)?;
        for l in &records {
            let (masked, issued, expires) = (masked_key(l.id), iso_date(l.issued), end(l.expires));
            w.write_row(&[
                kyso_xlsx::Cell::Text(name(l.provider)),
                kyso_xlsx::Cell::Text(&masked),
                kyso_xlsx::Cell::Text(&issued),
                kyso_xlsx::Cell::Text(&expires),
                kyso_xlsx::Cell::Text(l.status_name()),
            ])
            .map_err(e)?;
        }
        let bytes = w.finish().map_err(e)?.into_inner();
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut text = format!("{} listed certificates{scope} for ID numbers in no register", records.len());
    for (p, n) in &by_provider {
        text.push_str(&format!("\n  {p:<14} {n}"));
        for l in records.iter().filter(|l| name(l.provider) == *p).take(5) {
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
        by_provider.iter().map(|(p, n)| ((*p).to_owned(), json!(n))).collect();
    out(json_mode, json!({"date": date, "by_provider": counts, "certificates": rows}), &text);
    Ok(ExitCode::SUCCESS)
}
