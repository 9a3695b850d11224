//! The notification outbox (migration 19) on SQLite and PostgreSQL: one message per idempotency
//! key however often (or however concurrently) a trigger fires; claims that two workers never
//! share; the per-channel rate limit held by racing claimers; retries, failures and leases; opt-outs
//! checked at enqueue and again at claim; audit rows that name recipients masked only.

use kyso_store::accounts::EidAccountRow;
use kyso_store::notify::{Claimed, NewMessage, RateLimit};
use kyso_store::{Store, Write};
use std::collections::HashSet;

mod support;
use support::backends;

const NOW: i64 = 1_800_000_000;

fn msg(key: &str, channel: &str, to: &str, person: Option<&str>) -> NewMessage {
    NewMessage {
        idem_key: key.into(),
        channel: channel.into(),
        recipient: to.into(),
        recipient_masked: format!("{}******{}", &to[..2], &to[to.len() - 2..]),
        person_id: person.map(Into::into),
        unit_code: "01960".into(),
        template: "session_invitation".into(),
        subject: "Mời tham dự buổi hỗ trợ".into(),
        body: "UBND xã Hiệp Lực mời bà con …".into(),
        not_before: NOW,
        expires_at: None,
    }
}

/// Every channel, no practical limit.
fn every() -> Vec<RateLimit> {
    limits(i64::MAX)
}

fn limits(per_minute: i64) -> Vec<RateLimit> {
    ["email", "sms", "zalo"].iter().map(|c| RateLimit { channel: (*c).into(), per_minute }).collect()
}

async fn audit_details(s: &Store, action: &str) -> Vec<String> {
    s.audit_rows(0, 100_000).await.unwrap().into_iter().filter(|r| r.action == action).map(|r| r.detail).collect()
}

#[tokio::test]
async fn the_same_trigger_enqueues_one_message_even_concurrently() {
    for (s, _d) in backends("notify-idem").await {
        let b = s.backend();
        let batch: Vec<NewMessage> = (0..20)
            .map(|i| msg(&format!("inv|T01|sms|09120000{i:02}"), "sms", &format!("09120000{i:02}"), None))
            .collect();
        let first = s.enqueue_messages(&batch, "canbo.xa", NOW).await.unwrap();
        assert_eq!((first.queued, first.duplicates), (20, 0), "{b}");
        let again = s.enqueue_messages(&batch, "canbo.xa", NOW).await.unwrap();
        assert_eq!((again.queued, again.duplicates), (0, 20), "{b}");
        // eight workers fire the same new trigger at once
        let more: Vec<NewMessage> =
            (0..10).map(|i| msg(&format!("renewal_7|{i}"), "email", &format!("dan{i}@hiepluc.vn"), None)).collect();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (s, more) = (s.clone(), more.clone());
                tokio::spawn(async move { s.enqueue_messages(&more, "notify", NOW).await.unwrap() })
            })
            .collect();
        let mut queued = 0;
        for t in tasks {
            queued += t.await.unwrap().queued;
        }
        assert_eq!(queued, 10, "{b}: one message per key across racing enqueues");
        let rows = s.outbox(Some("01960"), 100).await.unwrap();
        assert_eq!(rows.len(), 30, "{b}");
        // the recipient is audited and listed masked only
        let details = audit_details(&s, "notify.enqueue").await;
        assert_eq!(details.len(), 30, "{b}");
        assert!(details.iter().all(|d| !d.contains("0912000001") && !d.contains("dan1@")), "{b}: {details:?}");
        assert!(details.iter().any(|d| d.contains("09******01")), "{b}");
        assert!(rows.iter().all(|r| !r.recipient_masked.contains("120000")), "{b}");
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

#[tokio::test]
async fn two_workers_never_claim_the_same_message() {
    for (s, _d) in backends("notify-claim").await {
        let b = s.backend();
        let batch: Vec<NewMessage> =
            (0..40).map(|i| msg(&format!("k{i}"), "sms", &format!("09130000{i:02}"), None)).collect();
        s.enqueue_messages(&batch, "t", NOW).await.unwrap();
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = s.claim_due(NOW, 300, &every(), 3).await.unwrap();
                        if got.is_empty() {
                            break;
                        }
                        mine.extend(got.into_iter().map(|c| c.id));
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        let distinct: HashSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), 40, "{b}: every message claimed once, none twice ({} claims)", all.len());
        assert_eq!(distinct.len(), 40, "{b}");
        // held under a lease: nobody else gets them until it ends, then one worker does
        assert!(s.claim_due(NOW + 299, 300, &every(), 100).await.unwrap().is_empty(), "{b}");
        let racing: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.claim_due(NOW + 300, 300, &every(), 100).await.unwrap().len() })
            })
            .collect();
        let mut n = 0;
        for r in racing {
            n += r.await.unwrap();
        }
        assert_eq!(n, 40, "{b}: expired leases re-claimed once each");
    }
}

