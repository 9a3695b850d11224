//! Sole control under concurrency (issue 14, finding 1), on SQLite and PostgreSQL, against the
//! real server with real concurrent HTTP clients:
//! - 20 wrong PINs and the right one sent to `credentials/authorize` at the same moment: at most
//!   five wrong PINs are ever evaluated, the lock is audited once, and no SAD signs after it;
//! - 20 concurrent wrong PINs alone: exactly five evaluated, the credential locked with one lock row;
//! - a SAD obtained before a lock, a revocation or an expiry no longer signs.

mod support;
use serde_json::{json, Value};
use std::sync::Barrier;
use support::*;

const PIN: &str = "135790";
const ID: &str = "019190000071";

fn activate(env: &Env, id: &str) -> (String, String) {
    let v = support::signing::activate_credential(env, id, "Lê Văn Tâm", PIN, &[]);
    (v["credential_id"].as_str().unwrap().to_string(), v["serial"].as_str().unwrap_or_default().to_string())
}

use support::signing::csc as call;

/// (action, subject) of every audit row.
fn audit(env: &Env) -> Vec<(String, String)> {
    let url = env.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/kyso.db", env.data_dir().display()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let s = kyso_store::Store::open(&url).await.unwrap();
        let rows = s.audit_rows(0, 1_000_000).await.unwrap();
        s.close().await;
        rows.into_iter().map(|r| (r.action, r.subject)).collect()
    })
}

fn count(rows: &[(String, String)], action: &str, cred: &str) -> usize {
    rows.iter().filter(|(a, s)| a == action && s == cred).count()
}

