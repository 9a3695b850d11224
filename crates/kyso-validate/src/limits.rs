//! The bounds on one validation ([`Limits`]) and the errors that stop a validation before any
//! verdict ([`ValidationError`]), worded in Vietnamese or English.

use crate::Lang;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error("this PDF has no signature")]
    NoSignature,
    /// The file does not start with `%PDF-`: not a PDF at all (a photo, a Word file, …).
    #[error("not a PDF: the file does not start with %PDF-")]
    NotPdf,
    #[error(transparent)]
    Sign(#[from] kyso_sign::SignError),
    /// A bound of [`Limits`] was hit before the expensive checks ran.
    #[error("{}", .0.message(Lang::En))]
    Limit(LimitExceeded),
}

/// Which bound of [`Limits`] a file went over, and by how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum LimitExceeded {
    /// The file is larger than `max_bytes`.
    Bytes { found: usize, max: usize },
    /// More signature dictionaries (signatures and document time-stamps) than `max_signatures`.
    Signatures { found: usize, max: usize },
    /// More DSS entries (certificates, OCSP responses, CRLs) than `max_dss_items`.
    DssItems { found: usize, max: usize },
    /// The bytes to hash and parse add up to more than `max_work_bytes` (the work budget).
    Work { found: usize, max: usize },
}

impl LimitExceeded {
    /// The bound's name as the JSON API reports it.
    pub fn name(&self) -> &'static str {
        match self {
            LimitExceeded::Bytes { .. } => "bytes",
            LimitExceeded::Signatures { .. } => "signatures",
            LimitExceeded::DssItems { .. } => "dss_items",
            LimitExceeded::Work { .. } => "work",
        }
    }

    /// What was refused and why, in Vietnamese or English.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match *self {
            LimitExceeded::Bytes { found, max } if vi => {
                format!("Tệp có {found} byte; hệ thống chỉ kiểm tra tệp tối đa {max} byte.")
            }
            LimitExceeded::Bytes { found, max } => {
                format!("the file has {found} bytes; at most {max} bytes are validated")
            }
            LimitExceeded::Signatures { found, max } if vi => format!(
                "Tệp có {found} chữ ký (kể cả dấu thời gian tài liệu); hệ thống chỉ kiểm tra tệp có tối đa {max} chữ ký."
            ),
            LimitExceeded::Signatures { found, max } => format!(
                "the file has {found} signature dictionaries (signatures and document time-stamps); at most {max} are validated"
            ),
            LimitExceeded::DssItems { found, max } if vi => format!(
                "Dữ liệu kiểm tra hiệu lực (DSS) trong tệp có {found} mục; hệ thống chỉ đọc tối đa {max} mục."
            ),
            LimitExceeded::DssItems { found, max } => format!(
                "the file's validation data (DSS) holds {found} certificates, OCSP responses and CRLs; at most {max} are read"
            ),
            LimitExceeded::Work { found, max } if vi => format!(
                "Kiểm tra tệp này cần băm và phân tích {found} byte qua các phiên bản đã ký; giới hạn là {max} byte."
            ),
            LimitExceeded::Work { found, max } => format!(
                "validating this file would hash and parse {found} bytes over its signed revisions; the work budget is {max} bytes"
            ),
        }
    }
}

impl ValidationError {
    /// The error in Vietnamese or English, saying what to do (bounds are named; the detail of a
    /// damaged file is technical and stays as the parser said it, after a sentence in the
    /// reader's language).
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ValidationError::Limit(l), _) => l.message(lang),
            (ValidationError::NoSignature, Lang::Vi) => {
                "Tệp PDF này không có chữ ký số nào. Hãy chọn bản PDF đã ký (thường có chữ \"đã ký\" trong tên tệp).".into()
            }
            (ValidationError::NoSignature, Lang::En) => {
                "This PDF has no digital signature. Choose the signed copy of the document.".into()
            }
            (ValidationError::NotPdf, Lang::Vi) => {
                "Tệp này không phải PDF (không bắt đầu bằng %PDF-). Hãy chọn tệp PDF đã ký, không phải ảnh hay tệp Word.".into()
            }
            (ValidationError::NotPdf, Lang::En) => {
                "This file is not a PDF (it does not start with %PDF-). Choose the signed PDF, not a photo or a Word file.".into()
            }
            (e, Lang::Vi) => format!("Không đọc được tệp PDF này: tệp bị hỏng hoặc không đúng chuẩn ({e})."),
            (e, Lang::En) => format!("This PDF could not be read: it is damaged or not standard ({e})."),
        }
    }
}

/// Bounds on one validation, checked before the expensive work: what a single anonymous upload
/// may cost. The defaults hold any document a person signs in practice (tens of signatures).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_signatures: usize,
    pub max_dss_items: usize,
    /// The work budget: the bytes hashed (each distinct ByteRange once) plus the bytes the
    /// modification analysis may parse (the whole file once, each distinct signed revision at
    /// most once). Each signature must hash the revision it covers, so a file with many
    /// signatures over a large revision costs their product: this bounds it.
    pub max_work_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 32 << 20, max_signatures: 100, max_dss_items: 2_000, max_work_bytes: 2 << 30 }
    }
}
