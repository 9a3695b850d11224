//! `kyso cert`: issue, renew, revoke, show and list certificates.

use crate::args::{issue_request, NewKeyArgs, PersonArgs};
use crate::data::{open, DataDir, ACTOR_CLI};
use crate::output::out;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kyso_authority::Authority;
use kyso_pki::crl::{reason_from_name, reason_name};
use kyso_pki::CitizenSubject;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a citizen certificate (key generated in custody).
    Issue(IssueArgs),
    /// Renew (gia hạn): a new certificate, same key unless --new-key; the old one is superseded.
    Renew {
        serial: String,
        #[arg(long)]
        new_key: bool,
    },
    /// Revoke with an RFC 5280 reason (keyCompromise, affiliationChanged, superseded, cessationOfOperation, …).
    Revoke {
        serial: String,
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Show one certificate.
    Show {
        serial: String,
        /// Print the PEM certificate only.
        #[arg(long)]
        pem: bool,
        /// Write the DER certificate to a file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List certificates, newest first (ID numbers masked).
    List {
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub person: PersonArgs,
    #[command(flatten)]
    pub key: NewKeyArgs,
    #[arg(long)]
    pub days: Option<u64>,
    /// Record the person as level-2 e-ID first (until the register import marks it).
    #[arg(long)]
    pub eid_level2: bool,
    /// Certify the key in this PKCS#10 request (PEM or DER) instead of generating one in custody.
    #[arg(long)]
    pub csr: Option<PathBuf>,
    /// Also write the DER certificate here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: CertCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        CertCommand::Issue(a) => issue(&auth, a, json_mode).await?,
        CertCommand::Renew { serial, new_key } => {
            let c = auth.renew(&serial, new_key, ACTOR_CLI).await?;
            out(
                json_mode,
                serde_json::to_value(&c)?,
                &format!(
                    "renewed {serial}: new certificate {} valid until {}",
                    c.serial,
                    kyso_pki::time::rfc3339(c.not_after)
                ),
            );
        }
        CertCommand::Revoke { serial, reason } => {
            let code = reason_from_name(&reason).with_context(|| format!("--reason: unknown revocation reason `{reason}` (try keyCompromise, affiliationChanged, superseded, cessationOfOperation, unspecified)"))?;
            let c = auth.revoke(&serial, code, ACTOR_CLI).await?;
            out(
                json_mode,
                json!({"serial": c.serial, "revoked_at": c.revoked_at, "reason": reason_name(code)}),
                &format!("revoked {} ({}); CRL of {} re-signed", c.serial, reason_name(code), c.issuer_id),
            );
        }
        CertCommand::Show { serial, pem, out: file } => {
            let c = auth.certificate(&serial).await?;
            if let Some(f) = file {
                std::fs::write(&f, &c.der)?;
            }
            if pem {
                crate::output::print(&kyso_pki::pem("CERTIFICATE", &c.der));
            } else {
                let status = status_text(&c);
                out(json_mode, cert_json(&c), &format!(
                    "serial      {}\nprovider    {}\nprofile     {}\nsubject     {}\nholder      {}\nvalid       {} → {}\nstatus      {status}",
                    c.serial, c.issuer_id, c.profile, c.subject_cn, masked(&c.id_number),
                    kyso_pki::time::rfc3339(c.not_before), kyso_pki::time::rfc3339(c.not_after)));
            }
        }
        CertCommand::List { id, provider, limit } => {
            let id = id
                .map(|i| kyso_pki::CitizenId::parse(&i).map(|x| x.expose().to_string()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let rows = auth.store.certificates(id.as_deref(), provider.as_deref(), limit, 0).await?;
            if json_mode {
                crate::output::print(&format!("{}\n", json!(rows.iter().map(cert_json).collect::<Vec<_>>())));
            } else {
                for c in &rows {
                    crate::output::print(&format!(
                        "{}  {:<8} {:<12} {:<14} {:<28} {}\n",
                        c.serial,
                        c.issuer_id,
                        c.profile,
                        masked(&c.id_number),
                        c.subject_cn,
                        status_text(c)
                    ));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn masked(id: &Option<String>) -> String {
    id.as_deref().and_then(|i| kyso_pki::CitizenId::parse(i).ok()).map(|i| i.masked()).unwrap_or_else(|| "-".into())
}

fn status_text(c: &kyso_store::CertRow) -> String {
    match (c.revoked_at, &c.superseded_by) {
        (Some(at), _) => {
            format!("revoked {} ({})", kyso_pki::time::rfc3339(at), reason_name(c.revocation_reason.unwrap_or(0) as u8))
        }
        (None, _) if c.not_after < kyso_store::now() => "expired".into(),
        _ => "valid".into(),
    }
}

fn cert_json(c: &kyso_store::CertRow) -> serde_json::Value {
    json!({"serial": c.serial, "provider": c.issuer_id, "profile": c.profile, "subject": c.subject_cn,
        "id_masked": masked(&c.id_number), "not_before": c.not_before, "not_after": c.not_after,
        "revoked_at": c.revoked_at, "revocation_reason": c.revocation_reason.map(|r| reason_name(r as u8)),
        "superseded_by": c.superseded_by, "status": status_text(c)})
}

async fn issue(auth: &Arc<Authority>, a: IssueArgs, json_mode: bool) -> Result<()> {
    let req = issue_request(a.person, a.key, a.days, ACTOR_CLI)?;
    if a.eid_level2 {
        let s = CitizenSubject::new(&req.id_number, &req.full_name, &req.province, req.commune.as_deref())?;
        auth.register_citizen(&s, 2, ACTOR_CLI).await?;
    }
    let c = match &a.csr {
        Some(f) => {
            let raw = std::fs::read(f).with_context(|| format!("--csr: cannot read {}", f.display()))?;
            let spki =
                kyso_pki::cert::csr_public_key(&raw).map_err(|e| anyhow::anyhow!("--csr {}: {e}", f.display()))?;
            auth.issue_for_public_key(req, spki).await?
        }
        None => auth.issue(req).await?,
    };
    if let Some(f) = &a.out {
        std::fs::write(f, &c.der)?;
    }
    out(
        json_mode,
        serde_json::to_value(&c)?,
        &format!(
            "issued {} to {} ({}) by {}, valid until {}",
            c.serial,
            c.subject,
            c.id_masked,
            c.provider,
            kyso_pki::time::rfc3339(c.not_after)
        ),
    );
    Ok(())
}
