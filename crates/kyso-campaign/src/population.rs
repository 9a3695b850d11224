//! The residents register as the police supply it (ID number, date of birth, sex, hamlet,
//! household): row-level validation and the index the adoption counters and worklists match against.
//!
//! The register is the denominator's authority, so rows are rejected only when unusable (bad ID
//! number, unreal date, unknown hamlet, duplicate); an ID number contradicting the row is a warning.

use std::collections::{HashMap, HashSet};
use std::fmt;

use time::Date;

use crate::csv::{fold, import_with, parse_date, Column, Columns, ImportReport, Record, RowIssue};

/// A 12-digit citizen ID number (`PPP G YY NNNNNN`). `Debug` and `Display` mask it; the clear
/// number is reachable only through [`CitizenId::expose`], for matching and for export to the police.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

impl CitizenId {
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::digits(text).map(Self::from_digits)
    }

    /// The trimmed text of a valid ID number, borrowed (what [`CitizenId::parse`] accepts), or why
    /// it is not one.
    pub fn digits(text: &str) -> Result<&str, String> {
        let text = crate::csv::trim(text);
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(text);
        }
        let n = text.chars().count();
        match text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            // the one that stops it being a number, named where it is (1 = first character)
            Some((at, c)) if n == 12 => Err(format!("must be 12 digits: '{c}' at position {} is not a digit", at + 1)),
            Some((at, c)) => {
                Err(format!("must be 12 digits, got {n} characters ('{c}' at position {} is not a digit)", at + 1))
            }
            None => Err(format!("must be 12 digits, got {n}")),
        }
    }

    /// An ID number from what [`CitizenId::digits`] returned.
    pub(crate) fn from_digits(digits: &str) -> Self {
        Self(digits.to_owned())
    }

    /// First 4 and last 4 digits: `0191****0001`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..4], &self.0[8..])
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The sex and birth century encoded in digit 4 (G: 0/1 male/female 1900s, 2/3 2000s, …).
    pub fn encoded_sex_and_century(&self) -> (Sex, i32) {
        let g = i32::from(self.0.as_bytes()[3] - b'0');
        let sex = if g % 2 == 0 { Sex::Male } else { Sex::Female };
        (sex, 1900 + (g / 2) * 100)
    }

    /// The birth year encoded in digits 4–6 (G and YY).
    pub fn encoded_birth_year(&self) -> i32 {
        let (_, century) = self.encoded_sex_and_century();
        let yy: i32 = self.0[4..6].parse().unwrap_or(0);
        century + yy
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// Accepts Nam/Nữ (with or without diacritics), male/female, M/F.
    pub fn parse(text: &str) -> Option<Self> {
        match fold(text).as_str() {
            "nam" | "male" | "m" => Some(Self::Male),
            "nu" | "female" | "f" => Some(Self::Female),
            _ => None,
        }
    }
}

/// One resident of a commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub id: CitizenId,
    pub full_name: Option<String>,
    pub date_of_birth: Date,
    pub sex: Sex,
    pub commune_code: String,
    pub hamlet_code: String,
    pub household: Option<String>,
}

pub(crate) const ID_ALIASES: &[&str] = &[
    "so_dinh_danh",
    "id_number",
    "so_cccd",
    "cccd",
    "so_can_cuoc",
    "so_can_cuoc_cong_dan",
    "so_dinh_danh_ca_nhan",
    "ma_dinh_danh",
    "so_cmnd/cccd",
    "so_cccd/cmnd",
];

