//! Imports of administrative units, hamlets and the police register: good rows are kept, bad
//! rows named by row number and field; every import is audited. The register streams in batches,
//! one transaction each, and its column index is rebuilt after it.

use crate::source::{Source, HEADER_SEARCH};
use crate::Progress;
use anyhow::{bail, Context, Result};
use kyso_campaign::population::{KnownHamlets, RegisterImport, Resident, Sex};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow, Upserted};
use kyso_store::{AuditEvent, Store};
use std::collections::HashMap;
use std::path::Path;

fn kind_name(t: CommuneType) -> &'static str {
    match t {
        CommuneType::Commune => "commune",
        CommuneType::Ward => "ward",
        CommuneType::SpecialZone => "special_zone",
    }
}

/// Imports communes and provinces (admin-units-2025.csv format); re-importing updates in place.
pub async fn import_units(store: &Store, text: &str, actor: &str) -> Result<(ImportReport<Unit>, Upserted)> {
    let r = parse_admin_units_csv(text);
    let rows: Vec<CommuneRow> = r
        .items
        .iter()
        .map(|u| CommuneRow {
            code: u.commune_code.clone(),
            province_code: u.province_code.clone(),
            province_name: u.province_name.clone(),
            name: u.commune_name.clone(),
            kind: kind_name(u.commune_type).into(),
            lat: u.lat,
            lon: u.lon,
            area_km2: u.area_km2,
        })
        .collect();
    let mut n = Upserted::default();
    if !rows.is_empty() {
        let detail = format!("{} communes, {} rejected rows", rows.len(), r.errors.len());
        n = store
            .upsert_communes(&rows, &AuditEvent::new(actor, "campaign.units.import", "admin units", detail))
            .await?;
    }
    Ok((r, n))
}

/// The stored unit tree (communes and provinces, hamlets of the communes asked for).
async fn units(store: &Store, hamlets_of: &[&str]) -> Result<AdminUnits> {
    let communes = store.communes(None).await?;
    let mut units = AdminUnits::from_units(communes.into_iter().map(|c| Unit {
        commune_type: match c.kind.as_str() {
            "ward" => CommuneType::Ward,
            "special_zone" => CommuneType::SpecialZone,
            _ => CommuneType::Commune,
        },
        province_code: c.province_code,
        province_name: c.province_name,
        commune_code: c.code,
        commune_name: c.name,
        lat: c.lat,
        lon: c.lon,
        area_km2: c.area_km2,
    }));
    let mut hamlets = Vec::new();
    for code in hamlets_of {
        hamlets.extend(store.hamlets(code).await?.into_iter().map(|h| kyso_campaign::units::Hamlet {
            commune_code: h.commune_code,
            hamlet_code: h.code,
            hamlet_name: h.name,
        }));
    }
    units.set_hamlets(hamlets);
    Ok(units)
}

/// Imports hamlets (commune_code,hamlet_code,hamlet_name); re-importing renames in place.
pub async fn import_hamlets(
    store: &Store,
    text: &str,
    actor: &str,
) -> Result<(ImportReport<kyso_campaign::units::Hamlet>, Upserted)> {
    let r = parse_hamlets_csv(text, &units(store, &[]).await?);
    let rows: Vec<HamletRow> = r
        .items
        .iter()
        .map(|h| HamletRow {
            commune_code: h.commune_code.clone(),
            code: h.hamlet_code.clone(),
            name: h.hamlet_name.clone(),
        })
        .collect();
    let mut n = Upserted::default();
    if !rows.is_empty() {
        let detail = format!("{} hamlets, {} rejected rows", rows.len(), r.errors.len());
        n = store.upsert_hamlets(&rows, &AuditEvent::new(actor, "campaign.hamlets.import", "hamlets", detail)).await?;
    }
    Ok((r, n))
}

/// A resident as the store keeps them.
pub fn resident_row(r: &Resident) -> ResidentRow {
    ResidentRow {
        id_number: r.id.expose().to_owned(),
        full_name: r.full_name.clone(),
        date_of_birth: r.date_of_birth.to_string(),
        sex: if r.sex == Sex::Female { "F" } else { "M" }.into(),
        commune_code: r.commune_code.clone(),
        hamlet_code: r.hamlet_code.clone(),
        household: r.household.clone(),
    }
}

/// Register rows per transaction: memory stays flat, and each commit is worth its fsync.
const REGISTER_BATCH: usize = 50_000;

/// What a register import did.
#[derive(Debug, Default)]
pub struct RegisterImported {
    /// Data rows read (after the header).
    pub rows: u64,
    /// Rows kept (valid), of them new, changed and given again as they were.
    pub kept: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
}

