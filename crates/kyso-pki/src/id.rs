//! The 12-digit citizen ID number (số định danh cá nhân / CCCD): `PPP G YY NNNNNN`.
//! Display is masked (`0012****7890`); the full number is only reachable through `expose()`,
//! so it cannot end up in a log line by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("ID number must be exactly 12 digits, got {0}")]
    Length(usize),
    /// Twelve characters, one of them (`found`, 1-based `position`) not a digit: `01908A123456`.
    #[error("ID number must be 12 digits: '{found}' at position {position} is not a digit")]
    NotDigit { position: usize, found: char },
    #[error("ID number has century/sex digit {0}; expected 0-9 per the PPP G YY NNNNNN structure")]
    Century(u8),
}

impl CitizenId {
    pub fn parse(s: &str) -> Result<CitizenId, IdError> {
        let s = s.trim();
        let n = s.chars().count();
        if n != 12 {
            return Err(IdError::Length(n));
        }
        if let Some((at, found)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdError::NotDigit { position: at + 1, found });
        }
        Ok(CitizenId(s.to_string()))
    }
    /// The full number. Call only where a role needs it (certificate subject, storage key).
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `0012****7890`: first four and last four digits.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..4], &self.0[8..])
    }
    /// Birth-registration province code (old 63-province numbering).
    pub fn birth_province_code(&self) -> &str {
        &self.0[..3]
    }
    /// (male?, century start) from the G digit: 0/1 → 1900s, 2/3 → 2000s, 4/5 → 2100s …
    pub fn sex_and_century(&self) -> (bool, u16) {
        let g = self.0.as_bytes()[3] - b'0';
        (g.is_multiple_of(2), 1900 + 100 * u16::from(g / 2))
    }
    /// Year of birth implied by the number.
    pub fn birth_year(&self) -> u16 {
        let yy: u16 = self.0[4..6].parse().unwrap_or(0);
        self.sex_and_century().1 + yy
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

/// Parse a subject UID value: `CCCD:`, `CMND:`, `HC:`, `MST:`, `BHXH:` prefixes are all seen in
/// Vietnamese certificates. Returns (prefix, value).
pub fn parse_uid(uid: &str) -> Option<(&str, &str)> {
    let (p, v) = uid.split_once(':')?;
    matches!(p, "CCCD" | "CMND" | "HC" | "MST" | "BHXH").then_some((p, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let id = CitizenId::parse("001203001234").unwrap();
        assert_eq!(id.masked(), "0012****1234");
        assert_eq!(format!("{id}"), "0012****1234");
        assert_eq!(format!("{id:?}"), "CitizenId(0012****1234)");
        assert_eq!(id.birth_province_code(), "001");
        assert_eq!(id.birth_year(), 2003);
        assert!(!id.sex_and_century().0 || id.sex_and_century().0);
        assert_eq!(CitizenId::parse("019190000001").unwrap().birth_year(), 1990);
        assert_eq!(CitizenId::parse("019190000001").unwrap().sex_and_century(), (false, 1900));
    }

    #[test]
    fn rejects_bad_numbers_naming_the_problem() {
        assert_eq!(CitizenId::parse("00120300123"), Err(IdError::Length(11)));
        assert_eq!(CitizenId::parse("00120300123a"), Err(IdError::NotDigit { position: 12, found: 'a' }));
        assert_eq!(CitizenId::parse("01908A123456"), Err(IdError::NotDigit { position: 6, found: 'A' }));
        assert_eq!(
            CitizenId::parse("01908A123456").unwrap_err().to_string(),
            "ID number must be 12 digits: 'A' at position 6 is not a digit"
        );
        assert_eq!(CitizenId::parse("0012030012345"), Err(IdError::Length(13)));
    }

    #[test]
    fn uid_prefixes() {
        assert_eq!(parse_uid("CCCD:001203001234"), Some(("CCCD", "001203001234")));
        assert_eq!(parse_uid("MST:0101234567"), Some(("MST", "0101234567")));
        assert_eq!(parse_uid("XYZ:1"), None);
    }
}
