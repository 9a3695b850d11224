//! Imports: administrative units, hamlets and the police register. Good rows are kept, bad rows
//! named by row number and field; every import is audited.

use super::meter::Meter;
use super::source::{Source, HEADER_SEARCH};
use super::ACTOR;
use crate::output::out;
use anyhow::{bail, Context, Result};
use kyso_campaign::population::{KnownHamlets, RegisterImport, Resident, Sex};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::{AuditEvent, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

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

/// Register rows per transaction: memory stays flat, and each commit is worth its fsync.
const REGISTER_BATCH: usize = 50_000;

/// The end of a streamed import: counts, then every rejected row and warning. In JSON the lists
/// are written straight to standard output (a national list can name hundreds of thousands of
/// rows: no JSON tree of them is built).
pub(super) fn summary(json_mode: bool, what: &str, counts: Value, text: String, lists: &[(&str, &[RowIssue])]) {
    if json_mode {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        // A closed pipe ends the output, as for any other command.
        let _ = write_summary_json(&mut w, counts, lists);
        return;
    }
    let mut text = format!("{what}: {text}");
    for (name, issues) in lists {
        let label = name.trim_end_matches('s');
        for i in issues.iter() {
            text.push_str(&format!("\n  {label} {i}"));
        }
    }
    out(false, Value::Null, &text);
}

fn write_summary_json(
    w: &mut impl std::io::Write,
    counts: Value,
    lists: &[(&str, &[RowIssue])],
) -> std::io::Result<()> {
    let entries = match counts {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    w.write_all(b"{")?;
    let mut first = true;
    let mut key = |w: &mut dyn std::io::Write, k: &str| -> std::io::Result<()> {
        if !std::mem::take(&mut first) {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, k)?;
        w.write_all(b":")
    };
    for (k, v) in &entries {
        if lists.iter().all(|(name, _)| name != k) {
            key(w, k)?;
            serde_json::to_writer(&mut *w, v)?;
        }
    }
    for (name, issues) in lists {
        key(w, name)?;
        w.write_all(b"[")?;
        for (n, i) in issues.iter().enumerate() {
            w.write_all(if n == 0 { b"{\"row\":" } else { b",{\"row\":" })?;
            write!(w, "{},\"field\":", i.row)?;
            serde_json::to_writer(&mut *w, &i.field)?;
            w.write_all(b",\"reason\":")?;
            serde_json::to_writer(&mut *w, &i.reason)?;
            w.write_all(b"}")?;
        }
        w.write_all(b"]")?;
    }
    w.write_all(b"}\n")?;
    w.flush()
}

/// Imports the police register from CSV or XLSX, streamed in batches of [`REGISTER_BATCH`] rows,
/// one transaction each. With a commune column a file may span several communes; without one,
/// `commune` names the commune of every row (with one, it restricts the import to that commune).
pub async fn import_register(
    store: &Store,
    file: &Path,
    commune: Option<&str>,
    sheet: Option<&str>,
    json_mode: bool,
) -> Result<ExitCode> {
    if let Some(commune) = commune {
        store
            .commune(commune)
            .await?
            .with_context(|| format!("--commune: unknown commune {commune}: import the units first"))?;
        if store.hamlets(commune).await?.is_empty() {
            bail!("commune {commune} has no hamlets: import them first (kyso campaign import-hamlets)");
        }
    }
    let names: HashMap<String, (String, String)> =
        store.communes(None).await?.into_iter().map(|c| (c.code, (c.province_name, c.name))).collect();
    let hamlets = store.all_hamlets().await?;
    let known = KnownHamlets::new(hamlets.iter().map(|h| (h.commune_code.as_str(), h.code.as_str(), h.name.as_str())));
    let name_of = |code: &str| names.get(code).map_or(("", ""), |(p, c)| (p.as_str(), c.as_str()));
    let subject = commune.unwrap_or("register");

    let mut source = Source::open(file, sheet)?;
    let mut meter = Meter::new("register", source.total);
    let mut import: Option<RegisterImport> = None;
    let (mut rejected, mut warnings) = (Vec::new(), Vec::new());
    let mut batch: Vec<ResidentRow> = Vec::with_capacity(REGISTER_BATCH);
    let (mut rows, mut kept, mut inserted, mut updated) = (0u64, 0u64, 0u64, 0u64);
    let mut header_failed = false;
    let (mut header_tries, mut first_missing) = (0, None);
    'read: while let Some(chunk) = source.next_chunk().await {
        for record in chunk {
            let record = match record {
                Ok(r) => r,
                Err(issue) => {
                    rejected.push(issue);
                    continue;
                }
            };
            let Some(import) = import.as_mut() else {
                // The header is the first row that names the columns: title rows above it are skipped.
                match RegisterImport::new(&record, commune, &known) {
                    Ok(i) => import = Some(i),
                    Err(missing) => {
                        header_tries += 1;
                        first_missing.get_or_insert(missing);
                        if header_tries == HEADER_SEARCH {
                            rejected.extend(first_missing.take().unwrap_or_default());
                            header_failed = true;
                            break 'read;
                        }
                    }
                }
                continue;
            };
            rows += 1;
            match import.row(&record, &mut warnings) {
                Ok(resident) => batch.push(resident_row(&resident)),
                Err(issue) => rejected.push(issue),
            }
            if batch.len() == REGISTER_BATCH {
                let detail = format!("rows {}..{}", kept + 1, kept + batch.len() as u64);
                let audit = AuditEvent::new(ACTOR, "campaign.register.import", subject, detail);
                let u = store.upsert_register_batch(&batch, &name_of, &audit).await?;
                (kept, inserted, updated) = (kept + batch.len() as u64, inserted + u.inserted, updated + u.updated);
                batch.clear();
            }
        }
        meter.update(source.position(), rows);
    }
    if !header_failed {
        // a spreadsheet that broke off (e.g. a part over its inflation bounds) fails the import;
        // batches already written stay (each is its own transaction), the rest is not written
        source.check_complete().map_err(|e| anyhow::anyhow!("{e} ({kept} rows had been written)"))?;
    }
    if !batch.is_empty() {
        let detail = format!("rows {}..{}, {} rejected", kept + 1, kept + batch.len() as u64, rejected.len());
        let audit = AuditEvent::new(ACTOR, "campaign.register.import", subject, detail);
        let u = store.upsert_register_batch(&batch, &name_of, &audit).await?;
        (kept, inserted, updated) = (kept + batch.len() as u64, inserted + u.inserted, updated + u.updated);
    }
    meter.finish(rows);
    if import.is_none() && !header_failed {
        match first_missing {
            Some(missing) => rejected.extend(missing),
            None => rejected.push(RowIssue::new(1, None, "the file is empty: expected a header row")),
        }
    }
    if kept > 0 {
        // The register changed: rebuild its column index now, not in the next provider import.
        super::adoption::register_index(store).await?;
    }
    let what = match commune {
        Some(c) => format!("register {c}"),
        None => "register".into(),
    };
    let text = format!("imported {kept} (new {inserted}, updated {updated}), rejected {}", rejected.len());
    let counts = json!({"rows": rows, "imported": kept, "inserted": inserted, "updated": updated});
    summary(json_mode, &what, counts, text, &[("rejected", &rejected), ("warnings", &warnings)]);
    Ok(if kept == 0 && !rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn json_summary_is_the_counts_and_every_list() {
        let rejected = [RowIssue::new(3, Some("status"), "'x\"y' is not active"), RowIssue::new(9, None, "ổn")];
        let mut out = Vec::new();
        write_summary_json(
            &mut out,
            json!({"rows": 10, "as_of": "2026-11-20"}),
            &[("rejected", &rejected), ("duplicates", &[])],
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"rows": 10, "as_of": "2026-11-20", "duplicates": [],
                   "rejected": [{"row": 3, "field": "status", "reason": "'x\"y' is not active"},
                                {"row": 9, "field": null, "reason": "ổn"}]})
        );
        assert!(out.ends_with(b"}\n"));
    }
}
