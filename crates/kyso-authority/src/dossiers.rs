//! Dossiers as a service: procedures kept in the store, and a submitted dossier — applicant, procedure,
//! files — checked signature by signature through the same validation path as `/verify`
//! ([`Authority::validate_pdf`], [`Authority::validate_detached`], on the validation pool), judged
//! by `kyso_validate::dossier`, stored as hashes and verdicts (never the files) with its audit
//! row, and answered per file and for the dossier. ID numbers leave masked.

use crate::{Authority, AuthorityError, ValidateError};
use kyso_store::dossiers::{DossierFileRow, DossierRow, ProcedureRow};
use kyso_store::AuditEvent;
use kyso_validate::dossier::{
    self, DossierOutcome, FileOutcome, FileRule, Missing, Procedure, SignatureFacts, SignerIdentity,
};
use kyso_validate::{Kind, Lang, SignatureReport, ValidationError};
use serde::Serialize;

/// Bounds on one dossier: what a single submission may cost.
#[derive(Clone, Copy, Debug)]
pub struct DossierLimits {
    /// Bytes of one file (or its detached signature).
    pub max_file: usize,
    /// Bytes of all the files and signatures of one dossier.
    pub max_total: usize,
}

impl Default for DossierLimits {
    fn default() -> DossierLimits {
        DossierLimits { max_file: 16 << 20, max_total: 40 << 20 }
    }
}

/// A file as submitted: its role in the procedure, its name, its bytes, and a detached CAdES
/// signature (`.p7s`) when it is not a signed PDF.
pub struct SubmittedFile {
    pub role: String,
    pub file_name: String,
    pub content: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

/// A dossier to check.
pub struct Submission {
    pub procedure: String,
    pub applicant_id: String,
    /// The commune or province that received it.
    pub unit_code: String,
    /// `desk` or `api`.
    pub channel: &'static str,
    /// Who submitted it (staff username, `portal-api`), for the audit log.
    pub actor: String,
    pub files: Vec<SubmittedFile>,
}

/// Why a dossier was not checked: bad input (the field, in Vietnamese and English), over a
/// size bound (413), no validation slot free (503), or a failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum DossierError {
    #[error("{field}: {en}")]
    Invalid { field: String, vi: String, en: String },
    #[error("{en}")]
    TooLarge { vi: String, en: String },
    #[error(transparent)]
    Busy(#[from] crate::pool::Busy),
    #[error(transparent)]
    Authority(#[from] AuthorityError),
}

impl DossierError {
    fn invalid(field: &str, vi: impl Into<String>, en: impl Into<String>) -> DossierError {
        DossierError::Invalid { field: field.into(), vi: vi.into(), en: en.into() }
    }
    /// The message for a page or an API answer.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (DossierError::Invalid { field, vi, .. }, Lang::Vi) => format!("{field}: {vi}"),
            (DossierError::Invalid { field, en, .. }, Lang::En) => format!("{field}: {en}"),
            (DossierError::TooLarge { vi, .. }, Lang::Vi) => vi.clone(),
            (DossierError::TooLarge { en, .. }, Lang::En) => en.clone(),
            (DossierError::Busy(b), _) => b.to_string(),
            (DossierError::Authority(e), _) => e.to_string(),
        }
    }
}

impl From<kyso_store::StoreError> for DossierError {
    fn from(e: kyso_store::StoreError) -> DossierError {
        DossierError::Authority(e.into())
    }
}

/// One file of a checked dossier, as answered and as stored.
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    pub role: String,
    pub role_name: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub signature_sha256: Option<String>,
    pub verdict: dossier::FileVerdict,
    pub verdict_label: String,
    pub satisfied: bool,
    pub reason: String,
    pub reason_en: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MissingView {
    #[serde(flatten)]
    pub item: Missing,
    pub message: String,
    pub message_en: String,
}

/// A checked dossier: the answer of `POST /api/v1/dossiers`, `GET /api/v1/dossiers/{id}` and the
/// desk page.
#[derive(Clone, Debug, Serialize)]
pub struct DossierView {
    pub id: i64,
    pub procedure: String,
    pub procedure_name: String,
    pub applicant_id_masked: String,
    pub unit_code: String,
    pub channel: String,
    pub received_at: i64,
    pub day: String,
    pub needs_signatures: bool,
    pub fully_signed: bool,
    pub missing: Vec<MissingView>,
    pub files: Vec<FileView>,
}

/// A dossier validated and judged, not stored ([`Authority::assess_dossier`]).
pub struct Assessment {
    pub applicant: kyso_pki::CitizenId,
    pub procedure: Procedure,
    /// One per submitted file, in order.
    pub files: Vec<FileOutcome>,
    pub outcome: DossierOutcome,
}

