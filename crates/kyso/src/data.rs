//! The data directory (`./kyso-data`): configuration, the key-encryption key (mode 0600, or
//! `KYSO_KEK`), the operator token, and the embedded SQLite database; opening its store and the
//! authority on it. A leaf: it imports nothing else from this crate.

use anyhow::{bail, Context, Result};
use kyso_authority::{Authority, Config};
use kyso_custody::{Kek, KeyCustody, Vault};
use kyso_store::replica::ReadReplica;
use kyso_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The actor audit rows name for changes made from the command line.
pub const ACTOR_CLI: &str = "cli";

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

    /// What to do when there is nothing here yet, in Vietnamese then English.
    pub fn not_initialised(&self) -> String {
        let d = self.path.display();
        format!(
            "chưa có dữ liệu kyso trong {d}: hãy chạy `kyso init` trước (hoặc chỉ đúng thư mục bằng --data-dir)\n\
             no kyso data in {d}: run `kyso init` first (or point --data-dir at the right directory)"
        )
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
        if !p.exists() {
            bail!("{}", self.not_initialised());
        }
        let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
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

/// The store, keyed for the audit chain by the KEK when there is one (`kyso init` creates it; a
/// data directory without it can read but not write audited changes).
pub async fn open_store(dir: &DataDir, db: Option<&str>) -> Result<Store> {
    // SQLite in the data directory: a directory that `kyso init` never made is said as such, not
    // as SQLite's "unable to open database file (code 14)"
    if db.is_none() && !dir.path.join("kyso.db").exists() {
        bail!("{}", dir.not_initialised());
    }
    create_store(dir, db).await
}

/// The store, created when new (`kyso init`), keyed as [`open_store`] says.
pub async fn create_store(dir: &DataDir, db: Option<&str>) -> Result<Store> {
    let url = dir.database_url(db);
    let store = Store::open(&url).await.with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    Ok(match dir.kek_if_present()? {
        Some(kek) => store.with_audit_key(kyso_authority::audit_key(&kek)),
        None => store,
    })
}

/// `--read-database-url` and its bound, for every authority this process opens ([`open`]).
static READ_REPLICA: std::sync::OnceLock<(String, Duration)> = std::sync::OnceLock::new();

/// Read from the hot standby at `url` while it is within `max_lag` of the primary. Refused at
/// once, before anything is opened, when the primary is SQLite (the data directory's file or a
/// `sqlite:` URL): SQLite has no replica.
pub fn use_read_replica(dir: &DataDir, db: Option<&str>, url: &str, max_lag: Duration) -> Result<()> {
    let primary = dir.database_url(db);
    if !(primary.starts_with("postgres:") || primary.starts_with("postgresql:")) {
        bail!(
            "--read-database-url chỉ dùng với cơ sở dữ liệu chính PostgreSQL (--database-url postgres://…): SQLite không có bản sao chỉ đọc; bỏ --read-database-url / KYSO_READ_DATABASE_URL\n\
             --read-database-url needs a PostgreSQL primary (--database-url postgres://…): SQLite has no read replica; remove --read-database-url / KYSO_READ_DATABASE_URL"
        );
    }
    let _ = READ_REPLICA.set((url.to_string(), max_lag));
    Ok(())
}

/// Database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

pub async fn open(dir: &DataDir, db: Option<&str>) -> Result<Arc<Authority>> {
    let cfg = dir.load_config()?;
    let store = open_store(dir, db).await?;
    let vault = Arc::new(Vault::new(&dir.kek()?));
    let custody: Arc<dyn KeyCustody> = vault.clone();
    let hsm_providers: Vec<String> =
        cfg.providers.iter().filter(|p| p.citizen_key_custody == "pkcs11").map(|p| p.id.clone()).collect();
    let pkcs11 = cfg.pkcs11.clone();
    let replica = match READ_REPLICA.get() {
        Some((url, max_lag)) => Some(
            ReadReplica::connect(&store, url, *max_lag)
                .await
                .with_context(|| format!("cannot use the read replica ({})", redact(url)))?,
        ),
        None => None,
    };
    let mut auth = Authority::load(store, custody, vault, cfg).await?;
    if let Some(r) = replica {
        tracing::info!(
            bound_ms = r.max_lag().as_millis() as u64,
            "reading OCSP, CRLs, dashboards and exports from the replica within the bound"
        );
        auth.set_read_replica(r);
    }
    if let (Some(p), false) = (pkcs11, hsm_providers.is_empty()) {
        let pin = std::env::var(&p.user_pin_env)
            .with_context(|| format!("the PKCS#11 token's user PIN: set {}", p.user_pin_env))?;
        let token = kyso_custody::Pkcs11Custody::open(std::path::Path::new(&p.module), &p.token, &pin)
            .map_err(|e| anyhow::anyhow!("PKCS#11 token `{}` in {}: {e}", p.token, p.module))?;
        let token: Arc<dyn kyso_custody::PinCustody> = Arc::new(token);
        for id in hsm_providers {
            auth.set_pin_custody(&id, token.clone());
        }
    }
    Ok(Arc::new(auth))
}
