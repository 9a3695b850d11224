//! The PIN counter's slots on SQLite and PostgreSQL: a check takes a slot before it runs, never
//! more than the attempts left; the fifth failure locks with its audit row; a right PIN cannot
//! be committed after a lock; abandoned slots free up after a minute; concurrent reservations
//! never exceed five.

mod support;
use kyso_store::pins::{PinFailure, PinSlot, STALE_SECONDS};
use kyso_store::{AuditEvent, CredentialRow, Store, StoreError, Write};
use support::backends;

async fn credential(s: &Store, id: &str) {
    let now = kyso_store::now();
    s.commit(&[Write::Credential(CredentialRow {
        id: id.into(),
        id_number: "019190000001".into(),
        provider_id: "vnpt".into(),
        key_id: "key-1".into(),
        cert_serial: "01".into(),
        status: "active".into(),
        failed_pins: 0,
        totp_secret: None,
        created_at: now,
        updated_at: now,
    })])
    .await
    .unwrap();
}

fn failed(n: i64) -> AuditEvent {
    AuditEvent::new("citizen", "credential.pin_failed", "c", format!("attempt {n} of 5"))
}

fn locked() -> AuditEvent {
    AuditEvent::new("system", "credential.locked", "c", "5 wrong PINs")
}

#[tokio::test]
async fn five_slots_five_failures_one_lock() {
    for (s, _d) in backends("pins").await {
        let b = s.backend();
        credential(&s, "c").await;
        let now = kyso_store::now();
        for _ in 0..5 {
            assert!(matches!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Reserved { .. }), "{b}");
        }
        assert_eq!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Busy, "{b}: a sixth check in flight");
        // One check was right: its slot is freed and the counter reset by the authorization.
        s.commit(&[Write::PinOk { credential: "c".into(), at: now }]).await.unwrap();
        assert!(matches!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Reserved { failed_before: 0 }));
        // Five failures: the fifth locks, with its audit row right after the failure's.
        let mut last = None;
        for _ in 0..5 {
            last = Some(s.pin_attempt_failed("c", 5, now, failed, &locked()).await.unwrap());
        }
        assert_eq!(last, Some(PinFailure { attempt: 5, locked: true }), "{b}");
        assert_eq!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Locked, "{b}");
        let rows = s.audit_rows(0, 100).await.unwrap();
        let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "credential.pin_failed").count(), 5, "{b}");
        assert_eq!(actions.last(), Some(&"credential.locked"), "{b}");
        assert_eq!(rows[rows.len() - 2].detail, "attempt 5 of 5");
        // A right PIN whose check was running when the lock came is not committed, nor a signature.
        let e = s.commit(&[Write::PinOk { credential: "c".into(), at: now }]).await.unwrap_err();
        assert!(matches!(e, StoreError::Locked(_)), "{b}: {e}");
        let e = s.commit(&[Write::RequireSignable { credential: "c".into(), at: now }]).await.unwrap_err();
        assert!(matches!(e, StoreError::Locked(_)), "{b}: {e}");
        // An officer's unlock frees everything.
        s.commit(&[Write::Unlock { credential: "c".into(), at: now }]).await.unwrap();
        assert!(matches!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Reserved { failed_before: 0 }));
        assert_eq!(s.reserve_pin_attempt("nobody", 5, now).await.unwrap(), PinSlot::Unknown);
    }
}

#[tokio::test]
async fn abandoned_slots_free_up_after_a_minute() {
    for (s, _d) in backends("pinstale").await {
        credential(&s, "c").await;
        let now = kyso_store::now();
        for _ in 0..3 {
            s.reserve_pin_attempt("c", 5, now).await.unwrap();
        }
        s.pin_attempt_failed("c", 5, now, failed, &locked()).await.unwrap();
        s.pin_attempt_failed("c", 5, now, failed, &locked()).await.unwrap();
        // 2 failures + 1 check in flight: two slots left now …
        assert!(matches!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Reserved { failed_before: 2 }));
        assert!(matches!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Reserved { .. }));
        assert_eq!(s.reserve_pin_attempt("c", 5, now).await.unwrap(), PinSlot::Busy);
        // … and a minute later the three checks nobody finished are taken as abandoned; the two
        // failures still count.
        let later = now + STALE_SECONDS + 1;
        for _ in 0..3 {
            assert!(matches!(
                s.reserve_pin_attempt("c", 5, later).await.unwrap(),
                PinSlot::Reserved { failed_before: 2 }
            ));
        }
        assert_eq!(s.reserve_pin_attempt("c", 5, later).await.unwrap(), PinSlot::Busy, "{}", s.backend());
    }
}

#[tokio::test]
async fn concurrent_reservations_never_exceed_the_attempts_left() {
    for (s, _d) in backends("pinrace").await {
        credential(&s, "c").await;
        let now = kyso_store::now();
        s.reserve_pin_attempt("c", 5, now).await.unwrap();
        s.pin_attempt_failed("c", 5, now, failed, &locked()).await.unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.reserve_pin_attempt("c", 5, now).await.unwrap() })
            })
            .collect();
        let mut reserved = 0;
        for t in tasks {
            if let PinSlot::Reserved { .. } = t.await.unwrap() {
                reserved += 1;
            }
        }
        assert_eq!(reserved, 4, "{}: one failure counted, four attempts left", s.backend());
    }
}
