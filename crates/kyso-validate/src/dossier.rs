//! Dossiers (hồ sơ): which files a procedure wants signed and by whom, who signed each submitted
//! file, and whether the dossier is fully signed — or exactly what is missing.
//!
//! Pure: the verdicts of the signatures come in from the caller (`kyso-authority` validates each
//! file first); this module only matches signers to the applicant and applies the procedure.
//! The applicant is matched by the 12-digit ID number in the signing certificate's subject: the
//! UID attribute (0.9.2342.19200300.100.1.1) or serialNumber (2.5.4.5) carrying `CCCD:` or
//! `CMND:` (some CAs still use the old prefix for 12-digit numbers). `HC:` (passport), `MST:`
//! (tax code) and `BHXH:` never match an ID number; `MST:` or an `O` attribute mark an
//! organisation's representative.

use crate::{Indication, Lang, SignatureReport, SubIndication};
use der::oid::ObjectIdentifier;
use kyso_pki::subject::{name_attr, name_attrs, OID_CN, OID_O, OID_UID};
use kyso_pki::CitizenId;
use serde::{Deserialize, Serialize};
use x509_cert::name::Name;

/// 2.5.4.5 serialNumber: some providers put `CCCD:<number>` there instead of in UID.
pub const OID_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");

/// At most this many files in one procedure (and so in one dossier).
pub const MAX_PROCEDURE_FILES: usize = 20;

/// Who must sign a file of a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRule {
    /// The applicant, with a certificate whose subject carries the applicant's ID number.
    Applicant,
    /// An organisation's representative: a certificate with an `O` attribute or an `MST:` UID.
    Organisation,
    /// No signature needed (an attachment).
    #[serde(rename = "none", alias = "nobody")]
    Nobody,
}

impl SignerRule {
    pub fn as_str(self) -> &'static str {
        match self {
            SignerRule::Applicant => "applicant",
            SignerRule::Organisation => "organisation",
            SignerRule::Nobody => "none",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SignerRule::Applicant, Lang::Vi) => "người nộp hồ sơ",
            (SignerRule::Applicant, Lang::En) => "the applicant",
            (SignerRule::Organisation, Lang::Vi) => "người đại diện tổ chức",
            (SignerRule::Organisation, Lang::En) => "an organisation's representative",
            (SignerRule::Nobody, Lang::Vi) => "không cần ký",
            (SignerRule::Nobody, Lang::En) => "no signature needed",
        }
    }
}

impl std::str::FromStr for SignerRule {
    type Err = String;
    fn from_str(s: &str) -> Result<SignerRule, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "applicant" => Ok(SignerRule::Applicant),
            "organisation" | "organization" => Ok(SignerRule::Organisation),
            "none" | "nobody" => Ok(SignerRule::Nobody),
            other => Err(format!("signer {other:?} is not one of applicant, organisation, none")),
        }
    }
}

/// One file a procedure asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRule {
    /// A short key (`to-khai`, `uy-quyen`): how a submitted file names its place.
    pub role: String,
    /// What people call it ("Tờ khai đăng ký khai sinh").
    pub name: String,
    pub signer: SignerRule,
    /// Must be submitted (an optional file, when submitted, must still be signed as it says).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A public-service procedure (thủ tục hành chính) and the files it asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub files: Vec<FileRule>,
}

/// A procedure or a dossier that cannot be taken as given, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DossierError {
    pub field: String,
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> DossierError {
    DossierError { field: field.into(), reason: reason.into() }
}

/// A key of 1 to 64 characters `a-z`, `0-9`, `-`.
fn check_key(field: &str, v: &str) -> Result<String, DossierError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 {
        return Err(bad(field, "must be 1 to 64 characters"));
    }
    if let Some(c) = v.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(bad(field, format!("{c:?} is not allowed (use a-z, 0-9 and -)")));
    }
    Ok(v.to_string())
}

