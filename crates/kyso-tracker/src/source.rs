//! Records of an import file, CSV or XLSX (by extension, else by sniffing the ZIP signature), read
//! on a thread of their own and handed over in chunks: parsing runs beside the database writes,
//! and memory holds a few chunks, never the file. (The provider-list import reads a CSV whole
//! instead, [`read_whole`]: its rows are kept in memory anyway, and parsed on several threads.)

use anyhow::{anyhow, Context, Result};
use kyso_campaign::csv::{CsvRecords, Record};
use kyso_campaign::RowIssue;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many leading rows may come before the header (titles, a blank line, a date line).
pub const HEADER_SEARCH: usize = 10;

/// The search for the header: the first row that names the columns, after at most
/// [`HEADER_SEARCH`] - 1 rows above it (titles, a blank line, a date line). Shared by the imports
/// that read a file row by row.
#[derive(Default)]
pub struct HeaderSearch {
    tries: usize,
    first_missing: Option<Vec<RowIssue>>,
    gave_up: bool,
}

/// What a row offered as the header turned out to be.
pub enum HeaderStep<T> {
    /// The header: what reads the rows below it.
    Found(T),
    /// Not the header; the search goes on with the next row.
    Skipped,
    /// [`HEADER_SEARCH`] rows and none was the header: what the first of them lacked.
    GaveUp(Vec<RowIssue>),
}

impl HeaderSearch {
    /// Offers a row: `attempt` is the row read as a header, or what it lacked.
    pub fn offer<T>(&mut self, attempt: std::result::Result<T, Vec<RowIssue>>) -> HeaderStep<T> {
        match attempt {
            Ok(t) => HeaderStep::Found(t),
            Err(missing) => {
                self.tries += 1;
                self.first_missing.get_or_insert(missing);
                if self.tries < HEADER_SEARCH {
                    return HeaderStep::Skipped;
                }
                self.gave_up = true;
                HeaderStep::GaveUp(self.first_missing.take().unwrap_or_default())
            }
        }
    }

    /// True once [`HeaderStep::GaveUp`] was returned.
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// The file ended before a header (fewer than [`HEADER_SEARCH`] rows): what the first row
    /// lacked, or that the file is empty.
    pub fn ended_without_header(self) -> Vec<RowIssue> {
        match self.first_missing {
            Some(missing) => missing,
            None => vec![RowIssue::new(1, None, "the file is empty: expected a header row")],
        }
    }
}

/// Records per message from the reader thread.
const CHUNK: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// `.xlsx`/`.xlsm` → XLSX, `.csv`/`.txt` → CSV, anything else by its first bytes (`PK\3\4`: a ZIP).
pub fn format_of(path: &Path) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx" | "xlsm") => return Ok(Format::Xlsx),
        Some("csv" | "txt") => return Ok(Format::Csv),
        _ => {}
    }
    let mut head = [0u8; 4];
    let n = File::open(path).with_context(|| format!("cannot open {}", path.display()))?.read(&mut head)?;
    Ok(if n == 4 && head == *b"PK\x03\x04" { Format::Xlsx } else { Format::Csv })
}

/// A reader that tells how far it got (for the progress meter).
struct Counted<R> {
    inner: R,
    pos: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let p = self.inner.seek(to)?;
        self.pos.store(p, Ordering::Relaxed);
        Ok(p)
    }
}

/// The records of an open import file, arriving in chunks; the first is the header.
pub struct Source {
    /// File size in bytes, and bytes read so far.
    pub total: u64,
    pos: Arc<AtomicU64>,
    rx: mpsc::Receiver<Vec<Result<Record, RowIssue>>>,
    /// An error that ended the spreadsheet before its end (a part over its inflation bounds,
    /// broken XML): the import must fail, not count it as one rejected row.
    fatal: Arc<std::sync::Mutex<Option<String>>>,
}

impl Source {
    /// Opens `path` (XLSX: the first sheet, or `sheet`) and starts reading it on a thread.
    pub fn open(path: &Path, sheet: Option<&str>) -> Result<Self> {
        let format = format_of(path)?;
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let total = file.metadata()?.len();
        let pos = Arc::new(AtomicU64::new(0));
        let counted = Counted { inner: file, pos: pos.clone() };
        // Room for two rounds of the register import's shards: the file is read while they check.
        let (tx, rx) = mpsc::channel(48);
        let fatal = Arc::new(std::sync::Mutex::new(None));
        match format {
            Format::Csv => {
                let records = CsvRecords::new(BufReader::with_capacity(1 << 16, counted));
                std::thread::spawn(move || pump(records, &tx));
            }
            Format::Xlsx => {
                // Opening reads the workbook, styles and shared strings: errors surface here.
                let mut book = kyso_xlsx::Workbook::open(BufReader::with_capacity(1 << 16, counted))
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?;
                book.rows(sheet).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                let sheet = sheet.map(str::to_owned);
                let fatal = fatal.clone();
                let shown = path.display().to_string();
                std::thread::spawn(move || {
                    let rows = match book.rows(sheet.as_deref()) {
                        Ok(rows) => rows,
                        Err(e) => {
                            let _ = tx.blocking_send(vec![Err(RowIssue::new(1, None, e.to_string()))]);
                            return;
                        }
                    };
                    let mut last = 0usize;
                    // Blank rows are skipped (as blank lines in CSV), their numbers kept.
                    let records = rows.filter_map(|r| match r {
                        Ok(row) => {
                            last = row.number as usize;
                            let fields = row.texts();
                            fields.iter().any(|f| !f.trim().is_empty()).then_some(Ok(Record { row: last, fields }))
                        }
                        Err(e) => {
                            *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{shown}: {e}"));
                            Some(Err(RowIssue::new(last + 1, None, e.to_string())))
                        }
                    });
                    pump(records, &tx);
                });
            }
        }
        Ok(Self { total, pos, rx, fatal })
    }

