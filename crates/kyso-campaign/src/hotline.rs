//! The hotline: the topics operators file each question under, the caller written down only
//! masked, the week's most-asked topics for the weekly report, and the FAQ searched without regard
//! to diacritics ("chu ky so" finds "chữ ký số").
//!
//! [`fold`] is the one search key: the store keeps each FAQ entry's folded text in a column and
//! matches folded query words against it with `LIKE`, the same on SQLite and PostgreSQL (neither
//! needs an extension or a collation).

use std::collections::BTreeMap;

/// What a caller asked about. The order is the menu's and breaks ties in [`top_topics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    EidLevel2,
    Register,
    Provider,
    Activate,
    Pin,
    Sign,
    Renewal,
    Fees,
    SupportPoint,
    Other,
}

impl Topic {
    pub const ALL: [Topic; 10] = [
        Topic::EidLevel2,
        Topic::Register,
        Topic::Provider,
        Topic::Activate,
        Topic::Pin,
        Topic::Sign,
        Topic::Renewal,
        Topic::Fees,
        Topic::SupportPoint,
        Topic::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Topic::EidLevel2 => "eid_level2",
            Topic::Register => "register",
            Topic::Provider => "provider",
            Topic::Activate => "activate",
            Topic::Pin => "pin",
            Topic::Sign => "sign",
            Topic::Renewal => "renewal",
            Topic::Fees => "fees",
            Topic::SupportPoint => "support_point",
            Topic::Other => "other",
        }
    }

    pub fn parse(key: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.key() == key.trim())
    }

    /// (Vietnamese, English).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Topic::EidLevel2 => ("Định danh điện tử mức 2", "Level-2 e-ID"),
            Topic::Register => ("Đăng ký tài khoản", "Registering an account"),
            Topic::Provider => ("Chọn nhà cung cấp", "Choosing a provider"),
            Topic::Activate => ("Kích hoạt chứng thư số", "Activating a certificate"),
            Topic::Pin => ("Mã PIN, chứng thư bị khóa", "PIN, locked certificate"),
            Topic::Sign => ("Ký số hồ sơ, tài liệu", "Signing documents"),
            Topic::Renewal => ("Gia hạn, thu hồi chứng thư", "Renewing, revoking"),
            Topic::Fees => ("Chi phí", "Fees"),
            Topic::SupportPoint => ("Điểm hỗ trợ, giờ làm việc", "Support points, opening hours"),
            Topic::Other => ("Khác", "Other"),
        }
    }
}

/// Lower case without Vietnamese diacritics (đ → d), every run of other characters one space:
/// the key FAQ entries are stored under and queries are matched with. Only ASCII letters, digits
/// and single spaces come out, so a folded word is safe inside a `LIKE` pattern.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        // Combining marks (text typed in decomposed form) carry only the tone or the hat.
        if ('\u{0300}'..='\u{036f}').contains(&c) {
            continue;
        }
        match base_letter(c) {
            Some(b) => {
                out.push(b);
                space = false;
            }
            None if !space => {
                out.push(' ');
                space = true;
            }
            None => {}
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The ASCII letter or digit a lower-case character reads as, if any.
fn base_letter(c: char) -> Option<char> {
    const GROUPS: [(&str, char); 7] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
    ];
    if c.is_ascii_alphanumeric() {
        return Some(c);
    }
    GROUPS.iter().find(|(set, _)| set.contains(c)).map(|(_, b)| *b)
}

/// The folded words of a search, at most `max` of them (longer queries are cut, not refused).
pub fn query_words(query: &str, max: usize) -> Vec<String> {
    fold(query).split(' ').filter(|w| !w.is_empty()).take(max).map(str::to_owned).collect()
}

/// Does a folded text contain every folded query word? What the store's `LIKE`s decide.
pub fn matches(folded: &str, words: &[String]) -> bool {
    words.iter().all(|w| folded.contains(w.as_str()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error("write the caller's phone or ID number in digits (or leave it empty)")]
    NotDigits,
    #[error("a phone number has 10 digits, an ID number 12")]
    Length,
}

/// The caller as the log keeps them: a phone (10 digits) or an ID number (12 digits) masked
/// (`091****678`, `0191****0001`), never in full; empty for an anonymous caller. Spaces, dots and
/// dashes are ignored; a leading +84 becomes 0.
pub fn mask_caller(text: &str) -> Result<String, CallerError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let t = t.strip_prefix("+84").map(|rest| format!("0{rest}")).unwrap_or_else(|| t.to_owned());
    let digits: String = t.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(CallerError::NotDigits);
    }
    match digits.len() {
        10 => Ok(format!("{}****{}", &digits[..3], &digits[7..])),
        12 => Ok(format!("{}****{}", &digits[..4], &digits[8..])),
        _ => Err(CallerError::Length),
    }
}