fn check_name(field: &str, v: &str) -> Result<String, DossierError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 200 {
        return Err(bad(field, "must be 1 to 200 characters"));
    }
    if let Some(c) = v.chars().find(|c| c.is_control()) {
        return Err(bad(field, format!("contains control character U+{:04X}", c as u32)));
    }
    Ok(v.to_string())
}

impl Procedure {
    /// A checked procedure: keys and names well-formed, 1 to [`MAX_PROCEDURE_FILES`] files,
    /// each role once.
    pub fn new(code: &str, name: &str, files: Vec<FileRule>) -> Result<Procedure, DossierError> {
        let code = check_key("code", code)?;
        let name = check_name("name", name)?;
        if files.is_empty() || files.len() > MAX_PROCEDURE_FILES {
            return Err(bad("files", format!("a procedure has 1 to {MAX_PROCEDURE_FILES} files")));
        }
        let mut checked: Vec<FileRule> = Vec::with_capacity(files.len());
        for (i, f) in files.into_iter().enumerate() {
            let field = format!("files[{}]", i + 1);
            let role = check_key(&format!("{field}.role"), &f.role)?;
            if checked.iter().any(|c| c.role == role) {
                return Err(bad(format!("{field}.role"), format!("{role} is given twice")));
            }
            let name = check_name(&format!("{field}.name"), &f.name)?;
            checked.push(FileRule { role, name, ..f });
        }
        Ok(Procedure { code, name, files: checked })
    }

    pub fn file(&self, role: &str) -> Option<&FileRule> {
        self.files.iter().find(|f| f.role == role)
    }

    /// At least one file must be signed: the dossier counts in the "fully signed" KPI.
    pub fn needs_signatures(&self) -> bool {
        self.files.iter().any(|f| f.signer != SignerRule::Nobody)
    }
}

/// Who a signing certificate names, read from its subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignerIdentity {
    /// UID and serialNumber values, as written (`CCCD:001203001234`, `MST:0101234567`).
    pub ids: Vec<String>,
    pub name: Option<String>,
    pub organisation: Option<String>,
}

impl SignerIdentity {
    pub fn from_subject(subject: &Name) -> SignerIdentity {
        let mut ids = name_attrs(subject, OID_UID);
        ids.extend(name_attrs(subject, OID_SERIAL_NUMBER));
        SignerIdentity { ids, name: name_attr(subject, OID_CN), organisation: name_attr(subject, OID_O) }
    }

    /// The 12-digit ID numbers this subject carries (`CCCD:` or `CMND:`, any case, spaces
    /// around the number tolerated).
    pub fn citizen_ids(&self) -> Vec<CitizenId> {
        self.ids
            .iter()
            .filter_map(|v| {
                let (prefix, number) = v.split_once(':')?;
                let prefix = prefix.trim().to_ascii_uppercase();
                matches!(prefix.as_str(), "CCCD" | "CMND").then(|| CitizenId::parse(number.trim()).ok())?
            })
            .collect()
    }

    pub fn is(&self, applicant: &CitizenId) -> bool {
        self.citizen_ids().iter().any(|id| id == applicant)
    }

    pub fn is_organisation(&self) -> bool {
        self.organisation.is_some()
            || self.ids.iter().any(|v| v.split_once(':').is_some_and(|(p, _)| p.trim().eq_ignore_ascii_case("MST")))
    }

    /// For a message: the name and the first ID, masked.
    pub fn describe(&self) -> String {
        let id = self.ids.first().map(|v| match v.split_once(':') {
            Some((p, n)) => match CitizenId::parse(n.trim()) {
                Ok(id) => format!("{p}:{}", id.masked()),
                Err(_) if n.len() > 6 => format!("{p}:{}****{}", &n[..3], &n[n.len() - 3..]),
                Err(_) => format!("{p}:****"),
            },
            None => "****".into(),
        });
        match (&self.name, id) {
            (Some(n), Some(id)) => format!("{n} ({id})"),
            (Some(n), None) => n.clone(),
            (None, Some(id)) => id,
            (None, None) => "?".into(),
        }
    }
}

