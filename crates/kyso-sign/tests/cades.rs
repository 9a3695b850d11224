//! CAdES / CMS detached signatures: two-phase signing, our own checks, and OpenSSL as the judge.

mod support;

use kyso_keys::KeyAlgorithm;
use kyso_sign::cades::{self, Profile};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn sha256(d: &[u8]) -> [u8; 32] {
    kyso_pki::alg::sha256(d).try_into().unwrap()
}

/// A CAdES signature by the test citizen over `content`, the chain included, signed now.
fn sign_now(ca: &support::Ca, content: &[u8]) -> Vec<u8> {
    cades::sign_detached(content, &*ca.citizen_key, &ca.citizen_der, &ca.chain(), Profile::Cades, SystemTime::now())
        .unwrap()
}

#[test]
fn two_phase_round_trip_and_checks() {
    for alg in [KeyAlgorithm::EcP256, KeyAlgorithm::Rsa2048] {
        let ca = support::ca(alg);
        let content = "Đơn đề nghị cấp chứng thư số — kyso".as_bytes();
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);

        // Phase one: only the 32-byte digest leaves; phase two: the signature comes back.
        let p = cades::prepare(sha256(content), &ca.citizen_der, Profile::Cades, t).unwrap();
        let tbs = p.to_be_signed_digest();
        assert_eq!(tbs, sha256(p.signed_attrs().der()));
        let scheme = alg.default_scheme();
        let sig = ca.citizen_key.sign_digest(scheme, &tbs).unwrap();
        let cms = p.assemble(&sig, scheme, &ca.chain()).unwrap();

        let check = cades::verify_detached(&cms, sha256(content)).unwrap();
        assert!(check.is_valid(), "{alg}: {check:?}");
        assert_eq!(check.signer_cert_der, ca.citizen_der);
        assert_eq!(check.signing_time, Some(t));
        assert_eq!(check.certificates.len(), 3);
        assert!(check.certificates.contains(&ca.root_der) && check.certificates.contains(&ca.provider_der));

        // Read without checking: the same signer and certificates, no time-stamp.
        let certs = cades::certificates_of(&cms).unwrap();
        assert_eq!(certs.signer_cert_der.as_ref(), Some(&ca.citizen_der));
        assert_eq!(certs.certificates, check.certificates);
        assert!(certs.timestamp_certificates.is_empty());

        // Another document: the digest check fails, the signature itself still verifies.
        let other = cades::verify_detached(&cms, sha256(b"another document")).unwrap();
        assert!(!other.message_digest_ok && other.signature_ok && !other.is_valid());

        // A signature over something else is refused at assembly.
        let wrong = ca.citizen_key.sign_digest(scheme, &[7u8; 32]).unwrap();
        assert!(p.assemble(&wrong, scheme, &[]).is_err());
    }
}

#[test]
fn pades_profile_has_no_signing_time() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    let cms =
        cades::sign_detached(b"x", &*ca.citizen_key, &ca.citizen_der, &[], Profile::Pades, SystemTime::now()).unwrap();
    let check = cades::verify_detached(&cms, sha256(b"x")).unwrap();
    assert!(check.is_valid());
    assert_eq!(check.signing_time, None);
    assert_eq!(check.certificates, vec![ca.citizen_der.clone()]);
}

#[test]
fn tampered_cms_is_caught_or_refused() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    let cms = sign_now(&ca, b"doc");
    // Flip every byte in turn: never a panic, never a fully valid result.
    for i in 0..cms.len() {
        let mut bad = cms.clone();
        bad[i] ^= 0x01;
        if let Ok(c) = cades::verify_detached(&bad, sha256(b"doc")) {
            // Bytes of certificates not used for the signer check may change unnoticed here;
            // chain validation is a later layer.
            if c.is_valid() {
                assert!(c.certificates.iter().any(|x| *x != ca.citizen_der), "byte {i}");
            }
        }
    }
    for n in [0, 1, 10, cms.len() / 2, cms.len() - 1] {
        assert!(cades::verify_detached(&cms[..n], sha256(b"doc")).is_err(), "truncated to {n}");
    }
}

