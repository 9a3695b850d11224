//! Argument groups several commands share (`cert issue`, `citizen add`, `credential activate`).
//! A leaf: it imports nothing else from this crate.

use clap::Args;

/// A person from the population register.
#[derive(Args)]
pub struct PersonArgs {
    /// 12-digit citizen ID number.
    #[arg(long)]
    pub id: String,
    /// Full name with diacritics, e.g. "Nguyễn Văn An".
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub province: String,
    #[arg(long)]
    pub commune: Option<String>,
}

/// Who issues a new certificate, and its key's algorithm.
#[derive(Args)]
pub struct NewKeyArgs {
    /// Provider id from kyso.toml (e.g. vnpt, viettel).
    #[arg(long)]
    pub provider: String,
    /// ec-p256 (default), rsa-2048 or rsa-3072.
    #[arg(long)]
    pub key_alg: Option<String>,
}

/// The request to issue `person` a certificate with a new key (`--key-alg` checked here).
pub fn issue_request(
    person: PersonArgs,
    key: NewKeyArgs,
    validity_days: Option<u64>,
    actor: &str,
) -> anyhow::Result<kyso_authority::IssueRequest> {
    let key_algorithm =
        key.key_alg.as_deref().map(str::parse).transpose().map_err(|e| anyhow::anyhow!("--key-alg: {e}"))?;
    Ok(kyso_authority::IssueRequest {
        id_number: person.id,
        full_name: person.name,
        province: person.province,
        commune: person.commune,
        provider: key.provider,
        key_algorithm,
        validity_days,
        actor: actor.into(),
    })
}
