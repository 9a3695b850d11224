//! `kyso campaign …` commands (filled in by the campaign-tracker work).

use crate::data::DataDir;
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Show what the campaign tracker holds.
    Status,
}

pub async fn run(_dir: &DataDir, _db: Option<&str>, c: CampaignCommand, _json: bool) -> Result<ExitCode> {
    match c {
        CampaignCommand::Status => println!("campaign tracker: not yet wired"),
    }
    Ok(ExitCode::SUCCESS)
}
