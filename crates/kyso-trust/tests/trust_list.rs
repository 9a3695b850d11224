//! The trust list's TOML: read, the status at a time from the history, trusted periods, errors
//! that name the provider, service and field, bounds, and a write-read round trip.

use kyso_keys::{KeyAlgorithm, SoftwareKey};
use kyso_pki::cert::{self, CertSpec, Profile, Serial, Urls};
use kyso_trust::{ServiceType, Status, TrustList};
use std::time::{Duration, SystemTime};

fn root_pem(cn: &str) -> String {
    let key = SoftwareKey::generate(KeyAlgorithm::EcP256).unwrap();
    let now = SystemTime::now();
    let spec = CertSpec {
        profile: Profile::Root,
        subject: kyso_pki::subject::org_name("Kyso Test", cn).unwrap(),
        subject_public_key_der: kyso_keys::Signer::public_key_der(&key),
        serial: Serial::random().unwrap(),
        not_before: now - Duration::from_secs(3600),
        not_after: now + Duration::from_secs(86400),
        urls: Urls { crl: None, ocsp: None, ca_issuers: None },
        policy_oid: None,
    };
    kyso_pki::pem("CERTIFICATE", &cert::self_signed(&spec, &key).unwrap())
}

fn list(pem: &str, extra_service: &str) -> String {
    format!(
        r#"
[scheme]
territory = "VN"
operator = "Trung tâm Chứng thực điện tử quốc gia"
sequence_number = 7
issued = "2026-01-01T00:00:00Z"
next_update = 2026-07-01T00:00:00Z

[[provider]]
name = "Tập đoàn Bưu chính Viễn thông Việt Nam"
trade_name = "VNPT-CA"

[[provider.service]]
name = "VNPT-CA ECDSA"
type = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
status = "withdrawn"
status_starting_time = "2025-06-01T00:00:00Z"
supply_points = ["http://ocsp.vnpt-ca.example/"]
certificate = """
{pem}"""

[[provider.service.history]]
status = "granted"
status_starting_time = "2020-01-01T00:00:00Z"

[[provider.service.history]]
status = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
status_starting_time = "2022-01-01T00:00:00Z"

[[provider.service.history]]
status = "granted"
status_starting_time = "2023-01-01T00:00:00Z"
{extra_service}
"#
    )
}

fn at(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp()
}

#[test]
fn status_at_a_time_follows_the_history() {
    let l = TrustList::from_toml(&list(&root_pem("VNPT-CA"), "")).unwrap();
    assert_eq!(l.scheme.sequence_number, 7);
    assert_eq!(l.scheme.next_update, Some(at("2026-07-01T00:00:00Z")), "a TOML date-time is read too");
    let p = l.provider(" vnpt-ca ").expect("found by trade name, any case");
    let s = &p.services[0];
    assert_eq!(s.kind, ServiceType::CaQc);
    assert!(s.is_root());
    assert_eq!(s.status_at(at("2019-12-31T23:59:59Z")), None, "not yet listed");
    assert_eq!(s.status_at(at("2020-01-01T00:00:00Z")), Some(Status::Granted));
    assert_eq!(s.status_at(at("2022-06-01T00:00:00Z")), Some(Status::Withdrawn));
    assert_eq!(s.status_at(at("2024-01-01T00:00:00Z")), Some(Status::Granted));
    assert_eq!(s.status_at(at("2026-01-01T00:00:00Z")), Some(Status::Withdrawn));
    assert_eq!(s.current().status, Status::Withdrawn);
    assert_eq!(
        s.trusted_periods(),
        vec![
            (at("2020-01-01T00:00:00Z"), Some(at("2022-01-01T00:00:00Z"))),
            (at("2023-01-01T00:00:00Z"), Some(at("2025-06-01T00:00:00Z")))
        ]
    );
    assert!(l.service_of(&s.certificate).is_some());
}

