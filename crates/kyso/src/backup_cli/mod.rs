//! `kyso backup` and `kyso restore` (docs/DEPLOYMENT.md, "Backups").
//!
//! SQLite: one checked file made with SQLite's online backup API while the server runs
//! (`kyso_store::backup`), holding the database, a manifest (schema version, audit head, counts)
//! and `kyso.toml`. PostgreSQL (`pg`): `pg_dump` in the custom format from a snapshot whose
//! figures kyso reads itself, and `pg_restore`. Neither holds the key-encryption key: a restore
//! asks for it (`--kek`, `KYSO_KEK`, or the `kek` already in the data directory), migrates the
//! database forward, verifies the whole audit chain under it and that it ends at the backup's
//! head, and opens the CA keys with it before saying it is done.

mod pg;

use crate::data::{write_secret, DataDir};
use crate::output::{note, out};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use kyso_custody::Kek;
use kyso_store::backup::{self, BackupError, BackupOptions, Check, Manifest, Phase, Progress};
use kyso_store::Store;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write; it must not exist (unless --force). SQLite: a database file with
    /// a manifest; PostgreSQL: a `pg_dump` custom-format archive.
    pub file: PathBuf,
    /// Replace an existing file (atomically: the old one stays whole until the new one is).
    #[arg(long)]
    pub force: bool,
    /// SQLite: check the copy with `PRAGMA quick_check` instead of the full `integrity_check`.
    #[arg(long)]
    pub quick: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `kyso backup`.
    pub file: PathBuf,
    /// The key-encryption key file kept apart from the backups (else `KYSO_KEK`, else the `kek`
    /// already in the data directory). It is copied into the data directory (mode 0600).
    #[arg(long)]
    pub kek: Option<PathBuf>,
    /// Restore into a data directory (or PostgreSQL database) that is not empty: the database
    /// and kyso.toml there are moved aside (`*.before-restore-<time>`), never deleted. Stop the
    /// server first.
    #[arg(long)]
    pub force: bool,
    /// SQLite: check the backup with `PRAGMA quick_check` instead of the full `integrity_check`.
    #[arg(long)]
    pub quick: bool,
}

/// The SQLite file of the database: the data directory's, or an explicit `sqlite://` URL's;
/// None for PostgreSQL.
fn sqlite_file(dir: &DataDir, db: Option<&str>) -> Option<PathBuf> {
    match db {
        None => Some(dir.path.join("kyso.db")),
        Some(u) if u.starts_with("sqlite:") => {
            let rest = u.trim_start_matches("sqlite:").trim_start_matches("//");
            Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
        }
        Some(_) => None,
    }
}

fn check_of(quick: bool) -> Check {
    if quick {
        Check::Quick
    } else {
        Check::Full
    }
}

/// A backup file from this size on gets a line on stderr at each step of its restore.
const LARGE: u64 = 64 << 20;

/// What the backup leaves out, said after every backup.
const KEK_APART: &str =
    "KEK (khóa mã hóa khóa) KHÔNG có trong bản sao lưu: hãy cất tệp `kek` của thư mục dữ liệu ở nơi \
riêng, an toàn; không có nó thì không khôi phục được.\n\
The key-encryption key is NOT in the backup: keep the data directory's `kek` file apart, somewhere safe; \
without it the backup cannot be restored.";

pub async fn backup(dir: &DataDir, db: Option<&str>, a: BackupArgs, json_mode: bool) -> Result<()> {
    let config = std::fs::read_to_string(dir.config_path()).ok();
    let started = Instant::now();
    let Some(src) = sqlite_file(dir, db) else {
        return pg::backup(dir, db.unwrap_or_default(), a, json_mode).await;
    };
    if !src.exists() {
        bail!("{}", dir.not_initialised());
    }
    let opts = BackupOptions {
        force: a.force,
        check: check_of(a.quick),
        kyso_version: env!("CARGO_PKG_VERSION").into(),
        config,
        pages_per_step: backup::PAGES_PER_STEP,
    };
    let dest = a.file.clone();
    let m = tokio::task::spawn_blocking(move || {
        let mut shown = Shown::new("sao lưu / backup");
        backup::backup_sqlite(&src, &dest, &opts, &mut |p| shown.update(p))
    })
    .await?
    .map_err(|e| explain(e, &a.file))?;
    let bytes = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    report_backup(&a.file, &m, bytes, started.elapsed(), "sqlite", json_mode);
    Ok(())
}

