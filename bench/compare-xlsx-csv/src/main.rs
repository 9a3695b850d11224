//! kyso's own XLSX reader/writer and CSV reader against the maintained crates, doing the same work
//! on the same files (docs/BENCHMARKS.md, "XLSX and CSV: ours against the maintained crates").
//!
//! Inputs are generated as `kyso bench campaign-data` generates them (SplitMix64, the same column
//! shapes): a register CSV (`id_number,full_name,date_of_birth,sex,hamlet_code,household,
//! commune_code`), once plain and once with every field quoted (what a spreadsheet's "quote all
//! text" export writes, and the path that needs a real CSV parser), and a provider list
//! (`id_number, provider, issue_date, expiry_date, status, revoked_date`, dates as date cells)
//! written as XLSX by kyso-xlsx.
//!
//! The work compared, each best of N runs (N = `KYSO_BENCH_RUNS`, default 3), ours and theirs
//! alternated:
//! - CSV read: every record into kyso-campaign's `Record` (row number, owned fields), streamed
//!   from the file: `CsvRecords` (ours) against `csv_core::Reader` (plus UTF-8 checks per record).
//! - XLSX read: every row of the first sheet into the same `Record`s, cells as the text kyso's
//!   import sees (`Value::to_text`: dates as `YYYY-MM-DD`): `Workbook::rows` (ours, streamed)
//!   against calamine's `worksheet_range` (the whole sheet in memory) and its streaming
//!   `worksheet_cells_reader`.
//! - XLSX write: the provider list as one sheet (bold frozen header, column widths, text cells,
//!   dates as serials with a `dd/mm/yyyy` format) into memory: `Writer` (ours, streamed) against
//!   rust_xlsxwriter in constant-memory mode (streamed, inline strings: the same shape as ours)
//!   and in its default mode (the whole sheet kept until saved, shared strings).
//!
//! Every reader's records are checked equal to ours before anything is timed.
//!
//! Usage: compare-xlsx-csv [REGISTER_ROWS] [LIST_ROWS] [DIR]  (default 1000000 200000
//! /tmp/kyso-bench-xlsx-csv); files already in DIR with those sizes are reused.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use kyso_campaign::csv::{CsvRecords, Record};
use kyso_xlsx::{Cell, Column, Serial, Value, Ymd};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// SplitMix64, as `kyso bench campaign-data`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Đức", "Thanh", "Minh", "Ngọc", "Quốc", "Thu", "Hồng"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai",
    "Nam", "Nga", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến",
];
const PROVIDERS: &[&str] = &["VNPT-CA", "VIETTEL-CA", "MOBIFONE-CA", "FPT-CA", "BKAV-CA", "CA2"];

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

/// The register, plain and with every field quoted.
fn write_registers(rows: u64, plain: &Path, quoted: &Path) -> Result<()> {
    let mut rng = Rng(2026);
    let mut p = BufWriter::with_capacity(1 << 20, File::create(plain)?);
    let mut q = BufWriter::with_capacity(1 << 20, File::create(quoted)?);
    let header = ["id_number", "full_name", "date_of_birth", "sex", "hamlet_code", "household", "commune_code"];
    writeln!(p, "{}", header.join(","))?;
    writeln!(q, "{}", header.map(|h| format!("\"{h}\"")).join(","))?;
    let mut household = 0u64;
    for i in 0..rows {
        if i % 4 == 0 {
            household += 1;
        }
        let age = if rng.chance(850) { rng.below(70) } else { 70 + rng.below(21) };
        let year = 2026 - age as i32;
        let (month, day) = (1 + rng.below(12), 1 + rng.below(28));
        let female = rng.chance(505);
        let g = ((year / 100 - 19) * 2) as u64 + u64::from(female);
        let id = format!("{:03}{g}{:02}{:06}", 1 + rng.below(96), year % 100, i % 900_000);
        let name = format!("{} {} {}", pick(&mut rng, FAMILY), pick(&mut rng, MIDDLE), pick(&mut rng, GIVEN));
        let fields = [
            id,
            name,
            format!("{year:04}-{month:02}-{day:02}"),
            (if female { "F" } else { "M" }).to_string(),
            format!("T{:02}", 1 + rng.below(12)),
            format!("H{household:05}"),
            format!("{:05}", 1 + rng.below(3321) * 7),
        ];
        writeln!(p, "{}", fields.join(","))?;
        writeln!(q, "{}", fields.map(|f| format!("\"{f}\"")).join(","))?;
    }
    p.flush()?;
    q.flush()?;
    Ok(())
}

