//! e-ID accounts, staff accounts, support points and support sessions as a service.
//!
//! Level 1 is self-registration (ID number, phone, password) of a person who is in the imported
//! population register. Level 2 only ever comes from an officer who checked the person in person
//! (chip card + face): that act is audited and, in the same transaction, marks the citizen as
//! level 2 for issuance. A registration never raises the level by itself.

use crate::{Authority, AuthorityError, Result};
use kyso_access::{password, Area, Principal, Role, Scope};
use kyso_pki::CitizenId;
use kyso_store::accounts::{EidAccountRow, StaffAccountRow, SupportPointRow, SupportSessionRow};
use kyso_store::{AuditEvent, CitizenRow, StoreError, Write};

/// The 2022 plan's activation cases (plus plain level-1 self-registration).
pub const ACTIVATIONS: [&str; 4] = ["registered", "awaiting_approval", "issued_with_card", "self_activated"];
/// Steps a support session can record.
pub const STEPS: [&str; 5] = ["eid_level2", "certificate_issued", "first_signature", "pin_unlock", "advice"];
pub const OUTCOMES: [&str; 4] = ["completed", "partial", "referred", "declined"];
pub const POINT_KINDS: [&str; 7] =
    ["one_stop", "commune", "university", "industrial_zone", "bank", "station", "mobile"];

/// Who a resident is, as the register and the unit list know them.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: CitizenId,
    pub full_name: String,
    pub date_of_birth: String,
    pub commune_code: String,
    pub commune_name: String,
    pub province_code: String,
    pub province_name: String,
    pub hamlet_code: String,
}

impl Person {
    pub fn area(&self) -> Area {
        Area::commune(&self.province_code, &self.commune_code)
    }
}

/// A Vietnamese mobile number: 0 + 9 digits, or +84 + 9 digits; returned as 0xxxxxxxxx.
pub fn normalise_phone(s: &str) -> Result<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
    let rest = digits
        .strip_prefix("+84")
        .or_else(|| digits.strip_prefix("84").filter(|r| r.len() == 9))
        .map(|r| format!("0{r}"));
    let n = rest.unwrap_or(digits);
    if n.len() == 10 && n.starts_with('0') && n.chars().all(|c| c.is_ascii_digit()) && !n.starts_with("00") {
        Ok(n)
    } else {
        Err(AuthorityError::Refused(
            "phone: số điện thoại di động gồm 10 chữ số, bắt đầu bằng 0 / a 10-digit mobile number starting with 0"
                .into(),
        ))
    }
}

fn refused(msg: impl Into<String>) -> AuthorityError {
    AuthorityError::Refused(msg.into())
}

async fn hash_password(pw: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| refused(format!("password worker failed: {e}")))
}

async fn verify_password(pw: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(&pw, &phc)).await.unwrap_or(false)
}

