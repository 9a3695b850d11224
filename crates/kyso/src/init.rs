//! `kyso init`: create the data directory, key-encryption key, configuration and the CA hierarchy.

use crate::data::{create_store, DataDir};
use crate::output::out;
use anyhow::{bail, Context, Result};
use clap::Args;
use kyso_authority::{Authority, Config};
use kyso_custody::Vault;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct InitArgs {
    /// Use this configuration file instead of the demo configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Public base URL written into certificates (CRL, OCSP, caIssuers): http(s)://host[:port],
    /// no path. Default http://127.0.0.1:8080, which `kyso serve`'s default --listen serves; serve
    /// refuses to start when --listen does not bind it (unless kyso.toml says behind_proxy = true).
    #[arg(long)]
    pub base_url: Option<String>,
}

pub async fn run(dir: &DataDir, db: Option<&str>, a: InitArgs, json_mode: bool) -> Result<()> {
    init(dir, db, a.config.as_deref(), a.base_url.as_deref(), json_mode).await
}

pub async fn init(
    dir: &DataDir,
    db: Option<&str>,
    config: Option<&std::path::Path>,
    base_url: Option<&str>,
    json_mode: bool,
) -> Result<()> {
    let cfg = match config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None if dir.config_path().exists() => dir.load_config()?,
        None => {
            let url = kyso_authority::config::BaseUrl::parse(base_url.unwrap_or(DEFAULT_BASE_URL))
                .map_err(|e| anyhow::anyhow!("--base-url: {e}"))?;
            Config::demo(&url.to_string())
        }
    };
    if let Some(u) = base_url {
        same_base_url(&cfg, u, dir)?;
    }
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    dir.create()?;
    std::fs::write(dir.config_path(), cfg.to_toml())?;
    dir.ensure_kek()?;
    dir.operator_token()?;
    let store = create_store(dir, db).await?;
    let vault = Vault::new(&dir.kek()?);
    Authority::init(&store, &vault, &cfg).await?;
    // kyso's own CAs as a trust list, for relying parties and for merging into the national one
    let auth = crate::data::open(dir, db).await?;
    let trust_file = dir.path.join("trust-list.toml");
    std::fs::write(&trust_file, auth.trust_list().await?.to_toml())?;
    let names: Vec<&str> = cfg.providers.iter().map(|p| p.name.as_str()).collect();
    out(
        json_mode,
        json!({"data_dir": dir.path, "providers": cfg.providers.iter().map(|p| &p.id).collect::<Vec<_>>(), "backend": store.backend()}),
        &format!(
            "initialised {}: national root, {} provider CA(s) ({}), OCSP responders, TSA; trust list in {}",
            dir.path.display(),
            names.len(),
            names.join(", "),
            trust_file.display()
        ),
    );
    Ok(())
}

/// `kyso init`'s base URL when `--base-url` is not given: what `kyso serve`'s default `--listen` serves.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// An explicit `--base-url` must be the configuration's: the base URL is written into the CA
/// certificates when the data directory is created, and is not changed by a flag.
pub fn same_base_url(cfg: &Config, given: &str, dir: &DataDir) -> Result<()> {
    let given = kyso_authority::config::BaseUrl::parse(given).map_err(|e| anyhow::anyhow!("--base-url: {e}"))?;
    let have = kyso_authority::config::BaseUrl::parse(&cfg.base_url)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.config_path().display()))?;
    if given != have {
        bail!(
            "--base-url {given} differs from base_url {have} in the configuration ({}), which the CA certificates \
             already carry. Leave --base-url out to keep {have}, or start a new data directory (--data-dir) to use {given}",
            dir.config_path().display()
        );
    }
    Ok(())
}
