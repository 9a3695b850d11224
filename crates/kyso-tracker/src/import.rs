//! Imports of administrative units, hamlets and the police register: good rows are kept, bad
//! rows named by row number and field; every import is audited. The register streams in batches,
//! one transaction each, and its column index is rebuilt after it.

use crate::source::{HeaderSearch, HeaderStep, Source};
use crate::Progress;
use anyhow::{bail, Context, Result};
use kyso_campaign::population::{KnownHamlets, RegisterImport, Resident, Sex};
use kyso_campaign::register_index::{id_key, iso_bytes, row_hash, RegisterIndex, RegisterIndexBuilder};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::bulk::{RegisterFeed, RegisterRows};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow, Upserted};
use kyso_store::{AuditEvent, Store};
use std::collections::HashMap;
use std::path::Path;
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

/// Records checked per round by the two shards of a register import.
const SHARD_ROUND: usize = 200_000;

/// Julian day of 1970-01-01: `time::Date::to_julian_day` minus this is a day number.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

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
    let hamlets = store.all_hamlets().await?;
    let known = KnownHamlets::new(hamlets.iter().map(|h| (h.commune_code.as_str(), h.code.as_str(), h.name.as_str())));
    let subject = commune.unwrap_or("register");

    let started = Instant::now();
    let (index, index_generation) = crate::register_index::register_index_at(store, progress).await?;
    let index_read = started.elapsed();
    // A plain CSV (no quote, UTF-8) is read whole and checked on both cores; anything else
    // (a spreadsheet, quoted fields) is streamed.
    let (known, index, plain) = if sheet.is_none() && crate::source::format_of(file)? == crate::source::Format::Csv {
        let counters = std::sync::Arc::new(kyso_campaign::provider_import::Progress::default());
        let len = std::fs::metadata(file).with_context(|| format!("cannot open {}", file.display()))?.len();
        progress.begin("register", 2 * len);
        let mut job = {
            let (counters, file, commune) = (counters.clone(), file.to_owned(), commune.map(str::to_owned));
            tokio::task::spawn_blocking(move || {
                let plain = read_plain_register(&file, commune.as_deref(), &known, &index, &counters);
                (known, index, plain)
            })
        };
        loop {
            use std::sync::atomic::Ordering;
            match tokio::time::timeout(std::time::Duration::from_millis(200), &mut job).await {
                Ok(done) => {
                    let (known, index, plain) = done.map_err(|e| anyhow::anyhow!("register reader: {e}"))?;
                    break (known, index, plain?);
                }
                Err(_) => {
                    progress.update(counters.bytes.load(Ordering::Relaxed), counters.rows.load(Ordering::Relaxed))
                }
            }
        }
    } else {
        (known, index, None)
    };
    let mut plain = plain;

    let (feed, rx) = mpsc::channel::<RegisterFeed>(4);
    let writer = store.write_register(rx);
    let mut out = RegisterImported::default();
    let mut pending = Pending::default();
    // streamed: how long the checks waited for the file's next records
    let mut waited_for_file: Option<std::time::Duration> = None;
    let waited_for_file = &mut waited_for_file;
    let reader = async {
        let feed = feed; // moved in: the feed closes when the reader ends
        if let Some(p) = plain.take() {
            out = p.out;
            pending = p.pending;
            progress.finish(out.rows);
        } else {
            let mut source = Source::open(file, sheet)?;
            progress.begin("register", source.total);
            let mut shards = [Shard::new(0, source.total), Shard::new(1, source.total)];
            let lookup = index.lookup();
            let mut import: Option<RegisterImport> = None;
            let mut header = HeaderSearch::default();
            let mut waited = std::time::Duration::ZERO;
            let mut asked = Instant::now();
            let mut more = true;
            'read: while more {
                // Records in rounds of about SHARD_ROUND: two threads per round, not per chunk.
                let mut chunk = Vec::new();
                while chunk.len() < SHARD_ROUND {
                    match source.next_chunk().await {
                        Some(c) if chunk.is_empty() => chunk = c,
                        Some(c) => chunk.extend(c),
                        None => {
                            more = false;
                            break;
                        }
                    }
                }
                waited += asked.elapsed();
                let mut records = chunk.as_slice();
                // The header is the first row that names the columns: title rows above it are skipped.
                while import.is_none() {
                    let Some((first, rest)) = records.split_first() else { break };
                    records = rest;
                    match first {
                        Err(issue) => out.rejected.push(issue.clone()),
                        Ok(record) => match header.offer(RegisterImport::new(record, commune, &known)) {
                            HeaderStep::Found(i) => import = Some(i),
                            HeaderStep::Skipped => {}
                            HeaderStep::GaveUp(missing) => {
                                out.rejected.extend(missing);
                                break 'read;
                            }
                        },
                    }
                }
                let Some(import) = import.as_ref() else { continue };
                // Checked on both cores: each shard takes the records whose ID number falls to it
                // (so that it alone tells a repeat of its IDs), in file order.
                let [a, b] = &mut shards;
                let (one, two) = std::thread::scope(|s| {
                    let two = s.spawn(|| b.take(import, records, &lookup, &index));
                    (a.take(import, records, &lookup, &index), two.join().expect("a register shard panicked"))
                });
                ShardOut::absorb(&mut out, one, two)?;
                progress.update(source.position(), out.rows);
                asked = Instant::now();
            }
            *waited_for_file = Some(waited);
            if !header.gave_up() {
                // a spreadsheet that broke off (e.g. a part over its inflation bounds) fails the
                // import, and nothing of it is written (the writer's transaction rolls back)
                source.check_complete().map_err(|e| anyhow::anyhow!("{e} (nothing was written)"))?;
            }
            progress.finish(out.rows);
            if import.is_none() && !header.gave_up() {
                out.rejected.extend(header.ended_without_header());
            }
            let [a, b] = &mut shards;
            pending = Pending::join(std::mem::take(&mut a.pending), std::mem::take(&mut b.pending));
        }
        let parsed = started.elapsed();
        if out.kept == 0 {
            return Ok(Some(parsed)); // the feed closes unused: nothing is written, nothing audited
        }
        // The rows go to the writer as they are held (encoded): one message.
        if feed.send(RegisterFeed::Encoded(std::mem::take(&mut pending.rows))).await.is_err() {
            return Ok(None); // the writer failed: its error is the import's
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
        "register: index read {:.1} s, rows read and checked {:.1} s ({}), stored {:.1} s{}, index {index_note} {:.1} s",
        index_read.as_secs_f64(),
        (parsed - index_read).as_secs_f64(),
        match waited_for_file {
            Some(w) => format!("streamed, waiting for the file {:.1} s", w.as_secs_f64()),
            None => "read whole, checked on two threads".to_owned(),
        },
        (stored - parsed).as_secs_f64(),
        if written.first_load { " (first load)" } else { "" },
        (started.elapsed() - stored).as_secs_f64(),
    ));
    Ok(out)
}

