//! The keyed audit chain (issue 14, finding 5), on SQLite and PostgreSQL: what a database writer
//! without the audit key can no longer do (rewrite the chain as plain SHA-256, or under a key of
//! their own), the append-only triggers on revocations and on the log, what `check_audit` finds
//! when a database owner drops them, and resuming from a MACed checkpoint.

use kyso_store::{AuditEvent, AuditKey, Store, StoreError, Write};

mod support;
use support::{backends, cert, drop_append_only_triggers, ev};

/// Issue `serial` as the authority does: the certificate and its issuance row in one commit.
async fn issue(s: &Store, serial: &str) {
    s.commit(&[Write::Certificate(cert(serial, "vnpt")), ev("cert.issue", serial)]).await.unwrap();
}

/// Revoke `serial` for keyCompromise (1), with its audit row.
async fn revoke(s: &Store, serial: &str) {
    let w = [Write::Revoke { serial: serial.into(), at: kyso_store::now(), reason: 1 }, ev("cert.revoke", serial)];
    s.commit(&w).await.unwrap();
}

/// A bytes literal for raw SQL on this backend.
fn blob(s: &Store, b: &[u8]) -> String {
    if s.backend() == "sqlite" {
        format!("X'{}'", hex::encode(b))
    } else {
        format!("'\\x{}'::bytea", hex::encode(b))
    }
}

/// Chain v1's row hash, what finding 5's attacker recomputes: plain SHA-256, no secret.
fn sha256_row(prev: &[u8], seq: i64, at: i64, e: &AuditEvent) -> Vec<u8> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"kyso-audit-v1");
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(&at.to_be_bytes());
    for f in [&e.actor, &e.action, &e.subject, &e.detail] {
        ctx.update(&(f.len() as u32).to_be_bytes());
        ctx.update(f.as_bytes());
    }
    ctx.finish().as_ref().to_vec()
}

/// The attack of finding 5: edit row `edit`'s detail, then recompute that row's and every later
/// row's chain value with `hash` and rewrite them (triggers dropped, as the database owner can).
async fn rewrite_from(s: &Store, edit: i64, hash: impl Fn(&[u8], i64, i64, &AuditEvent) -> Vec<u8>) {
    let rows = s.audit_rows(0, 100_000).await.unwrap();
    let mut prev = rows.iter().find(|r| r.seq == edit - 1).map(|r| r.hash.clone()).unwrap();
    let mut sql = String::new();
    for r in rows.iter().filter(|r| r.seq >= edit) {
        let detail = if r.seq == edit { "nothing happened".to_string() } else { r.detail.clone() };
        let e = AuditEvent::new(&r.actor, &r.action, &r.subject, detail.clone());
        let h = hash(&prev, r.seq, r.at, &e);
        sql.push_str(&kyso_testkit::rewrite_audit_row_sql(r.seq, &detail, &blob(s, &prev), &blob(s, &h)));
        prev = h;
    }
    s.execute_raw(&sql).await.unwrap();
}

async fn thirty_rows(s: &Store) {
    for i in 0..30 {
        s.commit(&[ev("x", &format!("s{i}"))]).await.unwrap();
    }
    assert_eq!(s.verify_audit().await.unwrap().first_error, None, "{}", s.backend());
}

#[tokio::test]
async fn row_20_rewritten_and_the_chain_recomputed_as_sha256_is_caught() {
    for (s, _d) in backends("sha").await {
        thirty_rows(&s).await;
        drop_append_only_triggers(&s).await;
        rewrite_from(&s, 20, sha256_row).await;
        // The rewritten chain is internally consistent as plain SHA-256 (v1 would have passed)…
        let rows = s.audit_rows(0, 100).await.unwrap();
        for w in rows.windows(2) {
            assert_eq!(w[1].prev_hash, w[0].hash, "{}: the forged links hold", s.backend());
        }
        // …but not under the audit key.
        let r = s.verify_audit().await.unwrap();
        let (seq, why) = r.first_error.expect("the rewrite is caught");
        assert_eq!(seq, 20, "{}: {why}", s.backend());
        assert!(why.contains("MAC"), "{why}");
        let c = s.check_audit(true).await.unwrap();
        assert!(!c.ok() && c.chain.first_error.as_ref().map(|e| e.0) == Some(20), "{}: {c:?}", s.backend());
    }
}

