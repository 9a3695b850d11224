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