/// Imports the police register from CSV or XLSX, streamed in batches of [`REGISTER_BATCH`] rows,
/// one transaction each. With a commune column a file may span several communes; without one,
/// `commune` names the commune of every row (with one, it restricts the import to that commune).
pub async fn import_register(
    store: &Store,
    file: &Path,
    commune: Option<&str>,
    sheet: Option<&str>,
    actor: &str,
    progress: &mut dyn Progress,
) -> Result<RegisterImported> {
    if let Some(commune) = commune {
        store
            .commune(commune)
            .await?
            .with_context(|| format!("--commune: unknown commune {commune}: import the units first"))?;
        if store.hamlets(commune).await?.is_empty() {
            bail!("commune {commune} has no hamlets: import them first (kyso campaign import-hamlets)");
        }
    }
    let names: HashMap<String, (String, String)> =
        store.communes(None).await?.into_iter().map(|c| (c.code, (c.province_name, c.name))).collect();
    let hamlets = store.all_hamlets().await?;
    let known = KnownHamlets::new(hamlets.iter().map(|h| (h.commune_code.as_str(), h.code.as_str(), h.name.as_str())));
    let name_of = |code: &str| names.get(code).map_or(("", ""), |(p, c)| (p.as_str(), c.as_str()));
    let subject = commune.unwrap_or("register");

    let mut source = Source::open(file, sheet)?;
    progress.begin("register", source.total);
    let mut import: Option<RegisterImport> = None;
    let mut out = RegisterImported::default();
    let mut batch: Vec<ResidentRow> = Vec::with_capacity(REGISTER_BATCH);
    let mut header_failed = false;
    let (mut header_tries, mut first_missing) = (0, None);
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
                // The header is the first row that names the columns: title rows above it are skipped.
                match RegisterImport::new(&record, commune, &known) {
                    Ok(i) => import = Some(i),
                    Err(missing) => {
                        header_tries += 1;
                        first_missing.get_or_insert(missing);
                        if header_tries == HEADER_SEARCH {
                            out.rejected.extend(first_missing.take().unwrap_or_default());
                            header_failed = true;
                            break 'read;
                        }
                    }
                }
                continue;
            };
            out.rows += 1;
            match import.row(&record, &mut out.warnings) {
                Ok(resident) => batch.push(resident_row(&resident)),
                Err(issue) => out.rejected.push(issue),
            }
            if batch.len() == REGISTER_BATCH {
                write_batch(store, &mut batch, &name_of, (actor, subject, false), &mut out).await?;
            }
        }
        progress.update(source.position(), out.rows);
    }
    if !header_failed {
        // a spreadsheet that broke off (e.g. a part over its inflation bounds) fails the import;
        // batches already written stay (each is its own transaction), the rest is not written
        source.check_complete().map_err(|e| anyhow::anyhow!("{e} ({} rows had been written)", out.kept))?;
    }
    if !batch.is_empty() {
        write_batch(store, &mut batch, &name_of, (actor, subject, true), &mut out).await?;
    }
    progress.finish(out.rows);
    if import.is_none() && !header_failed {
        match first_missing {
            Some(missing) => out.rejected.extend(missing),
            None => out.rejected.push(RowIssue::new(1, None, "the file is empty: expected a header row")),
        }
    }
    if out.kept > 0 {
        // The register changed: rebuild its column index now, not in the next provider import.
        crate::register_index::register_index(store, progress).await?;
    }
    Ok(out)
}

/// Writes one batch of register rows (a transaction of its own, audited by `actor` on `subject`)
/// and counts it; the `last` batch's audit also counts the rows rejected.
async fn write_batch<'n>(
    store: &Store,
    batch: &mut Vec<ResidentRow>,
    name_of: &(dyn Fn(&str) -> (&'n str, &'n str) + Sync),
    (actor, subject, last): (&str, &str, bool),
    out: &mut RegisterImported,
) -> Result<()> {
    let mut detail = format!("rows {}..{}", out.kept + 1, out.kept + batch.len() as u64);
    if last {
        detail.push_str(&format!(", {} rejected", out.rejected.len()));
    }
    let audit = AuditEvent::new(actor, "campaign.register.import", subject, detail);
    let u = store.upsert_register_batch(batch, name_of, &audit).await?;
    out.kept += batch.len() as u64;
    out.inserted += u.inserted;
    out.updated += u.updated;
    out.unchanged += u.unchanged;
    batch.clear();
    Ok(())
}
