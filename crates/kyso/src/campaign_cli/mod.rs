//! `kyso campaign …`: import administrative units, hamlets, the police register and its level-2
//! e-ID list, record plans,
//! show progress against both readings of a target, print door-to-door worklists, record visits.
//!
//! A thin shell: arguments in, text or JSON out. `kyso-tracker` does the work (imports, the
//! register index, adoption snapshots, the read models shared with the pages, every audit);
//! `kyso-campaign` validates and counts. ID numbers are masked in every line printed here.
//!
//! One file per concern: [`import`] (units, hamlets, the register), [`provider`] (provider lists),
//! [`adoption`], [`plan`], [`progress`], [`worklist`] (worklists and visits) and [`reconcile`];
//! [`meter`] draws the tracker's progress. New command groups go in new files next to these.

mod adoption;
mod import;
mod meter;
mod plan;
mod progress;
mod provider;
mod reconcile;
mod worklist;

// The public names of the single-file module stay reachable as `campaign_cli::…`, used or not.
pub use adoption::by_province;
#[allow(unused_imports)]
pub use import::{import_hamlets, import_register, import_units, resident_row};
#[allow(unused_imports)]
pub use plan::{add_plan, PlanArgs, PlanCommand};
#[allow(unused_imports)]
pub use progress::{load, progress, target, vn_date};
pub use provider::import_provider_list;
#[allow(unused_imports)]
pub use worklist::{visit_key, worklist_lines, WorklistLine};

use crate::data::{open_store, DataDir};
use crate::output::out;
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use kyso_campaign::csv::parse_date;
use std::path::PathBuf;
use std::process::ExitCode;

