//! e-ID accounts, staff accounts, support points and support sessions as a service.
//!
//! Level 1 is self-registration (ID number, phone, password) of a person who is in the imported
//! population register. Level 2 only ever comes from an officer who checked the person in person
//! (chip card + face): that act is audited and, in the same transaction, marks the citizen as
//! level 2 for issuance. A registration never raises the level by itself.

use crate::{Authority, AuthorityError, Result};
use kyso_access::throttle::{self, Limit};
use kyso_access::{password, Area, Principal, Role, Scope};
use kyso_pki::CitizenId;
use kyso_store::accounts::{EidAccountRow, StaffAccountRow, SupportPointRow, SupportSessionRow};
use kyso_store::throttle::{AttemptKey, Counted};
use kyso_store::{AuditEvent, CitizenRow, StoreError, Write};
use std::net::IpAddr;
use std::sync::atomic::Ordering;

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

fn attempt_key(key: String, l: Limit) -> AttemptKey {
    AttemptKey { key, max: i64::from(l.max), window: l.window as i64 }
}

/// What a login attempt counts against: the account (5 in 15 minutes) and, when known, the
/// client's address (30 in 15 minutes; an IPv6 /64).
fn login_keys(account: &str, client: Option<IpAddr>) -> Vec<AttemptKey> {
    let mut keys = vec![attempt_key(account.to_string(), throttle::ACCOUNT)];
    keys.extend(client.map(|ip| attempt_key(throttle::address_key(ip), throttle::ADDRESS)));
    keys
}

/// A client address for the audit log and the server log.
fn client_text(client: Option<IpAddr>) -> String {
    client.map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string())
}

impl Authority {
    /// Argon2id of a new password, behind the gate.
    async fn hash_password(&self, pw: String) -> Result<String> {
        self.argon2(move || password::hash(&pw)).await
    }

    /// Checks a password against a stored hash, or against a dummy one when there is no account
    /// (same work: no account enumeration by timing), behind the gate.
    async fn verify_password(&self, pw: String, phc: Option<String>) -> Result<bool> {
        self.argon2(move || {
            let ok = password::verify(&pw, phc.as_deref().unwrap_or_else(|| password::dummy_hash()));
            ok && phc.is_some()
        })
        .await
    }

    /// Counts an attempt against every key before it is evaluated, atomically in the store
    /// (kyso-access's rule): `Throttled` with the wait when a key has used up its window.
    async fn count_attempt(&self, keys: &[AttemptKey]) -> Result<Vec<Counted>> {
        let now = kyso_store::now();
        self.prune_attempts(now).await;
        match self.store.count_attempt(keys, now).await? {
            Ok(counted) => Ok(counted),
            Err(wait) => Err(AuthorityError::Throttled(wait.max(1) as u64)),
        }
    }

    /// Gives counted attempts back (the password was right, or it was never checked).
    async fn give_back(&self, counted: &[Counted]) {
        if let Err(e) = self.store.give_back_attempts(counted).await {
            tracing::warn!(error = %e, "login attempts not given back");
        }
    }

