//! The report a person reads, built once from a [`SignatureReport`] and shown three ways (the
//! `/verify` page, `kyso verify`'s text, and anything else that wants it): the verdict first, one
//! plain sentence why, then who signed, the provider, the times in Vietnam time, integrity,
//! validity at signing, revocation and warnings — no jargon. The ETSI indications, the chain and
//! the technical findings go in `details`, which the page folds away.

use crate::{Indication, Kind, Lang, Modification, SignatureReport, SubIndication};

/// One signature's report in words.
#[derive(Clone, Debug)]
pub struct Readable {
    /// "Chữ ký 1", "Dấu thời gian tài liệu 2".
    pub heading: String,
    /// "HỢP LỆ", "KHÔNG HỢP LỆ", "CHƯA XÁC ĐỊNH".
    pub verdict: String,
    /// `passed`, `indeterminate` or `failed` (for colour).
    pub class: &'static str,
    /// Why, in one sentence (absent when valid).
    pub reason: Option<String>,
    /// (label, value) in reading order.
    pub rows: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// Technical: ETSI indication and sub-indication, level, chain, serial…
    pub details: Vec<(String, String)>,
    /// The validator's own findings, technical, in English.
    pub findings: Vec<String>,
}

fn t(lang: Lang, vi: &str, en: &str) -> String {
    if lang == Lang::Vi { vi } else { en }.to_string()
}

/// `dd/mm/yyyy HH:MM` in Vietnam time.
pub fn vn_time(unix: i64) -> String {
    kyso_calendar::vn_display_datetime(unix)
}

pub fn indication_name(i: Indication) -> &'static str {
    match i {
        Indication::TotalPassed => "TOTAL-PASSED",
        Indication::Indeterminate => "INDETERMINATE",
        Indication::TotalFailed => "TOTAL-FAILED",
    }
}

pub fn sub_indication_name(s: SubIndication) -> &'static str {
    match s {
        SubIndication::HashFailure => "HASH_FAILURE",
        SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
        SubIndication::Revoked => "REVOKED",
        SubIndication::RevokedNoPoe => "REVOKED_NO_POE",
        SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
        SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
        SubIndication::TryLater => "TRY_LATER",
        SubIndication::FormatFailure => "FORMAT_FAILURE",
        SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
        SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
    }
}

fn reason(lang: Lang, r: &SignatureReport) -> Option<String> {
    let s = r.sub_indication?;
    Some(match s {
        SubIndication::HashFailure => t(
            lang,
            "Tài liệu đã bị thay đổi sau khi ký.",
            "The document was modified after it was signed.",
        ),
        SubIndication::SigCryptoFailure => t(
            lang,
            "Chữ ký số không khớp với chứng thư số của người ký (dữ liệu chữ ký đã bị sửa hoặc không phải do khóa này ký).",
            "The signature does not match the signer's certificate (the signature data was altered or another key signed).",
        ),
        SubIndication::Revoked => t(
            lang,
            "Chứng thư số đã bị thu hồi trước thời điểm ký.",
            "The certificate was revoked before the signing time.",
        ),
        SubIndication::RevokedNoPoe => t(
            lang,
            "Chứng thư số đã bị thu hồi và không có dấu thời gian chứng minh chữ ký có trước thời điểm thu hồi.",
            "The certificate was revoked and no time-stamp proves the signature existed before that.",
        ),
        SubIndication::NoCertificateChainFound => t(
            lang,
            "Không xác định được tổ chức cung cấp dịch vụ chứng thực tin cậy đã cấp chứng thư số này.",
            "No trusted certificate provider could be found for this certificate.",
        ),
        SubIndication::OutOfBoundsNoPoe => t(
            lang,
            "Chứng thư số đã hết hạn (hoặc chưa có hiệu lực) và không có dấu thời gian chứng minh chữ ký được tạo khi chứng thư còn hiệu lực.",
            "The certificate has expired (or was not yet valid) and no time-stamp proves the signature was made while it was valid.",
        ),
        SubIndication::TryLater => t(
            lang,
            "Không kiểm tra được tình trạng chứng thư số (đã bị thu hồi hay chưa). Hãy kiểm tra lại sau.",
            "The certificate's status (revoked or not) could not be checked. Try again later.",
        ),
        SubIndication::FormatFailure => t(
            lang,
            "Chữ ký không đúng định dạng hoặc thiếu thông tin bắt buộc.",
            "The signature is malformed or lacks required information.",
        ),
        SubIndication::SigConstraintsFailure => t(
            lang,
            "Chữ ký không đáp ứng yêu cầu (mục đích sử dụng khóa hoặc dấu thời gian không hợp lệ).",
            "The signature does not meet the requirements (key usage, or an invalid time-stamp).",
        ),
        SubIndication::CryptoConstraintsFailure => {
            let why = r.unsupported_algorithm.clone().unwrap_or_default();
            if lang == Lang::Vi {
                format!("Thuật toán ký hoặc khóa không được hỗ trợ hoặc không đủ an toàn: {why}.")
            } else {
                format!("The signature algorithm or key is not supported or too weak: {why}.")
            }
        }
    })
}

