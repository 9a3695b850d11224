//! Throwaway PostgreSQL clusters for the replication (and federation) tests: `initdb`, `pg_ctl`
//! and `pg_basebackup` of the installed PostgreSQL (Debian: `/usr/lib/postgresql/<version>/bin`),
//! each cluster in a directory of its own under the system temp dir, listening on 127.0.0.1 at a
//! free port and on a Unix socket in that directory only, trust authentication (loopback), run as
//! the `postgres` user when this process is root (PostgreSQL refuses to run as root).
//!
//! Nothing is registered system-wide (unlike `pg_createcluster`, which writes /etc/postgresql and
//! shows in `pg_lsclusters`): the main server on 5432 and its configuration are never touched.
//! A cluster is stopped (`-m immediate`) and its directory removed when dropped, also when the
//! test panics; a test process killed outright leaves a temp directory and a postmaster behind.
//!
//! When the clusters cannot be made, [`or_skip`] fails under `KYSO_REQUIRE_POSTGRES=1` and
//! otherwise prints a notice and skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub name: String,
    pub port: u16,
    /// `<root>/data`; the socket and the log live in `<root>`.
    root: PathBuf,
    bin: PathBuf,
    running: bool,
}

/// The directory with `initdb`, `pg_ctl` and `pg_basebackup`: `KYSO_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin`, else from PATH.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("KYSO_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_basebackup").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Run a PostgreSQL program, as `postgres` when we are root; Err carries its output.
fn run_pg(bin: &Path, program: &str, args: &[&str]) -> Result<String, String> {
    let exe = bin.join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(args).current_dir("/");
    let out = cmd.output().map_err(|e| format!("{}: {e}", exe.display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{program} {}: {text}", args.join(" ")))
    }
}

impl Cluster {
    fn at(name: &str) -> Result<Cluster, String> {
        let bin = bin_dir().ok_or("no PostgreSQL binaries (initdb, pg_basebackup) found under /usr/lib/postgresql")?;
        let root = std::env::temp_dir().join(format!("kyso-pg-{name}-{}-{}", std::process::id(), crate::unique()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        if is_root() {
            let ok =
                Command::new("chown").args(["postgres:postgres"]).arg(&root).status().map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err("chown postgres failed: is there a `postgres` user?".into());
            }
        }
        Ok(Cluster { name: name.to_string(), port: crate::free_port(), root, bin, running: false })
    }

    fn data(&self) -> String {
        self.root.join("data").display().to_string()
    }

    /// A fresh primary: `initdb` (trust, user `postgres`), started with streaming replication
    /// allowed from 127.0.0.1 (initdb's pg_hba.conf has the replication lines).
    pub fn primary(name: &str) -> Result<Cluster, String> {
        let mut c = Cluster::at(name)?;
        run_pg(&c.bin, "initdb", &["-D", &c.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])?;
        c.start()?;
        Ok(c)
    }

    /// A hot standby of `primary`: `pg_basebackup -R` (streaming WAL during the copy, then
    /// `standby.signal` and `primary_conninfo` written for it), started on a port of its own.
    pub fn replica_of(primary: &Cluster, name: &str) -> Result<Cluster, String> {
        let mut c = Cluster::at(name)?;
        let port = primary.port.to_string();
        run_pg(
            &c.bin,
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &c.data(), "-R", "-X", "stream", "-c", "fast"],
        )?;
        c.start()?;
        Ok(c)
    }

    pub fn start(&mut self) -> Result<(), String> {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.root.display());
        let log = self.root.join("server.log").display().to_string();
        run_pg(&self.bin, "pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-t", "60", "-o", &opts, "start"])
            .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))?;
        self.running = true;
        Ok(())
    }

    /// Stop at once (`-m immediate`: an outage, not a shutdown).
    pub fn stop(&mut self) {
        if self.running {
            let _ = run_pg(&self.bin, "pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
            self.running = false;
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Run SQL with `psql` (as `postgres`), returning its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        run_pg(
            &self.bin,
            "psql",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        )
        .map(|s| s.trim().to_string())
    }

    /// Wait until `sql` answers `want` (e.g. a standby showing a database), at most `timeout`.
    pub fn wait_for(&self, db: &str, sql: &str, want: &str, timeout: Duration) -> Result<(), String> {
        let t = Instant::now();
        loop {
            match self.psql(db, sql) {
                Ok(s) if s == want => return Ok(()),
                r if t.elapsed() > timeout => return Err(format!("{} on {}: {r:?}, wanted {want}", sql, self.name)),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The server's log (for a failure message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A primary with a database `db` and a hot standby showing it. None (with a notice) when that
/// cannot be done outside CI; a panic under `KYSO_REQUIRE_POSTGRES=1`.
pub fn primary_and_replica(name: &str, db: &str) -> Option<(Cluster, Cluster)> {
    let made = (|| {
        let primary = Cluster::primary(&format!("{name}-primary"))?;
        primary.psql("postgres", &format!("CREATE DATABASE {db}"))?;
        let replica = Cluster::replica_of(&primary, &format!("{name}-replica"))?;
        replica.wait_for(db, "SELECT pg_is_in_recovery()", "t", Duration::from_secs(30))?;
        Ok::<_, String>((primary, replica))
    })();
    or_skip(name, made)
}

/// `Ok` as Some; an error fails under `KYSO_REQUIRE_POSTGRES=1`, else a notice and None.
pub fn or_skip<T>(what: &str, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if std::env::var("KYSO_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("KYSO_REQUIRE_POSTGRES=1 but the PostgreSQL clusters of {what} could not be set up: {e}")
        }
        Err(e) => {
            eprintln!("NOTICE: {what} skipped: PostgreSQL clusters could not be set up ({e})");
            None
        }
    }
}
