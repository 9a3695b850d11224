//! The one place for the pages' language: Vietnamese first, English when asked (`?lang=en`, then
//! the `kyso_lang` cookie). Pages and templates say every text in both languages through
//! [`Lang::t`]; nothing else decides which one is shown.

/// The language of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn from_en(en: bool) -> Lang {
        if en {
            Lang::En
        } else {
            Lang::Vi
        }
    }

    pub fn en(self) -> bool {
        self == Lang::En
    }

    /// The text in this language.
    pub fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// `vi` or `en`, as in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        self.t("vi", "en")
    }

    /// A link within kyso that keeps English when the page is in English (Vietnamese is the
    /// default and needs no parameter).
    pub fn href(self, path: &str) -> String {
        match self {
            Lang::Vi => path.to_string(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn english_links_keep_their_query() {
        assert_eq!(Lang::En.href("/campaign?commune=1"), "/campaign?commune=1&lang=en");
        assert_eq!(Lang::En.href("/verify"), "/verify?lang=en");
        assert_eq!(Lang::Vi.href("/verify"), "/verify");
        assert_eq!(Lang::Vi.t("xin chào", "hello"), "xin chào");
    }
}
