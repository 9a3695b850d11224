//! kyso-xlsx against itself (round trip, malformed input) and against openpyxl, an independent
//! implementation: openpyxl reads what kyso writes, kyso reads what openpyxl writes.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use kyso_xlsx::{serial_to_iso, Cell, Column, Value, Workbook, Writer, Ymd};

fn ymd(y: i32, m: u8, d: u8) -> Ymd {
    Ymd::new(y, m, d).unwrap()
}

/// A two-sheet workbook with every kind of cell.
fn sample() -> Vec<u8> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    let cols = [
        Column::new("Số định danh", 16.0),
        Column::new("Họ và tên", 28.0),
        Column::new("Ngày sinh", 12.0),
        Column { header: "Số lần", width: None },
        Column::new("Ghi chú", 30.0),
    ];
    w.add_sheet("Danh sách", &cols).unwrap();
    w.write_row(&[
        Cell::Text("019190000001"),
        Cell::Text("Nguyễn Thị Ánh Tuyết"),
        Cell::Date(ymd(1990, 3, 15)),
        Cell::Int(3),
        Cell::Text("a < b & \"c\" > d"),
    ])
    .unwrap();
    w.write_row(&[Cell::Text("019085000002"), Cell::Empty, Cell::Date(ymd(1900, 1, 1)), Cell::Number(2.5)]).unwrap();
    w.write_row(&[]).unwrap();
    w.write_row(&[
        Cell::Text(" lề "),
        Cell::Text("dòng 1\ndòng 2"),
        Cell::Empty,
        Cell::Number(-1e-3),
        Cell::Text("_x0041_"),
    ])
    .unwrap();
    w.add_sheet("Tổng hợp", &[Column::new("Xã", 20.0), Column::new("Tỷ lệ", 10.0)]).unwrap();
    w.write_row(&[Cell::Text("Xã Hiệp Lực"), Cell::Number(0.062)]).unwrap();
    w.finish().unwrap().into_inner()
}

fn texts(book: &mut Workbook<Cursor<Vec<u8>>>, sheet: Option<&str>) -> Vec<(u32, Vec<String>)> {
    book.rows(sheet).unwrap().map(|r| r.map(|r| (r.number, r.texts()))).collect::<Result<_, _>>().unwrap()
}

#[test]
fn round_trip() {
    let bytes = sample();
    let mut book = Workbook::open(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["Danh sách", "Tổng hợp"]);
    assert!(!book.date1904());
    let rows = texts(&mut book, None);
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        [
            (1, s(&["Số định danh", "Họ và tên", "Ngày sinh", "Số lần", "Ghi chú"])),
            (2, s(&["019190000001", "Nguyễn Thị Ánh Tuyết", "1990-03-15", "3", "a < b & \"c\" > d"])),
            (3, s(&["019085000002", "", "1900-01-01", "2.5"])),
            (4, vec![]),
            (5, s(&[" lề ", "dòng 1\ndòng 2", "", "-0.001", "_x0041_"])),
        ]
    );
    // Dates keep their raw serial; plain numbers are numbers.
    let row2 = book.rows(None).unwrap().nth(1).unwrap().unwrap();
    match &row2.cells[2] {
        Value::Date(s) => assert_eq!((s.value, s.to_ymd()), (32_947.0, Some(ymd(1990, 3, 15)))),
        other => panic!("{other:?}"),
    }
    assert_eq!(row2.cells[3], Value::Number(3.0));
    assert_eq!(texts(&mut book, Some("Tổng hợp"))[1], (2, s(&["Xã Hiệp Lực", "0.062"])));
    let e = book.rows(Some("Khác")).err().unwrap();
    assert_eq!(e.to_string(), "xl/workbook.xml: no sheet 'Khác' (sheets: Danh sách, Tổng hợp)");
}

