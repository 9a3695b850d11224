//! One-use form tokens (migration 16): a random token goes into a form, its SHA-256 into
//! `form_tokens` with what it is for (`purpose`), whose it is (`owner`) and what it carries
//! (`subject`). [`Write::ConsumeFormToken`](crate::Write::ConsumeFormToken) uses it up inside the
//! transaction that does the form's work, so two submissions of one form cannot both succeed.
//! The desk also reads tokens without using them up ([`Store::form_token`]) to carry the person it
//! checked from one page to the next.

use crate::{on_pool, Result, Store};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormTokenRow {
    pub token_hash: Vec<u8>,
    pub purpose: String,
    pub owner: String,
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Store {
    /// Store a new token (and drop tokens that expired a day ago or more).
    pub async fn put_form_token(&self, t: &FormTokenRow) -> Result<()> {
        crate::limits::all(&[
            (crate::limits::WORD, &t.purpose),
            (crate::limits::USERNAME, &t.owner),
            (crate::limits::PROVIDER, &t.subject),
        ])?;
        on_pool!(self, p => {
            sqlx::query("DELETE FROM form_tokens WHERE expires_at < $1").bind(t.created_at - 86_400).execute(p).await?;
            sqlx::query("INSERT INTO form_tokens (token_hash, purpose, owner, subject, created_at, expires_at, used_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
                .bind(&t.token_hash).bind(&t.purpose).bind(&t.owner).bind(&t.subject).bind(t.created_at).bind(t.expires_at).bind(t.used_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// The token of this purpose and owner, if it has not expired at `at` (used or not).
    pub async fn form_token(
        &self,
        token_hash: &[u8],
        purpose: &str,
        owner: &str,
        at: i64,
    ) -> Result<Option<FormTokenRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT token_hash, purpose, owner, subject, created_at, expires_at, used_at FROM form_tokens \
                                 WHERE token_hash = $1 AND purpose = $2 AND owner = $3 AND expires_at > $4")
                .bind(token_hash).bind(purpose).bind(owner).bind(at).fetch_optional(p).await?;
            Ok(r.map(|r| FormTokenRow {
                token_hash: r.get("token_hash"),
                purpose: r.get("purpose"),
                owner: r.get("owner"),
                subject: r.get("subject"),
                created_at: r.get("created_at"),
                expires_at: r.get("expires_at"),
                used_at: r.get("used_at"),
            }))
        })
    }
}
