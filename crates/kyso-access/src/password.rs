//! Account passwords: Argon2id (m = 19 MiB, t = 2, p = 1 — OWASP's recommended setting), stored
//! as PHC strings so that the parameters travel with the hash and can be raised later.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest accepted password. Length beats composition rules (NIST SP 800-63B).
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).expect("valid constants"))
}

/// Why a new password is refused. `Display` says it in Vietnamese then English; pages say it in
/// their language from the variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weak {
    /// Fewer than [`MIN_LEN`] characters.
    Short,
    /// More than [`MAX_LEN`] characters.
    Long,
    /// Digits only, fewer than 12 of them.
    Digits,
}

impl std::fmt::Display for Weak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Weak::Short => "Mật khẩu cần ít nhất 8 ký tự / password: at least 8 characters",
            Weak::Long => "Mật khẩu dài quá 128 ký tự / password: at most 128 characters",
            Weak::Digits => "Mật khẩu chỉ gồm chữ số cần ít nhất 12 số / an all-digit password needs 12 digits",
        })
    }
}

/// Whether a new password is long enough (length beats composition rules).
pub fn check_new(password: &str) -> Result<(), Weak> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(Weak::Short);
    }
    if n > MAX_LEN {
        return Err(Weak::Long);
    }
    if password.chars().all(|c| c.is_ascii_digit()) && n < 12 {
        return Err(Weak::Digits);
    }
    Ok(())
}

/// Hash a password (≈ 20–40 ms of CPU: call it off the async executor).
pub fn hash(password: &str) -> String {
    let mut raw = [0u8; 16];
    aws_lc_rs::rand::fill(&mut raw).expect("system RNG");
    let salt = SaltString::encode_b64(&raw).expect("16 bytes is a valid salt");
    hasher().hash_password(password.as_bytes(), &salt).expect("Argon2id with valid parameters").to_string()
}

/// Constant-time check against a stored PHC string; a malformed hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => hasher().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so that "no such account" takes as
/// long as "wrong password" (no account enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash("kyso-no-such-account"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("mật khẩu dài");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("mật khẩu dài", &h));
        assert!(!verify("mat khau dai", &h));
        assert!(!verify("mật khẩu dài", "not a phc string"));
        assert_ne!(h, hash("mật khẩu dài"), "salted");
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new("short").is_err());
        assert_eq!(check_new("12345678"), Err(Weak::Digits));
        assert!(check_new("123456789012").is_ok());
        assert!(check_new("hoa sen 2026").is_ok());
        assert!(check_new(&"x".repeat(129)).is_err());
    }
}

/// PINs that are guessed first (one digit repeated, runs up or down, the year-like 19xx/20xx
/// patterns are allowed): refused when a PIN is set.
pub fn weak_pin(pin: &str) -> bool {
    let d: Vec<i32> = pin.bytes().map(|b| i32::from(b) - i32::from(b'0')).collect();
    if d.len() < 2 {
        return true;
    }
    let steps: Vec<i32> = d.windows(2).map(|w| w[1] - w[0]).collect();
    steps.iter().all(|s| *s == 0) || steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1)
}

#[cfg(test)]
mod pin_tests {
    #[test]
    fn weak_pins() {
        for p in ["000000", "111111", "123456", "654321", "345678"] {
            assert!(super::weak_pin(p), "{p}");
        }
        for p in ["135790", "280419", "121212"] {
            assert!(!super::weak_pin(p), "{p}");
        }
    }
}