/// OpenSSL, independent of our code, accepts the .p7s for the file and rejects it for a changed
/// file.
#[test]
fn openssl_cms_verify() {
    let Some(openssl) = support::require_tool("openssl") else { return };
    for alg in [KeyAlgorithm::EcP256, KeyAlgorithm::Rsa2048] {
        let ca = support::ca(alg);
        let dir = support::tmpdir(&format!("openssl-{alg}"));
        let content = b"%PDF-1.7 pretend this is a contract\n".repeat(100);
        let cms = sign_now(&ca, &content);
        std::fs::write(dir.join("sig.p7s"), &cms).unwrap();
        std::fs::write(dir.join("file"), &content).unwrap();
        let mut changed = content.clone();
        changed[10] ^= 1;
        std::fs::write(dir.join("changed"), &changed).unwrap();
        support::write_pem(&dir.join("root.pem"), &ca.root_der);

        // `-purpose any`: OpenSSL's default CMS purpose (smimesign) requires emailProtection in the
        // signer's EKU, a mail rule. Today's citizen profile happens to carry emailProtection next
        // to documentSigning, so OpenSSL 3.0 also accepts it by default (checked by hand), but a
        // document-only citizen EKU (documentSigning, RFC 9336) would be refused for a reason that
        // has nothing to do with the CMS. This test judges the CMS: chain to the test root,
        // signature and message digest are all still verified; only the purpose check is off.
        let verify = |file: &str| {
            Command::new(&openssl)
                .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", file])
                .args(["-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"])
                .current_dir(&dir)
                .output()
                .unwrap()
        };
        let ok = verify("file");
        assert!(ok.status.success(), "{alg}: openssl rejected: {}", String::from_utf8_lossy(&ok.stderr));
        assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"));
        let bad = verify("changed");
        assert!(!bad.status.success(), "{alg}: openssl accepted a changed file");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `der` with every constructed element above depth `levels` re-encoded with an indefinite
/// length (BER, as streaming signers write it), and the certificate set's first element repeated.
fn to_ber(der: &[u8], levels: usize) -> Vec<u8> {
    fn tlv(b: &[u8]) -> (usize, usize) {
        // (header length, content length) of a DER element
        if b[1] < 0x80 {
            return (2, b[1] as usize);
        }
        let n = (b[1] & 0x7f) as usize;
        (2 + n, b[2..2 + n].iter().fold(0, |a, &x| a << 8 | x as usize))
    }
    fn walk(b: &[u8], depth: usize, levels: usize, out: &mut Vec<u8>) {
        let mut at = 0;
        while at < b.len() {
            let (h, len) = tlv(&b[at..]);
            let el = &b[at..at + h + len];
            if el[0] & 0x20 != 0 && depth < levels {
                out.extend([el[0], 0x80]);
                let mut inner = Vec::new();
                walk(&el[h..], depth + 1, levels, &mut inner);
                if depth == 3 && el[0] == 0xa0 {
                    // certificates [0]: the first certificate twice
                    let (ch, clen) = tlv(&inner);
                    inner.extend_from_within(..ch + clen);
                }
                out.extend(inner);
                out.extend([0, 0]);
            } else {
                out.extend_from_slice(el);
            }
            at += h + len;
        }
    }
    let mut out = Vec::new();
    walk(der, 0, levels, &mut out);
    out
}

/// The same signature written as BER with a repeated certificate: OpenSSL accepts it, so does
/// `verify_detached` (saying so); every changed byte and every truncation is an error or a
/// failed check, never a panic and never a valid signer check.
#[test]
fn ber_with_repeated_certificates_reads_leniently_checks_strictly() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    let content = b"Giay de nghi".to_vec();
    let der = sign_now(&ca, &content);
    let ber = to_ber(&der, 4);
    assert_eq!(ber[..2], [0x30, 0x80]);
    let check = cades::verify_detached(&ber, sha256(&content)).unwrap();
    assert!(check.is_valid(), "{check:?}");
    assert!(check.leniency.ber);
    assert_eq!(check.leniency.repeated, vec![("certificates", 1)]);
    assert_eq!(check.certificates.len(), 3);
    // plain DER: nothing lenient
    assert_eq!(cades::verify_detached(&der, sha256(&content)).unwrap().leniency, kyso_sign::Leniency::default());
    // a time-stamp can still be added to it (the result is DER, the signature unchanged)
    assert_eq!(cades::signature_value(&ber).unwrap(), cades::signature_value(&der).unwrap());

    if let Some(openssl) = support::require_tool("openssl") {
        let dir = support::tmpdir("ber-openssl");
        std::fs::write(dir.join("sig.p7s"), &ber).unwrap();
        std::fs::write(dir.join("file"), &content).unwrap();
        support::write_pem(&dir.join("root.pem"), &ca.root_der);
        let o = Command::new(&openssl)
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "file"])
            .args(["-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "OpenSSL reads the BER form: {}", String::from_utf8_lossy(&o.stderr));
    }

    for i in 0..ber.len() {
        for flip in [0x01, 0x80] {
            let mut bad = ber.clone();
            bad[i] ^= flip;
            if let Ok(c) = cades::verify_detached(&bad, sha256(&content)) {
                if c.is_valid() {
                    // only bytes of certificates other than the signer's may change unnoticed here
                    assert!(c.certificates.iter().any(|x| *x != ca.citizen_der), "byte {i} ^ {flip:#x}");
                }
            }
            let _ = cades::check_timestamp(&bad, b"x");
        }
    }
    for n in 0..ber.len() - 1 {
        let e = cades::verify_detached(&ber[..n], sha256(&content)).unwrap_err().to_string();
        assert!(e.contains("byte "), "truncated to {n}: {e}");
    }
}
