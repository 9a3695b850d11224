//! Storage alone: 20,000 issuances (key, certificate, audit row, e-ID precondition) committed in
//! batches of 500, through `Store::commit` (sqlx) and through the direct SQLite writer the
//! group-commit thread uses. `cargo run --release -p kyso-store --example commit`
use kyso_store::*;
use std::time::Instant;

fn batch(b: usize, size: usize) -> Vec<Write> {
    let mut w = Vec::with_capacity(size * 4);
    for i in 0..size {
        let k = b * size + i;
        w.push(Write::Key(KeyRow {
            id: format!("key-{k:024x}"),
            backend: "vault".into(),
            algorithm: "ec-p256".into(),
            public_key: vec![1; 91],
            wrapped: vec![2; 180],
            created_at: 1,
        }));
        w.push(Write::Certificate(CertRow {
            serial: format!("{k:032x}"),
            issuer_id: "vnpt".into(),
            profile: "citizen".into(),
            id_number: Some(format!("{:012}", k % 1000)),
            subject_cn: "Nguyễn Văn An".into(),
            key_id: Some(format!("key-{k:024x}")),
            not_before: 1,
            not_after: 2,
            revoked_at: None,
            revocation_reason: None,
            superseded_by: None,
            der: vec![3; 700],
            created_at: 1,
        }));
        w.push(Write::Audit(AuditEvent::new(
            "bench",
            "cert.issue",
            &format!("{k:032x}"),
            "citizen 0191****0001 by vnpt (ec-p256, 365 days)",
        )));
        w.push(Write::RequireEidLevel { id_number: format!("{:012}", k % 1000), level: 2 });
    }
    w
}

#[tokio::main]
async fn main() {
    let (n, size) = (20_000, 500);
    for direct in [false, true] {
        let dir = std::env::temp_dir().join(format!("kyso-commit-{}-{direct}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = Store::open(&format!("sqlite://{}/k.db", dir.display()))
            .await
            .unwrap()
            .with_audit_key(AuditKey::insecure_test_key());
        let people: Vec<Write> = (0..1000)
            .map(|i| {
                Write::Citizen(CitizenRow {
                    id_number: format!("{i:012}"),
                    full_name: "Nguyễn Văn An".into(),
                    province: "Tỉnh Thái Nguyên".into(),
                    commune: None,
                    eid_level: 2,
                    updated_at: 1,
                })
            })
            .collect();
        s.commit(&people).await.unwrap();
        let mut writer = if direct { s.sqlite_writer().unwrap() } else { None };
        let t = Instant::now();
        for b in 0..n / size {
            let w = batch(b, size);
            match &mut writer {
                Some(wr) => wr.commit(&w).unwrap(),
                None => s.commit(&w).await.unwrap(),
            }
        }
        let how = if direct { "direct SQLite writer" } else { "Store::commit (sqlx)" };
        println!("{how}: {:.1} us per certificate", t.elapsed().as_secs_f64() * 1e6 / n as f64);
        assert_eq!(s.count_certificates().await.unwrap(), n as i64);
        s.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