    /// Err when the spreadsheet stopped on an error before its end (call after the last chunk).
    pub fn check_complete(&self) -> Result<()> {
        match self.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(anyhow!("{e}; the file was not read to its end")),
            None => Ok(()),
        }
    }

    pub fn position(&self) -> u64 {
        self.pos.load(Ordering::Relaxed)
    }

    /// The next chunk of records, `None` at the end of the file.
    pub async fn next_chunk(&mut self) -> Option<Vec<Result<Record, RowIssue>>> {
        self.rx.recv().await
    }
}

/// Reads an open file whole (a CSV parsed in memory on several threads), counting the bytes read
/// into `done` as it goes. `len`: the size the file had when opened. On Unix `parts` threads read
/// a part each (copying from the page cache and faulting in the buffer take two cores too).
pub fn read_whole(mut file: File, len: u64, done: &AtomicU64, parts: usize) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(len).unwrap_or(0);
    #[cfg(unix)]
    let mut bytes = read_parts(&file, len, done, parts.max(1))?;
    #[cfg(not(unix))]
    let mut bytes = {
        let _ = parts;
        Vec::with_capacity(len.saturating_add(1))
    };
    // What the parts did not cover: everything elsewhere, what the file grew by on Unix.
    file.seek(SeekFrom::Start(bytes.len() as u64))?;
    loop {
        let n = (&mut file).take(8 << 20).read_to_end(&mut bytes)?;
        if n == 0 {
            return Ok(bytes);
        }
        done.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The first `len` bytes of a file in `parts` parts read side by side; shorter if the file shrank.
#[cfg(unix)]
fn read_parts(file: &File, len: usize, done: &AtomicU64, parts: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let fill = |part: &mut [u8], at: usize| -> std::io::Result<usize> {
        let mut n = 0;
        while n < part.len() {
            match file.read_at(&mut part[n..], (at + n) as u64) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    done.fetch_add(k as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    };
    let mut bytes = vec![0u8; len];
    let size = len.div_ceil(parts).max(1);
    let filled: Vec<std::io::Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> =
            bytes.chunks_mut(size).enumerate().map(|(k, part)| s.spawn(move || fill(part, k * size))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    for (k, n) in filled.into_iter().enumerate() {
        let n = n?;
        if n < size.min(len - k * size) {
            bytes.truncate(k * size + n);
            break;
        }
    }
    Ok(bytes)
}

fn pump(records: impl Iterator<Item = Result<Record, RowIssue>>, tx: &mpsc::Sender<Vec<Result<Record, RowIssue>>>) {
    let mut chunk = Vec::with_capacity(CHUNK);
    for r in records {
        chunk.push(r);
        if chunk.len() == CHUNK && tx.blocking_send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))).is_err() {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lacks(row: usize) -> std::result::Result<(), Vec<RowIssue>> {
        Err(vec![RowIssue::new(row, Some("Số định danh"), "no such column")])
    }

    #[test]
    fn the_header_may_follow_title_rows_up_to_the_limit() {
        let mut h = HeaderSearch::default();
        for row in 1..HEADER_SEARCH {
            assert!(matches!(h.offer(lacks(row)), HeaderStep::Skipped), "row {row}");
        }
        assert!(matches!(h.offer(Ok(())), HeaderStep::Found(())));
        assert!(!h.gave_up());
    }

    #[test]
    fn the_search_gives_up_with_what_the_first_row_lacked() {
        let mut h = HeaderSearch::default();
        for row in 1..HEADER_SEARCH {
            assert!(matches!(h.offer(lacks(row)), HeaderStep::Skipped));
        }
        match h.offer(lacks(HEADER_SEARCH)) {
            HeaderStep::GaveUp(issues) => {
                assert_eq!(issues, vec![RowIssue::new(1, Some("Số định danh"), "no such column")])
            }
            _ => panic!("the search went on past {HEADER_SEARCH} rows"),
        }
        assert!(h.gave_up());
    }

    #[test]
    fn a_file_that_ends_first_says_so() {
        let h = HeaderSearch::default();
        assert_eq!(h.ended_without_header()[0].reason, "the file is empty: expected a header row");
        let mut h = HeaderSearch::default();
        assert!(matches!(h.offer(lacks(1)), HeaderStep::Skipped));
        assert!(matches!(h.offer(lacks(2)), HeaderStep::Skipped));
        assert_eq!(h.ended_without_header()[0].row, 1);
    }
}
