//! A whole provider list collected for the bulk import, in one of two ways that give the same
//! [`ParsedList`]: streamed record by record ([`StreamedList`], any CSV or spreadsheet), or parsed
//! from memory on several threads, each a range of lines split in place ([`parse_plain_csv`],
//! plain CSV only: UTF-8 without quotes or lone carriage returns).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use time::Date;

use crate::csv::{Record, RowIssue};
use crate::provider_list::{
    merge_and_dedupe, sort_and_dedupe, sort_run, CompactCert, ListRow, ProviderListImport, Providers,
};

/// A provider list ready to match and store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedList {
    /// Sorted by (ID number, provider, issue day), each key once (its earliest list row).
    pub certs: Vec<CompactCert>,
    /// What `certs[..].provider` indexes: names in the order the list first names them.
    pub providers: Providers,
    /// Rows repeating an earlier row's key, in row order.
    pub duplicates: Vec<RowIssue>,
    /// Rows repeating an earlier row's key with another expiry, end or status (both rows named;
    /// the certificate keeps the earlier end), in row order.
    pub conflicts: Vec<RowIssue>,
    /// Rows rejected (and a missing header), in row order.
    pub rejected: Vec<RowIssue>,
    /// Data rows after the header, blank lines not counted.
    pub rows: u64,
}

fn empty_file() -> RowIssue {
    RowIssue::new(1, None, "the file is empty: expected a header row")
}

/// The streaming path: records in file order, the header the first of the first `header_search`
/// records that [`ProviderListImport::new`] accepts (title rows above it skipped).
pub struct StreamedList {
    provider: Option<String>,
    as_of: Date,
    header_search: usize,
    import: Option<ProviderListImport>,
    header_tries: usize,
    first_missing: Option<Vec<RowIssue>>,
    header_failed: bool,
    list: ParsedList,
}

impl StreamedList {
    pub fn new(provider: Option<&str>, as_of: Date, header_search: usize) -> Self {
        Self {
            provider: provider.map(str::to_owned),
            as_of,
            header_search,
            import: None,
            header_tries: 0,
            first_missing: None,
            header_failed: false,
            list: ParsedList::default(),
        }
    }

    /// Takes the next record (or the issue that stands for an unreadable one). `false`: stop
    /// reading, no header was found.
    pub fn push(&mut self, record: Result<Record, RowIssue>) -> bool {
        let list = &mut self.list;
        let record = match record {
            Ok(r) => r,
            Err(issue) => {
                list.rejected.push(issue);
                return true;
            }
        };
        let Some(import) = self.import.as_mut() else {
            match ProviderListImport::new(&record, self.provider.as_deref(), self.as_of) {
                Ok(i) => self.import = Some(i.without_dedupe()),
                Err(missing) => {
                    self.header_tries += 1;
                    self.first_missing.get_or_insert(missing);
                    if self.header_tries == self.header_search {
                        list.rejected.extend(self.first_missing.take().unwrap_or_default());
                        self.header_failed = true;
                        return false;
                    }
                }
            }
            return true;
        };
        list.rows += 1;
        match import.row(&record) {
            Ok(ListRow::Certificate(c)) => list.certs.push(CompactCert::new(&c, record.row, &mut list.providers)),
            // not produced without dedupe; kept as rejections should that change
            Ok(ListRow::Duplicate(issue) | ListRow::Conflict { issue, .. }) | Err(issue) => list.rejected.push(issue),
        }
        true
    }

    /// Data rows so far.
    pub fn rows(&self) -> u64 {
        self.list.rows
    }

    /// The list, sorted and without repeats.
    pub fn finish(mut self) -> ParsedList {
        if self.import.is_none() && !self.header_failed {
            match self.first_missing {
                Some(missing) => self.list.rejected.extend(missing),
                None => self.list.rejected.push(empty_file()),
            }
        }
        let repeats = sort_and_dedupe(&mut self.list.certs);
        (self.list.duplicates, self.list.conflicts) = (repeats.duplicates, repeats.conflicts);
        self.list
    }
}