fn integrity(lang: Lang, r: &SignatureReport) -> String {
    let changed = !r.byte_range_ok
        || (!r.digest_ok && !r.digest_unchecked)
        || matches!(r.modification, Modification::PageContentChanged { .. });
    if changed {
        return t(lang, "Tài liệu ĐÃ BỊ THAY ĐỔI sau khi ký", "The document was MODIFIED after signing");
    }
    if r.digest_unchecked {
        return t(
            lang,
            "Không kiểm tra được (thuật toán băm không được hỗ trợ)",
            "Not checked (unsupported hash algorithm)",
        );
    }
    if !r.signature_ok {
        return t(lang, "Chữ ký số không khớp với tài liệu", "The signature does not match the document");
    }
    match &r.modification {
        Modification::None => {
            t(lang, "Tài liệu không bị thay đổi sau khi ký", "The document is unchanged since signing")
        }
        Modification::AllowedLater { .. } => t(
            lang,
            "Tài liệu không bị thay đổi; sau khi ký chỉ có thêm chữ ký hoặc dữ liệu kiểm tra",
            "The document is unchanged; only signatures or validation data were added after signing",
        ),
        Modification::Unknown { .. } => t(
            lang,
            "Có phần được thêm sau khi ký mà hệ thống không phân tích được",
            "Something was added after signing that could not be analysed",
        ),
        Modification::PageContentChanged { .. } => unreachable!("handled above"),
    }
}

fn validity(lang: Lang, r: &SignatureReport) -> Option<String> {
    let (from, to) = (r.cert_valid_from?, r.cert_valid_to?);
    let period = format!("{} – {}", kyso_calendar::vn_display_date(from), kyso_calendar::vn_display_date(to));
    let at = r.timestamp_time.or(r.poe_time).or(r.claimed_signing_time);
    let ok = at.is_some_and(|at| from <= at && at <= to);
    let what = match (at, ok) {
        (None, _) => t(lang, "Thời hạn", "Validity"),
        (Some(_), true) => t(lang, "Còn hiệu lực khi ký", "Valid at signing"),
        (Some(_), false) => t(lang, "KHÔNG còn hiệu lực khi ký", "NOT valid at signing"),
    };
    Some(format!("{what} ({period})"))
}

fn revocation(lang: Lang, r: &SignatureReport) -> String {
    if r.sub_indication == Some(SubIndication::Revoked) || r.sub_indication == Some(SubIndication::RevokedNoPoe) {
        return t(lang, "ĐÃ BỊ THU HỒI", "REVOKED");
    }
    if !r.revocation_unchecked.is_empty() {
        return t(lang, "Không kiểm tra được", "Could not be checked");
    }
    if !r.chain_ok {
        return t(lang, "Chưa kiểm tra (không có chuỗi tin cậy)", "Not checked (no trusted chain)");
    }
    if r.revocation.is_empty() {
        return "—".into();
    }
    t(lang, "Chưa bị thu hồi", "Not revoked")
}

fn warnings(lang: Lang, r: &SignatureReport) -> Vec<String> {
    let vi = lang == Lang::Vi;
    let mut out = Vec::new();
    for name in &r.revocation_unchecked {
        out.push(if vi {
            format!("Không kiểm tra được tình trạng chứng thư số «{name}» (đã bị thu hồi hay chưa); kết quả chưa thể khẳng định.")
        } else {
            format!("The status of the certificate «{name}» (revoked or not) could not be checked; the result cannot be confirmed.")
        });
    }
    for name in &r.no_revocation_service {
        out.push(if vi {
            format!("Chứng thư số «{name}» không công bố dịch vụ kiểm tra thu hồi (OCSP/CRL); được chấp nhận vì thuộc gốc tin cậy đã chọn.")
        } else {
            format!("The certificate «{name}» names no revocation service (OCSP/CRL); accepted because it chains to a root you trust.")
        });
    }
    if let Some(at) = r.poe_time {
        out.push(if vi {
            format!("Chứng thư số đã hết hạn, nhưng dấu thời gian tài liệu lúc {} chứng minh chữ ký đã có khi chứng thư còn hiệu lực.", vn_time(at))
        } else {
            format!("The certificate has expired since, but a document time-stamp of {} proves the signature existed while it was valid.", vn_time(at))
        });
    }
    if r.kind == Kind::Signature && r.timestamp_time.is_none() && r.poe_time.is_none() {
        out.push(t(
            lang,
            "Chữ ký không có dấu thời gian: thời điểm ký do người ký tự khai, chưa được chứng minh.",
            "The signature has no time-stamp: the signing time is stated by the signer, not proven.",
        ));
    }
    if !r.key_usage_ok && r.chain_ok {
        out.push(t(
            lang,
            "Chứng thư số không được cấp cho mục đích ký tài liệu.",
            "The certificate is not issued for signing documents.",
        ));
    }
    out
}

