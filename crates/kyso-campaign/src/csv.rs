//! A small CSV reader (RFC 4180 quoting, CRLF/LF, UTF-8 with or without BOM) and the import report
//! every importer returns: good rows kept, bad rows named by row number, field and reason.
//!
//! Row numbers are what a spreadsheet shows: the header is row 1, the first data row is row 2, and
//! a quoted field spanning several lines still makes one row. Blank lines are skipped but counted.

use std::fmt;
use std::io::Read;

use time::{Date, Month};

/// One problem in one row. `field` is the canonical column name (`None` for row-level problems
/// such as a wrong number of fields). Messages never quote an ID number in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// The line of the file (or the spreadsheet's row), the header being its own row.
    pub row: usize,
    pub field: Option<&'static str>,
    pub reason: String,
    /// The list's own row number (its `STT` column) when it has one: what officers go by.
    pub stt: Option<String>,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stt {
            Some(stt) => write!(f, "STT {stt} (row {})", self.row)?,
            None => write!(f, "row {}", self.row)?,
        }
        match self.field {
            Some(field) => write!(f, ", field {}: {}", field, self.reason),
            None => write!(f, ": {}", self.reason),
        }
    }
}

impl std::error::Error for RowIssue {}

impl RowIssue {
    pub fn new(row: usize, field: Option<&'static str>, reason: impl Into<String>) -> Self {
        Self { row, field, reason: reason.into(), stt: None }
    }

    /// The issue named by the list's STT as well (an empty or over-long cell is left out).
    pub fn with_stt(mut self, stt: Option<&str>) -> Self {
        self.stt = stt_text(stt);
        self
    }
}

/// An STT cell as an issue quotes it: an empty or over-long cell (not a row number) is left out.
pub fn stt_text(stt: Option<&str>) -> Option<String> {
    stt.filter(|s| !s.is_empty() && s.chars().count() <= 20).map(str::to_owned)
}

/// The headers a list's own row-number column goes by (`STT`, `Số TT`, `Số thứ tự`, `TT`).
pub const STT_ALIASES: &[&str] = &["stt", "so_tt", "so_thu_tu", "tt", "no", "row_no"];

/// The list's row-number column: optional, never checked, only quoted in issues.
pub fn stt_column() -> Column {
    Column { name: "stt", aliases: STT_ALIASES, required: false }
}

/// The result of an import: the rows that passed, the rows rejected (`errors`) and the rows kept
/// with a doubt worth a look (`warnings`). A missing column is an error on row 1 and imports nothing.
#[derive(Debug, Clone)]
pub struct ImportReport<T> {
    pub items: Vec<T>,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
}

impl<T> Default for ImportReport<T> {
    fn default() -> Self {
        Self { items: Vec::new(), errors: Vec::new(), warnings: Vec::new() }
    }
}

impl<T> ImportReport<T> {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.warnings.is_empty()
    }
}

/// Reads a caller-opened source to a string; the only place this crate touches a reader.
pub fn read_utf8(mut reader: impl Read) -> std::io::Result<String> {
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    Ok(text)
}

/// One record: its spreadsheet row number and its fields (unquoted, not trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub row: usize,
    pub fields: Vec<String>,
}

/// Splits CSV text into records. An unterminated quote is reported for the row it starts on;
/// the reader then stops, because everything after it was swallowed by the open quote.
pub fn records(input: &str) -> (Vec<Record>, Option<RowIssue>) {
    let mut out = Vec::new();
    for r in CsvRecords::new(input.as_bytes()) {
        match r {
            Ok(r) => out.push(r),
            // Text is UTF-8: the only error is the open quote, and it ends the stream.
            Err(issue) => return (out, Some(issue)),
        }
    }
    (out, None)
}

