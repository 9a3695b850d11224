//! Where the fetcher may connect. The URLs it follows come from certificates inside anonymous
//! uploads (`/verify`, `/api/validate`, dossiers), so without a rule anyone could make the server
//! connect to itself, to its private network or to a cloud metadata service (SSRF). The rule:
//! every address a host name resolves to must be public — not loopback, private (RFC 1918),
//! link-local (169.254.0.0/16, cloud metadata), shared (CGNAT), unique-local or link-local IPv6,
//! multicast, broadcast, unspecified, documentation, benchmarking or otherwise reserved; IPv4
//! embedded in IPv6 (v4-mapped, NAT64, 6to4) is judged as the IPv4 address — and the port must
//! be http's, 80. The fetcher connects to the addresses it checked (no second resolution, so no
//! DNS-rebinding window), and checks every redirect's target again.
//!
//! Networks listed in `allow_private_fetch` (kyso.toml) or `KYSO_ALLOW_PRIVATE_FETCH`
//! (comma-separated) are exempt from both rules: revocation services on a provider's private
//! network, and tests whose responders listen on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// 0.0.0.0/8, ::/128.
    Unspecified,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918).
    Private,
    /// 169.254.0.0/16 (cloud metadata services live here), fe80::/10.
    LinkLocal,
    /// 100.64.0.0/10 (RFC 6598, carrier-grade NAT).
    Shared,
    /// fc00::/7 (RFC 4193), fec0::/10 (deprecated site-local).
    UniqueLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
    Documentation,
    /// 198.18.0.0/15, 2001:2::/48.
    Benchmarking,
    /// Everything else that is not routed publicly: 192.0.0.0/24, 192.88.99.0/24, 240.0.0.0/4,
    /// IPv6 outside 2000::/3, 2001::/23 (Teredo and other protocol assignments), …
    Reserved,
}

impl Closed {
    pub fn en(self) -> &'static str {
        match self {
            Closed::Unspecified => "an unspecified address",
            Closed::Loopback => "a loopback address (this server itself)",
            Closed::Private => "a private-network address (RFC 1918)",
            Closed::LinkLocal => "a link-local address (where cloud metadata services answer)",
            Closed::Shared => "a carrier-grade NAT address (100.64.0.0/10)",
            Closed::UniqueLocal => "a unique-local IPv6 address (a private network)",
            Closed::Multicast => "a multicast address",
            Closed::Broadcast => "the broadcast address",
            Closed::Documentation => "an address reserved for documentation",
            Closed::Benchmarking => "an address reserved for benchmarking",
            Closed::Reserved => "a reserved address that is not publicly routed",
        }
    }
    pub fn vi(self) -> &'static str {
        match self {
            Closed::Unspecified => "địa chỉ không xác định",
            Closed::Loopback => "địa chỉ loopback (chính máy chủ)",
            Closed::Private => "địa chỉ mạng riêng (RFC 1918)",
            Closed::LinkLocal => "địa chỉ link-local (nơi dịch vụ metadata của đám mây trả lời)",
            Closed::Shared => "địa chỉ NAT của nhà mạng (100.64.0.0/10)",
            Closed::UniqueLocal => "địa chỉ IPv6 nội bộ (mạng riêng)",
            Closed::Multicast => "địa chỉ multicast",
            Closed::Broadcast => "địa chỉ broadcast",
            Closed::Documentation => "địa chỉ dành cho tài liệu",
            Closed::Benchmarking => "địa chỉ dành cho đo kiểm",
            Closed::Reserved => "địa chỉ dành riêng, không định tuyến công khai",
        }
    }
}