/// The report in words, in `lang`.
pub fn readable(r: &SignatureReport, lang: Lang) -> Readable {
    let doc_ts = r.kind == Kind::DocumentTimestamp;
    let heading = if doc_ts {
        format!("{} {}", t(lang, "Dấu thời gian tài liệu", "Document time-stamp"), r.index + 1)
    } else {
        format!("{} {}", t(lang, "Chữ ký", "Signature"), r.index + 1)
    };
    let (verdict, class) = match r.indication {
        Indication::TotalPassed => (t(lang, "HỢP LỆ", "VALID"), "passed"),
        Indication::Indeterminate => (t(lang, "CHƯA XÁC ĐỊNH ĐƯỢC", "UNDETERMINED"), "indeterminate"),
        Indication::TotalFailed => (t(lang, "KHÔNG HỢP LỆ", "INVALID"), "failed"),
    };
    let mut rows = Vec::new();
    let who = match (&r.signer_name, &r.signer_id_masked) {
        (Some(n), Some(id)) => format!("{n} ({id})"),
        (Some(n), None) => n.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => "—".into(),
    };
    rows.push((
        if doc_ts {
            t(lang, "Đơn vị cấp dấu thời gian", "Time-stamping authority")
        } else {
            t(lang, "Người ký", "Signer")
        },
        who,
    ));
    let provider = match (&r.issuer_org, &r.issuer_name) {
        (Some(o), Some(cn)) if o != cn => format!("{o} — {cn}"),
        (Some(o), _) => o.clone(),
        (None, Some(cn)) => cn.clone(),
        (None, None) => "—".into(),
    };
    rows.push((t(lang, "Nhà cung cấp dịch vụ chứng thực", "Certificate provider"), provider));
    if !doc_ts {
        let claimed = r
            .claimed_signing_time
            .map(|s| format!("{} {}", vn_time(s), t(lang, "(người ký tự khai)", "(stated by the signer)")));
        rows.push((t(lang, "Thời điểm ký", "Signing time"), claimed.unwrap_or_else(|| "—".into())));
    }
    let ts = r.timestamp_time.map(|s| format!("{} {}", vn_time(s), t(lang, "(giờ Việt Nam)", "(Vietnam time)")));
    rows.push((t(lang, "Dấu thời gian", "Time-stamp"), ts.unwrap_or_else(|| t(lang, "Không có", "None"))));
    rows.push((t(lang, "Tính toàn vẹn", "Integrity"), integrity(lang, r)));
    if let Some(v) = validity(lang, r) {
        rows.push((t(lang, "Hiệu lực chứng thư số", "Certificate validity"), v));
    }
    rows.push((
        t(lang, "Chuỗi tin cậy", "Trust"),
        if r.chain_ok {
            t(lang, "Được cấp bởi tổ chức tin cậy", "Issued under a trusted root")
        } else {
            t(lang, "Không xác định được", "Not established")
        },
    ));
    rows.push((t(lang, "Tình trạng thu hồi", "Revocation"), revocation(lang, r)));

    let mut details = vec![(
        t(lang, "Kết luận theo ETSI EN 319 102-1", "ETSI EN 319 102-1 indication"),
        match r.sub_indication {
            Some(s) => format!("{} / {}", indication_name(r.indication), sub_indication_name(s)),
            None => indication_name(r.indication).to_string(),
        },
    )];
    if let Some(level) = r.level {
        details.push((t(lang, "Mức chữ ký (PAdES/CAdES)", "Baseline level"), level.as_str().into()));
    }
    if !r.chain.is_empty() {
        details.push((t(lang, "Chuỗi chứng thư", "Certificate path"), r.chain.join(" → ")));
    }
    if let Some(serial) = &r.serial {
        details.push((t(lang, "Số hiệu chứng thư", "Certificate serial"), serial.clone()));
    }
    if !r.revocation.is_empty() {
        details.push((t(lang, "Dữ liệu thu hồi", "Revocation data"), r.revocation.clone()));
    }
    if let Some(f) = &r.field_name {
        details.push((t(lang, "Trường chữ ký", "Signature field"), f.clone()));
    }
    let mut findings: Vec<String> = r.problems.clone();
    findings.extend(r.warnings.iter().cloned());
    Readable { heading, verdict, class, reason: reason(lang, r), rows, warnings: warnings(lang, r), details, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed() -> SignatureReport {
        let mut r = crate::blank(0, Some("Sig1".into()));
        r.signer_name = Some("NGUYỄN VĂN A".into());
        r.signer_id_masked = Some("CCCD:0012****7890".into());
        r.issuer_org = Some("VNPT".into());
        r.issuer_name = Some("VNPT-CA SHA-256".into());
        (r.byte_range_ok, r.digest_ok, r.signature_ok, r.signing_certificate_ok, r.chain_ok, r.key_usage_ok) =
            (true, true, true, true, true, true);
        r.claimed_signing_time = Some(1_795_000_000); // 18/11/2026 11:06:40 UTC
        r.timestamp_time = Some(1_795_000_060);
        r.cert_valid_from = Some(1_790_000_000);
        r.cert_valid_to = Some(1_800_000_000);
        r.revocation = "NGUYỄN VĂN A: good (OCSP)".into();
        r.modification = Modification::AllowedLater { bytes: 900 };
        crate::finish(&mut r);
        r
    }

    #[test]
    fn verdict_first_in_words_times_in_vietnam() {
        let v = readable(&passed(), Lang::Vi);
        assert_eq!((v.heading.as_str(), v.verdict.as_str(), v.class), ("Chữ ký 1", "HỢP LỆ", "passed"));
        assert_eq!(v.reason, None);
        let row = |k: &str| v.rows.iter().find(|(l, _)| l == k).map(|(_, x)| x.as_str()).unwrap_or("");
        assert_eq!(row("Người ký"), "NGUYỄN VĂN A (CCCD:0012****7890)");
        assert_eq!(row("Nhà cung cấp dịch vụ chứng thực"), "VNPT — VNPT-CA SHA-256");
        assert_eq!(row("Thời điểm ký"), "18/11/2026 18:06 (người ký tự khai)");
        assert_eq!(row("Dấu thời gian"), "18/11/2026 18:07 (giờ Việt Nam)");
        assert!(row("Tính toàn vẹn").starts_with("Tài liệu không bị thay đổi"));
        assert!(row("Hiệu lực chứng thư số").starts_with("Còn hiệu lực khi ký"));
        assert_eq!(row("Tình trạng thu hồi"), "Chưa bị thu hồi");
        // no jargon outside the details
        let shown = format!("{:?}{:?}", v.rows, v.warnings);
        assert!(!shown.contains("TOTAL") && !shown.contains("OCSP"), "{shown}");
        assert!(v.details[0].1 == "TOTAL-PASSED");
    }

    #[test]
    fn a_tampered_document_is_said_to_be_modified() {
        let mut r = passed();
        r.digest_ok = false; // a byte inside the signed ranges changed
        crate::finish(&mut r);
        let v = readable(&r, Lang::Vi);
        assert_eq!(v.verdict, "KHÔNG HỢP LỆ");
        assert_eq!(v.reason.as_deref(), Some("Tài liệu đã bị thay đổi sau khi ký."));
        let integrity = &v.rows.iter().find(|(l, _)| l == "Tính toàn vẹn").unwrap().1;
        assert_eq!(integrity, "Tài liệu ĐÃ BỊ THAY ĐỔI sau khi ký", "not 'only signatures were added'");
        let text = crate::render(&[r], Lang::En);
        assert!(text.starts_with("Signature 1: INVALID\n  The document was modified after it was signed.\n"), "{text}");
        assert!(text.contains("Integrity: The document was MODIFIED after signing"), "{text}");
    }

    #[test]
    fn unchecked_revocation_warns_in_vietnamese() {
        let mut r = passed();
        r.revocation_unchecked.push("NGUYỄN VĂN A".into());
        r.sub_indication = Some(SubIndication::TryLater);
        crate::finish(&mut r);
        let v = readable(&r, Lang::Vi);
        assert_eq!(v.verdict, "CHƯA XÁC ĐỊNH ĐƯỢC");
        assert!(v.warnings[0].starts_with("Không kiểm tra được tình trạng chứng thư số «NGUYỄN VĂN A»"), "{v:?}");
        let xml = crate::etsi_xml(&[r], 1_795_000_100, Some(&[0u8; 32]));
        assert!(xml.contains("<vr:MainIndication>urn:etsi:019102:mainindication:indeterminate</vr:MainIndication>"));
        assert!(xml.contains("<vr:SubIndication>urn:etsi:019102:subindication:TRY_LATER</vr:SubIndication>"));
    }
}
