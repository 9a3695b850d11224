//! The PKCS#11 backend against a throw-away SoftHSM2 token.
//!
//! Skipped (with a NOTICE) when SoftHSM2 is not installed, unless `KYSO_REQUIRE_SOFTHSM=1`.
//! The module is /usr/lib/softhsm/libsofthsm2.so, or `KYSO_PKCS11_MODULE`.
//! One test function: SOFTHSM2_CONF is process-wide, so the steps must not run in parallel.

use kyso_custody::{
    verify, CustodyError, KeyAlgorithm, KeyCustody, Pin, PinCustody, Pkcs11Custody, SignatureScheme, Signer,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const LABEL: &str = "kyso-test";
const USER_PIN: &str = "87654321";

fn skip_or_panic(why: &str) {
    if std::env::var("KYSO_REQUIRE_SOFTHSM").as_deref() == Ok("1") {
        panic!("KYSO_REQUIRE_SOFTHSM=1 but {why} (install the softhsm2 package)");
    }
    eprintln!("NOTICE: skipping the PKCS#11 test: {why} (install softhsm2, or set KYSO_REQUIRE_SOFTHSM=1 to fail)");
}

fn module_path() -> PathBuf {
    std::env::var_os("KYSO_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
}

/// A fresh token in a temporary directory; returns the directory (removed by the caller).
fn init_token(dir: &Path) -> Result<(), String> {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
    )
    .map_err(|e| e.to_string())?;
    // Process-wide, read by the module at C_Initialize; set before any PKCS#11 call.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let out = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", LABEL, "--so-pin", "12345678", "--pin", USER_PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .map_err(|e| format!("cannot run softhsm2-util: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util --init-token failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn check_all_ways(signer: &dyn Signer, scheme: SignatureScheme) {
    let msg = b"kyso: hop dong so 42";
    let spki = signer.public_key_der();
    let sig = signer.sign(scheme, msg).unwrap();
    assert!(verify(spki, scheme, msg, &sig), "{scheme:?} via sign");
    assert!(!verify(spki, scheme, b"kyso: hop dong so 43", &sig), "{scheme:?} must not verify another message");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
    let sig = signer.sign_digest(scheme, digest.as_ref()).unwrap();
    assert!(verify(spki, scheme, msg, &sig), "{scheme:?} via sign_digest");
    assert!(matches!(signer.sign_digest(scheme, &[0u8; 20]), Err(CustodyError::Malformed(_))));
}

#[test]
fn pkcs11_custody_on_softhsm() {
    if Command::new("softhsm2-util").arg("--version").output().is_err() {
        return skip_or_panic("softhsm2-util is not installed");
    }
    let module = module_path();
    if !module.exists() {
        return skip_or_panic(&format!("the PKCS#11 module {} is missing", module.display()));
    }
    let dir = std::env::temp_dir().join(format!("kyso-softhsm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    init_token(&dir).unwrap();
    let result = std::panic::catch_unwind(|| steps(&module));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn steps(module: &Path) {
    // wrong token, wrong user PIN
    assert!(matches!(Pkcs11Custody::open(module, "no-such-token", USER_PIN), Err(CustodyError::Token(_))));
    assert!(matches!(Pkcs11Custody::open(module, LABEL, "11111111"), Err(CustodyError::Token(_))));

    let hsm = Pkcs11Custody::open(module, LABEL, USER_PIN).unwrap();
    assert_eq!(KeyCustody::backend(&hsm), "pkcs11");
    assert_eq!(PinCustody::backend(&hsm), "pkcs11");

    // KeyCustody (CA keys): EC and RSA-2048, all schemes, both sign paths
    let (ec, ec_wrapped) = hsm.generate(KeyAlgorithm::EcP256).unwrap();
    assert_eq!(ec_wrapped.backend, "pkcs11");
    assert_eq!(ec_wrapped.blob.len(), 17, "version + 16-byte CKA_ID, no PIN hash");
    assert_eq!(ec.public_key_der(), ec_wrapped.public_key_der.as_slice());
    check_all_ways(ec.as_ref(), SignatureScheme::EcdsaP256Sha256);
    assert!(matches!(ec.sign(SignatureScheme::RsaPssSha256, b"m"), Err(CustodyError::SchemeMismatch { .. })));

    let (rsa, rsa_wrapped) = hsm.generate(KeyAlgorithm::Rsa2048).unwrap();
    check_all_ways(rsa.as_ref(), SignatureScheme::RsaPssSha256);
    check_all_ways(rsa.as_ref(), SignatureScheme::RsaPkcs1Sha256);
    assert_eq!(rsa.sign(SignatureScheme::RsaPkcs1Sha256, b"m").unwrap().len(), 256);
    assert!(rsa.sign(SignatureScheme::EcdsaP256Sha256, b"m").is_err());

    // the private objects stay on the token
    assert!(hsm.key_is_non_extractable(&ec_wrapped).unwrap());
    assert!(hsm.key_is_non_extractable(&rsa_wrapped).unwrap());

    // re-open, and a stored public key that is not the token's is refused
    check_all_ways(hsm.open(&ec_wrapped).unwrap().as_ref(), SignatureScheme::EcdsaP256Sha256);
    let swapped = kyso_custody::WrappedKey { public_key_der: rsa_wrapped.public_key_der.clone(), ..ec_wrapped.clone() };
    assert!(hsm.open(&swapped).is_err());
    let mut unknown = ec_wrapped.clone();
    unknown.blob[5] ^= 0xff;
    assert!(matches!(hsm.open(&unknown), Err(CustodyError::Token(_))));

    // concurrent signing through the session pool
    let ec_spki = ec.public_key_der().to_vec();
    std::thread::scope(|s| {
        for i in 0..4u8 {
            let (ec, spki) = (&ec, &ec_spki);
            s.spawn(move || {
                for j in 0..5u8 {
                    let m = [i, j];
                    let sig = ec.sign(SignatureScheme::EcdsaP256Sha256, &m).unwrap();
                    assert!(verify(spki, SignatureScheme::EcdsaP256Sha256, &m, &sig));
                }
            });
        }
    });

    // PinCustody (citizen keys)
    let pin = Pin::parse("246810").unwrap();
    let wrong = Pin::parse("000000").unwrap();
    let citizen = hsm.generate_protected(KeyAlgorithm::EcP256, &pin).unwrap();
    assert!(citizen.blob.len() > 17 && citizen.blob[17..].starts_with(b"$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(hsm.key_is_non_extractable(&citizen).unwrap());
    assert!(matches!(hsm.unlock(&citizen, &wrong), Err(CustodyError::WrongPin)));
    // the PIN cannot be bypassed through KeyCustody::open
    assert!(hsm.open(&citizen).is_err());
    let signer = hsm.unlock(&citizen, &pin).unwrap();
    check_all_ways(signer.as_ref(), SignatureScheme::EcdsaP256Sha256);

    let new_pin = Pin::parse("135790").unwrap();
    assert!(matches!(hsm.change_pin(&citizen, &wrong, &new_pin), Err(CustodyError::WrongPin)));
    let changed = hsm.change_pin(&citizen, &pin, &new_pin).unwrap();
    assert_eq!(changed.public_key_der, citizen.public_key_der, "same token key");
    assert_eq!(changed.blob[..17], citizen.blob[..17], "same CKA_ID");
    assert!(matches!(hsm.unlock(&changed, &pin), Err(CustodyError::WrongPin)));
    check_all_ways(hsm.unlock(&changed, &new_pin).unwrap().as_ref(), SignatureScheme::EcdsaP256Sha256);

    let citizen_rsa = hsm.generate_protected(KeyAlgorithm::Rsa2048, &pin).unwrap();
    let s = hsm.unlock(&citizen_rsa, &pin).unwrap();
    check_all_ways(s.as_ref(), SignatureScheme::RsaPssSha256);
    check_all_ways(s.as_ref(), SignatureScheme::RsaPkcs1Sha256);

    // RSA-3072 generates too
    let (rsa3072, _) = hsm.generate(KeyAlgorithm::Rsa3072).unwrap();
    assert_eq!(rsa3072.sign(SignatureScheme::RsaPssSha256, b"m").unwrap().len(), 384);
    check_all_ways(rsa3072.as_ref(), SignatureScheme::RsaPssSha256);

    // a fresh Pkcs11Custody (new sessions, new login) after the first one and all its signers
    // are gone still finds and uses the keys
    drop((ec, rsa, signer, s, rsa3072));
    drop(hsm);
    let hsm2 = Pkcs11Custody::open(module, LABEL, USER_PIN).unwrap();
    check_all_ways(hsm2.open(&ec_wrapped).unwrap().as_ref(), SignatureScheme::EcdsaP256Sha256);
    check_all_ways(hsm2.open(&rsa_wrapped).unwrap().as_ref(), SignatureScheme::RsaPssSha256);
    check_all_ways(hsm2.unlock(&changed, &new_pin).unwrap().as_ref(), SignatureScheme::EcdsaP256Sha256);
    assert!(matches!(hsm2.unlock(&changed, &pin), Err(CustodyError::WrongPin)));
}