/// One provider-list row, as the writers get it.
struct Listed {
    id: String,
    provider: &'static str,
    issued: Ymd,
    expires: Option<Ymd>,
    status: &'static str,
    revoked: Option<Ymd>,
}

fn ymd_of(day: i64) -> Ymd {
    // Day numbers since 1970-01-01 → calendar date, through the 1900 serial (day 25,569 = 1970-01-01).
    kyso_xlsx::serial_to_ymd((day + 25_569) as f64, false).expect("a date")
}

fn provider_rows(n: u64) -> Vec<Listed> {
    let mut rng = Rng(4_000);
    let (first, last) = (19_723i64, 20_777i64); // 2024-01-01, 2026-11-20
    (0..n)
        .map(|_| {
            let g = rng.below(4);
            let id = format!("{:03}{g}{:02}{:06}", 1 + rng.below(96), rng.below(100), rng.below(1_000_000));
            let issued = first + rng.below((last - first) as u64) as i64;
            let expires = rng.chance(900).then(|| issued + 365 * (1 + rng.below(3) as i64));
            let (status, revoked) = if rng.chance(30) {
                ("revoked", Some((issued + 1 + rng.below(300) as i64).min(last)))
            } else if expires.is_some_and(|e| e <= last) {
                ("expired", None)
            } else {
                ("valid", None)
            };
            Listed {
                id,
                provider: PROVIDERS[rng.below(PROVIDERS.len() as u64) as usize],
                issued: ymd_of(issued),
                expires: expires.map(ymd_of),
                status,
                revoked: revoked.map(ymd_of),
            }
        })
        .collect()
}

const LIST_COLUMNS: [(&str, f64); 6] = [
    ("id_number", 16.0),
    ("provider", 14.0),
    ("issue_date", 12.0),
    ("expiry_date", 12.0),
    ("status", 10.0),
    ("revoked_date", 12.0),
];

// ---- XLSX write ----

fn write_ours(rows: &[Listed]) -> Result<Vec<u8>> {
    let mut w = kyso_xlsx::Writer::new(Cursor::new(Vec::with_capacity(8 << 20)));
    let columns: Vec<Column> = LIST_COLUMNS.iter().map(|&(h, width)| Column::new(h, width)).collect();
    w.add_sheet("Provider list", &columns)?;
    let date = |d: Option<Ymd>| d.map_or(Cell::Empty, Cell::Date);
    for r in rows {
        w.write_row(&[
            Cell::Text(&r.id),
            Cell::Text(r.provider),
            Cell::Date(r.issued),
            date(r.expires),
            Cell::Text(r.status),
            date(r.revoked),
        ])?;
    }
    Ok(w.finish()?.into_inner())
}