/// A stored procedure as the core's value.
pub fn procedure_of(row: &ProcedureRow) -> Result<Procedure, AuthorityError> {
    let files: Vec<FileRule> = serde_json::from_str(&row.files)
        .map_err(|e| AuthorityError::Refused(format!("procedure {}: stored files unreadable: {e}", row.code)))?;
    Procedure::new(&row.code, &row.name, files).map_err(|e| AuthorityError::Refused(e.to_string()))
}

/// The signer of a CMS signature, read from its signing certificate (the signature itself is
/// judged by the validation report beside it, not here).
fn signer_of(cms: &[u8]) -> Option<SignerIdentity> {
    identity_in(&kyso_sign::certificates_of(cms).ok()?.signer_cert_der?)
}

fn identity_in(cert_der: &[u8]) -> Option<SignerIdentity> {
    let cert = kyso_pki::cert::parse(cert_der).ok()?;
    Some(SignerIdentity::from_subject(&cert.tbs_certificate.subject))
}

/// Facts about the signatures of a PDF (document time-stamps left out); `signers` are the
/// certificates the signatures name, in the reports' index order.
fn pdf_facts(signers: &[Option<Vec<u8>>], reports: &[SignatureReport]) -> Vec<SignatureFacts> {
    reports
        .iter()
        .filter(|r| r.kind == Kind::Signature)
        .map(|r| SignatureFacts::new(r, signers.get(r.index).and_then(|c| identity_in(c.as_deref()?))))
        .collect()
}

impl Authority {
    /// Adds or replaces a procedure (audited).
    pub async fn put_procedure(&self, p: &Procedure, actor: &str) -> Result<(), AuthorityError> {
        let files = serde_json::to_string(&p.files).map_err(|e| AuthorityError::Refused(e.to_string()))?;
        let row = ProcedureRow { code: p.code.clone(), name: p.name.clone(), files, updated_at: kyso_store::now() };
        let detail = format!("{} ({} files)", p.name, p.files.len());
        self.store.put_procedure(&row, &AuditEvent::new(actor, "procedure.put", &p.code, detail)).await?;
        Ok(())
    }

    pub async fn procedures(&self) -> Result<Vec<Procedure>, AuthorityError> {
        self.store.procedures().await?.iter().map(procedure_of).collect()
    }

    pub async fn procedure(&self, code: &str) -> Result<Option<Procedure>, AuthorityError> {
        self.store.procedure(code).await?.as_ref().map(procedure_of).transpose()
    }

    /// The commune or province `code` exists.
    async fn unit_exists(&self, code: &str) -> Result<bool, AuthorityError> {
        Ok(self.store.commune(code).await?.is_some() || self.store.province_name(code).await?.is_some())
    }

