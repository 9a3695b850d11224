//! The writer: sheets are streamed row by row into the ZIP entry (deflated as they go), so a
//! million-row sheet never exists in memory. Text is written as inline strings (no shared-string
//! table to hold), the header row bold and frozen, dates as serials with a `dd/mm/yyyy` format.
//!
//! The package parts (`workbook.xml`, relationships, styles, content types) are written by
//! [`Writer::finish`], after the sheets: readers locate parts through the ZIP directory.

use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::date::{ymd_to_serial, Ymd};
use crate::{Error, MAX_COLUMNS, MAX_ROWS};

/// One cell to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    Int(i64),
    /// A calendar date, stored as a serial in the 1900 system with a date format.
    Date(Ymd),
}

/// A column of a sheet: its header (written bold in row 1) and width in characters.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub header: &'a str,
    pub width: Option<f64>,
}

impl<'a> Column<'a> {
    pub fn new(header: &'a str, width: f64) -> Self {
        Self { header, width: Some(width) }
    }
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
/// Cell formats in `styles.xml`: 0 default, 1 bold (header), 2 date.
const STYLE_BOLD: u8 = 1;
const STYLE_DATE: u8 = 2;

struct OpenSheet {
    /// Rows written so far, header included.
    rows: u32,
    columns: usize,
}

/// An XLSX being written into `W`.
pub struct Writer<W: Write + Seek> {
    zip: ZipWriter<W>,
    sheets: Vec<String>,
    open: Option<OpenSheet>,
    line: Vec<u8>,
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).compression_level(Some(1))
}

/// Column letters of a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_name(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Escapes text for element content or a double-quoted attribute. Characters XML 1.0 cannot
/// carry (control characters other than tab and line breaks) are written as the OOXML escape
/// `_xHHHH_`; a literal `_x` that would read as such an escape is protected as `_x005F_`.
fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' | '\n' | '\r' => out.push(c as u8),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.extend_from_slice(format!("_x{:04X}_", c as u32).as_bytes())
            }
            '_' if crate::read::is_ooxml_escape(&bytes[i..]) => out.extend_from_slice(b"_x005F_"),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    escape_into(&mut out, text);
    String::from_utf8(out).unwrap_or_default()
}

impl<W: Write + Seek> Writer<W> {
    pub fn new(inner: W) -> Self {
        Self { zip: ZipWriter::new(inner), sheets: Vec::new(), open: None, line: Vec::with_capacity(4096) }
    }