/// One signature of a file as the validator judged it, with who signed.
#[derive(Clone, Debug)]
pub struct SignatureFacts {
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    /// `None` when no signing certificate could be read.
    pub signer: Option<SignerIdentity>,
    /// The signing certificate's serial (hex).
    pub serial: Option<String>,
    /// The validator's first problem or warning, for the reason.
    pub problem: Option<String>,
}

impl SignatureFacts {
    /// From a validation report and the signer's subject (document time-stamps are not
    /// signatures of the file: the caller leaves them out).
    pub fn new(report: &SignatureReport, signer: Option<SignerIdentity>) -> SignatureFacts {
        SignatureFacts {
            indication: report.indication,
            sub_indication: report.sub_indication,
            signer,
            serial: report.serial.clone(),
            problem: report.problems.first().or(report.warnings.first()).cloned(),
        }
    }
}

/// What one submitted file is, for the procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileVerdict {
    SignedByApplicant,
    SignedByOrganisation,
    SignedByOther,
    Unsigned,
    Invalid,
    Undetermined,
}

impl FileVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            FileVerdict::SignedByApplicant => "signed_by_applicant",
            FileVerdict::SignedByOrganisation => "signed_by_organisation",
            FileVerdict::SignedByOther => "signed_by_other",
            FileVerdict::Unsigned => "unsigned",
            FileVerdict::Invalid => "invalid",
            FileVerdict::Undetermined => "undetermined",
        }
    }
    pub fn parse(s: &str) -> Option<FileVerdict> {
        [
            FileVerdict::SignedByApplicant,
            FileVerdict::SignedByOrganisation,
            FileVerdict::SignedByOther,
            FileVerdict::Unsigned,
            FileVerdict::Invalid,
            FileVerdict::Undetermined,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (FileVerdict::SignedByApplicant, Lang::Vi) => "Người nộp đã ký",
            (FileVerdict::SignedByApplicant, Lang::En) => "Signed by the applicant",
            (FileVerdict::SignedByOrganisation, Lang::Vi) => "Người đại diện tổ chức đã ký",
            (FileVerdict::SignedByOrganisation, Lang::En) => "Signed by an organisation's representative",
            (FileVerdict::SignedByOther, Lang::Vi) => "Người khác ký",
            (FileVerdict::SignedByOther, Lang::En) => "Signed by someone else",
            (FileVerdict::Unsigned, Lang::Vi) => "Chưa ký",
            (FileVerdict::Unsigned, Lang::En) => "Unsigned",
            (FileVerdict::Invalid, Lang::Vi) => "Chữ ký không hợp lệ",
            (FileVerdict::Invalid, Lang::En) => "Invalid signature",
            (FileVerdict::Undetermined, Lang::Vi) => "Chưa xác định được",
            (FileVerdict::Undetermined, Lang::En) => "Could not be determined",
        }
    }
}

/// The verdict on one file, whether it meets its rule, and why, in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileOutcome {
    pub role: String,
    pub verdict: FileVerdict,
    /// The file meets the procedure's rule for its role.
    pub satisfied: bool,
    pub reason_vi: String,
    pub reason_en: String,
    /// The serial of the applicant's valid signing certificate, when the applicant signed.
    pub applicant_serial: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Applicant,
    Organisation,
    Other,
    Unknown,
}

fn who(f: &SignatureFacts, applicant: &CitizenId) -> Who {
    match &f.signer {
        Some(s) if s.is(applicant) => Who::Applicant,
        Some(s) if s.is_organisation() => Who::Organisation,
        Some(_) => Who::Other,
        None => Who::Unknown,
    }
}

fn wanted(rule: SignerRule) -> Option<Who> {
    match rule {
        SignerRule::Applicant => Some(Who::Applicant),
        SignerRule::Organisation => Some(Who::Organisation),
        SignerRule::Nobody => None,
    }
}