#[test]
fn written_lists_read_back_the_same() {
    let pem = root_pem("VNPT-CA");
    let extra = format!(
        "\n[[provider.service]]\nname = \"VNPT TSA\"\ntype = \"TSA\"\nstatus = \"granted\"\nstatus_starting_time = \"2021-03-04T05:06:07+07:00\"\ncertificate = \"\"\"\n{}\"\"\"\n",
        root_pem("VNPT TSA")
    );
    let a = TrustList::from_toml(&list(&pem, &extra)).unwrap();
    let text = a.to_toml();
    let b = TrustList::from_toml(&text).unwrap();
    assert_eq!(a.scheme, b.scheme);
    assert_eq!(a.providers.len(), b.providers.len());
    for (x, y) in a.services().zip(b.services()) {
        assert_eq!(x.1.history, y.1.history);
        assert_eq!(x.1.certificate_der, y.1.certificate_der);
        assert_eq!(x.1.kind, y.1.kind);
        assert_eq!(x.1.supply_points, y.1.supply_points);
    }
    assert_eq!(b.providers[0].services[1].current().from, at("2021-03-03T22:06:07Z"), "the offset applied");
    assert_eq!(b.to_toml(), text, "writing is stable");
}

#[test]
fn errors_name_the_provider_the_service_and_the_field() {
    let pem = root_pem("X");
    let e = TrustList::from_toml(&list(&pem, "").replace("\"withdrawn\"", "\"revoked\"")).unwrap_err();
    assert_eq!(e.field, "status");
    assert!(e.at.contains("«VNPT-CA»") && e.at.contains("dịch vụ #1 «VNPT-CA ECDSA»"), "{e}");
    assert!(e.to_string().contains("«revoked» không phải trạng thái"), "{e}");

    let e = TrustList::from_toml(&list(&pem, "").replace("CA/QC", "CA/XX")).unwrap_err();
    assert_eq!(e.field, "type", "{e}");

    let e = TrustList::from_toml(&list(&pem, "").replace("2023-01-01T00:00:00Z", "2023-01-01")).unwrap_err();
    assert_eq!(e.field, "status_starting_time", "{e}");
    assert!(e.at.contains("lịch sử #3"), "{e}");

    // a history change after the current status
    let e = TrustList::from_toml(&list(&pem, "").replace("2023-01-01T00:00:00Z", "2025-07-01T00:00:00Z")).unwrap_err();
    assert_eq!(e.field, "status_starting_time", "{e}");

    let mut bad = pem.clone();
    bad.insert_str(40, "AAAA");
    let e = TrustList::from_toml(&list(&bad, "")).unwrap_err();
    assert_eq!(e.field, "certificate", "{e}");

    let e = TrustList::from_toml(&list(&pem, "").replace("operator =", "operater =")).unwrap_err();
    assert_eq!(e.field, "(cú pháp)", "unknown fields are refused: {e}");

    let dup = "\n[[provider]]\nname = \"Khác\"\ntrade_name = \"vnpt-ca\"\n";
    let e = TrustList::from_toml(&(list(&pem, "") + dup)).unwrap_err();
    assert_eq!(e.field, "trade_name", "{e}");

    let huge = "#".repeat(kyso_trust::MAX_TEXT_BYTES + 1);
    assert_eq!(TrustList::from_toml(&huge).unwrap_err().field, "(tệp)");
}

/// The example committed in data/ is a valid list, and says what its comments say.
#[test]
fn the_committed_example_reads() {
    let l = TrustList::from_toml(include_str!("../../../data/trust-list.example.toml")).unwrap();
    assert_eq!(l.providers.len(), 3);
    let vnpt = l.provider("VNPT-CA").unwrap();
    let ca = &vnpt.services[0];
    assert_eq!(ca.status_at(at("2023-06-01T00:00:00Z")), Some(Status::Withdrawn));
    assert_eq!(ca.status_at(at("2024-06-01T00:00:00Z")), Some(Status::Granted));
    assert!(vnpt.services.iter().any(|s| s.kind.is_ocsp()) && vnpt.services.iter().any(|s| s.kind.is_tsa()));
    assert!(l.provider("Root CA VN").unwrap().services[0].is_root());
    assert_eq!(l.provider("Viettel-CA").unwrap().services[0].current().status, Status::Withdrawn);
}
