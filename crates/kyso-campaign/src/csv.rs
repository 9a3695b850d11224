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
    pub row: usize,
    pub field: Option<&'static str>,
    pub reason: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "row {}, field {}: {}", self.row, field, self.reason),
            None => write!(f, "row {}: {}", self.row, self.reason),
        }
    }
}

impl std::error::Error for RowIssue {}

impl RowIssue {
    pub fn new(row: usize, field: Option<&'static str>, reason: impl Into<String>) -> Self {
        Self { row, field, reason: reason.into() }
    }
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
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    match unquoted_records(input) {
        Some(out) => (out, None),
        None => quoted_records(input),
    }
}

/// [`records`] character by character: quotes, doubled quotes, line breaks inside quotes.
fn quoted_records(input: &str) -> (Vec<Record>, Option<RowIssue>) {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut row = 1;
    let mut record_row = 1;
    let mut chars = input.chars().peekable();
    let finish = |fields: &mut Vec<String>, field: &mut String, out: &mut Vec<Record>, at: usize| {
        fields.push(std::mem::take(field));
        let done = std::mem::take(fields);
        if !(done.len() == 1 && done[0].trim().is_empty()) {
            out.push(Record { row: at, fields: done });
        }
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                finish(&mut fields, &mut field, &mut out, record_row);
                row += 1;
                record_row = row;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return (out, Some(RowIssue::new(record_row, None, "a quoted field is never closed")));
    }
    if !field.is_empty() || !fields.is_empty() {
        finish(&mut fields, &mut field, &mut out, record_row);
    }
    (out, None)
}

/// [`records`] for the common case of text without quotes or lone carriage returns: fields split
/// at commas, lines at `\n` (a `\r` before it dropped), blank lines skipped but counted. `None`
/// when the text needs the full parser.
fn unquoted_records(input: &str) -> Option<Vec<Record>> {
    let b = input.as_bytes();
    let simple = !b.contains(&b'"') && b.iter().enumerate().all(|(i, &c)| c != b'\r' || b.get(i + 1) == Some(&b'\n'));
    if !simple {
        return None;
    }
    let mut out = Vec::new();
    let body = input.strip_suffix('\n').unwrap_or(input);
    if body.is_empty() {
        return Some(out);
    }
    for (i, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.contains(',') && line.trim().is_empty() {
            continue;
        }
        out.push(Record { row: i + 1, fields: line.split(',').map(str::to_owned).collect() });
    }
    Some(out)
}

/// Streams CSV records from a reader the caller opened (a file of a million rows never sits in
/// memory): same rules as [`records`] (BOM, quoting, CRLF/LF, blank lines skipped but counted).
/// Bytes that are not UTF-8 reject their row (named with the byte offset in the file); an
/// unterminated quote is reported for the row it starts on and ends the stream.
pub struct CsvRecords<R> {
    reader: R,
    row: usize,
    offset: u64,
    line: Vec<u8>,
    pending: std::collections::VecDeque<Record>,
    broken: Option<RowIssue>,
    done: bool,
}

impl<R: std::io::BufRead> CsvRecords<R> {
    pub fn new(reader: R) -> Self {
        Self { reader, row: 0, offset: 0, line: Vec::new(), pending: Default::default(), broken: None, done: false }
    }

    /// Bytes consumed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn read_line(&mut self) -> Result<usize, RowIssue> {
        self.line.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| RowIssue::new(self.row + 1, None, format!("cannot read the file: {e}")))?;
        Ok(n)
    }
}

impl<R: std::io::BufRead> Iterator for CsvRecords<R> {
    type Item = Result<Record, RowIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Some(Ok(r));
            }
            if self.done {
                return self.broken.take().map(Err);
            }
            let start_row = self.row + 1;
            let start_offset = self.offset;
            let mut bytes = Vec::new();
            // Read physical lines until the quotes balance: one record.
            loop {
                let n = match self.read_line() {
                    Ok(n) => n,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                };
                if n == 0 {
                    self.done = true;
                    break;
                }
                self.offset += n as u64;
                bytes.extend_from_slice(&self.line);
                if bytes.iter().filter(|&&b| b == b'"').count() % 2 == 0 {
                    break;
                }
            }
            if bytes.is_empty() {
                return None;
            }
            // One row per record, however many lines its quoted fields span (as a spreadsheet counts).
            self.row += 1;
            if start_row == 1 && bytes.starts_with(b"\xef\xbb\xbf") {
                bytes.drain(..3);
            }
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let at = start_offset + e.utf8_error().valid_up_to() as u64;
                    return Some(Err(RowIssue::new(
                        start_row,
                        None,
                        format!("not UTF-8 text (byte {at} of the file)"),
                    )));
                }
            };
            // Usually one record; more when a stray quote inside a field made the lines look open.
            let (recs, broken) = records(&text);
            self.pending.extend(recs.into_iter().map(|mut r| {
                r.row += start_row - 1;
                r
            }));
            if let Some(b) = broken {
                // Everything after an open quote was swallowed by it: report it and stop.
                self.done = true;
                self.broken = Some(RowIssue::new(b.row + start_row - 1, None, b.reason));
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
    fn the_unquoted_fast_path_splits_as_the_full_parser() {
        for text in [
            "a,b\n1,2\n",
            "a,b\r\n1,2\r\n\r\n  \n3,4",
            "\n\nx\n,\n,,\n y ,z\n",
            "h\nTrần Thị Ánh,01/02/2003\n\n",
            "",
            "\n",
            "only",
        ] {
            assert_eq!(unquoted_records(text).expect("simple"), quoted_records(text).0, "{text:?}");
        }
        assert!(unquoted_records("a\rb\n").is_none(), "a lone CR ends a line: the full parser decides");
        assert!(unquoted_records("\"a\",b\n").is_none());
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
