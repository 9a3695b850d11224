//! Imports of administrative units, hamlets and the police register: good rows are kept, bad
//! rows named by row number and field; every import is audited. The register streams in batches,
//! one transaction each, and its column index is rebuilt after it.

use crate::source::{HeaderSearch, HeaderStep, Source};
use crate::Progress;
use anyhow::{bail, Context, Result};
use kyso_campaign::population::{KnownHamlets, RegisterImport, Resident, Sex};
use kyso_campaign::register_index::{day_number, id_key, iso_date, row_hash, RegisterIndex, RegisterIndexBuilder};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::bulk::{RegisterFeed, RegisterWrite};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow, Upserted};
use kyso_store::{AuditEvent, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

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

/// Register rows per message to the writer (memory holds a few of them, never the file).
const REGISTER_BATCH: usize = 10_000;

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

/// Imports the police register from CSV or XLSX, streamed: every row validated as it is read and
/// compared with the register index (a per-row hash): only new and changed rows go to the store,
/// all of them in one transaction with one audit row. With a commune column a file may span
/// several communes; without one, `commune` names the commune of every row (with one, it
/// restricts the import to that commune). The register index is updated in place after.
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
    let subject = commune.unwrap_or("register");

    let started = Instant::now();
    let (index, index_generation) = crate::register_index::register_index_at(store, progress).await?;
    let index_read = started.elapsed();
    let mut source = Source::open(file, sheet)?;
    progress.begin("register", source.total);

    let (feed, rx) = mpsc::channel::<RegisterFeed>(4);
    let writer = store.write_register(rx, Arc::new(names));
    let mut out = RegisterImported::default();
    let mut pending = Pending::default();
    let reader = async {
        let feed = feed; // moved in: the feed closes when the reader ends
        let lookup = index.lookup();
        let mut import: Option<RegisterImport> = None;
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
                    // The header is the first row that names the columns: title rows above it are skipped.
                    match header.offer(RegisterImport::new(&record, commune, &known)) {
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
                let resident = match import.row(&record, &mut out.warnings) {
                    Ok(resident) => resident,
                    Err(issue) => {
                        out.rejected.push(issue);
                        continue;
                    }
                };
                out.kept += 1;
                let row = resident_row(&resident);
                let hash = row_hash(
                    row.full_name.as_deref(),
                    &row.date_of_birth,
                    &row.sex,
                    &row.commune_code,
                    &row.hamlet_code,
                    row.household.as_deref(),
                );
                let key = id_key(&row.id_number).unwrap_or(0);
                let at = lookup.find(key);
                if at.is_some_and(|k| index.hash_at(k) == hash) {
                    out.unchanged += 1;
                    continue;
                }
                pending.push(&row, key, hash, at.is_some());
            }
            progress.update(source.position(), out.rows);
        }
        if !header.gave_up() {
            // a spreadsheet that broke off (e.g. a part over its inflation bounds) fails the
            // import, and nothing of it is written (the writer's transaction rolls back)
            source.check_complete().map_err(|e| anyhow::anyhow!("{e} (nothing was written)"))?;
        }
        progress.finish(out.rows);
        if import.is_none() && !header.gave_up() {
            out.rejected.extend(header.ended_without_header());
        }
        let parsed = started.elapsed();
        if out.kept == 0 {
            return Ok(Some(parsed)); // the feed closes unused: nothing is written, nothing audited
        }
        // Written in ID-number order: each row lands beside the last in the key B-tree.
        pending.sort();
        for batch in pending.batches(REGISTER_BATCH) {
            if feed.send(RegisterFeed::Rows(batch)).await.is_err() {
                return Ok(None); // the writer failed: its error is the import's
            }
        }
        let detail = format!(
            "{} rows: {} kept ({} unchanged), {} rejected",
            out.rows,
            out.kept,
            out.unchanged,
            out.rejected.len()
        );
        let audit = AuditEvent::new(actor, "campaign.register.import", subject, detail);
        if feed.send(RegisterFeed::Commit(audit)).await.is_err() {
            return Ok(None);
        }
        anyhow::Ok(Some(parsed))
    };
    let (written, read) = tokio::join!(writer, reader);
    let Some(parsed) = read? else {
        written?;
        bail!("the register writer stopped");
    };
    if out.kept == 0 {
        return Ok(out);
    }
    let written = written?;
    let stored = started.elapsed();
    // The store's counts: it checks every row the index called new or changed.
    out.inserted = written.inserted;
    out.updated = written.updated;
    out.unchanged += written.unchanged;
    let changed = written.inserted + written.updated;
    let mut index_note = "unchanged";
    if changed > 0 {
        // The index updated in place when the register was as the index knew it and every row
        // the index called changed was written; otherwise rebuilt from a scan.
        if written.generation_before == index_generation && changed == pending.len() as u64 {
            let ix = pending.apply(index)?;
            let kept = crate::register_index::save(store, &ix, written.generation_after).await?;
            index_note = if kept { "updated" } else { "updated (not stored: the register changed meanwhile)" };
        } else {
            drop(index);
            crate::register_index::build(store, progress).await?;
            index_note = "rebuilt from the register";
        }
    }
    progress.note(&format!(
        "register: index read {:.1} s, rows read and checked {:.1} s, stored {:.1} s{}, index {index_note} {:.1} s",
        index_read.as_secs_f64(),
        (parsed - index_read).as_secs_f64(),
        (stored - parsed).as_secs_f64(),
        if written.first_load { " (first load)" } else { "" },
        (started.elapsed() - stored).as_secs_f64(),
    ));
    Ok(out)
}

