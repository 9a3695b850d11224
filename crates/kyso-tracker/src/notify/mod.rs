//! Notifications: the triggers that enqueue messages into the store's outbox (an invitation to a
//! support session for a hamlet's worklist, renewal reminders, report and overdue-task reminders)
//! and the delivery pass that sends what is due ([`send_due`]: claimed atomically, rate-limited
//! per channel, never in quiet hours, retried with backoff). The rules are
//! `kyso_campaign::notify`; the rows `kyso_store::notify`; the wire in [`deliver`].
//!
//! The server runs [`send_due`] and [`run_reminders`] on its timer; `kyso notify send-due` and
//! `kyso notify remind` do the same once, for cron.

pub mod deliver;
mod triggers;

pub use deliver::{Delivery, Failure, Gateway, Smtp};
pub use triggers::{invite_hamlet, outbox_view, run_reminders, Invitation, InviteReport, OutboxView, ReminderReport};

use crate::read::Fallible;
use kyso_authority::NotifyConfig;
use kyso_campaign::notify::{is_quiet, not_before, retry_at};
use kyso_store::notify::RateLimit;
use kyso_store::Store;

/// How many messages one pass claims at most (each is one SMTP or HTTP exchange).
pub const BATCH: usize = 20;

/// The delivery settings and limits `[notify]` gives (the gateway token read from its variable).
pub fn from_config(cfg: &NotifyConfig) -> Fallible<(Delivery, Vec<RateLimit>)> {
    let smtp = match (&cfg.smtp_host, &cfg.smtp_from) {
        (Some(host), Some(from)) => {
            from.parse::<lettre::message::Mailbox>().map_err(|e| format!("[notify] smtp_from «{from}»: {e}"))?;
            Some(Smtp { host: host.clone(), port: cfg.smtp_port, from: from.clone() })
        }
        (Some(_), None) => return Err("[notify] smtp_host needs smtp_from (the sender's address)".into()),
        _ => None,
    };
    let gateway = match &cfg.gateway_url {
        Some(url) if !url.starts_with("http://") => {
            return Err(format!("[notify] gateway_url «{url}»: an http:// URL (a gateway on the local network)"))
        }
        Some(url) => {
            let token = match &cfg.gateway_token_env {
                Some(var) => {
                    std::env::var(var).map_err(|_| format!("[notify] gateway_token_env: ${var} is not set"))?
                }
                None => String::new(),
            };
            Some(Gateway { url: url.clone(), token })
        }
        None => None,
    };
    let delivery = Delivery { smtp, gateway };
    let mut limits = Vec::new();
    for (channel, per_minute) in
        [("email", cfg.email_per_minute), ("sms", cfg.sms_per_minute), ("zalo", cfg.zalo_per_minute)]
    {
        if per_minute < 1 {
            return Err(format!("[notify] {channel}_per_minute: at least 1"));
        }
        if delivery.serves(channel) {
            limits.push(RateLimit { channel: channel.into(), per_minute });
        }
    }
    Ok((delivery, limits))
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: u64,
    /// Failed this time, queued again for later.
    pub retried: u64,
    /// Failed for good (attempts spent, or an address the relay refuses).
    pub failed: u64,
    /// Queued for someone who has opted out since: suppressed, never sent.
    pub suppressed: u64,
    /// Their time passed before they could go (a session that has begun): failed as expired.
    pub expired: u64,
    /// The pass found quiet hours (21:00–07:00 Vietnam time) and sent nothing.
    pub quiet: bool,
}

/// Sends up to `max` due messages at `now`: opt-outs checked again (suppressed), messages whose
/// time has passed failed as expired, nothing in quiet hours, each message claimed in the store (so two workers never send it twice) within its
/// channel's per-minute limit, sent off the async workers, and recorded sent, retried (backoff,
/// out of quiet hours) or failed. Channels without a limit in `limits` are not claimed.
pub async fn send_due(
    store: &Store,
    delivery: &Delivery,
    limits: &[RateLimit],
    now: i64,
    max: usize,
) -> Fallible<SendReport> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let mut report =
        SendReport { suppressed: store.suppress_opted_out("notify").await.map_err(err)?, ..Default::default() };
    if is_quiet(now) {
        report.quiet = true;
        return Ok(report);
    }
    // the lease covers the whole batch, each exchange bounded by deliver::TIMEOUT
    let lease = deliver::TIMEOUT.as_secs() as i64 * (max as i64 + 1);
    let claimed = store.claim_due(now, lease, limits, max).await.map_err(err)?;
    for m in claimed {
        let (d, msg) = (delivery.clone(), m.clone());
        let outcome = tokio::task::spawn_blocking(move || d.send(&msg)).await.map_err(|e| e.to_string())?;
        let at = now;
        match outcome {
            Ok(()) => {
                store.mark_sent(&m, at).await.map_err(err)?;
                report.sent += 1;
            }
            Err(Failure::NotConfigured) => {
                store.release_claim(&m, not_before(at + 60)).await.map_err(err)?;
            }
            Err(Failure::Temporary(e)) => match retry_at(at, m.attempts) {
                Some(t) => {
                    tracing::warn!(message = m.id, channel = %m.channel, to = %m.recipient_masked, error = %e, "notification not delivered; will retry");
                    store.mark_failed(&m, &e, Some(t)).await.map_err(err)?;
                    report.retried += 1;
                }
                None => {
                    tracing::warn!(message = m.id, channel = %m.channel, to = %m.recipient_masked, error = %e, "notification failed for good");
                    store.mark_failed(&m, &e, None).await.map_err(err)?;
                    report.failed += 1;
                }
            },
            Err(Failure::Permanent(e)) => {
                tracing::warn!(message = m.id, channel = %m.channel, to = %m.recipient_masked, error = %e, "notification refused");
                store.mark_failed(&m, &e, None).await.map_err(err)?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}