#[tokio::test]
async fn racing_claimers_hold_the_channel_rate_limit() {
    for (s, _d) in backends("notify-rate").await {
        let b = s.backend();
        let mut batch: Vec<NewMessage> =
            (0..30).map(|i| msg(&format!("s{i}"), "sms", &format!("09140000{i:02}"), None)).collect();
        batch.extend((0..5).map(|i| msg(&format!("e{i}"), "email", &format!("a{i}@hiepluc.vn"), None)));
        s.enqueue_messages(&batch, "t", NOW).await.unwrap();
        let minute = NOW - NOW % 60;
        let racing: Vec<_> = (0..5)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.claim_due(minute + 10, 300, &limits(7), 50).await.unwrap() })
            })
            .collect();
        let mut claimed: Vec<Claimed> = Vec::new();
        for r in racing {
            claimed.extend(r.await.unwrap());
        }
        let sms = claimed.iter().filter(|c| c.channel == "sms").count();
        let email = claimed.iter().filter(|c| c.channel == "email").count();
        assert_eq!((sms, email), (7, 5), "{b}: 7 SMS a minute however many claim; e-mail has its own count");
        // the same minute gives nothing more; the next one gives 7 again
        assert!(s.claim_due(minute + 59, 300, &limits(7), 50).await.unwrap().is_empty(), "{b}");
        assert_eq!(s.claim_due(minute + 60, 300, &limits(7), 50).await.unwrap().len(), 7, "{b}");
    }
}

#[tokio::test]
async fn sent_retried_failed_and_lost_claims() {
    for (s, _d) in backends("notify-finish").await {
        let b = s.backend();
        s.enqueue_messages(
            &[msg("a", "email", "lan@hiepluc.vn", None), msg("z", "zalo", "0915000001", None)],
            "t",
            NOW,
        )
        .await
        .unwrap();
        let got = s.claim_due(NOW, 60, &every(), 10).await.unwrap();
        assert_eq!(got.len(), 2, "{b}");
        let (mail, zalo) = (&got[0], &got[1]);
        assert!(s.mark_sent(mail, NOW + 1).await.unwrap(), "{b}");
        assert!(!s.mark_sent(mail, NOW + 2).await.unwrap(), "{b}: a claim finishes once");
        assert!(s.mark_failed(zalo, "HTTP status 502", Some(NOW + 600)).await.unwrap(), "{b}");
        assert_eq!(s.outbox_state(zalo.id).await.unwrap(), ("queued".into(), 1, None), "{b}");
        assert!(s.claim_due(NOW + 599, 60, &every(), 10).await.unwrap().is_empty(), "{b}: not before the retry time");
        let again = s.claim_due(NOW + 600, 60, &every(), 10).await.unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 2), "{b}");
        // the lease ends, another worker claims it: the first one's result is refused
        let stolen = s.claim_due(NOW + 660, 60, &every(), 10).await.unwrap();
        assert_eq!(stolen.len(), 1, "{b}");
        assert!(!s.mark_sent(&again[0], NOW + 661).await.unwrap(), "{b}: the old claim is void");
        assert!(s.mark_failed(&stolen[0], "gateway down", None).await.unwrap(), "{b}");
        let rows = s.outbox(None, 10).await.unwrap();
        let status: Vec<(&str, &str)> = rows.iter().map(|r| (r.channel.as_str(), r.status.as_str())).collect();
        assert_eq!(status, [("zalo", "failed"), ("email", "sent")], "{b}");
        assert_eq!(rows[0].last_error.as_deref(), Some("gateway down"), "{b}");
        assert_eq!(audit_details(&s, "notify.sent").await, ["email to la******vn, attempt 1"], "{b}");
        assert_eq!(audit_details(&s, "notify.failed").await.len(), 1, "{b}");
        assert_eq!(audit_details(&s, "notify.retry").await.len(), 1, "{b}");
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

