//! Finding 5 of issue 14, reproduced with the real `kyso` binary on SQLite and PostgreSQL: a
//! database writer edits audit row 20 and recomputes every later chain value (as plain SHA-256,
//! as chain v1 allowed, or under a key of their own), or un-revokes a keyCompromise certificate;
//! `kyso audit verify` must name it. Also: the append-only triggers, and the verified checkpoint
//! the check resumes from (a forged one is refused).

mod support;
use support::{Backend, Env};

use kyso_store::{AuditEvent, Store};

fn envs(name: &str) -> Vec<Env> {
    [Backend::Sqlite, Backend::Postgres].into_iter().filter_map(|b| Env::with_backend(name, b)).collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The database as its owner sees it: no KEK, so no audit key.
fn raw_store(rt: &tokio::runtime::Runtime, env: &Env) -> Store {
    let url = env.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/kyso.db", env.data_dir().display()));
    rt.block_on(Store::open(&url)).unwrap()
}

fn pg(s: &Store) -> bool {
    s.backend() == "postgres"
}

fn blob(s: &Store, b: &[u8]) -> String {
    if pg(s) {
        format!("'\\x{}'::bytea", hex::encode(b))
    } else {
        format!("X'{}'", hex::encode(b))
    }
}

fn drop_trigger(s: &Store, name: &str, table: &str) -> String {
    if pg(s) {
        format!("DROP TRIGGER {name} ON {table};")
    } else {
        format!("DROP TRIGGER {name};")
    }
}

/// `kyso --json audit verify [extra]`: (exit code, JSON).
fn verify(env: &Env, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["--json", "audit", "verify"];
    args.extend(extra);
    let o = env.kyso(&args);
    let v = serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    });
    (o.status.code().unwrap_or(-1), v)
}

/// Chain v1's row value: SHA-256 with no secret, which anyone could recompute.
fn sha256_row(prev: &[u8], seq: i64, at: i64, e: &AuditEvent) -> Vec<u8> {
    let mut m = b"kyso-audit-v1".to_vec();
    m.extend_from_slice(prev);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&at.to_be_bytes());
    for f in [&e.actor, &e.action, &e.subject, &e.detail] {
        m.extend_from_slice(&(f.len() as u32).to_be_bytes());
        m.extend_from_slice(f.as_bytes());
    }
    kyso_pki::alg::sha256(&m)
}

/// How an attacker recomputes a row's chain value: (previous value, seq, at, content).
type RowHash = dyn Fn(&[u8], i64, i64, &AuditEvent) -> Vec<u8>;

/// Edit row 20's detail and rewrite it and every later row with chain values from `hash`.
fn rewrite_from_row_20(rt: &tokio::runtime::Runtime, s: &Store, hash: &RowHash) {
    let rows = rt.block_on(s.audit_rows(0, 100_000)).unwrap();
    assert!(rows.len() > 25, "enough rows for the attack ({})", rows.len());
    let mut prev = rows[18].hash.clone();
    let mut sql = drop_trigger(s, "audit_log_no_update", "audit_log");
    for r in &rows[19..] {
        let detail = if r.seq == 20 { "nothing happened".to_string() } else { r.detail.clone() };
        let e = AuditEvent::new(&r.actor, &r.action, &r.subject, detail.clone());
        let h = hash(&prev, r.seq, r.at, &e);
        sql.push_str(&kyso_testkit::rewrite_audit_row_sql(r.seq, &detail, &blob(s, &prev), &blob(s, &h)));
        prev = h;
    }
    rt.block_on(s.execute_raw(&sql)).unwrap();
}

fn issue_some(env: &Env, n: usize) -> Vec<String> {
    (0..n).map(|i| env.issue(&format!("0011900000{:02}", 40 + i), "vnpt", &[]).0).collect()
}

#[test]
fn row_20_edited_and_the_chain_recomputed_is_caught() {
    for (attack, n) in [("sha256", 0u8), ("wrong key", 1)] {
        for env in envs(&format!("audit-rewrite-{n}")) {
            env.init();
            issue_some(&env, 8);
            let (code, v) = verify(&env, &[]);
            assert_eq!((code, &v["ok"]), (0, &serde_json::json!(true)), "{v}");
            let rt = rt();
            let s = raw_store(&rt, &env);
            let wrong = kyso_store::AuditKey::new(&[7u8; 32]);
            let mac = move |prev: &[u8], seq: i64, at: i64, e: &AuditEvent| wrong.row_mac(prev, seq, at, e).to_vec();
            if n == 0 {
                rewrite_from_row_20(&rt, &s, &sha256_row);
            } else {
                rewrite_from_row_20(&rt, &s, &mac);
            }
            // Resuming from the checkpoint taken before the attack, and walking in full.
            for extra in [&[][..], &["--full"][..]] {
                let (code, v) = verify(&env, extra);
                assert_eq!(code, 1, "{attack} {} {extra:?}: {v}", s.backend());
                assert_eq!(v["first_bad_row"].as_i64(), Some(20), "{attack} {} {extra:?}: {v}", s.backend());
                assert!(v["problem"].as_str().unwrap().contains("MAC"), "{v}");
            }
            rt.block_on(s.close());
        }
    }
}

