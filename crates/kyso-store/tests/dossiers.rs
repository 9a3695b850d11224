//! Procedures and dossiers (migration 15) on SQLite and PostgreSQL: a procedure replaced in
//! place, a dossier with its files' hashes and verdicts read back as written and audited, recent
//! dossiers per unit newest first, the per-unit per-day "fully signed" counts, the signers of a
//! period from remote signatures and from dossiers, over-long values refused before any SQL.

mod support;
use kyso_store::dossiers::{DossierDayCount, DossierFileRow, DossierRow, ProcedureRow};
use kyso_store::{AuditEvent, CredentialRow, Store, StoreError, Write};
use support::backends;

fn procedure(name: &str) -> ProcedureRow {
    ProcedureRow {
        code: "khai-sinh".into(),
        name: name.into(),
        files: r#"[{"role":"to-khai","name":"Tờ khai","signer":"applicant","required":true}]"#.into(),
        updated_at: 1,
    }
}

fn dossier(unit: &str, day: &str, at: i64, fully: bool, needs: bool) -> DossierRow {
    DossierRow {
        id: 0,
        procedure_code: "khai-sinh".into(),
        applicant_id: "001203001234".into(),
        applicant_masked: "0012****1234".into(),
        unit_code: unit.into(),
        channel: "desk".into(),
        received_by: "canbo".into(),
        needs_signatures: needs,
        fully_signed: fully,
        missing: if fully { "[]".into() } else { r#"[{"kind":"file"}]"#.into() },
        day: day.into(),
        at,
    }
}

fn file(role: &str, verdict: &str, serial: Option<&str>) -> DossierFileRow {
    DossierFileRow {
        role: role.into(),
        file_name: format!("{role}.pdf"),
        size: 1234,
        sha256: vec![7; 32],
        signature_sha256: (role == "p7s").then(|| vec![9; 32]),
        verdict: verdict.into(),
        satisfied: verdict == "signed_by_applicant",
        reason_vi: "Chữ ký hợp lệ".into(),
        reason_en: "Valid".into(),
        applicant_serial: serial.map(str::to_string),
    }
}

fn ev() -> AuditEvent {
    AuditEvent::new("canbo", "dossier.check", "-", "khai-sinh, applicant 0012****1234, fully signed")
}

async fn credential(s: &Store, id: &str, id_number: &str, serial: &str) {
    s.commit(&[Write::Credential(CredentialRow {
        id: id.into(),
        id_number: id_number.into(),
        provider_id: "vnpt".into(),
        key_id: "k".into(),
        cert_serial: serial.into(),
        status: "active".into(),
        failed_pins: 0,
        totp_secret: None,
        created_at: 1,
        updated_at: 1,
    })])
    .await
    .unwrap();
}

#[tokio::test]
async fn dossiers_are_stored_with_hashes_and_verdicts_and_audited() {
    for (s, _d) in backends("dossiers").await {
        let b = s.backend();
        s.put_procedure(&procedure("Khai sinh"), &AuditEvent::new("op", "procedure.put", "khai-sinh", ""))
            .await
            .unwrap();
        s.put_procedure(&procedure("Đăng ký khai sinh"), &AuditEvent::new("op", "procedure.put", "khai-sinh", ""))
            .await
            .unwrap();
        let all = s.procedures().await.unwrap();
        assert_eq!(all.len(), 1, "{b}: replaced in place");
        assert_eq!(all[0].name, "Đăng ký khai sinh", "{b}");
        assert_eq!(s.procedure("khai-sinh").await.unwrap().unwrap().files, procedure("").files, "{b}");
        assert!(s.procedure("nope").await.unwrap().is_none(), "{b}");

        let files = [file("to-khai", "signed_by_applicant", Some("0A1B")), file("p7s", "unsigned", None)];
        let first = s.add_dossier(&dossier("00004", "2026-12-01", 1_000, false, true), &files, &ev()).await.unwrap();
        let second =
            s.add_dossier(&dossier("00004", "2026-12-01", 1_100, true, true), &files[..1], &ev()).await.unwrap();
        s.add_dossier(&dossier("00004", "2026-12-02", 90_000, false, false), &files[..1], &ev()).await.unwrap();
        s.add_dossier(&dossier("00007", "2026-12-02", 90_100, true, true), &files[..1], &ev()).await.unwrap();
        assert_eq!((first.id, second.id), (1, 2), "{b}");
        let (row, back) = s.dossier(1).await.unwrap().unwrap();
        assert_eq!(row, first, "{b}");
        assert_eq!(back, files.to_vec(), "{b}: files in the order given, hashes and verdicts as written");
        assert!(s.dossier(99).await.unwrap().is_none(), "{b}");

        let recent = s.recent_dossiers(&["00004".into()], 2).await.unwrap();
        assert_eq!(recent.iter().map(|d| d.id).collect::<Vec<_>>(), vec![3, 2], "{b}");
        let both = s.recent_dossiers(&["00004".into(), "00007".into()], 10).await.unwrap();
        assert_eq!(both.iter().map(|d| d.id).collect::<Vec<_>>(), vec![4, 3, 2, 1], "{b}");

        let counts = s.dossier_counts("2026-12-01", "2026-12-02").await.unwrap();
        let c = |u: &str, d: &str, n, f| DossierDayCount {
            unit_code: u.into(),
            day: d.into(),
            needing: n,
            fully_signed: f,
        };
        assert_eq!(counts, vec![c("00004", "2026-12-01", 2, 1), c("00007", "2026-12-02", 1, 1)], "{b}");
        assert_eq!(s.dossier_counts("2026-12-02", "2026-12-02").await.unwrap().len(), 1, "{b}");

        let audit = s.audit_rows(0, 100).await.unwrap();
        let checks: Vec<_> = audit.iter().filter(|r| r.action == "dossier.check").collect();
        assert_eq!(checks.len(), 4, "{b}");
        assert_eq!(checks[0].subject, "dossier 1", "{b}");
        assert!(audit.iter().all(|r| !r.detail.contains("001203001234")), "{b}: no full ID number in the audit");
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");

        // signers: remote signatures through a credential, and applicants who signed a dossier file
        credential(&s, "cred-1", "079190000001", "C1").await;
        credential(&s, "cred-2", "079190000002", "C2").await;
        let sign = |cred: &str| Write::Audit(AuditEvent::new("citizen", "signature.create", cred, "1 signature(s)"));
        s.commit(&[sign("cred-1")]).await.unwrap();
        let now = kyso_store::now();
        let mut signers = s.signers_between(0, now + 10).await.unwrap();
        signers.sort();
        assert_eq!(
            signers,
            vec![("001203001234".to_string(), "0A1B".to_string()), ("079190000001".to_string(), "C1".to_string())],
            "{b}"
        );
        assert_eq!(s.signers_between(0, 1_000).await.unwrap(), vec![], "{b}: the end is excluded");
        assert_eq!(s.signers_between(now + 10, now + 20).await.unwrap(), vec![], "{b}");
    }
}

#[tokio::test]
async fn over_long_values_are_refused_before_any_sql() {
    for (s, _d) in backends("dossier_limits").await {
        let b = s.backend();
        s.put_procedure(&procedure("Khai sinh"), &ev()).await.unwrap();
        let mut long = file("to-khai", "unsigned", None);
        long.file_name = "a".repeat(129);
        let e = s.add_dossier(&dossier("00004", "2026-12-01", 1, false, true), &[long], &ev()).await.unwrap_err();
        assert!(matches!(e, StoreError::TooLong { field: "file_name", .. }), "{b}: {e}");
        assert!(s.dossier(1).await.unwrap().is_none(), "{b}: nothing written");
        let mut p = procedure("x");
        p.name = "n".repeat(201);
        assert!(
            matches!(s.put_procedure(&p, &ev()).await.unwrap_err(), StoreError::TooLong { field: "name", .. }),
            "{b}"
        );
    }
}
