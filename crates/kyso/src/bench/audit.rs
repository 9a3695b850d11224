//! `kyso bench audit`: `kyso audit verify` on a large log. In a fresh data directory (and the
//! database `--database-url` names, if any): `certificates` synthetic certificates with their
//! issuance rows (every tenth revoked, with its revocation row), then other audit rows up to
//! `rows`, all chained under the KEK's audit key; then the full check (walk every row, compare
//! every certificate's status with the log) and, after 10,000 more rows, the resumed one.
//! `--keep` leaves the data directory behind (its path on stderr) for other measurements.

use crate::data::DataDir;
use anyhow::Result;
use kyso_store::{AuditEvent, CertRow, Write};
use serde_json::json;
use std::time::Instant;

const BATCH: usize = 10_000;

pub async fn run(rows: usize, certificates: usize, keep: bool, db: Option<&str>, json_mode: bool) -> Result<()> {
    anyhow::ensure!(rows >= 2 * certificates, "--rows must leave room for the certificates' rows");
    let tmp = std::env::temp_dir().join(format!("kyso-bench-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = DataDir::new(&tmp);
    crate::init::init(&dir, db, None, None, true).await?;
    let store = crate::data::open_store(&dir, db).await?;
    let mut direct = store.sqlite_writer()?;
    let now = kyso_store::now();
    let filling = Instant::now();
    let (mut written, mut certs) = (store.audit_rows(0, i64::MAX).await?.len(), 0usize);
    let mut batch = Vec::with_capacity(BATCH);
    while written < rows {
        batch.clear();
        while batch.len() < BATCH && written < rows {
            if certs < certificates {
                let serial = format!("{:032x}", 0x5eed_0000_0000u64 + certs as u64);
                let revoked = certs % 10 == 9;
                batch.push(Write::Certificate(cert(&serial, revoked.then_some(now))));
                batch.push(Write::Audit(AuditEvent::new("bench", "cert.issue", &serial, "synthetic")));
                written += 1;
                if revoked {
                    batch.push(Write::Audit(AuditEvent::new("bench", "cert.revoke", &serial, "reason keyCompromise")));
                    written += 1;
                }
                certs += 1;
            } else {
                let subject = format!("cred-{written:08}");
                batch.push(Write::Audit(AuditEvent::new("citizen", "credential.authorize", &subject, "1 hash")));
                written += 1;
            }
        }
        match &mut direct {
            Some(w) => w.commit(&batch)?,
            None => store.commit(&batch).await?,
        }
    }
    let fill_secs = filling.elapsed().as_secs_f64();
    let backend = store.backend();

    let t = Instant::now();
    let full = store.check_audit(true).await?;
    let full_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(full.ok(), "the synthetic log does not verify: {full:?}");
    let head = full.chain.head_seq;

    let more: Vec<Write> = (0..10_000)
        .map(|i| Write::Audit(AuditEvent::new("citizen", "credential.authorize", &format!("more-{i}"), "")))
        .collect();
    store.commit(&more).await?;
    let t = Instant::now();
    let resumed = store.check_audit(false).await?;
    let resumed_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(resumed.ok() && resumed.resumed_from == Some(head), "resume failed: {resumed:?}");

    let rate = head as f64 / full_secs;
    if json_mode {
        println!(
            "{}",
            json!({"backend": backend, "rows": head, "certificates": certs, "fill_seconds": fill_secs,
                   "full_seconds": full_secs, "rows_per_second": rate,
                   "resumed_rows": resumed.chain.rows, "resumed_certificate_rows": resumed.certificate_rows_checked,
                   "resumed_seconds": resumed_secs})
        );
    } else {
        println!("{backend}: {head} audit rows, {certs} certificates (written in {fill_secs:.1} s)");
        println!(
            "full check (every row's MAC and link, every certificate's status): {full_secs:.2} s = {rate:.0} rows/s"
        );
        println!(
            "resumed check after {} new rows ({} certificate rows before the checkpoint MAC-checked): {resumed_secs:.2} s",
            resumed.chain.rows, resumed.certificate_rows_checked
        );
    }
    store.close().await;
    if keep {
        eprintln!("data directory kept: {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

fn cert(serial: &str, revoked_at: Option<i64>) -> CertRow {
    CertRow {
        serial: serial.into(),
        issuer_id: "vnpt".into(),
        profile: "citizen".into(),
        id_number: None,
        subject_cn: "bench".into(),
        key_id: None,
        not_before: 0,
        not_after: 1,
        revoked_at,
        revocation_reason: revoked_at.map(|_| 1),
        superseded_by: None,
        der: vec![0x30, 0x00],
        created_at: 0,
    }
}
