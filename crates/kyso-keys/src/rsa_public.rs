//! RSA signature verification for the valid parameter sets aws-lc does not take: RSASSA-PSS whose
//! MGF1 hash differs from the message hash, and SHA-3 message hashes (PSS and PKCS#1 v1.5). Only
//! the public operation (RFC 8017 §5.2.2, `s^e mod n` by Montgomery multiplication) and the
//! encoding checks (EMSA-PSS-VERIFY §9.1.2, EMSA-PKCS1-v1_5 §9.2) — no private key, so no
//! secret-dependent timing to guard. aws-lc verifies everything else.

use crate::verify::HashAlg;

/// The modulus and exponent of a DER RSAPublicKey, big-endian without leading zeros.
fn parse_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (t, h, l) = crate::der_header(der)?;
    if t != 0x30 {
        return None;
    }
    let body = der.get(h..h.checked_add(l)?)?;
    let (t1, h1, l1) = crate::der_header(body)?;
    let n = body.get(h1..h1.checked_add(l1)?)?;
    let rest = body.get(h1 + l1..)?;
    let (t2, h2, l2) = crate::der_header(rest)?;
    let e = rest.get(h2..h2.checked_add(l2)?)?;
    // nothing after e, nothing after the key
    if t1 != 0x02 || t2 != 0x02 || h2 + l2 != rest.len() || h + l != der.len() {
        return None;
    }
    Some((strip_zeros(n), strip_zeros(e)))
}

/// The modulus and exponent of a key the pure path may use: odd n of 2048 to 8192 bits, odd e
/// with 3 ≤ e < 2³³ (aws-lc's key checks, repeated here so that this path does not depend on
/// its callers having parsed the key with aws-lc: with e = 1 the encoded message is its own
/// signature; the bounds also cap the work an untrusted key can cause).
fn key_of(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, e) = parse_public_key(der)?;
    let bits = |x: &[u8]| x.first().map_or(0, |b| x.len() * 8 - b.leading_zeros() as usize);
    let n_bits = u32::try_from(bits(n)).ok()?;
    let ok = (crate::verify::MIN_RSA_BITS..=crate::verify::MAX_RSA_BITS).contains(&n_bits)
        && n.last()? & 1 == 1
        && (2..=33).contains(&bits(e))
        && e.last()? & 1 == 1;
    ok.then_some((n, e))
}

fn strip_zeros(x: &[u8]) -> &[u8] {
    &x[x.iter().take_while(|&&b| b == 0).count()..]
}

