//! Level-2 e-ID (định danh điện tử mức 2), the first step of the citizen journey: the police's
//! list of residents with a level-2 account, validated row by row as it streams, the coverage of
//! level 2 among a unit's adults, and what a person on a worklist needs next.

use std::collections::{HashMap, HashSet};

use time::Date;

use crate::csv::{fold, parse_date, Column, Columns, Record, RowIssue};
use crate::denominator::AdultsDenominator;
use crate::plan::Percent;
use crate::population::{CitizenId, Resident, ID_ALIASES};

/// One person's account as the police list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EidLevel {
    pub id: CitizenId,
    /// 1 or 2; 2 when the list has no level column (it is a list of level-2 accounts).
    pub level: u8,
    /// The day the police give for it (activated or verified), when the list has one.
    pub verified_on: Option<Date>,
}

fn eid_columns() -> [Column; 4] {
    let c = |name, aliases, required| Column { name, aliases, required };
    [
        crate::csv::stt_column(),
        c("id_number", ID_ALIASES, true),
        c("level", &["muc_do", "muc", "muc_dinh_danh", "muc_do_dinh_danh", "muc_do_tai_khoan", "eid_level"], false),
        c(
            "verified_on",
            &[
                "ngay_kich_hoat",
                "ngay_dinh_danh",
                "ngay_xac_thuc",
                "ngay_cap_tai_khoan",
                "ngay_dang_ky",
                "ngay_kich_hoat_muc_2",
                "verified",
                "activated_on",
            ],
            false,
        ),
    ]
}

/// The level a cell names: `2`, `Mức 2`, `mức độ 2`, `level 2` (1 likewise).
fn parse_level(text: &str) -> Option<u8> {
    let folded = fold(text);
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    let words_ok = folded
        .trim_matches(|c: char| c.is_ascii_digit() || c == '_')
        .split('_')
        .all(|w| matches!(w, "" | "muc" | "do" | "level" | "dinh" | "danh" | "tai" | "khoan"));
    match (digits.as_str(), words_ok) {
        ("1", true) => Some(1),
        ("2", true) => Some(2),
        _ => None,
    }
}

/// An e-ID list import row by row: the header mapped once, each record validated as it comes
/// (a province's list is streamed, never held). A person listed twice is rejected with the row
/// of the first listing.
pub struct EidListImport {
    columns: Columns,
    seen: HashMap<u64, u32>,
}

impl EidListImport {
    /// Maps the header; missing columns are reported on the header's row.
    pub fn new(header: &Record) -> Result<Self, Vec<RowIssue>> {
        Ok(Self { columns: Columns::map(header, &eid_columns())?, seen: HashMap::new() })
    }

    /// Validates one data record; the issue names its row, its STT and the field.
    pub fn row(&mut self, r: &Record) -> Result<EidLevel, RowIssue> {
        let stt = self.columns.get(r, "stt");
        self.check(r).map_err(|i| i.with_stt(stt))
    }

    fn check(&mut self, r: &Record) -> Result<EidLevel, RowIssue> {
        let c = &self.columns;
        let issue = |field, reason: String| RowIssue::new(r.row, Some(field), reason);
        let id_text = c.get(r, "id_number").unwrap_or("");
        let id = CitizenId::parse(id_text).map_err(|e| {
            let lost_zero = id_text.len() == 11 && id_text.bytes().all(|b| b.is_ascii_digit());
            issue("id_number", if lost_zero { format!("{e} (a leading 0 lost? store the column as text)") } else { e })
        })?;
        let level = match c.get(r, "level") {
            None if c.has("level") => return Err(issue("level", "empty".into())),
            None => 2,
            Some(t) => parse_level(t).ok_or_else(|| issue("level", format!("'{t}' is not level 1 or 2")))?,
        };
        let verified_on = c
            .get(r, "verified_on")
            .map(|t| parse_date(t.split_once('T').map_or(t, |(d, _)| d)).map_err(|e| issue("verified_on", e)))
            .transpose()?;
        let key: u64 = id.expose().parse().unwrap_or(0);
        if let Some(first) = self.seen.get(&key) {
            return Err(issue("id_number", format!("{} is a duplicate of row {first}", id.masked())));
        }
        self.seen.insert(key, u32::try_from(r.row).unwrap_or(u32::MAX));
        Ok(EidLevel { id, level, verified_on })
    }
}

/// Level-2 coverage of a unit's adults: adults (the age line on its reference date) and those
/// of them with a level-2 account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Level2Coverage {
    pub adults: u64,
    pub level2: u64,
}

impl Level2Coverage {
    /// Counts `residents` against `line`; `level2` holds the residents with a level-2 account.
    pub fn count<'a>(
        residents: impl IntoIterator<Item = &'a Resident>,
        line: &AdultsDenominator,
        level2: &HashSet<CitizenId>,
    ) -> Self {
        let mut c = Self::default();
        for r in residents.into_iter().filter(|r| line.counts(r.date_of_birth)) {
            c.adults += 1;
            c.level2 += u64::from(level2.contains(&r.id));
        }
        c
    }

    pub fn share(&self) -> Option<Percent> {
        Percent::share(self.level2, self.adults)
    }

    /// A province's coverage: its communes' summed.
    pub fn plus(self, other: Self) -> Self {
        Self { adults: self.adults + other.adults, level2: self.level2 + other.level2 }
    }
}

