//! `kyso bench issue`: issue and durably store N citizen certificates with fresh EC P-256 keys,
//! end to end (validation, level-2 lookup, key generation and wrapping in custody, build, sign,
//! lint, group-committed storage with audit rows), in a fresh data directory.

use crate::data::DataDir;
use anyhow::Result;
use kyso_authority::IssueRequest;
use kyso_store::{CitizenRow, Write};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub async fn run(count: usize, concurrency: usize, cpu_only: bool, db: Option<&str>, json_mode: bool) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("kyso-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = DataDir::new(&tmp);
    crate::init::init(&dir, db, None, None, true).await?;
    let auth = crate::data::open(&dir, db).await?;
    let now = kyso_store::now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(20_000) {
        let rows: Vec<Write> = chunk
            .iter()
            .map(|&i| {
                let (id, name) = crate::demo::synthetic_resident(i);
                Write::Citizen(CitizenRow {
                    id_number: id,
                    full_name: name,
                    province: "Tỉnh Thái Nguyên".into(),
                    commune: None,
                    eid_level: 2,
                    updated_at: now,
                })
            })
            .collect();
        auth.store.commit(&rows).await?;
    }
    if cpu_only {
        return cpu_only_run(&auth, count);
    }
    let before = auth.store.count_certificates().await?;
    // `concurrency` clients, each issuing one certificate after another, like HTTP connections
    // served on the runtime's worker threads.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu_before = process_cpu();
    let start = Instant::now();
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (auth, next) = (auth.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                auth.issue(request(i)).await?;
            }
        }));
    }
    for c in clients {
        c.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = process_cpu().zip(cpu_before).map(|((u1, s1), (u0, s0))| (u1 - u0, s1 - s0));
    let stored = auth.store.count_certificates().await? - before;
    anyhow::ensure!(stored as usize == count, "stored {stored} certificates, expected {count}");
    let rate = count as f64 / secs;
    let backend = auth.store.backend();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // CPU the process used per certificate (all threads, user + kernel): what the rate would be
    // with every core to ourselves, whatever else runs on the machine.
    let per_cert_us = cpu.map(|(u, s)| ((u + s) * 1e6 / count as f64, u * 1e6 / count as f64, s * 1e6 / count as f64));
    if json_mode {
        println!(
            "{}",
            json!({"count": count, "seconds": secs, "per_second": rate, "backend": backend, "cores": cores,
                   "cpu_us_per_certificate": per_cert_us.map(|c| c.0), "user_us": per_cert_us.map(|c| c.1), "sys_us": per_cert_us.map(|c| c.2)})
        );
    } else {
        println!("issued and durably stored {count} certificates (EC P-256, fresh keys, {backend}) in {secs:.2} s: {rate:.0} certificates/s");
        if let Some((all, user, sys)) = per_cert_us {
            println!(
                "CPU used: {all:.1} core-µs per certificate ({user:.1} user, {sys:.1} kernel): {:.0}/s if all {cores} cores were ours",
                cores as f64 * 1e6 / all
            );
        }
    }
    auth.store.close().await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn request(i: usize) -> IssueRequest {
    let (id, name) = crate::demo::synthetic_resident(i);
    IssueRequest {
        id_number: id,
        full_name: name,
        province: "Tỉnh Thái Nguyên".into(),
        commune: Some("Xã Hiệp Lực".into()),
        provider: if i.is_multiple_of(2) { "vnpt".into() } else { "viettel".into() },
        key_algorithm: None,
        validity_days: None,
        actor: "bench".into(),
    }
}

/// The CPU ceiling: prepare (generate, wrap, build, sign, lint) on every core, store nothing.
fn cpu_only_run(auth: &Arc<kyso_authority::Authority>, count: usize) -> Result<()> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for i in (t..count).step_by(threads) {
                    let req = request(i);
                    let subject = kyso_pki::CitizenSubject::new(
                        &req.id_number,
                        &req.full_name,
                        &req.province,
                        req.commune.as_deref(),
                    )
                    .expect("valid");
                    auth.prepare_issue(&req, &subject, kyso_custody::KeyAlgorithm::EcP256, 365, None).expect("prepare");
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "CPU only ({threads} threads, nothing stored): {count} certificates in {secs:.2} s: {:.0}/s",
        count as f64 / secs
    );
    Ok(())
}

/// User and kernel CPU seconds of this process so far (all threads), from /proc/self/stat
/// (Linux; clock ticks of 1/100 s). None elsewhere.
pub(super) fn process_cpu() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((utime / 100.0, stime / 100.0))
}