fn report_backup(file: &Path, m: &Manifest, bytes: u64, took: Duration, backend: &str, json_mode: bool) {
    let secs = took.as_secs_f64();
    out(
        json_mode,
        json!({"file": file, "backend": backend, "bytes": bytes, "seconds": secs,
            "schema_version": m.schema_version, "certificates": m.certificates, "audit_rows": m.audit_rows,
            "audit_head_seq": m.audit_head_seq, "audit_head_hash": m.audit_head_hash,
            "config_included": m.config.is_some(), "kek_included": false}),
        &format!(
            "đã sao lưu / backed up: {} ({:.1} MB, {secs:.1} s; {backend}, schema {})\n\
             {} certificate(s), {} audit row(s), audit head #{} {}\n{KEK_APART}",
            file.display(),
            bytes as f64 / 1e6,
            m.schema_version,
            m.certificates,
            m.audit_rows,
            m.audit_head_seq,
            m.audit_head_hash
        ),
    );
    if json_mode {
        note(KEK_APART);
    }
    if m.config.is_none() {
        note(
            "kyso.toml không có trong bản sao lưu này: hãy giữ nó cùng cấu hình của hệ thống\n\
             kyso.toml is not in this backup: keep it with the deployment's configuration",
        );
    }
}

/// A backup or restore error said in Vietnamese, then English.
fn explain(e: BackupError, file: &Path) -> anyhow::Error {
    match e {
        BackupError::Exists(p) => anyhow!(
            "tệp {0} đã có: hãy chọn tên khác, hoặc thêm --force để thay nó\n{0} exists already: choose another name, or add --force to replace it",
            p.display()
        ),
        BackupError::NotABackup(p, why) => anyhow!(
            "{0} không phải bản sao lưu của kyso ({why})\n{0} is not a kyso backup ({why})",
            p.display()
        ),
        BackupError::Corrupt { path, problems } => anyhow!(
            "{0} không qua kiểm tra toàn vẹn: {problems}\n{0} failed the integrity check: {problems}",
            path.display()
        ),
        BackupError::NewerSchema { backup, known } => anyhow!(
            "bản sao lưu {0} có lược đồ phiên bản {backup}, mới hơn phiên bản {known} của kyso này: hãy khôi phục bằng \
             kyso cùng phiên bản hoặc mới hơn\nthe backup {0} has schema version {backup}, newer than this kyso's {known}: \
             restore it with the same or a newer kyso",
            file.display()
        ),
        e => anyhow!(e),
    }
}

/// Progress of a copy on stderr: a line every two seconds, nothing for a short copy.
struct Shown {
    label: &'static str,
    start: Instant,
    last: Instant,
    drawn: bool,
}

impl Shown {
    fn new(label: &'static str) -> Shown {
        let now = Instant::now();
        Shown { label, start: now, last: now, drawn: false }
    }

    fn update(&mut self, p: Progress) {
        if p.phase == Phase::Checking {
            // The check reports nothing until it ends: say it has begun, after a long copy.
            if self.drawn || self.start.elapsed() > Duration::from_secs(1) {
                note(&format!("{}: kiểm tra toàn vẹn / integrity check…", self.label));
            }
            return;
        }
        let done = p.pages_done == p.pages_total;
        if self.last.elapsed() < Duration::from_secs(2) && !(done && self.drawn) {
            return;
        }
        self.last = Instant::now();
        self.drawn = true;
        let mb = |pages: u64| (pages * p.page_size) as f64 / 1e6;
        let pct = if p.pages_total == 0 { 100.0 } else { p.pages_done as f64 * 100.0 / p.pages_total as f64 };
        note(&format!(
            "{}: {pct:.0}% ({:.0} / {:.0} MB, {:.1} s)",
            self.label,
            mb(p.pages_done),
            mb(p.pages_total),
            self.start.elapsed().as_secs_f64()
        ));
    }
}