/// The rows an import found new or changed, held compactly until the whole file is read, then
/// written in ID-number order and applied to the register index.
#[derive(Default)]
struct Pending {
    /// Names and households, one after the other.
    text: String,
    /// (commune, hamlet) pairs met, by position.
    places: Vec<(String, String)>,
    place_of: HashMap<String, HashMap<String, u32>>,
    rows: Vec<PendingRow>,
}

struct PendingRow {
    key: u64,
    hash: u64,
    text_at: u32,
    born: i32,
    place: u32,
    /// Lengths in bytes; `u16::MAX`: no value.
    name_len: u16,
    household_len: u16,
    female: bool,
    known: bool,
}

const NONE: u16 = u16::MAX;

impl Pending {
    fn push(&mut self, r: &ResidentRow, key: u64, hash: u64, known: bool) {
        let place = match self.place_of.get(&r.commune_code).and_then(|h| h.get(&r.hamlet_code)) {
            Some(&p) => p,
            None => {
                let p = self.places.len() as u32;
                self.places.push((r.commune_code.clone(), r.hamlet_code.clone()));
                self.place_of.entry(r.commune_code.clone()).or_default().insert(r.hamlet_code.clone(), p);
                p
            }
        };
        let text_at = self.text.len() as u32;
        // (the importer caps names and households far below u16::MAX bytes)
        let mut len = |v: &Option<String>| match v {
            Some(v) => {
                self.text.push_str(v);
                v.len().min(usize::from(NONE - 1)) as u16
            }
            None => NONE,
        };
        let name_len = len(&r.full_name);
        let household_len = len(&r.household);
        self.rows.push(PendingRow {
            key,
            hash,
            text_at,
            born: day_number(&r.date_of_birth).unwrap_or(0),
            place,
            name_len,
            household_len,
            female: r.sex == "F",
            known,
        });
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn sort(&mut self) {
        self.rows.sort_unstable_by_key(|r| r.key);
    }

    /// The rows as the store takes them, `n` at a time.
    fn batches(&self, n: usize) -> impl Iterator<Item = Vec<RegisterWrite>> + '_ {
        self.rows.chunks(n).map(|chunk| {
            chunk
                .iter()
                .map(|p| {
                    let at = p.text_at as usize;
                    let take = |from: usize, len: u16| {
                        (len != NONE).then(|| self.text[from..from + usize::from(len)].to_owned())
                    };
                    let name = take(at, p.name_len);
                    let household = take(at + name.as_ref().map_or(0, String::len), p.household_len);
                    let (commune, hamlet) = &self.places[p.place as usize];
                    RegisterWrite {
                        row: ResidentRow {
                            id_number: format!("{:012}", p.key),
                            full_name: name,
                            date_of_birth: iso_date(p.born),
                            sex: if p.female { "F" } else { "M" }.into(),
                            commune_code: commune.clone(),
                            hamlet_code: hamlet.clone(),
                            household,
                        },
                        known: p.known,
                    }
                })
                .collect()
        })
    }

    /// `index` with these rows written into it.
    fn apply(self, index: RegisterIndex) -> Result<RegisterIndex> {
        let mut b = RegisterIndexBuilder::from_index(index);
        for p in &self.rows {
            b.push_key(p.key, &self.places[p.place as usize].0, p.born, p.hash).map_err(anyhow::Error::msg)?;
        }
        Ok(b.finish())
    }
}