/// Half of a register import's work: the records whose ID number falls to this shard (a
/// record whose ID is not valid falls to shard 0), checked, told apart from repeats of an
/// earlier row, compared with the register index and kept.
struct Shard {
    n: u64,
    /// ID number → the row it came first on.
    seen: foldhash::HashMap<u64, u32>,
    pending: Pending,
}

/// What a shard did with one chunk; issues with their position in the chunk.
#[derive(Default)]
struct ShardOut {
    rows: u64,
    kept: u64,
    unchanged: u64,
    rejected: Vec<(usize, RowIssue)>,
    warnings: Vec<(usize, RowIssue)>,
    failed: Option<anyhow::Error>,
}

impl ShardOut {
    /// Both shards' outcome added to `out`, their issues in file order (each shard's are in
    /// order; they interleave by position); the error of a shard that failed.
    fn absorb(out: &mut RegisterImported, one: ShardOut, two: ShardOut) -> Result<()> {
        for o in [&one, &two] {
            out.rows += o.rows;
            out.kept += o.kept;
            out.unchanged += o.unchanged;
        }
        let (mut rejected, mut warnings) = (one.rejected, one.warnings);
        rejected.extend(two.rejected);
        warnings.extend(two.warnings);
        rejected.sort_by_key(|(at, _)| *at);
        warnings.sort_by_key(|(at, _)| *at);
        out.rejected.extend(rejected.into_iter().map(|(_, i)| i));
        out.warnings.extend(warnings.into_iter().map(|(_, i)| i));
        match one.failed.or(two.failed) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Shard {
    /// Room reserved (address space; memory is taken as rows come) for a shard's half of a file
    /// of `file_bytes` (~60 bytes a row), shard 0 for the whole: the other's rows join it.
    fn new(n: u64, file_bytes: u64) -> Shard {
        let mut seen = foldhash::HashMap::default();
        seen.reserve((file_bytes / 120).min(1 << 27) as usize);
        let room = if n == 0 { file_bytes } else { file_bytes / 2 };
        Shard { n, seen, pending: Pending::for_file(room) }
    }

    fn take(
        &mut self,
        import: &RegisterImport,
        records: &[std::result::Result<kyso_campaign::csv::Record, RowIssue>],
        lookup: &kyso_campaign::register_index::IdLookup<'_>,
        index: &RegisterIndex,
    ) -> ShardOut {
        let mut out = ShardOut::default();
        for (at, record) in records.iter().enumerate() {
            match record {
                Ok(r) => self.record(import, at, r.row, &r.fields, lookup, index, &mut out),
                Err(issue) if self.n == 0 => out.rejected.push((at, issue.clone())),
                Err(_) => {}
            }
            if out.failed.is_some() {
                break;
            }
        }
        out
    }

    /// The data lines of a plain CSV held in memory (`text`, its first line numbered
    /// `first_row`): each line split in place, those of this shard taken. Issues are placed by
    /// row number. `rows_done`: progress, counted by shard 0.
    fn take_plain(
        &mut self,
        import: &RegisterImport,
        text: &str,
        first_row: usize,
        lookup: &kyso_campaign::register_index::IdLookup<'_>,
        index: &RegisterIndex,
        rows_done: &std::sync::atomic::AtomicU64,
    ) -> ShardOut {
        let mut out = ShardOut::default();
        let mut fields: Vec<&str> = Vec::with_capacity(8);
        for (k, line) in text.split_inclusive('\n').enumerate() {
            let row = first_row + k;
            if self.n == 0 && k % (1 << 16) == 0 {
                rows_done.store(k as u64, std::sync::atomic::Ordering::Relaxed);
            }
            // a blank line (no comma, white space only) is skipped, as the streaming reader does
            let Some(line) = kyso_campaign::provider_import::record_line(line) else { continue };
            fields.clear();
            fields.extend(line.split(','));
            self.record(import, row, row, &fields, lookup, index, &mut out);
            if out.failed.is_some() {
                break;
            }
        }
        out
    }

    /// One record of this shard: checked, told apart from a repeat, compared with the index and
    /// kept. `at`: where its issues are placed.
    #[allow(clippy::too_many_arguments)]
    fn record<S: AsRef<str>>(
        &mut self,
        import: &RegisterImport,
        at: usize,
        row: usize,
        fields: &[S],
        lookup: &kyso_campaign::register_index::IdLookup<'_>,
        index: &RegisterIndex,
        out: &mut ShardOut,
    ) {
        if import.id_key_fields(fields).map_or(0, |k| k % 2) != self.n {
            return;
        }
        out.rows += 1;
        let mut warnings = Vec::new();
        let resident = match import.check_fields(row, fields, &mut warnings) {
            Ok(r) => r,
            Err(issue) => {
                out.rejected.push((at, issue));
                return;
            }
        };
        let key = id_key(resident.id.expose()).unwrap_or(0);
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => {
                out.rejected.push((at, import.duplicate_fields(row, fields, &resident, *first.get())));
                return;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(u32::try_from(row).unwrap_or(u32::MAX));
            }
        }
        out.warnings.extend(warnings.into_iter().map(|w| (at, w)));
        out.kept += 1;
        // the row's text as stored, without allocating: birth date, sex
        let born = resident.date_of_birth.to_julian_day() - UNIX_EPOCH_JULIAN_DAY;
        let dob = iso_bytes(born);
        let dob = std::str::from_utf8(&dob).expect("ISO dates are ASCII");
        let sex = if resident.sex == Sex::Female { "F" } else { "M" };
        let hash = row_hash(
            resident.full_name.as_deref(),
            dob,
            sex,
            &resident.commune_code,
            &resident.hamlet_code,
            resident.household.as_deref(),
        );
        if lookup.find(key).is_some_and(|k| index.hash_at(k) == hash) {
            out.unchanged += 1;
            return;
        }
        if let Err(e) = self.pending.push(&resident, key, hash, born, dob, sex) {
            out.failed = Some(e);
        }
    }
}

/// What a plain CSV read in memory gave: the counts and issues, and the rows to write.
struct PlainRead {
    out: RegisterImported,
    pending: Pending,
}

/// Reads a register CSV whole and checks it on both cores, when it is plain (UTF-8, no quote,
/// no lone `\r`): `None` otherwise (the caller streams it). Gives `index` back either way.
fn read_plain_register(
    file: &Path,
    commune: Option<&str>,
    known: &KnownHamlets,
    index: &RegisterIndex,
    counters: &kyso_campaign::provider_import::Progress,
) -> Result<Option<PlainRead>> {
    use std::sync::atomic::Ordering;
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let len = f.metadata()?.len();
    let bytes = crate::source::read_whole(f, len, &counters.bytes, 2)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let Some(text) = kyso_campaign::provider_import::plain(bytes) else { return Ok(None) };
    let mut out = RegisterImported::default();
    // The header: the first record that names the columns (title rows above it skipped).
    let mut header = HeaderSearch::default();
    let mut import = None;
    let (mut at, mut row) = (0usize, 0usize);
    while import.is_none() && at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let line = &text[at..end];
        at = end;
        row += 1;
        let Some(line) = kyso_campaign::provider_import::record_line(line) else { continue };
        let record = kyso_campaign::csv::Record { row, fields: line.split(',').map(str::to_owned).collect() };
        match header.offer(RegisterImport::new(&record, commune, known)) {
            HeaderStep::Found(i) => import = Some(i),
            HeaderStep::Skipped => {}
            HeaderStep::GaveUp(missing) => {
                out.rejected.extend(missing);
                return Ok(Some(PlainRead { out, pending: Pending::default() }));
            }
        }
    }
    let Some(import) = import else {
        out.rejected.extend(header.ended_without_header());
        return Ok(Some(PlainRead { out, pending: Pending::default() }));
    };
    let data = &text[at..];
    let lookup = index.lookup();
    let mut shards = [Shard::new(0, len), Shard::new(1, len)];
    let [a, b] = &mut shards;
    let (one, two) = std::thread::scope(|s| {
        let two = s.spawn(|| b.take_plain(&import, data, row + 1, &lookup, index, &counters.rows));
        (
            a.take_plain(&import, data, row + 1, &lookup, index, &counters.rows),
            two.join().expect("a register shard panicked"),
        )
    });
    counters.bytes.store(2 * len, Ordering::Relaxed);
    ShardOut::absorb(&mut out, one, two)?;
    let [a, b] = shards;
    Ok(Some(PlainRead { out, pending: Pending::join(a.pending, b.pending) }))
}

