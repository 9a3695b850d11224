//! `kyso campaign import-provider-list`: the certificates a telecom provider reports, matched on
//! the ID number against the register and stored once per (ID number, provider, issue date), so
//! that adoption counts them exactly like kyso's own issuance.

use super::adoption::{refresh, register_index};
use super::import::summary;
use super::meter::Meter;
use super::source::{format_of, read_whole, Format, Source, HEADER_SEARCH};
use super::ACTOR;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::csv::parse_date;
use kyso_campaign::provider_import::{parse_plain_csv, ParsedList, Progress, StreamedList};
use kyso_campaign::register_index::masked_key;
use kyso_campaign::RowIssue;
use kyso_store::{AuditEvent, Store};
use serde_json::json;
use std::fs::File;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::Date;

/// The age line of the snapshots an import brings up to date (the dashboard's).
const SNAPSHOT_MIN_AGE: u8 = 15;

enum Input {
    Whole(File, u64),
    Streamed(Source),
}

/// Threads a list in memory is parsed on.
const MAX_RANGES: usize = 8;

/// The list read whole and parsed on every core, with the progress meter fed as it goes;
/// `None` when it needs the streaming parser.
async fn read_plain_csv(file: File, len: u64, provider: Option<&str>, as_of: Date) -> Result<Option<ParsedList>> {
    let progress = Arc::new(Progress::default());
    let ranges = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_RANGES);
    let mut job = {
        let (progress, provider) = (progress.clone(), provider.map(str::to_owned));
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<ParsedList>> {
            let started = Instant::now();
            let bytes = read_whole(file, len, &progress.bytes, ranges)?;
            let read = started.elapsed();
            let list = parse_plain_csv(bytes, provider.as_deref(), as_of, HEADER_SEARCH, ranges, &progress);
            let parsed = started.elapsed() - read;
            tracing::debug!(
                read_s = read.as_secs_f64(),
                parsed_s = parsed.as_secs_f64(),
                ranges,
                "provider list in memory"
            );
            Ok(list)
        })
    };
    // Reading and parsing each go through the file once.
    let mut meter = Meter::new("provider list", 2 * len);
    let list = loop {
        match tokio::time::timeout(Duration::from_millis(100), &mut job).await {
            Ok(done) => break done.map_err(|e| anyhow!("provider list reader: {e}"))??,
            Err(_) => {
                meter.update(progress.bytes.load(Ordering::Relaxed), progress.rows.load(Ordering::Relaxed));
            }
        }
    };
    if let Some(list) = &list {
        meter.finish(list.rows);
    }
    Ok(list)
}

/// The list record by record as [`Source`] reads it.
async fn read_streamed(mut source: Source, provider: Option<&str>, as_of: Date) -> Result<ParsedList> {
    let mut meter = Meter::new("provider list", source.total);
    let mut list = StreamedList::new(provider, as_of, HEADER_SEARCH);
    'read: while let Some(chunk) = source.next_chunk().await {
        for record in chunk {
            if !list.push(record) {
                break 'read;
            }
        }
        meter.update(source.position(), list.rows());
    }
    meter.finish(list.rows());
    source.check_complete()?;
    Ok(list.finish())
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
    // A CSV is read whole and parsed on every core; a spreadsheet (or a CSV that needs the full
    // parser: quotes, lone carriage returns, bytes that are not UTF-8) streams.
    let input = match format_of(file)? {
        Format::Csv => {
            let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
            let len = f.metadata()?.len();
            Input::Whole(f, len)
        }
        Format::Xlsx => Input::Streamed(Source::open(file, sheet)?),
    };
    let started = Instant::now();
    // The register's column index loads (or is rebuilt) while the list is read.
    let index = {
        let store = store.clone();
        tokio::spawn(async move { register_index(&store).await })
    };
    let list = match input {
        Input::Whole(f, len) => match read_plain_csv(f, len, provider, as_of_date).await {
            Ok(Some(list)) => list,
            Ok(None) => read_streamed(Source::open(file, sheet)?, provider, as_of_date).await?,
            Err(e) => return Err(e.context(format!("cannot read {}", file.display()))),
        },
        Input::Streamed(source) => read_streamed(source, provider, as_of_date).await?,
    };
    // Sorted by (ID number, provider, issue date): repeats fell next to each other, the register
    // is matched by one merge, and the store's key B-tree is written in order.
    let ParsedList { certs, providers, duplicates, rejected, rows } = list;
    let parsed = started.elapsed();
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
        "read and sorted {:.1} s, matched {:.1} s, stored {:.1} s, {communes} communes recomputed on {as_of} {:.1} s",
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