/// Little-endian 64-bit limbs of a big-endian integer, `len` limbs.
fn limbs(be: &[u8], len: usize) -> Vec<u64> {
    let mut out = vec![0u64; len];
    for (i, b) in be.iter().rev().enumerate() {
        out[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    out
}

fn to_be(x: &[u64], len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    for i in 0..x.len() * 8 {
        let b = (x[i / 8] >> (8 * (i % 8))) as u8;
        if i < len {
            out[len - 1 - i] = b;
        } else if b != 0 {
            return None;
        }
    }
    Some(out)
}

fn geq(a: &[u64], b: &[u64]) -> bool {
    for i in (0..a.len()).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = 0u64;
    for i in 0..a.len() {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        a[i] = d2;
        borrow = u64::from(b1 || b2);
    }
}

/// Montgomery product a·b·R⁻¹ mod n (CIOS), a, b < n.
fn mont_mul(a: &[u64], b: &[u64], n: &[u64], n0: u64) -> Vec<u64> {
    let s = n.len();
    let mut t = vec![0u64; s + 2];
    for &bi in b.iter().take(s) {
        let mut c = 0u128;
        for j in 0..s {
            let x = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + c;
            t[j] = x as u64;
            c = x >> 64;
        }
        let x = u128::from(t[s]) + c;
        t[s] = x as u64;
        t[s + 1] = (x >> 64) as u64;
        let m = t[0].wrapping_mul(n0);
        let x = u128::from(t[0]) + u128::from(m) * u128::from(n[0]);
        let mut c = x >> 64;
        for j in 1..s {
            let x = u128::from(t[j]) + u128::from(m) * u128::from(n[j]) + c;
            t[j - 1] = x as u64;
            c = x >> 64;
        }
        let x = u128::from(t[s]) + c;
        t[s - 1] = x as u64;
        t[s] = t[s + 1] + (x >> 64) as u64;
        t[s + 1] = 0;
    }
    let mut r = t[..s].to_vec();
    if t[s] != 0 || geq(&r, n) {
        sub_in_place(&mut r, n);
    }
    r
}

/// `s^e mod n`, or None when `s ≥ n` or the key is unusable.
fn rsavp1(n_be: &[u8], e_be: &[u8], sig: &[u8]) -> Option<Vec<u64>> {
    let s = n_be.len().div_ceil(8);
    let n = limbs(n_be, s);
    if n[0] & 1 == 0 || e_be.is_empty() || e_be.len() > 5 {
        return None;
    }
    if sig.len() != n_be.len() {
        return None;
    }
    let x = limbs(sig, s);
    if geq(&x, &n) {
        return None;
    }
    // n0 = -n⁻¹ mod 2⁶⁴ (Newton's iteration doubles the correct bits each step)
    let mut inv = 1u64;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
    }
    let n0 = inv.wrapping_neg();
    // R² mod n, R = 2^(64·s): double 1 that many times, reducing as it goes
    let mut rr = vec![0u64; s];
    rr[0] = 1;
    for _ in 0..2 * 64 * s {
        let mut carry = 0u64;
        for limb in rr.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 || geq(&rr, &n) {
            sub_in_place(&mut rr, &n);
        }
    }
    let base = mont_mul(&x, &rr, &n, n0);
    let mut one = vec![0u64; s];
    one[0] = 1;
    let mut acc = mont_mul(&one, &rr, &n, n0);
    let e_bits = e_be.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    for i in (0..64 - e_bits.leading_zeros()).rev() {
        acc = mont_mul(&acc, &acc, &n, n0);
        if (e_bits >> i) & 1 == 1 {
            acc = mont_mul(&acc, &base, &n, n0);
        }
    }
    Some(mont_mul(&acc, &one, &n, n0))
}

fn mgf1(hash: HashAlg, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut counter = 0u32;
    while out.len() < len {
        out.extend_from_slice(&hash.digest_parts(&[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// The encoded message (`emLen` octets, RFC 8017 §8.1.2 step 2) and the modulus' bit length.
fn encoded(public_key_der: &[u8], sig: &[u8], em_len_of: impl Fn(usize) -> usize) -> Option<(Vec<u8>, usize)> {
    let (n, e) = key_of(public_key_der)?;
    let mod_bits = n.len() * 8 - n.first()?.leading_zeros() as usize;
    let m = rsavp1(n, e, sig)?;
    Some((to_be(&m, em_len_of(mod_bits))?, mod_bits))
}

/// RSASSA-PSS-VERIFY (RFC 8017 §8.1.2 with EMSA-PSS-VERIFY §9.1.2) for any hash, MGF1 hash and
/// salt length.
pub(crate) fn verify_pss(
    public_key_der: &[u8],
    hash: HashAlg,
    mgf1_hash: HashAlg,
    salt_len: usize,
    message: &[u8],
    sig: &[u8],
) -> bool {
    let Some((em, mod_bits)) = encoded(public_key_der, sig, |bits| (bits - 1).div_ceil(8)) else { return false };
    let em_bits = mod_bits - 1;
    let (em_len, h_len) = (em.len(), hash.output_len());
    if em_len < h_len + salt_len + 2 || em[em_len - 1] != 0xbc {
        return false;
    }
    let (masked_db, h) = em[..em_len - 1].split_at(em_len - h_len - 1);
    let top_mask = 0xffu8 >> (8 * em_len - em_bits);
    if masked_db[0] & !top_mask != 0 {
        return false;
    }
    let mut db: Vec<u8> = masked_db.iter().zip(mgf1(mgf1_hash, h, masked_db.len())).map(|(a, b)| a ^ b).collect();
    db[0] &= top_mask;
    let pad = em_len - h_len - salt_len - 2;
    if db[..pad].iter().any(|&b| b != 0) || db[pad] != 0x01 {
        return false;
    }
    let salt = &db[db.len() - salt_len..];
    let m_hash = hash.digest(message);
    hash.digest_parts(&[&[0u8; 8], &m_hash, salt]) == h
}

/// DigestInfo prefixes, NULL parameters (RFC 8017 §9.2 note 1, OIDs from NIST CSOR). SHA-2 is
/// verified by aws-lc; it is here so tests can hold this path against aws-lc.
fn digest_info_prefix(hash: HashAlg) -> [u8; 19] {
    let (total, oid_last, len) = match hash {
        HashAlg::Sha256 => (0x31, 0x01, 0x20),
        HashAlg::Sha384 => (0x41, 0x02, 0x30),
        HashAlg::Sha512 => (0x51, 0x03, 0x40),
        HashAlg::Sha3_256 => (0x31, 0x08, 0x20),
        HashAlg::Sha3_384 => (0x41, 0x09, 0x30),
        HashAlg::Sha3_512 => (0x51, 0x0a, 0x40),
    };
    [
        0x30, total, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, oid_last, 0x05, 0x00,
        0x04, len,
    ]
}

/// RSASSA-PKCS1-v1_5-VERIFY (RFC 8017 §8.2.2); the encoded message is compared as a whole.
pub(crate) fn verify_pkcs1(public_key_der: &[u8], hash: HashAlg, message: &[u8], sig: &[u8]) -> bool {
    let prefix = digest_info_prefix(hash);
    let Some((em, _)) = encoded(public_key_der, sig, |bits| bits.div_ceil(8)) else { return false };
    let t = [&prefix[..], &hash.digest(message)].concat();
    if em.len() < t.len() + 11 {
        return false;
    }
    let ps = em.len() - t.len() - 3;
    em[0] == 0 && em[1] == 1 && em[2..2 + ps].iter().all(|&b| b == 0xff) && em[2 + ps] == 0 && em[3 + ps..] == t[..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyAlgorithm, SignatureScheme, Signer, SoftwareKey};

    /// The pure path agrees with aws-lc on aws-lc's own PSS signatures (and refuses a changed one).
    #[test]
    fn pss_agrees_with_aws_lc() {
        for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072] {
            let k = SoftwareKey::generate(alg).unwrap();
            let (_, raw) = crate::spki_parts(k.public_key_der()).unwrap();
            let sig = k.sign(SignatureScheme::RsaPssSha256, b"ho so").unwrap();
            assert!(verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 32, b"ho so", &sig));
            assert!(!verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 32, b"ho s0", &sig));
            assert!(!verify_pss(raw, HashAlg::Sha256, HashAlg::Sha384, 32, b"ho so", &sig), "another MGF1 hash");
            assert!(!verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 20, b"ho so", &sig), "another salt");
            let mut bad = sig.clone();
            bad[7] ^= 1;
            assert!(!verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 32, b"ho so", &bad));
            assert!(!verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 32, b"ho so", &sig[1..]));
        }
    }

    /// DER RSAPublicKey { n, e } (n, e big-endian, no sign octet needed for e < 0x80).
    fn rsa_public_key(n: &[u8], e: &[u8], trailing: &[u8]) -> Vec<u8> {
        let int = |v: &[u8]| {
            let v = if v[0] & 0x80 != 0 { [&[0u8][..], v].concat() } else { v.to_vec() };
            let len =
                if v.len() < 0x80 { vec![v.len() as u8] } else { vec![0x82, (v.len() >> 8) as u8, v.len() as u8] };
            [&[0x02][..], &len, &v].concat()
        };
        let body = [int(n), int(e), trailing.to_vec()].concat();
        [&[0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8][..], &body].concat()
    }

    /// The encoded message 00 01 FF…FF 00 DigestInfo for SHA3-256, `k` octets: with e = 1 it is
    /// its own signature.
    fn pkcs1_sha3_em(message: &[u8], k: usize) -> Vec<u8> {
        let t = [&digest_info_prefix(HashAlg::Sha3_256)[..], &HashAlg::Sha3_256.digest(message)].concat();
        [&[0u8, 1][..], &vec![0xff; k - t.len() - 3], &[0], &t].concat()
    }

    /// The pure path checks the key itself (e odd, 3 ≤ e < 2³³; 2048 to 8192 bits; nothing after
    /// the integers) instead of trusting that every caller ran aws-lc's key parser first: with
    /// e = 1 anyone could "sign" by sending the encoded message.
    #[test]
    fn weak_or_malformed_keys_are_refused() {
        let k = SoftwareKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let (_, raw) = crate::spki_parts(k.public_key_der()).unwrap();
        let (n, _) = parse_public_key(raw).unwrap();
        let n = n.to_vec();
        let em = pkcs1_sha3_em(b"forged", n.len());
        assert!(!verify_pkcs1(&rsa_public_key(&n, &[1], &[]), HashAlg::Sha3_256, b"forged", &em), "e = 1");
        // a 1024-bit odd modulus with e = 1
        let mut small = n[..128].to_vec();
        small[127] |= 1;
        let em = pkcs1_sha3_em(b"forged", 128);
        assert!(!verify_pkcs1(&rsa_public_key(&small, &[1], &[]), HashAlg::Sha3_256, b"forged", &em), "1024 bits");
        // e even, e of 34 bits, a 9000-bit modulus, bytes after e or after the key
        let sig = vec![0x42; n.len()];
        for (key, what) in [
            (rsa_public_key(&n, &[2], &[]), "e = 2"),
            (rsa_public_key(&n, &[0x03, 0, 0, 0, 1], &[]), "e of 34 bits"),
            (rsa_public_key(&[0xff; 1125], &[3], &[]), "9000 bits"),
            (rsa_public_key(&n, &[1, 0, 1], &[0x02, 0x01, 0x00]), "a third integer"),
            ([&rsa_public_key(&n, &[1, 0, 1], &[])[..], &[0]].concat(), "a byte after the key"),
        ] {
            assert_eq!(key_of(&key).map(|_| ()), None, "{what}");
            let _ = verify_pss(&key, HashAlg::Sha256, HashAlg::Sha512, 32, b"m", &sig);
        }
        // the usual key is read
        assert!(key_of(&rsa_public_key(&n, &[1, 0, 1], &[])).is_some());
    }

    /// Property: on aws-lc's own keys (2048 and 3072 bits) the pure path and aws-lc agree — both
    /// accept the valid PSS and PKCS#1 v1.5 signatures, and both refuse each of 100 single-bit
    /// corruptions of the signature (spread over all of it, the top bits included) and of the
    /// message.
    #[test]
    fn pure_path_and_aws_lc_agree_on_valid_and_corrupted_signatures() {
        use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256};
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let msg = b"ho so 17: giay khai sinh".to_vec();
        for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072] {
            let k = SoftwareKey::generate(alg).unwrap();
            let (_, raw) = crate::spki_parts(k.public_key_der()).unwrap();
            for scheme in [SignatureScheme::RsaPssSha256, SignatureScheme::RsaPkcs1Sha256] {
                let sig = k.sign(scheme, &msg).unwrap();
                let both = |m: &[u8], s: &[u8]| {
                    let (pure, lc) = match scheme {
                        SignatureScheme::RsaPssSha256 => (
                            verify_pss(raw, HashAlg::Sha256, HashAlg::Sha256, 32, m, s),
                            UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, raw).verify(m, s).is_ok(),
                        ),
                        _ => (
                            verify_pkcs1(raw, HashAlg::Sha256, m, s),
                            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, raw).verify(m, s).is_ok(),
                        ),
                    };
                    assert_eq!(pure, lc, "{alg:?} {scheme:?}: the pure path and aws-lc disagree");
                    pure
                };
                assert!(both(&msg, &sig), "{alg:?} {scheme:?}: valid signature refused");
                let bits = sig.len() * 8;
                for i in 0..100 {
                    // the 8 top bits first (they decide s < n), then spread at random
                    let bit = if i < 8 { bits - 1 - i } else { (next() % bits as u64) as usize };
                    let mut bad = sig.clone();
                    bad[sig.len() - 1 - bit / 8] ^= 1 << (bit % 8);
                    assert!(!both(&msg, &bad), "{alg:?} {scheme:?}: signature bit {bit} flipped, still accepted");
                    let bit = (next() % (msg.len() * 8) as u64) as usize;
                    let mut other = msg.clone();
                    other[bit / 8] ^= 1 << (bit % 8);
                    assert!(!both(&other, &sig), "{alg:?} {scheme:?}: message bit {bit} flipped, still accepted");
                }
            }
        }
    }
}
