//! CLI for remote signing: credentials and `kyso sign-hash`. PINs come from the environment
//! (KYSO_PIN, KYSO_NEW_PIN) or standard input, never from arguments (they would show in `ps`).

use crate::args::{issue_request, NewKeyArgs, PersonArgs};
use crate::data::{open, DataDir};
use crate::output::out;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use kyso_custody::Pin;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use x509_cert::der::Decode;

#[derive(Args)]
pub struct SignDocArgs {
    /// The signer's 12-digit ID number (the credential must be theirs).
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub credential: String,
    #[arg(long = "in")]
    pub input: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// TOTP code where the provider requires a second factor.
    #[arg(long)]
    pub otp: Option<String>,
    /// Reason shown in the signature (PDF only).
    #[arg(long)]
    pub reason: Option<String>,
    /// Baseline level. b-b: the signature only; b-t: plus a time-stamp from kyso's TSA proving
    /// when it was signed; b-lt (sign-pdf's default): plus a DSS with the certificates, OCSP
    /// responses and CRLs needed to validate it offline, years later; b-lta: plus a document
    /// time-stamp over all of it. sign-file (CAdES) supports b-b and b-t (its default).
    #[arg(long, value_parser = ["b-b", "b-t", "b-lt", "b-lta"])]
    pub level: Option<String>,
    /// Show the signature on page 1 of the PDF: signer name, masked ID number, signing time
    /// (font: KYSO_SIGNATURE_FONT or DejaVu Sans from fonts-dejavu-core).
    #[arg(long)]
    pub visible: bool,
    /// Where the visible signature goes: "x1,y1,x2,y2" in PDF units (1/72 in) from the page's
    /// lower-left corner.
    #[arg(long, requires = "visible", default_value = "36,36,306,106")]
    pub visible_rect: String,
}

