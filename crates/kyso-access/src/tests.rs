//! The whole role × resource × action table, written out: every combination not listed must be
//! denied. Changing a rule means changing this table on purpose.

use super::*;

const SELF_ID: &str = "001090000001";

fn principal(role: Role) -> Principal {
    let scope = match role {
        Role::Citizen => Scope::Person(SELF_ID.into()),
        Role::SupportStaff | Role::CommuneOfficer => Scope::Commune { province: "01".into(), commune: "00004".into() },
        Role::ProvinceOfficer | Role::HotlineOperator => Scope::Province("01".into()),
        Role::ProviderOperator => Scope::Provider("vnpt".into()),
        Role::Auditor | Role::Administrator => Scope::National,
    };
    Principal { subject: format!("test-{role}"), role, scope }
}

/// Column letters of the expected table.
fn resources<'a>(
    c01: &'a Area,
    c02: &'a Area,
    d09: &'a Area,
    p01: &'a Area,
    p02: &'a Area,
) -> Vec<(char, Resource<'a>)> {
    vec![
        ('a', Resource::Person { id_number: SELF_ID, area: Some(c01) }),
        ('b', Resource::Person { id_number: "001090000002", area: Some(c01) }),
        ('c', Resource::Person { id_number: "001090000003", area: Some(c02) }),
        ('d', Resource::Person { id_number: "079090000004", area: Some(d09) }),
        ('e', Resource::Unit(c01)),
        ('f', Resource::Unit(c02)),
        ('g', Resource::Unit(p01)),
        ('h', Resource::Unit(p02)),
        ('j', Resource::Provider("vnpt")),
        ('k', Resource::Provider("viettel")),
        ('l', Resource::System),
        ('m', Resource::Person { id_number: "001090000005", area: None }),
    ]
}

const EXPECTED: &[(&str, &str, &str)] = &[
    ("citizen", "ViewOwnAccount", "a"),
    ("citizen", "ManageOwnCertificates", "a"),
    ("citizen", "SignDocument", "a"),
    ("support_staff", "LookUpCitizen", "abcdm"),
    ("support_staff", "VerifyEidLevel2", "abcdm"),
    ("support_staff", "AssistActivation", "abcdm"),
    ("support_staff", "RecordSupportSession", "abcdm"),
    ("support_staff", "UnlockCredential", "abcdm"),
    ("support_staff", "ViewProgress", "e"),
    ("support_staff", "ViewWorklist", "e"),
    ("support_staff", "RecordVisit", "e"),
    ("commune_officer", "LookUpCitizen", "ab"),
    ("commune_officer", "VerifyEidLevel2", "ab"),
    ("commune_officer", "AssistActivation", "ab"),
    ("commune_officer", "RecordSupportSession", "ab"),
    ("commune_officer", "UnlockCredential", "ab"),
    ("commune_officer", "ViewProgress", "e"),
    ("commune_officer", "ViewWorklist", "e"),
    ("commune_officer", "RecordVisit", "e"),
    ("commune_officer", "SubmitReport", "e"),
    ("commune_officer", "ReadReports", "e"),
    ("commune_officer", "RecordTraining", "e"),
    ("commune_officer", "LogHotlineCall", "e"),
    ("province_officer", "LookUpCitizen", "abc"),
    ("province_officer", "ViewProgress", "efg"),
    ("province_officer", "ViewWorklist", "efg"),
    ("province_officer", "SubmitReport", "efg"),
    ("province_officer", "ReadReports", "efg"),
    ("province_officer", "ManagePlan", "efg"),
    ("province_officer", "ImportRegister", "efg"),
    ("province_officer", "ImportProviderList", "efg"),
    ("province_officer", "RecordTraining", "efg"),
    ("province_officer", "LogHotlineCall", "efg"),
    ("province_officer", "ApproveReport", "ef"),
    ("hotline_operator", "LogHotlineCall", "efg"),
    ("hotline_operator", "ManageFaq", "l"),
    ("provider_operator", "IssueCertificate", "j"),
    ("provider_operator", "RevokeCertificate", "j"),
    ("auditor", "ViewAuditLog", "l"),
    ("auditor", "ViewProgress", "efgh"),
    ("auditor", "ReadReports", "efgh"),
    ("administrator", "ManageStaff", "l"),
    ("administrator", "ViewAuditLog", "l"),
    ("administrator", "ManageFaq", "l"),
    ("administrator", "ApproveReport", "gh"),
    ("administrator", "ViewProgress", "efgh"),
    ("administrator", "ReadReports", "efgh"),
    ("administrator", "ImportRegister", "efgh"),
    ("administrator", "ImportProviderList", "efgh"),
    ("administrator", "ManagePlan", "efgh"),
];

#[test]
fn role_area_action_table() {
    let (c01, c02, d09) = (Area::commune("01", "00004"), Area::commune("01", "00008"), Area::commune("79", "26734"));
    let (p01, p02) = (Area::province("01"), Area::province("79"));
    let res = resources(&c01, &c02, &d09, &p01, &p02);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for role in Role::ALL {
        let p = principal(role);
        for action in Action::ALL {
            let want = EXPECTED
                .iter()
                .find(|(r, a, _)| *r == role.as_str() && *a == format!("{action:?}"))
                .map(|(_, _, cols)| *cols)
                .unwrap_or("");
            for (col, r) in &res {
                checked += 1;
                let got = decide(&p, action, r).is_ok();
                if got != want.contains(*col) {
                    wrong.push(format!("{role} {action:?} on {col}: got {got}"));
                }
            }
        }
    }
    assert_eq!(checked, 8 * 24 * 12);
    assert!(wrong.is_empty(), "decisions differ from the table:\n{}", wrong.join("\n"));
}

#[test]
fn every_table_row_names_a_real_role_and_action() {
    for (r, a, _) in EXPECTED {
        assert!(Role::parse(r).is_some(), "{r}");
        assert!(Action::ALL.iter().any(|x| format!("{x:?}") == *a), "{a}");
    }
}

#[test]
fn a_citizen_scope_for_someone_else_is_denied() {
    let p = Principal { subject: "x".into(), role: Role::Citizen, scope: Scope::Person("001090000009".into()) };
    let a = Area::commune("01", "00004");
    assert!(decide(&p, Action::SignDocument, &Resource::Person { id_number: SELF_ID, area: Some(&a) }).is_err());
}

#[test]
fn misconfigured_scopes_deny() {
    // An administrator bound to a province (not national) cannot manage staff or read the log.
    let p = Principal { subject: "x".into(), role: Role::Administrator, scope: Scope::Province("01".into()) };
    assert!(decide(&p, Action::ManageStaff, &Resource::System).is_err());
    // Support staff without a commune (e.g. a provider scope by mistake) do nothing at the desk.
    let p = Principal { subject: "y".into(), role: Role::SupportStaff, scope: Scope::Provider("vnpt".into()) };
    let a = Area::commune("01", "00004");
    assert!(decide(&p, Action::LookUpCitizen, &Resource::Person { id_number: SELF_ID, area: Some(&a) }).is_err());
}