/// The KEK a restore verifies with: `--kek`, else `KYSO_KEK`, else the data directory's `kek`;
/// `(kek, file to copy into the data directory)`.
fn restore_kek(dir: &DataDir, given: Option<&Path>) -> Result<(Kek, Option<String>)> {
    if let Some(p) = given {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("không đọc được tệp KEK {0} / cannot read the KEK file {0}", p.display()))?;
        let kek = Kek::from_hex(&text).map_err(|e| anyhow!("--kek {}: {e}", p.display()))?;
        let here = dir.path.join("kek");
        if let Ok(have) = std::fs::read_to_string(&here) {
            if have.trim() != text.trim() {
                bail!(
                    "{0} đã có một KEK khác với --kek: không thay KEK của một thư mục dữ liệu; hãy khôi phục vào thư mục trống\n\
                     {0} holds a KEK other than --kek's: a data directory's KEK is not replaced; restore into an empty directory",
                    here.display()
                );
            }
            return Ok((kek, None));
        }
        return Ok((kek, Some(kek_text(&text))));
    }
    match dir.kek_if_present()? {
        Some(k) => Ok((k, None)),
        None => bail!(
            "thiếu khóa mã hóa khóa (KEK): bản sao lưu không chứa KEK, vì KEK được cất giữ riêng. Hãy chỉ tệp KEK đã cất \
             (tệp `kek` của thư mục dữ liệu cũ) bằng --kek TỆP, hoặc đặt KYSO_KEK (64 chữ số hex). Không có KEK thì không mở \
             được khóa của các CA và của công dân, và không kiểm tra được nhật ký kiểm toán; chưa ghi gì vào {0}.\n\
             missing key-encryption key (KEK): backups do not contain it, it is kept apart. Point --kek at the KEK file you \
             kept (the old data directory's `kek`), or set KYSO_KEK (64 hex digits). Without it neither the CAs' nor the \
             citizens' keys open and the audit log cannot be verified; nothing was written to {0}.",
            dir.path.display()
        ),
    }
}

/// The KEK file's content as `kyso init` writes it (64 hex digits, nothing else).
fn kek_text(text: &str) -> String {
    text.trim().to_string()
}

/// Whether a directory has anything in it (a missing one has not).
fn non_empty(path: &Path) -> bool {
    std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(false)
}

