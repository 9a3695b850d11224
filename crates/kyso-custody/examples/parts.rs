use kyso_custody::*;
use std::time::Instant;
fn main() {
    let v = Vault::new(&Kek::generate().unwrap());
    let n = 20000;
    let t = Instant::now();
    let mut keys = Vec::new();
    for _ in 0..n {
        keys.push(v.generate(KeyAlgorithm::EcP256).unwrap());
    }
    println!("generate+wrap: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let (s, _) = &keys[0];
    let msg = vec![7u8; 600];
    let t = Instant::now();
    let mut sig = Vec::new();
    for _ in 0..n {
        sig = s.sign(SignatureScheme::EcdsaP256Sha256, &msg).unwrap();
    }
    println!("sign: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for _ in 0..n {
        assert!(verify(s.public_key_der(), SignatureScheme::EcdsaP256Sha256, &msg, &sig));
    }
    println!("verify: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for _ in 0..n {
        let _ = aws_lc_rs::signature::EcdsaKeyPair::generate(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING)
            .unwrap();
    }
    println!("raw keygen: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