#[tokio::test]
async fn row_20_rewritten_under_a_wrong_key_is_caught() {
    for (s, _d) in backends("wrongkey").await {
        thirty_rows(&s).await;
        drop_append_only_triggers(&s).await;
        let wrong = AuditKey::new(&[7u8; 32]);
        rewrite_from(&s, 20, |prev, seq, at, e| wrong.row_mac(prev, seq, at, e).to_vec()).await;
        let r = s.verify_audit().await.unwrap();
        assert_eq!(r.first_error.map(|e| e.0), Some(20), "{}", s.backend());
        // Only the key the rows were written under verifies them.
        let other = s.clone().with_audit_key(AuditKey::new(&[7u8; 32]));
        assert_eq!(other.verify_audit().await.unwrap().first_error.map(|e| e.0), Some(1), "{}", s.backend());
    }
}

#[tokio::test]
async fn a_row_appended_under_another_key_fails_verification() {
    for (s, _d) in backends("otherkey").await {
        thirty_rows(&s).await;
        // Another process on the same database with another key (or a stolen write path without
        // the KEK) appends a row: the chain breaks there, whichever writer path it took.
        let other = s.clone().with_audit_key(AuditKey::new(&[9u8; 32]));
        other.commit(&[ev("x", "intruder")]).await.unwrap();
        let r = s.verify_audit().await.unwrap();
        assert_eq!(r.first_error.map(|e| e.0), Some(31), "{}", s.backend());
        if let Some(mut w) = other.sqlite_writer().unwrap() {
            w.commit(&[ev("x", "intruder 2")]).unwrap();
        }
        assert_eq!(s.verify_audit().await.unwrap().first_error.map(|e| e.0), Some(31), "{}", s.backend());
    }
}

#[tokio::test]
async fn a_store_without_the_audit_key_writes_no_audit_row() {
    let (s, _d) = backends("nokey").await.into_iter().next().unwrap();
    let Store::Sqlite(p) = &s else { unreachable!("SQLite comes first") };
    // Store::open alone has no key: an audited commit fails before anything is written, on the
    // sqlx path and on the direct writer, and the chain cannot be verified.
    let unkeyed = Store::open(&format!("sqlite://{}", p.connect_options().get_filename().display())).await.unwrap();
    let e = unkeyed.commit(&[Write::Certificate(cert("0a", "vnpt")), ev("cert.issue", "0a")]).await.unwrap_err();
    assert!(matches!(e, StoreError::NoAuditKey), "{e}");
    assert_eq!(s.count_certificates().await.unwrap(), 0, "nothing of the batch was written");
    let mut w = unkeyed.sqlite_writer().unwrap().unwrap();
    assert!(matches!(w.commit(&[ev("x", "y")]).unwrap_err(), StoreError::NoAuditKey));
    assert!(matches!(unkeyed.verify_audit().await.unwrap_err(), StoreError::NoAuditKey));
    // Writes without an audit row still go through.
    unkeyed.commit(&[Write::Setting { name: "a".into(), value: "b".into() }]).await.unwrap();
}

#[tokio::test]
async fn revocation_is_append_only_in_the_database() {
    for (s, _d) in backends("appendonly").await {
        issue(&s, "0a").await;
        issue(&s, "0b").await;
        revoke(&s, "0a").await;
        let b = s.backend();
        for sql in [
            "UPDATE certificates SET revoked_at = NULL WHERE serial = '0a'",
            "UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE serial = '0a'",
            "UPDATE certificates SET revocation_reason = 4 WHERE serial = '0a'",
            "UPDATE certificates SET revoked_at = revoked_at + 86400 WHERE serial = '0a'",
            "UPDATE certificates SET serial = '0c' WHERE serial = '0a'",
            "DELETE FROM certificates WHERE serial = '0a'",
            "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 1",
        ] {
            let e = s.execute_raw(sql).await.expect_err(sql);
            assert!(e.to_string().contains("append-only"), "{b}: {sql}: {e}");
        }
        if b == "postgres" {
            for sql in ["TRUNCATE audit_log", "TRUNCATE certificates"] {
                let e = s.execute_raw(sql).await.expect_err(sql);
                assert!(e.to_string().contains("append-only") || e.to_string().contains("deleted"), "{sql}: {e}");
            }
        }
        let c = s.certificate("0a").await.unwrap().unwrap();
        assert_eq!((c.revoked_at.is_some(), c.revocation_reason), (true, Some(1)), "{b}");
        // What stays allowed: revoking a good certificate (once), and deleting a good one.
        revoke(&s, "0b").await;
        let again = [Write::Revoke { serial: "0b".into(), at: 1, reason: 4 }, ev("cert.revoke", "0b")];
        assert!(matches!(s.commit(&again).await.unwrap_err(), StoreError::Conflict(_)), "{b}");
        let c = s.check_audit(true).await.unwrap();
        assert!(c.ok(), "{b}: {c:?}");
    }
}

