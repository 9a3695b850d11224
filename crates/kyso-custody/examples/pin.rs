//! Cost of one PIN check (Argon2id with kyso's parameters) on one core: what every authorize pays,
//! and what an attacker holding the database and the KEK pays per guess.
use kyso_custody::*;
use std::time::Instant;
fn main() {
    let vault = Vault::new(&Kek::generate().unwrap());
    let pin = Pin::parse("135790").unwrap();
    let w = vault.generate_protected(KeyAlgorithm::EcP256, &pin).unwrap();
    let n = 20;
    let t = Instant::now();
    for _ in 0..n {
        vault.unlock(&w, &pin).unwrap();
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    println!("one PIN check (Argon2id m=19 MiB t=2 p=1): {:.1} ms on one core", per * 1e3);
    println!("exhausting 10^6 PINs: {:.1} core-hours (half that on average)", per * 1e6 / 3600.0);
}
