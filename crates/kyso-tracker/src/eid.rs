//! Level-2 e-ID: the police's list of residents with a level-2 account imported (CSV or XLSX,
//! streamed in batches, bad rows named, every batch audited), and the coverage of level 2 among
//! a commune's or a province's adults, the KPI beside the certificate share.

use crate::source::{HeaderSearch, HeaderStep, Source};
use crate::Progress;
use anyhow::Result;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::eid::{EidListImport, Level2Coverage};
use kyso_campaign::population::{CitizenId, Register};
use kyso_campaign::RowIssue;
use kyso_store::eid::EidLevelRow;
use kyso_store::{AuditEvent, Store};
use std::collections::HashSet;
use std::path::Path;

/// Rows per transaction, as for the register.
const BATCH: usize = 50_000;

/// What an e-ID list import did.
#[derive(Debug, Default)]
pub struct EidImported {
    /// Data rows read (after the header).
    pub rows: u64,
    /// Rows kept (valid): new, changed, and given again as they were.
    pub kept: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<RowIssue>,
}

/// Imports the police's list of level-2 e-ID accounts (ID number; optional level and date) from
/// CSV or XLSX. Title rows above the header are skipped; a re-import writes nothing. People not
/// (yet) in the register are kept: they count once the register has them.
pub async fn import_eid_list(
    store: &Store,
    file: &Path,
    sheet: Option<&str>,
    actor: &str,
    progress: &mut dyn Progress,
) -> Result<EidImported> {
    let label = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut source = Source::open(file, sheet)?;
    progress.begin("e-ID list", source.total);
    let mut import: Option<EidListImport> = None;
    let mut out = EidImported::default();
    let mut batch: Vec<EidLevelRow> = Vec::with_capacity(BATCH.min(4096));
    let mut header = HeaderSearch::default();
    'read: while let Some(chunk) = source.next_chunk().await {
        for record in chunk {
            let record = match record {
                Ok(r) => r,
                Err(issue) => {
                    out.rejected.push(issue);
                    continue;
                }
            };
            let Some(import) = import.as_mut() else {
                match header.offer(EidListImport::new(&record)) {
                    HeaderStep::Found(i) => import = Some(i),
                    HeaderStep::Skipped => {}
                    HeaderStep::GaveUp(missing) => {
                        out.rejected.extend(missing);
                        break 'read;
                    }
                }
                continue;
            };
            out.rows += 1;
            match import.row(&record) {
                Ok(e) => batch.push(EidLevelRow {
                    id_number: e.id.expose().to_owned(),
                    level: i64::from(e.level),
                    verified_on: e.verified_on.map(|d| d.to_string()),
                }),
                Err(issue) => out.rejected.push(issue),
            }
            if batch.len() == BATCH {
                write_batch(store, &mut batch, (actor, &label, false), &mut out).await?;
            }
        }
        progress.update(source.position(), out.rows);
    }
    if !header.gave_up() {
        source.check_complete().map_err(|e| anyhow::anyhow!("{e} ({} rows had been written)", out.kept))?;
        if import.is_none() {
            out.rejected.extend(header.ended_without_header());
        }
    }
    if !batch.is_empty() || out.kept == 0 {
        // the last batch (or, with nothing valid, the audit of the attempt) with the rejections
        write_batch(store, &mut batch, (actor, &label, true), &mut out).await?;
    }
    progress.finish(out.rows);
    Ok(out)
}

async fn write_batch(
    store: &Store,
    batch: &mut Vec<EidLevelRow>,
    (actor, label, last): (&str, &str, bool),
    out: &mut EidImported,
) -> Result<()> {
    let mut detail = format!("{label}: rows {}..{}", out.kept + 1, out.kept + batch.len() as u64);
    if last {
        detail.push_str(&format!(", {} rejected", out.rejected.len()));
    }
    let audit = AuditEvent::new(actor, "campaign.eid_list.import", "e-ID level 2", detail);
    let u = store.upsert_eid_levels_batch(batch, &audit).await?;
    out.kept += batch.len() as u64;
    out.inserted += u.inserted;
    out.updated += u.updated;
    out.unchanged += u.unchanged;
    batch.clear();
    Ok(())
}

/// The residents of a commune (or one of its hamlets) with a level-2 account.
pub async fn level2_ids(store: &Store, commune: &str, hamlet: Option<&str>) -> crate::Fallible<HashSet<CitizenId>> {
    let rows = store.eid_levels(commune, hamlet).await.map_err(|e| e.to_string())?;
    Ok(rows.iter().filter(|r| r.level == 2).filter_map(|r| CitizenId::parse(&r.id_number).ok()).collect())
}

/// Whether the police list has been imported for anyone of this commune: without it, nobody's
/// need can be told (a worklist says nothing rather than "level 2 first" to everyone).
pub async fn list_known(store: &Store, commune: &str) -> crate::Fallible<bool> {
    store.eid_list_covers(commune).await.map_err(|e| e.to_string())
}

/// Level-2 coverage of a commune's register (already loaded) on the age line `line`.
pub async fn commune_coverage(
    store: &Store,
    commune: &str,
    register: &Register,
    line: &AdultsDenominator,
) -> crate::Fallible<Level2Coverage> {
    let level2 = level2_ids(store, commune, None).await?;
    Ok(Level2Coverage::count(register.residents(), line, &level2))
}

/// Adults with a level-2 account per commune of a province (or of every commune), on `date`
/// (ISO) at the age line `min_age` (the snapshots' line: their adults are the denominator), counted
/// by the store — no register or index is loaded for a page view.
pub async fn level2_adults_by_commune(
    store: &Store,
    province: Option<&str>,
    date: &str,
    min_age: u8,
) -> Result<std::collections::HashMap<String, u64>> {
    let born_by = kyso_campaign::register_index::iso_date(crate::adoption::born_by_day(date, min_age)?);
    let rows = store.eid_level2_adults(province, &born_by).await?;
    Ok(rows.into_iter().map(|(c, n)| (c, u64::try_from(n).unwrap_or(0))).collect())
}
