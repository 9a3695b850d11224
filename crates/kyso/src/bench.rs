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

pub async fn issue(count: usize, concurrency: usize, cpu_only: bool, db: Option<&str>, json_mode: bool) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("kyso-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = DataDir::new(&tmp);
    crate::commands::init(&dir, db, None, "http://127.0.0.1:8080", true).await?;
    let auth = crate::commands::open(&dir, db).await?;
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
    let stored = auth.store.count_certificates().await? - before;
    anyhow::ensure!(stored as usize == count, "stored {stored} certificates, expected {count}");
    let rate = count as f64 / secs;
    let backend = auth.store.backend();
    if json_mode {
        println!(
            "{}",
            json!({"count": count, "seconds": secs, "per_second": rate, "backend": backend, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)})
        );
    } else {
        println!("issued and durably stored {count} certificates (EC P-256, fresh keys, {backend}) in {secs:.2} s: {rate:.0} certificates/s");
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
