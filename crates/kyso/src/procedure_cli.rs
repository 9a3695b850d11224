//! `kyso procedure add/list`: the procedures a dossier is checked against — which files, signed
//! by whom — from a TOML file or from flags (`--file-rule role:name:signer[:optional]`).

use crate::data::{open, DataDir};
use crate::output::out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyso_validate::dossier::{FileRule, Procedure};
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ProcedureCommand {
    /// Add or replace a procedure, from --from FILE.toml or from --code, --name and --file-rule.
    Add {
        /// A TOML file: code, name and [[files]] tables (role, name, signer, required).
        #[arg(long, conflicts_with_all = ["code", "name", "file_rule"])]
        from: Option<PathBuf>,
        /// A short key: a-z, 0-9 and -, e.g. khai-sinh.
        #[arg(long)]
        code: Option<String>,
        /// The procedure's name, e.g. "Đăng ký khai sinh".
        #[arg(long)]
        name: Option<String>,
        /// role:name:signer[:optional], signer = applicant, organisation or none; repeat per file.
        #[arg(long = "file-rule")]
        file_rule: Vec<String>,
    },
    /// List the procedures and their files.
    List,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcedureToml {
    code: String,
    name: String,
    files: Vec<FileRule>,
}

/// `role:name:signer[:optional]` (the name may not contain `:`).
fn file_rule(s: &str) -> Result<FileRule> {
    let parts: Vec<&str> = s.split(':').collect();
    let (role, name, signer, optional) = match parts.as_slice() {
        [r, n, s] => (r, n, s, false),
        [r, n, s, "optional"] => (r, n, s, true),
        _ => bail!("--file-rule {s:?}: write role:name:signer or role:name:signer:optional"),
    };
    let signer = signer.parse().map_err(|e: String| anyhow::anyhow!("--file-rule {s:?}: {e}"))?;
    Ok(FileRule { role: role.to_string(), name: name.to_string(), signer, required: !optional })
}

/// A procedure from its TOML text.
pub fn from_toml(text: &str) -> Result<Procedure> {
    let p: ProcedureToml = toml::from_str(text)?;
    Ok(Procedure::new(&p.code, &p.name, p.files)?)
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: ProcedureCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        ProcedureCommand::Add { from, code, name, file_rule: rules } => {
            let p = match from {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    from_toml(&text).with_context(|| format!("{}", path.display()))?
                }
                None => {
                    let (Some(code), Some(name)) = (code, name) else {
                        bail!("give --from FILE.toml, or --code, --name and one --file-rule per file");
                    };
                    let files = rules.iter().map(|r| file_rule(r)).collect::<Result<Vec<_>>>()?;
                    Procedure::new(&code, &name, files)?
                }
            };
            let auth = open(dir, db).await?;
            auth.put_procedure(&p, "cli").await?;
            out(
                json_mode,
                json!({"code": p.code, "files": p.files.len()}),
                &format!("procedure {} saved ({} files)", p.code, p.files.len()),
            );
        }
        ProcedureCommand::List => {
            let auth = open(dir, db).await?;
            let all = auth.procedures().await?;
            let mut text = Vec::new();
            for p in &all {
                text.push(format!("{:<24} {}", p.code, p.name));
                for f in &p.files {
                    let req = if f.required { "" } else { " (optional)" };
                    text.push(format!("    {:<20} {:<12} {}{req}", f.role, f.signer.as_str(), f.name));
                }
            }
            out(json_mode, json!(all), &text.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_procedures_and_flags_parse() {
        for text in [
            include_str!("../../../data/procedures/khai-sinh.toml"),
            include_str!("../../../data/procedures/ly-lich-tu-phap.toml"),
            include_str!("../../../data/procedures/ho-kinh-doanh.toml"),
        ] {
            let p = from_toml(text).unwrap();
            assert!(p.needs_signatures(), "{}", p.code);
        }
        let r = file_rule("uy-quyen:Văn bản ủy quyền:organisation:optional").unwrap();
        assert_eq!((r.role.as_str(), r.required), ("uy-quyen", false));
        assert!(file_rule("a:b").is_err());
        assert!(file_rule("a:b:ai").unwrap_err().to_string().contains("applicant"));
        assert!(from_toml("code = \"x\"\nname = \"y\"\nfiles = []\n").is_err());
    }
}
