//! Length limits at the store boundary, on SQLite and PostgreSQL: a 1,048,576-character name (and
//! a too-long value of every kind of write) is refused before any SQL runs, naming the field and
//! the limit, and nothing of the batch — not even its audit row — is stored.

use kyso_store::accounts::StaffAccountRow;
use kyso_store::campaign::ReportRow;
use kyso_store::{AuditEvent, CitizenRow, StoreError, Write};

mod support;
use support::backends;

fn citizen(name: &str) -> CitizenRow {
    CitizenRow {
        id_number: "001203001234".into(),
        full_name: name.into(),
        province: "Thái Nguyên".into(),
        commune: Some("Xã Hiệp Lực".into()),
        eid_level: 1,
        updated_at: 1,
    }
}

fn too_long(e: StoreError, field: &str, max: usize) {
    match e {
        StoreError::TooLong { field: f, max: m } => assert_eq!((f, m), (field, max)),
        other => panic!("expected TooLong for {field}, got {other}"),
    }
}

#[tokio::test]
async fn a_megabyte_name_is_refused_and_nothing_is_stored() {
    let huge = "A".repeat(1_048_576);
    for (s, _d) in backends("limits").await {
        let audit_before = s.audit_rows(0, 1_000_000).await.unwrap().len();
        let e = s
            .commit(&[Write::Citizen(citizen(&huge)), Write::Audit(AuditEvent::new("t", "citizen.add", "x", "d"))])
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "full_name: at most 128 characters", "{}", s.backend());
        too_long(e, "full_name", 128);
        assert!(s.citizen("001203001234").await.unwrap().is_none(), "{}", s.backend());
        assert_eq!(s.audit_rows(0, 1_000_000).await.unwrap().len(), audit_before, "{}", s.backend());

        // 128 Vietnamese letters are fine (characters, not bytes).
        s.commit(&[Write::Citizen(citizen(&"Ễ".repeat(128)))]).await.unwrap();
        assert_eq!(s.citizen("001203001234").await.unwrap().unwrap().full_name.chars().count(), 128);

        let staff = StaffAccountRow {
            username: "canbo".into(),
            display_name: huge.clone(),
            role: "commune_officer".into(),
            scope_kind: "commune".into(),
            scope_code: "01960".into(),
            point_id: None,
            password_hash: "x".into(),
            created_at: 1,
        };
        too_long(s.commit(&[Write::Staff(staff)]).await.unwrap_err(), "display_name", 128);
        assert!(s.staff_account("canbo").await.unwrap().is_none());

        let report = ReportRow {
            id: 0,
            unit_code: "01960".into(),
            frequency: "weekly".into(),
            period_start: "2026-07-30".into(),
            submitted_at: 1,
            submitted_by: "Bằng".into(),
            difficulties: "x".repeat(4001),
            proposals: String::new(),
        };
        let audit = AuditEvent::new("t", "campaign.report.submit", "01960", "d");
        too_long(s.submit_report(&report, &[], &audit).await.unwrap_err(), "difficulties", 4000);
        assert!(s.reports("01960").await.unwrap().is_empty());
        let audit = AuditEvent::new("t", "x", "y", "z".repeat(1 << 20));
        too_long(s.commit(&[Write::Audit(audit)]).await.unwrap_err(), "detail", 16 * 1024);
    }
}
