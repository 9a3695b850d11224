use super::*;
use kyso_pki::subject::{build_name, OID_C, OID_CN, OID_O, OID_UID};

const APPLICANT: &str = "001203001234";

fn applicant() -> CitizenId {
    CitizenId::parse(APPLICANT).unwrap()
}

fn person(uid_oid: ObjectIdentifier, uid: &str) -> SignerIdentity {
    SignerIdentity::from_subject(&build_name(&[(OID_C, "VN"), (OID_CN, "Nguyễn Văn An"), (uid_oid, uid)]).unwrap())
}

fn facts(indication: Indication, signer: Option<SignerIdentity>) -> SignatureFacts {
    SignatureFacts {
        indication,
        sub_indication: match indication {
            Indication::TotalPassed => None,
            Indication::Indeterminate => Some(SubIndication::TryLater),
            Indication::TotalFailed => Some(SubIndication::HashFailure),
        },
        signer,
        serial: Some("0A1B".into()),
        problem: None,
    }
}

fn rule(signer: SignerRule) -> FileRule {
    FileRule { role: "to-khai".into(), name: "Tờ khai".into(), signer, required: true }
}

fn procedure() -> Procedure {
    Procedure::new(
        "khai-sinh",
        "Đăng ký khai sinh",
        vec![
            rule(SignerRule::Applicant),
            FileRule {
                role: "uy-quyen".into(),
                name: "Văn bản ủy quyền".into(),
                signer: SignerRule::Organisation,
                required: false,
            },
            FileRule {
                role: "giay-chung-sinh".into(),
                name: "Giấy chứng sinh".into(),
                signer: SignerRule::Nobody,
                required: true,
            },
        ],
    )
    .unwrap()
}

#[test]
fn every_vietnamese_id_attribute_matches_the_applicant() {
    for uid in ["CCCD:001203001234", "CMND:001203001234", "cccd: 001203001234"] {
        assert!(person(OID_UID, uid).is(&applicant()), "{uid}");
    }
    assert!(person(OID_SERIAL_NUMBER, "CCCD:001203001234").is(&applicant()));
    for uid in ["CCCD:001203001235", "HC:001203001234", "MST:001203001234", "BHXH:001203001234", "001203001234"] {
        assert!(!person(OID_UID, uid).is(&applicant()), "{uid}");
    }
    let several = SignerIdentity::from_subject(
        &build_name(&[(OID_CN, "A"), (OID_UID, "MST:0101234567"), (OID_UID, "CCCD:001203001234")]).unwrap(),
    );
    assert!(several.is(&applicant()));
    assert!(several.is_organisation());
    let org = SignerIdentity::from_subject(&build_name(&[(OID_O, "Công ty A"), (OID_CN, "B")]).unwrap());
    assert!(org.is_organisation() && !org.is(&applicant()));
    assert_eq!(person(OID_UID, "CCCD:001203001234").describe(), "Nguyễn Văn An (CCCD:0012****1234)");
}

#[test]
fn a_file_is_judged_by_who_signed_and_how_it_validated() {
    let me = || Some(person(OID_UID, "CCCD:001203001234"));
    let other = || Some(person(OID_UID, "CCCD:079190000001"));
    let r = rule(SignerRule::Applicant);
    let v = |f: &[SignatureFacts]| judge_file(&r, &applicant(), f, None);

    let ok = v(&[facts(Indication::TotalPassed, me())]);
    assert_eq!((ok.verdict, ok.satisfied), (FileVerdict::SignedByApplicant, true));
    assert_eq!(ok.applicant_serial.as_deref(), Some("0A1B"));
    assert!(!ok.reason_vi.contains(APPLICANT) && ok.reason_vi.contains("0012****1234"), "{}", ok.reason_vi);

    let by_other = v(&[facts(Indication::TotalPassed, other())]);
    assert_eq!((by_other.verdict, by_other.satisfied), (FileVerdict::SignedByOther, false));
    assert!(by_other.reason_vi.contains("Thiếu chữ ký của người nộp hồ sơ"), "{}", by_other.reason_vi);
    assert_eq!(by_other.applicant_serial, None);

    let none = v(&[]);
    assert_eq!((none.verdict, none.satisfied), (FileVerdict::Unsigned, false));
    let bad = v(&[facts(Indication::TotalFailed, me())]);
    assert_eq!((bad.verdict, bad.satisfied), (FileVerdict::Invalid, false));
    assert!(bad.reason_en.contains("HashFailure"), "{}", bad.reason_en);
    let unknown = v(&[facts(Indication::Indeterminate, me())]);
    assert_eq!((unknown.verdict, unknown.satisfied), (FileVerdict::Undetermined, false));
    // the applicant's valid signature wins over someone else's failed one, in any order
    let both = v(&[facts(Indication::TotalFailed, other()), facts(Indication::TotalPassed, me())]);
    assert_eq!(both.verdict, FileVerdict::SignedByApplicant);
    // the applicant's failed signature is what the file is judged by, not a stranger's valid one
    let failed_mine = v(&[facts(Indication::TotalPassed, other()), facts(Indication::TotalFailed, me())]);
    assert_eq!(failed_mine.verdict, FileVerdict::Invalid);
    let unreadable = judge_file(&r, &applicant(), &[], Some(("hỏng", "broken")));
    assert_eq!(unreadable.verdict, FileVerdict::Invalid);
    assert_eq!(v(&[facts(Indication::TotalPassed, None)]).verdict, FileVerdict::SignedByOther);

    let org_rule = rule(SignerRule::Organisation);
    let org = SignerIdentity::from_subject(&build_name(&[(OID_O, "UBND xã"), (OID_CN, "B")]).unwrap());
    let o = judge_file(
        &org_rule,
        &applicant(),
        &[facts(Indication::TotalPassed, me()), facts(Indication::TotalPassed, Some(org))],
        None,
    );
    assert_eq!((o.verdict, o.satisfied), (FileVerdict::SignedByOrganisation, true));
    let o = judge_file(&org_rule, &applicant(), &[facts(Indication::TotalPassed, me())], None);
    assert_eq!((o.verdict, o.satisfied), (FileVerdict::SignedByApplicant, false));
    let n = judge_file(&rule(SignerRule::Nobody), &applicant(), &[], None);
    assert_eq!((n.verdict, n.satisfied), (FileVerdict::Unsigned, true));
}

