//! Session and CSRF tokens. A session token is 32 random bytes (base64url) handed to the browser
//! in an HttpOnly cookie; only its SHA-256 is stored, so a database reader cannot log in. The
//! CSRF token of a session is derived from it, so forms need no extra state.

use base64::Engine;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A fresh random token (256 bits), base64url without padding.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    B64.encode(b)
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref().to_vec()
}

/// The CSRF token that forms of this session must carry.
pub fn csrf_for(session_token: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, session_token.as_bytes());
    B64.encode(&aws_lc_rs::hmac::sign(&key, b"kyso csrf v1").as_ref()[..24])
}

/// Constant-time comparison of a submitted CSRF token.
pub fn csrf_ok(session_token: &str, submitted: &str) -> bool {
    let want = csrf_for(session_token);
    want.len() == submitted.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(want.as_bytes(), submitted.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_csrf_is_bound_to_the_session() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        let c = csrf_for(&a);
        assert!(csrf_ok(&a, &c));
        assert!(!csrf_ok(&b, &c));
        assert!(!csrf_ok(&a, ""));
    }
}

/// How long a login lasts: it ends after `idle` seconds without a request, and in any case
/// `absolute` seconds after it began (OWASP's idle and absolute timeouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: i64,
    pub absolute: i64,
}

/// Citizens: 30 minutes idle, 8 hours in all. Desk staff: an hour idle, a working day in all.
pub const CITIZEN_SESSION: SessionPolicy = SessionPolicy { idle: 30 * 60, absolute: 8 * 3600 };
pub const STAFF_SESSION: SessionPolicy = SessionPolicy { idle: 3600, absolute: 10 * 3600 };

impl SessionPolicy {
    /// The expiry of a login started at `now`.
    pub fn first_expiry(&self, now: i64) -> i64 {
        now + self.idle.min(self.absolute)
    }

    /// The new expiry of a live session used at `now`, or `None` when it need not move yet (more
    /// than half the idle time left, so the store is written at most twice per idle period) or
    /// cannot (the absolute limit is reached).
    pub fn renewal(&self, created_at: i64, expires_at: i64, now: i64) -> Option<i64> {
        if now >= expires_at || expires_at - now > self.idle / 2 {
            return None;
        }
        let next = (now + self.idle).min(created_at + self.absolute);
        (next > expires_at).then_some(next)
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;

    #[test]
    fn sessions_slide_while_used_and_stop_at_the_absolute_limit() {
        let p = CITIZEN_SESSION;
        let start = 1_000_000;
        let mut expires = p.first_expiry(start);
        assert_eq!(expires, start + 1800);
        // Used after 10 minutes: 20 left, more than half the idle time: no write.
        assert_eq!(p.renewal(start, expires, start + 600), None);
        // Used after 20 minutes: 10 left: slides to 30 minutes from now.
        expires = p.renewal(start, expires, start + 1200).unwrap();
        assert_eq!(expires, start + 1200 + 1800);
        // Expired sessions are not revived.
        assert_eq!(p.renewal(start, expires, expires), None);
        // Used every 10 minutes, it lives exactly 8 hours and not a minute more.
        let (mut now, mut last) = (start, p.first_expiry(start));
        while now < last {
            last = p.renewal(start, last, now).unwrap_or(last);
            now += 600;
        }
        assert_eq!(last, start + 8 * 3600);
        // Left alone, it ends after the idle time.
        assert_eq!(p.renewal(start, start + 1800, start + 1800), None);
        assert_eq!(p.renewal(start, start + 8 * 3600, start + 8 * 3600 - 60), None, "capped");
        assert_eq!(STAFF_SESSION.first_expiry(start), start + 3600);
    }
}