/// Streams CSV records from a reader the caller opened (a file of a million rows never sits in
/// memory): same rules as [`records`] (BOM, quoting, CRLF/LF/CR, blank lines skipped but counted,
/// a line of spaces is a blank line). Bytes that are not UTF-8 reject their row (named with the
/// byte offset in the file); an unterminated quote is reported for the row it starts on and ends
/// the stream.
///
/// The splitting is csv-core's (RFC 4180 quoting; about twice as fast as the reader it replaced,
/// docs/BENCHMARKS.md); this type adds what a spreadsheet user is told: row numbers as the
/// spreadsheet shows them (one per record however many lines its quoted fields span, blank lines
/// counted), UTF-8 checked per row, and the open quote at the end of the file.
pub struct CsvRecords<R> {
    reader: R,
    csv: csv_core::Reader,
    row: usize,
    offset: u64,
    /// The current record as it is in the file (quotes and line ending included).
    raw: Vec<u8>,
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// The last record ended with `\r`: a `\n` right after it is the same line ending.
    after_cr: bool,
    done: bool,
}

impl<R: std::io::BufRead> CsvRecords<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            csv: csv_core::Reader::new(),
            row: 0,
            offset: 0,
            raw: Vec::new(),
            fields: vec![0; 1024],
            ends: vec![0; 32],
            after_cr: false,
            done: false,
        }
    }

    /// Bytes consumed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn read_error(&self, e: std::io::Error) -> RowIssue {
        RowIssue::new(self.row + 1, None, format!("cannot read the file: {e}"))
    }

    /// Skips blank lines, counting them, and byte order marks (at the start of the file, or of a
    /// line where files were joined). `false` at the end of the input.
    fn skip_blank_lines(&mut self) -> Result<bool, RowIssue> {
        loop {
            let (first, bom) = match self.reader.fill_buf() {
                Ok(buf) => (buf.first().copied(), buf.starts_with(b"\xef\xbb\xbf")),
                Err(e) => return Err(self.read_error(e)),
            };
            let skip = match first {
                None => return Ok(false),
                Some(b'\n') if std::mem::take(&mut self.after_cr) => 1,
                Some(b'\n') => {
                    self.row += 1;
                    1
                }
                Some(b'\r') => {
                    self.row += 1;
                    self.after_cr = true;
                    1
                }
                Some(_) if bom => {
                    self.after_cr = false;
                    3
                }
                Some(_) => {
                    self.after_cr = false;
                    return Ok(true);
                }
            };
            self.reader.consume(skip);
            self.offset += skip as u64;
        }
    }

    /// Reads one record into `raw`, `fields` and `ends`; returns the bytes and the count of its
    /// fields, or the open-quote issue.
    fn read_record(&mut self, row: usize) -> Result<(usize, usize), RowIssue> {
        use csv_core::ReadRecordResult as R;
        let (mut nout, mut nend) = (0, 0);
        self.raw.clear();
        loop {
            let input = match self.reader.fill_buf() {
                Ok(input) => input,
                Err(e) => return Err(RowIssue::new(row, None, format!("cannot read the file: {e}"))),
            };
            let at_end = input.is_empty();
            if at_end && ends_in_quotes(&self.raw) {
                return Err(RowIssue::new(row, None, "a quoted field is never closed"));
            }
            let (res, nin, o, e) = self.csv.read_record(input, &mut self.fields[nout..], &mut self.ends[nend..]);
            self.raw.extend_from_slice(&input[..nin]);
            self.reader.consume(nin);
            self.offset += nin as u64;
            (nout, nend) = (nout + o, nend + e);
            match res {
                R::InputEmpty if !at_end => {}
                R::OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::InputEmpty | R::Record | R::End => return Ok((nout, nend)),
            }
        }
    }

    /// The next record, or the row rejected for bytes that are not UTF-8; `Err` ends the stream.
    fn next_record(&mut self) -> Result<Option<Result<Record, RowIssue>>, RowIssue> {
        loop {
            if !self.skip_blank_lines()? {
                return Ok(None);
            }
            self.row += 1;
            let (row, start) = (self.row, self.offset);
            let (nout, nend) = self.read_record(row)?;
            self.after_cr = self.raw.last() == Some(&b'\r');
            let not_utf8 = |e: std::str::Utf8Error| {
                let at = start + e.valid_up_to() as u64;
                RowIssue::new(row, None, format!("not UTF-8 text (byte {at} of the file)"))
            };
            let text = match std::str::from_utf8(&self.fields[..nout]) {
                Ok(text) => text,
                // Named by its place in the file, quotes counted.
                Err(e) => return Ok(Some(Err(not_utf8(std::str::from_utf8(&self.raw).err().unwrap_or(e))))),
            };
            let mut from = 0;
            let fields: Vec<String> = self.ends[..nend]
                .iter()
                .map(|&end| {
                    let field = text[from..end].to_owned();
                    from = end;
                    field
                })
                .collect();
            // A line of spaces is a blank line (counted, skipped).
            if !(fields.is_empty() || fields.len() == 1 && fields[0].trim().is_empty()) {
                return Ok(Some(Ok(Record { row, fields })));
            }
        }
    }
}