fn write_xlsxwriter(rows: &[Listed], constant_memory: bool) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = if constant_memory { book.add_worksheet_with_constant_memory()? } else { book.add_worksheet() };
    sheet.set_name("Provider list")?;
    for (c, &(header, width)) in LIST_COLUMNS.iter().enumerate() {
        sheet.set_column_width(c as u16, width)?;
        sheet.write_string_with_format(0, c as u16, header, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let serial = |d: Ymd| kyso_xlsx::ymd_to_serial(d, false).expect("a serial");
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &r.id)?;
        sheet.write_string(row, 1, r.provider)?;
        sheet.write_number_with_format(row, 2, serial(r.issued), &date_format)?;
        if let Some(d) = r.expires {
            sheet.write_number_with_format(row, 3, serial(d), &date_format)?;
        }
        sheet.write_string(row, 4, r.status)?;
        if let Some(d) = r.revoked {
            sheet.write_number_with_format(row, 5, serial(d), &date_format)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

// ---- XLSX read ----

/// Trailing empty fields dropped: readers differ on whether a row ends at its last cell.
fn record(row: usize, mut fields: Vec<String>) -> Option<Record> {
    while fields.last().is_some_and(String::is_empty) {
        fields.pop();
    }
    (!fields.is_empty()).then_some(Record { row, fields })
}

fn read_ours_xlsx(path: &Path) -> Result<Vec<Record>> {
    let mut book = kyso_xlsx::Workbook::open(BufReader::with_capacity(1 << 16, File::open(path)?))?;
    let mut out = Vec::new();
    for row in book.rows(None)? {
        let row = row?;
        out.extend(record(row.number as usize, row.texts()));
    }
    Ok(out)
}

/// A calamine value as kyso's import sees it (the same `Value::to_text` as ours).
fn calamine_text(v: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef as D;
    let value = match v {
        D::Empty => Value::Empty,
        D::String(s) | D::DateTimeIso(s) | D::DurationIso(s) => Value::Text(s.clone()),
        D::SharedString(s) => Value::Text((*s).to_owned()),
        D::Float(f) => Value::Number(*f),
        D::Int(i) => Value::Number(*i as f64),
        D::Bool(b) => Value::Bool(*b),
        // calamine has already moved 1904-system serials to the 1900 system.
        D::DateTime(d) => Value::Date(Serial { value: d.as_f64(), date1904: false }),
        D::Error(e) => Value::Error(e.to_string()),
    };
    value.to_text()
}

fn calamine_data_text(v: &calamine::Data) -> String {
    use calamine::Data as D;
    let r = match v {
        D::Empty => calamine::DataRef::Empty,
        D::String(s) => calamine::DataRef::SharedString(s),
        D::Float(f) => calamine::DataRef::Float(*f),
        D::Int(i) => calamine::DataRef::Int(*i),
        D::Bool(b) => calamine::DataRef::Bool(*b),
        D::DateTime(d) => calamine::DataRef::DateTime(*d),
        D::DateTimeIso(s) => calamine::DataRef::DateTimeIso(s.clone()),
        D::DurationIso(s) => calamine::DataRef::DurationIso(s.clone()),
        D::Error(e) => calamine::DataRef::Error(e.clone()),
    };
    calamine_text(&r)
}

fn read_calamine_range(path: &Path) -> Result<Vec<Record>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let name = book.sheet_names().first().cloned().ok_or("no sheet")?;
    let range = book.worksheet_range(&name)?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut out = Vec::with_capacity(range.height());
    for (i, cells) in range.rows().enumerate() {
        let mut fields = vec![String::new(); left as usize];
        fields.extend(cells.iter().map(calamine_data_text));
        out.extend(record(top as usize + i + 1, fields));
    }
    Ok(out)
}

fn read_calamine_cells(path: &Path) -> Result<Vec<Record>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let name = book.sheet_names().first().cloned().ok_or("no sheet")?;
    let mut cells = book.worksheet_cells_reader(&name)?;
    let mut out = Vec::new();
    let (mut row, mut fields) = (None::<u32>, Vec::<String>::new());
    while let Some(cell) = cells.next_cell()? {
        let (r, c) = cell.get_position();
        if row != Some(r) {
            if let Some(done) = row {
                out.extend(record(done as usize + 1, std::mem::take(&mut fields)));
            }
            row = Some(r);
        }
        if fields.len() < c as usize {
            fields.resize(c as usize, String::new());
        }
        fields.push(calamine_text(cell.get_value()));
    }
    if let Some(done) = row {
        out.extend(record(done as usize + 1, fields));
    }
    Ok(out)
}

