//! One-use form tokens: made here, stored as a SHA-256 ([`kyso_store::forms`]), consumed by the
//! commit that does the form's work. Tokens are 128 random bits, hex; they never reach a log.

use crate::{Authority, AuthorityError, Result};
use aws_lc_rs::rand::SecureRandom;
use kyso_store::forms::FormTokenRow;

/// A citizen's activation form (owner: the ID number; subject: the provider).
pub const ACTIVATE: &str = "activate";
/// The person a desk officer checked (owner: the officer; subject: the ID number).
pub const DESK_PERSON: &str = "desk-person";

pub fn token_hash(token: &str) -> Vec<u8> {
    kyso_pki::alg::sha256(format!("kyso-form\0{token}").as_bytes()).to_vec()
}

impl Authority {
    /// A new token for a form of `purpose`, owned by `owner`, carrying `subject`, valid `ttl` seconds.
    pub async fn new_form_token(&self, purpose: &str, owner: &str, subject: &str, ttl: i64) -> Result<String> {
        let mut b = [0u8; 16];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| AuthorityError::Refused("system RNG failed".into()))?;
        let token = hex::encode(b);
        let now = kyso_store::now();
        let row = FormTokenRow {
            token_hash: token_hash(&token),
            purpose: purpose.into(),
            owner: owner.into(),
            subject: subject.into(),
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
        };
        self.store.put_form_token(&row).await?;
        Ok(token)
    }

    /// What an unexpired token of this purpose and owner carries (used or not), if any.
    pub async fn form_subject(&self, purpose: &str, owner: &str, token: &str) -> Result<Option<String>> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row = self.store.form_token(&token_hash(token), purpose, owner, kyso_store::now()).await?;
        Ok(row.map(|r| r.subject))
    }
}
