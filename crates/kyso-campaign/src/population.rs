//! The residents register as the police supply it (ID number, date of birth, sex, hamlet,
//! household): row-level validation and the index the adoption counters and worklists match against.
//!
//! The register is the denominator's authority, so rows are rejected only when unusable (bad ID
//! number, unreal date, unknown hamlet, duplicate); an ID number contradicting the row is a warning.

use std::collections::{HashMap, HashSet};
use std::fmt;

use time::Date;

use crate::csv::{fold, import, parse_date, Column, ImportReport, RowIssue};

/// A 12-digit citizen ID number (`PPP G YY NNNNNN`). `Debug` and `Display` mask it; the clear
/// number is reachable only through [`CitizenId::expose`], for matching and for export to the police.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

impl CitizenId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("must be 12 digits, got {} characters", text.chars().count()))
        }
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

pub(crate) const ID_ALIASES: &[&str] =
    &["so_dinh_danh", "id_number", "so_cccd", "cccd", "so_can_cuoc", "so_dinh_danh_ca_nhan", "ma_dinh_danh"];

fn register_columns() -> [Column; 6] {
    let c = |name, aliases, required| Column { name, aliases, required };
    [
        c("id_number", ID_ALIASES, true),
        c("full_name", &["ho_va_ten", "ho_ten", "full_name", "name"], false),
        c("date_of_birth", &["ngay_sinh", "ngay_thang_nam_sinh", "dob", "birth_date"], true),
        c("sex", &["gioi_tinh", "gender"], true),
        c("hamlet_code", &["ma_thon", "ma_to_dan_pho", "ma_ap", "hamlet"], true),
        c("household", &["ho", "ma_ho", "so_ho", "household_id"], false),
    ]
}

/// Parses a commune's register. `hamlets` are the commune's known hamlet codes
/// ([`crate::units::AdminUnits::hamlet_codes`]).
pub fn parse_register_csv(input: &str, commune_code: &str, hamlets: &HashSet<&str>) -> ImportReport<Resident> {
    let mut seen: HashMap<CitizenId, usize> = HashMap::new();
    import(input, &register_columns(), |c, r, warnings| {
        let row = r.row;
        let issue = |field, reason: String| RowIssue::new(row, Some(field), reason);
        let id = CitizenId::parse(c.get(r, "id_number").unwrap_or("")).map_err(|e| issue("id_number", e))?;
        let dob = c.get(r, "date_of_birth").ok_or_else(|| issue("date_of_birth", "empty".into()))?;
        let date_of_birth = parse_date(dob).map_err(|e| issue("date_of_birth", e))?;
        let sex_text = c.get(r, "sex").unwrap_or("");
        let sex = Sex::parse(sex_text).ok_or_else(|| issue("sex", format!("'{sex_text}' is not Nam or Nữ")))?;
        let hamlet_code = c.get(r, "hamlet_code").ok_or_else(|| issue("hamlet_code", "empty".into()))?;
        if !hamlets.contains(hamlet_code) {
            return Err(issue("hamlet_code", format!("unknown hamlet '{hamlet_code}' in commune {commune_code}")));
        }
        if let Some(first) = seen.get(&id) {
            return Err(issue("id_number", format!("{} is a duplicate of row {first}", id.masked())));
        }
        seen.insert(id.clone(), row);
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
        Ok(Resident {
            id,
            full_name: c.get(r, "full_name").map(str::to_owned),
            date_of_birth,
            sex,
            commune_code: commune_code.to_owned(),
            hamlet_code: hamlet_code.to_owned(),
            household: c.get(r, "household").map(str::to_owned),
        })
    })
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
    fn register_indexes_by_id() {
        let text = "id_number,dob,sex,hamlet_code\n019190000001,1990-03-15,F,T01\n";
        let register = Register::new(parse_register_csv(text, "01960", &hamlets()).items);
        assert_eq!(register.len(), 1);
        assert!(register.get(&CitizenId::parse("019190000001").unwrap()).is_some());
    }
}
