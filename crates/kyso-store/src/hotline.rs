//! Storage for the hotline (migration 21): the question log, the FAQ with its folded search
//! column, and the operator hours (settings `hotline.phone`, `hotline.hours`). Rows only: topics,
//! masking and folding are `kyso_campaign::hotline`'s; the caller arrives here masked already.
//!
//! Every write takes the audit lock and appends its audit row in the same transaction (which also
//! serialises the `MAX(id) + 1` keys, as in `campaign.rs`).

use crate::audit::AuditEvent;
use crate::limits::Limit;
use crate::{append_audit, lock, now, on_pool, Result, Store, StoreError};
use sqlx::Row;

pub const TOPIC: Limit = Limit { field: "topic", max_chars: 64 };
pub const QUESTION: Limit = Limit { field: "question", max_chars: 1000 };
pub const ANSWER: Limit = Limit { field: "answer", max_chars: 4000 };
pub const CALLER: Limit = Limit { field: "caller", max_chars: 16 };
pub const HOURS: Limit = Limit { field: "hours", max_chars: 200 };

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotlineCallRow {
    /// Assigned by [`Store::log_hotline_call`].
    pub id: i64,
    pub province_code: String,
    /// The commune the question concerns; `None` for the province as a whole.
    pub commune_code: Option<String>,
    pub topic: String,
    pub question: String,
    /// `091****678`: masked before it reaches the store, or empty.
    pub caller_masked: String,
    pub resolved: bool,
    pub operator: String,
    pub called_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaqRow {
    /// 0 for a new entry in [`Store::save_faq`].
    pub id: i64,
    pub topic: String,
    pub question: String,
    pub answer: String,
    /// `kyso_campaign::hotline::fold` of the question and the answer.
    pub folded: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// Which calls a reader sees: all, a province's, or one commune's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallScope {
    All,
    Province(String),
    Commune(String),
}

impl CallScope {
    fn binds(&self) -> (Option<&str>, Option<&str>) {
        match self {
            CallScope::All => (None, None),
            CallScope::Province(p) => (Some(p), None),
            CallScope::Commune(c) => (None, Some(c)),
        }
    }
}

const CALL_COLS: &str =
    "id, province_code, commune_code, topic, question, caller_masked, resolved, operator, called_at";
const FAQ_COLS: &str = "id, topic, question, answer, folded, updated_at, updated_by";

macro_rules! call_row {
    ($r:expr) => {
        HotlineCallRow {
            id: $r.get("id"),
            province_code: $r.get("province_code"),
            commune_code: $r.get("commune_code"),
            topic: $r.get("topic"),
            question: $r.get("question"),
            caller_masked: $r.get("caller_masked"),
            resolved: $r.get("resolved"),
            operator: $r.get("operator"),
            called_at: $r.get("called_at"),
        }
    };
}

macro_rules! faq_row {
    ($r:expr) => {
        FaqRow {
            id: $r.get("id"),
            topic: $r.get("topic"),
            question: $r.get("question"),
            answer: $r.get("answer"),
            folded: $r.get("folded"),
            updated_at: $r.get("updated_at"),
            updated_by: $r.get("updated_by"),
        }
    };
}

fn call_limits(c: &HotlineCallRow) -> Result<()> {
    crate::limits::UNIT_CODE.check(&c.province_code)?;
    c.commune_code.as_deref().map_or(Ok(()), |v| crate::limits::UNIT_CODE.check(v))?;
    TOPIC.check(&c.topic)?;
    QUESTION.check(&c.question)?;
    CALLER.check(&c.caller_masked)?;
    crate::limits::USERNAME.named("operator").check(&c.operator)
}

fn faq_limits(f: &FaqRow) -> Result<()> {
    TOPIC.check(&f.topic)?;
    QUESTION.check(&f.question)?;
    ANSWER.check(&f.answer)?;
    Limit { field: "folded", max_chars: 6000 }.check(&f.folded)?;
    crate::limits::USERNAME.named("updated_by").check(&f.updated_by)
}

impl Store {
    /// Appends a question to the hotline log with its audit row.
    pub async fn log_hotline_call(&self, call: &HotlineCallRow, audit: &AuditEvent) -> Result<HotlineCallRow> {
        call_limits(call)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM hotline_calls").fetch_one(&mut *tx).await?;
            let row = HotlineCallRow { id, ..call.clone() };
            sqlx::query(&format!("INSERT INTO hotline_calls ({CALL_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"))
                .bind(row.id).bind(&row.province_code).bind(&row.commune_code).bind(&row.topic).bind(&row.question)
                .bind(&row.caller_masked).bind(row.resolved).bind(&row.operator).bind(row.called_at)
                .execute(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Calls in `[from, to)` (Unix seconds) within `scope`, newest first, at most `limit`.
    pub async fn hotline_calls(
        &self,
        scope: &CallScope,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<HotlineCallRow>> {
        let (province, commune) = scope.binds();
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {CALL_COLS} FROM hotline_calls WHERE called_at >= $1 AND called_at < $2 \
                AND ($3 IS NULL OR province_code = $3) AND ($4 IS NULL OR commune_code = $4) ORDER BY called_at DESC, id DESC LIMIT $5"))
                .bind(from).bind(to).bind(province).bind(commune).bind(limit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| call_row!(r)).collect())
        })
    }

    /// (topic, resolved) of every call in `[from, to)` within `scope`: what the weekly report counts.
    pub async fn hotline_topics(&self, scope: &CallScope, from: i64, to: i64) -> Result<Vec<(String, bool)>> {
        let (province, commune) = scope.binds();
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT topic, resolved FROM hotline_calls WHERE called_at >= $1 AND called_at < $2 \
                AND ($3 IS NULL OR province_code = $3) AND ($4 IS NULL OR commune_code = $4)")
                .bind(from).bind(to).bind(province).bind(commune).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("topic"), r.get("resolved"))).collect())
        })
    }

    /// Adds an FAQ entry (`id` 0) or replaces one; `NotFound` for an unknown id.
    pub async fn save_faq(&self, entry: &FaqRow, audit: &AuditEvent) -> Result<FaqRow> {
        faq_limits(entry)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let mut row = FaqRow { updated_at: now(), ..entry.clone() };
            if row.id == 0 {
                row.id = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM faq_entries").fetch_one(&mut *tx).await?;
                sqlx::query(&format!("INSERT INTO faq_entries ({FAQ_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7)"))
                    .bind(row.id).bind(&row.topic).bind(&row.question).bind(&row.answer).bind(&row.folded)
                    .bind(row.updated_at).bind(&row.updated_by).execute(&mut *tx).await?;
            } else {
                let n = sqlx::query("UPDATE faq_entries SET topic = $1, question = $2, answer = $3, folded = $4, updated_at = $5, \
                    updated_by = $6 WHERE id = $7")
                    .bind(&row.topic).bind(&row.question).bind(&row.answer).bind(&row.folded).bind(row.updated_at)
                    .bind(&row.updated_by).bind(row.id).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound(format!("FAQ entry {}", row.id)));
                }
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// FAQ entries whose folded text contains every one of `words` (folded already: ASCII
    /// letters and digits only, so they are safe in a LIKE pattern), in id order; all without words.
    pub async fn search_faq(&self, words: &[String], limit: i64) -> Result<Vec<FaqRow>> {
        let mut sql = format!("SELECT {FAQ_COLS} FROM faq_entries WHERE 1 = 1");
        for i in 0..words.len() {
            sql.push_str(&format!(" AND folded LIKE ${}", i + 1));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", words.len() + 1));
        on_pool!(self, p => {
            let mut q = sqlx::query(&sql);
            for w in words {
                if !w.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(StoreError::Conflict("FAQ search words must be folded".into()));
                }
                q = q.bind(format!("%{w}%"));
            }
            let rows = q.bind(limit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| faq_row!(r)).collect())
        })
    }

    /// The hotline's number and operator hours, as staff last set them.
    pub async fn hotline_info(&self) -> Result<(Option<String>, Option<String>)> {
        Ok((self.setting("hotline.phone").await?, self.setting("hotline.hours").await?))
    }

    /// Sets the hotline's number and operator hours, with an audit row.
    pub async fn set_hotline_info(&self, phone: &str, hours: &str, audit: &AuditEvent) -> Result<()> {
        crate::limits::PHONE.check(phone)?;
        HOURS.check(hours)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            for (name, value) in [("hotline.phone", phone), ("hotline.hours", hours)] {
                sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .bind(name).bind(value).execute(&mut *tx).await?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }
}