// ---- CSV read ----

fn read_ours_csv(path: &Path) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for r in CsvRecords::new(BufReader::with_capacity(1 << 16, File::open(path)?)) {
        out.push(r.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn read_csv_core(path: &Path) -> Result<Vec<Record>> {
    use csv_core::ReadRecordResult as R;
    let mut reader = csv_core::Reader::new();
    let mut input = BufReader::with_capacity(1 << 16, File::open(path)?);
    let (mut bytes, mut ends) = (vec![0u8; 1024], vec![0usize; 32]);
    let (mut nbytes, mut nends) = (0, 0);
    let mut out = Vec::new();
    loop {
        let buf = input.fill_buf()?;
        let (result, read, wrote, ended) = reader.read_record(buf, &mut bytes[nbytes..], &mut ends[nends..]);
        input.consume(read);
        nbytes += wrote;
        nends += ended;
        match result {
            R::InputEmpty => {}
            R::OutputFull => bytes.resize(bytes.len() * 2, 0),
            R::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            R::Record => {
                let row = out.len() + 1;
                let mut data = &bytes[..nbytes];
                if row == 1 {
                    data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
                }
                let text = std::str::from_utf8(data).map_err(|e| format!("row {row}: not UTF-8: {e}"))?;
                let skip = nbytes - data.len();
                let mut start = 0;
                let fields = ends[..nends]
                    .iter()
                    .map(|&end| {
                        let f = text[start..end - skip].to_owned();
                        start = end - skip;
                        f
                    })
                    .collect();
                out.push(Record { row, fields });
                (nbytes, nends) = (0, 0);
            }
            R::End => break,
        }
    }
    Ok(out)
}

// ---- timing ----

fn best<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let v = f()?;
        best = best.min(started.elapsed().as_secs_f64());
        last = Some(v);
    }
    Ok((best, last.expect("at least one run")))
}

/// [`best`] of two, their runs alternated so that neither profits from running second (a warm
/// heap, the page cache, a quieter minute).
fn best_of_both<A, B>(
    runs: usize,
    mut a: impl FnMut() -> Result<A>,
    mut b: impl FnMut() -> Result<B>,
) -> Result<((f64, A), (f64, B))> {
    let (mut best_a, mut best_b) = (f64::INFINITY, f64::INFINITY);
    let (mut last_a, mut last_b) = (None, None);
    for _ in 0..runs {
        let (t, v) = best(1, &mut a)?;
        (best_a, last_a) = (best_a.min(t), Some(v));
        let (t, v) = best(1, &mut b)?;
        (best_b, last_b) = (best_b.min(t), Some(v));
    }
    Ok(((best_a, last_a.expect("a run")), (best_b, last_b.expect("a run"))))
}