/// Whether the last record of a file, `raw` (without a line ending), ends inside a quoted field:
/// it then swallowed the rest of the file. The parser does not say so; parsed again, a line break
/// after it is data inside the quotes rather than the end of the record.
fn ends_in_quotes(raw: &[u8]) -> bool {
    let mut csv = csv_core::Reader::new();
    let fields = raw.iter().filter(|&&b| b == b',').count() + 2;
    let (mut out, mut ends) = (vec![0u8; raw.len() + 1], vec![0usize; fields]);
    let (_, _, nout, nend) = csv.read_record(raw, &mut out, &mut ends);
    let (res, ..) = csv.read_record(b"\n", &mut out[nout..], &mut ends[nend..]);
    res != csv_core::ReadRecordResult::Record
}

impl<R: std::io::BufRead> Iterator for CsvRecords<R> {
    type Item = Result<Record, RowIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(next) => {
                self.done = next.is_none();
                next
            }
            Err(issue) => {
                self.done = true;
                Some(Err(issue))
            }
        }
    }
}

/// Folds a header or a free-text value for comparison: lower case, Vietnamese diacritics removed
/// (precomposed or combining), spaces and dashes to `_`. `Số định danh` → `so_dinh_danh`.
pub fn fold(text: &str) -> String {
    const GROUPS: [(char, &str); 7] = [
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    let text = text.trim();
    if text.is_ascii() {
        return text.bytes().map(|b| char::from(fold_ascii(b))).collect();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let base = GROUPS.iter().find(|(_, variants)| variants.contains(c)).map_or(c, |(b, _)| *b);
        out.push(match base {
            ' ' | '-' => '_',
            other => other,
        });
    }
    out
}

fn fold_ascii(b: u8) -> u8 {
    if b == b' ' || b == b'-' {
        b'_'
    } else {
        b.to_ascii_lowercase()
    }
}

/// Calls `f` with [`fold`]`(text)`, without allocating when the text is short ASCII (a status
/// cell on each of millions of rows).
pub fn with_folded<T>(text: &str, f: impl FnOnce(&str) -> T) -> T {
    let trimmed = trim(text);
    let mut buf = [0u8; 32];
    if trimmed.is_ascii() && trimmed.len() <= buf.len() {
        let folded = &mut buf[..trimmed.len()];
        for (out, b) in folded.iter_mut().zip(trimmed.bytes()) {
            *out = fold_ascii(b);
        }
        if let Ok(folded) = std::str::from_utf8(folded) {
            return f(folded);
        }
    }
    f(&fold(text))
}

/// Column positions of a header, looked up by canonical name through a list of accepted aliases.
pub struct Columns {
    /// (canonical name, position): a handful, so a scan beats hashing the name on every lookup.
    positions: Vec<(&'static str, usize)>,
}

/// A canonical column, its accepted (folded) aliases and whether it must be present.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl Columns {
    /// Maps a header record; missing required columns are reported on row 1, by canonical name.
    pub fn map(header: &Record, wanted: &[Column]) -> Result<Self, Vec<RowIssue>> {
        let folded: Vec<String> = header.fields.iter().map(|h| fold(h)).collect();
        let mut positions = Vec::new();
        let mut missing = Vec::new();
        for column in wanted {
            match folded.iter().position(|h| column.aliases.contains(&h.as_str()) || h == column.name) {
                Some(at) => {
                    positions.push((column.name, at));
                }
                None if column.required => missing.push(RowIssue::new(
                    header.row,
                    Some(column.name),
                    format!("missing column (accepted headers: {})", column.aliases.join(", ")),
                )),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(Self { positions })
        } else {
            Err(missing)
        }
    }

    /// The trimmed value of a column in a record; `None` when the column is absent or the cell empty.
    pub fn get<'r>(&self, record: &'r Record, name: &str) -> Option<&'r str> {
        self.value(&record.fields, name)
    }

    /// [`Columns::get`] on a row's fields as owned or borrowed strings (a row split in place).
    pub fn value<'f, S: AsRef<str>>(&self, fields: &'f [S], name: &str) -> Option<&'f str> {
        cell(fields, self.position(name))
    }

    /// Where a column is in each row (looked up once for rows by the million, see [`cell`]).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.positions.iter().find(|(n, _)| *n == name).map(|&(_, at)| at)
    }

    pub fn has(&self, name: &str) -> bool {
        self.positions.iter().any(|(n, _)| *n == name)
    }
}