fn register_columns() -> [Column; 8] {
    let c = |name, aliases, required| Column { name, aliases, required };
    [
        crate::csv::stt_column(),
        c("id_number", ID_ALIASES, true),
        c("full_name", &["ho_va_ten", "ho_ten", "full_name", "name", "ten"], false),
        c("date_of_birth", &["ngay_sinh", "ngay_thang_nam_sinh", "ngay/thang/nam_sinh", "dob", "birth_date"], true),
        c("sex", &["gioi_tinh", "gender", "gioi"], true),
        c(
            "hamlet_code",
            &[
                "ma_thon",
                "thon",
                "ma_thon_xom",
                "thon/xom",
                "xom",
                "ma_to_dan_pho",
                "to_dan_pho",
                "ma_ap",
                "ap",
                "hamlet",
            ],
            true,
        ),
        c("household", &["ho", "ma_ho", "so_ho", "household_id", "ma_ho_gia_dinh", "so_ho_khau"], false),
        c("commune_code", &["ma_xa", "xa", "ma_xa/phuong", "ma_xa_phuong", "xa/phuong", "commune", "ma_don_vi"], false),
    ]
}

/// The hamlets an import may name, per commune: by code, or by name (diacritics and case ignored).
#[derive(Debug, Clone, Default)]
pub struct KnownHamlets {
    communes: foldhash::HashMap<String, (foldhash::HashSet<String>, foldhash::HashMap<String, String>)>,
}

impl KnownHamlets {
    pub fn new<'a>(hamlets: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        let mut known = Self::default();
        for (commune, code, name) in hamlets {
            let (codes, names) = known.communes.entry(commune.to_owned()).or_default();
            codes.insert(code.to_owned());
            names.insert(fold(name), code.to_owned());
        }
        known
    }

    pub fn has_commune(&self, commune: &str) -> bool {
        self.communes.contains_key(commune)
    }

    /// The hamlet code a cell names in a commune (its code, or its name).
    pub fn resolve(&self, commune: &str, text: &str) -> Option<&str> {
        let (codes, names) = self.communes.get(commune)?;
        codes.get(text).or_else(|| names.get(&fold(text))).map(String::as_str)
    }
}

/// A register import row by row: the header is mapped once, then each record is validated as it
/// comes (a million rows are streamed, never held). Duplicates within the file are rejected
/// with the row of the first occurrence.
pub struct RegisterImport<'k> {
    columns: Columns,
    commune: Option<String>,
    hamlets: &'k KnownHamlets,
    seen: foldhash::HashMap<u64, u32>,
}

impl<'k> RegisterImport<'k> {
    /// Maps the header. `commune`: the commune of every row when the file has no commune column
    /// (with one, rows must belong to it). Missing columns are reported on the header's row.
    pub fn new(header: &Record, commune: Option<&str>, hamlets: &'k KnownHamlets) -> Result<Self, Vec<RowIssue>> {
        let columns = Columns::map(header, &register_columns())?;
        if !columns.has("commune_code") && commune.is_none() {
            let reason = "no commune column (ma_xa): name the commune of the whole file (--commune)";
            return Err(vec![RowIssue::new(header.row, Some("commune_code"), reason)]);
        }
        Ok(Self { columns, commune: commune.map(str::to_owned), hamlets, seen: Default::default() })
    }

    /// Validates one data record; the issue names its row and field.
    pub fn row(&mut self, r: &Record, warnings: &mut Vec<RowIssue>) -> Result<Resident, RowIssue> {
        let before = warnings.len();
        let resident = self.check_row(r, warnings)?;
        self.first_of(r, &resident).inspect_err(|_| warnings.truncate(before))?;
        Ok(resident)
    }

    /// [`RegisterImport::row`] without the duplicate check (which [`RegisterImport::first_of`]
    /// makes, in file order): needs no `&mut`, so that records can be checked side by side.
    pub fn check_row(&self, r: &Record, warnings: &mut Vec<RowIssue>) -> Result<Resident, RowIssue> {
        self.check_fields(r.row, &r.fields, warnings)
    }

    /// [`RegisterImport::check_row`] of row `row` split into `fields` (borrowed from a file held
    /// in memory, say).
    pub fn check_fields<S: AsRef<str>>(
        &self,
        row: usize,
        fields: &[S],
        warnings: &mut Vec<RowIssue>,
    ) -> Result<Resident, RowIssue> {
        let before = warnings.len();
        let stt = self.columns.value(fields, "stt");
        let out = self.check(row, fields, warnings).map_err(|i| i.with_stt(stt));
        for w in &mut warnings[before..] {
            w.stt = crate::csv::stt_text(stt);
        }
        out
    }