/// `Ok` when `ip` is a public unicast address, otherwise why not.
pub fn classify(ip: IpAddr) -> Result<(), Closed> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Result<(), Closed> {
    let table: [([u8; 4], u32, Closed); 16] = [
        ([0, 0, 0, 0], 8, Closed::Unspecified),
        ([10, 0, 0, 0], 8, Closed::Private),
        ([100, 64, 0, 0], 10, Closed::Shared),
        ([127, 0, 0, 0], 8, Closed::Loopback),
        ([169, 254, 0, 0], 16, Closed::LinkLocal),
        ([172, 16, 0, 0], 12, Closed::Private),
        ([192, 0, 0, 0], 24, Closed::Reserved),
        ([192, 0, 2, 0], 24, Closed::Documentation),
        ([192, 88, 99, 0], 24, Closed::Reserved),
        ([192, 168, 0, 0], 16, Closed::Private),
        ([198, 18, 0, 0], 15, Closed::Benchmarking),
        ([198, 51, 100, 0], 24, Closed::Documentation),
        ([203, 0, 113, 0], 24, Closed::Documentation),
        ([224, 0, 0, 0], 4, Closed::Multicast),
        ([255, 255, 255, 255], 32, Closed::Broadcast),
        ([240, 0, 0, 0], 4, Closed::Reserved),
    ];
    for (net, bits, why) in table {
        if in_v4(ip, net, bits) {
            return Err(why);
        }
    }
    Ok(())
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
    u128::from(ip) & mask == u128::from(net) & mask
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("a literal IPv6 network")
}

fn classify_v6(ip: Ipv6Addr) -> Result<(), Closed> {
    let bits = u128::from(ip);
    if ip.is_unspecified() {
        return Err(Closed::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Closed::Loopback);
    }
    // IPv4 carried in IPv6: judged as that IPv4 address
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(ip, v6("64:ff9b::"), 96) {
        return classify_v4(low32); // NAT64, well-known prefix (RFC 6052)
    }
    if in_v6(ip, v6("2002::"), 16) {
        return classify_v4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
        // 6to4
    }
    if in_v6(ip, v6("::"), 96) {
        return Err(Closed::Reserved); // IPv4-compatible (deprecated)
    }
    let table = [
        ("ff00::", 8, Closed::Multicast),
        ("fe80::", 10, Closed::LinkLocal),
        ("fec0::", 10, Closed::UniqueLocal),
        ("fc00::", 7, Closed::UniqueLocal),
        ("2001:db8::", 32, Closed::Documentation),
        ("2001:2::", 48, Closed::Benchmarking),
        // Teredo (2001::/32), ORCHID, and the other IETF protocol assignments
        ("2001::", 23, Closed::Reserved),
        ("3fff::", 20, Closed::Documentation),
    ];
    for (net, len, why) in table {
        if in_v6(ip, v6(net), len) {
            return Err(why);
        }
    }
    // global unicast is 2000::/3; the rest is not allocated for public use
    if !in_v6(ip, v6("2000::"), 3) {
        return Err(Closed::Reserved);
    }
    Ok(())
}

/// A network in CIDR notation: `127.0.0.0/8`, `10.1.2.3` (one address), `fd00::/8`. Host bits
/// past the prefix are ignored (`127.0.0.1/8` is `127.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let net: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or network (write 10.0.0.0/8 or fd00::/8)"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => match b.parse::<u8>() {
                Ok(n) if n <= max && b.bytes().all(|c| c.is_ascii_digit()) => n,
                _ => return Err(format!("`{text}`: the prefix length must be a number from 0 to {max}")),
            },
        };
        Ok(Cidr { net, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => in_v4(a, n.octets(), u32::from(self.bits)),
            (IpAddr::V6(n), IpAddr::V6(a)) => in_v6(a, n, u32::from(self.bits)),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.bits)
    }
}

/// Networks from a comma-separated list (the environment variable's form).
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, String> {
    text.split(',').filter(|s| !s.trim().is_empty()).map(Cidr::parse).collect()
}

/// The environment's allowance, `KYSO_ALLOW_PRIVATE_FETCH` (none when unset).
pub fn from_env() -> Result<Vec<Cidr>, String> {
    match std::env::var("KYSO_ALLOW_PRIVATE_FETCH") {
        Ok(v) => parse_list(&v).map_err(|e| format!("KYSO_ALLOW_PRIVATE_FETCH: {e}")),
        Err(_) => Ok(Vec::new()),
    }
}

