//! The data directory (`./kyso-data`): configuration, the key-encryption key (mode 0600, or
//! `KYSO_KEK`), the operator token, and the embedded SQLite database.

use anyhow::{bail, Context, Result};
use kyso_authority::Config;
use kyso_custody::Kek;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct DataDir {
    pub path: PathBuf,
}

impl DataDir {
    pub fn new(path: &Path) -> DataDir {
        DataDir { path: path.to_path_buf() }
    }
    pub fn config_path(&self) -> PathBuf {
        self.path.join("kyso.toml")
    }
    pub fn database_url(&self, explicit: Option<&str>) -> String {
        match explicit {
            Some(u) => u.to_string(),
            None => format!("sqlite://{}", self.path.join("kyso.db").display()),
        }
    }

    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create data directory {}", self.path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    pub fn load_config(&self) -> Result<Config> {
        let p = self.config_path();
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("cannot read {}: run `kyso init` first", p.display()))?;
        Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    }

    /// The KEK from `KYSO_KEK` (64 hex digits) or the `kek` file.
    pub fn kek(&self) -> Result<Kek> {
        if let Ok(v) = std::env::var("KYSO_KEK") {
            return Kek::from_hex(&v).map_err(|e| anyhow::anyhow!("KYSO_KEK: {e}"));
        }
        let p = self.path.join("kek");
        let text = std::fs::read_to_string(&p).with_context(|| {
            format!("cannot read the key-encryption key {}: run `kyso init`, or set KYSO_KEK", p.display())
        })?;
        Kek::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    }

    /// The KEK when `KYSO_KEK` is set or the `kek` file exists (an error if it is malformed).
    pub fn kek_if_present(&self) -> Result<Option<Kek>> {
        if std::env::var("KYSO_KEK").is_ok() || self.path.join("kek").exists() {
            return self.kek().map(Some);
        }
        Ok(None)
    }

    /// Create the KEK file (0600) unless `KYSO_KEK` is set or the file exists.
    pub fn ensure_kek(&self) -> Result<()> {
        if std::env::var("KYSO_KEK").is_ok() || self.path.join("kek").exists() {
            return Ok(());
        }
        let k = Kek::generate()?;
        write_secret(&self.path.join("kek"), k.to_hex().as_bytes())
    }

    pub fn operator_token(&self) -> Result<String> {
        let p = self.path.join("operator-token");
        if !p.exists() {
            let k = Kek::generate()?; // 32 random bytes, reused as a token
            write_secret(&p, k.to_hex().as_bytes())?;
        }
        Ok(std::fs::read_to_string(&p)?.trim().to_string())
    }
}

/// Write a secret file readable only by its owner, atomically.
pub fn write_secret(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = std::fs::remove_file(&tmp);
    let mut f = opts.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if !path.exists() {
        bail!("could not write {}", path.display());
    }
    Ok(())
}