#[tokio::test]
async fn opt_outs_are_checked_at_enqueue_and_at_claim() {
    for (s, _d) in backends("notify-optout").await {
        let b = s.backend();
        let (an, binh) = ("019190000001", "019190000002");
        s.set_opt_out(an, true, "citizen", NOW).await.unwrap();
        let e = s
            .enqueue_messages(
                &[msg("x1", "sms", "0916000001", Some(an)), msg("x2", "sms", "0916000002", Some(binh))],
                "t",
                NOW,
            )
            .await
            .unwrap();
        assert_eq!((e.queued, e.opted_out), (1, 1), "{b}");
        // Bình opts out after the message was queued: the claim refuses it, the sweep suppresses it
        s.set_opt_out(binh, true, "citizen", NOW).await.unwrap();
        assert!(s.claim_due(NOW, 60, &every(), 10).await.unwrap().is_empty(), "{b}");
        assert_eq!(s.suppress_opted_out("notify").await.unwrap(), 1, "{b}");
        let status: Vec<String> = s.outbox(None, 10).await.unwrap().into_iter().map(|r| r.status).collect();
        assert_eq!(status, ["suppressed", "suppressed"], "{b}");
        s.set_opt_out(binh, false, "citizen", NOW).await.unwrap();
        assert!(!s.opted_out(binh).await.unwrap(), "{b}");
        let opt =
            s.audit_rows(0, 100_000).await.unwrap().into_iter().filter(|r| r.action.starts_with("notify.opt")).count();
        assert_eq!(opt, 3, "{b}");
        assert!(
            s.audit_rows(0, 100_000).await.unwrap().iter().all(|r| !r.subject.contains(an) && !r.detail.contains(an)),
            "{b}"
        );
    }
}

#[tokio::test]
async fn addresses_from_registration_and_contacts() {
    for (s, _d) in backends("notify-contacts").await {
        let b = s.backend();
        let account = EidAccountRow {
            id_number: "019190000001".into(),
            phone: "0917000001".into(),
            password_hash: "$argon2id$x".into(),
            level: 1,
            activation: "registered".into(),
            verified_method: None,
            verified_by: None,
            verified_place: None,
            verified_at: None,
            created_at: 1,
            updated_at: 1,
        };
        s.commit(&[Write::EidAccount(account)]).await.unwrap();
        s.set_person_contact("019190000001", "email", Some(("an@hiepluc.vn", "a***@hiepluc.vn")), "canbo.xa")
            .await
            .unwrap();
        s.set_person_contact("019190000002", "zalo", Some(("0917000002", "09******02")), "canbo.xa").await.unwrap();
        let ids = vec!["019190000001".to_string(), "019190000002".into(), "019190000003".into()];
        let got = s.person_addresses(&ids).await.unwrap();
        let mut an = got["019190000001"].clone();
        an.sort();
        assert_eq!(
            an,
            [
                ("email".into(), "an@hiepluc.vn".into()),
                ("sms".into(), "0917000001".into()),
                ("zalo".into(), "0917000001".into())
            ],
            "{b}"
        );
        assert_eq!(got["019190000002"], [("zalo".to_string(), "0917000002".to_string())], "{b}");
        assert!(!got.contains_key("019190000003"), "{b}");
        s.set_unit_contact("01960", "", "email", Some(("baocao@hiepluc.vn", "b***@hiepluc.vn")), "admin")
            .await
            .unwrap();
        s.set_unit_contact("01960", "Công an xã", "sms", Some(("0917000009", "09******09")), "admin").await.unwrap();
        assert_eq!(s.unit_contacts().await.unwrap().len(), 2, "{b}");
        let details = audit_details(&s, "notify.contact").await;
        assert!(details.iter().all(|d| !d.contains("an@") && !d.contains("0917000002")), "{b}: {details:?}");
        // a body past its limit is refused, naming the field
        let mut long = msg("long", "sms", "0917000003", None);
        long.body = "x".repeat(2001);
        let e = s.enqueue_messages(&[long], "t", NOW).await.unwrap_err();
        assert!(e.to_string().starts_with("body: at most 2000"), "{b}: {e}");
    }
}

#[tokio::test]
async fn a_message_whose_time_has_passed_is_never_sent() {
    for (s, _d) in backends("notify-expiry").await {
        let b = s.backend();
        let mut late = msg("late", "sms", "0918000001", None);
        late.expires_at = Some(NOW + 3600);
        s.enqueue_messages(&[late, msg("any", "sms", "0918000002", None)], "t", NOW).await.unwrap();
        assert_eq!(s.expire_stale(NOW + 3599, "notify").await.unwrap(), 0, "{b}");
        // the session has begun: the invitation is not claimed, and the sweep fails it as expired
        let got = s.claim_due(NOW + 3600, 60, &every(), 10).await.unwrap();
        assert_eq!(got.iter().map(|c| c.recipient_masked.as_str()).collect::<Vec<_>>(), ["09******02"], "{b}");
        assert_eq!(s.expire_stale(NOW + 3600, "notify").await.unwrap(), 1, "{b}");
        let rows = s.outbox(None, 10).await.unwrap();
        let late = rows.iter().find(|r| r.recipient_masked == "09******01").unwrap();
        assert_eq!(
            (late.status.as_str(), late.last_error.as_deref()),
            ("failed", Some("expired before delivery")),
            "{b}"
        );
        assert_eq!(audit_details(&s, "notify.expired").await, ["sms to 09******01: expired before delivery"], "{b}");
    }
}
