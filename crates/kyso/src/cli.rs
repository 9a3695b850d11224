//! The command line's grammar: global options and the commands, users' first. Each command's own
//! arguments live in its module; the developer's `bench` is listed apart, under its own heading.

use crate::accounts_cli::{PointCommand, StaffCommand};
use crate::audit::AuditCommand;
use crate::backup_cli::{BackupArgs, RestoreArgs};
use crate::bench::BenchCommand;
use crate::ca::{CaCommand, CrlArgs};
use crate::campaign_cli::CampaignCommand;
use crate::cert::CertCommand;
use crate::citizen::CitizenCommand;
use crate::federation_cli::FederationCommand;
use crate::init::InitArgs;
use crate::notify_cli::NotifyCommand;
use crate::procedure_cli::ProcedureCommand;
use crate::serve::ServeArgs;
use crate::signing::{CredentialCommand, SignDocArgs, SignHashArgs, VerifyArgs};
use crate::trust_cli::TrustCommand;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "kyso",
    version,
    about = "Public digital signatures for citizens: CAs, revocation, time-stamping, campaign"
)]
pub struct Cli {
    /// Data directory: configuration, key-encryption key, SQLite database.
    #[arg(long, global = true, env = "KYSO_DATA_DIR", default_value = "./kyso-data")]
    pub data_dir: PathBuf,
    /// Database URL (default: sqlite in the data directory). E.g. postgres://user@host/db
    #[arg(long, global = true, env = "KYSO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A hot standby of the PostgreSQL primary (streaming replication) that OCSP, CRL building,
    /// dashboards, rankings and exports read from while it is within --replica-max-lag-ms
    /// (docs/DEPLOYMENT.md). PostgreSQL only: refused with SQLite.
    #[arg(long, global = true, env = "KYSO_READ_DATABASE_URL")]
    pub read_database_url: Option<String>,
    /// How far behind the primary the replica may be before reads go back to the primary.
    #[arg(long, global = true, env = "KYSO_REPLICA_MAX_LAG_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub replica_max_lag_ms: u64,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the data directory, key-encryption key, configuration and the CA hierarchy.
    Init(InitArgs),
    /// Run the HTTP server (CRL, OCSP, TSA, API, web pages).
    Serve(ServeArgs),
    /// Issue, renew, revoke, show and list certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Record a person from the population register with their e-ID level.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Sign a fresh CRL for a CA and write it out.
    Crl(CrlArgs),
    /// CA certificates (for relying parties and tests).
    #[command(subcommand)]
    Ca(CaCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back up the database while the server runs: SQLite's online backup API into one checked
    /// file (with kyso.toml), or pg_dump for PostgreSQL. The key-encryption key is NOT included:
    /// keep the `kek` file apart (docs/DEPLOYMENT.md).
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory (or PostgreSQL database), migrate it forward
    /// and verify its audit chain under the key-encryption key (--kek, KYSO_KEK or `kek`).
    Restore(RestoreArgs),
    /// Staff accounts of the web app (role and scope).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Support points (one-stop desks, commune and mobile points) and their results per day.
    #[command(subcommand)]
    Point(PointCommand),
    /// Procedures for dossiers: which files must be signed, and by whom (`add`, `list`).
    #[command(subcommand)]
    Procedure(ProcedureCommand),
    /// The campaign tracker: administrative units, register, plans, provider lists, worklists, reports.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Notifications (e-mail, SMS, Zalo) through the outbox: invite a hamlet, reminders, delivery, opt-outs.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// The nation: a national coordinator with the provinces' databases as postgres_fdw
    /// partitions (attach, detach, the national roll-up).
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Sign a PDF (PAdES, incremental; B-LT unless --level says otherwise) with a credential; PIN
    /// from KYSO_PIN or stdin.
    SignPdf(SignDocArgs),
    /// Sign any file with a detached CAdES signature (.p7s; B-T unless --level b-b); PIN from
    /// KYSO_PIN or stdin.
    SignFile(SignDocArgs),
    /// Validate a signed PDF, or a file with its detached .p7s; prints the report (Vietnamese by
    /// default). Exit status 0 = TOTAL-PASSED, 1 = TOTAL-FAILED, 3 = INDETERMINATE.
    Verify(VerifyArgs),
    /// Danh sách tin cậy quốc gia (national trust list): import, list, show a provider, export.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Remote-signing credentials: activate (set PIN), list, unlock, change PIN.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Sign SHA-256 hashes with a credential (authorize + signHash in one step). The PIN is read
    /// from KYSO_PIN or the first line of standard input, never from the command line.
    SignHash(SignHashArgs),
    /// Benchmarks: issuance, remote signing, PDF signing and validation, audit verification, the
    /// campaign roll-up, hostile inputs (docs/BENCHMARKS.md).
    #[command(subcommand, hide = true)]
    Bench(BenchCommand),
}

/// The developer's commands, hidden from the list of commands and shown after it under their own
/// heading (clap groups every subcommand under one heading).
const DEVELOPER: &[&str] = &["bench"];

/// Parse the command line (exits on an error, `--help` or `--version`).
pub fn parse() -> Cli {
    let cmd = Cli::command();
    let width = cmd.get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name().len()).max().unwrap_or(0);
    let styles = cmd.get_styles();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let mut after = format!("{header}Developer commands:{header:#}");
    for c in cmd.get_subcommands().filter(|c| DEVELOPER.contains(&c.get_name())) {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        let pad = width.max(c.get_name().len()) - c.get_name().len();
        after.push_str(&format!("\n  {literal}{}{literal:#}{:pad$}  {about}", c.get_name(), ""));
    }
    let matches = cmd.after_help(after).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
