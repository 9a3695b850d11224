//! Imports: administrative units, hamlets and the police register (`kyso_tracker::import`), their
//! outcome printed: counts, then every rejected row and warning.

use super::meter::Shown;
use super::ACTOR;
use crate::output::out;
use anyhow::Result;
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::Store;
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;

pub use kyso_tracker::import::resident_row;

fn issues_json(issues: &[RowIssue]) -> Value {
    json!(issues
        .iter()
        .map(|i| json!({"row": i.row, "stt": i.stt, "field": i.field, "reason": i.reason}))
        .collect::<Vec<_>>())
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

pub async fn import_units(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let (r, n) = kyso_tracker::import::import_units(store, text, ACTOR).await?;
    Ok(report(json_mode, "units", &r, n.inserted, n.updated))
}

pub async fn import_hamlets(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let (r, n) = kyso_tracker::import::import_hamlets(store, text, ACTOR).await?;
    Ok(report(json_mode, "hamlets", &r, n.inserted, n.updated))
}

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
            write!(w, "{},\"stt\":", i.row)?;
            serde_json::to_writer(&mut *w, &i.stt)?;
            w.write_all(b",\"field\":")?;
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

/// Imports the police register from CSV or XLSX (`kyso_tracker::import::import_register`), with a
/// progress meter on stderr.
pub async fn import_register(
    store: &Store,
    file: &Path,
    commune: Option<&str>,
    sheet: Option<&str>,
    json_mode: bool,
) -> Result<ExitCode> {
    let r = kyso_tracker::import::import_register(store, file, commune, sheet, ACTOR, &mut Shown::default()).await?;
    let what = match commune {
        Some(c) => format!("register {c}"),
        None => "register".into(),
    };
    let (counts, text) = upsert_counts(r.rows, r.kept, r.inserted, r.updated, r.unchanged, r.rejected.len());
    summary(json_mode, &what, counts, text, &[("rejected", &r.rejected), ("warnings", &r.warnings)]);
    Ok(if r.kept == 0 && !r.rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Imports the police's list of level-2 e-ID accounts (`kyso_tracker::eid::import_eid_list`),
/// with a progress meter on stderr.
pub async fn import_eid_list(store: &Store, file: &Path, sheet: Option<&str>, json_mode: bool) -> Result<ExitCode> {
    let r = kyso_tracker::eid::import_eid_list(store, file, sheet, ACTOR, &mut Shown::default()).await?;
    let (counts, text) = upsert_counts(r.rows, r.kept, r.inserted, r.updated, r.unchanged, r.rejected.len());
    summary(json_mode, "e-ID level-2 list", counts, text, &[("rejected", &r.rejected)]);
    Ok(if r.kept == 0 && !r.rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The summary of an import that inserts, updates or leaves rows unchanged (the register, the
/// police's level-2 list): the JSON counts and the text line.
fn upsert_counts(
    rows: u64,
    kept: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    rejected: usize,
) -> (serde_json::Value, String) {
    let text =
        format!("imported {kept} (new {inserted}, updated {updated}, unchanged {unchanged}), rejected {rejected}");
    let counts = json!({"rows": rows, "imported": kept, "inserted": inserted, "updated": updated,
                        "unchanged": unchanged});
    (counts, text)
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn json_summary_is_the_counts_and_every_list() {
        let rejected = [
            RowIssue::new(3, Some("status"), "'x\"y' is not active").with_stt(Some("2")),
            RowIssue::new(9, None, "ổn"),
        ];
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
                   "rejected": [{"row": 3, "stt": "2", "field": "status", "reason": "'x\"y' is not active"},
                                {"row": 9, "stt": null, "field": null, "reason": "ổn"}]})
        );
        assert!(out.ends_with(b"}\n"));
    }
}