/// Where a parse has got to, for a progress meter on another thread.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of the text done.
    pub bytes: AtomicU64,
    /// Data rows done.
    pub rows: AtomicU64,
}

/// Lines between two progress updates (and two looks at whether another range gave up).
const REPORT_EVERY: usize = 1 << 14;

/// Parses a provider list CSV held in memory on `ranges` threads (at least one). `None` when the
/// text needs the full parser (a quote, a lone `\r`, bytes that are not UTF-8): stream it instead.
/// Otherwise the same list [`StreamedList`] gives for the same bytes and arguments. The text is
/// freed before the runs are merged: the merged list takes memory already in use (memory a
/// process touches for the first time is slow to get, most of all on a virtual machine).
pub fn parse_plain_csv(
    bytes: Vec<u8>,
    provider: Option<&str>,
    as_of: Date,
    header_search: usize,
    ranges: usize,
    progress: &Progress,
) -> Option<ParsedList> {
    let (mut runs, data_line) = match sorted_runs(&bytes, provider, as_of, header_search, ranges, progress)? {
        Runs::Sorted { runs, data_line } => (runs, data_line),
        Runs::NoHeader(rejected) => return Some(ParsedList { rejected, ..ParsedList::default() }),
    };
    drop(bytes);
    // One provider table, in the order the whole list first names them.
    let mut providers = Providers::default();
    let mut first_line = data_line;
    let fixes: Vec<(usize, Vec<u16>)> = runs
        .iter()
        .map(|r| {
            let fix = (first_line, providers.absorb(&r.providers));
            first_line += r.lines;
            fix
        })
        .collect();
    std::thread::scope(|s| {
        for (run, (first_line, map)) in runs.iter_mut().zip(&fixes) {
            s.spawn(move || run.renumber(*first_line, map));
        }
    });
    let mut list = ParsedList { providers, ..ParsedList::default() };
    let mut sorted = Vec::with_capacity(runs.len());
    for run in runs {
        list.rows += run.rows;
        list.rejected.extend(run.rejected);
        sorted.push(run.certs);
    }
    let (certs, repeats) = merge_and_dedupe(sorted);
    (list.certs, list.duplicates, list.conflicts) = (certs, repeats.duplicates, repeats.conflicts);
    Some(list)
}

enum Runs {
    /// Each range of lines after the header, checked and sorted; the first data line's number.
    Sorted { runs: Vec<Run>, data_line: usize },
    /// No header: what to report.
    NoHeader(Vec<RowIssue>),
}

/// The header found and each range of lines after it checked and sorted on its own thread.
/// `None`: the text is not plain.
fn sorted_runs(
    bytes: &[u8],
    provider: Option<&str>,
    as_of: Date,
    header_search: usize,
    ranges: usize,
    progress: &Progress,
) -> Option<Runs> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (import, data_at, data_line) = match find_header(bytes, provider, as_of, header_search)? {
        Header::Found { import, data_at, data_line } => (*import, data_at, data_line),
        Header::Missing(rejected) => return Some(Runs::NoHeader(rejected)),
    };
    progress.bytes.fetch_add(data_at as u64, Ordering::Relaxed);
    let data = &bytes[data_at..];
    let gave_up = AtomicBool::new(false);
    let parts = split_at_lines(data, ranges.max(1));
    // Each range numbers its lines from 0 and sorts its certificates by its own provider indices;
    // the numbers and indices are made the list's afterwards.
    let sorted_range = |r: Range<usize>| {
        let mut run = parse_range(&import, &data[r], progress, &gave_up)?;
        sort_run(&mut run.certs);
        Some(run)
    };
    let runs: Vec<Option<Run>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts[1..].iter().map(|r| s.spawn(|| sorted_range(r.clone()))).collect();
        let mut runs = vec![sorted_range(parts[0].clone())];
        runs.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        runs
    });
    Some(Runs::Sorted { runs: runs.into_iter().collect::<Option<Vec<Run>>>()?, data_line })
}

