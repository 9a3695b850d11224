//! The one place for the pages' language: Vietnamese first, English when asked (`?lang=en`, then
//! the `kyso_lang` cookie). Pages and templates say every text in both languages through
//! [`Lang::t`]; nothing else decides which one is shown. Figures go through [`Lang::num`],
//! [`Lang::pct`], [`Lang::date`] and [`Lang::datetime`] (`kyso_fmt`): `5.480`, `6,20 %`,
//! `31/12/2025`, `31/12/2025 14:05` in Vietnam time.

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

    /// The style of figures in this language.
    pub fn style(self) -> kyso_fmt::Style {
        match self {
            Lang::Vi => kyso_fmt::Style::Vi,
            Lang::En => kyso_fmt::Style::En,
        }
    }

    /// A count: `5.480` / `5,480`.
    pub fn num(self, n: impl kyso_fmt::Whole) -> String {
        kyso_fmt::int(n, self.style())
    }

    /// A decimal with `places` digits after the point: `12,5` / `12.5`.
    pub fn dec(self, x: f64, places: usize) -> String {
        kyso_fmt::decimal(x, places, self.style())
    }

    /// A percentage given in percent: `6,20 %` / `6.20%` (two decimals).
    pub fn pct(self, x: f64) -> String {
        kyso_fmt::percent(x, 2, self.style())
    }

    /// A share in hundredths of a percent (`kyso_campaign::plan::Percent`), or `–` without one.
    pub fn share(self, p: Option<kyso_campaign::plan::Percent>) -> String {
        p.map_or_else(|| "–".into(), |p| kyso_fmt::percent_x100(i64::from(p.hundredths()), self.style()))
    }

    /// An ISO date (`2025-12-31`) as `31/12/2025`; other text as it is.
    pub fn date(self, iso: impl AsRef<str>) -> String {
        kyso_fmt::iso_date(iso.as_ref())
    }

    /// A calendar date as `31/12/2025`.
    pub fn day(self, d: time::Date) -> String {
        kyso_fmt::date(d)
    }

    /// A Unix instant as `31/12/2025 14:05`, Vietnam time.
    pub fn datetime(self, unix: i64) -> String {
        kyso_fmt::vn_datetime(unix)
    }

    /// `vi` or `en`, as in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        self.t("vi", "en")
    }

    /// A form or query field in words, as a sentence starts with it ("Số định danh cá nhân"),
    /// for the field names kyso's forms and queries use; an unknown name is quoted as it is.
    pub fn field(self, name: &str) -> std::borrow::Cow<'static, str> {
        let (vi, en) = match name {
            "id_number" => ("Số định danh cá nhân", "The ID number"),
            "phone" => ("Số điện thoại", "The phone number"),
            "password" | "password2" => ("Mật khẩu", "The password"),
            "pin" | "new_pin" => ("Mã PIN", "The PIN"),
            "date" => ("Ngày", "The date"),
            "period" => ("Kỳ báo cáo", "The reporting period"),
            "freq" => ("Tần suất báo cáo", "The report frequency"),
            "kind" => ("Loại bảng", "The table kind"),
            "unit" | "unit_code" => ("Đơn vị", "The unit"),
            "commune" => ("Xã, phường", "The commune"),
            "hamlet" => ("Thôn, tổ dân phố", "The hamlet"),
            "province" => ("Tỉnh, thành phố", "The province"),
            "lang" => ("Ngôn ngữ", "The language"),
            "outcome" => ("Kết quả thăm hộ", "The visit's outcome"),
            "person" => ("Người được thăm", "The person visited"),
            "credential" | "serial" => ("Chứng thư số", "The certificate"),
            "provider" => ("Nhà cung cấp dịch vụ chứng thực", "The certificate provider"),
            "by" => ("Người báo cáo", "Who submits"),
            "difficulties" => ("Khó khăn, vướng mắc", "The difficulties section"),
            "proposals" => ("Đề xuất, kiến nghị", "The proposals section"),
            "method" => ("Cách xác minh", "The verification method"),
            "place" | "point_id" => ("Điểm hỗ trợ", "The support point"),
            "officer" => ("Cán bộ", "The officer"),
            "activation" => ("Kết quả kích hoạt", "The activation result"),
            "full_name" | "name" | "display_name" => ("Họ và tên", "The name"),
            "household" => ("Hộ", "The household"),
            "address" => ("Địa chỉ", "The address"),
            "note" => ("Ghi chú", "The note"),
            "reason" => ("Lý do", "The reason"),
            "task" => ("Nhiệm vụ", "The task"),
            "team" => ("Tổ công nghệ số", "The team"),
            // Issue 21: the hotline, training and report approval forms.
            "topic" => ("Chủ đề", "The topic"),
            "caller" => ("Người gọi", "The caller"),
            "question" => ("Câu hỏi", "The question"),
            "answer" => ("Câu trả lời", "The answer"),
            "hours" => ("Giờ làm việc", "The operator hours"),
            "trainer" => ("Giảng viên", "The trainer"),
            "others" => ("Người tham dự khác", "The other attendees"),
            "roster" => ("Danh sách người tham dự", "The attendee list"),
            "decision" => ("Quyết định", "The decision"),
            "username" => ("Tên đăng nhập", "The user name"),
            "csrf" => ("Mã bảo vệ biểu mẫu", "The form's security token"),
            "file" | "pdf" => ("Tệp", "The file"),
            "session_time" => ("Giờ bắt đầu", "The start time"),
            "venue" => ("Địa điểm", "The place"),
            "channel" => ("Kênh gửi", "The channel"),
            other => return std::borrow::Cow::Owned(format!("«{other}»")),
        };
        std::borrow::Cow::Borrowed(self.t(vi, en))
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

    #[test]
    fn figures_in_each_language() {
        assert_eq!(Lang::Vi.num(5480u64), "5.480");
        assert_eq!(Lang::En.num(5480u64), "5,480");
        assert_eq!(Lang::Vi.pct(6.2), "6,20 %");
        assert_eq!(Lang::Vi.share(Some(kyso_campaign::plan::Percent::from_hundredths(620))), "6,20 %");
        assert_eq!(Lang::En.share(None), "–");
        assert_eq!(Lang::En.date("2025-12-31"), "31/12/2025");
    }

    #[test]
    fn fields_are_named_in_words() {
        assert_eq!(Lang::Vi.field("id_number"), "Số định danh cá nhân");
        assert_eq!(Lang::En.field("date"), "The date");
        assert_eq!(Lang::Vi.field("zzz"), "«zzz»");
    }
}
