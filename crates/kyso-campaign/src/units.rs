//! Administrative units after the 2025 reorganisation: province → commune (xã, phường, đặc khu) with
//! the statistics office's official codes, and the hamlets each commune imports for itself.
//!
//! Codes are kept as the digit strings they are (`01`, `00004`): leading zeros are part of the code.
//! Hamlet codes are not official; they are unique only within their commune.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::csv::{import, Column, ImportReport, RowIssue};

/// Vietnam's administrative units after the 2025 reorganisation (34 provinces, 3,321 communes),
/// official codes; from the `vietnamadminunits` package (MIT, see data/LICENSE-admin-units.txt).
pub const ADMIN_UNITS_2025: &str = include_str!("../../../data/admin-units-2025.csv");

/// The three kinds of commune-level unit since 1 July 2025.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommuneType {
    /// Xã
    Commune,
    /// Phường
    Ward,
    /// Đặc khu
    SpecialZone,
}

impl CommuneType {
    pub fn parse(text: &str) -> Option<Self> {
        match crate::csv::fold(text).as_str() {
            "xa" | "commune" => Some(Self::Commune),
            "phuong" | "ward" => Some(Self::Ward),
            "dac_khu" | "special_zone" => Some(Self::SpecialZone),
            _ => None,
        }
    }
}

/// One row of the units file: a commune-level unit and the province it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub province_code: String,
    pub province_name: String,
    pub commune_code: String,
    pub commune_name: String,
    pub commune_type: CommuneType,
    pub lat: f64,
    pub lon: f64,
    /// Absent for a few units in the 2025 file (e.g. Xã Thượng Trạch); a warning, not an error.
    pub area_km2: Option<f64>,
}

/// A hamlet (thôn, ấp, tổ dân phố) of a commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hamlet {
    pub commune_code: String,
    pub hamlet_code: String,
    pub hamlet_name: String,
}

fn col(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column { name, aliases, required: true }
}

fn digits(value: Option<&str>, field: &'static str, len: usize, row: usize) -> Result<String, RowIssue> {
    let value = value.ok_or_else(|| RowIssue::new(row, Some(field), "empty"))?;
    if value.len() == len && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(RowIssue::new(row, Some(field), format!("'{value}' is not a {len}-digit code")))
    }
}

fn name(value: Option<&str>, field: &'static str, row: usize) -> Result<String, RowIssue> {
    match value {
        None => Err(RowIssue::new(row, Some(field), "empty")),
        Some(v) if v.chars().any(char::is_control) => {
            Err(RowIssue::new(row, Some(field), "contains control characters"))
        }
        Some(v) => Ok(v.to_owned()),
    }
}

fn number(value: Option<&str>, field: &'static str, row: usize, range: (f64, f64)) -> Result<f64, RowIssue> {
    let value = value.ok_or_else(|| RowIssue::new(row, Some(field), "empty"))?;
    match value.parse::<f64>() {
        Ok(n) if n >= range.0 && n <= range.1 => Ok(n),
        Ok(_) => Err(RowIssue::new(row, Some(field), format!("{value} is outside {}..{}", range.0, range.1))),
        Err(_) => Err(RowIssue::new(row, Some(field), format!("'{value}' is not a number"))),
    }
}

