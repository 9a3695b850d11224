//! The notification outbox (migration 19): messages enqueued once per idempotency key, claimed for
//! delivery atomically under a lease and a per-channel rate limit, finished as sent, retried,
//! failed or suppressed; each step with an audit row naming the recipient masked. Opt-outs are
//! checked when a message is enqueued and again when it is claimed. Contacts: residents' extra
//! addresses and units' reminder addresses. The rules (quiet hours, backoff, templates) live in
//! `kyso_campaign::notify`; this module only keeps the rows and makes each step one atomic write.

use crate::audit::AuditEvent;
use crate::limits::{Limit, UNIT_CODE, WORD};
use crate::{append_audit, lock, on_pool, Result, Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;

const IDEM_KEY: Limit = Limit { field: "idempotency key", max_chars: 200 };
const ADDRESS: Limit = Limit { field: "address", max_chars: 254 };
const SUBJECT: Limit = Limit { field: "subject", max_chars: 200 };
const BODY: Limit = Limit { field: "body", max_chars: 2000 };
const AGENCY: Limit = Limit { field: "agency", max_chars: 128 };
const ERROR: usize = 300;

/// A message to enqueue. `recipient` is the address to deliver to (normalised by the caller);
/// `person_id` the ID number of a resident recipient (for the opt-out), `None` for a unit.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub idem_key: String,
    pub channel: String,
    pub recipient: String,
    pub recipient_masked: String,
    pub person_id: Option<String>,
    pub unit_code: String,
    pub template: String,
    pub subject: String,
    pub body: String,
    /// Not delivered before this instant (quiet hours already applied by the caller).
    pub not_before: i64,
    /// Not delivered from this instant on (the session has begun): then it fails as expired.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for NewMessage {
    // the recipient and the person masked, always
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage")
            .field("channel", &self.channel)
            .field("recipient", &self.recipient_masked)
            .field("unit_code", &self.unit_code)
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

/// What an enqueue did with its messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Enqueued {
    pub queued: u64,
    /// Their idempotency key was enqueued before: nothing new.
    pub duplicates: u64,
    /// The resident opted out: kept as `suppressed` (so the trigger does not retry), never sent.
    pub opted_out: u64,
}

/// A message claimed for delivery: the worker holding `token` may send it until the lease ends.
#[derive(Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub token: String,
    pub channel: String,
    pub recipient: String,
    pub recipient_masked: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("recipient", &self.recipient_masked)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// One outbox row as pages and the CLI show it: the recipient masked only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    pub recipient_masked: String,
    pub unit_code: String,
    pub template: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A channel's rate limit: at most `per_minute` messages claimed in a calendar minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub channel: String,
    pub per_minute: i64,
}

/// Counts one claim against a channel's minute, unless the minute is full (then no row comes
/// back). The right-hand sides read the row as it was; the database orders racing claims.
const RATE: &str = "INSERT INTO notify_rate (channel, window_start, claimed) VALUES ($1, $2, 1) \
    ON CONFLICT (channel) DO UPDATE SET \
      claimed = CASE WHEN notify_rate.window_start < $2 THEN 1 ELSE notify_rate.claimed + 1 END, \
      window_start = $2 \
    WHERE notify_rate.window_start < $2 OR notify_rate.claimed < $3 \
    RETURNING claimed";

/// Claims one message if it is still due and nobody holds it (or the holder's lease ended), and
/// its resident has not opted out. One statement: two workers never both get the row.
const CLAIM: &str = "UPDATE notify_outbox SET status = 'sending', claimed_until = $1, claim_token = $2, \
      attempts = attempts + 1 \
    WHERE id = $3 AND next_attempt_at <= $4 \
      AND (status = 'queued' OR (status = 'sending' AND claimed_until <= $4)) \
      AND (expires_at IS NULL OR expires_at > $4) \
      AND NOT EXISTS (SELECT 1 FROM notify_optouts o WHERE o.id_number = notify_outbox.person_id) \
    RETURNING id, channel, recipient, recipient_masked, subject, body, attempts";

const ROW_COLS: &str = "id, channel, recipient_masked, unit_code, template, subject, status, attempts, \
    next_attempt_at, last_error, created_at, sent_at";