/// The trimmed cell at a column position of a row; `None` when absent or empty.
pub fn cell<S: AsRef<str>>(fields: &[S], at: Option<usize>) -> Option<&str> {
    fields.get(at?).map(|s| trim(s.as_ref())).filter(|s| !s.is_empty())
}

/// [`str::trim`], without looking at characters when the text starts and ends with a visible
/// ASCII character (almost every cell).
pub fn trim(text: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x7f);
    if visible(text.as_bytes().first()) && visible(text.as_bytes().last()) {
        text
    } else {
        text.trim()
    }
}

/// Runs the common import loop: split records, map the header, hand each data row to `row_fn`.
/// `row_fn` returns the item, or the issue that rejects the row; it may push warnings.
pub fn import<T>(
    input: &str,
    wanted: &[Column],
    mut row_fn: impl FnMut(&Columns, &Record, &mut Vec<RowIssue>) -> Result<T, RowIssue>,
) -> ImportReport<T> {
    import_with(
        input,
        |header| Columns::map(header, wanted),
        |columns, record, report| match row_fn(columns, &record, &mut report.warnings) {
            Ok(item) => report.items.push(item),
            Err(issue) => report.errors.push(issue),
        },
    )
}

/// The import loop under [`import`] and the importers with their own row reader: split records,
/// build the reader from the header (`Err`: the missing columns, reported on row 1), hand it each
/// data row with the report to fill. An empty file is an error on row 1.
pub fn import_with<T, R>(
    input: &str,
    reader: impl FnOnce(&Record) -> Result<R, Vec<RowIssue>>,
    mut row_fn: impl FnMut(&mut R, Record, &mut ImportReport<T>),
) -> ImportReport<T> {
    let mut report = ImportReport::default();
    let (records, broken) = records(input);
    let mut rows = records.into_iter();
    let Some(header) = rows.next() else {
        report.errors.push(RowIssue::new(1, None, "the file is empty: expected a header row"));
        return report;
    };
    let mut reader = match reader(&header) {
        Ok(reader) => reader,
        Err(missing) => {
            report.errors = missing;
            return report;
        }
    };
    for record in rows {
        row_fn(&mut reader, record, &mut report);
    }
    report.errors.extend(broken);
    report
}

