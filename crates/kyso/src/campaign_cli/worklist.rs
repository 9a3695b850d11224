//! `kyso campaign worklist|visit`: door-to-door worklists (masked, in walking order) and the
//! append-only visit log (`kyso_tracker::worklist`), printed.

use super::ACTOR;
use crate::output::out;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::eid::Need;
use kyso_campaign::population::CitizenId;
use kyso_store::Store;
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;

pub use kyso_tracker::worklist::WorklistLine;

/// The key of the visit log's ID hashes, created on first use (shared with the web's visit form).
pub async fn visit_key(store: &Store, create: bool) -> Result<Option<String>> {
    kyso_tracker::worklist::visit_key(store, create).await.map_err(|e| anyhow!(e))
}

/// The worklist of a hamlet on `date` (ISO), in walking order (shared with the dashboard's export).
pub async fn worklist_lines(store: &Store, commune: &str, hamlet: &str, date: &str) -> Result<Vec<WorklistLine>> {
    kyso_tracker::worklist::worklist_lines(store, commune, hamlet, date).await.map_err(|e| anyhow!(e))
}

pub(super) async fn visit(
    store: &Store,
    id: &str,
    outcome: &str,
    provider: Option<String>,
    team: &str,
    date: &str,
    json_mode: bool,
) -> Result<ExitCode> {
    let id = CitizenId::parse(id).map_err(|e| anyhow!("--id: {e}"))?;
    let outcome = kyso_tracker::worklist::outcome_of(outcome, provider.as_deref())?;
    let row = kyso_tracker::worklist::record_visit(store, &id, &outcome, team, date, ACTOR).await?;
    out(
        json_mode,
        json!({"seq": row.seq, "id_masked": row.id_masked, "outcome": row.outcome, "hamlet": row.hamlet_code, "date": row.visit_date}),
        &format!("visit #{} recorded: {} {} on {} ({})", row.seq, row.id_masked, row.outcome, row.visit_date, team),
    );
    Ok(ExitCode::SUCCESS)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `--need`: level2, certificate or first-signature.
pub(super) fn need_arg(text: Option<&str>) -> Result<Option<Need>> {
    text.map(|t| Need::parse(t).ok_or_else(|| anyhow!("--need: '{t}' is not level2, certificate or first-signature")))
        .transpose()
}

pub(super) async fn worklist(
    store: &Store,
    (commune, hamlet): (&str, &str),
    (date, need): (&str, Option<Need>),
    csv: bool,
    xlsx: Option<&Path>,
    json_mode: bool,
) -> Result<ExitCode> {
    let how = if xlsx.is_some() {
        ", xlsx"
    } else if csv {
        ", csv"
    } else {
        ""
    };
    let lines = kyso_tracker::worklist::export_worklist(store, (commune, hamlet), date, need, how, ACTOR).await?;
    if let Some(path) = xlsx {
        let bytes = kyso_tracker::worklist::worklist_xlsx(&lines).map_err(|e| anyhow!(e))?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        out(
            json_mode,
            json!({"commune": commune, "hamlet": hamlet, "date": date, "entries": lines.len(), "xlsx": path.display().to_string()}),
            &format!("worklist {commune}/{hamlet} on {date}: {} to visit, written to {}", lines.len(), path.display()),
        );
    } else if csv {
        let mut text = String::from("household,id_masked,full_name,last_outcome,need\n");
        for (h, id, name, o, need) in &lines {
            let need = need.map_or("", Need::name);
            text.push_str(&format!("{},{},{},{},{need}\n", csv_field(h), id, csv_field(name), o));
        }
        crate::output::print(&text);
    } else {
        let v: Vec<Value> = lines
            .iter()
            .map(|(h, id, name, o, need)| {
                json!({"household": h, "id_masked": id, "full_name": name, "last_outcome": o,
                       "need": need.map(Need::name), "need_text": need.map(|n| n.label().0)})
            })
            .collect();
        let mut text = format!("worklist {commune}/{hamlet} on {date}: {} to visit", lines.len());
        for (h, id, name, o, need) in &lines {
            let need = need.map_or("", |n| n.label().0);
            text.push_str(format!("\n{h:<8} {id}  {name:<28} {o:<14} {need}").trim_end());
        }
        out(json_mode, json!({"commune": commune, "hamlet": hamlet, "date": date, "entries": v}), &text);
    }
    Ok(ExitCode::SUCCESS)
}
