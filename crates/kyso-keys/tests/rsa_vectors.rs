//! RSA signatures made outside kyso (pyca/cryptography over OpenSSL, and raw RSA over encoded
//! messages crafted by RFC 8017 with one rule broken each), from `data/gen_rsa_vectors.py`. The
//! verifier accepts exactly the valid ones, on both paths: aws-lc (PSS SHA-256/MGF1-SHA-256) and
//! the hand-written one (MGF1 hash ≠ message hash, SHA-3). Key sizes 2049 and 2055 bits put
//! emBits/emLen on both sides of a byte boundary; the e = 3 key carries Bleichenbacher's forgery.

use kyso_keys::{verify_with, HashAlg, VerifyError, VerifyScheme};

const MSG: &[u8] = b"kyso rsa vector";

fn hash(name: &str) -> HashAlg {
    match name {
        "sha256" => HashAlg::Sha256,
        "sha384" => HashAlg::Sha384,
        "sha512" => HashAlg::Sha512,
        "sha3_256" => HashAlg::Sha3_256,
        "sha3_384" => HashAlg::Sha3_384,
        "sha3_512" => HashAlg::Sha3_512,
        o => panic!("unknown hash {o}"),
    }
}

fn scheme(s: &str) -> VerifyScheme {
    let p: Vec<&str> = s.split(':').collect();
    match p[..] {
        ["pss", h, g, salt] => VerifyScheme::RsaPss { hash: hash(h), mgf1: hash(g), salt_len: salt.parse().unwrap() },
        ["pkcs1", h] => VerifyScheme::RsaPkcs1(hash(h)),
        _ => panic!("unknown scheme {s}"),
    }
}

#[test]
fn outside_signatures_and_crafted_forgeries() {
    let mut spki = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for line in include_str!("data/rsa_vectors.txt").lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        if f[0] == "key" {
            spki = hex::decode(f[2]).unwrap();
            continue;
        }
        let (expect, sch, note, sig) = (f[0] == "1", scheme(f[1]), f[2], hex::decode(f[3]).unwrap());
        let got = verify_with(&spki, sch, MSG, &sig);
        if expect {
            assert_eq!(got, Ok(()), "{note}: {sch}, key {} bytes", spki.len());
            accepted += 1;
        } else {
            assert_eq!(got, Err(VerifyError::Invalid), "{note}: {sch}, key {} bytes", spki.len());
            refused += 1;
        }
    }
    assert!(accepted >= 15 && refused >= 80, "{accepted} accepted, {refused} refused");
}