/// Parses a date written `dd/mm/yyyy` (Vietnamese forms, also `d/m/yyyy` and `dd-mm-yyyy`) or
/// `yyyy-mm-dd`. Returns a reason fit for a [`RowIssue`] when it is not a real calendar date.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let not_a_date = || format!("'{text}' is not a date (use dd/mm/yyyy or yyyy-mm-dd)");
    let trimmed = trim(text);
    let (year, month, day) = match ten_digit_date(trimmed.as_bytes()) {
        Some(ymd) => ymd,
        None => {
            let mut parts = trimmed.split(['/', '-', '.']);
            let mut next = || parts.next().map(|p| (p.len(), p.parse::<u32>().ok()));
            let (a, b, c) = (next(), next(), next());
            if next().is_some() {
                return Err(not_a_date());
            }
            match (a, b, c) {
                (Some((4, Some(y))), Some((_, Some(m))), Some((_, Some(d)))) => (y, m, d),
                (Some((_, Some(d))), Some((_, Some(m))), Some((4, Some(y)))) => (y, m, d),
                _ => return Err(not_a_date()),
            }
        }
    };
    let month = u8::try_from(month).ok().and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(day).ok();
    match (month, day) {
        (Some(month), Some(day)) => Date::from_calendar_date(year as i32, month, day)
            .map_err(|_| format!("'{text}' is not a real calendar date")),
        _ => Err(format!("'{text}' is not a real calendar date")),
    }
}