/// Parses `province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2`.
/// Rejected rows: malformed fields, a commune code seen before, a province code whose name differs
/// from its first row. Coordinates must fall in Vietnam's box (incl. Trường Sa: 6–24 N, 102–118 E).
pub fn parse_admin_units_csv(input: &str) -> ImportReport<Unit> {
    let wanted = [
        col("province_code", &["ma_tinh"]),
        col("province_name", &["ten_tinh"]),
        col("commune_code", &["ma_xa"]),
        col("commune_name", &["ten_xa"]),
        col("commune_type", &["loai", "cap"]),
        col("lat", &["latitude", "vi_do"]),
        col("lon", &["longitude", "kinh_do"]),
        col("area_km2", &["dien_tich", "dien_tich_km2"]),
    ];
    let mut seen_communes: HashMap<String, usize> = HashMap::new();
    let mut province_names: HashMap<String, (String, usize)> = HashMap::new();
    import(input, &wanted, |c, r, warnings| {
        let row = r.row;
        let unit = Unit {
            province_code: digits(c.get(r, "province_code"), "province_code", 2, row)?,
            province_name: name(c.get(r, "province_name"), "province_name", row)?,
            commune_code: digits(c.get(r, "commune_code"), "commune_code", 5, row)?,
            commune_name: name(c.get(r, "commune_name"), "commune_name", row)?,
            commune_type: {
                let t = c.get(r, "commune_type").unwrap_or("");
                CommuneType::parse(t).ok_or_else(|| {
                    RowIssue::new(row, Some("commune_type"), format!("'{t}' is not Xã, Phường or Đặc khu"))
                })?
            },
            lat: number(c.get(r, "lat"), "lat", row, (6.0, 24.0))?,
            lon: number(c.get(r, "lon"), "lon", row, (102.0, 118.0))?,
            area_km2: match c.get(r, "area_km2") {
                None => {
                    warnings.push(RowIssue::new(row, Some("area_km2"), "empty: area unknown"));
                    None
                }
                area => Some(number(area, "area_km2", row, (0.0, 100_000.0))?),
            },
        };
        if let Some(first) = seen_communes.get(&unit.commune_code) {
            return Err(RowIssue::new(row, Some("commune_code"), format!("duplicate of row {first}")));
        }
        if let Some((known, first)) = province_names.get(&unit.province_code) {
            if *known != unit.province_name {
                let reason = format!("province {} is '{known}' on row {first}", unit.province_code);
                return Err(RowIssue::new(row, Some("province_name"), reason));
            }
        }
        seen_communes.insert(unit.commune_code.clone(), row);
        province_names.entry(unit.province_code.clone()).or_insert((unit.province_name.clone(), row));
        Ok(unit)
    })
}

/// Parses a commune's hamlet list `commune_code,hamlet_code,hamlet_name` against the known units.
/// Rejected rows: unknown commune, a hamlet code already used in the same commune, empty fields.
pub fn parse_hamlets_csv(input: &str, units: &AdminUnits) -> ImportReport<Hamlet> {
    let wanted = [col("commune_code", &["ma_xa"]), col("hamlet_code", &["ma_thon"]), col("hamlet_name", &["ten_thon"])];
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    import(input, &wanted, |c, r, _| {
        let row = r.row;
        let commune_code = digits(c.get(r, "commune_code"), "commune_code", 5, row)?;
        if units.commune(&commune_code).is_none() {
            return Err(RowIssue::new(row, Some("commune_code"), format!("unknown commune {commune_code}")));
        }
        let hamlet_code = name(c.get(r, "hamlet_code"), "hamlet_code", row)?;
        let hamlet_name = name(c.get(r, "hamlet_name"), "hamlet_name", row)?;
        let key = (commune_code.clone(), hamlet_code.clone());
        if let Some(first) = seen.get(&key) {
            return Err(RowIssue::new(row, Some("hamlet_code"), format!("duplicate of row {first}")));
        }
        seen.insert(key, row);
        Ok(Hamlet { commune_code, hamlet_code, hamlet_name })
    })
}

/// The unit tree: provinces by code, communes by code, and each commune's hamlets.
#[derive(Debug, Clone, Default)]
pub struct AdminUnits {
    provinces: BTreeMap<String, String>,
    communes: BTreeMap<String, Unit>,
    hamlets: BTreeMap<String, Vec<Hamlet>>,
}

impl AdminUnits {
    /// Builds the tree from imported rows (first row wins on a duplicate code; the parser already
    /// rejected duplicates).
    pub fn from_units(units: impl IntoIterator<Item = Unit>) -> Self {
        let mut tree = Self::default();
        for unit in units {
            tree.provinces.entry(unit.province_code.clone()).or_insert_with(|| unit.province_name.clone());
            tree.communes.entry(unit.commune_code.clone()).or_insert(unit);
        }
        tree
    }

    /// Replaces the hamlet lists of the communes present in `hamlets` (import is per commune).
    pub fn set_hamlets(&mut self, hamlets: impl IntoIterator<Item = Hamlet>) {
        let mut by_commune: BTreeMap<String, Vec<Hamlet>> = BTreeMap::new();
        for h in hamlets {
            by_commune.entry(h.commune_code.clone()).or_default().push(h);
        }
        self.hamlets.extend(by_commune);
    }

    pub fn province_count(&self) -> usize {
        self.provinces.len()
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }

    pub fn province_name(&self, province_code: &str) -> Option<&str> {
        self.provinces.get(province_code).map(String::as_str)
    }

    pub fn commune(&self, commune_code: &str) -> Option<&Unit> {
        self.communes.get(commune_code)
    }

