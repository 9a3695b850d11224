//! Login throttling rules: at most `max` counted attempts per key (an account, a client address)
//! in a window of `window` seconds opened by the first one; once they are used up, the key waits
//! until that window closes. The clock is an argument (seconds).
//!
//! An attempt is counted *before* the password is checked (a reservation) and given back when it
//! turns out right, so that concurrent attempts cannot all pass a check made before any of them
//! failed. The store applies the same rule ([`Limit::reserve`]) atomically, in one statement per
//! key (`kyso-store/src/throttle.rs`), so the counts survive a restart and hold across requests
//! racing each other; this module is the rule and its reference model.
//!
//! A fixed window opened by the first attempt (rather than a sliding one) is what one conditional
//! upsert can keep: `(window_start, count)` per key. Its cost: around a window's end a key can
//! spend up to `2 × max` attempts close together; over time the rate is the same (`max` per
//! `window`).

use std::net::IpAddr;

/// How many attempts a key may spend, and over how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    /// Seconds.
    pub window: u64,
}

/// Failed logins per account (an ID number or a staff username).
pub const ACCOUNT: Limit = Limit { max: 5, window: 15 * 60 };
/// Failed logins per client address (an IPv4 address, an IPv6 /64): one address trying many
/// accounts is password spraying; a commune office behind one NAT stays well under it.
pub const ADDRESS: Limit = Limit { max: 30, window: 15 * 60 };
/// Registrations per client address, successful or not. A support point helps people register
/// from its one address, one every few minutes: 30 in 15 minutes leaves it room.
pub const REGISTER_ADDRESS: Limit = Limit { max: 30, window: 15 * 60 };

/// The counted state of one key: when its window opened and how many attempts it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub count: u32,
}

impl Limit {
    /// Is a window that opened at `start` closed at `now`?
    pub fn closed(&self, start: u64, now: u64) -> bool {
        start + self.window <= now
    }

    /// Counts one more attempt at `now`: the new state, or `Err(seconds to wait)` when the key's
    /// window is full. A closed window is replaced by a new one opened now.
    pub fn reserve(&self, w: Option<Window>, now: u64) -> Result<Window, u64> {
        match w {
            Some(w) if !self.closed(w.start, now) => {
                if w.count >= self.max {
                    Err(w.start + self.window - now)
                } else {
                    Ok(Window { start: w.start, count: w.count + 1 })
                }
            }
            _ => Ok(Window { start: now, count: 1 }),
        }
    }

    /// Gives back an attempt counted in the window that opened at `start` (the password was
    /// right, or it was never checked). An attempt from a window since replaced is not taken
    /// from the new one.
    pub fn release(&self, w: Option<Window>, start: u64) -> Option<Window> {
        match w {
            Some(w) if w.start == start => Some(Window { start, count: w.count.saturating_sub(1) }),
            other => other,
        }
    }
}

/// The key for an account: its kind and a hash of the name typed (never the raw ID number or an
/// attacker's arbitrary string as a key; bounded length).
pub fn account_key(kind: &str, subject: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, subject.trim().as_bytes());
    format!("{kind}:{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// The key for a client address. An IPv6 client can use a whole /64: count the prefix.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_attempts_until_the_window_closes() {
        let l = Limit { max: 3, window: 60 };
        let mut w = None;
        for s in 0..3 {
            w = Some(l.reserve(w, 100 + s).expect("within the limit"));
        }
        assert_eq!(w, Some(Window { start: 100, count: 3 }));
        assert_eq!(l.reserve(w, 110), Err(50), "full: wait until the window opened at 100 closes");
        assert_eq!(l.reserve(w, 159), Err(1));
        assert_eq!(l.reserve(w, 160), Ok(Window { start: 160, count: 1 }), "closed: a new window");
        assert_eq!(l.reserve(None, 5), Ok(Window { start: 5, count: 1 }));
    }

    #[test]
    fn a_release_gives_back_only_its_own_window() {
        let l = Limit { max: 2, window: 60 };
        let w = l.reserve(l.reserve(None, 0).ok(), 1).ok();
        assert!(l.reserve(w, 2).is_err());
        let w = l.release(w, 0);
        assert_eq!(w, Some(Window { start: 0, count: 1 }));
        assert!(l.reserve(w, 2).is_ok(), "the given-back attempt can be spent again");
        // A reservation from a window that was since replaced does not lower the new count.
        let newer = Some(Window { start: 70, count: 2 });
        assert_eq!(l.release(newer, 0), newer);
        assert_eq!(l.release(Some(Window { start: 0, count: 0 }), 0), Some(Window { start: 0, count: 0 }));
    }

    #[test]
    fn keys() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), address_key(ip("2001:db8:1:2:bbbb::9")));
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), "ip:2001:db8:1:2::/64");
        assert_ne!(address_key(ip("2001:db8:1:3::1")), address_key(ip("2001:db8:1:2::1")));
        assert_eq!(address_key(ip("203.0.113.7")), "ip:203.0.113.7");
        assert_eq!(address_key(ip("::ffff:203.0.113.7")), "ip:203.0.113.7", "a mapped IPv4 is that IPv4");
        let k = account_key("citizen", " 001099000001 ");
        assert_eq!(k, account_key("citizen", "001099000001"), "trimmed");
        assert!(k.starts_with("citizen:") && !k.contains("001099000001") && k.len() == 8 + 43, "{k}");
        assert_eq!(account_key("staff", &"x".repeat(100_000)).len(), 6 + 43, "bounded");
    }
}
