//! `kyso backup` / `kyso restore` on PostgreSQL: `pg_dump --format=custom` from a snapshot kyso
//! exported and read its figures in (so the figures printed are the dump's), `pg_restore` into a
//! database without kyso's tables, then the same checks as on SQLite. The password of the URL is
//! handed to the tools as `PGPASSWORD`, never on their command line.

use super::{explain, finish_data_dir, report_backup, report_restore, BackupArgs, RestoreArgs, Verified};
use crate::data::{write_secret, DataDir};
use anyhow::{anyhow, bail, Context, Result};
use kyso_custody::Kek;
use kyso_store::backup::{self, BackupError, Manifest};
use kyso_store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `Some("secret")`), the
/// password percent-decoded.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return (url.to_string(), None) };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return (url.to_string(), None) };
    let Some(colon) = rest[..at].find(':') else { return (url.to_string(), None) };
    let password = percent_decode(&rest[colon + 1..at]);
    (format!("{}{}{}", &url[..scheme_end], &rest[..colon], &rest[at..]), Some(password))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `tool` with the URL's password in its environment; returns the URL to pass with `--dbname`.
fn tool(name: &str, url: &str) -> (Command, String) {
    let (bare, password) = split_password(url);
    let mut c = Command::new(name);
    if let Some(p) = password {
        c.env("PGPASSWORD", p);
    }
    (c, bare)
}

