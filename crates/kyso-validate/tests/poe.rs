//! Validation policy, "expired now, valid then": a B-B signature whose certificate has expired
//! since passes when a later document time-stamp proves it existed while the certificate was
//! valid; without one, or with a time-stamp from after the expiry, it is INDETERMINATE /
//! OUT_OF_BOUNDS_NO_POE (EN 319 102-1).

use kyso_keys::{KeyAlgorithm, Signer, SoftwareKey};
use kyso_pki::cert::{self, CertSpec, IssuerRef, Profile, Serial, Urls};
use kyso_pki::subject::{org_name, CitizenSubject};
use kyso_validate::{Indication, Kind, Revocation, RevocationSource, SubIndication, TrustAnchors};
use std::time::{Duration, SystemTime};

struct AllGood;
impl RevocationSource for AllGood {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> Revocation {
        Revocation::Good
    }
}

fn spec<'a>(profile: Profile, subject: x509_cert::name::Name, key: &'a dyn Signer, life: Duration) -> CertSpec<'a> {
    let now = SystemTime::now();
    CertSpec {
        profile,
        subject,
        subject_public_key_der: key.public_key_der(),
        serial: Serial::random().unwrap(),
        not_before: now - Duration::from_secs(3600),
        not_after: now + life,
        urls: Urls {
            crl: Some("http://kyso.test/crl/test.crl".into()),
            ocsp: Some("http://kyso.test/ocsp/test".into()),
            ca_issuers: Some("http://kyso.test/ca/test.crt".into()),
        },
        policy_oid: None,
    }
}

#[test]
fn a_later_document_time_stamp_is_proof_of_existence_for_an_expired_signer() {
    let year = Duration::from_secs(365 * 86400);
    let key = || SoftwareKey::generate(KeyAlgorithm::EcP256).unwrap();
    let (root_key, ca_key, tsa_key, citizen_key) = (key(), key(), key(), key());
    let root_der =
        cert::self_signed(&spec(Profile::Root, org_name("Test", "POE Root").unwrap(), &root_key, 20 * year), &root_key)
            .unwrap();
    let root = cert::parse(&root_der).unwrap();
    let ca_der = cert::issue(
        &spec(Profile::ProviderCa, org_name("Test", "POE Provider CA").unwrap(), &ca_key, 10 * year),
        &IssuerRef::from_cert(&root, &root_key).unwrap(),
    )
    .unwrap();
    let ca = cert::parse(&ca_der).unwrap();
    let tsa_der = cert::issue(
        &spec(Profile::Tsa, org_name("Test", "POE TSA").unwrap(), &tsa_key, 5 * year),
        &IssuerRef::from_cert(&ca, &ca_key).unwrap(),
    )
    .unwrap();
    // the citizen's certificate ends in two hours
    let subject = CitizenSubject::new("001099012345", "Nguyễn Văn An", "Hà Nội", None).unwrap().to_name().unwrap();
    let citizen_der = cert::issue(
        &spec(Profile::Citizen, subject, &citizen_key, Duration::from_secs(7200)),
        &IssuerRef::from_cert(&ca, &ca_key).unwrap(),
    )
    .unwrap();
    let now = SystemTime::now();
    let pdf = kyso_testkit::pdf::minimal_pdf("Ho so POE");
    let opts = kyso_sign::pdf::SigOptions::new(now);
    let signed =
        kyso_sign::pdf::sign(&pdf, &citizen_key, &citizen_der, &[ca_der.clone(), root_der.clone()], &opts).unwrap();
    let tsa_cert = cert::parse(&tsa_der).unwrap();
    let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
    let template = kyso_pki::tsa::Template::new(&tsa_cert, &tsa_der, &tsa_key, policy).unwrap();
    let doc_ts = |gen_time: SystemTime| {
        let p = kyso_sign::pdf::prepare_doc_timestamp(&signed, 8192).unwrap();
        let req = kyso_sign::timestamp_request_for_digest(p.digest, b"nonce-1").unwrap();
        let q = kyso_pki::tsa::parse_request(&req).unwrap();
        let resp = template.response(&q, &tsa_key, &[0x42], gen_time).unwrap();
        kyso_sign::pdf::embed(p, &kyso_sign::timestamp_token(&resp).unwrap()).unwrap()
    };
    let mut anchors = TrustAnchors::new();
    anchors.add_root(&root_der).unwrap();
    anchors.add_intermediate(&ca_der).unwrap();
    let later = now + Duration::from_secs(3 * 86400);

    // today: valid, a B-B signature
    let r = &kyso_validate::validate_pdf(&signed, &anchors, &AllGood, now).unwrap()[0];
    assert_eq!((r.indication, r.sub_indication), (Indication::TotalPassed, None), "{r:#?}");
    // three days later, nothing proves when it was signed
    let r = &kyso_validate::validate_pdf(&signed, &anchors, &AllGood, later).unwrap()[0];
    assert_eq!((r.indication, r.sub_indication), (Indication::Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)));
    // a document time-stamp taken while the certificate was valid: proof of existence
    let reps = kyso_validate::validate_pdf(&doc_ts(now), &anchors, &AllGood, later).unwrap();
    assert_eq!(reps[1].kind, Kind::DocumentTimestamp);
    assert_eq!(reps[1].indication, Indication::TotalPassed, "{:#?}", reps[1]);
    let r = &reps[0];
    assert_eq!((r.indication, r.sub_indication), (Indication::TotalPassed, None), "{r:#?}");
    assert!(r.poe_time.is_some() && r.warnings.iter().any(|w| w.contains("document time-stamp proves")), "{r:#?}");
    let text = kyso_validate::render(&reps[..1], kyso_validate::Lang::Vi);
    assert!(text.contains("dấu thời gian tài liệu lúc"), "{text}");
    // a document time-stamp from after the expiry proves nothing about the signing
    let reps =
        kyso_validate::validate_pdf(&doc_ts(now + Duration::from_secs(86400)), &anchors, &AllGood, later).unwrap();
    let r = &reps[0];
    assert_eq!((r.indication, r.sub_indication), (Indication::Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)));
}
