//! `kyso bench …`: the developer's benchmarks (docs/BENCHMARKS.md, scripts/bench-*.sh), apart
//! from the user commands and entered through [`run`] alone.

mod audit;
mod campaign;
mod dos;
mod dossier;
mod federation;
mod issue;
mod load;
mod pdf;
mod sign;
mod status;

use crate::data::{open_store, DataDir};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

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
    /// A three-file dossier (PDFs the applicant signed PAdES B-LT with kyso's CA) checked N times
    /// through the desk's and the portal API's service path, stored and not; with `--pyhanko`,
    /// pyHanko validating the same files in the same run, and the ratio (scripts/bench-dossier.sh).
    Dossier {
        /// Dossiers timed on each kyso path.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// A Python with pyHanko (e.g. .ci/venv/bin/python): also time pyHanko on the same files.
        #[arg(long)]
        pyhanko: Option<PathBuf>,
        /// Dossiers timed in pyHanko.
        #[arg(long, default_value_t = 30)]
        pyhanko_count: usize,
        /// Keep the three signed PDFs and root.pem here.
        #[arg(long)]
        out_dir: Option<PathBuf>,
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
    /// OCSP on the real server on loopback (pre-produced answers by POST and GET, and fresh ones
    /// with a nonce), at several concurrencies with and without keep-alive, beside
    /// `openssl ocsp -multi 2` over an OpenSSL-made CA in the same run (docs/BENCHMARKS.md).
    Ocsp {
        /// Concurrent clients, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1, 8, 64])]
        concurrency: Vec<usize>,
        /// Seconds per row.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Skip the `openssl ocsp` responder.
        #[arg(long)]
        no_openssl: bool,
    },
    /// RFC 3161 time-stamps on the real server on loopback, at several concurrencies with and
    /// without keep-alive, beside `openssl ts -reply` (one process per token) in the same run.
    Tsa {
        #[arg(long, value_delimiter = ',', default_values_t = [1, 8, 64])]
        concurrency: Vec<usize>,
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Tokens made with `openssl ts -reply` for the comparison (0: skip).
        #[arg(long, default_value_t = 200)]
        openssl_tokens: usize,
    },
    /// Cut a `campaign-data` directory into one directory per province (units, hamlets,
    /// residents, the provider-list rows of its residents) for scripts/bench-federation.sh.
    FederationSplit {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// On a national coordinator with provinces attached: the roll-up's and the ranking's latency
    /// over N runs, people found across the nation, the register per province, and one
    /// commune's worklists through its province (scripts/bench-federation.sh).
    Federation {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long, default_value_t = 200)]
        runs: usize,
        /// The database of the commune's province (for its worklists and residents).
        #[arg(long)]
        province_url: Option<String>,
        #[arg(long)]
        commune: Option<String>,
        /// How many of the commune's residents to look up across the nation.
        #[arg(long, default_value_t = 50)]
        people: usize,
        /// Ask the provinces one after the other (async_capable off) instead of concurrently.
        #[arg(long)]
        sequential: bool,
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

pub async fn run(dir: &DataDir, db: Option<&str>, c: BenchCommand, json_mode: bool) -> Result<()> {
    match c {
        BenchCommand::Pdf { pdf, key, certs, count } => pdf::run(&pdf, &key, &certs, count, json_mode),
        BenchCommand::Dossier { count, pyhanko, pyhanko_count, out_dir } => {
            dossier::run(count, pyhanko.as_deref(), pyhanko_count, out_dir.as_deref(), json_mode).await
        }
        BenchCommand::Sign { custody, clients, batches, batch_size, authorize_calls } => {
            sign::run(&custody, clients, batches, batch_size, authorize_calls, json_mode).await
        }
        BenchCommand::CampaignData { residents, list, units, seed, out } => {
            campaign::data(&units, residents, list, seed, &out)
        }
        BenchCommand::Campaign { date, commune, runs } => {
            let store = open_store(dir, db).await?;
            campaign::run(&store, &date, &commune, runs).await
        }
        BenchCommand::Audit { rows, certificates, keep } => audit::run(rows, certificates, keep, db, json_mode).await,
        BenchCommand::ValidateMany { signatures, runs, no_limits, out_dir } => {
            dos::validate_many(&signatures, runs, no_limits, out_dir.as_deref(), json_mode)
        }
        BenchCommand::XlsxBomb { out, inflated_mb, shared } => dos::xlsx_bomb(&out, inflated_mb, shared),
        BenchCommand::Ocsp { concurrency, secs, no_openssl } => {
            status::ocsp(&concurrency, secs, no_openssl, json_mode).await
        }
        BenchCommand::Tsa { concurrency, secs, openssl_tokens } => {
            status::tsa(&concurrency, secs, openssl_tokens, json_mode).await
        }
        BenchCommand::FederationSplit { data, out } => federation::split(&data, &out),
        BenchCommand::Federation { coordinator_url, date, runs, province_url, commune, people, sequential } => {
            federation::run(federation::Options {
                coordinator_url: &coordinator_url,
                date: &date,
                runs,
                province_url: province_url.as_deref(),
                commune: commune.as_deref(),
                people,
                concurrent: !sequential,
            })
            .await
        }
        BenchCommand::Issue { count, concurrency, cpu_only } => {
            issue::run(count, concurrency, cpu_only, db, json_mode).await
        }
    }
}