#[derive(Args)]
pub struct VerifyArgs {
    pub file: PathBuf,
    /// Detached signature (.p7s) of FILE.
    #[arg(long)]
    pub signature: Option<PathBuf>,
    /// Extra trusted root (PEM or DER), repeatable.
    #[arg(long)]
    pub trust: Vec<PathBuf>,
    /// vi (default) or en.
    #[arg(long, default_value = "vi")]
    pub lang: String,
    /// text (default: the readable report), json, or xml (the ETSI TS 119 102-2 validation report).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "xml"])]
    pub format: String,
    /// Air-gapped desk: fetch no revocation data or issuer over the network (the document's DSS
    /// and the cache still answer; otherwise INDETERMINATE with a warning).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Args)]
pub struct SignHashArgs {
    /// The citizen's 12-digit ID number (the credential must be theirs).
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub credential: String,
    /// Hex SHA-256 hash to sign; repeat for a batch.
    #[arg(long = "hash", required = true)]
    pub hashes: Vec<String>,
    /// TOTP code where the provider requires a second factor.
    #[arg(long)]
    pub otp: Option<String>,
}

#[derive(Subcommand)]
pub enum CredentialCommand {
    /// Kích hoạt: set a 6-digit PIN (KYSO_PIN or stdin), generate the key in custody, issue the certificate.
    Activate {
        #[command(flatten)]
        person: PersonArgs,
        #[command(flatten)]
        key: NewKeyArgs,
    },
    /// A person's credentials.
    List {
        #[arg(long)]
        id: String,
    },
    /// Unlock after 5 wrong PINs, once an officer has re-verified the person in person (level 2).
    Unlock {
        credential: String,
        #[arg(long)]
        officer: String,
        #[arg(long, default_value = "chip card + face")]
        method: String,
    },
    /// Change the PIN: old from KYSO_PIN, new from KYSO_NEW_PIN.
    ChangePin {
        credential: String,
        #[arg(long)]
        id: String,
    },
    /// A bearer access token for the remote-signing API (until e-ID login lands).
    Token {
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

fn read_pin(var: &str) -> Result<Pin> {
    let text = match std::env::var(var) {
        Ok(v) => v,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the PIN from standard input")?;
            line
        }
    };
    Pin::parse(text.trim()).map_err(|_| anyhow::anyhow!("{var}: the PIN must be exactly 6 digits"))
}

fn citizen_id(id: &str) -> Result<String> {
    Ok(kyso_pki::CitizenId::parse(id).map_err(|e| anyhow::anyhow!("--id: {e}"))?.expose().to_string())
}

pub async fn credential(dir: &DataDir, db: Option<&str>, c: CredentialCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        CredentialCommand::Activate { person, key } => {
            let pin = read_pin("KYSO_PIN")?;
            let req = issue_request(person, key, None, "cli")?;
            let a = auth.activate(req, &pin).await?;
            out(
                json_mode,
                json!({"credential_id": a.credential_id, "serial": a.certificate.serial, "provider": a.certificate.provider, "pem": a.certificate.pem, "otpauth_uri": a.otpauth_uri}),
                &format!(
                    "activated credential {} (certificate {} from {}){}",
                    a.credential_id,
                    a.certificate.serial,
                    a.certificate.provider,
                    a.otpauth_uri.map(|u| format!("\nadd to the authenticator app: {u}")).unwrap_or_default()
                ),
            );
        }
        CredentialCommand::List { id } => {
            let id = citizen_id(&id)?;
            let rows = auth.store.credentials_of(&id).await?;
            let v: Vec<_> = rows.iter().map(|c| json!({"credential_id": c.id, "provider": c.provider_id, "certificate": c.cert_serial, "status": c.status, "failed_pins": c.failed_pins})).collect();
            let text: Vec<String> = rows
                .iter()
                .map(|c| {
                    format!(
                        "{}  {:<8} {}  {} ({} wrong PIN(s))",
                        c.id, c.provider_id, c.cert_serial, c.status, c.failed_pins
                    )
                })
                .collect();
            out(json_mode, json!(v), &text.join("\n"));
        }
        CredentialCommand::Unlock { credential, officer, method } => {
            auth.unlock_credential(&credential, &officer, &method).await?;
            out(
                json_mode,
                json!({"credential_id": credential, "status": "active"}),
                &format!("unlocked {credential}; recorded in the audit log"),
            );
        }
        CredentialCommand::ChangePin { credential, id } => {
            let id = citizen_id(&id)?;
            let (old, new) = (read_pin("KYSO_PIN")?, read_pin("KYSO_NEW_PIN")?);
            auth.change_pin(&id, &credential, &old, &new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            out(json_mode, json!({"credential_id": credential}), "PIN changed");
        }
        CredentialCommand::Token { id, ttl } => {
            if !(60..=86_400).contains(&ttl) {
                bail!("--ttl: 60 to 86400 seconds");
            }
            let t = auth.issue_access_token(&id, ttl, "cli").await?;
            out(json_mode, json!({"access_token": t, "expires_in": ttl}), &t);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn sign_hash(dir: &DataDir, db: Option<&str>, a: SignHashArgs, json_mode: bool) -> Result<ExitCode> {
    let SignHashArgs { id, credential, hashes, otp } = a;
    let (credential, otp) = (credential.as_str(), otp.as_deref());
    let id = citizen_id(&id)?;
    let mut hs = Vec::with_capacity(hashes.len());
    for (i, h) in hashes.iter().enumerate() {
        let v = hex::decode(h.trim()).map_err(|_| anyhow::anyhow!("--hash #{}: not hexadecimal", i + 1))?;
        hs.push(
            <[u8; 32]>::try_from(v.as_slice())
                .map_err(|_| anyhow::anyhow!("--hash #{}: a SHA-256 hash is 64 hex digits", i + 1))?,
        );
    }
    let pin = read_pin("KYSO_PIN")?;
    let auth = open(dir, db).await?;
    let a = auth.authorize(&id, credential, &pin, otp, &hs).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let sigs = auth.sign_hash(&id, credential, &a.sad, &hs, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let hexes: Vec<String> = sigs.iter().map(hex::encode).collect();
    out(json_mode, json!({"signatures": hexes}), &hexes.join("\n"));
    Ok(ExitCode::SUCCESS)
}

/// `x1,y1,x2,y2` → a rectangle.
fn parse_rect(s: &str) -> Result<[f32; 4]> {
    let v: Vec<f32> = s
        .split(',')
        .map(|x| x.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--visible-rect: {s:?} is not four numbers x1,y1,x2,y2"))?;
    <[f32; 4]>::try_from(v).map_err(|_| anyhow::anyhow!("--visible-rect: {s:?} is not four numbers x1,y1,x2,y2"))
}

pub async fn sign_doc(dir: &DataDir, db: Option<&str>, a: SignDocArgs, pdf: bool, json_mode: bool) -> Result<ExitCode> {
    let id = citizen_id(&a.id)?;
    let input = std::fs::read(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    let pin = read_pin("KYSO_PIN")?;
    let auth = open(dir, db).await?;
    // PDFs leave as B-LT by default: validatable offline for as long as the algorithms hold.
    let default = if pdf { "b-lt" } else { "b-t" };
    let level: kyso_validate::Level =
        a.level.as_deref().unwrap_or(default).parse().map_err(|e| anyhow::anyhow!("--level: {e}"))?;
    if !pdf && level > kyso_validate::Level::BT {
        bail!("--level: sign-file makes CAdES B-B or B-T signatures; B-LT and B-LTA are for PDFs (sign-pdf)");
    }
    let visible = match (a.visible, pdf) {
        (false, _) => None,
        (true, false) => bail!("--visible: only PDFs (sign-pdf) carry a visible signature"),
        (true, true) => Some(parse_rect(&a.visible_rect)?),
    };
    let out_bytes = if pdf {
        auth.sign_pdf(kyso_authority::PdfJob {
            id_number: &id,
            credential: &a.credential,
            pin: &pin,
            otp: a.otp.as_deref(),
            pdf: &input,
            reason: a.reason,
            level,
            visible,
        })
        .await
    } else {
        let timestamp = level == kyso_validate::Level::BT;
        auth.sign_detached(&id, &a.credential, &pin, a.otp.as_deref(), &input, timestamp).await
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&a.out, &out_bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    out(
        json_mode,
        json!({"out": a.out, "bytes": out_bytes.len()}),
        &format!("signed: {} ({} bytes)", a.out.display(), out_bytes.len()),
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(dir: &DataDir, db: Option<&str>, a: VerifyArgs, json_mode: bool) -> Result<ExitCode> {
    let VerifyArgs { file, signature, trust, lang, format, offline } = a;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut roots = Vec::new();
    for t in &trust {
        let raw = std::fs::read(t).with_context(|| format!("--trust: cannot read {}", t.display()))?;
        roots.push(
            kyso_pki::pem_or_der("CERTIFICATE", &raw).map_err(|e| anyhow::anyhow!("--trust {}: {e}", t.display()))?,
        );
    }
    let detached = match &signature {
        Some(sig) => {
            let cms = std::fs::read(sig).with_context(|| format!("cannot read {}", sig.display()))?;
            Some(kyso_pki::pem_or_der("PKCS7", &cms).unwrap_or(cms))
        }
        None => None,
    };
    let reports = if db.is_none() && !dir.config_path().exists() {
        relying_party(&file, &bytes, detached.as_deref(), &roots, dir, offline).await?
    } else {
        let auth = open(dir, db).await?;
        if offline {
            auth.online.set_offline(true);
        }
        match detached {
            Some(cms) => vec![auth.validate_detached(&cms, &bytes, &roots).await?],
            None => auth.validate_pdf(&bytes, &roots).await.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        }
    };
    let lang = if lang == "en" { kyso_validate::Lang::En } else { kyso_validate::Lang::Vi };
    if json_mode || format == "json" {
        crate::output::print(&format!("{}\n", serde_json::to_string(&reports)?));
    } else if format == "xml" {
        let now = kyso_pki::time::unix(std::time::SystemTime::now()) as i64;
        let digest = kyso_pki::alg::sha256(&bytes);
        crate::output::print(&kyso_validate::etsi_xml(&reports, now, Some(&digest)));
    } else {
        crate::output::print(&kyso_validate::render(&reports, lang));
    }
    use kyso_validate::Indication::*;
    let worst = if reports.iter().any(|r| r.indication == TotalFailed) {
        1
    } else if reports.iter().any(|r| r.indication == Indeterminate) {
        3
    } else {
        0
    };
    Ok(ExitCode::from(worst))
}

/// `kyso verify` where kyso was never initialised: a relying party with no CA of its own trusts
/// exactly the roots given with `--trust`; revocation comes from the document's own validation
/// data (the PDF's DSS), else online from the certificates' OCSP/CRL addresses (not with
/// `--offline`), and is otherwise unknown (INDETERMINATE, as the law asks to warn).
async fn relying_party(
    file: &std::path::Path,
    bytes: &[u8],
    detached: Option<&[u8]>,
    roots: &[Vec<u8>],
    dir: &DataDir,
    offline: bool,
) -> Result<Vec<kyso_validate::SignatureReport>> {
    if roots.is_empty() {
        bail!(
            "no trusted root: kyso is not initialised in {} and no --trust was given. Give the root \
             certificates you trust with --trust ROOT.pem (repeatable), or point --data-dir at a kyso \
             installation",
            dir.path.display()
        );
    }
    for r in roots {
        x509_cert::Certificate::from_der(r).map_err(|e| anyhow::anyhow!("--trust: not a certificate: {e}"))?;
    }
    // no kyso.toml here: networks outside the public internet come from KYSO_ALLOW_PRIVATE_FETCH
    let allow_private = kyso_authority::online::reach::from_env().map_err(|e| anyhow::anyhow!(e))?;
    let online = kyso_authority::online::OnlineConfig { offline, allow_private, ..Default::default() };
    kyso_authority::validate_as_relying_party(bytes, detached, roots, online)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}