const ACTOR: &str = "cli";

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Import communes and provinces (admin-units-2025.csv format). Re-importing updates in place.
    ImportUnits { file: PathBuf },
    /// Import hamlets: commune_code,hamlet_code,hamlet_name. Re-importing renames in place.
    ImportHamlets { file: PathBuf },
    /// Import the police register, CSV or XLSX (ID number, name, date of birth, sex, hamlet, household,
    /// commune; Vietnamese headers accepted). Re-importing updates; bad rows are listed, never stop it.
    ImportRegister {
        file: PathBuf,
        /// The commune of every row, for files without a commune column (ma_xa).
        #[arg(long)]
        commune: Option<String>,
        /// XLSX: the sheet to read (default: the first).
        #[arg(long)]
        sheet: Option<String>,
    },
    /// Import the police's list of residents with a level-2 e-ID account, CSV or XLSX (ID number;
    /// optional level and date; Vietnamese headers accepted). Re-importing changes nothing; bad
    /// rows are listed, never stop it.
    ImportEidLevel2 {
        file: PathBuf,
        /// XLSX: the sheet to read (default: the first).
        #[arg(long)]
        sheet: Option<String>,
    },
    /// Import a provider's list of issued certificates, CSV or XLSX (ID number, provider, issue date,
    /// optional expiry and status). Matched on the ID number; re-importing changes nothing.
    ImportProviderList {
        file: PathBuf,
        /// The provider of every row, for lists without a provider column (e.g. VNPT-CA).
        #[arg(long)]
        provider: Option<String>,
        /// The list's date: a revoked or expired status without a date ends the certificate on it
        /// (default: today, Vietnam time).
        #[arg(long)]
        as_of: Option<String>,
        /// XLSX: the sheet to read (default: the first).
        #[arg(long)]
        sheet: Option<String>,
    },
    /// Every commune's holders and adults on a date, rolled up by province; --refresh recomputes
    /// them first, all communes in one pass (after importing a register or a provider list).
    Adoption {
        /// YYYY-MM-DD or dd/mm/yyyy (default: today, Vietnam time).
        #[arg(long)]
        date: Option<String>,
        /// The adults' age line for --refresh: 14, 15, 16 or 18.
        #[arg(long, default_value_t = 15)]
        age_line: u8,
        #[arg(long)]
        refresh: bool,
    },
    /// Campaign plans: targets, baselines, milestones.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Adults, holders and the target under both readings for a commune, with the forecast.
    Progress {
        #[arg(long)]
        commune: String,
        /// Count holders on this date (YYYY-MM-DD or dd/mm/yyyy; default: today, Vietnam time).
        #[arg(long)]
        date: Option<String>,
    },
    /// Adults of a hamlet without a valid certificate, in walking order, ID numbers masked.
    Worklist {
        #[arg(long)]
        commune: String,
        #[arg(long)]
        hamlet: String,
        #[arg(long)]
        date: Option<String>,
        /// Print CSV (for printing or a spreadsheet) instead of a table.
        #[arg(long)]
        csv: bool,
        /// Write the list to this XLSX file.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
        /// Only the people who need this next: level2 (level-2 e-ID at the police), certificate,
        /// or first-signature (holders who never signed).
        #[arg(long)]
        need: Option<String>,
    },
    /// Reconciliation of a commune: people teams were told hold a certificate that no list shows
    /// (to the providers), people found moved away or deceased (to the police), holders at several
    /// providers and lapsed certificates (for the commune). ID numbers masked; audited.
    Reconcile {
        #[arg(long)]
        commune: String,
        /// YYYY-MM-DD or dd/mm/yyyy (default: today, Vietnam time).
        #[arg(long)]
        date: Option<String>,
        /// Write the findings to this XLSX file.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
    },
    /// The certificates providers listed for ID numbers that no register has: the national
    /// correction list to the providers and the police. ID numbers masked; audited.
    Unmatched {
        /// Only this provider's list (e.g. VNPT-CA).
        #[arg(long)]
        provider: Option<String>,
        /// Only certificates valid on this day (YYYY-MM-DD; default: every one listed).
        #[arg(long)]
        date: Option<String>,
        /// Write the whole list to this XLSX file.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
    },
    /// Record a door-to-door visit outcome (append-only).
    Visit {
        /// The resident's 12-digit ID number.
        #[arg(long)]
        id: String,
        /// done, assisted, not-at-home, refused, moved-away, deceased or already-holds.
        #[arg(long)]
        outcome: String,
        /// With already-holds: the provider the person holds a certificate from.
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        team: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Weekly and monthly reports: show, submit, roll up, completeness and timeliness.
    #[command(subcommand)]
    Report(crate::report_cli::ReportCommand),
    /// The plan's task register (lead, coordinating units, result, deadline, status).
    #[command(subcommand)]
    Task(crate::report_cli::TaskCommand),
    /// Segment targets (Hưng Yên's six blocks) and their progress.
    #[command(subcommand)]
    Segments(crate::report_cli::SegmentCommand),
    /// Staff lists for 100 %-of-staff targets.
    #[command(subcommand)]
    Staff(crate::report_cli::StaffCommand),
    /// The hotline: log questions (callers masked), the FAQ, operator hours, the week's topics.
    #[command(subcommand)]
    Hotline(crate::reach_cli::HotlineCommand),
    /// Training sessions and attendance, community-team rosters, the share trained.
    #[command(subcommand)]
    Training(crate::reach_cli::TrainingCommand),
    /// Report approval by the level above (approve, return with a reason) and reporting agencies.
    #[command(subcommand)]
    Approval(crate::reach_cli::ApprovalCommand),
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: CampaignCommand, json_mode: bool) -> Result<ExitCode> {
    let store = open_store(dir, db).await?;
    match c {
        CampaignCommand::Report(c) => crate::report_cli::run_report(&store, c, json_mode).await,
        CampaignCommand::Task(c) => crate::report_cli::run_task(&store, c, json_mode).await,
        CampaignCommand::Segments(c) => crate::report_cli::run_segments(&store, c, json_mode).await,
        CampaignCommand::Staff(c) => crate::report_cli::run_staff(&store, c, json_mode).await,
        CampaignCommand::Hotline(c) => crate::reach_cli::run_hotline(&store, c, json_mode).await,
        CampaignCommand::Training(c) => crate::reach_cli::run_training(&store, c, json_mode).await,
        CampaignCommand::Approval(c) => crate::reach_cli::run_approval(&store, c, json_mode).await,
        CampaignCommand::ImportUnits { file } => import_units(&store, &read(&file)?, json_mode).await,
        CampaignCommand::ImportHamlets { file } => import_hamlets(&store, &read(&file)?, json_mode).await,
        CampaignCommand::ImportRegister { file, commune, sheet } => {
            import_register(&store, &file, commune.as_deref(), sheet.as_deref(), json_mode).await
        }
        CampaignCommand::ImportEidLevel2 { file, sheet } => {
            import::import_eid_list(&store, &file, sheet.as_deref(), json_mode).await
        }
        CampaignCommand::ImportProviderList { file, provider, as_of, sheet } => {
            let as_of = match as_of {
                Some(t) => iso("as-of", &t)?,
                None => vn_date(kyso_store::now()),
            };
            provider::import_provider_list(&store, &file, provider.as_deref(), &as_of, sheet.as_deref(), json_mode)
                .await
        }
        CampaignCommand::Adoption { date, age_line, refresh } => {
            adoption::adoption(&store, &date_arg(date.as_deref())?, age_line, refresh, json_mode).await
        }
        CampaignCommand::Plan(PlanCommand::Add(a)) => plan::plan_add(&store, a, json_mode).await,
        CampaignCommand::Plan(PlanCommand::List) => plan::plan_list(&store, json_mode).await,
        CampaignCommand::Progress { commune, date } => {
            let date = date_arg(date.as_deref())?;
            let v = progress(&store, &commune, &date).await?;
            out(json_mode, v.clone(), &progress::progress_text(&v));
            Ok(ExitCode::SUCCESS)
        }
        CampaignCommand::Worklist { commune, hamlet, date, csv, xlsx, need } => {
            let date = date_arg(date.as_deref())?;
            let need = worklist::need_arg(need.as_deref())?;
            worklist::worklist(&store, (&commune, &hamlet), (&date, need), csv, xlsx.as_deref(), json_mode).await
        }
        CampaignCommand::Reconcile { commune, date, xlsx } => {
            let date = date_arg(date.as_deref())?;
            reconcile::reconcile(&store, &commune, &date, xlsx.as_deref(), json_mode).await
        }
        CampaignCommand::Unmatched { provider, date, xlsx } => {
            let date = date.as_deref().map(|d| date_arg(Some(d))).transpose()?;
            reconcile::unmatched(&store, provider.as_deref(), date.as_deref(), xlsx.as_deref(), json_mode).await
        }
        CampaignCommand::Visit { id, outcome, provider, team, date } => {
            worklist::visit(&store, &id, &outcome, provider, &team, &date_arg(date.as_deref())?, json_mode).await
        }
    }
}

fn read(file: &std::path::Path) -> Result<String> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    kyso_campaign::csv::read_utf8(f).with_context(|| format!("{} is not UTF-8 text", file.display()))
}

// ---- dates (ISO text at the edges; `time::Date` values only inside expressions) ----

/// A date argument normalised to `YYYY-MM-DD`; today in Vietnam when absent.
fn date_arg(text: Option<&str>) -> Result<String> {
    match text {
        None => Ok(vn_date(kyso_store::now())),
        Some(t) => Ok(parse_date(t).map_err(|e| anyhow!("--date: {e}"))?.to_string()),
    }
}

fn iso(field: &str, text: &str) -> Result<String> {
    Ok(parse_date(text).map_err(|e| anyhow!("--{field}: {e}"))?.to_string())
}
