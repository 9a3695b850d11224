//! `kyso campaign import-provider-list`: a telecom provider's list of issued certificates
//! (`kyso_tracker::provider`), with a progress meter on stderr and the outcome printed.

use super::import::summary;
use super::meter::Shown;
use super::ACTOR;
use anyhow::{anyhow, Result};
use kyso_campaign::csv::parse_date;
use kyso_store::Store;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub async fn import_provider_list(
    store: &Store,
    file: &Path,
    provider: Option<&str>,
    as_of: &str,
    sheet: Option<&str>,
    json_mode: bool,
) -> Result<ExitCode> {
    let as_of = parse_date(as_of).map_err(|e| anyhow!("--as-of: {e}"))?;
    let r =
        kyso_tracker::provider::import_provider_list(store, file, provider, as_of, sheet, ACTOR, &mut Shown::default())
            .await?;
    let t = &r.written;
    let text = format!(
        "{} rows: {} certificates (new {}, changed {}, unchanged {}), {} not in the register, {} duplicates, {} conflicts, rejected {}",
        r.rows,
        r.stored,
        t.inserted,
        t.changed,
        t.unchanged,
        r.unmatched.len(),
        r.duplicates.len(),
        r.conflicts.len(),
        r.rejected.len()
    );
    let counts = json!({"rows": r.rows, "certificates": r.stored, "inserted": t.inserted, "changed": t.changed,
                        "unchanged": t.unchanged, "as_of": r.as_of, "communes_recomputed": r.communes_recomputed});
    let what = format!("provider list {}", r.label);
    summary(
        json_mode,
        &what,
        counts,
        text,
        &[
            ("unmatched", &r.unmatched),
            ("duplicates", &r.duplicates),
            ("conflicts", &r.conflicts),
            ("rejected", &r.rejected),
        ],
    );
    Ok(if r.stored == 0 && !r.rejected.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
