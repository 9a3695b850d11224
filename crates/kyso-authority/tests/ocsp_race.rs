//! Revocation racing the OCSP cache through the authority: clients keep asking (no nonce, so the
//! pre-produced response) while the certificate is revoked; once `revoke` has returned, no answer
//! may say "good" — whatever fill was in flight when the revocation committed. The clients start
//! right after the issuance, so their first requests miss the cache and fill it.

use kyso_authority::{Authority, Config, IssueRequest, OcspAnswer};
use kyso_custody::{Kek, Vault};
use kyso_store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_good_answer_after_the_revocation_returns() {
    let dir = std::env::temp_dir().join(format!("kyso-ocsp-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kek = Kek::generate().unwrap();
    let url = format!("sqlite://{}", dir.join("kyso.db").display());
    let store = Store::open(&url).await.unwrap().with_audit_key(kyso_authority::audit_key(&kek));
    let cfg = Config::demo("http://127.0.0.1:8080");
    let provider = cfg.providers[0].id.clone();
    let vault = Arc::new(Vault::new(&kek));
    Authority::init(&store, vault.as_ref(), &cfg).await.unwrap();
    let auth = Arc::new(Authority::load(store, vault.clone(), vault, cfg).await.unwrap());
    auth.ensure_ocsp_cache();
    while !auth.ocsp_cache_active() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // every fill reads the status, then takes 250 ms to sign: fills that read "good" land after
    // the revocation returned (and after the change feed dropped the entry)
    auth.ocsp_fill_delay_for_tests(250);
    let ca_cert = auth.ca(&provider).unwrap().cert.clone();
    for round in 0..6u64 {
        let id = format!("0791900{round:05}");
        let s = kyso_pki::CitizenSubject::new(&id, "Nguyễn Văn An", "Tỉnh Thái Nguyên", None).unwrap();
        auth.register_citizen(&s, 2, "test").await.unwrap();
        let req = IssueRequest {
            id_number: id,
            full_name: "Nguyễn Văn An".into(),
            province: "Tỉnh Thái Nguyên".into(),
            commune: None,
            provider: provider.clone(),
            key_algorithm: None,
            validity_days: None,
            actor: "test".into(),
        };
        let serial = auth.issue(req).await.unwrap().serial;
        let cert_id = kyso_pki::ocsp::cert_id(&ca_cert, &hex::decode(&serial).unwrap(), kyso_pki::alg::SHA1).unwrap();
        let request = Arc::new(kyso_pki::ocsp::request_der(&[cert_id], None).unwrap());
        let returned = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..6)
            .map(|_| {
                let (auth, request, returned, stop, provider) =
                    (auth.clone(), request.clone(), returned.clone(), stop.clone(), provider.clone());
                tokio::spawn(async move {
                    let (mut good, mut revoked) = (0u64, 0u64);
                    while !stop.load(Ordering::SeqCst) {
                        let after_revoke = returned.load(Ordering::SeqCst);
                        match auth.ocsp_answer(&provider, &request).await {
                            OcspAnswer::Produced(p) if p.revoked => revoked += 1,
                            OcspAnswer::Produced(_) => {
                                assert!(!after_revoke, "round {round}: good after the revocation returned");
                                good += 1;
                            }
                            OcspAnswer::Fresh(_) => panic!("a known serial without nonce is answered pre-produced"),
                        }
                        tokio::task::yield_now().await;
                    }
                    (good, revoked)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(5 + round * 2)).await;
        auth.revoke(&serial, 1, "test").await.unwrap();
        returned.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        let (mut good, mut revoked) = (0, 0);
        for c in clients {
            let (g, r) = c.await.unwrap();
            good += g;
            revoked += r;
        }
        assert!(good > 0 && revoked > 0, "round {round}: both sides seen ({good} good, {revoked} revoked)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
