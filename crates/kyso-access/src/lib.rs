//! Who may do what, and where. One decision function for every role × area × action in kyso
//! ([`decide`], deny by default), plus the small security primitives the web shell needs:
//! Argon2id password hashes ([`password`]), login throttling ([`throttle`]) and session / CSRF
//! tokens ([`token`]).
//!
//! Architecture invariant: no IO and no clock. Times come in as arguments; the HTTP shell asks
//! [`decide`] before every action and never decides on its own.

pub mod password;
pub mod throttle;
pub mod token;

use std::fmt;

/// The eight roles of the rollout. A staff account has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A resident acting for themself.
    Citizen,
    /// Staff at a support point (one-stop desk, commune point, mobile point).
    SupportStaff,
    CommuneOfficer,
    ProvinceOfficer,
    /// Staff of a licensed certificate provider.
    ProviderOperator,
    /// Reads the audit log and the figures; changes nothing.
    Auditor,
    /// Runs the installation: staff accounts, register imports. Issues and signs nothing.
    Administrator,
    /// Answers the hotline for an area (a commune, a province or the whole country): logs
    /// questions and keeps the FAQ. Sees no person's records.
    HotlineOperator,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Citizen,
        Role::SupportStaff,
        Role::CommuneOfficer,
        Role::ProvinceOfficer,
        Role::ProviderOperator,
        Role::Auditor,
        Role::Administrator,
        Role::HotlineOperator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::SupportStaff => "support_staff",
            Role::CommuneOfficer => "commune_officer",
            Role::ProvinceOfficer => "province_officer",
            Role::ProviderOperator => "provider_operator",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
            Role::HotlineOperator => "hotline_operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Vietnamese name, as shown in the web app.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Citizen => "Công dân",
            Role::SupportStaff => "Cán bộ điểm hỗ trợ",
            Role::CommuneOfficer => "Cán bộ cấp xã",
            Role::ProvinceOfficer => "Cán bộ cấp tỉnh",
            Role::ProviderOperator => "Nhân viên nhà cung cấp",
            Role::Auditor => "Kiểm toán viên",
            Role::Administrator => "Quản trị hệ thống",
            Role::HotlineOperator => "Tổng đài viên",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a place is: a province, and within it possibly a commune (codes from the 2025 list).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Area {
    pub province: String,
    pub commune: Option<String>,
}

impl Area {
    pub fn province(code: &str) -> Area {
        Area { province: code.to_string(), commune: None }
    }
    pub fn commune(province: &str, commune: &str) -> Area {
        Area { province: province.to_string(), commune: Some(commune.to_string()) }
    }
}

/// How far a principal's authority reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    National,
    Province(String),
    /// A commune, or a support point in it.
    Commune {
        province: String,
        commune: String,
    },
    /// One licensed provider's certificates.
    Provider(String),
    /// Oneself (citizens): the ID number.
    Person(String),
}

