//! `kyso.toml`: the trust hierarchy and its URLs. `kyso init` writes the demo one if none exists.

use kyso_custody::KeyAlgorithm;
use serde::{Deserialize, Serialize};

/// The demo's OID arc: IANA's private enterprise number reserved for documentation (RFC 5612).
/// Real providers configure their own policy OIDs.
pub const DEMO_ARC: &str = "1.3.6.1.4.1.32473.1";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Public base URL written into certificates (CRL DP, OCSP, caIssuers).
    pub base_url: String,
    #[serde(default = "default_crl_hours")]
    pub crl_validity_hours: u64,
    /// Lifetime of a signature activation (SAD), at most 300 s.
    #[serde(default = "default_sad_ttl")]
    pub sad_ttl_seconds: u64,
    pub root: RootConfig,
    pub tsa: TsaConfig,
    /// A PKCS#11 token (HSM) for providers whose citizen keys live there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<Pkcs11Config>,
    #[serde(rename = "providers")]
    pub providers: Vec<ProviderConfig>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so
    pub module: String,
    /// Token label.
    pub token: String,
    /// Environment variable holding the token's user PIN (never written to this file).
    #[serde(default = "default_pkcs11_pin_env")]
    pub user_pin_env: String,
}

fn default_pkcs11_pin_env() -> String {
    "KYSO_PKCS11_PIN".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootConfig {
    pub name: String,
    pub organization: String,
    #[serde(default = "default_alg")]
    pub key_algorithm: KeyAlgorithm,
    #[serde(default = "default_root_years")]
    pub validity_years: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaConfig {
    pub name: String,
    pub policy_oid: String,
    #[serde(default = "default_alg")]
    pub key_algorithm: KeyAlgorithm,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Short slug used in URLs and the CLI: `vnpt`, `viettel`.
    pub id: String,
    pub name: String,
    pub organization: String,
    #[serde(default = "default_alg")]
    pub key_algorithm: KeyAlgorithm,
    /// Key type for citizen keys unless the request says otherwise.
    #[serde(default = "default_alg")]
    pub citizen_key_algorithm: KeyAlgorithm,
    pub policy_oid: String,
    #[serde(default = "default_citizen_days")]
    pub citizen_validity_days: u64,
    /// Ask for a TOTP code (second factor) on every authorization.
    #[serde(default)]
    pub require_totp: bool,
    /// Where citizens' signing keys live: "vault" (PIN-wrapped, default) or "pkcs11" (the [pkcs11] token).
    #[serde(default = "default_custody")]
    pub citizen_key_custody: String,
}

fn default_custody() -> String {
    "vault".into()
}

fn default_alg() -> KeyAlgorithm {
    KeyAlgorithm::EcP256
}
fn default_sad_ttl() -> u64 {
    300
}
fn default_crl_hours() -> u64 {
    24
}
fn default_root_years() -> u64 {
    20
}
fn default_citizen_days() -> u64 {
    365
}

impl Config {
    pub fn demo(base_url: &str) -> Config {
        let provider = |id: &str, name: &str, org: &str, n: u32| ProviderConfig {
            id: id.into(),
            name: name.into(),
            organization: org.into(),
            key_algorithm: KeyAlgorithm::EcP256,
            citizen_key_algorithm: KeyAlgorithm::EcP256,
            policy_oid: format!("{DEMO_ARC}.2.{n}"),
            citizen_validity_days: 365,
            require_totp: false,
            citizen_key_custody: "vault".into(),
        };
        Config {
            base_url: base_url.trim_end_matches('/').into(),
            crl_validity_hours: 24,
            sad_ttl_seconds: 300,
            pkcs11: None,
            root: RootConfig {
                name: "Kyso National Root CA (demo)".into(),
                organization: "Kyso demo trust list".into(),
                key_algorithm: KeyAlgorithm::EcP256,
                validity_years: 20,
            },
            tsa: TsaConfig {
                name: "Kyso Time-Stamping Authority (demo)".into(),
                policy_oid: format!("{DEMO_ARC}.3.1"),
                key_algorithm: KeyAlgorithm::EcP256,
            },
            providers: vec![
                provider("vnpt", "VNPT-CA (demo)", "VNPT (demo)", 1),
                provider("viettel", "Viettel-CA (demo)", "Viettel (demo)", 2),
            ],
        }
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err("base_url must start with http:// or https://".into());
        }
        if self.providers.is_empty() {
            return Err("at least one [[providers]] entry is needed".into());
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            if p.id.is_empty() || !p.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err(format!("provider id `{}`: use lowercase letters, digits and '-'", p.id));
            }
            if matches!(p.id.as_str(), "root" | "tsa") || !seen.insert(p.id.clone()) {
                return Err(format!("provider id `{}` is reserved or used twice", p.id));
            }
            if p.citizen_validity_days == 0 || p.citizen_validity_days > 3 * 365 {
                return Err(format!(
                    "provider `{}`: citizen_validity_days must be 1..=1095 (Decree 23/2025: at most 3 years)",
                    p.id
                ));
            }
            match p.citizen_key_custody.as_str() {
                "vault" => {}
                "pkcs11" if self.pkcs11.is_some() => {}
                "pkcs11" => {
                    return Err(format!(
                        "provider `{}`: citizen_key_custody = \"pkcs11\" needs a [pkcs11] section",
                        p.id
                    ))
                }
                other => {
                    return Err(format!("provider `{}`: citizen_key_custody `{other}`: use vault or pkcs11", p.id))
                }
            }
            kyso_pki::cert::parse_oid(&p.policy_oid)
                .ok_or_else(|| format!("provider `{}`: policy_oid `{}` is not a valid OID", p.id, p.policy_oid))?;
        }
        kyso_pki::cert::parse_oid(&self.tsa.policy_oid)
            .ok_or_else(|| format!("tsa.policy_oid `{}` is not a valid OID", self.tsa.policy_oid))?;
        Ok(())
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn crl_url(&self, ca_id: &str) -> String {
        format!("{}/crl/{ca_id}.crl", self.base_url)
    }
    pub fn ocsp_url(&self, ca_id: &str) -> String {
        format!("{}/ocsp/{ca_id}", self.base_url)
    }
    pub fn ca_url(&self, ca_id: &str) -> String {
        format!("{}/ca/{ca_id}.crt", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn demo_roundtrips_through_toml() {
        let c = Config::demo("http://127.0.0.1:8080");
        let back = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(back.providers.len(), 2);
        assert_eq!(back.providers[0].name, "VNPT-CA (demo)");
    }
    #[test]
    fn bad_config_names_the_field() {
        let mut c = Config::demo("http://x");
        c.providers[1].id = "vnpt".into();
        assert!(c.validate().unwrap_err().contains("vnpt"));
        let mut c = Config::demo("http://x");
        c.providers[0].citizen_validity_days = 2000;
        assert!(c.validate().unwrap_err().contains("citizen_validity_days"));
    }
}