    /// Records `resident` (checked from `r`) as seen, or the issue naming the row where its ID
    /// number came first. Called in file order.
    pub fn first_of(&mut self, r: &Record, resident: &Resident) -> Result<(), RowIssue> {
        let key: u64 = resident.id.expose().parse().unwrap_or(0);
        if let Some(&first) = self.seen.get(&key) {
            return Err(self.duplicate(r, resident, first));
        }
        self.seen.insert(key, u32::try_from(r.row).unwrap_or(u32::MAX));
        Ok(())
    }

    /// The issue of `r` (checked as `resident`) repeating the ID number of row `first`: for a
    /// caller that keeps the rows seen itself (e.g. split by ID number over threads).
    pub fn duplicate(&self, r: &Record, resident: &Resident, first: u32) -> RowIssue {
        self.duplicate_fields(r.row, &r.fields, resident, first)
    }

    /// [`RegisterImport::duplicate`] of row `row` split into `fields`.
    pub fn duplicate_fields<S: AsRef<str>>(
        &self,
        row: usize,
        fields: &[S],
        resident: &Resident,
        first: u32,
    ) -> RowIssue {
        RowIssue::new(row, Some("id_number"), format!("{} is a duplicate of row {first}", resident.id.masked()))
            .with_stt(self.columns.value(fields, "stt"))
    }

    /// The ID number of a record as a number, when it is a valid one (no other check made).
    pub fn id_key(&self, r: &Record) -> Option<u64> {
        self.id_key_fields(&r.fields)
    }

    /// [`RegisterImport::id_key`] of a row split into `fields`.
    pub fn id_key_fields<S: AsRef<str>>(&self, fields: &[S]) -> Option<u64> {
        let digits = CitizenId::digits(self.columns.value(fields, "id_number")?).ok()?;
        crate::register_index::id_key(digits)
    }

    fn check<S: AsRef<str>>(&self, row: usize, f: &[S], warnings: &mut Vec<RowIssue>) -> Result<Resident, RowIssue> {
        let c = &self.columns;
        let issue = |field, reason: String| RowIssue::new(row, Some(field), reason);
        let id_text = c.value(f, "id_number").unwrap_or("");
        let id = CitizenId::parse(id_text).map_err(|e| {
            let lost_zero = id_text.len() == 11 && id_text.bytes().all(|b| b.is_ascii_digit());
            issue("id_number", if lost_zero { format!("{e} (a leading 0 lost? store the column as text)") } else { e })
        })?;
        let dob = c.value(f, "date_of_birth").ok_or_else(|| issue("date_of_birth", "empty".into()))?;
        // Spreadsheet dates arrive as `YYYY-MM-DD` or with a time of day (`…T00:00:00`).
        let dob = dob.split_once('T').map_or(dob, |(d, _)| d);
        let date_of_birth = parse_date(dob).map_err(|e| issue("date_of_birth", e))?;
        let sex_text = c.value(f, "sex").unwrap_or("");
        let sex = Sex::parse(sex_text).ok_or_else(|| issue("sex", format!("'{sex_text}' is not Nam or Nữ")))?;
        let commune_code = match (c.value(f, "commune_code"), self.commune.as_deref()) {
            (Some(code), Some(only)) if code != only => {
                return Err(issue("commune_code", format!("commune {code}, but this import is for commune {only}")))
            }
            (Some(code), _) if !self.hamlets.has_commune(code) => {
                return Err(issue("commune_code", format!("unknown commune '{code}' (or it has no hamlets yet)")))
            }
            (Some(code), _) => code,
            (None, Some(only)) => only,
            (None, None) => return Err(issue("commune_code", "empty".into())),
        };
        let hamlet_text = c.value(f, "hamlet_code").ok_or_else(|| issue("hamlet_code", "empty".into()))?;
        let hamlet_code = self
            .hamlets
            .resolve(commune_code, hamlet_text)
            .ok_or_else(|| issue("hamlet_code", format!("unknown hamlet '{hamlet_text}' in commune {commune_code}")))?;
        let (encoded_sex, _) = id.encoded_sex_and_century();
        if encoded_sex != sex {
            warnings.push(issue("sex", format!("{} encodes {encoded_sex:?}, the row says {sex:?}", id.masked())));
        }
        if id.encoded_birth_year() != date_of_birth.year() {
            let reason = format!(
                "{} encodes birth year {}, the row says {}",
                id.masked(),
                id.encoded_birth_year(),
                date_of_birth.year()
            );
            warnings.push(issue("date_of_birth", reason));
        }
        // The store's limits (kyso-store's limits.rs takes them from here): an over-long value
        // is this row's error, not the failure of its whole batch.
        for (field, max) in [("full_name", MAX_FULL_NAME_CHARS), ("household", MAX_HOUSEHOLD_CHARS)] {
            let n = c.value(f, field).map_or(0, |v| v.chars().count());
            if n > max {
                return Err(issue(field, format!("{n} characters; at most {max}")));
            }
        }
        Ok(Resident {
            id,
            full_name: c.value(f, "full_name").map(str::to_owned),
            date_of_birth,
            sex,
            commune_code: commune_code.to_owned(),
            hamlet_code: hamlet_code.to_owned(),
            household: c.value(f, "household").map(str::to_owned),
        })
    }
}

