//! Test kit: a throwaway CA made with kyso's own code (root → provider CA → citizen), tiny PDFs
//! written by hand, and the independent tools (OpenSSL, pdfsig, pyHanko) that judge the output.
#![allow(dead_code)]

use kyso_keys::{KeyAlgorithm, Signer, SoftwareKey};
use kyso_pki::cert::{self, CertSpec, IssuerRef, Profile, Serial, Urls};
use kyso_pki::subject::{org_name, CitizenSubject};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};
use x509_cert::name::Name;

pub struct Ca {
    pub root_der: Vec<u8>,
    pub provider_der: Vec<u8>,
    pub citizen_der: Vec<u8>,
    pub citizen_key: Box<dyn Signer>,
}

impl Ca {
    /// Chain to send along with the citizen certificate (provider CA, root).
    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.provider_der.clone(), self.root_der.clone()]
    }
}

fn key(algorithm: KeyAlgorithm) -> Box<dyn Signer> {
    Box::new(SoftwareKey::generate(algorithm).unwrap())
}

pub fn ca(alg: KeyAlgorithm) -> Ca {
    let now = SystemTime::now();
    fn spec<'a>(now: SystemTime, profile: Profile, subject: Name, key: &'a dyn Signer, years: u64) -> CertSpec<'a> {
        CertSpec {
            profile,
            subject,
            subject_public_key_der: key.public_key_der(),
            serial: Serial::random().unwrap(),
            not_before: now - Duration::from_secs(3600),
            not_after: now + Duration::from_secs(years * 365 * 86400),
            // Never fetched: the checkers run offline (pyHanko with revocation soft-fail).
            urls: Urls {
                crl: Some("http://kyso.test/crl/test.crl".into()),
                ocsp: Some("http://kyso.test/ocsp/test".into()),
                ca_issuers: Some("http://kyso.test/ca/test.crt".into()),
            },
            policy_oid: None,
        }
    }
    let root_key = key(KeyAlgorithm::EcP256);
    let root_der = cert::self_signed(
        &spec(now, Profile::Root, org_name("Kyso Test", "Kyso Test Root").unwrap(), &*root_key, 20),
        &*root_key,
    )
    .unwrap();
    let root = cert::parse(&root_der).unwrap();
    let prov_key = key(KeyAlgorithm::EcP256);
    let provider_der = cert::issue(
        &spec(
            now,
            Profile::ProviderCa,
            org_name("Kyso Test Provider", "Kyso Test Provider CA").unwrap(),
            &*prov_key,
            10,
        ),
        &IssuerRef::from_cert(&root, &*root_key).unwrap(),
    )
    .unwrap();
    let provider = cert::parse(&provider_der).unwrap();
    let citizen_key = key(alg);
    let subject = CitizenSubject::new("001099012345", "Nguyễn Văn An", "Hà Nội", Some("Phường Ba Đình"))
        .unwrap()
        .to_name()
        .unwrap();
    let citizen_der = cert::issue(
        &spec(now, Profile::Citizen, subject, &*citizen_key, 3),
        &IssuerRef::from_cert(&provider, &*prov_key).unwrap(),
    )
    .unwrap();
    Ca { root_der, provider_der, citizen_der, citizen_key }
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kyso-sign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn write_pem(path: &Path, der: &[u8]) {
    std::fs::write(path, kyso_pki::pem("CERTIFICATE", der)).unwrap();
}

/// A tool (PATH, or the CI virtualenv); missing → skip with a notice, or fail under
/// KYSO_REQUIRE_INTEROP=1. Shared with the other crates' tests.
pub use kyso_testkit::tools::{require_tool, skip};

/// A Python with pyHanko: `KYSO_PYHANKO`, else `<repo>/.ci/venv/bin/python`.
pub fn require_pyhanko() -> Option<PathBuf> {
    let candidates = [
        std::env::var("KYSO_PYHANKO").ok().map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python")),
    ];
    for c in candidates.into_iter().flatten() {
        let ok = Command::new(&c)
            .args(["-c", "import pyhanko, pyhanko_certvalidator"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(c);
        }
    }
    skip("a Python with pyHanko (set KYSO_PYHANKO)")
}

/// A one-page PDF 1.7 written by hand, with a classic xref table or an (uncompressed) xref
/// stream, offsets computed as it is written.
pub fn minimal_pdf(xref_stream: bool) -> Vec<u8> {
    let text = b"BT /F1 24 Tf 72 720 Td (Xin chao, kyso) Tj ET";
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [format!("<< /Length {} >>\nstream\n", text.len()).as_bytes(), text, b"\nendstream"].concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        b"<< /Title (kyso test) /Producer (kyso-sign tests) >>".to_vec(),
    ];
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let id = "<0123456789ABCDEF0123456789ABCDEF>";
    for (i, body) in objs.iter_mut().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    let n = objs.len() + 1;
    if xref_stream {
        // Object n is the xref stream itself.
        offsets.push(xref_at);
        let mut data = vec![0u8, 0, 0, 0, 0, 0xff, 0xff];
        for off in &offsets {
            data.push(1);
            data.extend_from_slice(&(*off as u32).to_be_bytes());
            data.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(
            format!(
                "{n} 0 obj\n<< /Type /XRef /Size {} /W [1 4 2] /Root 1 0 R /Info 6 0 R /ID [{id} {id}] /Length {} >>\nstream\n",
                n + 1,
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    } else {
        out.extend_from_slice(format!("xref\n0 {n}\n0000000000 65535 f\r\n").as_bytes());
        for off in &offsets {
            out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(format!("trailer\n<< /Size {n} /Root 1 0 R /Info 6 0 R /ID [{id} {id}] >>\n").as_bytes());
    }
    out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}
