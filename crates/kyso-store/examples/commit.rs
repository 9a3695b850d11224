use kyso_store::*;
use std::time::Instant;
#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("kyso-commit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = Store::open(&format!("sqlite://{}/k.db", dir.display())).await.unwrap();
    let n = 20000;
    let batch = 500;
    let t = Instant::now();
    for b in 0..n / batch {
        let mut w = Vec::new();
        for i in 0..batch {
            let k = b * batch + i;
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
                id_number: Some(format!("{k:012}")),
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
        }
        s.commit(&w).await.unwrap();
    }
    println!("store only: {:.1} us per certificate", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let _ = std::fs::remove_dir_all(&dir);
}