/// Longest name a register row may carry, in characters (the store refuses longer ones).
pub const MAX_FULL_NAME_CHARS: usize = 128;
/// Longest household code a register row may carry, in characters.
pub const MAX_HOUSEHOLD_CHARS: usize = 64;

/// Parses a commune's register. `hamlets` are the commune's known hamlet codes
/// ([`crate::units::AdminUnits::hamlet_codes`]).
pub fn parse_register_csv(input: &str, commune_code: &str, hamlets: &HashSet<&str>) -> ImportReport<Resident> {
    let known = KnownHamlets::new(hamlets.iter().map(|h| (commune_code, *h, *h)));
    import_with(
        input,
        |header| RegisterImport::new(header, Some(commune_code), &known),
        |import, record, report| match import.row(&record, &mut report.warnings) {
            Ok(resident) => report.items.push(resident),
            Err(issue) => report.errors.push(issue),
        },
    )
}

/// Residents indexed by ID number (one commune or many).
#[derive(Debug, Clone, Default)]
pub struct Register {
    residents: Vec<Resident>,
    by_id: HashMap<CitizenId, usize>,
}

impl Register {
    /// Builds the index; a later row with an ID number already present replaces the earlier one
    /// (a re-import of the same commune supersedes it).
    pub fn new(residents: impl IntoIterator<Item = Resident>) -> Self {
        let mut register = Self::default();
        register.extend(residents);
        register
    }

    pub fn extend(&mut self, residents: impl IntoIterator<Item = Resident>) {
        for resident in residents {
            match self.by_id.get(&resident.id) {
                Some(&at) => self.residents[at] = resident,
                None => {
                    self.by_id.insert(resident.id.clone(), self.residents.len());
                    self.residents.push(resident);
                }
            }
        }
    }

    pub fn get(&self, id: &CitizenId) -> Option<&Resident> {
        self.by_id.get(id).map(|&at| &self.residents[at])
    }

    pub fn residents(&self) -> &[Resident] {
        &self.residents
    }

    pub fn len(&self) -> usize {
        self.residents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.residents.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::records;
    use time::Month;

    fn hamlets() -> HashSet<&'static str> {
        ["T01", "T02"].into_iter().collect()
    }

    #[test]
    fn id_numbers_mask_themselves() {
        let id = CitizenId::parse("019190000001").unwrap();
        assert_eq!(id.masked(), "0191****0001");
        assert_eq!(format!("{id} {id:?}"), "0191****0001 CitizenId(0191****0001)");
        assert_eq!(id.encoded_sex_and_century(), (Sex::Female, 1900));
        assert_eq!(id.encoded_birth_year(), 1990);
        assert_eq!(CitizenId::parse("019203000007").unwrap().encoded_birth_year(), 2003);
        assert!(CitizenId::parse("01919000000").is_err());
        assert!(CitizenId::parse("01919000000a").is_err());
    }