impl Authority {
    /// The person behind an ID number, from the register; `None` if not registered here.
    pub async fn person(&self, id: &CitizenId) -> Result<Option<Person>> {
        let Some(r) = self.store.resident(id.expose()).await? else { return Ok(None) };
        let c = self.store.commune(&r.commune_code).await?;
        Ok(Some(Person {
            id: id.clone(),
            full_name: r.full_name.unwrap_or_default(),
            date_of_birth: r.date_of_birth,
            commune_name: c.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| r.commune_code.clone()),
            province_code: c.as_ref().map(|c| c.province_code.clone()).unwrap_or_default(),
            province_name: c.map(|c| c.province_name).unwrap_or_default(),
            commune_code: r.commune_code,
            hamlet_code: r.hamlet_code,
        }))
    }

    /// Level-1 self-registration. The person must be in the register; one account per ID number.
    pub async fn register_eid(&self, id_number: &str, phone: &str, pw: &str) -> Result<EidAccountRow> {
        let id = CitizenId::parse(id_number.trim()).map_err(|e| refused(format!("id_number: {e}")))?;
        let phone = normalise_phone(phone)?;
        password::check_new(pw).map_err(refused)?;
        if self.person(&id).await?.is_none() {
            return Err(refused(format!(
                "id_number: {} không có trong dữ liệu dân cư ở đây; liên hệ Công an cấp xã / is not in the population register here: ask the commune police",
                id.masked()
            )));
        }
        let now = kyso_store::now();
        let row = EidAccountRow {
            id_number: id.expose().to_string(),
            phone,
            password_hash: hash_password(pw.to_string()).await?,
            level: 1,
            activation: "registered".into(),
            verified_method: None,
            verified_by: None,
            verified_place: None,
            verified_at: None,
            created_at: now,
            updated_at: now,
        };
        let ev = AuditEvent::new("citizen", "eid.register", &id.masked(), "level 1 self-registration");
        match self.committer().commit(vec![Write::EidAccount(row.clone()), Write::Audit(ev)]).await {
            Ok(()) => Ok(row),
            Err(StoreError::Conflict(_)) => Err(refused(format!(
                "id_number: {} đã có tài khoản; hãy đăng nhập / already has an account: log in",
                id.masked()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a citizen's password; `None` for a wrong password or an unknown ID (same time taken).
    pub async fn citizen_login(&self, id_number: &str, pw: &str) -> Result<Option<EidAccountRow>> {
        let acct = match CitizenId::parse(id_number.trim()) {
            Ok(id) => self.store.eid_account(id.expose()).await?,
            Err(_) => None,
        };
        let phc = acct.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| password::dummy_hash().to_string());
        let ok = verify_password(pw.to_string(), phc).await;
        Ok(acct.filter(|_| ok))
    }

    /// Records that the person filed an application that now awaits police approval (the 2022
    /// plan's first case). The level stays 1 until an officer verifies them in person.
    pub async fn mark_awaiting_approval(&self, officer: &Principal, id: &CitizenId) -> Result<()> {
        let person = self.person(id).await?;
        kyso_access::decide(
            officer,
            kyso_access::Action::VerifyEidLevel2,
            &kyso_access::Resource::Person { id_number: id.expose(), area: person.as_ref().map(|p| p.area()).as_ref() },
        )
        .map_err(|d| refused(d.to_string()))?;
        let Some(a) = self.store.eid_account(id.expose()).await? else {
            return Err(refused(format!("{} has no e-ID account yet: register first", id.masked())));
        };
        if a.level >= 2 {
            return Err(refused(format!("{} is already at level 2", id.masked())));
        }
        let ev = AuditEvent::new(
            &officer.subject,
            "eid.awaiting_approval",
            &id.masked(),
            "application filed, awaiting approval",
        );
        self.committer()
            .commit(vec![
                Write::EidActivation { id_number: a.id_number, activation: "awaiting_approval".into() },
                Write::Audit(ev),
            ])
            .await?;
        Ok(())
    }

    /// Level 2 after an in-person check by `officer` at `place` with `method` (chip card + face).
    /// `activation` is the plan's case: `issued_with_card` or `self_activated` (or
    /// `awaiting_approval` approved now). Marks the citizen level 2 for issuance, in one commit.
    pub async fn verify_eid_level2(
        &self,
        officer: &Principal,
        id: &CitizenId,
        activation: &str,
        method: &str,
        place: &str,
    ) -> Result<Person> {
        if !matches!(activation, "issued_with_card" | "self_activated" | "awaiting_approval") {
            return Err(refused("activation: issued_with_card, self_activated or awaiting_approval"));
        }
        if method.trim().is_empty() {
            return Err(refused("method: record how the person was checked (e.g. chip card + face)"));
        }
        let person = self
            .person(id)
            .await?
            .ok_or_else(|| refused(format!("id_number: {} is not in the register", id.masked())))?;
        kyso_access::decide(
            officer,
            kyso_access::Action::VerifyEidLevel2,
            &kyso_access::Resource::Person { id_number: id.expose(), area: Some(&person.area()) },
        )
        .map_err(|d| refused(d.to_string()))?;
        if self.store.eid_account(id.expose()).await?.is_none() {
            return Err(refused(format!(
                "{} chưa có tài khoản mức 1: hướng dẫn người dân đăng ký trước / has no level-1 account yet: register first",
                id.masked()
            )));
        }
        let now = kyso_store::now();
        let citizen = CitizenRow {
            id_number: id.expose().to_string(),
            full_name: person.full_name.clone(),
            province: person.province_name.clone(),
            commune: Some(person.commune_name.clone()),
            eid_level: 2,
            updated_at: now,
        };
        let ev = AuditEvent::new(
            &officer.subject,
            "eid.verify_level2",
            &id.masked(),
            format!("{activation}; method {method}; at {place}"),
        );
        self.committer()
            .commit(vec![
                Write::EidVerified {
                    id_number: id.expose().to_string(),
                    activation: activation.into(),
                    method: method.trim().into(),
                    officer: officer.subject.clone(),
                    place: place.into(),
                    at: now,
                },
                Write::Citizen(citizen),
                Write::Audit(ev),
            ])
            .await?;
        Ok(person)
    }

    pub async fn add_support_point(&self, p: SupportPointRow, actor: &str) -> Result<()> {
        if !POINT_KINDS.contains(&p.kind.as_str()) {
            return Err(refused(format!("kind: one of {}", POINT_KINDS.join(", "))));
        }
        if p.opening_days.is_empty() || !p.opening_days.chars().all(|c| ('1'..='7').contains(&c)) {
            return Err(refused("opening_days: ISO weekdays 1–7, e.g. 123456 for Monday–Saturday"));
        }
        let ev = AuditEvent::new(
            actor,
            "support_point.upsert",
            &p.id,
            format!("{} ({}) in {}", p.name, p.kind, p.commune_code),
        );
        self.committer().commit(vec![Write::SupportPoint(p), Write::Audit(ev)]).await?;
        Ok(())
    }

    /// Creates or replaces a staff account. The scope must suit the role.
    pub async fn add_staff(&self, mut s: StaffAccountRow, pw: &str, actor: &str) -> Result<()> {
        let role = Role::parse(&s.role).ok_or_else(|| refused("role: unknown role"))?;
        let ok = matches!(
            (role, s.scope_kind.as_str()),
            (Role::SupportStaff | Role::CommuneOfficer, "commune")
                | (Role::ProvinceOfficer, "province")
                | (Role::ProviderOperator, "provider")
                | (Role::Auditor, "national" | "province")
                | (Role::Administrator, "national")
        );
        if !ok || role == Role::Citizen {
            return Err(refused(format!("scope: a {role} cannot have a {} scope", s.scope_kind)));
        }
        let known = match s.scope_kind.as_str() {
            "commune" => self.store.commune(&s.scope_code).await?.is_some(),
            "province" => self.store.communes(None).await?.iter().any(|c| c.province_code == s.scope_code),
            "provider" => self.config.provider(&s.scope_code).is_some(),
            _ => true,
        };
        if !known {
            return Err(refused(format!(
                "scope: unknown {} `{}`; import the administrative units first (kyso campaign import-units)",
                s.scope_kind, s.scope_code
            )));
        }
        if role == Role::SupportStaff {
            let point =
                s.point_id.as_deref().ok_or_else(|| refused("point: support staff belong to a support point"))?;
            let p = self.store.support_point(point).await?.ok_or_else(|| refused("point: unknown support point"))?;
            if p.commune_code != s.scope_code {
                return Err(refused("point: the support point is not in the staff member's commune"));
            }
        }
        password::check_new(pw).map_err(refused)?;
        s.password_hash = hash_password(pw.to_string()).await?;
        let ev = AuditEvent::new(
            actor,
            "staff.upsert",
            &s.username,
            format!("{} {} {}", s.role, s.scope_kind, s.scope_code),
        );
        self.committer().commit(vec![Write::Staff(s), Write::Audit(ev)]).await?;
        Ok(())
    }

    /// Checks a staff password; returns the principal it acts as.
    pub async fn staff_login(&self, username: &str, pw: &str) -> Result<Option<(StaffAccountRow, Principal)>> {
        let s = self.store.staff_account(username.trim()).await?;
        let phc = s.as_ref().map(|s| s.password_hash.clone()).unwrap_or_else(|| password::dummy_hash().to_string());
        if !verify_password(pw.to_string(), phc).await {
            return Ok(None);
        }
        match s {
            Some(s) => {
                let p = self.staff_principal(&s).await?;
                Ok(Some((s, p)))
            }
            None => Ok(None),
        }
    }

    /// The principal of a staff account (a commune scope carries its province).
    pub async fn staff_principal(&self, s: &StaffAccountRow) -> Result<Principal> {
        let role = Role::parse(&s.role).ok_or_else(|| refused("role: unknown role"))?;
        let scope = match s.scope_kind.as_str() {
            "national" => Scope::National,
            "province" => Scope::Province(s.scope_code.clone()),
            "provider" => Scope::Provider(s.scope_code.clone()),
            "commune" => {
                let c = self.store.commune(&s.scope_code).await?.ok_or_else(|| refused("scope: unknown commune"))?;
                Scope::Commune { province: c.province_code, commune: c.code }
            }
            other => return Err(refused(format!("scope: unknown scope kind {other}"))),
        };
        Ok(Principal { subject: s.username.clone(), role, scope })
    }

    /// Keyed hash of an ID number, shared with door-to-door visits so the campaign can join them
    /// without storing the number.
    pub async fn person_hash(&self, id: &CitizenId) -> Result<Vec<u8>> {
        let key = match self.store.setting("campaign_visit_key").await? {
            Some(k) => k,
            None => {
                let k = kyso_custody::Kek::generate()?.to_hex();
                self.committer().commit(vec![Write::Setting { name: "campaign_visit_key".into(), value: k }]).await?;
                self.store.setting("campaign_visit_key").await?.unwrap_or_default()
            }
        };
        Ok(kyso_pki::alg::sha256(format!("kyso-visit\0{key}\0{}", id.expose()).as_bytes()))
    }

    /// Records a support session at a point: who helped whom (masked, hashed) with which steps.
    pub async fn record_support_session(
        &self,
        staff: &Principal,
        point_id: &str,
        id: &CitizenId,
        steps: &[String],
        outcome: &str,
        day: &str,
    ) -> Result<()> {
        if let Some(bad) = steps.iter().find(|s| !STEPS.contains(&s.as_str())) {
            return Err(refused(format!("steps: unknown step `{bad}`; one of {}", STEPS.join(", "))));
        }
        if !OUTCOMES.contains(&outcome) {
            return Err(refused(format!("outcome: one of {}", OUTCOMES.join(", "))));
        }
        let person = self.person(id).await?;
        kyso_access::decide(
            staff,
            kyso_access::Action::RecordSupportSession,
            &kyso_access::Resource::Person { id_number: id.expose(), area: person.as_ref().map(|p| p.area()).as_ref() },
        )
        .map_err(|d| refused(d.to_string()))?;
        let row = SupportSessionRow {
            id: 0,
            point_id: point_id.into(),
            staff: staff.subject.clone(),
            id_hash: self.person_hash(id).await?,
            id_masked: id.masked(),
            steps: steps.join(","),
            outcome: outcome.into(),
            day: day.into(),
            at: kyso_store::now(),
        };
        let ev = AuditEvent::new(
            &staff.subject,
            "support.session",
            &id.masked(),
            format!("{point_id}: {} → {outcome}", row.steps),
        );
        self.committer().commit(vec![Write::SupportSession(row), Write::Audit(ev)]).await?;
        Ok(())
    }
}