    /// Check the input before anything is validated: applicant, procedure, unit, roles, sizes.
    async fn admit(
        &self,
        s: &Submission,
        limits: &DossierLimits,
    ) -> Result<(kyso_pki::CitizenId, Procedure), DossierError> {
        let applicant = kyso_pki::CitizenId::parse(&s.applicant_id).map_err(|e| {
            DossierError::invalid("applicant_id", "số định danh phải gồm đúng 12 chữ số", e.to_string())
        })?;
        let procedure = self.procedure(s.procedure.trim()).await?.ok_or_else(|| {
            DossierError::invalid(
                "procedure",
                format!("không có thủ tục «{}»", s.procedure.chars().take(64).collect::<String>()),
                format!("no procedure {:?}", s.procedure.chars().take(64).collect::<String>()),
            )
        })?;
        if !self.unit_exists(&s.unit_code).await? {
            return Err(DossierError::invalid(
                "unit",
                format!("không có đơn vị hành chính mã «{}»", s.unit_code.chars().take(32).collect::<String>()),
                format!("no administrative unit {:?}", s.unit_code.chars().take(32).collect::<String>()),
            ));
        }
        dossier::check_roles(&procedure, s.files.iter().map(|f| f.role.as_str()))
            .map_err(|e| DossierError::invalid(&e.field, format!("tệp không hợp lệ: {}", e.reason), e.reason))?;
        let mut total = 0usize;
        for f in &s.files {
            let name = f.file_name.trim();
            if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
                return Err(DossierError::invalid(
                    &format!("files.{}.file_name", f.role),
                    "tên tệp phải có từ 1 đến 128 ký tự, không có ký tự điều khiển",
                    "a file name has 1 to 128 characters, no control characters",
                ));
            }
            for (what, len) in [("", f.content.len()), (".p7s", f.signature.as_ref().map_or(0, Vec::len))] {
                if len > limits.max_file {
                    return Err(DossierError::TooLarge {
                        vi: format!("Tệp «{name}{what}» có {len} byte; mỗi tệp tối đa {} MB.", limits.max_file >> 20),
                        en: format!(
                            "the file «{name}{what}» has {len} bytes; at most {} MB per file",
                            limits.max_file >> 20
                        ),
                    });
                }
                total = total.saturating_add(len);
            }
            if f.content.is_empty() {
                return Err(DossierError::invalid(&format!("files.{}", f.role), "tệp rỗng", "the file is empty"));
            }
        }
        if total > limits.max_total {
            return Err(DossierError::TooLarge {
                vi: format!("Hồ sơ có tổng cộng {total} byte; mỗi hồ sơ tối đa {} MB.", limits.max_total >> 20),
                en: format!("the dossier has {total} bytes in all; at most {} MB per dossier", limits.max_total >> 20),
            });
        }
        Ok((applicant, procedure))
    }

    /// Validate one file's signatures and judge it against its rule.
    async fn judge(
        &self,
        rule: &FileRule,
        applicant: &kyso_pki::CitizenId,
        f: &SubmittedFile,
        shared: &crate::documents::Shared,
    ) -> Result<FileOutcome, DossierError> {
        if let Some(cms) = &f.signature {
            let report = self.validate_detached(cms, &f.content, &[]).await;
            return Ok(match report {
                Ok(r) => {
                    let facts = crate::pool::cpu(|| SignatureFacts::new(&r, signer_of(cms)));
                    dossier::judge_file(rule, applicant, &[facts], None)
                }
                // validate_detached words a full pool as a refusal ([`crate::pool::Busy`]'s text)
                Err(AuthorityError::Refused(m)) if m.starts_with("the server is busy") => {
                    return Err(crate::pool::Busy { work: crate::pool::Work::Validate, retry_after_secs: 2 }.into())
                }
                Err(e) => {
                    let en = e.to_string();
                    dossier::judge_file(rule, applicant, &[], Some(("chữ ký rời (.p7s) không đọc được", &en)))
                }
            });
        }
        if !f.content.starts_with(b"%PDF-") {
            let mut o = dossier::judge_file(rule, applicant, &[], None);
            o.reason_vi = format!("Không phải tệp PDF và không kèm chữ ký rời (.p7s). {}", o.reason_vi);
            o.reason_en = format!("Not a PDF and no detached signature (.p7s). {}", o.reason_en);
            return Ok(o);
        }
        match self.validate_pdf_keeping(&f.content, &[], Some(shared)).await {
            Ok((reports, signers)) => {
                let facts = pdf_facts(&signers, &reports);
                Ok(dossier::judge_file(rule, applicant, &facts, None))
            }
            Err(ValidateError::Invalid(ValidationError::NoSignature)) => {
                Ok(dossier::judge_file(rule, applicant, &[], None))
            }
            Err(ValidateError::Invalid(ValidationError::Limit(l))) => Err(DossierError::TooLarge {
                vi: format!("«{}»: {}", f.file_name, l.message(Lang::Vi)),
                en: format!("«{}»: {}", f.file_name, l.message(Lang::En)),
            }),
            Err(ValidateError::Invalid(e)) => {
                Ok(dossier::judge_file(rule, applicant, &[], Some((&e.message(Lang::Vi), &e.message(Lang::En)))))
            }
            Err(ValidateError::Busy(b)) => Err(b.into()),
        }
    }

    /// Validate and judge a dossier without storing anything: every signature of every file
    /// validated (revocation from the files' DSS and kyso's store), each file judged, the dossier
    /// judged. [`Authority::check_dossier`] is this followed by the store write.
    pub async fn assess_dossier(&self, s: &Submission, limits: &DossierLimits) -> Result<Assessment, DossierError> {
        let (applicant, procedure) = self.admit(s, limits).await?;
        let mut files = Vec::with_capacity(s.files.len());
        // what the files share: the trust list read once, the applicant's certificate verified
        // once, the store asked once about each of kyso's own certificates
        let shared = crate::documents::Shared::new(self.validation_anchors(&[]).await.map_err(DossierError::from)?);
        for f in &s.files {
            let rule = procedure.file(&f.role).ok_or_else(|| {
                DossierError::invalid("files.role", "mục không có trong thủ tục", "not a file of the procedure")
            })?;
            files.push(self.judge(rule, &applicant, f, &shared).await?);
        }
        let outcome = dossier::judge_dossier(&procedure, &files);
        Ok(Assessment { applicant, procedure, files, outcome })
    }

    /// Check a dossier: every signature of every file validated, each file judged, the dossier
    /// judged ([`Authority::assess_dossier`]), then stored (hashes and verdicts) with its audit row.
    pub async fn check_dossier(&self, s: Submission, limits: &DossierLimits) -> Result<DossierView, DossierError> {
        let Assessment { applicant, procedure, files: outcomes, outcome } = self.assess_dossier(&s, limits).await?;
        let rows: Vec<DossierFileRow> = s
            .files
            .iter()
            .zip(&outcomes)
            .map(|(f, o)| DossierFileRow {
                role: f.role.clone(),
                file_name: f.file_name.trim().to_string(),
                size: i64::try_from(f.content.len()).unwrap_or(i64::MAX),
                sha256: kyso_pki::alg::sha256(&f.content),
                signature_sha256: f.signature.as_deref().map(kyso_pki::alg::sha256),
                verdict: o.verdict.as_str().into(),
                satisfied: o.satisfied,
                reason_vi: o.reason_vi.clone(),
                reason_en: o.reason_en.clone(),
                applicant_serial: o.applicant_serial.clone(),
            })
            .collect();
        let now = kyso_store::now();
        let row = DossierRow {
            id: 0,
            procedure_code: procedure.code.clone(),
            applicant_id: applicant.expose().to_string(),
            applicant_masked: applicant.masked(),
            unit_code: s.unit_code.clone(),
            channel: s.channel.into(),
            received_by: s.actor.clone(),
            needs_signatures: outcome.needs_signatures,
            fully_signed: outcome.fully_signed,
            missing: serde_json::to_string(&outcome.missing).map_err(|e| AuthorityError::Refused(e.to_string()))?,
            day: kyso_calendar::vn_date(now),
            at: now,
        };
        let verdict = if outcome.fully_signed {
            "fully signed".to_string()
        } else {
            let roles: Vec<&str> = outcome
                .missing
                .iter()
                .map(|m| match m {
                    Missing::File { role, .. } | Missing::Signature { role, .. } => role.as_str(),
                })
                .collect();
            format!("missing: {}", roles.join(", "))
        };
        let detail = format!(
            "{}, applicant {}, unit {}, {} file(s), {verdict}",
            procedure.code,
            applicant.masked(),
            s.unit_code,
            rows.len()
        );
        let audit = AuditEvent::new(&s.actor, "dossier.check", "-", detail);
        let stored = self.store.add_dossier(&row, &rows, &audit).await?;
        tracing::info!(dossier = stored.id, procedure = %procedure.code, applicant = %applicant, fully_signed = outcome.fully_signed, "dossier checked");
        Ok(view(&stored, &rows, &procedure))
    }

    /// A stored dossier as answered when it was checked.
    pub async fn dossier(&self, id: i64) -> Result<Option<DossierView>, AuthorityError> {
        let Some((row, files)) = self.store.dossier(id).await? else { return Ok(None) };
        let procedure = match self.store.procedure(&row.procedure_code).await? {
            Some(p) => procedure_of(&p)?,
            None => return Err(AuthorityError::NotFound(format!("procedure {}", row.procedure_code))),
        };
        Ok(Some(view(&row, &files, &procedure)))
    }

    /// The latest dossiers of these units (newest first), for the desk's list.
    pub async fn recent_dossiers(&self, units: &[String], limit: i64) -> Result<Vec<DossierRow>, AuthorityError> {
        Ok(self.store.recent_dossiers(units, limit).await?)
    }
}

