//! `kyso federation`: the national coordinator (docs/DEPLOYMENT.md, "Nation: partitioning and
//! federation") — attach a province's kyso database as a postgres_fdw foreign partition, detach
//! it, and the national roll-up of a day (one query pushed down to every province; a province
//! that cannot be reached is named, exit status 3).

use crate::output::out;
use anyhow::{Context, Result};
use clap::Subcommand;
use kyso_store::federation::{Coordinator, ProvinceLink};
use serde_json::json;
use std::process::ExitCode;

const STYLE: kyso_fmt::Style = kyso_fmt::Style::En;

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Attach a province's kyso database to the coordinator (its server, user mapping and the
    /// foreign partition of nation_adoption).
    Attach {
        /// The coordinator's database, postgres://…
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// Two digits, e.g. 19.
        #[arg(long)]
        province: String,
        /// The province database's host, as the coordinator reaches it.
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 5432)]
        port: u16,
        #[arg(long, default_value = "kyso")]
        dbname: String,
        /// The role the coordinator reads the province's federation_adoption view as.
        #[arg(long, default_value = "kyso_nation")]
        user: String,
        /// Environment variable holding that role's password (never on the command line).
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Detach a province (its partition, user mapping and server).
    Detach {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        #[arg(long)]
        province: String,
    },
    /// The national roll-up of a day: adults and holders per province and in all. Exit status 3
    /// when a province could not be reached (its figures are left out and it is named).
    Rollup {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
}

pub async fn run(c: FederationCommand, json_mode: bool) -> Result<ExitCode> {
    let open = |url: &str| {
        let url = url.to_owned();
        async move { Coordinator::connect(&url).await.context("cannot open the national coordinator's database") }
    };
    match c {
        FederationCommand::Attach { coordinator_url, province, host, port, dbname, user, password_env } => {
            let password = match password_env {
                Some(v) => Some(std::env::var(&v).with_context(|| format!("--password-env: {v} is not set"))?),
                None => None,
            };
            let coord = open(&coordinator_url).await?;
            let link = ProvinceLink { code: province.clone(), host, port, dbname, user, password };
            coord.attach(&link).await?;
            out(json_mode, json!({"attached": province}), &format!("province {province} attached"));
        }
        FederationCommand::Detach { coordinator_url, province } => {
            open(&coordinator_url).await?.detach(&province).await?;
            out(json_mode, json!({"detached": province}), &format!("province {province} detached"));
        }
        FederationCommand::Rollup { coordinator_url, date } => {
            // dd/mm/yyyy or yyyy-mm-dd, stored as yyyy-mm-dd
            let date = kyso_campaign::csv::parse_date(&date).map_err(|e| anyhow::anyhow!("--date: {e}"))?.to_string();
            let r = open(&coordinator_url).await?.rollup(&date).await?;
            let share = |h: i64, a: i64| {
                if a > 0 {
                    kyso_fmt::percent(h as f64 * 100.0 / a as f64, 2, STYLE)
                } else {
                    "–".into()
                }
            };
            let mut text = String::new();
            for p in &r.provinces {
                text.push_str(&format!(
                    "{}  communes {}  adults {}  holders {}  {}\n",
                    p.code,
                    kyso_fmt::int(p.communes, STYLE),
                    kyso_fmt::int(p.adults, STYLE),
                    kyso_fmt::int(p.holders, STYLE),
                    share(p.holders, p.adults)
                ));
            }
            for u in &r.unavailable {
                text.push_str(&format!("{}  unavailable: {}\n", u.code, u.message));
            }
            text.push_str(&format!(
                "nation{}  adults {}  holders {}  {}",
                if r.unavailable.is_empty() { "" } else { " (provinces that answered)" },
                kyso_fmt::int(r.adults, STYLE),
                kyso_fmt::int(r.holders, STYLE),
                share(r.holders, r.adults)
            ));
            let v = json!({
                "date": date,
                "provinces": r.provinces.iter().map(|p| json!({"code": p.code, "communes": p.communes, "adults": p.adults, "holders": p.holders})).collect::<Vec<_>>(),
                "unavailable": r.unavailable.iter().map(|u| json!({"code": u.code, "message": u.message})).collect::<Vec<_>>(),
                "adults": r.adults, "holders": r.holders, "one_query": r.one_query,
            });
            out(json_mode, v, &text);
            if !r.unavailable.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