    #[test]
    fn a_letter_in_an_id_number_is_named_where_it_is() {
        assert_eq!(
            CitizenId::parse("01908A123456").unwrap_err(),
            "must be 12 digits: 'A' at position 6 is not a digit"
        );
        assert_eq!(CitizenId::parse("0190812345").unwrap_err(), "must be 12 digits, got 10");
        assert_eq!(
            CitizenId::parse("0190-812345").unwrap_err(),
            "must be 12 digits, got 11 characters ('-' at position 5 is not a digit)"
        );
    }

    #[test]
    fn bad_rows_are_named_by_the_lists_stt_and_the_file_line() {
        let text = "STT,Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn\r\n\
                    1,019190000001,Nguyễn Thị An,15/03/1990,Nữ,T01\r\n\
                    2,01908A123456,Lỗi Số,01/01/1985,Nam,T01\r\n\
                    ,019085000003,Lỗi Ngày,31/02/1985,Nam,T01\r\n";
        let report = parse_register_csv(text, "01960", &hamlets());
        assert_eq!(report.items.len(), 1);
        let e: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(e[0], "STT 2 (row 3), field id_number: must be 12 digits: 'A' at position 6 is not a digit");
        assert!(e[1].starts_with("row 4, field date_of_birth"), "an empty STT is not quoted: {e:?}");
    }

    #[test]
    fn an_over_long_name_is_that_rows_error_and_the_rest_is_kept() {
        let long = "Ễ".repeat(MAX_FULL_NAME_CHARS + 1);
        let ok = "Ễ".repeat(MAX_FULL_NAME_CHARS);
        let text = format!(
            "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn\r\n\
             019190000001,{long},15/03/1990,Nữ,T01\r\n\
             019085000002,{ok},1985-12-01,Nam,T02\r\n"
        );
        let report = parse_register_csv(&text, "01960", &hamlets());
        assert_eq!(report.items.len(), 1, "the valid row is kept");
        assert_eq!(report.errors.len(), 1);
        let e = &report.errors[0];
        assert_eq!((e.row, e.field), (2, Some("full_name")), "{e:?}");
        assert!(e.reason.contains("at most 128"), "{e:?}");
    }

