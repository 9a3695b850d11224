//! The reader: the workbook, its relationships, shared strings and styles are read when the file
//! is opened; a sheet is then streamed row by row from its (inflating) ZIP entry.
//!
//! Untrusted input: nothing here panics or indexes unchecked. Every error names the part and,
//! inside a sheet, the cell (`xl/worksheets/sheet1.xml, cell C5: shared string 99 does not exist`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::XmlVersion;
use zip::read::ZipFile;
use zip::ZipArchive;

use crate::capped::{Capped, MAX_OTHER_PART_BYTES, MAX_SHARED_STRINGS_BYTES, MAX_SHEET_BYTES};
use crate::date::{serial_to_ymd, Ymd};
use crate::write::column_name;
use crate::{Error, MAX_COLUMNS, MAX_ROWS};

/// A cell's value as stored. Numbers formatted as dates come out as [`Value::Date`] with the raw
/// serial; the workbook's date system travels with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Serial),
    /// An error value such as `#N/A`.
    Error(String),
}

/// A raw Excel date serial and the workbook's date system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Serial {
    pub value: f64,
    pub date1904: bool,
}

impl Serial {
    pub fn to_ymd(&self) -> Option<Ymd> {
        serial_to_ymd(self.value, self.date1904)
    }
}

/// Integers without a decimal point (`42`, not `42.0`); other numbers in their shortest form.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl Value {
    /// The cell as text: numbers as [`format_number`], booleans `TRUE`/`FALSE`, dates `YYYY-MM-DD`
    /// (with `THH:MM:SS` when the serial has a time of day; the bare number when it is no date).
    pub fn to_text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(t) | Value::Error(t) => t.clone(),
            Value::Number(n) => format_number(*n),
            Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Value::Date(s) => match s.to_ymd() {
                None => format_number(s.value),
                Some(d) if s.value.fract() == 0.0 => d.iso(),
                Some(d) => {
                    let secs = (s.value.fract() * 86_400.0).round() as u32;
                    let secs = secs.min(86_399);
                    format!("{}T{:02}:{:02}:{:02}", d.iso(), secs / 3600, secs / 60 % 60, secs % 60)
                }
            },
        }
    }
}

/// One row: its spreadsheet number (1-based, gaps kept) and its cells from column A, empty cells
/// filled in where the file skipped them.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<Value>,
}

impl Row {
    pub fn texts(&self) -> Vec<String> {
        self.cells.iter().map(Value::to_text).collect()
    }
}

struct Meta {
    /// (name, part path) in workbook order.
    sheets: Vec<(String, String)>,
    shared: Vec<String>,
    /// Per cell format (`s` attribute): whether its number format is a date.
    date_styles: Vec<bool>,
    date1904: bool,
}

/// An XLSX opened for reading.
pub struct Workbook<R: Read + Seek> {
    zip: ZipArchive<R>,
    meta: Meta,
}

type XmlReader<B> = quick_xml::Reader<B>;

fn xml_reader<B: BufRead>(inner: B) -> XmlReader<B> {
    let mut r = quick_xml::Reader::from_reader(inner);
    r.config_mut().check_end_names = true;
    r
}