/// The rows an import found new or changed, held until the whole file is read: encoded as the
/// register's blocks hold them (for the writer), and the register index's columns of each (key,
/// row hash, birth day, commune) to update the index after the write.
#[derive(Default)]
struct Pending {
    rows: RegisterRows,
    index: Vec<IndexRow>,
    communes: Vec<String>,
    commune_of: HashMap<String, u32>,
}

struct IndexRow {
    key: u64,
    hash: u64,
    born: i32,
    commune: u32,
}

impl Pending {
    /// Room for the rows of a file of `bytes` bytes (a guess: ~60 bytes a row).
    fn for_file(bytes: u64) -> Pending {
        let bytes = bytes.min(8 << 30) as usize;
        Pending {
            rows: RegisterRows::with_capacity(bytes / 60, bytes),
            index: Vec::with_capacity(bytes / 60),
            ..Pending::default()
        }
    }

    fn push(&mut self, r: &Resident, key: u64, hash: u64, born: i32, dob: &str, sex: &str) -> Result<()> {
        self.rows.push_fields(
            key,
            r.full_name.as_deref(),
            dob,
            sex,
            &r.commune_code,
            &r.hamlet_code,
            r.household.as_deref(),
        )?;
        let commune = self.commune_number(&r.commune_code);
        self.index.push(IndexRow { key, hash, born, commune });
        Ok(())
    }

    /// A commune code's number in `communes` (added when new).
    fn commune_number(&mut self, code: &str) -> u32 {
        if let Some(&c) = self.commune_of.get(code) {
            return c;
        }
        let c = self.communes.len() as u32;
        self.communes.push(code.to_owned());
        self.commune_of.insert(code.to_owned(), c);
        c
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    /// The rows of both shards as one.
    fn join(mut a: Pending, b: Pending) -> Pending {
        a.rows.append(b.rows);
        a.index.reserve(b.index.len());
        for r in b.index {
            let commune = a.commune_number(&b.communes[r.commune as usize]);
            a.index.push(IndexRow { commune, ..r });
        }
        a
    }

    /// `index` with these rows written into it.
    fn apply(mut self, index: RegisterIndex) -> Result<RegisterIndex> {
        self.index.sort_unstable_by_key(|r| r.key);
        let mut b = RegisterIndexBuilder::from_index(index);
        for p in &self.index {
            b.push_key(p.key, &self.communes[p.commune as usize], p.born, p.hash).map_err(anyhow::Error::msg)?;
        }
        Ok(b.finish())
    }
}
