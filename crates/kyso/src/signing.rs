//! CLI for remote signing: credentials and `kyso sign-hash`. PINs come from the environment
//! (KYSO_PIN, KYSO_NEW_PIN) or standard input, never from arguments (they would show in `ps`).

use crate::commands::{open, out};
use crate::data::DataDir;
use crate::{CredentialCommand, SignDocArgs};
use anyhow::{bail, Context, Result};
use kyso_authority::IssueRequest;
use kyso_custody::Pin;
use serde_json::json;
use std::process::ExitCode;

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
        CredentialCommand::Activate { id, name, province, commune, provider, key_alg } => {
            let pin = read_pin("KYSO_PIN")?;
            let key_algorithm =
                key_alg.as_deref().map(str::parse).transpose().map_err(|e| anyhow::anyhow!("--key-alg: {e}"))?;
            let req = IssueRequest {
                id_number: id,
                full_name: name,
                province,
                commune,
                provider,
                key_algorithm,
                validity_days: None,
                actor: "cli".into(),
            };
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

pub async fn sign_hash(
    dir: &DataDir,
    db: Option<&str>,
    id: &str,
    credential: &str,
    hashes: &[String],
    otp: Option<&str>,
    json_mode: bool,
) -> Result<ExitCode> {
    let id = citizen_id(id)?;
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
        auth.sign_pdf_visible(&id, &a.credential, &pin, a.otp.as_deref(), &input, a.reason, level, visible).await
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

pub async fn verify(
    dir: &DataDir,
    db: Option<&str>,
    file: &std::path::Path,
    signature: Option<&std::path::Path>,
    trust: &[std::path::PathBuf],
    lang: &str,
    json_mode: bool,
) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut roots = Vec::new();
    for t in trust {
        let raw = std::fs::read(t).with_context(|| format!("--trust: cannot read {}", t.display()))?;
        roots.push(
            kyso_pki::pem_or_der("CERTIFICATE", &raw).map_err(|e| anyhow::anyhow!("--trust {}: {e}", t.display()))?,
        );
    }
    let auth = open(dir, db).await?;
    let reports = match signature {
        Some(sig) => {
            let cms = std::fs::read(sig).with_context(|| format!("cannot read {}", sig.display()))?;
            let cms = kyso_pki::pem_or_der("PKCS7", &cms).unwrap_or(cms);
            vec![auth.validate_detached(&cms, &bytes, &roots).await?]
        }
        None => auth.validate_pdf(&bytes, &roots).await.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
    };
    let lang = if lang == "en" { kyso_validate::Lang::En } else { kyso_validate::Lang::Vi };
    if json_mode {
        println!("{}", serde_json::to_string(&reports)?);
    } else {
        print!("{}", kyso_validate::render(&reports, lang));
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