enum Header {
    /// The header's import, where the data starts (byte offset) and its first line number.
    Found { import: Box<ProviderListImport>, data_at: usize, data_line: usize },
    /// No header: what to report.
    Missing(Vec<RowIssue>),
}

/// The header as [`StreamedList`] finds it, line by line. `None`: a line before it is not plain.
fn find_header(bytes: &[u8], provider: Option<&str>, as_of: Date, header_search: usize) -> Option<Header> {
    let (mut at, mut line_no, mut tries) = (0, 0, 0);
    let mut first_missing = None;
    while at < bytes.len() {
        let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| at + i + 1);
        let text = plain(&bytes[at..end])?;
        at = end;
        line_no += 1;
        let Some(line) = record_line(text) else { continue };
        let record = Record { row: line_no, fields: line.split(',').map(str::to_owned).collect() };
        match ProviderListImport::new(&record, provider, as_of) {
            Ok(import) => {
                return Some(Header::Found {
                    import: Box::new(import.without_dedupe()),
                    data_at: at,
                    data_line: line_no + 1,
                })
            }
            Err(missing) => {
                tries += 1;
                first_missing.get_or_insert(missing);
                if tries == header_search {
                    break;
                }
            }
        }
    }
    Some(Header::Missing(first_missing.unwrap_or_else(|| vec![empty_file()])))
}

/// The text of a run of whole lines when the unquoted CSV rules apply to it: UTF-8, no quote,
/// every `\r` followed by `\n` (as the streaming reader's fast path requires).
pub fn plain(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let b = text.as_bytes();
    let lone_cr = || text.match_indices('\r').any(|(i, _)| b.get(i + 1) != Some(&b'\n'));
    (!text.contains('"') && !lone_cr()).then_some(text)
}

/// A line (without its `\n`) as a record's text: a `\r` before the `\n` and a leading BOM
/// dropped; `None` for a blank line (no comma, white space only), skipped but counted.
pub fn record_line(line: &str) -> Option<&str> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    (line.contains(',') || !line.trim().is_empty()).then_some(line)
}

/// `n` ranges of `data` (fewer when it is short), each ending just after a `\n` but the last.
fn split_at_lines(data: &[u8], n: usize) -> Vec<Range<usize>> {
    let mut bounds = vec![0];
    for k in 1..n {
        let from = (data.len() / n * k).max(bounds[bounds.len() - 1]);
        let end = data[from..].iter().position(|&b| b == b'\n').map_or(data.len(), |i| from + i + 1);
        bounds.push(end);
    }
    bounds.push(data.len());
    bounds.dedup();
    if bounds.len() == 1 {
        bounds.push(0);
    }
    bounds.windows(2).map(|w| w[0]..w[1]).collect()
}

/// What one range of lines gives: its certificates sorted by (key, row), with row numbers
/// counted from 0 at the range's first line and providers indexing `providers`.
struct Run {
    certs: Vec<CompactCert>,
    providers: Providers,
    rejected: Vec<RowIssue>,
    rows: u64,
    /// Lines in the range, blank ones too.
    lines: usize,
}

impl Run {
    /// Makes the row numbers the file's (the range starts at line `first_line`) and the provider
    /// indices the list's (`map[local]`), keeping the run sorted.
    fn renumber(&mut self, first_line: usize, map: &[u16]) {
        let offset = u32::try_from(first_line).unwrap_or(u32::MAX);
        for issue in &mut self.rejected {
            issue.row += first_line;
        }
        let remapped = map.iter().enumerate().any(|(i, &to)| usize::from(to) != i);
        for c in &mut self.certs {
            c.row = c.row.saturating_add(offset);
            if remapped {
                c.provider = map.get(usize::from(c.provider)).copied().unwrap_or(u16::MAX);
            }
        }
        if remapped {
            // Still sorted by ID number: only certificates of one ID number may now be out of order.
            for group in self.certs.chunk_by_mut(|a, b| a.id == b.id) {
                if group.len() > 1 {
                    sort_run(group);
                }
            }
        }
    }
}