/// Runs a PostgreSQL tool; an error names it and carries its standard error.
fn run(mut c: Command, name: &str) -> Result<String> {
    let o = c.output().map_err(|e| {
        anyhow!(
            "không chạy được {name} ({e}): hãy cài công cụ khách PostgreSQL (postgresql-client, cùng phiên bản chính với máy \
             chủ)\ncannot run {name} ({e}): install the PostgreSQL client tools (postgresql-client, the server's major version)"
        )
    })?;
    if !o.status.success() {
        bail!("{name} thất bại / failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn sync_rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::File::open(from)?.sync_all()?;
    std::fs::rename(from, to)?;
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The temporary file beside `dest`, created empty with mode 0600 (pg_dump keeps the mode).
fn temp_beside(dest: &Path) -> Result<PathBuf> {
    let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "kyso".into());
    let tmp = dest.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    Ok(tmp)
}

pub async fn backup(_dir: &DataDir, url: &str, a: BackupArgs, json_mode: bool) -> Result<()> {
    let started = Instant::now();
    if a.file.exists() && !a.force {
        return Err(explain(BackupError::Exists(a.file.clone()), &a.file));
    }
    let store = Store::open(url).await.context("cannot open the database")?;
    // The archive holds the database only: no kyso.toml in its manifest.
    let snap = store.pg_snapshot(env!("CARGO_PKG_VERSION"), None).await?;
    let tmp = temp_beside(&a.file)?;
    let (mut c, bare) = tool("pg_dump", url);
    c.args(["--format=custom", "--no-owner", "--no-privileges", "--snapshot", snap.id.as_str(), "--file"])
        .arg(&tmp)
        .args(["--dbname", bare.as_str()]);
    let dumped = tokio::task::spawn_blocking(move || run(c, "pg_dump")).await?;
    let m: Manifest = snap.manifest.clone();
    snap.end().await?;
    store.close().await;
    let checked = dumped.and_then(|_| check_archive(&tmp, url));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_rename(&tmp, &a.file)?;
    let bytes = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    report_backup(&a.file, &m, bytes, started.elapsed(), "postgres", json_mode);
    Ok(())
}

/// The archive reads back (`pg_restore --list`) and holds the data of the tables a restore is
/// checked by.
fn check_archive(file: &Path, url: &str) -> Result<()> {
    let (mut c, _) = tool("pg_restore", url);
    c.arg("--list").arg(file);
    let list = run(c, "pg_restore --list")?;
    for table in ["certificates", "audit_log", "kyso_migrations"] {
        if !list.lines().any(|l| l.contains("TABLE DATA") && l.split_whitespace().any(|w| w == table)) {
            bail!("{}: the archive has no data for the table {table}", file.display());
        }
    }
    Ok(())
}

pub async fn restore(dir: &DataDir, url: &str, a: RestoreArgs, kek: Kek, json_mode: bool) -> Result<()> {
    let started = Instant::now();
    if backup::read_manifest(&a.file).is_ok() {
        bail!(
            "{0} là bản sao lưu SQLite: hãy khôi phục nó không kèm --database-url postgres://…\n{0} is a SQLite backup: \
             restore it without a postgres:// --database-url",
            a.file.display()
        );
    }
    if backup::pg_schema_version(url).await?.is_some() && !a.force {
        bail!(
            "cơ sở dữ liệu PostgreSQL đích đã có bảng của kyso: hãy khôi phục vào một cơ sở dữ liệu trống (createdb), hoặc \
             thêm --force để pg_restore --clean thay các bảng đó (hãy dừng máy chủ trước)\nthe target PostgreSQL database \
             already has kyso's tables: restore into an empty database (createdb), or add --force to let pg_restore --clean \
             replace them (stop the server first)"
        );
    }
    let (mut c, bare) = tool("pg_restore", url);
    c.args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]);
    if a.force {
        c.args(["--clean", "--if-exists"]);
    }
    c.args(["--dbname", bare.as_str()]).arg(&a.file);
    tokio::task::spawn_blocking(move || run(c, "pg_restore")).await??;
    let from = backup::pg_schema_version(url).await?.unwrap_or(0);
    let store = Store::open(url).await.context("cannot open the restored database")?;
    let store = store.with_audit_key(kyso_authority::audit_key(&kek));
    let c = store.check_audit(true).await;
    let certificates = store.all_serials().await.map(|s| s.len() as i64);
    store.close().await;
    let c = c?;
    if !c.ok() {
        let why = c.chain.first_error.map(|(seq, why)| format!("row {seq}: {why}")).unwrap_or_default();
        bail!(
            "nhật ký kiểm toán của bản khôi phục không hợp lệ (KEK đúng chưa?) / the restored audit log does not verify \
             (is this the deployment's KEK?): {why} {}",
            c.mismatches.join("; ")
        );
    }
    let mut v = Verified {
        schema_version: backup::schema_version(),
        certificates: certificates?,
        audit_rows: c.chain.rows,
        head_seq: c.chain.head_seq,
        operator_token_new: false,
    };
    if dir.config_path().exists() {
        if let (Some(p), false) = (&a.kek, dir.path.join("kek").exists()) {
            write_secret(&dir.path.join("kek"), super::kek_text(&std::fs::read_to_string(p)?).as_bytes())?;
        }
        v.operator_token_new = !dir.path.join("operator-token").exists();
        finish_data_dir(dir, Some(url)).await?;
    } else {
        crate::output::note(&format!(
            "cảnh báo: {0} không có kyso.toml: chưa thử mở khóa CA; hãy đặt kyso.toml và kek của hệ thống vào đó\n\
             warning: {0} has no kyso.toml: the CA keys were not tried; put the deployment's kyso.toml and kek there",
            dir.path.display()
        ));
    }
    let m = Manifest { schema_version: from, ..Manifest::default() };
    report_restore(dir, &m, &v, None, started.elapsed(), json_mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://kyso:s%40cr%3At@db.example:5432/kyso?sslmode=require"),
            ("postgres://kyso@db.example:5432/kyso?sslmode=require".into(), Some("s@cr:t".into()))
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/test"),
            ("postgres://postgres@127.0.0.1/test".into(), None)
        );
        assert_eq!(split_password("postgresql://h/db?options=a@b:c"), ("postgresql://h/db?options=a@b:c".into(), None));
        assert_eq!(split_password("postgres://u:@h/d"), ("postgres://u@h/d".into(), Some(String::new())));
    }
}
