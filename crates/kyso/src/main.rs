//! `kyso`: one binary for the CLI and the server. Thin: parse arguments, open the data directory
//! and storage, call `kyso-authority`, print. `--json` gives machine-readable output.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts_cli;
mod bench;
mod bench_audit;
mod bench_campaign;
mod bench_dos;
mod bench_pdf;
mod bench_sign;
mod campaign_cli;
mod commands;
mod data;
mod demo;
mod demo_accounts;
mod demo_campaign;
mod demo_list;
mod demo_reports;
mod logging;
mod public_url;
mod report_cli;
mod signing;

use clap::{Args, Parser, Subcommand};
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
    Crl {
        /// CA id: root or a provider id.
        #[arg(long, default_value = "root")]
        ca: String,
        /// Output file (DER); default: print PEM.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// CA certificates (for relying parties and tests).
    #[command(subcommand)]
    Ca(CaCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Staff accounts of the web app (role and scope).
    #[command(subcommand)]
    Staff(crate::accounts_cli::StaffCommand),
    /// Support points (one-stop desks, commune and mobile points) and their results per day.
    #[command(subcommand)]
    Point(crate::accounts_cli::PointCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The campaign tracker: administrative units, register, plans, provider lists, worklists, reports.
    #[command(subcommand)]
    Campaign(crate::campaign_cli::CampaignCommand),
    /// Sign a PDF (PAdES, incremental; B-LT unless --level says otherwise) with a credential; PIN
    /// from KYSO_PIN or stdin.
    SignPdf(SignDocArgs),
    /// Sign any file with a detached CAdES signature (.p7s; B-T unless --level b-b); PIN from
    /// KYSO_PIN or stdin.
    SignFile(SignDocArgs),
    /// Validate a signed PDF, or a file with its detached .p7s; prints the report (Vietnamese by
    /// default). Exit status 0 = TOTAL-PASSED, 1 = TOTAL-FAILED, 3 = INDETERMINATE.
    Verify {
        file: PathBuf,
        /// Detached signature (.p7s) of FILE.
        #[arg(long)]
        signature: Option<PathBuf>,
        /// Extra trusted root (PEM or DER), repeatable.
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// vi (default) or en.
        #[arg(long, default_value = "vi")]
        lang: String,
    },
    /// Remote-signing credentials: activate (set PIN), list, unlock, change PIN.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Sign SHA-256 hashes with a credential (authorize + signHash in one step). The PIN is read
    /// from KYSO_PIN or the first line of standard input, never from the command line.
    SignHash {
        /// The citizen's 12-digit ID number (the credential must be theirs).
        #[arg(long)]
        id: String,
        #[arg(long)]
        credential: String,
        /// Hex SHA-256 hash to sign; repeat for a batch.
        #[arg(long = "hash", required = true)]
        hashes: Vec<String>,
        /// TOTP code where the provider requires a second factor.
        #[arg(long)]
        otp: Option<String>,
    },
}

#[derive(Args)]
pub struct SignDocArgs {
    /// The signer's 12-digit ID number (the credential must be theirs).
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub credential: String,
    #[arg(long = "in")]
    pub input: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// TOTP code where the provider requires a second factor.
    #[arg(long)]
    pub otp: Option<String>,
    /// Reason shown in the signature (PDF only).
    #[arg(long)]
    pub reason: Option<String>,
    /// Baseline level. b-b: the signature only; b-t: plus a time-stamp from kyso's TSA proving
    /// when it was signed; b-lt (sign-pdf's default): plus a DSS with the certificates, OCSP
    /// responses and CRLs needed to validate it offline, years later; b-lta: plus a document
    /// time-stamp over all of it. sign-file (CAdES) supports b-b and b-t (its default).
    #[arg(long, value_parser = ["b-b", "b-t", "b-lt", "b-lta"])]
    pub level: Option<String>,
    /// Show the signature on page 1 of the PDF: signer name, masked ID number, signing time
    /// (font: KYSO_SIGNATURE_FONT or DejaVu Sans from fonts-dejavu-core).
    #[arg(long)]
    pub visible: bool,
    /// Where the visible signature goes: "x1,y1,x2,y2" in PDF units (1/72 in) from the page's
    /// lower-left corner.
    #[arg(long, requires = "visible", default_value = "36,36,306,106")]
    pub visible_rect: String,
}

#[derive(Subcommand)]
pub enum CredentialCommand {
    /// Kích hoạt: set a 6-digit PIN (KYSO_PIN or stdin), generate the key in custody, issue the certificate.
    Activate {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        province: String,
        #[arg(long)]
        commune: Option<String>,
        #[arg(long)]
        provider: String,
        #[arg(long)]
        key_alg: Option<String>,
    },
    /// A person's credentials.
    List {
        #[arg(long)]
        id: String,
    },
    /// Unlock after 5 wrong PINs, once an officer has re-verified the person in person (level 2).
    Unlock {
        credential: String,
        #[arg(long)]
        officer: String,
        #[arg(long, default_value = "chip card + face")]
        method: String,
    },
    /// Change the PIN: old from KYSO_PIN, new from KYSO_NEW_PIN.
    ChangePin {
        credential: String,
        #[arg(long)]
        id: String,
    },
    /// A bearer access token for the remote-signing API (until e-ID login lands).
    Token {
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

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

#[derive(Args)]
pub struct ServeArgs {
    /// Address to bind (host:port). It must be where kyso.toml's base_url points, unless
    /// behind_proxy = true or base_url is https.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// With --demo on a fresh data directory: the public base URL for certificates (default
    /// http://<--listen>; needed when --listen is 0.0.0.0 or [::]). Otherwise it must equal kyso.toml's.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Initialise if needed and seed demo residents and certificates.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a citizen certificate (key generated in custody).
    Issue(IssueArgs),
    /// Renew (gia hạn): a new certificate, same key unless --new-key; the old one is superseded.
    Renew {
        serial: String,
        #[arg(long)]
        new_key: bool,
    },
    /// Revoke with an RFC 5280 reason (keyCompromise, affiliationChanged, superseded, cessationOfOperation, …).
    Revoke {
        serial: String,
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Show one certificate.
    Show {
        serial: String,
        /// Print the PEM certificate only.
        #[arg(long)]
        pem: bool,
        /// Write the DER certificate to a file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List certificates, newest first (ID numbers masked).
    List {
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// 12-digit citizen ID number.
    #[arg(long)]
    pub id: String,
    /// Full name with diacritics, e.g. "Nguyễn Văn An".
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub province: String,
    #[arg(long)]
    pub commune: Option<String>,
    /// Provider id from kyso.toml (e.g. vnpt, viettel).
    #[arg(long)]
    pub provider: String,
    /// ec-p256 (default), rsa-2048 or rsa-3072.
    #[arg(long)]
    pub key_alg: Option<String>,
    #[arg(long)]
    pub days: Option<u64>,
    /// Record the person as level-2 e-ID first (until the register import marks it).
    #[arg(long)]
    pub eid_level2: bool,
    /// Certify the key in this PKCS#10 request (PEM or DER) instead of generating one in custody.
    #[arg(long)]
    pub csr: Option<PathBuf>,
    /// Also write the DER certificate here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum CitizenCommand {
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        province: String,
        #[arg(long)]
        commune: Option<String>,
        /// 0 (none), 1 (self-registered) or 2 (verified in person).
        #[arg(long, default_value_t = 2)]
        eid_level: i64,
    },
}

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

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the keyed audit chain (from the last verified checkpoint) and every certificate's
    /// status against it; exit 1 and name the first edited, deleted or reordered row, a forged
    /// checkpoint, or the first certificate whose status disagrees with the log.
    Verify {
        /// Walk the whole chain from row 1 instead of resuming from the checkpoint.
        #[arg(long)]
        full: bool,
    },
    /// Print audit rows (oldest first), optionally only actions starting with a prefix.
    Show {
        /// Only rows after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// e.g. `eid.` or `cert.revoke`
        #[arg(long)]
        action: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic register and provider list (CSV) for the campaign benchmark, deterministic
    /// for a seed: admin units (the real communes), hamlets, residents, provider-list rows.
    CampaignData {
        #[arg(long, default_value_t = 10_000_000)]
        residents: u64,
        /// Provider-list rows.
        #[arg(long, default_value_t = 4_000_000)]
        list: u64,
        #[arg(long, default_value = "data/admin-units-2025.csv")]
        units: PathBuf,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// On an imported data directory: the all-communes adoption roll-up's latency over N runs and
    /// one commune's worklists (scripts/bench-campaign.sh).
    Campaign {
        /// The roll-up's date (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The commune whose hamlets' worklists are built.
        #[arg(long)]
        commune: String,
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Sign (PAdES B-B) and validate the same PDF N times with a given EC P-256 key and chain, to
    /// set beside pyHanko on the same inputs (scripts/bench-pdf.sh runs both).
    Pdf {
        #[arg(long)]
        pdf: PathBuf,
        /// PKCS#8 PEM private key (EC P-256).
        #[arg(long)]
        key: PathBuf,
        /// Signer certificate, then its chain up to the root (PEM files).
        #[arg(long, num_args = 1.., required = true)]
        certs: Vec<PathBuf>,
        #[arg(long, default_value_t = 500)]
        count: usize,
    },
    /// Remote signing over HTTP on loopback: batches of hashes (one authorize, one signHash) and
    /// authorize calls alone (the Argon2id PIN check), EC P-256.
    Sign {
        /// vault (PIN-wrapped keys) or pkcs11 (a SoftHSM2 token the bench creates).
        #[arg(long, default_value = "vault")]
        custody: String,
        /// Concurrent clients (each its own citizen, credential and keep-alive connection).
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Batches per client for the signing figure.
        #[arg(long, default_value_t = 25)]
        batches: usize,
        /// Hashes per batch.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
        /// authorize calls per client for the latency figure.
        #[arg(long, default_value_t = 50)]
        authorize_calls: usize,
    },
    /// `kyso audit verify` on a synthetic log of N rows (certificates with their issuance and
    /// revocation rows, then other rows) in a fresh data directory: full check, then resumed.
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[arg(long, default_value_t = 35_000)]
        certificates: usize,
        /// Keep the data directory (its path is printed on stderr).
        #[arg(long)]
        keep: bool,
    },
    /// Validation time against the number of signature dictionaries (each its own incremental
    /// update: the worst case for the modification analysis); docs/BENCHMARKS.md.
    ValidateMany {
        /// Signature counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [25, 100, 1500])]
        signatures: Vec<usize>,
        /// Best of this many runs per count.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Lift the validation limits (signatures, bytes, DSS, work) to show how time grows.
        #[arg(long)]
        no_limits: bool,
        /// Also write each PDF here (sigs-N.pdf), for the hostile tests and scripts.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Write a small XLSX whose first sheet (or its shared strings) inflates to MiB of XML.
    XlsxBomb {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2048)]
        inflated_mb: u64,
        /// Put the payload in xl/sharedStrings.xml instead of the sheet.
        #[arg(long)]
        shared: bool,
    },
    /// Issue and durably store N citizen certificates with fresh EC P-256 keys.
    Issue {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// Concurrent issuances in flight.
        #[arg(long, default_value_t = 4000)]
        concurrency: usize,
        /// Measure only the CPU part (key generation, build, sign, lint) on all cores, storing nothing.
        #[arg(long)]
        cpu_only: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KYSO_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .fmt_fields(logging::fields())
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