/// Bytes the range loop stops at.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'"' as usize] = true;
    t
};

/// Checks each line of `bytes` (numbered from 0) as [`ProviderListImport::row`] would, split in
/// one pass with fields borrowed from the text (the rules of [`record_line`]). `None` if the text
/// is not plain or another range gave up.
fn parse_range(import: &ProviderListImport, bytes: &[u8], progress: &Progress, gave_up: &AtomicBool) -> Option<Run> {
    let give_up = || {
        gave_up.store(true, Ordering::Relaxed);
        None
    };
    let Ok(text) = std::str::from_utf8(bytes) else { return give_up() };
    let mut run = Run {
        certs: Vec::with_capacity(bytes.len() / 48),
        providers: Providers::default(),
        rejected: Vec::new(),
        rows: 0,
        lines: 0,
    };
    let mut fields: Vec<&str> = Vec::with_capacity(8);
    let (mut reported_at, mut reported_rows) = (0usize, 0u64);
    let mut line = 0;
    let mut line_start = 0;
    let mut field_start = bom_end(bytes, 0);
    let row_end = |run: &mut Run, fields: &mut Vec<&'_ str>, row: usize| {
        // A line without a comma that is white space only is blank: skipped, counted.
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            run.rows += 1;
            match import.check(row, fields) {
                Ok(c) => run.certs.push(CompactCert::checked(&c, row, &mut run.providers)),
                Err(issue) => run.rejected.push(issue),
            }
        }
        fields.clear();
    };
    for (i, &b) in bytes.iter().enumerate() {
        if !SPECIAL[usize::from(b)] {
            continue;
        }
        match b {
            b',' => {
                fields.push(&text[field_start..i]);
                field_start = i + 1;
            }
            b'\n' => {
                let end = if i > field_start && bytes[i - 1] == b'\r' { i - 1 } else { i };
                fields.push(&text[field_start..end]);
                row_end(&mut run, &mut fields, line);
                line += 1;
                line_start = i + 1;
                field_start = bom_end(bytes, line_start);
                if line % REPORT_EVERY == 0 {
                    if gave_up.load(Ordering::Relaxed) {
                        return None;
                    }
                    progress.bytes.fetch_add((line_start - reported_at) as u64, Ordering::Relaxed);
                    progress.rows.fetch_add(run.rows - reported_rows, Ordering::Relaxed);
                    (reported_at, reported_rows) = (line_start, run.rows);
                }
            }
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {}
            _ => return give_up(),
        }
    }
    if line_start < bytes.len() {
        fields.push(&text[field_start..]);
        row_end(&mut run, &mut fields, line);
        line += 1;
    }
    run.lines = line;
    progress.bytes.fetch_add((bytes.len() - reported_at) as u64, Ordering::Relaxed);
    progress.rows.fetch_add(run.rows - reported_rows, Ordering::Relaxed);
    Some(run)
}

