//! The human-readable report. Vietnamese by default (the law asks validation results in
//! Vietnamese: issuer, signer, signing time or time-stamp, integrity, validity at signing time,
//! certificate validity period), English on request.

use crate::{Indication, Kind, Modification, SignatureReport, SubIndication};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

fn t(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Vi {
        vi
    } else {
        en
    }
}

fn time(s: Option<i64>) -> String {
    s.map(kyso_pki::time::rfc3339).unwrap_or_else(|| "—".into())
}

fn yes(lang: Lang, b: bool) -> &'static str {
    if b {
        t(lang, "đạt", "passed")
    } else {
        t(lang, "KHÔNG đạt", "FAILED")
    }
}

pub fn verdict(lang: Lang, i: Indication) -> &'static str {
    match i {
        Indication::TotalPassed => t(lang, "HỢP LỆ (TOTAL-PASSED)", "VALID (TOTAL-PASSED)"),
        Indication::Indeterminate => t(lang, "CHƯA XÁC ĐỊNH (INDETERMINATE)", "UNDETERMINED (INDETERMINATE)"),
        Indication::TotalFailed => t(lang, "KHÔNG HỢP LỆ (TOTAL-FAILED)", "INVALID (TOTAL-FAILED)"),
    }
}

fn sub(s: SubIndication) -> &'static str {
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

/// One text block per signature.
pub fn render(reports: &[SignatureReport], lang: Lang) -> String {
    let mut out = String::new();
    for r in reports {
        let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<34} {v}\n"));
        let heading = match r.kind {
            Kind::Signature => t(lang, "Chữ ký", "Signature"),
            Kind::DocumentTimestamp => t(lang, "Dấu thời gian tài liệu", "Document time-stamp"),
        };
        line(&format!("{heading} #{}", r.index + 1), verdict(lang, r.indication).into());
        if let Some(s) = r.sub_indication {
            line(t(lang, "Chỉ dẫn phụ", "Sub-indication"), sub(s).into());
        }
        if let Some(level) = r.level {
            line(t(lang, "Mức chữ ký (PAdES/CAdES)", "Baseline level"), level.as_str().into());
        }
        let who = match r.kind {
            Kind::Signature => t(lang, "Người ký", "Signer"),
            Kind::DocumentTimestamp => t(lang, "Đơn vị cấp dấu thời gian", "Time-stamping authority"),
        };
        line(
            who,
            format!("{} {}", r.signer_name.clone().unwrap_or_default(), r.signer_id_masked.clone().unwrap_or_default()),
        );
        line(t(lang, "Tổ chức cấp chứng thư", "Issuer"), r.issuer_name.clone().unwrap_or_default());
        line(t(lang, "Thời gian ký (tự khai)", "Signing time (claimed)"), time(r.claimed_signing_time));
        line(t(lang, "Dấu thời gian", "Time-stamp"), time(r.timestamp_time));
        line(
            t(lang, "Toàn vẹn dữ liệu", "Integrity"),
            yes(lang, r.byte_range_ok && r.digest_ok && r.signature_ok).into(),
        );
        line(
            t(lang, "Chuỗi chứng thư đến gốc tin cậy", "Path to a trust anchor"),
            format!("{} ({})", yes(lang, r.chain_ok), r.chain.join(" → ")),
        );
        line(t(lang, "Trạng thái thu hồi khi ký", "Revocation at signing time"), r.revocation.clone());
        line(
            t(lang, "Hiệu lực chứng thư", "Certificate validity"),
            format!("{} → {}", time(r.cert_valid_from), time(r.cert_valid_to)),
        );
        line(t(lang, "Mục đích sử dụng khóa", "Key usage"), yes(lang, r.key_usage_ok).into());
        let m = match &r.modification {
            Modification::None => t(lang, "không có thay đổi sau khi ký", "no change after signing").to_string(),
            Modification::AllowedLater { bytes } => format!(
                "{} ({bytes} bytes)",
                t(
                    lang,
                    "chỉ thêm chữ ký/dữ liệu xác thực sau khi ký",
                    "only signatures/validation data added after signing"
                )
            ),
            Modification::PageContentChanged { detail, .. } => {
                format!("{}: {detail}", t(lang, "NỘI DUNG BỊ THAY ĐỔI sau khi ký", "CONTENT CHANGED after signing"))
            }
            Modification::Unknown { detail, .. } => format!(
                "{}: {detail}",
                t(lang, "có thay đổi chưa phân tích được", "changes that could not be analysed")
            ),
        };
        line(t(lang, "Thay đổi sau khi ký", "Changes after signing"), m);
        for p in &r.problems {
            out.push_str(&format!("  ✗ {p}\n"));
        }
        for w in &r.warnings {
            out.push_str(&format!("  ! {w}\n"));
        }
        out.push('\n');
    }
    out
}
