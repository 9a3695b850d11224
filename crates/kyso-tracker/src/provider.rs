//! A telecom provider's list of issued certificates: matched on the ID number against the
//! register and stored once per (ID number, provider, issue date), so that adoption counts them
//! exactly like kyso's own issuance; the snapshots of the list's date are recomputed after it.

use crate::adoption::{refresh, SNAPSHOT_MIN_AGE};
use crate::register_index::register_index;
use crate::source::{format_of, read_whole, Format, Source, HEADER_SEARCH};
use crate::Progress;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::provider_import::{parse_plain_csv, ParsedList, Progress as Counters, StreamedList};
use kyso_campaign::register_index::masked_key;
use kyso_campaign::RowIssue;
use kyso_store::{AuditEvent, Store};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::Date;

enum Input {
    Whole(File, u64),
    Streamed(Source),
}

/// Threads a list in memory is parsed on.
const MAX_RANGES: usize = 8;

/// The list read whole and parsed on every core, with `progress` fed as it goes; `None` when it
/// needs the streaming parser.
async fn read_plain_csv(
    file: File,
    len: u64,
    provider: Option<&str>,
    as_of: Date,
    progress: &mut dyn Progress,
) -> Result<Option<ParsedList>> {
    let counters = Arc::new(Counters::default());
    let ranges = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_RANGES);
    let mut job = {
        let (counters, provider) = (counters.clone(), provider.map(str::to_owned));
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<ParsedList>> {
            let started = Instant::now();
            let bytes = read_whole(file, len, &counters.bytes, ranges)?;
            let read = started.elapsed();
            let list = parse_plain_csv(bytes, provider.as_deref(), as_of, HEADER_SEARCH, ranges, &counters);
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
    progress.begin("provider list", 2 * len);
    let list = loop {
        match tokio::time::timeout(Duration::from_millis(100), &mut job).await {
            Ok(done) => break done.map_err(|e| anyhow!("provider list reader: {e}"))??,
            Err(_) => progress.update(counters.bytes.load(Ordering::Relaxed), counters.rows.load(Ordering::Relaxed)),
        }
    };
    if let Some(list) = &list {
        progress.finish(list.rows);
    }
    Ok(list)
}

/// The list record by record as [`Source`] reads it.
async fn read_streamed(
    mut source: Source,
    provider: Option<&str>,
    as_of: Date,
    progress: &mut dyn Progress,
) -> Result<ParsedList> {
    progress.begin("provider list", source.total);
    let mut list = StreamedList::new(provider, as_of, HEADER_SEARCH);
    'read: while let Some(chunk) = source.next_chunk().await {
        for record in chunk {
            if !list.push(record) {
                break 'read;
            }
        }
        progress.update(source.position(), list.rows());
    }
    progress.finish(list.rows());
    source.check_complete()?;
    Ok(list.finish())
}

/// What a provider-list import did.
pub struct ProviderImported {
    /// The file's name, as the audit and the store record it.
    pub label: String,
    pub rows: u64,
    /// Certificates stored (new, changed or unchanged).
    pub stored: u64,
    pub written: kyso_store::bulk::BulkUpserted,
    /// Certificates of ID numbers no register has (kept: they count once the register has them).
    pub unmatched: Vec<RowIssue>,
    pub duplicates: Vec<RowIssue>,
    /// Repeats with another expiry, end or status: both rows named, the earlier end kept.
    pub conflicts: Vec<RowIssue>,
    pub rejected: Vec<RowIssue>,
    /// The list's date (ISO), whose snapshots were recomputed.
    pub as_of: String,
    pub communes_recomputed: u64,
}

/// The notes of a job run on a task of its own, handed to the caller's [`Progress`] afterwards.
#[derive(Default)]
struct Notes(Vec<String>);

impl Progress for Notes {
    fn note(&mut self, line: &str) {
        self.0.push(line.to_owned());
    }
}

/// Imports a provider's list (CSV or XLSX) of certificates valid as of `as_of`: a revoked or
/// expired status without a date ends the certificate on that day.
pub async fn import_provider_list(
    store: &Store,
    file: &Path,
    provider: Option<&str>,
    as_of: Date,
    sheet: Option<&str>,
    actor: &str,
    progress: &mut dyn Progress,
) -> Result<ProviderImported> {
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
        tokio::spawn(async move {
            let mut notes = Notes::default();
            register_index(&store, &mut notes).await.map(|ix| (ix, notes))
        })
    };
    let list = match input {
        Input::Whole(f, len) => match read_plain_csv(f, len, provider, as_of, progress).await {
            Ok(Some(list)) => list,
            Ok(None) => read_streamed(Source::open(file, sheet)?, provider, as_of, progress).await?,
            Err(e) => return Err(e.context(format!("cannot read {}", file.display()))),
        },
        Input::Streamed(source) => read_streamed(source, provider, as_of, progress).await?,
    };
    // Sorted by (ID number, provider, issue date): repeats fell next to each other, the register
    // is matched by one merge, and the store's key B-tree is written in order.
    let ParsedList { certs, providers, duplicates, conflicts, rejected, rows } = list;
    let parsed = started.elapsed();
    let (index, notes) = index.await.map_err(|e| anyhow!("register index: {e}"))??;
    for n in &notes.0 {
        progress.note(n);
    }
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
        "{label}: {rows} rows, {stored} certificates, {} not in the register, {} duplicates, {} conflicts, {} rejected",
        unmatched.len(),
        duplicates.len(),
        conflicts.len(),
        rejected.len()
    );
    let audit = AuditEvent::new(actor, "campaign.provider_list.import", subject, detail);
    let written = store
        .bulk_upsert_provider_certificates(Arc::new(certs), Arc::new(providers.names().to_vec()), &label, &audit)
        .await?;
    // matched on the key ("VIETTEL-CA"), shown as the list writes it ("Viettel-CA")
    let as_written: Vec<(String, String)> =
        providers.names().iter().cloned().zip(providers.shown().iter().cloned()).collect();
    store.name_list_providers(&as_written).await?;
    let stored_at = started.elapsed();
    // Every commune's figures on the list's date, now.
    let as_of = as_of.to_string();
    let communes_recomputed = refresh(store, &index, &as_of, SNAPSHOT_MIN_AGE).await?;
    progress.note(&format!(
        "read and sorted {:.1} s, matched {:.1} s, stored {:.1} s, {communes_recomputed} communes recomputed on {as_of} {:.1} s",
        parsed.as_secs_f64(),
        (matched - parsed).as_secs_f64(),
        (stored_at - matched).as_secs_f64(),
        (started.elapsed() - stored_at).as_secs_f64()
    ));
    Ok(ProviderImported {
        label,
        rows,
        stored,
        written,
        unmatched,
        duplicates,
        conflicts,
        rejected,
        as_of,
        communes_recomputed,
    })
}