/// Where a line starting at `at` starts its first field: after a BOM, if it has one.
fn bom_end(bytes: &[u8], at: usize) -> usize {
    if bytes[at..].starts_with(b"\xef\xbb\xbf") {
        at + 3
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::CsvRecords;
    use time::Month;

    const SEARCH: usize = 10;

    fn as_of() -> Date {
        Date::from_calendar_date(2026, Month::March, 1).unwrap()
    }

    fn streamed(bytes: &[u8], provider: Option<&str>) -> ParsedList {
        let mut list = StreamedList::new(provider, as_of(), SEARCH);
        for record in CsvRecords::new(bytes) {
            if !list.push(record) {
                break;
            }
        }
        list.finish()
    }

    fn same_as_streamed(bytes: &[u8], provider: Option<&str>) -> ParsedList {
        let expected = streamed(bytes, provider);
        for ranges in 1..=5 {
            let progress = Progress::default();
            let fast =
                parse_plain_csv(bytes.to_vec(), provider, as_of(), SEARCH, ranges, &progress).expect("plain CSV");
            assert_eq!(fast, expected, "{ranges} ranges, --provider {provider:?}");
            assert_eq!(progress.rows.load(Ordering::Relaxed), expected.rows);
        }
        expected
    }

    /// Title rows, a BOM, CRLF and LF, blank lines, every kind of bad row and repeats on both
    /// sides of wherever the text is split.
    const LIST: &str = "\u{feff}Danh sách chứng thư số,,\r\n\
        \r\n\
        Ngày 01/03/2026\n\
        Số CCCD,Nhà cung cấp,Ngày cấp,Ngày hết hạn,Tình trạng,Ngày thu hồi\r\n\
        019190000001,VNPT-CA,05/01/2026,05/01/2027,Đang hoạt động,\r\n\
        019190000002,Viettel-CA,2026-01-06T00:00:00,,Thu hồi,\n\
        \n\
        \x20  \t\r\n\
        ,,\n\
        01919000000X,VNPT-CA,05/01/2026,,,\n\
        019190000003,VNPT-CA,31/02/2026,,,\n\
        019190000004,VNPT-CA,05/01/2026,,tạm dừng,\n\
        019190000005, vnpt-ca ,05/01/2026,01/01/2026,,\n\
        019190000006,VNPT-CA,05/01/2026,,revoked,01/01/2026\n\
        019190000007,,05/01/2026,,,\n\
        019190000001,VNPT-CA,05/01/2026,,expired,\r\n\
        019190000008,FPT-CA,05/01/2026\n\
        019190000008,Công-ty CA,05/01/2026,,,\n\
        019190000002,VIETTEL-CA,06/01/2026,,,\n\
        \u{feff}019190000009,fpt-ca,07/01/2026,,HẾT HẠN,\n\
        019190000001,vnpt-ca,05/01/2026,,,\r\n\
        019190000008,CÔNG-TY CA,05/01/2026,,,\n\
        019190000010,VNPT-CA,2026-01-07,,active,\n\
        019190000002,viettel-ca,06/01/2026,,,\n\
        \n\
        019190000011,BKAV-CA,07/01/2026,,,\n\
        019190000008,FPT-CA,05/01/2026,,,";

    #[test]
    fn the_fast_path_gives_what_streaming_gives() {
        let list = same_as_streamed(LIST.as_bytes(), None);
        assert_eq!(list.rows, 20);
        let dup: Vec<_> = list.duplicates.iter().map(|d| (d.row, d.reason.as_str())).collect();
        assert_eq!(dup, [(21, "duplicate of row 5"), (22, "duplicate of row 18"), (27, "duplicate of row 17")]);
        // the same certificate said expired (16) or active (19, 24) after a row said otherwise:
        // conflicts, both rows named; the earlier end counts
        let conflicts: Vec<_> = list.conflicts.iter().map(|d| (d.row, &d.reason[..23])).collect();
        assert_eq!(
            conflicts,
            [(16, "conflicts with row 5: r"), (19, "conflicts with row 6: r"), (24, "conflicts with row 6: r")]
        );
        assert!(
            list.conflicts[0].reason.contains("row 5 says expiry 2027-01-05, status active"),
            "{:?}",
            list.conflicts
        );
        assert!(list.conflicts[0].reason.contains("row 16 says expiry none, status expired, ended 2026-03-01"));
        let bad: Vec<_> = list.rejected.iter().map(|r| (r.row, r.field)).collect();
        assert_eq!(
            bad,
            [
                (9, Some("id_number")),
                (10, Some("id_number")),
                (11, Some("issue_date")),
                (12, Some("status")),
                (13, Some("expiry_date")),
                (14, Some("revoked_date")),
                (15, Some("provider")),
            ]
        );
        assert_eq!(list.providers.names(), ["VNPT-CA", "VIETTEL-CA", "FPT-CA", "CÔNG-TY CA", "BKAV-CA"]);
        assert_eq!(list.providers.shown()[1], "Viettel-CA", "the first writing is kept");
        // A list of one provider: the column must agree with it.
        let list = same_as_streamed(LIST.as_bytes(), Some("vnpt-ca"));
        assert!(list.rejected.iter().any(|r| r.reason == "Viettel-CA, but this list is from vnpt-ca"));
        assert!(list.rejected.iter().all(|r| r.row != 15), "an empty cell names the list's provider");
        assert_eq!(list.providers.names(), ["VNPT-CA"]);
    }

    #[test]
    fn a_long_list_splits_anywhere_the_same() {
        let mut text = String::from("id_number,provider,issue_date,expiry_date,status\n");
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..3000 {
            let id = 19_190_000_000 + next(400);
            let provider = ["VNPT-CA", "Viettel-CA", "fpt-ca", "CA2"][next(4) as usize];
            let eol = if next(3) == 0 { "\r\n" } else { "\n" };
            let status = ["", "active", "thu hồi", "bad"][next(4) as usize];
            text += &format!("{id:012},{provider},0{}/01/2026,,{status}{eol}", 1 + next(3));
            if next(50) == 0 {
                text += "\n";
            }
        }
        let list = same_as_streamed(text.as_bytes(), None);
        assert!(list.duplicates.len() > 100 && list.rejected.len() > 100, "{list:?}");
    }

    #[test]
    fn missing_headers_are_reported_as_streaming_reports_them() {
        let titles: String = (1..=12).map(|i| format!("title {i}\n")).collect();
        for text in [
            "",
            "\u{feff}",
            "\n \n\r\n",
            "ngay_cap,so_cccd\n019190000001,05/01/2026\n",
            titles.as_str(),
            &format!("{titles}id_number,provider,issue_date\n"),
            "id_number,issue_date\n019190000001,05/01/2026\n",
        ] {
            let expected = streamed(text.as_bytes(), None);
            assert!(expected.certs.is_empty() && !expected.rejected.is_empty(), "{text:?}");
            let fast = parse_plain_csv(text.as_bytes().to_vec(), None, as_of(), SEARCH, 2, &Progress::default());
            assert_eq!(fast, Some(expected), "{text:?}");
        }
    }

    #[test]
    fn text_that_needs_the_full_parser_is_left_to_it() {
        let head = "id_number,provider,issue_date\n019190000001,VNPT-CA,05/01/2026\n";
        for tail in ["\"019190000002\",VNPT-CA,05/01/2026\n", "019190000002,VNPT\rCA,05/01/2026\n", "x\r"] {
            let text = format!("{head}{tail}");
            for ranges in 1..=3 {
                let fast =
                    parse_plain_csv(text.as_bytes().to_vec(), None, as_of(), SEARCH, ranges, &Progress::default());
                assert!(fast.is_none(), "{text:?}");
            }
        }
        let mut bad = head.as_bytes().to_vec();
        bad.extend_from_slice(b"01919000000\xff,VNPT-CA,05/01/2026\n");
        assert!(parse_plain_csv(bad, None, as_of(), SEARCH, 2, &Progress::default()).is_none());
        let quoted_title = b"\"title\"\nid_number".to_vec();
        assert!(parse_plain_csv(quoted_title, None, as_of(), SEARCH, 2, &Progress::default()).is_none());
    }

    #[test]
    fn ranges_end_at_line_ends() {
        let data = b"aaaa\nbb\ncccccc\nd";
        for n in 1..=6 {
            let parts = split_at_lines(data, n);
            assert_eq!(parts.first().map(|r| r.start), Some(0));
            assert_eq!(parts.last().map(|r| r.end), Some(data.len()));
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start && data[w[0].end - 1] == b'\n'), "{parts:?}");
        }
        assert_eq!(split_at_lines(b"", 2), vec![Range { start: 0, end: 0 }]);
    }
}
