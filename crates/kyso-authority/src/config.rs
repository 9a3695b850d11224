//! `kyso.toml`: the trust hierarchy and its URLs. `kyso init` writes the demo one if none exists.

use kyso_custody::KeyAlgorithm;
use serde::{Deserialize, Serialize};

/// The demo's OID arc: IANA's private enterprise number reserved for documentation (RFC 5612).
/// Real providers configure their own policy OIDs.
pub const DEMO_ARC: &str = "1.3.6.1.4.1.32473.1";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Public base URL written into certificates (CRL DP, OCSP, caIssuers): `http(s)://host[:port]`,
    /// no path (kyso serves /crl/, /ocsp/ and /ca/ at its root). See [`BaseUrl`].
    pub base_url: String,
    /// `base_url` reaches this server through a reverse proxy, load balancer or NAT that forwards
    /// to `kyso serve --listen`, so `serve` does not require `--listen` to bind base_url's host
    /// and port. (An https base_url always implies this: kyso itself serves plain HTTP.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub behind_proxy: bool,
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
    /// Validate without fetching revocation data or issuers over the network (an air-gapped
    /// desk): the document's DSS and the fetch cache still answer, otherwise INDETERMINATE.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline_validation: bool,
    /// Networks (CIDR: `10.20.0.0/16`, `127.0.0.1/8`, `fd00::/8`) the validator may fetch
    /// revocation data and issuers from although they are not public, on any port. By default it
    /// fetches only from public addresses on port 80: the URLs come from uploaded certificates
    /// (SECURITY.md, "Online fetching"). For providers on a private network, and tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_private_fetch: Vec<String>,
    /// Where notifications go (`[notify]`): the SMTP server and the SMS/Zalo gateway. Without
    /// it, messages are enqueued and stay queued (nothing is delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyConfig>,
    #[serde(rename = "providers")]
    pub providers: Vec<ProviderConfig>,
}

/// `[notify]` in kyso.toml (docs/NOTIFICATIONS.md): e-mail over SMTP, SMS and Zalo through an
/// HTTP gateway, per-channel limits. A channel left out is not delivered (its messages wait).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// SMTP server host name or address, e.g. `smtp.hiepluc.gov.vn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    /// Plain SMTP (a relay on the province's network; kyso's build has no TLS stack for STARTTLS).
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    /// The sender, e.g. `UBND xã Hiệp Lực <thongbao@hiepluc.gov.vn>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    /// The gateway's URL (`http://…`) that SMS and Zalo messages are POSTed to as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
    /// Environment variable holding the gateway's bearer token (never written to this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_token_env: Option<String>,
    #[serde(default = "default_email_per_minute")]
    pub email_per_minute: i64,
    #[serde(default = "default_sms_per_minute")]
    pub sms_per_minute: i64,
    #[serde(default = "default_zalo_per_minute")]
    pub zalo_per_minute: i64,
}

fn default_smtp_port() -> u16 {
    25
}
fn default_email_per_minute() -> i64 {
    60
}
fn default_sms_per_minute() -> i64 {
    30
}
fn default_zalo_per_minute() -> i64 {
    30
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
            behind_proxy: false,
            offline_validation: false,
            allow_private_fetch: Vec::new(),
            notify: None,
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
        let mut c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        c.base_url = BaseUrl::parse(&c.base_url)?.to_string();
        Ok(c)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), String> {
        BaseUrl::parse(&self.base_url)?;
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
        self.fetch_allowance()?;
        Ok(())
    }

    /// `allow_private_fetch` parsed (the error names the setting and the entry).
    pub fn fetch_allowance(&self) -> Result<Vec<crate::online::reach::Cidr>, String> {
        self.allow_private_fetch
            .iter()
            .map(|c| crate::online::reach::Cidr::parse(c).map_err(|e| format!("allow_private_fetch: {e}")))
            .collect()
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

/// A public base URL as kyso accepts it: `http://` or `https://`, a host (DNS name, IPv4, or
/// `[IPv6]`), an optional port, and nothing else. Certificates name `<base>/crl/<ca>.crl`,
/// `<base>/ocsp/<ca>` and `<base>/ca/<ca>.crt`, which kyso serves at the root of its address, so a
/// path would name addresses kyso does not serve; a wildcard host (0.0.0.0, [::]) is a listen
/// address, not one a relying party can fetch from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    pub https: bool,
    /// Lower-cased DNS name or IP literal (IPv6 without its brackets).
    pub host: String,
    /// The port, the scheme's default (80, 443) when none is written.
    pub port: u16,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
        let bad = |why: &str| Err(format!("base_url `{url}`: {why}"));
        if url.is_empty() {
            return bad("empty; give the address relying parties use, e.g. http://ca.example.vn");
        }
        if !url.is_ascii() || url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return bad("only printable ASCII without spaces (certificates store URIs as IA5String; write an internationalised host name in its xn-- form)");
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return bad("must start with http:// or https://");
        };
        let https =
            match scheme.to_ascii_lowercase().as_str() {
                "http" => false,
                "https" => true,
                _ => return bad(
                    "the scheme must be http or https (relying parties fetch CRLs, OCSP and CA certificates over HTTP)",
                ),
            };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(i) = authority.find(['/', '?', '#']) {
            return bad(&format!(
                "has a path, query or fragment (`{}`): kyso serves /crl/, /ocsp/ and /ca/ at the root of its address, so certificates would name addresses it does not serve; give kyso its own host name or port",
                &authority[i..]
            ));
        }
        if authority.contains('@') {
            return bad("user information (`…@`) does not belong in a certificate's URL");
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((h, after)) = v6.split_once(']') else {
                return bad("`[` without `]` around the IPv6 address");
            };
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return bad(&format!("`[{h}]` is not an IPv6 address"));
            }
            match after {
                "" => (h, None),
                p if p.starts_with(':') => (h, Some(&p[1..])),
                _ => return bad("unexpected text after `]`: write [address]:port"),
            }
        } else {
            match authority.split_once(':') {
                Some((_, p)) if p.contains(':') => {
                    return bad("an IPv6 address must be written in brackets: http://[2001:db8::1]:8080")
                }
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return bad(&format!("port `{p}` must be a number from 1 to 65535")),
            },
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty() {
            return bad("no host");
        }
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_unspecified() => {
                return bad(&format!(
                    "{host} is a wildcard listen address, not one a relying party can fetch from: give the host name or address clients use"
                ))
            }
            Ok(_) => {}
            Err(_) => {
                let name = host.strip_suffix('.').unwrap_or(&host);
                let label_ok = |l: &str| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                };
                if name.len() > 253 || !name.split('.').all(label_ok) {
                    return bad(&format!("`{host}` is not a host name (letters, digits, '-' and '.')"));
                }
            }
        }
        Ok(BaseUrl { https, host, port })
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.host.parse().ok()
    }
}

