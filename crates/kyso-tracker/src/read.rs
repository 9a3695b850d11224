//! The campaign read model shared by the dashboard and `kyso campaign`: stored rows turned into the
//! campaign core's values (residents, certificate events, targets) and Vietnam-time dates, and a
//! commune's progress against both readings of its target.

use kyso_campaign::adoption::{Adoption, CertificateEvent};
use kyso_campaign::csv::parse_date;
use kyso_campaign::plan::{Baseline, Milestone, Percent, Target, TargetKind, TargetValue};
use kyso_campaign::population::{CitizenId, Register, Resident, Sex};
use kyso_store::campaign::{HolderCertRow, MilestoneRow, PlanRow, ResidentRow};
use kyso_store::Store;
use serde_json::{json, Value};

/// The read models' result: the error is a sentence for a log or a 500 page.
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

fn status_name(s: kyso_campaign::forecast::Status) -> &'static str {
    use kyso_campaign::forecast::Status;
    match s {
        Status::Green => "green",
        Status::Amber => "amber",
        Status::Red => "red",
    }
}

/// Progress of a commune on `date` (ISO) as JSON: the dashboard's numbers, for scripts.
pub async fn progress(store: &Store, commune: &str, date: &str) -> anyhow::Result<Value> {
    use anyhow::{anyhow, Context};
    use kyso_campaign::denominator::AdultsDenominator;
    use kyso_campaign::forecast::{forecast, DailyCounts};
    let unit = store.commune(commune).await?.with_context(|| format!("unknown commune {commune}"))?;
    let as_of = parse_date(date).map_err(|e| anyhow!(e))?;
    let plan = store.plans(Some(commune)).await?.into_iter().next_back();
    let (register, adoption) = load(store, commune, None).await.map_err(|e| anyhow!(e))?;
    let line = match &plan {
        Some((p, _)) => {
            AdultsDenominator::new(u8::try_from(p.min_age)?, parse_date(&p.reference_date).map_err(|e| anyhow!(e))?)?
        }
        None => AdultsDenominator::new(15, as_of)?,
    };
    let adults = line.count(register.residents());
    let holders = adoption.commune_holders_on(commune, as_of);
    let eid = crate::eid::commune_coverage(store, commune, &register, &line).await.map_err(|e| anyhow!(e))?;
    let hamlets: Vec<Value> = store
        .hamlets(commune)
        .await?
        .iter()
        .map(|h| {
            let adults = line.count(register.residents().iter().filter(|r| r.hamlet_code == h.code));
            json!({"code": h.code, "name": h.name, "adults": adults,
                   "holders": adoption.hamlet_holders_on(commune, &h.code, as_of)})
        })
        .collect();
    let plan_json = match &plan {
        None => Value::Null,
        Some((p, ms)) => {
            let t = target(p, ms).map_err(|e| anyhow!(e))?;
            let readings = t.readings(adults);
            let start = t.baseline.date.min(as_of);
            let mut series = Vec::new();
            let mut day = start;
            while day <= as_of {
                series.push((day, adoption.commune_holders_on(commune, day)));
                day = day.next_day().context("date out of range")?;
            }
            let series = DailyCounts::new(series);
            let mut forecasts = Vec::new();
            for (name, holders_needed) in [("level", readings.level), ("increment", readings.increment)] {
                let f = forecast(&series, as_of, holders_needed, t.deadline);
                forecasts.push(json!({"reading": name, "target": f.target, "gap": f.gap, "days_left": f.days_left,
                    "required_rate": f.required_rate.is_finite().then_some(f.required_rate),
                    "run_rate_14": f.run_rate_14, "status": status_name(f.status)}));
            }
            json!({"period": p.period, "version": p.version, "kind": p.target_kind,
                "value": crate::plan::value_text(t.value),
                "baseline": {"count": p.baseline_count, "date": p.baseline_date, "source": p.baseline_source},
                "deadline": p.deadline,
                "target": {"level": readings.level, "increment": readings.increment, "chosen": readings.chosen()},
                "milestones": t.milestone_readings(adults).iter().map(|(d, r)| json!({"date": d.to_string(),
                    "level": r.level, "increment": r.increment, "chosen": r.chosen()})).collect::<Vec<_>>(),
                "forecast": forecasts})
        }
    };
    Ok(json!({
        "commune": {"code": unit.code, "name": unit.name, "province": unit.province_name},
        "date": date, "age_line": line.min_age(), "reference_date": line.reference_date().to_string(),
        "residents": register.len(), "adults": adults, "holders": holders,
        "share": Percent::share(holders, adults).map(|p| p.to_string()),
        "eid_level2": {"adults": eid.adults, "level2": eid.level2, "share": eid.share().map(|p| p.to_string())},
        "plan": plan_json, "hamlets": hamlets,
    }))
}
