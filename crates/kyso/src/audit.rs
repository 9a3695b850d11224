//! `kyso audit`: check the keyed, hash-chained audit log and print its rows.

use crate::data::{open_store, DataDir};
use crate::output::out;
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the keyed audit chain (from the last verified checkpoint) and every certificate's
    /// status against it; exit 1 and name the first edited, deleted or reordered row, a forged
    /// checkpoint, or the first certificate whose status disagrees with the log.
    Verify {
        /// Walk the whole chain from row 1 instead of resuming from the checkpoint.
        #[arg(long)]
        full: bool,
    },
    /// Print audit rows (oldest first), optionally only actions starting with a prefix.
    Show {
        /// Only rows after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// e.g. `eid.` or `cert.revoke`
        #[arg(long)]
        action: Option<String>,
    },
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: AuditCommand, json_mode: bool) -> Result<ExitCode> {
    match c {
        AuditCommand::Show { after, limit, action } => show(dir, db, after, limit, action, json_mode).await,
        AuditCommand::Verify { full } => verify(dir, db, full, json_mode).await,
    }
}

async fn show(
    dir: &DataDir,
    db: Option<&str>,
    after: i64,
    limit: i64,
    action: Option<String>,
    json_mode: bool,
) -> Result<ExitCode> {
    let store = open_store(dir, db).await?;
    let mut rows = Vec::new();
    let mut from = after;
    // Page through the log until `limit` matching rows are found.
    while rows.len() < limit.max(0) as usize {
        let page = store.audit_rows(from, 1000).await?;
        let Some(last) = page.last() else { break };
        from = last.seq;
        rows.extend(page.into_iter().filter(|r| action.as_deref().is_none_or(|a| r.action.starts_with(a))));
    }
    rows.truncate(limit.max(0) as usize);
    let v: Vec<_> = rows
            .iter()
            .map(|r| json!({"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "subject": r.subject, "detail": r.detail}))
            .collect();
    let text: Vec<String> = rows
        .iter()
        .map(|r| format!("#{} {} {} {} {} — {}", r.seq, r.at, r.actor, r.action, r.subject, r.detail))
        .collect();
    out(json_mode, json!(v), &text.join("\n"));
    Ok(ExitCode::SUCCESS)
}

async fn verify(dir: &DataDir, db: Option<&str>, full: bool, json_mode: bool) -> Result<ExitCode> {
    let store = open_store(dir, db).await?;
    dir.kek().context("`kyso audit verify` needs the key-encryption key: the audit chain is keyed by it")?;
    let started = std::time::Instant::now();
    let mut c = store.check_audit(full).await?;
    // The reason each revocation row names (what kyso_authority writes: `reason <name>`,
    // or `superseded` for a renewal) must be the certificate's stored reason code.
    let named = |detail: &str, code: Option<i64>| {
        let want = match detail {
            "superseded" => Some(4),
            d => d.strip_prefix("reason ").and_then(kyso_pki::crl::reason_from_name),
        };
        want.map(i64::from) == code
    };
    if let Some((seq, serial)) = store.first_revocation_reason_mismatch(named).await? {
        c.mismatches.push(format!(
            "certificate {serial}'s revocation reason in the database is not the one audit row {seq} recorded"
        ));
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = c.ok();
    let r = &c.chain;
    let walked = match c.resumed_from {
        Some(seq) => format!("{} row(s) after the checkpoint at row {seq}", r.rows),
        None => format!("{} rows from row 1", r.rows),
    };
    let mut text = match &r.first_error {
            None => format!(
                "audit log intact: head #{} {}, {walked} walked in {secs:.2} s\n(record this head outside the database: a tail cut off, back to any earlier point, is only visible against it)",
                r.head_seq, r.head_hash
            ),
            Some((seq, why)) => format!("audit log BROKEN at row {seq}: {why} ({walked} verified before it)"),
        };
    if let Some(why) = &c.checkpoint_refused {
        text.push_str(&format!("\nCHECKPOINT REFUSED: {why}"));
    }
    for m in &c.mismatches {
        text.push_str(&format!("\nINCONSISTENT: {m}"));
    }
    if c.without_key + c.without_audit > 0 {
        text.push_str(&format!(
            "\nINCONSISTENT: {} certificate(s) without their custody key, {} without an issuance audit row",
            c.without_key, c.without_audit
        ));
    }
    out(
        json_mode,
        json!({"ok": ok, "rows": r.rows, "head_seq": r.head_seq, "head_hash": r.head_hash,
            "resumed_from": c.resumed_from, "full": full, "seconds": secs,
            "first_bad_row": r.first_error.as_ref().map(|e| e.0), "problem": r.first_error.as_ref().map(|e| e.1.clone()),
            "checkpoint_refused": c.checkpoint_refused, "mismatches": c.mismatches,
            "first_mismatch": c.mismatches.first(),
            "certificate_rows_checked": c.certificate_rows_checked,
            "checkpoint": c.checkpoint_written.as_ref().map(|k| k.seq),
            "certificates_without_key": c.without_key, "certificates_without_audit": c.without_audit}),
        &text,
    );
    if !ok {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
