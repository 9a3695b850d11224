//! Crash safety: SIGKILL the server again and again during an issuance burst. Every certificate
//! returned to a client before a kill must be in the store after restart, no serial repeats, and
//! no certificate is half-issued (missing its key or its audit row); the audit chain is intact.

mod support;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

#[test]
fn sigkill_during_issuance_burst_loses_nothing_returned() {
    let env = Env::new("crash");
    env.init();
    env.ok(&[
        "citizen",
        "add",
        "--id",
        "019190000051",
        "--name",
        "Phạm Thị Dung",
        "--province",
        "Tỉnh Thái Nguyên",
        "--eid-level",
        "2",
    ]);
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap().trim().to_string();
    let returned = Arc::new(Mutex::new(Vec::<String>::new()));
    let body =
        r#"{"id_number":"019190000051","full_name":"Phạm Thị Dung","province":"Tỉnh Thái Nguyên","provider":"vnpt"}"#
            .as_bytes();
    for round in 0..6u64 {
        let mut server = env.serve();
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..6 {
            let (stop, returned, token, url) =
                (stop.clone(), returned.clone(), token.clone(), format!("{}/api/v1/certificates", env.base_url()));
            clients.push(std::thread::spawn(move || {
                let auth = format!("Bearer {token}");
                while !stop.load(Ordering::Relaxed) {
                    match http_with("POST", &url, Some("application/json"), &[("Authorization", &auth)], body) {
                        Ok((201, b)) => {
                            let v: serde_json::Value = serde_json::from_slice(&b).expect("JSON body of a 201");
                            returned.lock().unwrap().push(v["serial"].as_str().unwrap().to_string());
                        }
                        Ok((status, b)) if status != 0 => {
                            panic!("unexpected {status}: {}", String::from_utf8_lossy(&b))
                        }
                        _ => {} // connection cut by the kill: the client got no certificate
                    }
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(300 + 137 * round));
        server.kill(); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().expect("client thread");
        }
    }
    let returned = returned.lock().unwrap().clone();
    assert!(returned.len() > 50, "the burst should have issued something ({} certificates)", returned.len());
    eprintln!("{} certificates returned across 6 SIGKILLed server runs", returned.len());
    let unique: HashSet<_> = returned.iter().collect();
    assert_eq!(unique.len(), returned.len(), "a serial was returned twice");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let kek = kyso_custody::Kek::from_hex(&std::fs::read_to_string(env.data_dir().join("kek")).unwrap()).unwrap();
    let store = rt
        .block_on(kyso_store::Store::open(&format!("sqlite://{}/kyso.db", env.data_dir().display())))
        .unwrap()
        .with_audit_key(kyso_authority::audit_key(&kek));
    let stored: HashSet<String> = rt.block_on(store.all_serials()).unwrap().into_iter().collect();
    let lost: Vec<_> = returned.iter().filter(|s| !stored.contains(*s)).collect();
    assert!(lost.is_empty(), "{} returned certificates are not in the store: {lost:?}", lost.len());
    assert_eq!(rt.block_on(store.consistency()).unwrap(), (0, 0), "half-issued certificates found");
    let r = rt.block_on(store.verify_audit()).unwrap();
    assert!(r.first_error.is_none(), "audit chain broken: {:?}", r.first_error);
    rt.block_on(store.close());
    // and the server restarts cleanly on the same data
    let _s = env.serve();
}