/// The canonical form written into certificates: `scheme://host[:port]`, the port omitted when it
/// is the scheme's default, no trailing slash.
impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == if self.https { 443 } else { 80 } {
            write!(f, "{scheme}://{host}")
        } else {
            write!(f, "{scheme}://{host}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn base_url_accepts_hosts_and_ports_and_nothing_else() {
        let ok = |s: &str| BaseUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let u = ok("http://127.0.0.1:9000/");
        assert_eq!((u.https, u.host.as_str(), u.port), (false, "127.0.0.1", 9000));
        assert_eq!(u.to_string(), "http://127.0.0.1:9000");
        assert_eq!(ok("HTTPS://CA.Example.VN").to_string(), "https://ca.example.vn");
        assert_eq!(ok("https://ca.example.vn").port, 443);
        assert_eq!(ok("http://ca.example.vn:80").to_string(), "http://ca.example.vn");
        assert_eq!(ok("http://[::1]:8080").host, "::1");
        assert_eq!(ok("http://[::1]:8080").to_string(), "http://[::1]:8080");
        let err = |s: &str, want: &str| {
            let e = BaseUrl::parse(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        };
        err("ftp://ca.example.vn", "http or https");
        err("ca.example.vn:8080", "http:// or https://");
        err("http://ca.example.vn/kyso", "path, query or fragment (`/kyso`)");
        err("http://ca.example.vn/?x=1", "path, query or fragment (`/?x=1`)");
        err("http://ca.example.vn#x", "path, query or fragment");
        err("http://0.0.0.0:8080", "wildcard");
        err("http://[::]:8080", "wildcard");
        err("http://ca.example.vn:0", "port `0`");
        err("http://ca.example.vn:99999", "port `99999`");
        err("http://ca.example.vn:", "port ``");
        err("http://user@ca.example.vn", "user information");
        err("http://::1:8080", "brackets");
        err("http://", "no host");
        err("http://kýsố.vn", "xn--");
        err("http://ca .vn", "ASCII without spaces");
        err("http://ca_x.vn", "not a host name");
    }
    #[test]
    fn demo_roundtrips_through_toml() {
        let c = Config::demo("http://127.0.0.1:8080");
        let back = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(back.providers.len(), 2);
        assert_eq!(back.providers[0].name, "VNPT-CA (demo)");
        assert!(!back.behind_proxy && !c.to_toml().contains("behind_proxy"));
        let mut c = Config::demo("HTTP://CA.example.vn:80/");
        c.behind_proxy = true;
        let back = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(back.base_url, "http://ca.example.vn");
        assert!(back.behind_proxy);
        assert_eq!(back.crl_url("vnpt"), "http://ca.example.vn/crl/vnpt.crl");
    }
    #[test]
    fn bad_config_names_the_field() {
        let mut c = Config::demo("http://x");
        c.providers[1].id = "vnpt".into();
        assert!(c.validate().unwrap_err().contains("vnpt"));
        let mut c = Config::demo("http://x");
        c.providers[0].citizen_validity_days = 2000;
        assert!(c.validate().unwrap_err().contains("citizen_validity_days"));
        let mut c = Config::demo("http://x");
        c.allow_private_fetch = vec!["127.0.0.1/8".into(), "10.0.0.0/33".into()];
        let e = c.validate().unwrap_err();
        assert!(e.contains("allow_private_fetch") && e.contains("10.0.0.0/33"), "{e}");
    }

    #[test]
    fn private_fetch_allowance_reads_from_toml() {
        let text =
            format!("allow_private_fetch = [\"127.0.0.1/8\", \"fd00::/8\"]\n{}", Config::demo("http://x").to_toml());
        let c = Config::parse(&text).unwrap();
        let allow = c.fetch_allowance().unwrap();
        assert_eq!(allow.len(), 2);
        assert!(allow[0].contains("127.0.0.9".parse().unwrap()));
        assert!(c.to_toml().contains("allow_private_fetch"));
        assert!(!Config::demo("http://x").to_toml().contains("allow_private_fetch"), "not written when empty");
    }
}