#[test]
fn an_unrevoked_certificate_is_refused_and_when_forced_named_by_verify() {
    for env in envs("audit-unrevoke") {
        env.init();
        let serials = issue_some(&env, 3);
        let victim = serials[1].clone();
        env.ok(&["cert", "revoke", &victim, "--reason", "keyCompromise"]);
        assert_eq!(verify(&env, &[]).0, 0);
        let rt = rt();
        let s = raw_store(&rt, &env);
        let unrevoke =
            format!("UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE serial = '{victim}'");
        let e = rt.block_on(s.execute_raw(&unrevoke)).expect_err("the trigger refuses un-revoking");
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = rt.block_on(s.execute_raw(&format!("DELETE FROM certificates WHERE serial = '{victim}'"))).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let shown = env.ok(&["--json", "cert", "show", &victim]);
        assert!(shown.contains("revoked"), "{shown}");

        // The database owner drops the trigger and un-revokes: the chain is intact, but verify
        // names the certificate whose status disagrees with the log.
        let sql = drop_trigger(&s, "certificates_revocation_append_only", "certificates");
        rt.block_on(s.execute_raw(&sql)).unwrap();
        // First the reason: keyCompromise → superseded.
        let reason =
            |code: i64| format!("UPDATE certificates SET revocation_reason = {code} WHERE serial = '{victim}'");
        rt.block_on(s.execute_raw(&reason(4))).unwrap();
        let (code, v) = verify(&env, &[]);
        assert_eq!(code, 1, "{} {v}", s.backend());
        let m = v["first_mismatch"].as_str().unwrap_or_default();
        assert!(m.contains(&victim) && m.contains("revocation reason"), "{} {v}", s.backend());
        rt.block_on(s.execute_raw(&reason(1))).unwrap();
        assert_eq!(verify(&env, &[]).0, 0, "restored");
        rt.block_on(s.execute_raw(&unrevoke)).unwrap();
        for extra in [&[][..], &["--full"][..]] {
            let (code, v) = verify(&env, extra);
            assert_eq!(code, 1, "{} {extra:?}: {v}", s.backend());
            assert!(v["first_bad_row"].is_null(), "the chain itself is intact: {v}");
            let m = v["first_mismatch"].as_str().unwrap_or_default();
            assert!(m.contains(&victim) && m.contains("not revoked"), "{} {extra:?}: {v}", s.backend());
        }
        let text = String::from_utf8(env.kyso(&["audit", "verify"]).stdout).unwrap();
        assert!(text.contains(&format!("INCONSISTENT: certificate {victim} is not revoked")), "{text}");
        rt.block_on(s.close());
    }
}

#[test]
fn verify_resumes_from_its_checkpoint_and_refuses_a_forged_one() {
    for env in envs("audit-checkpoint") {
        env.init();
        issue_some(&env, 2);
        let (code, v) = verify(&env, &[]);
        assert_eq!(code, 0, "{v}");
        assert!(v["resumed_from"].is_null(), "no checkpoint yet: {v}");
        let head = v["head_seq"].as_i64().unwrap();
        assert_eq!(v["checkpoint"].as_i64(), Some(head), "{v}");
        issue_some(&env, 1);
        let (code, v) = verify(&env, &[]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["resumed_from"].as_i64(), Some(head), "{v}");
        let new_head = v["head_seq"].as_i64().unwrap();
        assert_eq!(v["rows"].as_i64(), Some(new_head - head), "only the new rows are walked: {v}");

        // The database owner moves the checkpoint forward (to skip rows) or rewrites it.
        let rt = rt();
        let s = raw_store(&rt, &env);
        rt.block_on(s.execute_raw("UPDATE audit_checkpoint SET seq = seq + 3")).unwrap();
        let (code, v) = verify(&env, &[]);
        assert_eq!(code, 1, "{} {v}", s.backend());
        assert!(v["checkpoint_refused"].as_str().unwrap().contains("valid MAC"), "{v}");
        assert!(v["resumed_from"].is_null(), "{v}");
        assert_eq!(verify(&env, &[]).0, 1, "a refused checkpoint is not replaced by a resuming run");
        // A full walk verifies everything and writes a fresh checkpoint.
        let (code, v) = verify(&env, &["--full"]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["checkpoint"].as_i64(), Some(new_head), "{v}");
        assert_eq!(verify(&env, &[]).0, 0);
        rt.block_on(s.close());
    }
}