fn attr(e: &BytesStart, part: &str, name: &str) -> Result<Option<String>, Error> {
    for a in e.attributes() {
        let a = a.map_err(|err| Error::new(part, None, format!("bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| Error::new(part, None, format!("bad attribute {name}: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn entity(r: &BytesRef, part: &str) -> Result<String, Error> {
    if let Some(c) =
        r.resolve_char_ref().map_err(|e| Error::new(part, None, format!("bad character reference: {e}")))?
    {
        return Ok(c.to_string());
    }
    let name = r.xml10_content();
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| Error::new(part, None, format!("unknown entity &{name};")))
}

/// Whether `bytes` starts with an OOXML escape `_xHHHH_`.
pub(crate) fn is_ooxml_escape(bytes: &[u8]) -> bool {
    bytes.len() >= 7
        && bytes[0] == b'_'
        && bytes[1] == b'x'
        && bytes[6] == b'_'
        && bytes[2..6].iter().all(u8::is_ascii_hexdigit)
}

/// Decodes `_xHHHH_` escapes (characters XML cannot carry, and `_x005F_` for a literal `_`).
fn unescape_ooxml(text: String) -> String {
    if !text.contains("_x") {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if is_ooxml_escape(&bytes[i..]) {
            let code = u32::from_str_radix(&text[i + 2..i + 6], 16).ok().and_then(char::from_u32);
            if let Some(c) = code {
                out.push(c);
                i += 7;
                continue;
            }
        }
        // Not an escape: copy one character.
        let c = text[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(c);
        i += c.len_utf8().max(1);
    }
    out
}

fn read_part<R: Read + Seek>(zip: &mut ZipArchive<R>, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(Error::zip(name, e)),
    };
    let compressed = file.compressed_size();
    let mut out = Vec::new();
    Capped::new(file, name, MAX_OTHER_PART_BYTES, compressed).read_to_end(&mut out).map_err(|e| Error::io(name, e))?;
    Ok(Some(out))
}

/// Resolves a relationship target against the directory of the part that names it.
fn resolve(base_dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_owned(),
        None => format!("{base_dir}/{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Built-in number formats that are dates (ECMA-376 §18.8.30).
fn builtin_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a custom number format shows a date: it has a day or year token outside quoted text,
/// escapes and `[...]` sections (colours, conditions, elapsed time).
fn format_is_date(code: &str) -> bool {
    let mut in_quote = false;
    let mut in_bracket = false;
    let mut escaped = false;
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '"' => in_quote = !in_quote,
            _ if in_quote => {}
            '\\' | '_' | '*' => escaped = true,
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            _ if in_bracket => {}
            'd' | 'D' | 'y' | 'Y' => return true,
            ';' => return false,
            _ => {}
        }
    }
    false
}

fn parse_styles(xml: &[u8]) -> Result<Vec<bool>, Error> {
    const PART: &str = "xl/styles.xml";
    let mut r = xml_reader(xml);
    let mut custom: HashMap<u32, bool> = HashMap::new();
    let mut out = Vec::new();
    let mut in_cell_xfs = false;
    let mut buf = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| Error::new(PART, None, format!("bad XML: {e}")))?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    let id = attr(e, PART, "numFmtId")?.and_then(|v| v.parse().ok());
                    let code = attr(e, PART, "formatCode")?.unwrap_or_default();
                    if let Some(id) = id {
                        custom.insert(id, format_is_date(&code));
                    }
                }
                "cellXfs" => in_cell_xfs = matches!(ev, Event::Start(_)),
                "xf" if in_cell_xfs => {
                    let id: u32 = attr(e, PART, "numFmtId")?.and_then(|v| v.parse().ok()).unwrap_or(0);
                    out.push(custom.get(&id).copied().unwrap_or_else(|| builtin_date(id)));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

fn parse_shared_strings(xml: impl BufRead, part: &str) -> Result<Vec<String>, Error> {
    let mut r = xml_reader(xml);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    // Inside <t> of a run or of the item, not inside phonetic runs (<rPh>).
    let mut in_t = false;
    let mut in_phonetic = false;
    let mut buf = Vec::new();
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| Error::new(part, None, format!("bad XML: {e}")))?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => current = Some(String::new()),
                "t" => in_t = !in_phonetic,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => out.push(String::new()),
            Event::End(e) => match e.local_name().as_ref() {
                "si" => out.push(unescape_ooxml(current.take().unwrap_or_default())),
                "t" => in_t = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(t) if in_t => current.get_or_insert_with(String::new).push_str(&t.xml10_content()),
            Event::CData(t) if in_t => current.get_or_insert_with(String::new).push_str(&t.xml10_content()),
            Event::GeneralRef(g) if in_t => current.get_or_insert_with(String::new).push_str(&entity(&g, part)?),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

impl<R: Read + Seek> Workbook<R> {
    /// Opens an XLSX: reads the workbook, its relationships, the shared strings and the styles.
    pub fn open(inner: R) -> Result<Self, Error> {
        let mut zip = ZipArchive::new(inner)
            .map_err(|e| Error::new("(ZIP directory)", None, format!("not an XLSX file (not a ZIP archive): {e}")))?;
        // The workbook part: from the package relationships, else the usual name.
        let mut workbook_part = "xl/workbook.xml".to_owned();
        if let Some(rels) = read_part(&mut zip, "_rels/.rels")? {
            for (_, ty, target) in parse_rels(&rels, "_rels/.rels")? {
                if ty.ends_with("/officeDocument") {
                    workbook_part = resolve("", &target);
                }
            }
        }
        let wb = read_part(&mut zip, &workbook_part)?
            .ok_or_else(|| Error::new(&workbook_part, None, "missing: not an XLSX workbook".into()))?;
        let (dir, file) = workbook_part.rsplit_once('/').unwrap_or(("", workbook_part.as_str()));
        let rels_part = if dir.is_empty() { format!("_rels/{file}.rels") } else { format!("{dir}/_rels/{file}.rels") };
        let rels = read_part(&mut zip, &rels_part)?.ok_or_else(|| Error::new(&rels_part, None, "missing".into()))?;
        let rels = parse_rels(&rels, &rels_part)?;
        let target_of: HashMap<&str, String> = rels.iter().map(|(id, _, t)| (id.as_str(), resolve(dir, t))).collect();
        let (sheet_ids, date1904) = parse_workbook(&wb, &workbook_part)?;
        let mut sheets = Vec::new();
        for (name, rid) in sheet_ids {
            let part = target_of
                .get(rid.as_str())
                .ok_or_else(|| Error::new(&rels_part, None, format!("sheet '{name}': no relationship {rid}")))?;
            sheets.push((name, part.clone()));
        }
        let by_type =
            |suffix: &str| rels.iter().find(|(_, ty, _)| ty.ends_with(suffix)).map(|(_, _, t)| resolve(dir, t));
        let shared = match by_type("/sharedStrings") {
            Some(part) => match zip.by_name(&part) {
                Ok(f) => {
                    let compressed = f.compressed_size();
                    let capped = Capped::new(f, &part, MAX_SHARED_STRINGS_BYTES, compressed);
                    parse_shared_strings(BufReader::new(capped), &part)?
                }
                Err(zip::result::ZipError::FileNotFound) => Vec::new(),
                Err(e) => return Err(Error::zip(&part, e)),
            },
            None => Vec::new(),
        };
        let date_styles = match by_type("/styles") {
            Some(part) => match read_part(&mut zip, &part)? {
                Some(xml) => parse_styles(&xml)?,
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        Ok(Self { zip, meta: Meta { sheets, shared, date_styles, date1904 } })
    }

    pub fn sheet_names(&self) -> Vec<&str> {
        self.meta.sheets.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Whether dates count from 1904 (old Mac workbooks) instead of 1900.
    pub fn date1904(&self) -> bool {
        self.meta.date1904
    }

    /// Streams the rows of a sheet by name, or of the first sheet.
    pub fn rows(&mut self, sheet: Option<&str>) -> Result<Rows<'_, R>, Error> {
        let part = match sheet {
            None => self
                .meta
                .sheets
                .first()
                .map(|(_, p)| p.clone())
                .ok_or_else(|| Error::new("xl/workbook.xml", None, "the workbook has no sheet".into()))?,
            Some(name) => {
                self.meta.sheets.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone()).ok_or_else(|| {
                    let names: Vec<&str> = self.meta.sheets.iter().map(|(n, _)| n.as_str()).collect();
                    Error::new("xl/workbook.xml", None, format!("no sheet '{name}' (sheets: {})", names.join(", ")))
                })?
            }
        };
        let file = self.zip.by_name(&part).map_err(|e| Error::zip(&part, e))?;
        let compressed = file.compressed_size();
        let file = Capped::new(file, &part, MAX_SHEET_BYTES, compressed);
        Ok(Rows {
            xml: xml_reader(BufReader::with_capacity(64 * 1024, file)),
            ctx: Ctx { meta: &self.meta, part },
            buf: Vec::new(),
            last_row: 0,
            done: false,
        })
    }
}

fn parse_rels(xml: &[u8], part: &str) -> Result<Vec<(String, String, String)>, Error> {
    let mut r = xml_reader(xml);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf).map_err(|e| Error::new(part, None, format!("bad XML: {e}")))? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let id = attr(&e, part, "Id")?.unwrap_or_default();
                let ty = attr(&e, part, "Type")?.unwrap_or_default();
                let target = attr(&e, part, "Target")?.unwrap_or_default();
                out.push((id, ty, target));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// Sheets as (name, relationship id) and the date system.
#[allow(clippy::type_complexity)]
fn parse_workbook(xml: &[u8], part: &str) -> Result<(Vec<(String, String)>, bool), Error> {
    let mut r = xml_reader(xml);
    let mut sheets = Vec::new();
    let mut date1904 = false;
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf).map_err(|e| Error::new(part, None, format!("bad XML: {e}")))? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sheet" => {
                    let name = attr(&e, part, "name")?.unwrap_or_default();
                    let rid = attr(&e, part, "id")?
                        .ok_or_else(|| Error::new(part, None, format!("sheet '{name}' has no r:id")))?;
                    sheets.push((name, rid));
                }
                "workbookPr" => {
                    date1904 = matches!(attr(&e, part, "date1904")?.as_deref(), Some("1" | "true"));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok((sheets, date1904))
}

/// Splits `C5` into (column index 2, row 5).
fn parse_reference(reference: &str) -> Option<(usize, u32)> {
    let letters = reference.bytes().take_while(u8::is_ascii_uppercase).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut col = 0usize;
    for b in reference[..letters].bytes() {
        col = col * 26 + usize::from(b - b'A' + 1);
    }
    let row: u32 = reference[letters..].parse().ok()?;
    (col <= MAX_COLUMNS && row >= 1).then_some((col - 1, row))
}

/// The rows of one sheet, streamed. Yields each `<row>` in file order; an error ends the stream.
pub struct Rows<'a, R: Read + Seek> {
    xml: XmlReader<BufReader<Capped<ZipFile<'a, R>>>>,
    ctx: Ctx<'a>,
    buf: Vec<u8>,
    last_row: u32,
    done: bool,
}

struct Ctx<'a> {
    meta: &'a Meta,
    part: String,
}

/// A cell being read.
#[derive(Default)]
struct OpenCell {
    column: usize,
    kind: Option<String>,
    style: Option<usize>,
    value: Option<String>,
    inline: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Text {
    None,
    V,
    InlineT,
}

impl Ctx<'_> {
    fn err(&self, cell: Option<String>, message: String) -> Error {
        Error::new(&self.part, cell, message)
    }

    fn finish_cell(&self, row: u32, c: OpenCell) -> Result<Value, Error> {
        let reference = || Some(format!("{}{row}", column_name(c.column)));
        let raw = c.value.as_deref().unwrap_or_default().trim();
        Ok(match c.kind.as_deref().unwrap_or("n") {
            "s" => {
                let index: usize =
                    raw.parse().map_err(|_| self.err(reference(), format!("'{raw}' is not a shared string index")))?;
                let s = self.meta.shared.get(index).ok_or_else(|| {
                    let n = self.meta.shared.len();
                    self.err(reference(), format!("shared string {index} does not exist (the table has {n})"))
                })?;
                Value::Text(s.clone())
            }
            "inlineStr" => Value::Text(unescape_ooxml(c.inline.clone().unwrap_or_default())),
            "str" => Value::Text(unescape_ooxml(c.value.clone().unwrap_or_default())),
            "b" => match raw {
                "1" | "true" => Value::Bool(true),
                "0" | "false" => Value::Bool(false),
                _ => return Err(self.err(reference(), format!("'{raw}' is not a boolean"))),
            },
            "e" => Value::Error(raw.to_owned()),
            // ISO 8601 text (strict OOXML); kept as text.
            "d" => Value::Text(raw.to_owned()),
            "n" if raw.is_empty() => Value::Empty,
            "n" => {
                let n: f64 = raw.parse().map_err(|_| self.err(reference(), format!("'{raw}' is not a number")))?;
                let is_date = c.style.and_then(|s| self.meta.date_styles.get(s)).copied().unwrap_or(false);
                if is_date {
                    Value::Date(Serial { value: n, date1904: self.meta.date1904 })
                } else {
                    Value::Number(n)
                }
            }
            other => return Err(self.err(reference(), format!("unknown cell type '{other}'"))),
        })
    }

    fn place(&self, row: &mut Option<Row>, c: OpenCell) -> Result<(), Error> {
        let Some(r) = row.as_mut() else { return Err(self.err(None, "a cell outside a row".into())) };
        let column = c.column;
        let value = self.finish_cell(r.number, c)?;
        if matches!(value, Value::Empty) {
            return Ok(());
        }
        r.cells.resize(column, Value::Empty);
        r.cells.push(value);
        Ok(())
    }
}

fn push_text(cell: &mut Option<OpenCell>, text: Text, s: &str) {
    let Some(c) = cell.as_mut() else { return };
    match text {
        Text::V => c.value.get_or_insert_with(String::new).push_str(s),
        Text::InlineT => c.inline.get_or_insert_with(String::new).push_str(s),
        Text::None => {}
    }
}

impl<R: Read + Seek> Rows<'_, R> {
    fn next_row(&mut self) -> Result<Option<Row>, Error> {
        let ctx = &self.ctx;
        let mut row: Option<Row> = None;
        let mut cell: Option<OpenCell> = None;
        let mut text = Text::None;
        let mut next_column = 0usize;
        loop {
            self.buf.clear();
            let ev = match self.xml.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => {
                    // a bound of the inflating reader: say so plainly, naming the part
                    if let Some(why) = &self.xml.get_ref().get_ref().tripped {
                        return Err(ctx.err(None, why.clone()));
                    }
                    let at = row.as_ref().map(|r| format!("row {}: ", r.number)).unwrap_or_default();
                    return Err(ctx.err(None, format!("{at}bad XML: {e}")));
                }
            };
            let (start, empty) = match ev {
                Event::Start(e) => (Some(e), false),
                Event::Empty(e) => (Some(e), true),
                Event::End(e) => {
                    match e.local_name().as_ref() {
                        "v" | "t" => text = Text::None,
                        "c" => {
                            if let Some(c) = cell.take() {
                                ctx.place(&mut row, c)?;
                            }
                        }
                        "row" => {
                            if let Some(r) = row.take() {
                                return Ok(Some(r));
                            }
                        }
                        "sheetData" => {
                            self.done = true;
                            return Ok(None);
                        }
                        _ => {}
                    }
                    (None, false)
                }
                Event::Text(t) => {
                    push_text(&mut cell, text, &t.xml10_content());
                    (None, false)
                }
                Event::CData(t) => {
                    push_text(&mut cell, text, &t.xml10_content());
                    (None, false)
                }
                Event::GeneralRef(g) => {
                    push_text(&mut cell, text, &entity(&g, &ctx.part)?);
                    (None, false)
                }
                Event::Eof => {
                    self.done = true;
                    return match row {
                        Some(r) => Err(ctx.err(None, format!("the file ends inside row {}", r.number))),
                        None => Ok(None),
                    };
                }
                _ => (None, false),
            };
            let Some(e) = start else { continue };
            match e.local_name().as_ref() {
                "row" => {
                    let number = match attr(&e, &ctx.part, "r")? {
                        Some(r) => r.trim().parse::<u32>().map_err(|_| ctx.err(None, format!("row number '{r}'")))?,
                        None => self.last_row + 1,
                    };
                    if number == 0 || number as usize > MAX_ROWS || number <= self.last_row {
                        return Err(ctx.err(None, format!("row {number} after row {}", self.last_row)));
                    }
                    self.last_row = number;
                    next_column = 0;
                    let r = Row { number, cells: Vec::new() };
                    if empty {
                        return Ok(Some(r));
                    }
                    row = Some(r);
                }
                "c" => {
                    let Some(r) = row.as_ref() else {
                        return Err(ctx.err(None, "a cell outside a row".into()));
                    };
                    let next = next_column;
                    let column = match attr(&e, &ctx.part, "r")? {
                        None => next,
                        Some(reference) => {
                            let (col, at) = parse_reference(&reference)
                                .ok_or_else(|| ctx.err(Some(reference.clone()), "not a cell reference".into()))?;
                            if at != r.number {
                                return Err(ctx.err(Some(reference), format!("in row {}", r.number)));
                            }
                            if col < next {
                                return Err(ctx.err(Some(reference), "cells out of order".into()));
                            }
                            col
                        }
                    };
                    next_column = column + 1;
                    let style = attr(&e, &ctx.part, "s")?.and_then(|s| s.trim().parse().ok());
                    let c = OpenCell { column, kind: attr(&e, &ctx.part, "t")?, style, ..OpenCell::default() };
                    if empty {
                        ctx.place(&mut row, c)?;
                    } else {
                        cell = Some(c);
                    }
                }
                "v" if cell.is_some() && !empty => text = Text::V,
                "t" if cell.is_some() && !empty => text = Text::InlineT,
                "rPh" => text = Text::None,
                _ => {}
            }
        }
    }
}

impl<R: Read + Seek> Iterator for Rows<'_, R> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_row() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(parse_reference("A1"), Some((0, 1)));
        assert_eq!(parse_reference("C5"), Some((2, 5)));
        assert_eq!(parse_reference("XFD1048576"), Some((16_383, 1_048_576)));
        for bad in ["", "5", "a1", "A0", "XFE1", "AAAA1", "A", "A-1", "A1x"] {
            assert_eq!(parse_reference(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_formats() {
        for code in ["dd/mm/yyyy", "yyyy-mm-dd", "d-mmm-yy", "[$-42A]dd/mm/yyyy", "mm/dd/yy;@"] {
            assert!(format_is_date(code), "{code}");
        }
        for code in ["0.00", "#,##0", "\"day\" 0", "[Red]0.0", "h:mm", "@", "0\\d"] {
            assert!(!format_is_date(code), "{code}");
        }
        assert!(builtin_date(14) && !builtin_date(0) && !builtin_date(49));
    }

    #[test]
    fn ooxml_escapes() {
        assert_eq!(unescape_ooxml("a_x0001_b_x005F_x0041_".into()), "a\u{1}b_x0041_");
        assert_eq!(unescape_ooxml("Nguyễn_x_y".into()), "Nguyễn_x_y");
        assert_eq!(unescape_ooxml("_x12".into()), "_x12");
    }

    #[test]
    fn relationship_targets() {
        assert_eq!(resolve("xl", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl", "../xl/./styles.xml"), "xl/styles.xml");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    }
}