/// How often a topic was asked in a period and how many of those questions were answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCount {
    pub topic: Topic,
    pub asked: u64,
    pub resolved: u64,
}

/// The topics asked, most-asked first (ties in menu order), at most `limit`. `calls` are
/// (topic key, resolved); unknown keys count as [`Topic::Other`].
pub fn top_topics<'a>(calls: impl IntoIterator<Item = (&'a str, bool)>, limit: usize) -> Vec<TopicCount> {
    let mut by: BTreeMap<Topic, (u64, u64)> = BTreeMap::new();
    for (key, resolved) in calls {
        let e = by.entry(Topic::parse(key).unwrap_or(Topic::Other)).or_default();
        e.0 += 1;
        e.1 += u64::from(resolved);
    }
    let mut out: Vec<TopicCount> =
        by.into_iter().map(|(topic, (asked, resolved))| TopicCount { topic, asked, resolved }).collect();
    out.sort_by(|a, b| b.asked.cmp(&a.asked).then(a.topic.cmp(&b.topic)));
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_tones_and_hats_and_reads_d_bar_as_d() {
        assert_eq!(fold("Chữ ký số"), "chu ky so");
        assert_eq!(fold("ĐỊNH DANH điện tử mức 2"), "dinh danh dien tu muc 2");
        assert_eq!(fold("Ủy ban nhân dân xã Hiệp Lực"), "uy ban nhan dan xa hiep luc");
        assert_eq!(fold("Mã PIN bị khóa?!  Gọi 1900-xxxx"), "ma pin bi khoa goi 1900 xxxx");
        // Decomposed input (a base letter and combining marks) folds the same.
        assert_eq!(fold("Chu\u{031b}\u{0303} ky\u{0301} so\u{0302}\u{0301}"), "chu ky so");
        assert_eq!(fold("ắằẳẵặ ếềểễệ ốồổỗộ ớờởỡợ ứừửữự ỳýỷỹỵ"), "aaaaa eeeee ooooo ooooo uuuuu yyyyy");
        assert_eq!(fold("  "), "");
        // Letters outside Vietnamese are not letters of the key.
        assert_eq!(fold("ß ñ ü"), "");
    }

    #[test]
    fn a_query_without_accents_finds_text_with_them() {
        let entry = fold("Làm sao để có chữ ký số miễn phí?");
        assert!(matches(&entry, &query_words("chu ky so", 8)));
        assert!(matches(&entry, &query_words("CHỮ KÝ", 8)));
        assert!(matches(&entry, &query_words("mien phi", 8)));
        assert!(!matches(&entry, &query_words("chu ky so gia han", 8)));
        assert_eq!(query_words("a b c d", 2), ["a", "b"]);
        assert!(query_words("%_'\"", 8).is_empty(), "LIKE metacharacters never reach a pattern");
    }

    #[test]
    fn callers_are_kept_masked() {
        assert_eq!(mask_caller("0912 345 678").as_deref(), Ok("091****678"));
        assert_eq!(mask_caller("+84912345678").as_deref(), Ok("091****678"));
        assert_eq!(mask_caller("019195000003").as_deref(), Ok("0191****0003"));
        assert_eq!(mask_caller(" ").as_deref(), Ok(""));
        assert_eq!(mask_caller("Nguyễn Văn An"), Err(CallerError::NotDigits));
        assert_eq!(mask_caller("12345"), Err(CallerError::Length));
    }

    #[test]
    fn most_asked_topics_first_ties_in_menu_order() {
        let calls = [
            ("pin", true),
            ("pin", false),
            ("fees", true),
            ("eid_level2", false),
            ("eid_level2", true),
            ("nonsense", true),
        ];
        let top = top_topics(calls, 3);
        let got: Vec<(Topic, u64, u64)> = top.iter().map(|t| (t.topic, t.asked, t.resolved)).collect();
        assert_eq!(got, [(Topic::EidLevel2, 2, 1), (Topic::Pin, 2, 1), (Topic::Fees, 1, 1)]);
        assert_eq!(top_topics(calls, 10).last().map(|t| t.topic), Some(Topic::Other));
        assert!(top_topics([], 5).is_empty());
    }
}