/// Why the fetcher did not connect to a URL's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The URL's host as written.
    pub host: String,
    pub port: u16,
    /// The address refused, or none for a refused port.
    pub addr: Option<IpAddr>,
    pub why: Option<Closed>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.addr, self.why) {
            (Some(a), Some(w)) => write!(
                f,
                "not fetched from «{}»: {a} is {}; kyso fetches only from public addresses",
                self.host,
                w.en()
            ),
            _ => write!(f, "not fetched from «{}»: port {}; kyso fetches only on port 80", self.host, self.port),
        }
    }
}

impl Refusal {
    /// The same in Vietnamese, for the report's warning.
    pub fn vi(&self) -> String {
        match (self.addr, self.why) {
            (Some(a), Some(w)) => format!(
                "không truy vấn máy chủ «{}» vì {a} là {}; kyso chỉ truy vấn địa chỉ công cộng",
                self.host,
                w.vi()
            ),
            _ => format!("không truy vấn máy chủ «{}» ở cổng {}; kyso chỉ truy vấn cổng 80", self.host, self.port),
        }
    }
}

/// The rule with its allowance.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    allow: Vec<Cidr>,
    /// Every address and port: for a destination the operator configured (a notification
    /// gateway), never for one read from an upload.
    anywhere: bool,
}

impl Reach {
    pub fn new(allow: Vec<Cidr>) -> Reach {
        Reach { allow, anywhere: false }
    }

    /// No restriction: only for URLs from the installation's own configuration.
    pub fn configured_destination() -> Reach {
        Reach { allow: Vec::new(), anywhere: true }
    }

