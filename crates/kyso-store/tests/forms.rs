//! One-use form tokens (migration 16) on SQLite and PostgreSQL: a token is used up by the commit
//! that does the form's work and by nothing else; a second use, another owner's, an expired one,
//! and a commit beside a valid certificate from the same issuer fail and write nothing; concurrent
//! commits of one token: exactly one succeeds.

use kyso_store::forms::FormTokenRow;
use kyso_store::{Store, StoreError, Write};

mod support;
use support::{backends, cert};

fn token(hash: u8, owner: &str, expires_at: i64) -> FormTokenRow {
    FormTokenRow {
        token_hash: vec![hash; 32],
        purpose: "activate".into(),
        owner: owner.into(),
        subject: "vnpt".into(),
        created_at: 10,
        expires_at,
        used_at: None,
    }
}

fn consume(hash: u8, owner: &str, at: i64) -> Write {
    Write::ConsumeFormToken { token_hash: vec![hash; 32], purpose: "activate".into(), owner: owner.into(), at }
}

/// A certificate of the test citizen valid until `not_after`.
fn issued(serial: &str, not_after: i64) -> Write {
    let mut c = cert(serial, "vnpt");
    c.not_after = not_after;
    Write::Certificate(c)
}

#[tokio::test]
async fn a_form_token_is_used_once_with_its_work() {
    for (s, _d) in backends("forms").await {
        let b = s.backend();
        s.put_form_token(&token(1, "001203001234", 1000)).await.unwrap();
        s.put_form_token(&token(2, "001203001234", 50)).await.unwrap();
        // Someone else's token, or an expired one: refused, nothing written.
        let e = s.commit(&[consume(1, "999999999999", 20), issued("a1", 500)]).await.unwrap_err();
        assert!(matches!(e, StoreError::FormUsed(_)), "{b}: {e}");
        let e = s.commit(&[consume(2, "001203001234", 60), issued("a1", 500)]).await.unwrap_err();
        assert!(matches!(e, StoreError::FormUsed(_)), "{b}: {e}");
        assert!(s.certificate("a1").await.unwrap().is_none(), "{b}");
        // The first use commits with its work; the second fails and writes nothing.
        s.commit(&[consume(1, "001203001234", 20), issued("a1", 500)]).await.unwrap();
        let e = s.commit(&[consume(1, "001203001234", 21), issued("a2", 500)]).await.unwrap_err();
        assert!(matches!(e, StoreError::FormUsed(_)), "{b}: {e}");
        assert!(s.certificate("a2").await.unwrap().is_none(), "{b}");
        let seen = s.form_token(&[1; 32], "activate", "001203001234", 30).await.unwrap().unwrap();
        assert_eq!(seen.used_at, Some(20), "{b}");
        // A valid certificate from the issuer blocks another; an expired or revoked one does not.
        let guard =
            |at| Write::RequireNoActiveCertificate { id_number: "001203001234".into(), issuer_id: "vnpt".into(), at };
        let e = s.commit(&[guard(100), issued("a3", 900)]).await.unwrap_err();
        assert!(matches!(&e, StoreError::AlreadyActive(serial) if serial == "a1"), "{b}: {e}");
        s.commit(&[guard(600), issued("a3", 900)]).await.unwrap();
        s.commit(&[Write::Revoke { serial: "a3".into(), at: 601, reason: 1 }]).await.unwrap();
        s.commit(&[guard(602), issued("a4", 900)]).await.unwrap();
        // Two guarded issuances for one person and issuer in one batch: refused whole.
        let e = s.commit(&[guard(950), issued("a5", 2000), guard(950), issued("a6", 2000)]).await.unwrap_err();
        assert!(matches!(e, StoreError::AlreadyActive(_)), "{b}: {e}");
        assert!(s.certificate("a5").await.unwrap().is_none(), "{b}");
    }
}

#[tokio::test]
async fn concurrent_uses_of_one_token_one_wins() {
    for (s, _d) in backends("forms-race").await {
        s.put_form_token(&token(7, "001203001234", 1000)).await.unwrap();
        let tries = (0..8).map(|i| {
            let s: Store = s.clone();
            tokio::spawn(
                async move { s.commit(&[consume(7, "001203001234", 20), issued(&format!("r{i}"), 500)]).await },
            )
        });
        let mut ok = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::FormUsed(_)) => {}
                Err(e) => panic!("{}: {e}", s.backend()),
            }
        }
        assert_eq!(ok, 1, "{}", s.backend());
        assert_eq!(s.count_certificates().await.unwrap(), 1, "{}", s.backend());
    }
}