    pub fn communes_of<'a>(&'a self, province_code: &'a str) -> impl Iterator<Item = &'a Unit> + 'a {
        self.communes.values().filter(move |u| u.province_code == province_code)
    }

    pub fn hamlets_of(&self, commune_code: &str) -> &[Hamlet] {
        self.hamlets.get(commune_code).map_or(&[], Vec::as_slice)
    }

    /// The hamlet codes of a commune, for validating a register import.
    pub fn hamlet_codes(&self, commune_code: &str) -> HashSet<&str> {
        self.hamlets_of(commune_code).iter().map(|h| h.hamlet_code.as_str()).collect()
    }

    /// The province a commune belongs to, for rolling commune counts up.
    pub fn province_of(&self, commune_code: &str) -> Option<&str> {
        self.communes.get(commune_code).map(|u| u.province_code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n";

    #[test]
    fn the_real_2025_file() {
        let report = parse_admin_units_csv(ADMIN_UNITS_2025);
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..report.errors.len().min(5)]);
        // Two units have no area in the source; they are imported with a warning.
        assert_eq!(report.warnings.len(), 2);
        assert!(report.warnings.iter().all(|w| w.field == Some("area_km2")));
        let units = AdminUnits::from_units(report.items);
        assert_eq!(units.province_count(), 34);
        assert_eq!(units.commune_count(), 3321);
        let hiep_luc = units.commune("01960").expect("Hiệp Lực");
        assert_eq!(hiep_luc.commune_name, "Xã Hiệp Lực");
        assert_eq!(hiep_luc.province_code, "19");
        assert_eq!(hiep_luc.commune_type, CommuneType::Commune);
        assert_eq!(units.province_name("19"), Some("Tỉnh Thái Nguyên"));
        assert_eq!(units.province_of("30856"), Some("91"));
    }

    #[test]
    fn three_bad_rows_are_reported_and_the_rest_imported() {
        let text = format!(
            "\u{feff}{HEADER}\
             19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\r\n\
             19,Tỉnh Thái Nguyên,1961,Xã Sai,Xã,22.3,105.9,10\r\n\
             19,Tỉnh Thái Nguyên,01962,Xã Khác,Thôn,22.3,105.9,10\r\n\
             19,Tỉnh Thái Nguyên,01963,\"Xã Có, Dấu Phẩy\",Xã,22.3,105.9,10\r\n\
             19,Tỉnh Thái Nguyên,01960,Xã Trùng,Xã,22.3,105.9,10\r\n\
             91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\r\n"
        );
        let report = parse_admin_units_csv(&text);
        assert_eq!(report.items.len(), 3);
        assert_eq!(report.items[1].commune_name, "Xã Có, Dấu Phẩy");
        let errors: Vec<_> = report.errors.iter().map(|e| (e.row, e.field)).collect();
        assert_eq!(errors, [(3, Some("commune_code")), (4, Some("commune_type")), (6, Some("commune_code"))]);
        assert!(report.errors[2].reason.contains("duplicate of row 2"), "{}", report.errors[2]);
        assert_eq!(report.errors[0].to_string(), "row 3, field commune_code: '1961' is not a 5-digit code");
    }

    #[test]
    fn missing_column_imports_nothing_and_names_it() {
        let report = parse_admin_units_csv("province_code,province_name,commune_code\n01,Hà Nội,00004\n");
        assert!(report.items.is_empty());
        assert!(report.errors.iter().all(|e| e.row == 1));
        assert!(report.errors.iter().any(|e| e.field == Some("area_km2")));
    }

    #[test]
    fn hamlets_per_commune_with_the_same_rules() {
        let units = AdminUnits::from_units(
            parse_admin_units_csv(&format!("{HEADER}19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3,105.9,105\n")).items,
        );
        let report = parse_hamlets_csv(
            "commune_code,hamlet_code,hamlet_name\n01960,T01,Thôn Bản Chang\n01960,T02,Thôn Nà Pài\n\
             99999,T01,Thôn Lạ\n01960,T01,Thôn Trùng\n01960,T03,\n",
            &units,
        );
        assert_eq!(report.items.len(), 2);
        let errors: Vec<_> = report.errors.iter().map(|e| (e.row, e.field)).collect();
        assert_eq!(errors, [(4, Some("commune_code")), (5, Some("hamlet_code")), (6, Some("hamlet_name"))]);
        let mut units = units;
        units.set_hamlets(report.items);
        assert_eq!(units.hamlets_of("01960").len(), 2);
        assert!(units.hamlet_codes("01960").contains("T02"));
    }
}