fn sub(f: &SignatureFacts) -> String {
    let code = f.sub_indication.map(|s| format!("{s:?}")).unwrap_or_default();
    match &f.problem {
        Some(p) if !code.is_empty() => format!("{code}: {p}"),
        Some(p) => p.clone(),
        None => code,
    }
}

/// Judge one submitted file against its rule. `unreadable`: the file could not be read as a
/// signed document (the reason, in Vietnamese and English); `facts`: its signatures.
pub fn judge_file(
    rule: &FileRule,
    applicant: &CitizenId,
    facts: &[SignatureFacts],
    unreadable: Option<(&str, &str)>,
) -> FileOutcome {
    let outcome = |verdict: FileVerdict, vi: String, en: String, serial: Option<String>| FileOutcome {
        role: rule.role.clone(),
        verdict,
        satisfied: rule.signer == SignerRule::Nobody
            || matches!(
                (rule.signer, verdict),
                (SignerRule::Applicant, FileVerdict::SignedByApplicant)
                    | (SignerRule::Organisation, FileVerdict::SignedByOrganisation)
            ),
        reason_vi: vi,
        reason_en: en,
        applicant_serial: serial,
    };
    if let Some((vi, en)) = unreadable {
        return outcome(FileVerdict::Invalid, format!("Không đọc được tệp: {vi}"), format!("Unreadable: {en}"), None);
    }
    if facts.is_empty() {
        let (vi, en) = match rule.signer {
            SignerRule::Nobody => (
                "Tệp không có chữ ký; thủ tục không yêu cầu ký tệp này.".to_string(),
                "No signature; none is needed for this file.".to_string(),
            ),
            r => (
                format!("Tệp không có chữ ký số; cần chữ ký của {}.", r.label(Lang::Vi)),
                format!("The file carries no digital signature; it needs {}'s.", r.label(Lang::En)),
            ),
        };
        return outcome(FileVerdict::Unsigned, vi, en, None);
    }
    let applicant_serial = facts
        .iter()
        .find(|f| f.indication == Indication::TotalPassed && who(f, applicant) == Who::Applicant)
        .and_then(|f| f.serial.clone());
    // the signatures that meet the rule first, then the applicant's, then the rest
    let mut order: Vec<&SignatureFacts> = facts.iter().collect();
    let want = wanted(rule.signer);
    order.sort_by_key(|f| {
        let w = who(f, applicant);
        let rank = if Some(w) == want {
            0
        } else if w == Who::Applicant {
            1
        } else {
            2
        };
        let ind = match f.indication {
            Indication::TotalPassed => 0,
            Indication::Indeterminate => 1,
            Indication::TotalFailed => 2,
        };
        (rank, ind)
    });
    let best = order[0];
    let signer = best.signer.as_ref().map(SignerIdentity::describe).unwrap_or_else(|| "?".into());
    match (best.indication, who(best, applicant)) {
        (Indication::TotalPassed, Who::Applicant) => outcome(
            FileVerdict::SignedByApplicant,
            format!("Chữ ký hợp lệ của người nộp hồ sơ {signer}."),
            format!("Valid signature by the applicant {signer}."),
            applicant_serial,
        ),
        (Indication::TotalPassed, Who::Organisation) => outcome(
            FileVerdict::SignedByOrganisation,
            format!("Chữ ký hợp lệ của tổ chức: {signer}."),
            format!("Valid signature by an organisation: {signer}."),
            applicant_serial,
        ),
        (Indication::TotalPassed, _) => {
            let (vi, en) = match rule.signer {
                SignerRule::Nobody => (String::new(), String::new()),
                r => (
                    format!(" Thiếu chữ ký của {}.", r.label(Lang::Vi)),
                    format!(" {} has not signed.", capitalise(r.label(Lang::En))),
                ),
            };
            outcome(
                FileVerdict::SignedByOther,
                format!("Chữ ký hợp lệ nhưng của người khác: {signer}.{vi}"),
                format!("A valid signature, but by someone else: {signer}.{en}"),
                applicant_serial,
            )
        }
        (Indication::Indeterminate, _) => outcome(
            FileVerdict::Undetermined,
            format!("Chưa xác định được chữ ký của {signer} ({}); không kiểm tra được trạng thái chứng thư hoặc chuỗi tin cậy.", sub(best)),
            format!("The signature by {signer} could not be determined ({}); its certificate status or trust chain could not be checked.", sub(best)),
            applicant_serial,
        ),
        (Indication::TotalFailed, _) => outcome(
            FileVerdict::Invalid,
            format!("Chữ ký của {signer} không hợp lệ ({}).", sub(best)),
            format!("The signature by {signer} is invalid ({}).", sub(best)),
            applicant_serial,
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// What keeps a dossier from being fully signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Missing {
    /// A required file was not submitted.
    File { role: String, name: String },
    /// A submitted file lacks the signature its rule asks for.
    Signature { role: String, name: String, signer: SignerRule, verdict: FileVerdict },
}

impl Missing {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Missing::File { name, .. }, Lang::Vi) => format!("Thiếu tệp «{name}»."),
            (Missing::File { name, .. }, Lang::En) => format!("The file «{name}» was not submitted."),
            (Missing::Signature { name, signer, verdict, .. }, Lang::Vi) => {
                format!(
                    "«{name}»: thiếu chữ ký hợp lệ của {} ({}).",
                    signer.label(Lang::Vi),
                    verdict.label(Lang::Vi).to_lowercase()
                )
            }
            (Missing::Signature { name, signer, verdict, .. }, Lang::En) => {
                format!(
                    "«{name}»: no valid signature by {} ({}).",
                    signer.label(Lang::En),
                    verdict.label(Lang::En).to_lowercase()
                )
            }
        }
    }
}

