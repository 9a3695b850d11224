//! `kyso campaign import-provider-list`: the certificates a telecom provider reports, matched on
//! the ID number against the register and stored once per (ID number, provider, issue date), so
//! that adoption counts them exactly like kyso's own issuance.

use super::adoption::{refresh, register_index};
use super::import::summary;
use super::meter::Meter;
use super::source::{Source, HEADER_SEARCH};
use super::ACTOR;
use anyhow::{anyhow, Result};
use kyso_campaign::csv::parse_date;
use kyso_campaign::provider_list::{sort_and_dedupe, CompactCert, ListRow, ProviderListImport, Providers};
use kyso_campaign::register_index::masked_key;
use kyso_campaign::RowIssue;
use kyso_store::{AuditEvent, Store};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The age line of the snapshots an import brings up to date (the dashboard's).
const SNAPSHOT_MIN_AGE: u8 = 15;

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
    let started = Instant::now();
    // The register's column index loads (or is rebuilt) while the list is read.
    let index = {
        let store = store.clone();
        tokio::spawn(async move { register_index(&store).await })
    };
    let mut meter = Meter::new("provider list", source.total);
    let mut import: Option<ProviderListImport> = None;
    let mut rejected = Vec::new();
    let mut providers = Providers::default();
    let mut certs: Vec<CompactCert> = Vec::new();
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
                    Ok(i) => import = Some(i.without_dedupe()),
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
                Ok(ListRow::Certificate(c)) => certs.push(CompactCert::new(&c, record.row, &mut providers)),
                Ok(ListRow::Duplicate(issue)) => rejected.push(issue),
                Err(issue) => rejected.push(issue),
            }
        }
        meter.update(source.position(), rows);
    }
    meter.finish(rows);
    if import.is_none() && !header_failed {
        match first_missing {
            Some(missing) => rejected.extend(missing),
            None => rejected.push(RowIssue::new(1, None, "the file is empty: expected a header row")),
        }
    }
    let parsed = started.elapsed();
    // Sorted by (ID number, provider, issue date): repeats fall next to each other, the register
    // is matched by one merge, and the store's key B-tree is written in order.
    let duplicates = sort_and_dedupe(&mut certs);
    let index = index.await.map_err(|e| anyhow!("register index: {e}"))??;
    let positions = index.positions_sorted(certs.iter().map(|c| c.id));
    let mut unmatched: Vec<RowIssue> = certs
        .iter()
        .zip(&positions)
        .filter(|(_, p)| p.is_none())
        .map(|(c, _)| {
            let reason =
                format!("{} is not in the register (kept: counts once the register has them)", masked_key(c.id));
            RowIssue::new(c.row as usize, Some("id_number"), reason)
        })
        .collect();
    unmatched.sort_unstable_by_key(|u| u.row);
    drop(positions);
    let stored = certs.len() as u64;
    let matched = started.elapsed();
    let detail = format!(
        "{label}: {rows} rows, {stored} certificates, {} not in the register, {} duplicates, {} rejected",
        unmatched.len(),
        duplicates.len(),
        rejected.len()
    );
    let audit = AuditEvent::new(ACTOR, "campaign.provider_list.import", subject, detail);
    let t = store
        .bulk_upsert_provider_certificates(Arc::new(certs), Arc::new(providers.names().to_vec()), &label, &audit)
        .await?;
    let written = started.elapsed();
    // Every commune's figures on the list's date, now.
    let as_of = as_of_date.to_string();
    let communes = refresh(store, &index, &as_of, SNAPSHOT_MIN_AGE).await?;
    eprintln!(
        "read {:.1} s, sorted and matched {:.1} s, stored {:.1} s, {communes} communes recomputed on {as_of} {:.1} s",
        parsed.as_secs_f64(),
        (matched - parsed).as_secs_f64(),
        (written - matched).as_secs_f64(),
        (started.elapsed() - written).as_secs_f64()
    );
    let text = format!(
        "{rows} rows: {} certificates (new {}, changed {}, unchanged {}), {} not in the register, {} duplicates, rejected {}",
        stored,
        t.inserted,
        t.changed,
        t.unchanged,
        unmatched.len(),
        duplicates.len(),
        rejected.len()
    );
    let counts = json!({"rows": rows, "certificates": stored, "inserted": t.inserted, "changed": t.changed,
                        "unchanged": t.unchanged, "as_of": as_of, "communes_recomputed": communes});
    let what = format!("provider list {label}");
    summary(
        json_mode,
        &what,
        counts,
        text,
        &[("unmatched", &unmatched), ("duplicates", &duplicates), ("rejected", &rejected)],
    );
    Ok(if stored == 0 && !rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