/// (year, month, day) of `yyyy-mm-dd` or `dd/mm/yyyy` (any of the three separators, the same
/// both times or not), read as [`parse_date`]'s general split reads them; `None` for other shapes.
fn ten_digit_date(b: &[u8]) -> Option<(u32, u32, u32)> {
    let sep = |c: u8| matches!(c, b'/' | b'-' | b'.');
    let num = |s: &[u8]| s.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')));
    if b.len() != 10 {
        return None;
    }
    if sep(b[4]) && sep(b[7]) {
        Some((num(&b[..4])?, num(&b[5..7])?, num(&b[8..])?))
    } else if sep(b[2]) && sep(b[5]) {
        Some((num(&b[6..])?, num(&b[3..5])?, num(&b[..2])?))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_commas_crlf_and_bom() {
        let text = "\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n\"multi\nline\",z\n3,4";
        let (recs, broken) = records(text);
        assert!(broken.is_none());
        assert_eq!(recs[0].fields, ["a", "b"]);
        assert_eq!(recs[1], Record { row: 2, fields: vec!["x, y".into(), "say \"hi\"".into()] });
        // The blank line is row 3; the multi-line record is row 4, one row as in a spreadsheet.
        assert_eq!(recs[2].row, 4);
        assert_eq!(recs[2].fields, ["multi\nline", "z"]);
        assert_eq!(recs[3].row, 5);
    }

    #[test]
    fn rows_as_a_spreadsheet_counts_them() {
        // A quote inside an unquoted field is data, and the rows after it keep their numbers.
        let (recs, broken) = records("a\"b,c\nd,e\"\nf\n");
        assert!(broken.is_none());
        assert_eq!(
            recs.iter().map(|r| (r.row, r.fields.join("|"))).collect::<Vec<_>>(),
            [(1, "a\"b|c".to_string()), (2, "d|e\"".to_string()), (3, "f".to_string())]
        );
        // A lone CR ends a line; CRLF is one line ending; lines of spaces are blank lines.
        let (recs, _) = records("a\rb\r\n\r\n  \nc\n\rd");
        assert_eq!(
            recs.iter().map(|r| (r.row, r.fields[0].as_str())).collect::<Vec<_>>(),
            [(1, "a"), (2, "b"), (5, "c"), (7, "d")]
        );
        // A field of commas and doubled quotes, and an empty quoted field.
        let (recs, _) = records("\"x,\"\"y\"\"\",\"\"\n");
        assert_eq!(recs[0].fields, ["x,\"y\"", ""]);
    }

    #[test]
    fn streamed_and_whole_text_agree_on_random_text() {
        let alphabet = ['a', ',', '"', '\n', '\r', ' ', 'é'];
        let mut seed = 42u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..5_000 {
            let len = next(24);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len() as u64) as usize]).collect();
            let (recs, broken) = records(&text);
            // One byte at a time: records and line endings split across reads.
            let streamed: Vec<_> = CsvRecords::new(std::io::BufReader::with_capacity(1, text.as_bytes())).collect();
            let expected: Vec<_> = recs.into_iter().map(Ok).chain(broken.map(Err)).collect();
            assert_eq!(streamed, expected, "{text:?}");
        }
    }

    #[test]
    fn streamed_records_match_and_name_bad_bytes() {
        let text = "\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n\"multi\nline\",z\n3,4";
        let streamed: Vec<Record> = CsvRecords::new(text.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(streamed, records(text).0);
        let mut bad = b"a,b\n1,2\n".to_vec();
        bad.extend_from_slice(b"3,\xff\n5,6\n\"open,7\n8,9\n");
        let out: Vec<_> = CsvRecords::new(&bad[..]).collect();
        assert_eq!(out[2], Err(RowIssue::new(3, None, "not UTF-8 text (byte 10 of the file)")));
        assert_eq!(out[3].as_ref().unwrap().fields, ["5", "6"]);
        assert_eq!(out[4], Err(RowIssue::new(5, None, "a quoted field is never closed")));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn unterminated_quote_names_its_row() {
        let (recs, broken) = records("a,b\n1,2\n\"open,3\n4,5\n");
        assert_eq!(recs.len(), 2);
        assert_eq!(broken.map(|b| b.row), Some(3));
    }

    #[test]
    fn folds_vietnamese_headers() {
        assert_eq!(fold(" Số định danh "), "so_dinh_danh");
        assert_eq!(fold("Họ và tên"), "ho_va_ten");
        assert_eq!(fold("Mã thôn"), "ma_thon");
        assert_eq!(fold("Nữ"), "nu");
        // Decomposed input (base letter + combining marks) folds the same way.
        assert_eq!(fold("Nu\u{31b}\u{303}"), "nu");
        for text in [" Thu hồi ", "  Da-Thu HOI\t", "", "x".repeat(40).as_str(), "Đang hoạt động"] {
            assert_eq!(with_folded(text, str::to_owned), fold(text), "{text:?}");
        }
    }

    #[test]
    fn dates_in_both_orders_and_only_real_ones() {
        let d = Date::from_calendar_date(2026, Month::July, 31).unwrap();
        assert_eq!(parse_date("31/07/2026"), Ok(d));
        assert_eq!(parse_date("2026-07-31"), Ok(d));
        assert_eq!(parse_date("31-7-2026"), Ok(d));
        assert!(parse_date("29/02/2025").is_err());
        assert!(parse_date("31/04/2026").is_err());
        assert!(parse_date("2026/13/01").is_err());
        assert!(parse_date("hôm qua").is_err());
        // The ten-character shapes read as the general split reads them.
        for text in ["2026-07-31", "31/07/2026", "31.07-2026", "2026/02/30", "00/00/0000", "2026-1a-01", "12/2026/01"] {
            let general = || -> Option<(u32, u32, u32)> {
                let mut parts = text.split(['/', '-', '.']);
                let mut next = || parts.next().map(|p| (p.len(), p.parse::<u32>().ok()));
                match (next(), next(), next(), next()) {
                    (Some((4, Some(y))), Some((_, Some(m))), Some((_, Some(d))), None) => Some((y, m, d)),
                    (Some((_, Some(d))), Some((_, Some(m))), Some((4, Some(y))), None) => Some((y, m, d)),
                    _ => None,
                }
            };
            if let Some(ymd) = ten_digit_date(text.as_bytes()) {
                assert_eq!(Some(ymd), general(), "{text}");
            }
        }
        assert_eq!(trim(" \u{a0}x\t"), "x");
        assert_eq!(trim("a b"), "a b");
    }
}
