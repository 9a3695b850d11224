//! Bounds on what a ZIP entry may inflate to (the XLSX bomb: a 1 MB file whose sheet inflates to
//! gigabytes). Every part is read through [`Capped`], which fails — naming the part — once the
//! part inflates past its cap, past [`MAX_RATIO`] times its compressed size, or carries a run of
//! [`MAX_RUN`] bytes without a `<` (one XML text or tag that large would sit whole in the parser's
//! buffer). Memory then stays bounded by the caps, whatever the file.

use std::io::Read;

/// A worksheet is streamed row by row: the cap only bounds the work (a full 1,048,576-row sheet of
/// a register is a few hundred MB of XML).
pub const MAX_SHEET_BYTES: u64 = 1 << 30;
/// Shared strings are held in memory for the whole read.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 256 << 20;
/// Workbook, relationships, styles.
pub const MAX_OTHER_PART_BYTES: u64 = 16 << 20;
/// Inflated ÷ compressed size at most this (spreadsheet XML deflates about 5–20 to 1; deflate's
/// own maximum is about 1,000 to 1), checked once a part has inflated past [`RATIO_FLOOR`].
pub const MAX_RATIO: u64 = 100;
pub const RATIO_FLOOR: u64 = 1 << 20;
/// The longest run of bytes without a `<`.
pub const MAX_RUN: u64 = 32 << 20;

/// A reader over one inflating ZIP entry that stops at the bounds above.
pub(crate) struct Capped<R> {
    inner: R,
    max: u64,
    compressed: u64,
    read: u64,
    run: u64,
    /// Why it stopped, once it has (also the error every later read returns).
    pub(crate) tripped: Option<String>,
}

impl<R: Read> Capped<R> {
    /// `_part` names the entry for the caller's error; the messages here say "the part".
    pub(crate) fn new(inner: R, _part: &str, max: u64, compressed: u64) -> Capped<R> {
        Capped { inner, max, compressed, read: 0, run: 0, tripped: None }
    }

    fn trip(&mut self, why: String) -> std::io::Error {
        let msg = format!("refused: {why} (a ZIP bomb?)");
        self.tripped = Some(msg.clone());
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(t) = &self.tripped {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, t.clone()));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            let max = self.max;
            return Err(self.trip(format!("the part inflates to more than {max} bytes")));
        }
        if self.read > RATIO_FLOOR && self.read > self.compressed.saturating_mul(MAX_RATIO) {
            let c = self.compressed;
            return Err(
                self.trip(format!("the part inflates to more than {MAX_RATIO} times its compressed size ({c} bytes)"))
            );
        }
        let chunk = &buf[..n];
        match chunk.iter().rposition(|&b| b == b'<') {
            Some(p) => self.run = (n - 1 - p) as u64,
            None => self.run += n as u64,
        }
        if self.run > MAX_RUN {
            return Err(self.trip(format!("the part has a text or tag of more than {MAX_RUN} bytes")));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_size_ratio_and_runs() {
        let data = vec![b'<'; 3 << 20];
        let mut out = Vec::new();
        let e = Capped::new(&data[..], "p", 2 << 20, 1 << 20).read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("inflates to more than 2097152 bytes"), "{e}");
        let e = Capped::new(&data[..], "p", 8 << 20, 1000).read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("more than 100 times"), "{e}");
        assert!(Capped::new(&data[..], "p", 8 << 20, 1 << 20).read_to_end(&mut out).is_ok());
        let text = vec![b'a'; (MAX_RUN + 10) as usize];
        let e = Capped::new(&text[..], "p", u64::MAX, u64::MAX / 1000).read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("a text or tag of more than"), "{e}");
    }
}

/// Test support (hostile tests, `kyso bench xlsx-bomb`): a small XLSX whose first sheet inflates to
/// `inflated` bytes — one row whose inline string is that many `0`s (`part = "sheet"`), or a
/// shared-strings part of that size (`part = "shared"`). Deflated at the best level: about 1,000 to 1.
#[doc(hidden)]
pub fn write_bomb<W: std::io::Write + std::io::Seek>(out: W, inflated: u64, shared: bool) -> zip::result::ZipResult<W> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut z = zip::ZipWriter::new(out);
    let best = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(inflated >= 1 << 32);
    let files: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in files {
        z.start_file(name, best)?;
        z.write_all(text.as_bytes())?;
    }
    let zeros = vec![b'0'; 1 << 20];
    let fill = |z: &mut zip::ZipWriter<W>, mut n: u64| -> std::io::Result<()> {
        while n > 0 {
            let k = n.min(zeros.len() as u64) as usize;
            z.write_all(&zeros[..k])?;
            n -= k as u64;
        }
        Ok(())
    };
    let sheet_head = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#;
    let sheet_tail = "</t></is></c></row></sheetData></worksheet>";
    z.start_file("xl/sharedStrings.xml", best)?;
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#)?;
    if shared {
        fill(&mut z, inflated)?;
    }
    z.write_all(b"</t></si></sst>")?;
    z.start_file("xl/worksheets/sheet1.xml", best)?;
    z.write_all(sheet_head.as_bytes())?;
    if !shared {
        fill(&mut z, inflated)?;
    }
    z.write_all(sheet_tail.as_bytes())?;
    z.finish()
}

#[cfg(test)]
mod bomb_tests {
    use crate::Workbook;
    use std::io::Cursor;

    /// A 64 MiB sheet (about 64 KB deflated) and a 64 MiB shared-strings part are refused, naming the part.
    #[test]
    fn bombs_are_refused_naming_the_part() {
        let sheet = super::write_bomb(Cursor::new(Vec::new()), 64 << 20, false).unwrap().into_inner();
        assert!(sheet.len() < 1 << 20, "{} bytes", sheet.len());
        let mut book = Workbook::open(Cursor::new(sheet)).unwrap();
        let err = book.rows(None).unwrap().find_map(Result::err).expect("refused");
        assert_eq!(err.part, "xl/worksheets/sheet1.xml");
        assert!(err.message.starts_with("refused: the part inflates to more than 100 times"), "{err}");
        let shared = super::write_bomb(Cursor::new(Vec::new()), 64 << 20, true).unwrap().into_inner();
        let err = Workbook::open(Cursor::new(shared)).err().expect("refused");
        assert_eq!(err.part, "xl/sharedStrings.xml");
        assert!(err.to_string().contains("refused: the part inflates to more than 100 times"), "{err}");
    }
}