    /// At most once a minute, deletes the throttle windows that have closed: the table holds the
    /// last window's keys only.
    async fn prune_attempts(&self, now: i64) {
        let last = self.throttle_pruned.load(Ordering::Acquire);
        if now - last < 60
            || self.throttle_pruned.compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire).is_err()
        {
            return;
        }
        let longest = [throttle::ACCOUNT, throttle::ADDRESS, throttle::REGISTER_ADDRESS].iter().map(|l| l.window).max();
        match self.store.prune_attempts(now - longest.unwrap_or(0) as i64).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(windows = n, "closed login throttle windows pruned"),
            Err(e) => tracing::warn!(error = %e, "login throttle not pruned"),
        }
    }

    /// Runs a counted login check: on success the account's attempts are forgotten and the
    /// address's given back; on a wrong password the attempt stays counted and is audited (the
    /// account as `subject`, masked) and logged, never the password; on an error or a busy gate it
    /// is given back.
    async fn counted_login<T>(
        &self,
        account: &str,
        client: Option<IpAddr>,
        action: &str,
        subject: impl FnOnce() -> String,
        check: impl std::future::Future<Output = Result<Option<T>>>,
    ) -> Result<Option<T>> {
        let counted = match self.count_attempt(&login_keys(account, client)).await {
            Ok(c) => c,
            Err(e) => {
                // Not audited: a refusal costs no check, and an audit row each would let a flood
                // of refused requests grow the log.
                tracing::debug!(client = %client_text(client), "{action}: refused before the check: {e}");
                return Err(e);
            }
        };
        match check.await {
            Ok(Some(v)) => {
                if let Err(e) = self.store.clear_attempts(account).await {
                    tracing::warn!(error = %e, "account login attempts not cleared");
                }
                let address: Vec<Counted> = counted.into_iter().filter(|c| c.key != account).collect();
                self.give_back(&address).await;
                Ok(Some(v))
            }
            Ok(None) => {
                let subject = subject();
                let client = client_text(client);
                let n = counted.iter().find(|c| c.key == account).map_or(0, |c| c.attempts);
                let (max, minutes) = (throttle::ACCOUNT.max, throttle::ACCOUNT.window / 60);
                let mut detail = format!("wrong password from {client}: attempt {n} of {max} in {minutes} minutes");
                if n >= i64::from(max) {
                    detail.push_str("; further attempts refused until the window closes");
                }
                tracing::warn!(account = %subject, client = %client, attempt = n, "{action}: wrong password");
                self.committer().commit(vec![Write::Audit(AuditEvent::new("web", action, &subject, detail))]).await?;
                Ok(None)
            }
            Err(e) => {
                self.give_back(&counted).await;
                Err(e)
            }
        }
    }

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
    /// Each registration counts against the client's address (30 in 15 minutes, whatever the
    /// outcome; `Throttled` beyond), and its password is hashed behind the Argon2 gate.
    pub async fn register_eid(
        &self,
        id_number: &str,
        phone: &str,
        pw: &str,
        client: Option<IpAddr>,
    ) -> Result<EidAccountRow> {
        if let Some(ip) = client {
            let key = format!("register:{}", throttle::address_key(ip));
            let counted = self.count_attempt(&[attempt_key(key, throttle::REGISTER_ADDRESS)]).await?;
            let r = self.register_counted(id_number, phone, pw).await;
            if matches!(r, Err(AuthorityError::Busy(_))) {
                self.give_back(&counted).await;
            }
            return r;
        }
        self.register_counted(id_number, phone, pw).await
    }

    async fn register_counted(&self, id_number: &str, phone: &str, pw: &str) -> Result<EidAccountRow> {
        let id = CitizenId::parse(id_number.trim()).map_err(|e| refused(format!("id_number: {e}")))?;
        let phone = normalise_phone(phone)?;
        password::check_new(pw).map_err(|w| refused(w.to_string()))?;
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
            password_hash: self.hash_password(pw.to_string()).await?,
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
    /// The attempt is counted against the ID number and the client's address before the check
    /// (`Throttled` when either has used up its window), given back when right, audited (ID
    /// masked) when wrong; `Busy` when too many checks run at once.
    pub async fn citizen_login(
        &self,
        id_number: &str,
        pw: &str,
        client: Option<IpAddr>,
    ) -> Result<Option<EidAccountRow>> {
        let id = CitizenId::parse(id_number.trim()).ok();
        let masked = || id.as_ref().map_or_else(|| "(not an ID number)".to_string(), CitizenId::masked);
        // Keyed by the number as parsed, so that no spelling of it gets attempts of its own.
        let account = throttle::account_key("citizen", id.as_ref().map_or(id_number, |i| i.expose()));
        let check = async {
            let acct = match &id {
                Some(id) => self.store.eid_account(id.expose()).await?,
                None => None,
            };
            let ok = self.verify_password(pw.to_string(), acct.as_ref().map(|a| a.password_hash.clone())).await?;
            Ok(acct.filter(|_| ok))
        };
        self.counted_login(&account, client, "login.failed", masked, check).await
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

    pub async fn add_support_point(&self, mut p: SupportPointRow, actor: &str) -> Result<()> {
        if !POINT_KINDS.contains(&p.kind.as_str()) {
            return Err(refused(format!("kind: one of {}", POINT_KINDS.join(", "))));
        }
        if p.opening_days.is_empty() || !p.opening_days.chars().all(|c| ('1'..='7').contains(&c)) {
            return Err(refused("opening_days: ISO weekdays 1–7, e.g. 123456 for Monday–Saturday"));
        }
        p.opening_hours = opening_hours(&p.opening_hours)?;
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
                | (Role::HotlineOperator, "commune" | "province" | "national")
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
        password::check_new(pw).map_err(|w| refused(w.to_string()))?;
        s.password_hash = self.hash_password(pw.to_string()).await?;
        let ev = AuditEvent::new(
            actor,
            "staff.upsert",
            &s.username,
            format!("{} {} {}", s.role, s.scope_kind, s.scope_code),
        );
        self.committer().commit(vec![Write::Staff(s), Write::Audit(ev)]).await?;
        Ok(())
    }

    /// Checks a staff password; returns the principal it acts as. Counted, throttled and audited
    /// as [`Authority::citizen_login`]; the audit names a known username, and an unknown one only
    /// as such (it may be a password typed in the wrong field).
    pub async fn staff_login(
        &self,
        username: &str,
        pw: &str,
        client: Option<IpAddr>,
    ) -> Result<Option<(StaffAccountRow, Principal)>> {
        let account = throttle::account_key("staff", username);
        let known = std::sync::Mutex::new(None::<String>);
        let check = async {
            let s = self.store.staff_account(username.trim()).await?;
            *known.lock().unwrap_or_else(|e| e.into_inner()) = s.as_ref().map(|s| s.username.clone());
            if !self.verify_password(pw.to_string(), s.as_ref().map(|s| s.password_hash.clone())).await? {
                return Ok(None);
            }
            match s {
                Some(s) => {
                    let p = self.staff_principal(&s).await?;
                    Ok(Some((s, p)))
                }
                None => Ok(None),
            }
        };
        let subject = || {
            known.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(|| "(unknown username)".to_string())
        };
        self.counted_login(&account, client, "staff.login.failed", subject, check).await
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

/// Opening hours as ranges `H:MM-H:MM` separated by commas (`-` or `–`), each opening before it
/// closes and after the one before; written back as `7:30–11:30, 13:30–17:00`. Empty stays empty.
pub fn opening_hours(text: &str) -> Result<String> {
    let bad = |why: &str| {
        refused(format!(
            "opening_hours: {why}; write ranges such as 7:30-11:30, 13:30-17:00 / giờ mở cửa: {why}; ví dụ 7:30-11:30, 13:30-17:00"
        ))
    };
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once([':', 'h'])?;
        let (h, m): (u32, u32) = (h.parse().ok()?, if m.is_empty() { 0 } else { m.parse().ok()? });
        (h <= 24 && m < 60 && h * 60 + m <= 24 * 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
    };
    let mut out = Vec::new();
    let mut last = 0;
    for range in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let (a, b) = range.split_once(['-', '–']).ok_or_else(|| bad(&format!("`{range}` is not a range")))?;
        let (Some(a), Some(b)) = (minute(a), minute(b)) else {
            return Err(bad(&format!("`{range}` is not two times H:MM")));
        };
        if a >= b || a < last {
            return Err(bad(&format!("`{range}` closes before it opens or overlaps the range before")));
        }
        last = b;
        out.push(format!("{}:{:02}–{}:{:02}", a / 60, a % 60, b / 60, b % 60));
    }
    if out.len() > 4 {
        return Err(bad("at most 4 ranges"));
    }
    Ok(out.join(", "))
}