/// The dossier's verdict: fully signed, or what is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DossierOutcome {
    pub fully_signed: bool,
    pub needs_signatures: bool,
    pub missing: Vec<Missing>,
}

/// Judge a dossier from its files' outcomes (one per submitted role).
pub fn judge_dossier(procedure: &Procedure, files: &[FileOutcome]) -> DossierOutcome {
    let mut missing = Vec::new();
    for rule in &procedure.files {
        match files.iter().find(|f| f.role == rule.role) {
            None if rule.required => missing.push(Missing::File { role: rule.role.clone(), name: rule.name.clone() }),
            None => {}
            Some(f) if !f.satisfied => missing.push(Missing::Signature {
                role: rule.role.clone(),
                name: rule.name.clone(),
                signer: rule.signer,
                verdict: f.verdict,
            }),
            Some(_) => {}
        }
    }
    DossierOutcome { fully_signed: missing.is_empty(), needs_signatures: procedure.needs_signatures(), missing }
}

/// The submitted roles checked against the procedure: each known, each once, at least one.
pub fn check_roles<'a>(procedure: &Procedure, roles: impl IntoIterator<Item = &'a str>) -> Result<(), DossierError> {
    let mut seen: Vec<&str> = Vec::new();
    for r in roles {
        if procedure.file(r).is_none() {
            let r: String = r.chars().filter(|c| !c.is_control()).take(64).collect();
            let known: Vec<&str> = procedure.files.iter().map(|f| f.role.as_str()).collect();
            return Err(bad(
                "files.role",
                format!("{r:?} is not a file of procedure {} (known: {})", procedure.code, known.join(", ")),
            ));
        }
        if seen.contains(&r) {
            return Err(bad("files.role", format!("{r} is given twice")));
        }
        seen.push(r);
    }
    if seen.is_empty() {
        return Err(bad("files", "a dossier needs at least one file"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "dossier_tests.rs"]
mod tests;