    #[test]
    fn vietnamese_headers_both_date_forms_and_row_errors() {
        let text = "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\r\n\
                    019190000001,Nguyễn Thị An,15/03/1990,Nữ,T01,H1\r\n\
                    019085000002,\"Trần Văn Bình, con\",1985-12-01,Nam,T02,\r\n\
                    01908500000,Lỗi Số,01/01/1985,Nam,T01,H1\r\n\
                    019085000003,Lỗi Ngày,31/02/1985,Nam,T01,H1\r\n\
                    019085000004,Lạ Thôn,01/01/1985,Nam,T09,H1\r\n\
                    019190000001,Trùng,15/03/1990,Nữ,T01,H1\r\n\
                    019085000005,Không Rõ,01/01/1985,Khác,T01,H1\r\n";
        let report = parse_register_csv(text, "01960", &hamlets());
        assert_eq!(report.items.len(), 2);
        let an = &report.items[0];
        assert_eq!(an.date_of_birth, Date::from_calendar_date(1990, Month::March, 15).unwrap());
        assert_eq!((an.sex, an.household.as_deref(), an.hamlet_code.as_str()), (Sex::Female, Some("H1"), "T01"));
        assert_eq!(report.items[1].full_name.as_deref(), Some("Trần Văn Bình, con"));
        assert_eq!(report.items[1].household, None);
        let errors: Vec<_> = report.errors.iter().map(|e| (e.row, e.field.unwrap_or(""))).collect();
        assert_eq!(errors, [(4, "id_number"), (5, "date_of_birth"), (6, "hamlet_code"), (7, "id_number"), (8, "sex")]);
        assert!(report.errors[3].reason.contains("duplicate of row 2"));
        // No issue ever carries the clear number.
        assert!(report.errors.iter().all(|e| !e.reason.contains("019190000001")));
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn contradicting_id_number_is_a_warning_not_a_rejection() {
        let text = "so_dinh_danh,ngay_sinh,gioi_tinh,ma_thon\n\
                    019090000001,15/03/1990,Nữ,T01\n\
                    019290000002,15/03/1990,Nam,T01\n";
        let report = parse_register_csv(text, "01960", &hamlets());
        assert_eq!(report.items.len(), 2);
        assert!(report.errors.is_empty());
        let warnings: Vec<_> = report.warnings.iter().map(|w| (w.row, w.field.unwrap_or(""))).collect();
        // Row 2: G=0 says male; row 3: G=2 says born 2090, not 1990.
        assert_eq!(warnings, [(2, "sex"), (3, "date_of_birth")]);
    }

    #[test]
    fn missing_required_column_is_named() {
        let report = parse_register_csv("id_number,Ngày sinh\n019190000001,15/03/1990\n", "01960", &hamlets());
        assert!(report.items.is_empty());
        let fields: Vec<_> = report.errors.iter().map(|e| e.field.unwrap_or("")).collect();
        assert_eq!(fields, ["sex", "hamlet_code"]);
    }

    #[test]
    fn several_communes_hamlet_names_and_spreadsheet_dates() {
        let known = KnownHamlets::new([
            ("01960", "T01", "Xóm Đồng Tâm"),
            ("01960", "T02", "Xóm Ba Họ"),
            ("30856", "A1", "Ấp Hòa Long"),
        ]);
        let (recs, _) = records(
            "\u{feff}SO CCCD,ho ten,NGAY SINH,gioi tinh,Thôn,Mã xã\n\
             019190000001,An,1990-03-15T00:00:00,nu,xom dong tam,01960\n\
             089190000002,Bé,1990-03-15,Nữ,A1,30856\n\
             089190000003,Lạ,1990-03-15,Nữ,A1,01960\n\
             089190000004,Lạ,1990-03-15,Nữ,A1,99999\n\
             19190000005,Mất Số 0,15/03/1990,Nữ,T01,01960\n",
        );
        let mut import = RegisterImport::new(&recs[0], None, &known).unwrap();
        let mut warnings = Vec::new();
        let out: Vec<_> = recs[1..].iter().map(|r| import.row(r, &mut warnings)).collect();
        let an = out[0].as_ref().unwrap();
        assert_eq!((an.commune_code.as_str(), an.hamlet_code.as_str(), an.sex), ("01960", "T01", Sex::Female));
        assert_eq!(an.date_of_birth, Date::from_calendar_date(1990, Month::March, 15).unwrap());
        assert_eq!(out[1].as_ref().unwrap().commune_code, "30856");
        let err = |i: usize| out[i].as_ref().unwrap_err().to_string();
        assert_eq!(err(2), "row 4, field hamlet_code: unknown hamlet 'A1' in commune 01960");
        assert_eq!(err(3), "row 5, field commune_code: unknown commune '99999' (or it has no hamlets yet)");
        assert!(err(4).contains("a leading 0 lost"), "{}", err(4));
        // With --commune, a row of another commune is refused; without a commune column, --commune is needed.
        let mut only = RegisterImport::new(&recs[0], Some("01960"), &known).unwrap();
        assert!(only.row(&recs[2], &mut warnings).unwrap_err().reason.contains("this import is for commune 01960"));
        let (no_commune, _) = records("so_dinh_danh,ngay_sinh,gioi_tinh,ma_thon\n");
        let missing = RegisterImport::new(&no_commune[0], None, &known).err().unwrap();
        assert_eq!(missing[0].field, Some("commune_code"));
    }

    #[test]
    fn register_indexes_by_id() {
        let text = "id_number,dob,sex,hamlet_code\n019190000001,1990-03-15,F,T01\n";
        let register = Register::new(parse_register_csv(text, "01960", &hamlets()).items);
        assert_eq!(register.len(), 1);
        assert!(register.get(&CitizenId::parse("019190000001").unwrap()).is_some());
    }
}