    /// `Ok` when every address `host` resolved to may be reached on `port`; otherwise the first
    /// refused one. A host resolving to one public and one private address is refused: which of
    /// them a later connection would use is not the checker's to guess.
    pub fn check(&self, host: &str, port: u16, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if self.anywhere {
            return Ok(());
        }
        for &a in addrs {
            if self.allow.iter().any(|c| c.contains(a)) {
                continue;
            }
            if let Err(why) = classify(a.to_canonical()) {
                return Err(Refusal { host: host.to_string(), port, addr: Some(a.to_canonical()), why: Some(why) });
            }
            if port != 80 {
                return Err(Refusal { host: host.to_string(), port, addr: None, why: None });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(s: &str) -> Result<(), Closed> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_public_and_not() {
        for ok in [
            "8.8.8.8",
            "1.1.1.1",
            "113.160.0.1",
            "203.162.4.190",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "198.20.0.1",
            "223.255.255.254",
        ] {
            assert_eq!(why(ok), Ok(()), "{ok}");
        }
        for (ip, w) in [
            ("0.0.0.0", Closed::Unspecified),
            ("0.1.2.3", Closed::Unspecified),
            ("127.0.0.1", Closed::Loopback),
            ("127.255.255.254", Closed::Loopback),
            ("10.0.0.1", Closed::Private),
            ("172.16.0.1", Closed::Private),
            ("172.31.255.255", Closed::Private),
            ("192.168.1.1", Closed::Private),
            ("169.254.169.254", Closed::LinkLocal),
            ("100.64.0.1", Closed::Shared),
            ("100.127.255.255", Closed::Shared),
            ("192.0.0.170", Closed::Reserved),
            ("192.0.2.1", Closed::Documentation),
            ("198.51.100.7", Closed::Documentation),
            ("203.0.113.9", Closed::Documentation),
            ("198.18.0.1", Closed::Benchmarking),
            ("198.19.255.255", Closed::Benchmarking),
            ("224.0.0.1", Closed::Multicast),
            ("239.255.255.250", Closed::Multicast),
            ("240.0.0.1", Closed::Reserved),
            ("255.255.255.255", Closed::Broadcast),
        ] {
            assert_eq!(why(ip), Err(w), "{ip}");
        }
    }

    #[test]
    fn ipv6_public_and_not_and_ipv4_inside_ipv6() {
        for ok in [
            "2001:4860:4860::8888",
            "2402:800::1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(why(ok), Ok(()), "{ok}");
        }
        for (ip, w) in [
            ("::", Closed::Unspecified),
            ("::1", Closed::Loopback),
            ("fe80::1", Closed::LinkLocal),
            ("febf::1", Closed::LinkLocal),
            ("fc00::1", Closed::UniqueLocal),
            ("fd12:3456::1", Closed::UniqueLocal),
            ("fec0::1", Closed::UniqueLocal),
            ("ff02::1", Closed::Multicast),
            ("2001:db8::1", Closed::Documentation),
            ("2001:2::1", Closed::Benchmarking),
            ("2001:0:4136:e378::1", Closed::Reserved),
            ("100::1", Closed::Reserved),
            ("4000::1", Closed::Reserved),
            ("::7f00:1", Closed::Reserved),
            // v4-mapped: the IPv4 address decides
            ("::ffff:127.0.0.1", Closed::Loopback),
            ("::ffff:169.254.169.254", Closed::LinkLocal),
            ("::ffff:10.1.2.3", Closed::Private),
            ("::ffff:0.0.0.0", Closed::Unspecified),
            // NAT64 and 6to4 carrying private IPv4
            ("64:ff9b::a9fe:a9fe", Closed::LinkLocal),
            ("64:ff9b::7f00:1", Closed::Loopback),
            ("2002:c0a8:0101::1", Closed::Private),
            ("2002:7f00:0001::1", Closed::Loopback),
        ] {
            assert_eq!(why(ip), Err(w), "{ip}");
        }
    }

    #[test]
    fn cidrs_allow_and_name_bad_entries() {
        let c = Cidr::parse("127.0.0.1/8").unwrap();
        assert_eq!(c.to_string(), "127.0.0.1/8");
        assert!(c.contains("127.9.9.9".parse().unwrap()));
        assert!(c.contains("::ffff:127.0.0.1".parse().unwrap()), "a v4-mapped address matches its IPv4 network");
        assert!(!c.contains("128.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let one = Cidr::parse("10.1.2.3").unwrap();
        assert!(one.contains("10.1.2.3".parse().unwrap()) && !one.contains("10.1.2.4".parse().unwrap()));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        assert!(Cidr::parse("[::1]").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("169.254.169.254".parse().unwrap()));
        for bad in ["localhost", "10.0.0.0/33", "::1/129", "10.0.0.0/x", "10.0.0.0/+8", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_list(" 127.0.0.0/8, ::1 ,").unwrap().len(), 2);
        assert!(parse_list("127.0.0.0/8,nope").unwrap_err().contains("`nope`"));
    }

    #[test]
    fn every_resolved_address_and_the_port_are_checked() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = Reach::default();
        assert_eq!(none.check("ocsp.example.vn", 80, &[ip("203.162.4.190")]), Ok(()));
        // one public, one private: refused, naming the private one
        let r = none.check("ocsp.example.vn", 80, &[ip("203.162.4.190"), ip("10.0.0.5")]).unwrap_err();
        assert_eq!((r.addr, r.why), (Some(ip("10.0.0.5")), Some(Closed::Private)));
        assert!(r.to_string().contains("«ocsp.example.vn»") && r.to_string().contains("10.0.0.5"), "{r}");
        assert!(r.vi().contains("mạng riêng"), "{}", r.vi());
        let r = none.check("ocsp.example.vn", 8080, &[ip("203.162.4.190")]).unwrap_err();
        assert_eq!((r.addr, r.port), (None, 8080));
        assert!(r.vi().contains("cổng 8080"));
        let r = none.check("[::ffff:169.254.169.254]", 80, &[ip("::ffff:169.254.169.254")]).unwrap_err();
        assert_eq!((r.addr, r.why), (Some(ip("169.254.169.254")), Some(Closed::LinkLocal)));
        // an allowance lifts both rules for its networks only
        let lab = Reach::new(vec![Cidr::parse("127.0.0.1/8").unwrap()]);
        assert_eq!(lab.check("127.0.0.1", 41234, &[ip("127.0.0.1")]), Ok(()));
        assert!(lab.check("10.0.0.1", 80, &[ip("10.0.0.1")]).is_err());
        assert!(lab.check("::1", 80, &[ip("::1")]).is_err());
    }
}