pub async fn restore(dir: &DataDir, db: Option<&str>, a: RestoreArgs, json_mode: bool) -> Result<()> {
    let started = Instant::now();
    if !a.file.is_file() {
        bail!("không có tệp sao lưu {0} / no backup file {0}", a.file.display());
    }
    let Some(dest) = sqlite_file(dir, db) else {
        let (kek, _) = restore_kek(dir, a.kek.as_deref())?;
        return pg::restore(dir, db.unwrap_or_default(), a, kek, json_mode).await;
    };
    let mut head = [0u8; 5];
    let read = std::fs::File::open(&a.file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    if read.is_ok() && &head == b"PGDMP" {
        bail!(
            "{0} là bản sao lưu PostgreSQL (pg_dump): hãy khôi phục nó với --database-url postgres://… (một cơ sở dữ \
             liệu trống)\n{0} is a PostgreSQL backup (pg_dump): restore it with --database-url postgres://… (an empty \
             database)",
            a.file.display()
        );
    }
    if non_empty(&dir.path) && !a.force {
        bail!(
            "thư mục dữ liệu {0} không trống: hãy khôi phục vào một thư mục trống (--data-dir), hoặc thêm --force để thay cơ \
             sở dữ liệu tại chỗ (cơ sở dữ liệu và kyso.toml cũ được dời sang tên *.before-restore-*, không bị xóa; hãy dừng \
             máy chủ trước)\n\
             the data directory {0} is not empty: restore into an empty directory (--data-dir), or add --force to replace \
             the database in place (the old database and kyso.toml are moved aside as *.before-restore-*, never deleted; \
             stop the server first)",
            dir.path.display()
        );
    }
    let (kek, kek_to_write) = restore_kek(dir, a.kek.as_deref())?;
    // Is it a backup this kyso can read, before anything is created?
    backup::read_manifest(&a.file).map_err(|e| explain(e, &a.file))?;
    let created = !dir.path.exists();
    dir.create()?;
    let r = restore_sqlite(dir, &dest, &a, &kek, kek_to_write).await;
    if r.is_err() && created && !non_empty(&dir.path) {
        let _ = std::fs::remove_dir(&dir.path);
    }
    let (m, v, aside) = r?;
    report_restore(dir, &m, &v, aside.as_deref(), started.elapsed(), json_mode);
    Ok(())
}

/// What a restore verified in the restored database.
struct Verified {
    schema_version: i64,
    certificates: i64,
    audit_rows: u64,
    head_seq: i64,
    operator_token_new: bool,
}

async fn restore_sqlite(
    dir: &DataDir,
    dest: &Path,
    a: &RestoreArgs,
    kek: &Kek,
    kek_to_write: Option<String>,
) -> Result<(Manifest, Verified, Option<PathBuf>)> {
    let large = std::fs::metadata(&a.file).map(|m| m.len() > LARGE).unwrap_or(false);
    if large {
        note("khôi phục / restore: chép và kiểm tra toàn vẹn / copying, integrity check…");
    }
    let (file, check, d) = (a.file.clone(), check_of(a.quick), dest.to_path_buf());
    let prepared = tokio::task::spawn_blocking(move || backup::prepare_restore(&file, &d, check))
        .await?
        .map_err(|e| explain(e, &a.file))?;
    let m = prepared.manifest.clone();
    let store = Store::open_restoring(prepared.path()).await.context("cannot open the restored database")?;
    let store = store.with_audit_key(kyso_authority::audit_key(kek));
    if large {
        note(&format!(
            "khôi phục / restore: kiểm tra {} hàng nhật ký kiểm toán / verifying the audit chain…",
            m.audit_rows
        ));
    }
    let v = verify_restored(&store, &m).await;
    store.close().await;
    let mut v = v?;
    let d = dest.to_path_buf();
    let aside = tokio::task::spawn_blocking(move || prepared.install(&d)).await?.map_err(|e| explain(e, &a.file))?;
    // kyso.toml from the backup (the old one moved aside), the KEK file if it came from --kek.
    if let Some(cfg) = &m.config {
        let p = dir.config_path();
        if p.exists() && std::fs::read_to_string(&p).ok().as_deref() != Some(cfg.as_str()) {
            std::fs::rename(&p, p.with_extension(format!("toml.before-restore-{}", kyso_store::now())))?;
        }
        std::fs::write(&p, cfg)?;
    } else if !dir.config_path().exists() {
        note(
            "cảnh báo: bản sao lưu không có kyso.toml; hãy đặt kyso.toml của hệ thống vào thư mục dữ liệu\n\
              warning: the backup holds no kyso.toml; put the deployment's kyso.toml in the data directory",
        );
    }
    if let Some(text) = kek_to_write {
        write_secret(&dir.path.join("kek"), text.as_bytes())?;
    }
    v.operator_token_new = !dir.path.join("operator-token").exists();
    finish_data_dir(dir, None).await?;
    Ok((m, v, aside))
}

/// The restored database under the KEK: the whole audit chain verifies (and every certificate's
/// status agrees with it), it ends at the backup's head, and the certificates are all there.
async fn verify_restored(store: &Store, m: &Manifest) -> Result<Verified> {
    let c = store.check_audit(true).await?;
    if let Some((seq, why)) = &c.chain.first_error {
        let hint = if *seq == 1 {
            "\n(hàng đầu tiên đã sai: KEK này có lẽ không phải KEK của hệ thống đã sao lưu / the very first row fails: this \
             KEK is probably not the backed-up deployment's)"
        } else {
            ""
        };
        bail!(
            "nhật ký kiểm toán của bản khôi phục không hợp lệ ở hàng {seq}: {why}\nthe restored audit log is broken at row {seq}: {why}{hint}"
        );
    }
    if !c.ok() {
        bail!(
            "bản khôi phục không nhất quán / the restored database is inconsistent: {} {} certificate(s) without their key, {} without an issuance row",
            c.mismatches.join("; "),
            c.without_key,
            c.without_audit
        );
    }
    if c.chain.head_seq != m.audit_head_seq || (m.audit_head_seq > 0 && c.chain.head_hash != m.audit_head_hash) {
        bail!(
            "nhật ký kiểm toán khôi phục kết thúc ở hàng #{} chứ không phải #{} như bản sao lưu ghi\nthe restored audit log ends at row #{}, not at #{} as the backup says",
            c.chain.head_seq,
            m.audit_head_seq,
            c.chain.head_seq,
            m.audit_head_seq
        );
    }
    let certificates = store.all_serials().await?.len() as i64;
    if certificates != m.certificates {
        bail!(
            "bản khôi phục có {certificates} chứng thư số, bản sao lưu ghi {0}\nthe restore has {certificates} certificate(s), the backup says {0}",
            m.certificates
        );
    }
    Ok(Verified {
        schema_version: backup::schema_version(),
        certificates,
        audit_rows: c.chain.rows,
        head_seq: c.chain.head_seq,
        operator_token_new: false,
    })
}

/// Opens the authority on the restored data (the CA keys open under the KEK, or this fails) and
/// writes what `kyso init` would have beside the database: the trust list, an operator token.
async fn finish_data_dir(dir: &DataDir, db: Option<&str>) -> Result<()> {
    let auth = crate::data::open(dir, db).await.context(
        "các khóa CA không mở được bằng KEK này / the CA keys do not open under this KEK (is it the backed-up deployment's?)",
    )?;
    std::fs::write(dir.path.join("trust-list.toml"), auth.trust_list().await?.to_toml())?;
    dir.operator_token()?;
    Ok(())
}

fn report_restore(dir: &DataDir, m: &Manifest, v: &Verified, aside: Option<&Path>, took: Duration, json_mode: bool) {
    let mut text = format!(
        "đã khôi phục / restored into {}: {} certificate(s), audit chain verified ({} rows, head #{} as backed up), schema {} → {}{}",
        dir.path.display(),
        v.certificates,
        v.audit_rows,
        v.head_seq,
        m.schema_version,
        v.schema_version,
        if m.schema_version < v.schema_version { " (đã nâng cấp / migrated forward)" } else { "" }
    );
    if let Some(p) = aside {
        text.push_str(&format!("\ncơ sở dữ liệu cũ / the old database: {}", p.display()));
    }
    if v.operator_token_new {
        text.push_str(
            "\nmã thông báo vận hành mới (operator-token) đã được tạo: nó không nằm trong bản sao lưu\n\
             a new operator token (operator-token) was made: it is not in backups",
        );
    }
    out(
        json_mode,
        json!({"data_dir": dir.path, "certificates": v.certificates, "audit_rows": v.audit_rows,
            "audit_head_seq": v.head_seq, "from_schema_version": m.schema_version, "schema_version": v.schema_version,
            "moved_aside": aside, "operator_token_new": v.operator_token_new, "seconds": took.as_secs_f64()}),
        &text,
    );
}