/// The answer built from stored rows (the same for the check and a later read).
pub fn view(row: &DossierRow, files: &[DossierFileRow], procedure: &Procedure) -> DossierView {
    let missing: Vec<Missing> = serde_json::from_str(&row.missing).unwrap_or_default();
    DossierView {
        id: row.id,
        procedure: procedure.code.clone(),
        procedure_name: procedure.name.clone(),
        applicant_id_masked: row.applicant_masked.clone(),
        unit_code: row.unit_code.clone(),
        channel: row.channel.clone(),
        received_at: row.at,
        day: row.day.clone(),
        needs_signatures: row.needs_signatures,
        fully_signed: row.fully_signed,
        missing: missing
            .into_iter()
            .map(|m| MissingView { message: m.message(Lang::Vi), message_en: m.message(Lang::En), item: m })
            .collect(),
        files: files
            .iter()
            .map(|f| {
                let verdict = dossier::FileVerdict::parse(&f.verdict).unwrap_or(dossier::FileVerdict::Undetermined);
                FileView {
                    role: f.role.clone(),
                    role_name: procedure.file(&f.role).map(|r| r.name.clone()).unwrap_or_else(|| f.role.clone()),
                    file_name: f.file_name.clone(),
                    size: f.size,
                    sha256: hex::encode(&f.sha256),
                    signature_sha256: f.signature_sha256.as_ref().map(hex::encode),
                    verdict,
                    verdict_label: verdict.label(Lang::Vi).into(),
                    satisfied: f.satisfied,
                    reason: f.reason_vi.clone(),
                    reason_en: f.reason_en.clone(),
                }
            })
            .collect(),
    }
}