#[tokio::test]
async fn an_unrevoked_certificate_is_named_by_the_check_when_the_triggers_are_dropped() {
    for (s, _d) in backends("unrevoke").await {
        for i in 0..5 {
            issue(&s, &format!("0{i}")).await;
        }
        revoke(&s, "03").await;
        assert!(s.check_audit(true).await.unwrap().ok(), "{}", s.backend());
        drop_append_only_triggers(&s).await;
        // The reason changed (keyCompromise → superseded): the caller's reading of the row names it.
        let key_compromise = |_: &str, code: Option<i64>| code == Some(1);
        assert_eq!(s.first_revocation_reason_mismatch(key_compromise).await.unwrap(), None);
        s.execute_raw("UPDATE certificates SET revocation_reason = 4 WHERE serial = '03'").await.unwrap();
        assert_eq!(
            s.first_revocation_reason_mismatch(key_compromise).await.unwrap(),
            Some((6, "03".into())),
            "{}",
            s.backend()
        );
        s.execute_raw("UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE serial = '03'")
            .await
            .unwrap();
        for full in [false, true] {
            let c = s.check_audit(full).await.unwrap();
            assert!(!c.ok(), "{}", s.backend());
            assert!(c.chain.first_error.is_none(), "the chain itself is intact");
            let m = c.mismatches.first().expect("a mismatch");
            assert!(m.contains("certificate 03 is not revoked") && m.contains("revoked it"), "{m}");
        }
        // Revoked in the database without a revocation row; a certificate without its issuance
        // row; an issuance row whose certificate was deleted; a revocation moved later.
        s.execute_raw("UPDATE certificates SET revoked_at = 5, revocation_reason = 1 WHERE serial = '01'")
            .await
            .unwrap();
        s.execute_raw(&format!(
            "INSERT INTO certificates (serial, issuer_id, profile, subject_cn, not_before, not_after, der, created_at) \
             VALUES ('ff', 'vnpt', 'citizen', 'x', 1, 2, {}, 1)",
            blob(&s, &[0])
        ))
        .await
        .unwrap();
        s.execute_raw("DELETE FROM certificates WHERE serial = '04'").await.unwrap();
        let c = s.check_audit(true).await.unwrap();
        let all = c.mismatches.join("\n");
        for want in [
            "certificate 03 is not revoked",
            "certificate 01 is revoked in the database, but no audit row revoked it",
            "certificate ff has no issuance audit row",
            "issued certificate 04, which is not in the database",
        ] {
            assert!(all.contains(want), "{}: missing «{want}» in\n{all}", s.backend());
        }
        assert_eq!(c.without_audit, 1);
        s.execute_raw("UPDATE certificates SET revoked_at = NULL WHERE serial = '01'").await.unwrap();
        s.execute_raw("UPDATE certificates SET revoked_at = 4102444800, revocation_reason = 1 WHERE serial = '03'")
            .await
            .unwrap();
        let c = s.check_audit(true).await.unwrap();
        assert!(c.mismatches.iter().any(|m| m.contains("certificate 03 is revoked later")), "{:?}", c.mismatches);
    }
}