/// What a person needs next on the journey: level 2 at the police, then a certificate, then a
/// first signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    Level2,
    Certificate,
    FirstSignature,
}

impl Need {
    pub const ALL: [Need; 3] = [Need::Level2, Need::Certificate, Need::FirstSignature];

    /// The need of someone without a valid certificate: level 2 first when they have none.
    pub fn of(has_level2: bool) -> Need {
        if has_level2 {
            Need::Certificate
        } else {
            Need::Level2
        }
    }

    /// The name it is typed and filtered by.
    pub fn name(self) -> &'static str {
        match self {
            Need::Level2 => "level2",
            Need::Certificate => "certificate",
            Need::FirstSignature => "first-signature",
        }
    }

    pub fn parse(name: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.name() == name.trim().replace('_', "-"))
    }

    /// The worklist's wording, Vietnamese and English.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Need::Level2 => ("cần định danh mức 2 tại Công an", "needs level-2 e-ID at the police"),
            Need::Certificate => ("cần chứng thư số", "needs a certificate"),
            Need::FirstSignature => ("cần ký số lần đầu", "needs a first signature"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::records;
    use crate::population::Sex;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn vietnamese_headers_levels_dates_and_bad_rows_named() {
        let (recs, _) = records(
            "STT,Số CCCD,Mức độ định danh,Ngày kích hoạt\n\
             1,019190000001,Mức 2,05/01/2026\n\
             2,019190000002,2,\n\
             3,01919000003,2,\n\
             4,019190000004,mức 3,\n\
             5,019190000001,Mức 2,\n\
             6,019190000006,Mức độ 1,31/02/2026\n\
             7,019190000007,level 1,2026-03-01T00:00:00\n",
        );
        let mut import = EidListImport::new(&recs[0]).unwrap();
        let out: Vec<_> = recs[1..].iter().map(|r| import.row(r)).collect();
        let ok = |i: usize| out[i].clone().unwrap();
        assert_eq!((ok(0).level, ok(0).verified_on), (2, Some(d(2026, 1, 5))));
        assert_eq!((ok(1).level, ok(1).verified_on), (2, None));
        assert_eq!((ok(6).level, ok(6).verified_on), (1, Some(d(2026, 3, 1))));
        let bad = |i: usize| out[i].clone().unwrap_err();
        assert_eq!((bad(2).row, bad(2).stt.as_deref(), bad(2).field), (4, Some("3"), Some("id_number")));
        assert!(bad(2).reason.contains("leading 0 lost"), "{}", bad(2).reason);
        assert_eq!((bad(3).field, bad(3).reason.as_str()), (Some("level"), "'mức 3' is not level 1 or 2"));
        assert_eq!(bad(4).reason, "0191****0001 is a duplicate of row 2");
        assert_eq!((bad(5).row, bad(5).field), (7, Some("verified_on")));
        assert!(out.iter().filter_map(|o| o.as_ref().err()).all(|i| !i.to_string().contains("019190000001")));
    }

    #[test]
    fn a_list_without_a_level_column_is_of_level_2_and_needs_the_id_column() {
        let (recs, _) = records("so_dinh_danh\n019190000001\n");
        let mut import = EidListImport::new(&recs[0]).unwrap();
        assert_eq!(import.row(&recs[1]).unwrap().level, 2);
        let (recs, _) = records("ho_ten,ngay_kich_hoat\nA,01/01/2026\n");
        let missing = EidListImport::new(&recs[0]).err().unwrap();
        assert_eq!(missing[0].field, Some("id_number"));
    }

    #[test]
    fn coverage_counts_adults_on_the_age_line_only() {
        let person = |n: u32, born: Date| Resident {
            id: CitizenId::parse(&format!("0191900{n:05}")).unwrap(),
            full_name: None,
            date_of_birth: born,
            sex: Sex::Female,
            commune_code: "01960".into(),
            hamlet_code: "T01".into(),
            household: None,
        };
        let people =
            [person(1, d(1980, 1, 1)), person(2, d(1990, 1, 1)), person(3, d(2015, 1, 1)), person(4, d(1970, 1, 1))];
        // the child's level 2 (none in law, but a list can say anything) does not count
        let level2: HashSet<CitizenId> = [1, 3].iter().map(|&n| people[n as usize - 1].id.clone()).collect();
        let line = AdultsDenominator::new(15, d(2026, 6, 1)).unwrap();
        let c = Level2Coverage::count(&people, &line, &level2);
        assert_eq!(c, Level2Coverage { adults: 3, level2: 1 });
        assert_eq!(c.share().map(|p| p.to_string()), Some("33.33 %".into()));
        assert_eq!(c.plus(c).level2, 2);
    }

    #[test]
    fn needs_in_journey_order_by_name() {
        assert_eq!(Need::of(false), Need::Level2);
        assert_eq!(Need::of(true), Need::Certificate);
        for n in Need::ALL {
            assert_eq!(Need::parse(n.name()), Some(n));
        }
        assert_eq!(Need::parse("first_signature"), Some(Need::FirstSignature));
        assert_eq!(Need::parse("x"), None);
        assert_eq!(Need::Level2.label().0, "cần định danh mức 2 tại Công an");
    }
}
