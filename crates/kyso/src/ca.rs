//! `kyso ca` (the hierarchy's certificates) and `kyso crl` (sign a fresh CRL).

use crate::data::{open, DataDir, ACTOR_CLI};
use crate::output::out;
use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CaCommand {
    /// Write every CA, OCSP responder and TSA certificate as PEM into a directory.
    Export {
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
    },
    /// List the hierarchy.
    List,
}

#[derive(Args)]
pub struct CrlArgs {
    /// CA id: root or a provider id.
    #[arg(long, default_value = "root")]
    pub ca: String,
    /// Output file (DER); default: print PEM.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: CaCommand, json_mode: bool) -> Result<()> {
    let auth = open(dir, db).await?;
    match c {
        CaCommand::Export { out_dir } => {
            std::fs::create_dir_all(&out_dir)?;
            let mut written = Vec::new();
            for a in auth.store.authorities().await? {
                let f = out_dir.join(format!("{}.pem", a.id));
                std::fs::write(&f, kyso_pki::pem("CERTIFICATE", &a.cert_der))?;
                written.push(f.display().to_string());
            }
            out(json_mode, json!({ "files": written }), &written.join("\n"));
        }
        CaCommand::List => {
            let rows = auth.store.authorities().await?;
            let v: Vec<_> = rows.iter().map(|a| json!({"id": a.id, "kind": a.kind, "parent": a.parent_id, "name": a.display_name, "serial": a.serial})).collect();
            let text: Vec<String> = rows
                .iter()
                .map(|a| {
                    format!(
                        "{:<14} {:<9} {:<8} {}",
                        a.id,
                        a.kind,
                        a.parent_id.as_deref().unwrap_or("-"),
                        a.display_name
                    )
                })
                .collect();
            out(json_mode, json!(v), &text.join("\n"));
        }
    }
    Ok(())
}

pub async fn crl(dir: &DataDir, db: Option<&str>, a: CrlArgs, json_mode: bool) -> Result<()> {
    let CrlArgs { ca, out: file } = a;
    let auth = open(dir, db).await?;
    let crl = auth.sign_crl(&ca, ACTOR_CLI).await?;
    match file {
        Some(f) => {
            std::fs::write(&f, &crl.der)?;
            out(
                json_mode,
                json!({"ca": ca, "crl_number": crl.crl_number, "file": f}),
                &format!("CRL #{} of {ca} written to {}", crl.crl_number, f.display()),
            );
        }
        None => crate::output::print(&kyso_pki::pem("X509 CRL", &crl.der)),
    }
    Ok(())
}
