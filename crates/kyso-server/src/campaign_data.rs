//! The campaign read model shared by the dashboard and `kyso campaign`: stored rows turned into the
//! campaign core's values (residents, certificate events, targets) and Vietnam-time dates.

use kyso_campaign::adoption::{Adoption, CertificateEvent};
use kyso_campaign::csv::parse_date;
use kyso_campaign::plan::{Baseline, Milestone, Percent, Target, TargetKind, TargetValue};
use kyso_campaign::population::{CitizenId, Register, Resident, Sex};
use kyso_store::campaign::{HolderCertRow, MilestoneRow, PlanRow, ResidentRow};
use kyso_store::Store;

pub type Fallible<T> = Result<T, String>;

// ---- dates: ISO text at the edges ----

/// The civil date of Unix day `z`, as `YYYY-MM-DD`.
pub fn civil(z: i64) -> String {
    kyso_calendar::iso_date_wide(z)
}

/// The date in Vietnam (UTC+7) at a Unix instant.
pub fn vn_date(secs: i64) -> String {
    kyso_calendar::vn_date(secs)
}

// ---- rows → campaign core ----

pub fn resident(r: &ResidentRow) -> Fallible<Resident> {
    Ok(Resident {
        id: CitizenId::parse(&r.id_number)?,
        full_name: r.full_name.clone(),
        date_of_birth: parse_date(&r.date_of_birth)?,
        sex: if r.sex == "F" { Sex::Female } else { Sex::Male },
        commune_code: r.commune_code.clone(),
        hamlet_code: r.hamlet_code.clone(),
        household: r.household.clone(),
    })
}

pub fn event(c: &HolderCertRow) -> Fallible<CertificateEvent> {
    let date = |secs: i64| parse_date(&vn_date(secs));
    Ok(CertificateEvent {
        id: CitizenId::parse(&c.id_number)?,
        provider: c.issuer_id.clone(),
        serial: Some(c.serial.clone()),
        issued: date(c.not_before)?,
        expires: Some(date(c.not_after + 1)?),
        revoked: c.revoked_at.map(date).transpose()?,
    })
}

pub fn value_of(percent: Option<i64>, absolute: Option<i64>) -> Fallible<TargetValue> {
    match (percent, absolute) {
        (Some(p), _) => {
            Ok(TargetValue::Percent(Percent::from_hundredths(u32::try_from(p).map_err(|e| e.to_string())?)))
        }
        (None, Some(n)) => Ok(TargetValue::Absolute(u64::try_from(n).map_err(|e| e.to_string())?)),
        (None, None) => Err("a target without a value".into()),
    }
}

pub fn target(p: &PlanRow, ms: &[MilestoneRow]) -> Fallible<Target> {
    let milestones = ms
        .iter()
        .map(|m| Ok(Milestone { date: parse_date(&m.date)?, value: value_of(m.percent_hundredths, m.absolute)? }))
        .collect::<Fallible<_>>()?;
    Ok(Target {
        unit_code: p.unit_code.clone(),
        kind: match p.target_kind.as_str() {
            "level" => Some(TargetKind::Level),
            "increment" => Some(TargetKind::Increment),
            _ => None,
        },
        baseline: Baseline {
            count: u64::try_from(p.baseline_count).map_err(|e| e.to_string())?,
            date: parse_date(&p.baseline_date)?,
            source: p.baseline_source.clone(),
        },
        value: value_of(p.target_percent_hundredths, p.target_absolute)?,
        deadline: parse_date(&p.deadline)?,
        milestones,
    })
}

pub async fn load(store: &Store, commune: &str, hamlet: Option<&str>) -> Fallible<(Register, Adoption)> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let residents = store.residents(commune, hamlet).await.map_err(err)?;
    let register = Register::new(residents.iter().map(resident).collect::<Fallible<Vec<_>>>()?);
    let certs = store.holder_certificates(commune, hamlet).await.map_err(err)?;
    let events = certs.iter().map(event).collect::<Fallible<Vec<_>>>()?;
    let mut adoption = Adoption::new();
    adoption.apply(&register, &events);
    Ok((register, adoption))
}
