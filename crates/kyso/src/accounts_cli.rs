//! `kyso staff …` and `kyso point …`: the administrator's tools for staff accounts and support
//! points (the web has no page for them yet). Passwords come from KYSO_STAFF_PASSWORD or stdin,
//! never from the command line.

use crate::data::{open, DataDir};
use crate::output::out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyso_store::accounts::{StaffAccountRow, SupportPointRow};
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Create or replace a staff account (password from KYSO_STAFF_PASSWORD or stdin).
    Add {
        #[arg(long)]
        username: String,
        /// Name shown in the app, e.g. "Nguyễn Thị Hoa (Một cửa Hiệp Lực)".
        #[arg(long)]
        name: String,
        /// support_staff, commune_officer, province_officer, provider_operator, auditor, administrator
        #[arg(long)]
        role: String,
        /// national, province:<code>, commune:<code> or provider:<id>
        #[arg(long)]
        scope: String,
        /// Support point id (support staff only).
        #[arg(long)]
        point: Option<String>,
    },
    /// List staff accounts.
    List,
}

#[derive(Subcommand)]
pub enum PointCommand {
    /// Create or replace a support point.
    Add {
        #[arg(long)]
        id: String,
        /// Commune code (2025 list).
        #[arg(long)]
        commune: String,
        #[arg(long)]
        name: String,
        /// one_stop, commune, university, industrial_zone, bank, station, mobile
        #[arg(long)]
        kind: String,
        #[arg(long)]
        address: String,
        /// ISO weekdays it opens, e.g. 123456 for Monday–Saturday.
        #[arg(long, default_value = "12345")]
        days: String,
        /// Opening hours, e.g. "7:30-11:30, 13:30-17:00" (run `add` again with the same --id to
        /// change them).
        #[arg(long, default_value = "")]
        hours: String,
    },
    /// List support points with their results per day.
    List {
        #[arg(long)]
        commune: Option<String>,
    },
}

fn password() -> Result<String> {
    if let Ok(p) = std::env::var("KYSO_STAFF_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn staff(dir: &DataDir, db: Option<&str>, c: StaffCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        StaffCommand::Add { username, name, role, scope, point } => {
            let (kind, code) = match scope.split_once(':') {
                Some((k, c)) => (k.to_string(), c.to_string()),
                None if scope == "national" => ("national".to_string(), "VN".to_string()),
                None => bail!("--scope: national, province:<code>, commune:<code> or provider:<id>"),
            };
            let row = StaffAccountRow {
                username: username.clone(),
                display_name: name,
                role,
                scope_kind: kind,
                scope_code: code,
                point_id: point,
                password_hash: String::new(),
                created_at: kyso_store::now(),
            };
            auth.add_staff(row, &password()?, "cli").await?;
            out(json_mode, json!({"username": username}), &format!("staff account {username} saved"));
        }
        StaffCommand::List => {
            let rows = auth.store.staff_accounts().await?;
            let v: Vec<_> = rows
                .iter()
                .map(|s| json!({"username": s.username, "name": s.display_name, "role": s.role, "scope": format!("{}:{}", s.scope_kind, s.scope_code), "point": s.point_id}))
                .collect();
            let text: Vec<String> = rows
                .iter()
                .map(|s| {
                    format!(
                        "{:<16} {:<18} {}:{} {} {}",
                        s.username,
                        s.role,
                        s.scope_kind,
                        s.scope_code,
                        s.point_id.as_deref().unwrap_or("-"),
                        s.display_name
                    )
                })
                .collect();
            out(json_mode, json!(v), &text.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn point(dir: &DataDir, db: Option<&str>, c: PointCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        PointCommand::Add { id, commune, name, kind, address, days, hours } => {
            if auth.store.commune(&commune).await?.is_none() {
                bail!("--commune: unknown commune code {commune}; import the administrative units first (kyso campaign import-units)");
            }
            let p = SupportPointRow {
                id: id.clone(),
                commune_code: commune,
                name,
                kind,
                address,
                opening_days: days,
                opening_hours: hours,
                created_at: kyso_store::now(),
            };
            auth.add_support_point(p, "cli").await?;
            out(json_mode, json!({"id": id}), &format!("support point {id} saved"));
        }
        PointCommand::List { commune } => {
            let points = auth.store.support_points(commune.as_deref()).await?;
            let mut v = Vec::new();
            let mut text = Vec::new();
            for p in &points {
                let days = auth.store.support_results(Some(&p.id)).await?;
                let total: i64 = days.iter().map(|d| d.sessions).sum();
                let certs: i64 = days.iter().map(|d| d.certificates).sum();
                v.push(json!({"id": p.id, "commune": p.commune_code, "name": p.name, "kind": p.kind, "days": p.opening_days, "hours": p.opening_hours,
                    "results": days.iter().map(|d| json!({"day": d.day, "sessions": d.sessions, "eid_level2": d.eid_level2, "certificates": d.certificates, "first_signatures": d.first_signatures})).collect::<Vec<_>>()}));
                text.push(format!(
                    "{:<12} {:<16} {:<8} days {:<7} hours {:<24} sessions {total:>5} certificates {certs:>5}  {}",
                    p.id,
                    p.kind,
                    p.commune_code,
                    p.opening_days,
                    if p.opening_hours.is_empty() { "-" } else { &p.opening_hours },
                    p.name
                ));
            }
            out(json_mode, json!(v), &text.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