/// Fire `pins` at `credentials/authorize` all at once; returns each answer with its PIN.
fn burst(env: &Env, tok: &str, cred: &str, pins: &[&str]) -> Vec<(String, u16, Value)> {
    let hashes = [kyso_pki::b64::encode(&[7u8; 32])];
    let barrier = Barrier::new(pins.len());
    std::thread::scope(|sc| {
        let handles: Vec<_> = pins
            .iter()
            .map(|pin| {
                let barrier = &barrier;
                let body = json!({"credentialID": cred, "hashes": hashes, "PIN": pin});
                sc.spawn(move || {
                    barrier.wait();
                    let (s, v) = call(env, tok, "credentials/authorize", &body);
                    (pin.to_string(), s, v)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn sign(env: &Env, tok: &str, cred: &str, sad: &str) -> (u16, Value) {
    let hashes = [kyso_pki::b64::encode(&[7u8; 32])];
    let body =
        json!({"credentialID": cred, "SAD": sad, "hashes": hashes, "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1"});
    call(env, tok, "signatures/signHash", &body)
}

fn sole_control_holds_under_concurrency(env: Env) {
    env.init();
    let (cred, _) = activate(&env, ID);
    let tok = env.ok(&["credential", "token", "--id", ID]).trim().to_string();
    let _server = env.serve();

    // Round 1: twenty wrong PINs and the right one at the same moment.
    let mut pins = vec!["999999"; 20];
    pins.insert(10, PIN);
    let answers = burst(&env, &tok, &cred, &pins);
    let rows = audit(&env);
    let evaluated = count(&rows, "credential.pin_failed", &cred);
    assert!(evaluated <= 5, "{evaluated} wrong PINs were evaluated: {answers:?}");
    let invalid_pin = answers.iter().filter(|(_, _, v)| v["error"] == "invalid_pin").count();
    assert!(invalid_pin <= 4, "at most four 'attempts left' answers: {answers:?}");
    for (pin, s, v) in &answers {
        if pin != PIN {
            assert_ne!(*s, 200, "a wrong PIN was accepted: {v}");
            assert!(
                ["invalid_pin", "access_denied", "temporarily_unavailable"]
                    .contains(&v["error"].as_str().unwrap_or("")),
                "{s} {v}"
            );
        }
    }
    let locks = count(&rows, "credential.locked", &cred);
    assert!(locks <= 1, "one lock row at most");
    let right = answers.iter().find(|(p, _, _)| p == PIN).unwrap();
    let mut signed = 0;
    if right.1 == 200 {
        // The SAD signs only while the credential is not locked.
        let (s, v) = sign(&env, &tok, &cred, right.2["SAD"].as_str().unwrap());
        if locks == 1 {
            // refused by the commit's check (403), or the lock already dropped the SAD (400)
            assert!(
                matches!((s, v["error"].as_str()), (403, Some("access_denied")) | (400, Some("invalid_request"))),
                "signed after the lock: {s} {v}"
            );
        } else {
            assert_eq!(s, 200, "{v}");
            signed = 1;
        }
    }
    if locks == 1 {
        // The lock and the fifth failure: written together, the lock row right after it.
        let last_fail = rows.iter().rposition(|(a, s)| a == "credential.pin_failed" && s == &cred).unwrap();
        assert_eq!(rows[last_fail + 1].0, "credential.locked");
    }

    // Round 2: twenty wrong PINs alone, after an officer's unlock: exactly five evaluated.
    let authorize_right_pin = || {
        let body = json!({"credentialID": cred, "hashes": [kyso_pki::b64::encode(&[7u8; 32])], "PIN": PIN});
        call(&env, &tok, "credentials/authorize", &body)
    };
    env.ok(&["credential", "unlock", &cred, "--officer", "cb-xa-hiep-luc-01"]);
    let (s, v) = authorize_right_pin();
    assert_eq!(s, 200, "after the unlock: {v}");
    let early_sad = v["SAD"].as_str().unwrap().to_string();
    let before = audit(&env);
    let answers = burst(&env, &tok, &cred, &["999999"; 20]);
    let rows = audit(&env);
    let evaluated = count(&rows, "credential.pin_failed", &cred) - count(&before, "credential.pin_failed", &cred);
    assert_eq!(evaluated, 5, "exactly five of twenty concurrent wrong PINs evaluated: {answers:?}");
    assert_eq!(count(&rows, "credential.locked", &cred) - count(&before, "credential.locked", &cred), 1);
    assert!(answers.iter().all(|(_, s, _)| *s != 200));
    assert_eq!(answers.iter().filter(|(_, _, v)| v["error"] == "invalid_pin").count(), 4, "{answers:?}");
    // A SAD from before the lock no longer signs; the right PIN does not authorize.
    // (The lock dropped the credential's live SADs: "unknown SAD".)
    let (s, v) = sign(&env, &tok, &cred, &early_sad);
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")), "{v}");
    let (s, _) = authorize_right_pin();
    assert_eq!(s, 403);

    // A SAD from before a revocation no longer signs.
    env.ok(&["credential", "unlock", &cred, "--officer", "cb-xa-hiep-luc-01"]);
    let (s, v) = authorize_right_pin();
    assert_eq!(s, 200, "{v}");
    let sad = v["SAD"].as_str().unwrap().to_string();
    let serial = env.ok(&["--json", "credential", "list", "--id", ID]);
    let serial = serde_json::from_str::<Value>(&serial).ok().and_then(|v| {
        v.as_array()
            .and_then(|a| a.iter().find(|c| c["credential_id"] == cred.as_str()).map(|c| c["certificate"].clone()))
    });
    let serial = serial.and_then(|s| s.as_str().map(str::to_string)).expect("credential list names the serial");
    env.ok(&["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    let (s, v) = sign(&env, &tok, &cred, &sad);
    assert_eq!(s, 400, "signed with a revoked certificate: {v}");
    assert!(v["error_description"].as_str().unwrap_or("").contains("revoked"), "{v}");
    let rows = audit(&env);
    assert_eq!(count(&rows, "signature.create", &cred), signed, "no signature was made after a lock or revocation");
}

#[test]
fn sole_control_sqlite() {
    sole_control_holds_under_concurrency(Env::new("pin-race"));
}

#[test]
fn sole_control_postgres() {
    if let Some(env) = Env::with_backend("pin-race", Backend::Postgres) {
        sole_control_holds_under_concurrency(env);
    }
}
