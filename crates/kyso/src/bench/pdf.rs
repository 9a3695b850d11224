//! `kyso bench pdf`: PAdES B-B signing and validation of one PDF, repeated, on one core — the
//! kyso side of the comparison with pyHanko in scripts/bench-pdf.sh (same PDF, same key, same chain).

use anyhow::{Context, Result};
use kyso_custody::{Kek, KeyAlgorithm, Vault};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

struct NoRevocation;

impl kyso_validate::RevocationSource for NoRevocation {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> kyso_validate::Revocation {
        kyso_validate::Revocation::Good
    }
}

pub fn run(pdf: &Path, key: &Path, certs: &[PathBuf], count: usize, json_mode: bool) -> Result<()> {
    let doc = std::fs::read(pdf).with_context(|| format!("cannot read {}", pdf.display()))?;
    let key_pem = std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
    let pkcs8 = kyso_pki::pem_or_der("PRIVATE KEY", &key_pem).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    let vault = Vault::new(&Kek::generate()?);
    let (signer, _wrapped) =
        vault.import_pkcs8(KeyAlgorithm::EcP256, &pkcs8).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    let mut ders = Vec::new();
    for c in certs {
        let raw = std::fs::read(c).with_context(|| format!("cannot read {}", c.display()))?;
        ders.push(
            kyso_pki::pem_or_der("CERTIFICATE", &raw).map_err(|e| anyhow::anyhow!("--certs {}: {e}", c.display()))?,
        );
    }
    let (cert, chain) = ders.split_first().context("--certs: the signer certificate first")?;
    let mut anchors = kyso_validate::TrustAnchors::new();
    anchors.add_root(chain.last().unwrap_or(cert)).map_err(|e| anyhow::anyhow!("root: {e}"))?;
    let opts = kyso_sign::SigOptions::new(SystemTime::now());
    let t = Instant::now();
    let mut signed = Vec::new();
    for _ in 0..count {
        signed = kyso_sign::pdf::sign(&doc, signer.as_ref(), cert, chain, &opts)?;
    }
    let sign_rate = count as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..count {
        let r = kyso_validate::validate_pdf(&signed, &anchors, &NoRevocation, SystemTime::now())?;
        anyhow::ensure!(
            r[0].indication == kyso_validate::Indication::TotalPassed,
            "validation failed: {:?}",
            r[0].problems
        );
    }
    let validate_rate = count as f64 / t.elapsed().as_secs_f64();
    if json_mode {
        println!("{}", json!({"count": count, "sign_per_second": sign_rate, "validate_per_second": validate_rate}));
    } else {
        println!(
            "kyso, one core, {count} runs: {sign_rate:.0} signatures/s (PAdES B-B), {validate_rate:.0} validations/s"
        );
    }
    Ok(())
}
