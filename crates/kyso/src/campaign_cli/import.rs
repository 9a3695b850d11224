//! Imports: administrative units, hamlets and the police register. Good rows are kept, bad rows
//! named by row number and field; every import is audited.

use super::ACTOR;
use crate::commands::out;
use anyhow::{bail, Context, Result};
use kyso_campaign::population::{parse_register_csv, Resident, Sex};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::{AuditEvent, Store};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Register rows per transaction (and per progress line on stderr).
const REGISTER_BATCH: usize = 100_000;

fn issues_json(issues: &[RowIssue]) -> Value {
    json!(issues.iter().map(|i| json!({"row": i.row, "field": i.field, "reason": i.reason})).collect::<Vec<_>>())
}

/// Prints the outcome of an import; exit 1 when nothing could be read (a missing column, an empty file).
fn report<T>(json_mode: bool, what: &str, r: &ImportReport<T>, inserted: u64, updated: u64) -> ExitCode {
    let imported = r.items.len();
    let mut text =
        format!("{what}: imported {imported} (new {inserted}, updated {updated}), rejected {}", r.errors.len());
    for e in &r.errors {
        text.push_str(&format!("\n  rejected {e}"));
    }
    for w in &r.warnings {
        text.push_str(&format!("\n  warning {w}"));
    }
    out(
        json_mode,
        json!({"imported": imported, "inserted": inserted, "updated": updated,
               "rejected": issues_json(&r.errors), "warnings": issues_json(&r.warnings)}),
        &text,
    );
    if imported == 0 && !r.errors.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn kind_name(t: CommuneType) -> &'static str {
    match t {
        CommuneType::Commune => "commune",
        CommuneType::Ward => "ward",
        CommuneType::SpecialZone => "special_zone",
    }
}

pub async fn import_units(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let r = parse_admin_units_csv(text);
    let rows: Vec<CommuneRow> = r
        .items
        .iter()
        .map(|u| CommuneRow {
            code: u.commune_code.clone(),
            province_code: u.province_code.clone(),
            province_name: u.province_name.clone(),
            name: u.commune_name.clone(),
            kind: kind_name(u.commune_type).into(),
            lat: u.lat,
            lon: u.lon,
            area_km2: u.area_km2,
        })
        .collect();
    let mut n = Default::default();
    if !rows.is_empty() {
        let detail = format!("{} communes, {} rejected rows", rows.len(), r.errors.len());
        n = store
            .upsert_communes(&rows, &AuditEvent::new(ACTOR, "campaign.units.import", "admin units", detail))
            .await?;
    }
    Ok(report(json_mode, "units", &r, n.inserted, n.updated))
}

/// The stored unit tree (communes and provinces, hamlets of the communes asked for).
async fn units(store: &Store, hamlets_of: &[&str]) -> Result<AdminUnits> {
    let communes = store.communes(None).await?;
    let mut units = AdminUnits::from_units(communes.into_iter().map(|c| Unit {
        commune_type: match c.kind.as_str() {
            "ward" => CommuneType::Ward,
            "special_zone" => CommuneType::SpecialZone,
            _ => CommuneType::Commune,
        },
        province_code: c.province_code,
        province_name: c.province_name,
        commune_code: c.code,
        commune_name: c.name,
        lat: c.lat,
        lon: c.lon,
        area_km2: c.area_km2,
    }));
    let mut hamlets = Vec::new();
    for code in hamlets_of {
        hamlets.extend(store.hamlets(code).await?.into_iter().map(|h| kyso_campaign::units::Hamlet {
            commune_code: h.commune_code,
            hamlet_code: h.code,
            hamlet_name: h.name,
        }));
    }
    units.set_hamlets(hamlets);
    Ok(units)
}

pub async fn import_hamlets(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let r = parse_hamlets_csv(text, &units(store, &[]).await?);
    let rows: Vec<HamletRow> = r
        .items
        .iter()
        .map(|h| HamletRow {
            commune_code: h.commune_code.clone(),
            code: h.hamlet_code.clone(),
            name: h.hamlet_name.clone(),
        })
        .collect();
    let mut n = Default::default();
    if !rows.is_empty() {
        let detail = format!("{} hamlets, {} rejected rows", rows.len(), r.errors.len());
        n = store.upsert_hamlets(&rows, &AuditEvent::new(ACTOR, "campaign.hamlets.import", "hamlets", detail)).await?;
    }
    Ok(report(json_mode, "hamlets", &r, n.inserted, n.updated))
}

pub fn resident_row(r: &Resident) -> ResidentRow {
    ResidentRow {
        id_number: r.id.expose().to_owned(),
        full_name: r.full_name.clone(),
        date_of_birth: r.date_of_birth.to_string(),
        sex: if r.sex == Sex::Female { "F" } else { "M" }.into(),
        commune_code: r.commune_code.clone(),
        hamlet_code: r.hamlet_code.clone(),
        household: r.household.clone(),
    }
}

pub async fn import_register(store: &Store, text: &str, commune: &str, json_mode: bool) -> Result<ExitCode> {
    let unit = store
        .commune(commune)
        .await?
        .with_context(|| format!("--commune: unknown commune {commune}: import the units first"))?;
    let hamlets = store.hamlets(commune).await?;
    if hamlets.is_empty() {
        bail!("commune {commune} has no hamlets: import them first (kyso campaign import-hamlets)");
    }
    let codes = hamlets.iter().map(|h| h.code.as_str()).collect();
    let r = parse_register_csv(text, commune, &codes);
    let rows: Vec<ResidentRow> = r.items.iter().map(resident_row).collect();
    let (mut inserted, mut updated) = (0, 0);
    for (n, batch) in rows.chunks(REGISTER_BATCH).enumerate() {
        let detail = format!("rows {}..{} of {}", n * REGISTER_BATCH + 1, n * REGISTER_BATCH + batch.len(), rows.len());
        let audit = AuditEvent::new(ACTOR, "campaign.register.import", commune, detail);
        let u = store.upsert_residents(batch, (&unit.province_name, &unit.name), &audit).await?;
        inserted += u.inserted;
        updated += u.updated;
        if rows.len() > REGISTER_BATCH {
            eprintln!("register {commune}: {} of {} rows stored", n * REGISTER_BATCH + batch.len(), rows.len());
        }
    }
    Ok(report(json_mode, &format!("register {commune}"), &r, inserted, updated))
}