#[tokio::test]
async fn the_check_resumes_from_a_macd_checkpoint_and_refuses_a_forged_one() {
    for (s, _d) in backends("checkpoint").await {
        let b = s.backend();
        for i in 0..10 {
            issue(&s, &format!("1{i}")).await;
        }
        revoke(&s, "12").await;
        let c = s.check_audit(false).await.unwrap();
        assert!(c.ok() && c.resumed_from.is_none(), "{b}: {c:?}");
        assert_eq!(c.chain.rows, 11);
        assert_eq!(c.checkpoint_written.as_ref().map(|k| (k.seq, k.issued, k.revoked)), Some((11, 10, 1)), "{b}");

        // New rows: only they are walked; the certificate rows before are MAC-checked.
        issue(&s, "20").await;
        s.commit(&[ev("x", "y")]).await.unwrap();
        let c = s.check_audit(false).await.unwrap();
        assert!(c.ok(), "{b}: {c:?}");
        assert_eq!((c.resumed_from, c.chain.rows, c.chain.head_seq), (Some(11), 2, 13), "{b}");
        assert_eq!(c.certificate_rows_checked, 11, "{b}");
        let c = s.check_audit(false).await.unwrap();
        assert_eq!((c.resumed_from, c.chain.rows), (Some(13), 0), "{b}: nothing new");
        assert!(c.ok());

        // A forged checkpoint (moved forward past a row the attacker wants unchecked, or its
        // hash replaced) is refused: the walk starts from row 1 and the check fails.
        let (cp, mac) = s.audit_checkpoint().await.unwrap().unwrap();
        assert!(s.audit_key().unwrap().checkpoint_is_authentic(&cp, &mac));
        for forge in [
            "UPDATE audit_checkpoint SET seq = seq + 5".to_string(),
            format!("UPDATE audit_checkpoint SET seq = {}, hash = {}", cp.seq, blob(&s, &[1u8; 32])),
            format!("UPDATE audit_checkpoint SET revoked = 0, hash = {}", blob(&s, &cp.hash)),
        ] {
            s.execute_raw(&format!(
                "UPDATE audit_checkpoint SET seq = {}, hash = {}, issued = {}, revoked = {}, mac = {}",
                cp.seq,
                blob(&s, &cp.hash),
                cp.issued,
                cp.revoked,
                blob(&s, &mac)
            ))
            .await
            .unwrap();
            s.execute_raw(&forge).await.unwrap();
            let c = s.check_audit(false).await.unwrap();
            assert!(!c.ok(), "{b}: {forge}");
            assert!(c.checkpoint_refused.as_deref().unwrap_or("").contains("valid MAC"), "{b}: {c:?}");
            assert_eq!(
                (c.resumed_from, c.chain.rows, c.chain.first_error.clone()),
                (None, 13, None),
                "{b}: walked from row 1"
            );
            assert!(c.checkpoint_written.is_none(), "a refused checkpoint is not silently replaced");
        }
        // A checkpoint written under another key is refused the same way.
        let other = s.clone().with_audit_key(AuditKey::new(&[3u8; 32]));
        other.set_audit_checkpoint(&cp).await.unwrap();
        assert!(s.check_audit(false).await.unwrap().checkpoint_refused.is_some(), "{b}");
        // The full walk verifies everything and writes a fresh checkpoint; resuming works again.
        let c = s.check_audit(true).await.unwrap();
        assert!(c.ok() && c.checkpoint_written.is_some(), "{b}: {c:?}");
        assert!(s.check_audit(false).await.unwrap().ok(), "{b}");

        // Behind the checkpoint: an edited revocation row, a deleted (renamed) one, and a
        // truncated log are still caught when resuming.
        drop_append_only_triggers(&s).await;
        s.execute_raw("UPDATE audit_log SET detail = 'nothing happened' WHERE action = 'cert.revoke'").await.unwrap();
        let c = s.check_audit(false).await.unwrap();
        assert_eq!(c.chain.first_error.as_ref().map(|e| e.0), Some(11), "{b}: {c:?}");
        s.execute_raw("UPDATE audit_log SET detail = 'detail' WHERE action = 'cert.revoke'").await.unwrap();
        assert!(s.check_audit(false).await.unwrap().ok(), "{b}: restored");
        s.execute_raw("UPDATE audit_log SET action = 'cert.revokx' WHERE action = 'cert.revoke'").await.unwrap();
        let c = s.check_audit(false).await.unwrap();
        assert!(!c.ok(), "{b}: a renamed revocation row");
        s.execute_raw("UPDATE audit_log SET action = 'cert.revoke' WHERE action = 'cert.revokx'").await.unwrap();
        s.execute_raw("DELETE FROM audit_log WHERE seq >= 12").await.unwrap();
        let c = s.check_audit(false).await.unwrap();
        let e = c.chain.first_error.clone().expect("truncation below the checkpoint");
        assert!(e.1.contains("gone"), "{b}: {e:?}");
    }
}
