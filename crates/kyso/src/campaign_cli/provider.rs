//! `kyso campaign import-provider-list`: the certificates a telecom provider reports, matched on
//! the ID number against the register and stored once per (ID number, provider, issue date), so
//! that adoption counts them exactly like kyso's own issuance.

use super::import::summary;
use super::meter::Meter;
use super::source::{Source, HEADER_SEARCH};
use super::ACTOR;
use anyhow::{anyhow, Result};
use kyso_campaign::csv::parse_date;
use kyso_campaign::provider_list::{ListRow, ListedCertificate, ProviderListImport};
use kyso_campaign::RowIssue;
use kyso_store::campaign::ProviderCertRow;
use kyso_store::{AuditEvent, Store};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// List rows per transaction.
const BATCH: usize = 50_000;

fn cert_row(c: &ListedCertificate) -> ProviderCertRow {
    ProviderCertRow {
        id_number: c.id.expose().to_owned(),
        provider: c.provider.clone(),
        issued_on: c.issued.to_string(),
        expires_on: c.expires.map(|d| d.to_string()),
        ended_on: c.ended.map(|d| d.to_string()),
        status: c.status.to_owned(),
    }
}

#[derive(Default)]
struct Totals {
    stored: u64,
    inserted: u64,
    changed: u64,
    unchanged: u64,
    unmatched: Vec<RowIssue>,
}

/// Stores one batch; `rows` are the spreadsheet rows and masked IDs of the batch, for the report.
async fn flush(
    store: &Store,
    batch: &mut Vec<ProviderCertRow>,
    rows: &mut Vec<(usize, String)>,
    source: &str,
    subject: &str,
    t: &mut Totals,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let detail = format!("{source}: list rows {}..{}", t.stored + 1, t.stored + batch.len() as u64);
    let audit = AuditEvent::new(ACTOR, "campaign.provider_list.import", subject, detail);
    let u = store.upsert_provider_certificates(batch, source, &audit).await?;
    t.stored += batch.len() as u64;
    t.inserted += u.inserted;
    t.changed += u.changed;
    t.unchanged += u.unchanged;
    for i in u.unmatched {
        if let Some((row, masked)) = rows.get(i) {
            let reason = format!("{masked} is not in the register (kept: counts once the register has them)");
            t.unmatched.push(RowIssue::new(*row, Some("id_number"), reason));
        }
    }
    batch.clear();
    rows.clear();
    Ok(())
}

pub async fn import_provider_list(
    store: &Store,
    file: &Path,
    provider: Option<&str>,
    as_of: &str,
    sheet: Option<&str>,
    json_mode: bool,
) -> Result<ExitCode> {
    let as_of_date = parse_date(as_of).map_err(|e| anyhow!("--as-of: {e}"))?;
    let label = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let subject = provider.unwrap_or("provider list");
    let mut source = Source::open(file, sheet)?;
    let mut meter = Meter::new("provider list", source.total);
    let mut import: Option<ProviderListImport> = None;
    let (mut rejected, mut duplicates) = (Vec::new(), Vec::new());
    let mut batch = Vec::with_capacity(BATCH);
    let mut batch_rows = Vec::with_capacity(BATCH);
    let mut t = Totals::default();
    let mut rows = 0u64;
    let mut header_failed = false;
    let (mut header_tries, mut first_missing) = (0, None);
    'read: while let Some(chunk) = source.next_chunk().await {
        for record in chunk {
            let record = match record {
                Ok(r) => r,
                Err(issue) => {
                    rejected.push(issue);
                    continue;
                }
            };
            let Some(import) = import.as_mut() else {
                // The header is the first row that names the columns: title rows above it are skipped.
                match ProviderListImport::new(&record, provider, as_of_date) {
                    Ok(i) => import = Some(i),
                    Err(missing) => {
                        header_tries += 1;
                        first_missing.get_or_insert(missing);
                        if header_tries == HEADER_SEARCH {
                            rejected.extend(first_missing.take().unwrap_or_default());
                            header_failed = true;
                            break 'read;
                        }
                    }
                }
                continue;
            };
            rows += 1;
            match import.row(&record) {
                Ok(ListRow::Certificate(c)) => {
                    batch_rows.push((record.row, c.id.masked()));
                    batch.push(cert_row(&c));
                }
                Ok(ListRow::Duplicate(issue)) => duplicates.push(issue),
                Err(issue) => rejected.push(issue),
            }
            if batch.len() == BATCH {
                flush(store, &mut batch, &mut batch_rows, &label, subject, &mut t).await?;
            }
        }
        meter.update(source.position(), rows);
    }
    flush(store, &mut batch, &mut batch_rows, &label, subject, &mut t).await?;
    meter.finish(rows);
    if import.is_none() && !header_failed {
        match first_missing {
            Some(missing) => rejected.extend(missing),
            None => rejected.push(RowIssue::new(1, None, "the file is empty: expected a header row")),
        }
    }
    let text = format!(
        "{rows} rows: {} certificates (new {}, changed {}, unchanged {}), {} not in the register, {} duplicates, rejected {}",
        t.stored,
        t.inserted,
        t.changed,
        t.unchanged,
        t.unmatched.len(),
        duplicates.len(),
        rejected.len()
    );
    let counts = json!({"rows": rows, "certificates": t.stored, "inserted": t.inserted, "changed": t.changed,
                        "unchanged": t.unchanged, "as_of": as_of});
    let what = format!("provider list {label}");
    summary(
        json_mode,
        &what,
        counts,
        text,
        &[("unmatched", &t.unmatched), ("duplicates", &duplicates), ("rejected", &rejected)],
    );
    Ok(if t.stored == 0 && !rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