fn check(m: &NewMessage) -> Result<()> {
    IDEM_KEY.check(&m.idem_key)?;
    WORD.named("channel").check(&m.channel)?;
    ADDRESS.check(&m.recipient)?;
    ADDRESS.check(&m.recipient_masked)?;
    UNIT_CODE.check(&m.unit_code)?;
    WORD.named("template").check(&m.template)?;
    SUBJECT.check(&m.subject)?;
    BODY.check(&m.body)?;
    if let Some(id) = &m.person_id {
        crate::limits::ID_NUMBER.check(id)?;
    }
    Ok(())
}

fn token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut b = [0u8; 16];
    // aws-lc's RNG; a counter and the clock keep tokens distinct even if it failed
    let _ = aws_lc_rs::rand::fill(&mut b);
    format!("{}-{}-{}", hex::encode(b), crate::now(), N.fetch_add(1, Ordering::Relaxed))
}

fn short(e: &str) -> String {
    e.chars().take(ERROR).collect()
}

impl Store {
    /// Enqueues messages in one transaction, one audit row (`notify.enqueue`, the recipient
    /// masked) per message queued or suppressed. A message whose idempotency key is known is
    /// skipped (the same trigger fired twice, or concurrently, enqueues one message).
    pub async fn enqueue_messages(&self, msgs: &[NewMessage], actor: &str, now: i64) -> Result<Enqueued> {
        for m in msgs {
            check(m)?;
        }
        crate::limits::USERNAME.named("actor").check(actor)?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let mut out = Enqueued::default();
            let mut next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM notify_outbox").fetch_one(&mut *tx).await?;
            for m in msgs {
                let opted_out = match &m.person_id {
                    Some(id) => sqlx::query("SELECT 1 FROM notify_optouts WHERE id_number = $1").bind(id).fetch_optional(&mut *tx).await?.is_some(),
                    None => false,
                };
                let status = if opted_out { "suppressed" } else { "queued" };
                let n = sqlx::query("INSERT INTO notify_outbox (id, idem_key, channel, recipient, recipient_masked, person_id, unit_code, \
                        template, subject, body, status, attempts, next_attempt_at, expires_at, created_by, created_at) \
                        VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,0,$12,$13,$14,$15) ON CONFLICT (idem_key) DO NOTHING")
                    .bind(next).bind(&m.idem_key).bind(&m.channel).bind(&m.recipient).bind(&m.recipient_masked).bind(&m.person_id)
                    .bind(&m.unit_code).bind(&m.template).bind(&m.subject).bind(&m.body).bind(status).bind(m.not_before)
                    .bind(m.expires_at).bind(actor).bind(now)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    out.duplicates += 1;
                    continue;
                }
                let detail = format!("{} {} to {}{}", m.template, m.channel, m.recipient_masked,
                    if opted_out { ", suppressed: opted out" } else { "" });
                append_audit!(self, tx, &AuditEvent::new(actor, "notify.enqueue", &format!("outbox:{next}"), detail));
                if opted_out { out.opted_out += 1 } else { out.queued += 1 }
                next += 1;
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Suppresses the queued messages of residents who have opted out since they were enqueued,
    /// one audit row each. Returns how many.
    pub async fn suppress_opted_out(&self, actor: &str) -> Result<u64> {
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let any = sqlx::query("SELECT 1 FROM notify_outbox m JOIN notify_optouts o ON o.id_number = m.person_id \
                    WHERE m.status = 'queued' LIMIT 1").fetch_optional(p).await?;
            if any.is_none() {
                return Ok(0);
            }
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let rows = sqlx::query("UPDATE notify_outbox SET status = 'suppressed', claim_token = NULL, claimed_until = NULL \
                    WHERE status = 'queued' AND person_id IN (SELECT id_number FROM notify_optouts) \
                    RETURNING id, channel, recipient_masked").fetch_all(&mut *tx).await?;
            for r in &rows {
                let (id, channel, masked): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
                append_audit!(self, tx, &AuditEvent::new(actor, "notify.suppressed", &format!("outbox:{id}"),
                    format!("{channel} to {masked}: opted out")));
            }
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// Fails the queued messages whose time has passed before they could be delivered (an
    /// invitation to a session that has begun), one audit row each. Returns how many.
    pub async fn expire_stale(&self, now: i64, actor: &str) -> Result<u64> {
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let any = sqlx::query("SELECT 1 FROM notify_outbox WHERE status = 'queued' AND expires_at <= $1 LIMIT 1")
                .bind(now).fetch_optional(p).await?;
            if any.is_none() {
                return Ok(0);
            }
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let rows = sqlx::query("UPDATE notify_outbox SET status = 'failed', last_error = 'expired before delivery', \
                    claim_token = NULL, claimed_until = NULL WHERE status = 'queued' AND expires_at <= $1 \
                    RETURNING id, channel, recipient_masked").bind(now).fetch_all(&mut *tx).await?;
            for r in &rows {
                let (id, channel, masked): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
                append_audit!(self, tx, &AuditEvent::new(actor, "notify.expired", &format!("outbox:{id}"),
                    format!("{channel} to {masked}: expired before delivery")));
            }
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }

    /// Claims up to `max` due messages of the channels in `limits` for delivery until
    /// `now + lease` (seconds), oldest due first, each counted against its channel's limit for
    /// the current minute; a channel whose minute is full is skipped (its messages stay queued),
    /// and so is a channel not in `limits` (nothing delivers it). Every claim is one conditional
    /// update and its rate count, in one transaction: racing workers never share a message and
    /// never exceed a limit together.
    pub async fn claim_due(&self, now: i64, lease: i64, limits: &[RateLimit], max: usize) -> Result<Vec<Claimed>> {
        let minute = now - now.rem_euclid(60);
        let limit_of: HashMap<&str, i64> = limits.iter().map(|l| (l.channel.as_str(), l.per_minute)).collect();
        if limit_of.is_empty() || max == 0 {
            return Ok(Vec::new());
        }
        let channels: Vec<&str> = limit_of.keys().copied().collect();
        on_pool!(self, p => {
            let list = (0..channels.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT id, channel FROM notify_outbox \
                WHERE next_attempt_at <= $1 AND (status = 'queued' OR (status = 'sending' AND claimed_until <= $1)) \
                AND (expires_at IS NULL OR expires_at > $1) AND channel IN ({list}) ORDER BY next_attempt_at, id LIMIT $2");
            let mut q = sqlx::query(&sql).bind(now).bind((max as i64).saturating_mul(4).max(16));
            for c in &channels {
                q = q.bind(*c);
            }
            let candidates = q.fetch_all(p).await?;
            let mut full: Vec<String> = Vec::new();
            let mut out = Vec::new();
            for c in candidates {
                if out.len() >= max {
                    break;
                }
                let (id, channel): (i64, String) = (c.get(0), c.get(1));
                if full.contains(&channel) {
                    continue;
                }
                let tok = token();
                let mut tx = p.begin().await?;
                let Some(r) = sqlx::query(CLAIM).bind(now + lease).bind(&tok).bind(id).bind(now)
                    .fetch_optional(&mut *tx).await? else {
                    tx.rollback().await?;
                    continue;
                };
                if let Some(&per_minute) = limit_of.get(channel.as_str()) {
                    let counted = sqlx::query(RATE).bind(&channel).bind(minute).bind(per_minute).fetch_optional(&mut *tx).await?;
                    if counted.is_none() {
                        tx.rollback().await?;
                        full.push(channel);
                        continue;
                    }
                }
                tx.commit().await?;
                out.push(Claimed {
                    id: r.get("id"),
                    token: tok,
                    channel: r.get("channel"),
                    recipient: r.get("recipient"),
                    recipient_masked: r.get("recipient_masked"),
                    subject: r.get("subject"),
                    body: r.get("body"),
                    attempts: r.get("attempts"),
                });
            }
            Ok(out)
        })
    }

    /// Records a delivered message (only by the worker still holding its claim), with its audit
    /// row. `false` when the claim was lost (the lease ended and another worker took it).
    pub async fn mark_sent(&self, c: &Claimed, now: i64) -> Result<bool> {
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let n = sqlx::query("UPDATE notify_outbox SET status = 'sent', sent_at = $1, claim_token = NULL, claimed_until = NULL, \
                    last_error = NULL WHERE id = $2 AND claim_token = $3 AND status = 'sending'")
                .bind(now).bind(c.id).bind(&c.token).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                append_audit!(self, tx, &AuditEvent::new("notify", "notify.sent", &format!("outbox:{}", c.id),
                    format!("{} to {}, attempt {}", c.channel, c.recipient_masked, c.attempts)));
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Records a failed attempt: queued again for `retry_at`, or `failed` for good when `None`;
    /// audited with the error (which must name no recipient in clear).
    pub async fn mark_failed(&self, c: &Claimed, error: &str, retry_at: Option<i64>) -> Result<bool> {
        let is_sqlite = self.is_sqlite();
        let error = short(error);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let (status, next) = match retry_at { Some(t) => ("queued", t), None => ("failed", 0) };
            let n = sqlx::query("UPDATE notify_outbox SET status = $1, next_attempt_at = CASE WHEN $1 = 'queued' THEN $2 ELSE next_attempt_at END, \
                    last_error = $3, claim_token = NULL, claimed_until = NULL WHERE id = $4 AND claim_token = $5 AND status = 'sending'")
                .bind(status).bind(next).bind(&error).bind(c.id).bind(&c.token).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                let what = if retry_at.is_some() { "notify.retry" } else { "notify.failed" };
                append_audit!(self, tx, &AuditEvent::new("notify", what, &format!("outbox:{}", c.id),
                    format!("{} to {}, attempt {}: {error}", c.channel, c.recipient_masked, c.attempts)));
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Gives a claim back untried (quiet hours began, the worker is stopping): queued again, the
    /// attempt not counted.
    pub async fn release_claim(&self, c: &Claimed, not_before: i64) -> Result<bool> {
        on_pool!(self, p => {
            let n = sqlx::query("UPDATE notify_outbox SET status = 'queued', attempts = attempts - 1, next_attempt_at = $1, \
                    claim_token = NULL, claimed_until = NULL WHERE id = $2 AND claim_token = $3 AND status = 'sending'")
                .bind(not_before).bind(c.id).bind(&c.token).execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }

    /// The outbox of a unit (or every unit), newest first, at most `limit` rows; recipients masked.
    pub async fn outbox(&self, unit: Option<&str>, limit: i64) -> Result<Vec<OutboxRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {ROW_COLS} FROM notify_outbox WHERE ($1 IS NULL OR unit_code = $1) \
                    ORDER BY id DESC LIMIT $2"))
                .bind(unit).bind(limit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| OutboxRow {
                id: r.get("id"),
                channel: r.get("channel"),
                recipient_masked: r.get("recipient_masked"),
                unit_code: r.get("unit_code"),
                template: r.get("template"),
                subject: r.get("subject"),
                status: r.get("status"),
                attempts: r.get("attempts"),
                next_attempt_at: r.get("next_attempt_at"),
                last_error: r.get("last_error"),
                created_at: r.get("created_at"),
                sent_at: r.get("sent_at"),
            }).collect())
        })
    }

    /// Messages per status, of a unit or of all.
    pub async fn outbox_counts(&self, unit: Option<&str>) -> Result<Vec<(String, i64)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT status, COUNT(*) FROM notify_outbox WHERE ($1 IS NULL OR unit_code = $1) \
                    GROUP BY status ORDER BY status").bind(unit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    /// A resident opts out of every notification (`true`) or back in, audited (the ID masked).
    pub async fn set_opt_out(&self, id_number: &str, opted_out: bool, actor: &str, now: i64) -> Result<()> {
        crate::limits::ID_NUMBER.check(id_number)?;
        let is_sqlite = self.is_sqlite();
        let masked =
            if id_number.len() == 12 { format!("{}****{}", &id_number[..4], &id_number[8..]) } else { "?".into() };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            if opted_out {
                sqlx::query("INSERT INTO notify_optouts (id_number, at) VALUES ($1, $2) ON CONFLICT (id_number) DO NOTHING")
                    .bind(id_number).bind(now).execute(&mut *tx).await?;
            } else {
                sqlx::query("DELETE FROM notify_optouts WHERE id_number = $1").bind(id_number).execute(&mut *tx).await?;
            }
            let action = if opted_out { "notify.opt_out" } else { "notify.opt_in" };
            append_audit!(self, tx, &AuditEvent::new(actor, action, &masked, String::new()));
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn opted_out(&self, id_number: &str) -> Result<bool> {
        on_pool!(self, p => {
            Ok(sqlx::query("SELECT 1 FROM notify_optouts WHERE id_number = $1").bind(id_number).fetch_optional(p).await?.is_some())
        })
    }

    /// Sets (or with `None` removes) a resident's address on a channel beyond the registration's
    /// mobile number, audited with the address masked.
    pub async fn set_person_contact(
        &self,
        id_number: &str,
        channel: &str,
        address: Option<(&str, &str)>,
        actor: &str,
    ) -> Result<()> {
        crate::limits::ID_NUMBER.check(id_number)?;
        WORD.named("channel").check(channel)?;
        let is_sqlite = self.is_sqlite();
        let masked_id =
            if id_number.len() == 12 { format!("{}****{}", &id_number[..4], &id_number[8..]) } else { "?".into() };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let detail = match address {
                Some((addr, masked)) => {
                    ADDRESS.check(addr)?;
                    sqlx::query("INSERT INTO notify_person_contacts (id_number, channel, address, updated_at) VALUES ($1,$2,$3,$4) \
                            ON CONFLICT (id_number, channel) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at")
                        .bind(id_number).bind(channel).bind(addr).bind(crate::now()).execute(&mut *tx).await?;
                    format!("{channel} {masked}")
                }
                None => {
                    sqlx::query("DELETE FROM notify_person_contacts WHERE id_number = $1 AND channel = $2")
                        .bind(id_number).bind(channel).execute(&mut *tx).await?;
                    format!("{channel} removed")
                }
            };
            append_audit!(self, tx, &AuditEvent::new(actor, "notify.contact", &masked_id, detail));
            tx.commit().await?;
            Ok(())
        })
    }

    /// The addresses of these residents: per ID number, (channel, address) — the mobile number
    /// given at registration (for `sms` and `zalo`), then any recorded contact, which wins.
    pub async fn person_addresses(&self, ids: &[String]) -> Result<HashMap<String, Vec<(String, String)>>> {
        let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            for chunk in ids.chunks(500) {
                let list = crate::values_list(is_sqlite, 1, chunk.len());
                let sql = format!("SELECT id_number, phone FROM eid_accounts WHERE id_number IN {list}");
                let mut q = sqlx::query(&sql);
                for id in chunk { q = q.bind(id); }
                for r in q.fetch_all(p).await? {
                    let (id, phone): (String, String) = (r.get(0), r.get(1));
                    let e = out.entry(id).or_default();
                    e.push(("sms".into(), phone.clone()));
                    e.push(("zalo".into(), phone));
                }
                let sql = format!("SELECT id_number, channel, address FROM notify_person_contacts WHERE id_number IN {list}");
                let mut q = sqlx::query(&sql);
                for id in chunk { q = q.bind(id); }
                for r in q.fetch_all(p).await? {
                    let (id, channel, address): (String, String, String) = (r.get(0), r.get(1), r.get(2));
                    let e = out.entry(id).or_default();
                    e.retain(|(c, _)| *c != channel);
                    e.push((channel, address));
                }
            }
            Ok(out)
        })
    }

