//! The human-readable report as plain text (`kyso verify`): the same content as the `/verify`
//! page ([`crate::readable`]), verdict first. Vietnamese by default (the law asks validation
//! results in Vietnamese: issuer, signer, signing time or time-stamp, integrity, validity at
//! signing time, certificate validity period), English on request.

use crate::readable::readable;
use crate::{Indication, SignatureReport};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// The verdict in words, with its ETSI name: "HỢP LỆ (TOTAL-PASSED)".
pub fn verdict(lang: Lang, i: Indication) -> String {
    let words = match (i, lang) {
        (Indication::TotalPassed, Lang::Vi) => "HỢP LỆ",
        (Indication::TotalPassed, Lang::En) => "VALID",
        (Indication::Indeterminate, Lang::Vi) => "CHƯA XÁC ĐỊNH ĐƯỢC",
        (Indication::Indeterminate, Lang::En) => "UNDETERMINED",
        (Indication::TotalFailed, Lang::Vi) => "KHÔNG HỢP LỆ",
        (Indication::TotalFailed, Lang::En) => "INVALID",
    };
    format!("{words} ({})", crate::readable::indication_name(i))
}

/// One block per signature: heading and verdict, why, the facts, warnings, then the technical
/// details. Lines are "label: value" (no column padding: a phone or a log wraps them cleanly).
pub fn render(reports: &[SignatureReport], lang: Lang) -> String {
    let mut out = String::new();
    let (warn, tech) = match lang {
        Lang::Vi => ("Cảnh báo", "Chi tiết kỹ thuật"),
        Lang::En => ("Warnings", "Technical details"),
    };
    for r in reports {
        let v = readable(r, lang);
        out.push_str(&format!("{}: {}\n", v.heading, v.verdict));
        if let Some(why) = &v.reason {
            out.push_str(&format!("  {why}\n"));
        }
        for (k, val) in &v.rows {
            out.push_str(&format!("  {k}: {val}\n"));
        }
        if !v.warnings.is_empty() {
            out.push_str(&format!("  {warn}:\n"));
            for w in &v.warnings {
                out.push_str(&format!("  ! {w}\n"));
            }
        }
        out.push_str(&format!("  {tech}:\n"));
        for (k, val) in &v.details {
            out.push_str(&format!("    {k}: {val}\n"));
        }
        for f in &v.findings {
            out.push_str(&format!("    - {f}\n"));
        }
        out.push('\n');
    }
    out
}