#[test]
fn a_dossier_is_fully_signed_or_says_what_is_missing() {
    let p = procedure();
    assert!(p.needs_signatures());
    let me = Some(person(OID_UID, "CCCD:001203001234"));
    let signed = judge_file(&p.files[0], &applicant(), &[facts(Indication::TotalPassed, me)], None);
    let attachment = judge_file(&p.files[2], &applicant(), &[], None);
    let d = judge_dossier(&p, &[signed.clone(), attachment.clone()]);
    assert!(d.fully_signed && d.missing.is_empty(), "{d:?}");

    let unsigned = judge_file(&p.files[0], &applicant(), &[], None);
    let d = judge_dossier(&p, &[unsigned]);
    assert!(!d.fully_signed);
    assert_eq!(
        d.missing,
        vec![
            Missing::Signature {
                role: "to-khai".into(),
                name: "Tờ khai".into(),
                signer: SignerRule::Applicant,
                verdict: FileVerdict::Unsigned
            },
            Missing::File { role: "giay-chung-sinh".into(), name: "Giấy chứng sinh".into() },
        ]
    );
    assert_eq!(d.missing[0].message(Lang::Vi), "«Tờ khai»: thiếu chữ ký hợp lệ của người nộp hồ sơ (chưa ký).");
    assert_eq!(d.missing[1].message(Lang::Vi), "Thiếu tệp «Giấy chứng sinh».");
    // an optional file, submitted, must be signed as its rule says
    let uq = judge_file(&p.files[1], &applicant(), &[], None);
    assert!(!judge_dossier(&p, &[signed, attachment, uq]).fully_signed);
}

#[test]
fn procedures_and_roles_are_checked_naming_the_field() {
    let e = Procedure::new("Khai Sinh", "x", vec![rule(SignerRule::Applicant)]).unwrap_err();
    assert_eq!(e.field, "code");
    let e = Procedure::new("ks", "x", vec![rule(SignerRule::Applicant), rule(SignerRule::Nobody)]).unwrap_err();
    assert_eq!(e.field, "files[2].role");
    assert_eq!(Procedure::new("ks", "x", vec![]).unwrap_err().field, "files");
    assert_eq!(Procedure::new("ks", "\u{7}", vec![rule(SignerRule::Applicant)]).unwrap_err().field, "name");
    let p = procedure();
    assert!(check_roles(&p, ["to-khai", "uy-quyen"]).is_ok());
    assert!(check_roles(&p, ["to-khai", "to-khai"]).unwrap_err().reason.contains("twice"));
    assert!(check_roles(&p, ["khac"]).unwrap_err().reason.contains("known: to-khai, uy-quyen, giay-chung-sinh"));
    assert!(check_roles(&p, []).is_err());
    assert_eq!("Organization".parse::<SignerRule>(), Ok(SignerRule::Organisation));
    assert!("ai".parse::<SignerRule>().is_err());
    for v in ["signed_by_applicant", "unsigned", "undetermined"] {
        assert_eq!(FileVerdict::parse(v).unwrap().as_str(), v);
    }
}