fn same(what: &str, ours: &[Record], theirs: &[Record]) -> Result<()> {
    if ours.len() != theirs.len() {
        return Err(format!("{what}: {} records, ours {}", theirs.len(), ours.len()).into());
    }
    if let Some((a, b)) = ours.iter().zip(theirs).find(|(a, b)| a != b) {
        return Err(format!("{what}: {b:?} where ours read {a:?}").into());
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let register_rows: u64 = args.first().map_or(Ok(1_000_000), |a| a.parse())?;
    let list_rows: u64 = args.get(1).map_or(Ok(200_000), |a| a.parse())?;
    let dir = PathBuf::from(args.get(2).map_or("/tmp/kyso-bench-xlsx-csv", String::as_str));
    let runs: usize = std::env::var("KYSO_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    std::fs::create_dir_all(&dir)?;

    let plain = dir.join(format!("register-{register_rows}.csv"));
    let quoted = dir.join(format!("register-{register_rows}-quoted.csv"));
    let xlsx = dir.join(format!("provider-list-{list_rows}.xlsx"));
    if !plain.exists() || !quoted.exists() {
        write_registers(register_rows, &plain, &quoted)?;
    }
    let listed = provider_rows(list_rows);
    if !xlsx.exists() {
        std::fs::write(&xlsx, write_ours(&listed)?)?;
    }
    let mb = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
    println!(
        "inputs: {} ({:.0} MB), {} ({:.0} MB), {} ({:.1} MB); best of {runs} runs each",
        plain.display(),
        mb(&plain),
        quoted.display(),
        mb(&quoted),
        xlsx.display(),
        mb(&xlsx)
    );

    let mut table: Vec<(String, String, f64, f64, String)> = Vec::new();
    let mut row = |work: &str, theirs: &str, ours_s: f64, theirs_s: f64, note: String| {
        table.push((work.into(), theirs.into(), ours_s, theirs_s, note));
    };

    for (what, path) in [("CSV read, plain", &plain), ("CSV read, all fields quoted", &quoted)] {
        let ((ours_s, ours), (theirs_s, theirs)) = best_of_both(runs, || read_ours_csv(path), || read_csv_core(path))?;
        same(what, &ours, &theirs)?;
        row(what, "csv-core 0.1", ours_s, theirs_s, format!("{} records", ours.len()));
    }

    let ((ours_s, ours), (range_s, range)) =
        best_of_both(runs, || read_ours_xlsx(&xlsx), || read_calamine_range(&xlsx))?;
    same("XLSX read (calamine range)", &ours, &range)?;
    let ((ours_again, _), (cells_s, cells)) =
        best_of_both(runs, || read_ours_xlsx(&xlsx), || read_calamine_cells(&xlsx))?;
    let ours_s = ours_s.min(ours_again);
    same("XLSX read (calamine cells reader)", &ours, &cells)?;
    let n = format!("{} rows", ours.len());
    row("XLSX read", "calamine 0.38, worksheet_range", ours_s, range_s, n.clone());
    row("XLSX read", "calamine 0.38, worksheet_cells_reader", ours_s, cells_s, n);
    drop((ours, range, cells));

    let ((ours_s, ours), (cm_s, cm)) = best_of_both(runs, || write_ours(&listed), || write_xlsxwriter(&listed, true))?;
    let ((ours_again, _), (def_s, def)) =
        best_of_both(runs, || write_ours(&listed), || write_xlsxwriter(&listed, false))?;
    let ours_s = ours_s.min(ours_again);
    // What they wrote reads back (through our reader) as the same rows.
    let back = |bytes: &[u8]| -> Result<Vec<Record>> {
        let path = dir.join("written.xlsx");
        std::fs::write(&path, bytes)?;
        read_ours_xlsx(&path)
    };
    let ours_back = back(&ours)?;
    same("XLSX write (rust_xlsxwriter constant memory)", &ours_back, &back(&cm)?)?;
    same("XLSX write (rust_xlsxwriter)", &ours_back, &back(&def)?)?;
    let size = |b: &[u8]| {
        format!("{} rows, {:.1} MB (ours {:.1} MB)", listed.len(), b.len() as f64 / 1e6, ours.len() as f64 / 1e6)
    };
    row("XLSX write", "rust_xlsxwriter 0.102, constant memory", ours_s, cm_s, size(&cm));
    row("XLSX write", "rust_xlsxwriter 0.102, default", ours_s, def_s, size(&def));

    println!();
    println!("| work | maintained crate | ours (s) | theirs (s) | theirs / ours | |");
    println!("|---|---|---:|---:|---:|---|");
    for (work, theirs, ours_s, theirs_s, note) in &table {
        println!("| {work} | {theirs} | {ours_s:.3} | {theirs_s:.3} | {:.2} | {note} |", theirs_s / ours_s);
    }
    Ok(())
}
