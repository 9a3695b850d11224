//! Storage tests, run against embedded SQLite and PostgreSQL (127.0.0.1:5432, database `test`,
//! or KYSO_TEST_POSTGRES_URL). Without PostgreSQL they print a notice and skip it, unless
//! KYSO_REQUIRE_POSTGRES=1 (set by .ci/run), where its absence fails the run.

use kyso_store::{CitizenRow, Store, StoreError, Write};

mod support;
use support::{backends, cert, drop_append_only_triggers, ev, TempDir};

#[tokio::test]
async fn commit_is_atomic_and_serials_unique() {
    for (s, _d) in backends("atomic").await {
        s.commit(&[Write::Certificate(cert("01aa", "vnpt")), ev("cert.issue", "01aa")]).await.unwrap();
        // a duplicate serial fails the whole commit, including the other certificate in it
        let e = s
            .commit(&[Write::Certificate(cert("02bb", "vnpt")), Write::Certificate(cert("01aa", "vnpt"))])
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{} {e}", s.backend());
        assert!(s.certificate("02bb").await.unwrap().is_none(), "{}: partial commit", s.backend());
        // revoking an unknown serial fails and rolls back the rest
        let e = s
            .commit(&[
                Write::Certificate(cert("03cc", "vnpt")),
                Write::Revoke { serial: "ffff".into(), at: 5, reason: 1 },
            ])
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)));
        assert!(s.certificate("03cc").await.unwrap().is_none());
        // revoke once; twice is refused
        s.commit(&[Write::Revoke { serial: "01aa".into(), at: 5, reason: 1 }]).await.unwrap();
        assert!(s.commit(&[Write::Revoke { serial: "01aa".into(), at: 6, reason: 1 }]).await.is_err());
        assert_eq!(s.revoked("vnpt").await.unwrap(), vec![("01aa".to_string(), 5, 1)]);
        assert_eq!(s.status("vnpt", "01aa").await.unwrap(), Some((Some(5), 1)));
        assert_eq!(s.status("viettel", "01aa").await.unwrap(), None, "status is per issuer");
        assert_eq!(s.count_certificates().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn citizens_upsert_and_bulk_certificates() {
    for (s, _d) in backends("bulk").await {
        let c = |level| {
            Write::Citizen(CitizenRow {
                id_number: "001203001234".into(),
                full_name: "Trần Thị Bình".into(),
                province: "Hà Nội".into(),
                commune: None,
                eid_level: level,
                updated_at: 1,
            })
        };
        s.commit(&[c(1)]).await.unwrap();
        s.commit(&[c(2)]).await.unwrap();
        assert_eq!(s.citizen("001203001234").await.unwrap().unwrap().eid_level, 2);
        let many: Vec<Write> = (0..1000).map(|i| Write::Certificate(cert(&format!("{i:04x}"), "viettel"))).collect();
        s.commit(&many).await.unwrap();
        assert_eq!(s.count_certificates().await.unwrap(), 1000);
        assert_eq!(s.certificates(Some("001203001234"), Some("viettel"), 10, 0).await.unwrap().len(), 10);
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = TempDir::new("kyso-store", "migrate");
    let url = format!("sqlite://{}/kyso.db", dir.path().display());
    let s = Store::open(&url).await.unwrap();
    s.commit(&[Write::Certificate(cert("0a", "vnpt"))]).await.unwrap();
    s.close().await;
    let s = Store::open(&url).await.unwrap();
    assert_eq!(s.count_certificates().await.unwrap(), 1, "reopening must keep data");
}

async fn chain(s: &Store, n: usize) {
    for i in 0..n {
        s.commit(&[ev("cert.issue", &format!("s{i}"))]).await.unwrap();
    }
}

#[tokio::test]
async fn audit_chain_detects_edit_delete_and_reorder() {
    for (s, _d) in backends("audit").await {
        chain(&s, 6).await;
        let r = s.verify_audit().await.unwrap();
        assert_eq!((r.rows, r.first_error.clone()), (6, None), "{}", s.backend());
        drop_append_only_triggers(&s).await;

        s.execute_raw("UPDATE audit_log SET subject = 'forged' WHERE seq = 3").await.unwrap();
        let r = s.verify_audit().await.unwrap();
        assert_eq!(r.first_error.as_ref().map(|e| e.0), Some(3), "{}: edit", s.backend());
        assert!(r.first_error.unwrap().1.contains("edited"));
        s.execute_raw("UPDATE audit_log SET subject = 's2' WHERE seq = 3").await.unwrap();
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "restoring the row restores the chain");

        s.execute_raw("DELETE FROM audit_log WHERE seq = 4").await.unwrap();
        let r = s.verify_audit().await.unwrap();
        assert_eq!(r.first_error.as_ref().map(|e| e.0), Some(5), "{}: delete", s.backend());
        assert!(r.first_error.unwrap().1.contains("deleted"));
    }
}

#[tokio::test]
async fn audit_chain_detects_swapped_rows() {
    for (s, _d) in backends("reorder").await {
        chain(&s, 5).await;
        drop_append_only_triggers(&s).await;
        // swap the contents of rows 2 and 3, keeping seq numbers: a reordering
        s.execute_raw(
            "UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -2;",
        )
        .await
        .unwrap();
        let r = s.verify_audit().await.unwrap();
        assert_eq!(r.first_error.as_ref().map(|e| e.0), Some(2), "{}: reorder", s.backend());
    }
}

#[tokio::test]
async fn concurrent_commits_keep_one_chain() {
    for (s, _d) in backends("concurrent").await {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..20 {
                    s.commit(&[ev("x", &format!("{t}-{i}"))]).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let r = s.verify_audit().await.unwrap();
        assert_eq!((r.rows, r.first_error), (160, None), "{}", s.backend());
    }
}

#[tokio::test]
async fn a_totp_step_is_accepted_once_and_only_forward() {
    for (s, _d) in backends("totp").await {
        let step = |n: i64| Write::TotpStep { credential: "cred-a".into(), step: n };
        s.commit(&[step(100), ev("credential.authorize", "cred-a")]).await.unwrap();
        // The same step again, or an older one, fails the whole batch (its audit row included).
        for n in [100, 99] {
            let e = s.commit(&[ev("credential.authorize", "cred-a"), step(n)]).await.unwrap_err();
            assert!(matches!(e, StoreError::Precondition(_)), "{} step {n}: {e}", s.backend());
        }
        s.commit(&[step(101)]).await.unwrap();
        // Another credential has its own steps.
        s.commit(&[Write::TotpStep { credential: "cred-b".into(), step: 100 }]).await.unwrap();
        let v = s.verify_audit().await.unwrap();
        assert_eq!(v.rows, 1, "{}: the refused batches left no audit row", s.backend());
    }
}

#[tokio::test]
async fn web_sessions_slide_but_are_never_revived() {
    for (s, _d) in backends("sessions").await {
        let now = kyso_store::now();
        s.create_web_session(b"hash-a", "citizen", "019190000001", now + 100).await.unwrap();
        let row = s.web_session(b"hash-a", now).await.unwrap().unwrap();
        assert_eq!((row.kind.as_str(), row.expires_at), ("citizen", now + 100), "{}", s.backend());
        assert!(row.created_at <= now + 1);
        s.extend_web_session(b"hash-a", now + 1800, now).await.unwrap();
        assert_eq!(s.web_session(b"hash-a", now).await.unwrap().unwrap().expires_at, now + 1800);
        // Never shortened by a late writer, never revived once ended.
        s.extend_web_session(b"hash-a", now + 900, now).await.unwrap();
        assert_eq!(s.web_session(b"hash-a", now).await.unwrap().unwrap().expires_at, now + 1800);
        s.extend_web_session(b"hash-a", now + 9000, now + 2000).await.unwrap();
        assert!(s.web_session(b"hash-a", now + 2000).await.unwrap().is_none(), "{}", s.backend());
    }
}

#[tokio::test]
async fn support_totals_and_guide_scans_over_a_window() {
    use kyso_store::accounts::{SupportPointRow, SupportSessionRow};
    for (s, _d) in backends("support").await {
        let point = |id: &str| {
            Write::SupportPoint(SupportPointRow {
                id: id.into(),
                commune_code: "01960".into(),
                name: format!("Điểm {id}"),
                kind: "one_stop".into(),
                address: "UBND xã".into(),
                opening_days: "123456".into(),
                opening_hours: "7:30-11:30".into(),
                created_at: 1,
            })
        };
        s.commit(&[point("p1"), point("p2")]).await.unwrap();
        let session = |point: &str, day: &str, steps: &str| {
            Write::SupportSession(SupportSessionRow {
                id: 0,
                point_id: point.into(),
                staff: "hotro".into(),
                id_hash: vec![1; 32],
                id_masked: "0191****0001".into(),
                steps: steps.into(),
                outcome: "completed".into(),
                day: day.into(),
                at: 1,
            })
        };
        s.commit(&[
            session("p1", "2026-11-30", "eid_level2,certificate_issued"),
            session("p1", "2026-12-01", "certificate_issued,first_signature"),
            session("p1", "2026-11-20", "eid_level2"),
            session("p2", "2026-12-02", "advice"),
        ])
        .await
        .unwrap();
        let mut totals = s.support_totals("2026-11-27", "2026-12-03").await.unwrap();
        totals.sort_by(|a, b| a.point_id.cmp(&b.point_id));
        let got: Vec<_> = totals
            .iter()
            .map(|d| (d.point_id.as_str(), d.sessions, d.eid_level2, d.certificates, d.first_signatures))
            .collect();
        assert_eq!(got, [("p1", 2, 1, 2, 1), ("p2", 1, 0, 0, 0)], "{}", s.backend());
        for day in ["2026-12-01", "2026-12-01", "2026-12-02", "2026-11-01"] {
            s.record_guide_scan("p1", day).await.unwrap();
        }
        let scans = s.guide_scans("2026-11-27", "2026-12-03").await.unwrap();
        assert_eq!((scans.get("p1"), scans.get("p2")), (Some(&3), None), "{}", s.backend());
    }
}