    /// Starts a sheet (closing the previous one) and writes its header row. Sheet names follow
    /// Excel's rules: 1–31 characters, none of `[]:*?/\`, unique ignoring case.
    pub fn add_sheet(&mut self, name: &str, columns: &[Column]) -> Result<(), Error> {
        let part = format!("xl/worksheets/sheet{}.xml", self.sheets.len() + 1);
        let bad = |m: String| Error::new(&part, None, m);
        if name.is_empty() || name.chars().count() > 31 || name.contains(['[', ']', ':', '*', '?', '/', '\\']) {
            return Err(bad(format!("sheet name '{name}': 1 to 31 characters, none of []:*?/\\")));
        }
        if self.sheets.iter().any(|s| s.to_lowercase() == name.to_lowercase()) {
            return Err(bad(format!("two sheets named '{name}'")));
        }
        if columns.is_empty() || columns.len() > MAX_COLUMNS {
            return Err(bad(format!("{} columns: a sheet has 1 to {MAX_COLUMNS}", columns.len())));
        }
        self.close_sheet()?;
        self.zip.start_file(part.as_str(), options()).map_err(|e| Error::zip(&part, e))?;
        self.sheets.push(name.to_owned());
        let mut head = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{MAIN_NS}\" \
             xmlns:r=\"{REL_NS}\"><sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" \
             activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
             <sheetFormatPr defaultRowHeight=\"15\"/>"
        );
        if columns.iter().any(|c| c.width.is_some()) {
            head.push_str("<cols>");
            for (i, c) in columns.iter().enumerate() {
                if let Some(w) = c.width.filter(|w| w.is_finite() && *w > 0.0 && *w <= 255.0) {
                    head.push_str(&format!("<col min=\"{0}\" max=\"{0}\" width=\"{w}\" customWidth=\"1\"/>", i + 1));
                }
            }
            head.push_str("</cols>");
        }
        head.push_str("<sheetData>");
        self.zip.write_all(head.as_bytes()).map_err(|e| Error::io(&part, e))?;
        self.open = Some(OpenSheet { rows: 0, columns: columns.len() });
        let header: Vec<Cell> = columns.iter().map(|c| Cell::Text(c.header)).collect();
        self.row_with_style(&header, Some(STYLE_BOLD))
    }

    /// Appends a row to the current sheet. A row may be shorter than the header, not longer.
    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), Error> {
        self.row_with_style(cells, None)
    }

    fn part(&self) -> String {
        format!("xl/worksheets/sheet{}.xml", self.sheets.len())
    }

    fn row_with_style(&mut self, cells: &[Cell], style: Option<u8>) -> Result<(), Error> {
        let part = self.part();
        let Some(open) = self.open.as_mut() else {
            return Err(Error::new("xl/workbook.xml", None, "write_row before add_sheet".into()));
        };
        let row = open.rows + 1;
        if row as usize > MAX_ROWS {
            return Err(Error::new(&part, None, format!("more than {MAX_ROWS} rows (Excel's limit)")));
        }
        if cells.len() > open.columns {
            let cell = format!("{}{row}", column_name(open.columns));
            return Err(Error::new(&part, Some(cell), format!("{} cells in a sheet of {}", cells.len(), open.columns)));
        }
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(format!("<row r=\"{row}\">").as_bytes());
        for (i, cell) in cells.iter().enumerate() {
            let reference = format!("{}{row}", column_name(i));
            let s = style.map(|s| format!(" s=\"{s}\"")).unwrap_or_default();
            match *cell {
                Cell::Empty => {}
                Cell::Text(t) => {
                    line.extend_from_slice(format!("<c r=\"{reference}\"{s} t=\"inlineStr\"><is><t").as_bytes());
                    if t.starts_with([' ', '\t', '\n']) || t.ends_with([' ', '\t', '\n']) {
                        line.extend_from_slice(b" xml:space=\"preserve\"");
                    }
                    line.push(b'>');
                    escape_into(line, t);
                    line.extend_from_slice(b"</t></is></c>");
                }
                Cell::Number(n) if !n.is_finite() => {
                    return Err(Error::new(&part, Some(reference), format!("{n} cannot be stored in a cell")));
                }
                Cell::Number(n) => line.extend_from_slice(format!("<c r=\"{reference}\"{s}><v>{n}</v></c>").as_bytes()),
                Cell::Int(n) => line.extend_from_slice(format!("<c r=\"{reference}\"{s}><v>{n}</v></c>").as_bytes()),
                Cell::Date(d) => {
                    let serial = ymd_to_serial(d, false).ok_or_else(|| {
                        Error::new(&part, Some(reference.clone()), format!("{d} is outside Excel's dates"))
                    })?;
                    let s = style.unwrap_or(STYLE_DATE);
                    line.extend_from_slice(format!("<c r=\"{reference}\" s=\"{s}\"><v>{serial}</v></c>").as_bytes());
                }
            }
        }
        line.extend_from_slice(b"</row>");
        self.zip.write_all(line).map_err(|e| Error::io(&part, e))?;
        open.rows = row;
        Ok(())
    }

    fn close_sheet(&mut self) -> Result<(), Error> {
        if self.open.take().is_some() {
            let part = self.part();
            self.zip.write_all(b"</sheetData></worksheet>").map_err(|e| Error::io(&part, e))?;
        }
        Ok(())
    }

    fn part_file(&mut self, name: &str, body: &str) -> Result<(), Error> {
        self.zip.start_file(name, options()).map_err(|e| Error::zip(name, e))?;
        self.zip.write_all(body.as_bytes()).map_err(|e| Error::io(name, e))
    }

    /// Closes the last sheet, writes the package parts and the ZIP directory; returns the inner writer.
    pub fn finish(mut self) -> Result<W, Error> {
        if self.sheets.is_empty() {
            return Err(Error::new("xl/workbook.xml", None, "a workbook needs at least one sheet".into()));
        }
        self.close_sheet()?;
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
        let n = self.sheets.len();
        let mut types = format!(
            "{decl}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/styles.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
        );
        let mut sheets = String::new();
        let mut rels = format!("{decl}<Relationships xmlns=\"{PKG_REL_NS}\">");
        for (i, name) in self.sheets.iter().enumerate() {
            let k = i + 1;
            types.push_str(&format!(
                "<Override PartName=\"/xl/worksheets/sheet{k}.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            ));
            sheets.push_str(&format!("<sheet name=\"{}\" sheetId=\"{k}\" r:id=\"rId{k}\"/>", escape(name)));
            rels.push_str(&format!(
                "<Relationship Id=\"rId{k}\" Type=\"{REL_NS}/worksheet\" Target=\"worksheets/sheet{k}.xml\"/>"
            ));
        }
        types.push_str("</Types>");
        rels.push_str(&format!(
            "<Relationship Id=\"rId{}\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/></Relationships>",
            n + 1
        ));
        let workbook = format!(
            "{decl}<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><bookViews><workbookView/></bookViews>\
             <sheets>{sheets}</sheets></workbook>"
        );
        let root_rels = format!(
            "{decl}<Relationships xmlns=\"{PKG_REL_NS}\"><Relationship Id=\"rId1\" \
             Type=\"{REL_NS}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
        );
        let styles = format!(
            "{decl}<styleSheet xmlns=\"{MAIN_NS}\">\
             <numFmts count=\"1\"><numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy\"/></numFmts>\
             <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
             <font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
             <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>\
             <fill><patternFill patternType=\"gray125\"/></fill></fills>\
             <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
             <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
             <cellXfs count=\"3\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
             <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>\
             <xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs>\
             <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
             </styleSheet>"
        );
        self.part_file("xl/workbook.xml", &workbook)?;
        self.part_file("xl/_rels/workbook.xml.rels", &rels)?;
        self.part_file("xl/styles.xml", &styles)?;
        self.part_file("_rels/.rels", &root_rels)?;
        self.part_file("[Content_Types].xml", &types)?;
        self.zip.finish().map_err(|e| Error::zip("(ZIP directory)", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702, 16_383].into_iter().map(column_name).collect();
        assert_eq!(names, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(escape("x\u{1}y\tz"), "x_x0001_y\tz");
        assert_eq!(escape("_x0041_"), "_x005F_x0041_");
        assert_eq!(escape("Nguyễn_x"), "Nguyễn_x");
    }

    #[test]
    fn refuses_bad_sheets_and_rows() {
        let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
        assert!(w.write_row(&[Cell::Int(1)]).is_err(), "a row before any sheet");
        assert!(w.add_sheet("a/b", &[Column::new("x", 10.0)]).is_err());
        w.add_sheet("Danh sách", &[Column::new("x", 10.0)]).unwrap();
        assert!(w.add_sheet("DANH SÁCH", &[Column::new("x", 10.0)]).is_err(), "duplicate ignoring case");
        let e = w.write_row(&[Cell::Int(1), Cell::Int(2)]).unwrap_err();
        assert_eq!(e.to_string(), "xl/worksheets/sheet1.xml, cell B2: 2 cells in a sheet of 1");
        let e = w.write_row(&[Cell::Number(f64::NAN)]).unwrap_err();
        assert!(e.to_string().contains("cell A2"), "{e}");
        assert!(Writer::new(std::io::Cursor::new(Vec::new())).finish().is_err(), "no sheet");
    }
}