    /// Sets (or with `None` removes) where a unit's (or one of its agencies') reminders go.
    pub async fn set_unit_contact(
        &self,
        unit: &str,
        agency: &str,
        channel: &str,
        address: Option<(&str, &str)>,
        actor: &str,
    ) -> Result<()> {
        UNIT_CODE.check(unit)?;
        AGENCY.check(agency)?;
        WORD.named("channel").check(channel)?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let detail = match address {
                Some((addr, masked)) => {
                    ADDRESS.check(addr)?;
                    sqlx::query("INSERT INTO notify_unit_contacts (unit_code, agency, channel, address, updated_at) VALUES ($1,$2,$3,$4,$5) \
                            ON CONFLICT (unit_code, agency, channel) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at")
                        .bind(unit).bind(agency).bind(channel).bind(addr).bind(crate::now()).execute(&mut *tx).await?;
                    format!("{agency} {channel} {masked}")
                }
                None => {
                    sqlx::query("DELETE FROM notify_unit_contacts WHERE unit_code = $1 AND agency = $2 AND channel = $3")
                        .bind(unit).bind(agency).bind(channel).execute(&mut *tx).await?;
                    format!("{agency} {channel} removed")
                }
            };
            append_audit!(self, tx, &AuditEvent::new(actor, "notify.unit_contact", unit, detail));
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every unit contact: (unit, agency, channel, address).
    pub async fn unit_contacts(&self) -> Result<Vec<(String, String, String, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT unit_code, agency, channel, address FROM notify_unit_contacts ORDER BY unit_code, agency, channel")
                .fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect())
        })
    }

    /// The test hook for a claim's lease: a message's status and claim holder.
    pub async fn outbox_state(&self, id: i64) -> Result<(String, i64, Option<String>)> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT status, attempts, claim_token FROM notify_outbox WHERE id = $1").bind(id)
                .fetch_optional(p).await?.ok_or_else(|| StoreError::NotFound(format!("outbox message {id}")))?;
            Ok((r.get(0), r.get(1), r.get(2)))
        })
    }
}