#[test]
fn a_large_sheet_streams() {
    // 200,000 rows written and read back without holding the sheet: only the compressed bytes.
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.add_sheet("S", &[Column::new("n", 10.0), Column::new("t", 10.0), Column::new("d", 10.0)]).unwrap();
    for i in 0..200_000i64 {
        let t = format!("Hộ {i}");
        w.write_row(&[Cell::Int(i), Cell::Text(&t), Cell::Date(ymd(2026, 1, 1))]).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    // About 120 bytes of XML a row, deflated to about 25.
    assert!(bytes.len() < 8_000_000, "deflated: {} bytes", bytes.len());
    let mut book = Workbook::open(Cursor::new(bytes)).unwrap();
    let mut n = 0;
    for (i, row) in book.rows(None).unwrap().skip(1).enumerate() {
        let row = row.unwrap();
        assert_eq!(row.number as usize, i + 2);
        if i % 50_000 == 0 {
            assert_eq!(row.texts(), [i.to_string(), format!("Hộ {i}"), "2026-01-01".into()]);
        }
        n += 1;
    }
    assert_eq!(n, 200_000);
}

/// A minimal package around a sheet XML (and optional shared strings), for malformed-input tests.
fn package(sheet: &str, shared: Option<&str>) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    let mut put = |name: &str, body: &str| {
        z.start_file(name, o).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    };
    put(
        "xl/workbook.xml",
        r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    put(
        "xl/_rels/workbook.xml.rels",
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>"#,
    );
    put("xl/worksheets/sheet1.xml", &format!(r#"<worksheet><sheetData>{sheet}</sheetData></worksheet>"#));
    if let Some(s) = shared {
        put("xl/sharedStrings.xml", s);
    }
    z.finish().unwrap().into_inner()
}

fn read_all(bytes: Vec<u8>) -> Result<Vec<(u32, Vec<String>)>, String> {
    let mut book = Workbook::open(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let rows = book.rows(None).map_err(|e| e.to_string())?;
    rows.map(|r| r.map(|r| (r.number, r.texts())).map_err(|e| e.to_string())).collect()
}

#[test]
fn sparse_cells_shared_and_inline_strings_booleans() {
    let shared = r#"<sst><si><t>Nam</t></si><si><r><t>Ng</t></r><r><t xml:space="preserve">uyễn &amp; </t></r><rPh><t>x</t></rPh></si><si/></sst>"#;
    let sheet = r#"<row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1" t="s"><v>0</v></c></row>
        <row r="5"><c r="B5" t="b"><v>1</v></c><c t="inlineStr"><is><t>&#x1EC7;</t></is></c><c r="E5" t="e"><v>#N/A</v></c><c r="F5" t="str"><v>x</v></c></row>
        <row><c><v>7</v></c><c r="C6" t="s"><v>2</v></c></row>"#;
    let rows = read_all(package(sheet, Some(shared))).unwrap();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        [(1, s(&["Nguyễn & ", "", "Nam"])), (5, s(&["", "TRUE", "ệ", "", "#N/A", "x"])), (6, s(&["7", "", ""])),]
    );
}

#[test]
fn malformed_input_is_an_error_naming_part_and_cell() {
    let cases: [(Vec<u8>, &str); 9] = [
        (b"not a zip at all".to_vec(), "(ZIP directory): not an XLSX file (not a ZIP archive)"),
        (
            package(r#"<row r="1"><c r="A1" t="s"><v>9</v></c></row>"#, Some("<sst><si><t>a</t></si></sst>")),
            "xl/worksheets/sheet1.xml, cell A1: shared string 9 does not exist (the table has 1)",
        ),
        (
            package(r#"<row r="2"><c r="B2"><v>abc</v></c></row>"#, None),
            "xl/worksheets/sheet1.xml, cell B2: 'abc' is not a number",
        ),
        (
            package(r#"<row r="2"><c r="B2" t="b"><v>2</v></c></row>"#, None),
            "xl/worksheets/sheet1.xml, cell B2: '2' is not a boolean",
        ),
        (
            package(r#"<row r="3"><c r="ZZZZ3"><v>1</v></c></row>"#, None),
            "xl/worksheets/sheet1.xml, cell ZZZZ3: not a cell reference",
        ),
        (package(r#"<row r="3"><c r="A4"><v>1</v></c></row>"#, None), "xl/worksheets/sheet1.xml, cell A4: in row 3"),
        (package(r#"<row r="3"/><row r="2"/>"#, None), "xl/worksheets/sheet1.xml: row 2 after row 3"),
        (package(r#"<row r="1"><c r="A1"><v>1</v></c>"#, None), "xl/worksheets/sheet1.xml: row 1: bad XML"),
        (
            package(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some("<sst><si><t>a</x></si></sst>")),
            "xl/sharedStrings.xml: bad XML",
        ),
    ];
    for (bytes, expected) in cases {
        let err = read_all(bytes).expect_err(expected);
        assert!(err.starts_with(expected), "expected '{expected}', got '{err}'");
    }
    // Truncated and bit-flipped versions of a real workbook: errors, never a panic.
    let good = sample();
    for cut in (0..good.len()).step_by(97) {
        let _ = read_all(good[..cut].to_vec());
    }
    for at in (0..good.len()).step_by(13) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        let _ = read_all(bad);
    }
}

// ---- interop with openpyxl ----

/// The venv's Python with openpyxl, or None (with a notice) outside CI; KYSO_REQUIRE_INTEROP=1
/// makes a missing openpyxl a failure.
fn python_with_openpyxl() -> Option<PathBuf> {
    let candidates = [
        std::env::var("KYSO_PKILINT_DIR").ok().map(|d| Path::new(&d).join("python3")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python3")),
        Some(PathBuf::from("python3")),
    ];
    for c in candidates.into_iter().flatten() {
        let ok = Command::new(&c).args(["-c", "import openpyxl"]).output().is_ok_and(|o| o.status.success());
        if ok {
            return Some(c);
        }
    }
    if std::env::var("KYSO_REQUIRE_INTEROP").as_deref() == Ok("1") {
        panic!("openpyxl is required (run .ci/run)");
    }
    eprintln!("NOTICE: openpyxl not found; skipping the openpyxl interop check (run .ci/run)");
    None
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kyso-xlsx-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn openpyxl_reads_what_kyso_writes() {
    let Some(python) = python_with_openpyxl() else { return };
    let dir = temp("out");
    let file = dir.join("kyso.xlsx");
    std::fs::write(&file, sample()).unwrap();
    let script = r#"
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["Danh sách"]
def cell(v):
    if isinstance(v, datetime.datetime): return "date:" + v.date().isoformat()
    return v
out = {
    "sheets": wb.sheetnames,
    "rows": [[cell(c.value) for c in row] for row in ws.iter_rows()],
    "freeze": ws.freeze_panes,
    "bold": [c.font.b for c in ws[1]],
    "bold_data": ws["A2"].font.b,
    "widths": {k: ws.column_dimensions[k].width for k in "ABCE"},
    "date_format": ws["C2"].number_format,
    "second": [[c.value for c in row] for row in wb["Tổng hợp"].iter_rows()],
}
print(json.dumps(out, ensure_ascii=False))
"#;
    let o = Command::new(&python).args(["-c", script]).arg(&file).output().unwrap();
    assert!(o.status.success(), "openpyxl: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(v["sheets"], j(r#"["Danh sách", "Tổng hợp"]"#));
    assert_eq!(v["rows"][0], j(r#"["Số định danh", "Họ và tên", "Ngày sinh", "Số lần", "Ghi chú"]"#));
    assert_eq!(
        v["rows"][1],
        j(r#"["019190000001", "Nguyễn Thị Ánh Tuyết", "date:1990-03-15", 3, "a < b & \"c\" > d"]"#)
    );
    assert_eq!(v["rows"][2], j(r#"["019085000002", null, "date:1900-01-01", 2.5, null]"#));
    // openpyxl does not decode the OOXML escape `_x005F_` (a literal `_`) that Excel writes and reads.
    assert_eq!(v["rows"][4], j(r#"[" lề ", "dòng 1\ndòng 2", null, -0.001, "_x005F_x0041_"]"#));
    assert_eq!(v["freeze"], "A2");
    assert_eq!(v["bold"], j("[true, true, true, true, true]"));
    assert_eq!(v["bold_data"], false);
    assert_eq!(v["widths"], j(r#"{"A": 16.0, "B": 28.0, "C": 12.0, "E": 30.0}"#));
    assert_eq!(v["date_format"], "dd/mm/yyyy");
    assert_eq!(v["second"], j(r#"[["Xã", "Tỷ lệ"], ["Xã Hiệp Lực", 0.062]]"#));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn kyso_reads_what_openpyxl_writes() {
    let Some(python) = python_with_openpyxl() else { return };
    let dir = temp("in");
    let file = dir.join("openpyxl.xlsx");
    let script = r#"
import sys, datetime, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Dân cư"
ws.append(["Số định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Mã thôn", "Số người", "Tỷ lệ", "Đã ký"])
ws.append(["019190000001", "Nguyễn Thị An", datetime.date(1990, 3, 15), "Nữ", "T01", 4, 0.25, True])
ws.append(["019085000002", "Trần Văn Bình", datetime.datetime(1985, 12, 1, 6, 30), "Nam", "T02", 1, 1.5, False])
ws.append(["019190000001", "Nguyễn Thị An", "15/03/1990", "Nữ", "T01", None, None, None])
ws.cell(row=7, column=3, value=datetime.date(2026, 7, 31))
ws.cell(row=7, column=1, value=19195000003)
wb.create_sheet("Khác").append(["x"])
wb.save(sys.argv[1])
"#;
    let o = Command::new(&python).args(["-c", script]).arg(&file).output().unwrap();
    assert!(o.status.success(), "openpyxl: {}", String::from_utf8_lossy(&o.stderr));
    let mut book = Workbook::open(Cursor::new(std::fs::read(&file).unwrap())).unwrap();
    assert_eq!(book.sheet_names(), ["Dân cư", "Khác"]);
    let rows: Vec<_> = book.rows(None).unwrap().collect::<Result<_, _>>().unwrap();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows[0].texts(),
        s(&["Số định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Mã thôn", "Số người", "Tỷ lệ", "Đã ký"])
    );
    assert_eq!(rows[1].texts(), s(&["019190000001", "Nguyễn Thị An", "1990-03-15", "Nữ", "T01", "4", "0.25", "TRUE"]));
    assert_eq!(
        rows[2].texts(),
        s(&["019085000002", "Trần Văn Bình", "1985-12-01T06:30:00", "Nam", "T02", "1", "1.5", "FALSE"])
    );
    assert_eq!(rows[3].texts(), s(&["019190000001", "Nguyễn Thị An", "15/03/1990", "Nữ", "T01"]));
    // Row 7 after a gap; its first cell is a number (the leading zero is lost, as in Excel).
    assert_eq!((rows[4].number, rows[4].texts()), (7, s(&["19195000003", "", "2026-07-31"])));
    match rows[1].cells[2] {
        Value::Date(serial) => assert_eq!(serial_to_iso(serial.value, serial.date1904).as_deref(), Some("1990-03-15")),
        ref other => panic!("{other:?}"),
    }
    assert_eq!(rows[1].cells[7], Value::Bool(true));
    let other: Vec<_> = book.rows(Some("Khác")).unwrap().map(|r| r.unwrap().texts()).collect();
    assert_eq!(other, [s(&["x"])]);
    let _ = std::fs::remove_dir_all(dir);
}