impl Scope {
    /// Does this scope's area contain `area`? Provider and person scopes cover no area.
    fn covers(&self, area: &Area) -> bool {
        match self {
            Scope::National => true,
            Scope::Province(p) => *p == area.province,
            Scope::Commune { province, commune } => {
                *province == area.province && area.commune.as_deref() == Some(commune.as_str())
            }
            Scope::Provider(_) | Scope::Person(_) => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Username or ID number, for the audit log (never shown unmasked in lists).
    pub subject: String,
    pub role: Role,
    pub scope: Scope,
}

/// What is being acted on.
#[derive(Clone, Debug)]
pub enum Resource<'a> {
    /// A resident, with the area of their register entry (if known).
    Person { id_number: &'a str, area: Option<&'a Area> },
    /// Figures, worklists, reports and plans of an administrative unit.
    Unit(&'a Area),
    /// A provider's certificate operations.
    Provider(&'a str),
    /// The installation as a whole (audit log, staff accounts).
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    // A citizen for themself.
    ViewOwnAccount,
    ManageOwnCertificates,
    SignDocument,
    // At a support point, with the person present.
    LookUpCitizen,
    VerifyEidLevel2,
    AssistActivation,
    RecordSupportSession,
    UnlockCredential,
    // The campaign.
    ViewProgress,
    ViewWorklist,
    RecordVisit,
    SubmitReport,
    /// Read what officers wrote in a unit's reports (difficulties, proposals), who submitted and
    /// when. The figures and whether a report came in are public.
    ReadReports,
    ManagePlan,
    ImportRegister,
    ImportProviderList,
    // Certificate operations of a provider.
    IssueCertificate,
    RevokeCertificate,
    // The installation.
    ViewAuditLog,
    ManageStaff,
    // Reaching people (issue 21).
    /// Log a hotline question about a unit, and read the unit's log.
    LogHotlineCall,
    /// Edit the FAQ and the operator hours (the installation's, not an area's).
    ManageFaq,
    /// Record a training session and who attended, for a unit.
    RecordTraining,
    /// Approve or return a unit's submitted report: the level above the unit (DHIS2's approval).
    ApproveReport,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::ViewOwnAccount,
        Action::ManageOwnCertificates,
        Action::SignDocument,
        Action::LookUpCitizen,
        Action::VerifyEidLevel2,
        Action::AssistActivation,
        Action::RecordSupportSession,
        Action::UnlockCredential,
        Action::ViewProgress,
        Action::ViewWorklist,
        Action::RecordVisit,
        Action::SubmitReport,
        Action::ReadReports,
        Action::ManagePlan,
        Action::ImportRegister,
        Action::ImportProviderList,
        Action::IssueCertificate,
        Action::RevokeCertificate,
        Action::ViewAuditLog,
        Action::ManageStaff,
        Action::LogHotlineCall,
        Action::ManageFaq,
        Action::RecordTraining,
        Action::ApproveReport,
    ];
}

/// Why something was refused; shown to the user (it names no hidden data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied(pub &'static str);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Denied {}

/// The one authorization decision. Deny by default: every allowed case is listed here.
///
/// Choices worth knowing:
/// - Support staff serve whoever walks up to their desk, so person-level desk actions are not
///   limited to the desk's commune; area figures and worklists are.
/// - Level-2 verification is a desk (or commune) act done in person; province officers,
///   providers and administrators cannot do it from afar.
/// - Administrators manage accounts and imports but never issue, revoke or sign: separation of
///   duties. Auditors read and change nothing.
pub fn decide(p: &Principal, action: Action, resource: &Resource<'_>) -> Result<(), Denied> {
    use Action::*;
    use Resource as R;
    let in_scope = |area: &Area| p.scope.covers(area);
    let person_in_scope = |area: Option<&Area>| area.is_some_and(in_scope);
    let allowed = match (p.role, action, resource) {
        // Citizens: only themselves.
        (Role::Citizen, ViewOwnAccount | ManageOwnCertificates | SignDocument, R::Person { id_number, .. }) => {
            p.scope == Scope::Person(id_number.to_string())
        }
        // Support staff: the person at the desk, anywhere; figures of their own commune.
        (
            Role::SupportStaff,
            LookUpCitizen | VerifyEidLevel2 | AssistActivation | RecordSupportSession,
            R::Person { .. },
        ) => {
            matches!(p.scope, Scope::Commune { .. })
        }
        (Role::SupportStaff, UnlockCredential, R::Person { .. }) => matches!(p.scope, Scope::Commune { .. }),
        (Role::SupportStaff, ViewProgress | ViewWorklist | RecordVisit, R::Unit(a)) => in_scope(a),
        // Commune officers: their commune's people and figures.
        (
            Role::CommuneOfficer,
            LookUpCitizen | VerifyEidLevel2 | AssistActivation | RecordSupportSession | UnlockCredential,
            R::Person { area, .. },
        ) => person_in_scope(*area),
        (
            Role::CommuneOfficer,
            ViewProgress | ViewWorklist | RecordVisit | SubmitReport | ReadReports | RecordTraining | LogHotlineCall,
            R::Unit(a),
        ) => in_scope(a) && a.commune.is_some(),
        // The level above approves: a province officer its communes' reports (not its own).
        (Role::ProvinceOfficer, ApproveReport, R::Unit(a)) => in_scope(a) && a.commune.is_some(),
        // Province officers: their province's figures, plans, reports and imports.
        (
            Role::ProvinceOfficer,
            ViewProgress | ViewWorklist | SubmitReport | ReadReports | ManagePlan | ImportRegister | ImportProviderList
            | RecordTraining | LogHotlineCall,
            R::Unit(a),
        ) => in_scope(a),
        // Hotline operators: the questions of their area, and the FAQ.
        (Role::HotlineOperator, LogHotlineCall, R::Unit(a)) => in_scope(a),
        (Role::HotlineOperator, ManageFaq, R::System) => true,
        (Role::ProvinceOfficer, LookUpCitizen, R::Person { area, .. }) => person_in_scope(*area),
        // Provider operators: their own CA's certificates.
        (Role::ProviderOperator, IssueCertificate | RevokeCertificate, R::Provider(id)) => {
            p.scope == Scope::Provider(id.to_string())
        }
        // Auditors: read-only.
        (Role::Auditor, ViewAuditLog, R::System) => true,
        (Role::Auditor, ViewProgress | ReadReports, R::Unit(a)) => in_scope(a),
        // Administrators: accounts, imports, plans, the audit log; never issue, revoke or sign.
        (Role::Administrator, ManageStaff | ViewAuditLog | ManageFaq, R::System) => p.scope == Scope::National,
        // The ministry's level: the national administrator approves the provinces' reports.
        (Role::Administrator, ApproveReport, R::Unit(a)) => in_scope(a) && a.commune.is_none(),
        (
            Role::Administrator,
            ViewProgress | ReadReports | ImportRegister | ImportProviderList | ManagePlan,
            R::Unit(a),
        ) => in_scope(a),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied("không có quyền thực hiện thao tác này / not permitted"))
    }
}

#[cfg(test)]
mod tests;
