//! `kyso campaign …`: import administrative units, hamlets and the police register, record plans,
//! show progress against both readings of a target, print door-to-door worklists, record visits.
//!
//! A thin shell: `kyso-campaign` validates and counts, `kyso-store` keeps the rows. ID numbers
//! are masked in every line printed here; the worklist export and every import are audited.

use crate::commands::{open_store, out};
use crate::data::DataDir;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use kyso_campaign::adoption::Adoption;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::forecast::{forecast, DailyCounts, Status};
use kyso_campaign::plan::{Percent, Target, TargetValue};
use kyso_campaign::population::{parse_register_csv, CitizenId, Register, Resident, Sex};
use kyso_campaign::units::{parse_admin_units_csv, parse_hamlets_csv, AdminUnits, CommuneType, Unit};
use kyso_campaign::worklist::{build_worklist, Outcome, Visit, VisitLog};
use kyso_campaign::{ImportReport, RowIssue};
use kyso_store::campaign::{CommuneRow, HamletRow, MilestoneRow, PlanRow, ResidentRow, VisitRow};
use kyso_store::{AuditEvent, Store, Write};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

const ACTOR: &str = "cli";
/// Register rows per transaction (and per progress line on stderr).
const REGISTER_BATCH: usize = 100_000;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Import communes and provinces (admin-units-2025.csv format). Re-importing updates in place.
    ImportUnits { file: PathBuf },
    /// Import hamlets: commune_code,hamlet_code,hamlet_name. Re-importing renames in place.
    ImportHamlets { file: PathBuf },
    /// Import a commune's residents register (ID number, date of birth, sex, hamlet, household).
    ImportRegister {
        file: PathBuf,
        #[arg(long)]
        commune: String,
    },
    /// Campaign plans: targets, baselines, milestones.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Adults, holders and the target under both readings for a commune, with the forecast.
    Progress {
        #[arg(long)]
        commune: String,
        /// Count holders on this date (YYYY-MM-DD or dd/mm/yyyy; default: today, Vietnam time).
        #[arg(long)]
        date: Option<String>,
    },
    /// Adults of a hamlet without a valid certificate, in walking order, ID numbers masked.
    Worklist {
        #[arg(long)]
        commune: String,
        #[arg(long)]
        hamlet: String,
        #[arg(long)]
        date: Option<String>,
        /// Print CSV (for printing or a spreadsheet) instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Record a door-to-door visit outcome (append-only).
    Visit {
        /// The resident's 12-digit ID number.
        #[arg(long)]
        id: String,
        /// done, assisted, not-at-home, refused, moved-away, deceased or already-holds.
        #[arg(long)]
        outcome: String,
        /// With already-holds: the provider the person holds a certificate from.
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        team: String,
        #[arg(long)]
        date: Option<String>,
    },
}

// Parsed once per process: the size of the arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum PlanCommand {
    /// Record a plan for a unit (a new version when the unit and period already have one).
    Add(PlanArgs),
    /// The latest version of every plan.
    List,
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Commune (5 digits) or province (2 digits) code.
    #[arg(long)]
    pub unit: String,
    #[arg(long)]
    pub period: String,
    /// Age line of the denominator: 14, 15, 16 or 18.
    #[arg(long, default_value_t = 15)]
    pub min_age: u8,
    /// The date the age line is measured on.
    #[arg(long)]
    pub reference_date: String,
    /// `63.80%` (share of adults) or `3496` (holders).
    #[arg(long)]
    pub target: String,
    /// level (the total to reach), increment (on top of the baseline) or unknown (show both).
    #[arg(long, default_value = "unknown")]
    pub kind: String,
    #[arg(long)]
    pub baseline_count: u64,
    #[arg(long)]
    pub baseline_date: String,
    #[arg(long)]
    pub baseline_source: String,
    #[arg(long)]
    pub deadline: String,
    /// `DATE=35%` or `DATE=1918`; repeat for several.
    #[arg(long = "milestone")]
    pub milestones: Vec<String>,
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: CampaignCommand, json_mode: bool) -> Result<ExitCode> {
    let store = open_store(dir, db).await?;
    match c {
        CampaignCommand::ImportUnits { file } => import_units(&store, &read(&file)?, json_mode).await,
        CampaignCommand::ImportHamlets { file } => import_hamlets(&store, &read(&file)?, json_mode).await,
        CampaignCommand::ImportRegister { file, commune } => {
            import_register(&store, &read(&file)?, &commune, json_mode).await
        }
        CampaignCommand::Plan(PlanCommand::Add(a)) => plan_add(&store, a, json_mode).await,
        CampaignCommand::Plan(PlanCommand::List) => plan_list(&store, json_mode).await,
        CampaignCommand::Progress { commune, date } => {
            let date = date_arg(date.as_deref())?;
            let v = progress(&store, &commune, &date).await?;
            out(json_mode, v.clone(), &progress_text(&v));
            Ok(ExitCode::SUCCESS)
        }
        CampaignCommand::Worklist { commune, hamlet, date, csv } => {
            worklist(&store, &commune, &hamlet, &date_arg(date.as_deref())?, csv, json_mode).await
        }
        CampaignCommand::Visit { id, outcome, provider, team, date } => {
            visit(&store, &id, &outcome, provider, &team, &date_arg(date.as_deref())?, json_mode).await
        }
    }
}

fn read(file: &std::path::Path) -> Result<String> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    kyso_campaign::csv::read_utf8(f).with_context(|| format!("{} is not UTF-8 text", file.display()))
}

// ---- dates (ISO text at the edges; `time::Date` values only inside expressions) ----

/// A date argument normalised to `YYYY-MM-DD`; today in Vietnam when absent.
fn date_arg(text: Option<&str>) -> Result<String> {
    match text {
        None => Ok(vn_date(kyso_store::now())),
        Some(t) => Ok(parse_date(t).map_err(|e| anyhow!("--date: {e}"))?.to_string()),
    }
}

fn iso(field: &str, text: &str) -> Result<String> {
    Ok(parse_date(text).map_err(|e| anyhow!("--{field}: {e}"))?.to_string())
}

// ---- imports ----

fn issues_json(issues: &[RowIssue]) -> Value {
    json!(issues.iter().map(|i| json!({"row": i.row, "field": i.field, "reason": i.reason})).collect::<Vec<_>>())
}

/// Prints the outcome of an import; exit 1 when nothing could be read (a missing column, an empty file).
fn report<T>(json_mode: bool, what: &str, r: &ImportReport<T>, inserted: u64, updated: u64) -> ExitCode {
    let imported = r.items.len();
    let mut text =
        format!("{what}: imported {imported} (new {inserted}, updated {updated}), rejected {}", r.errors.len());
    for e in &r.errors {
        text.push_str(&format!("\n  rejected {e}"));
    }
    for w in &r.warnings {
        text.push_str(&format!("\n  warning {w}"));
    }
    out(
        json_mode,
        json!({"imported": imported, "inserted": inserted, "updated": updated,
               "rejected": issues_json(&r.errors), "warnings": issues_json(&r.warnings)}),
        &text,
    );
    if imported == 0 && !r.errors.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn kind_name(t: CommuneType) -> &'static str {
    match t {
        CommuneType::Commune => "commune",
        CommuneType::Ward => "ward",
        CommuneType::SpecialZone => "special_zone",
    }
}

pub async fn import_units(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let r = parse_admin_units_csv(text);
    let rows: Vec<CommuneRow> = r
        .items
        .iter()
        .map(|u| CommuneRow {
            code: u.commune_code.clone(),
            province_code: u.province_code.clone(),
            province_name: u.province_name.clone(),
            name: u.commune_name.clone(),
            kind: kind_name(u.commune_type).into(),
            lat: u.lat,
            lon: u.lon,
            area_km2: u.area_km2,
        })
        .collect();
    let mut n = Default::default();
    if !rows.is_empty() {
        let detail = format!("{} communes, {} rejected rows", rows.len(), r.errors.len());
        n = store
            .upsert_communes(&rows, &AuditEvent::new(ACTOR, "campaign.units.import", "admin units", detail))
            .await?;
    }
    Ok(report(json_mode, "units", &r, n.inserted, n.updated))
}

/// The stored unit tree (communes and provinces, hamlets of the communes asked for).
async fn units(store: &Store, hamlets_of: &[&str]) -> Result<AdminUnits> {
    let communes = store.communes(None).await?;
    let mut units = AdminUnits::from_units(communes.into_iter().map(|c| Unit {
        commune_type: match c.kind.as_str() {
            "ward" => CommuneType::Ward,
            "special_zone" => CommuneType::SpecialZone,
            _ => CommuneType::Commune,
        },
        province_code: c.province_code,
        province_name: c.province_name,
        commune_code: c.code,
        commune_name: c.name,
        lat: c.lat,
        lon: c.lon,
        area_km2: c.area_km2,
    }));
    let mut hamlets = Vec::new();
    for code in hamlets_of {
        hamlets.extend(store.hamlets(code).await?.into_iter().map(|h| kyso_campaign::units::Hamlet {
            commune_code: h.commune_code,
            hamlet_code: h.code,
            hamlet_name: h.name,
        }));
    }
    units.set_hamlets(hamlets);
    Ok(units)
}

pub async fn import_hamlets(store: &Store, text: &str, json_mode: bool) -> Result<ExitCode> {
    let r = parse_hamlets_csv(text, &units(store, &[]).await?);
    let rows: Vec<HamletRow> = r
        .items
        .iter()
        .map(|h| HamletRow {
            commune_code: h.commune_code.clone(),
            code: h.hamlet_code.clone(),
            name: h.hamlet_name.clone(),
        })
        .collect();
    let mut n = Default::default();
    if !rows.is_empty() {
        let detail = format!("{} hamlets, {} rejected rows", rows.len(), r.errors.len());
        n = store.upsert_hamlets(&rows, &AuditEvent::new(ACTOR, "campaign.hamlets.import", "hamlets", detail)).await?;
    }
    Ok(report(json_mode, "hamlets", &r, n.inserted, n.updated))
}

pub fn resident_row(r: &Resident) -> ResidentRow {
    ResidentRow {
        id_number: r.id.expose().to_owned(),
        full_name: r.full_name.clone(),
        date_of_birth: r.date_of_birth.to_string(),
        sex: if r.sex == Sex::Female { "F" } else { "M" }.into(),
        commune_code: r.commune_code.clone(),
        hamlet_code: r.hamlet_code.clone(),
        household: r.household.clone(),
    }
}

pub async fn import_register(store: &Store, text: &str, commune: &str, json_mode: bool) -> Result<ExitCode> {
    let unit = store
        .commune(commune)
        .await?
        .with_context(|| format!("--commune: unknown commune {commune}: import the units first"))?;
    let hamlets = store.hamlets(commune).await?;
    if hamlets.is_empty() {
        bail!("commune {commune} has no hamlets: import them first (kyso campaign import-hamlets)");
    }
    let codes = hamlets.iter().map(|h| h.code.as_str()).collect();
    let r = parse_register_csv(text, commune, &codes);
    let rows: Vec<ResidentRow> = r.items.iter().map(resident_row).collect();
    let (mut inserted, mut updated) = (0, 0);
    for (n, batch) in rows.chunks(REGISTER_BATCH).enumerate() {
        let detail = format!("rows {}..{} of {}", n * REGISTER_BATCH + 1, n * REGISTER_BATCH + batch.len(), rows.len());
        let audit = AuditEvent::new(ACTOR, "campaign.register.import", commune, detail);
        let u = store.upsert_residents(batch, (&unit.province_name, &unit.name), &audit).await?;
        inserted += u.inserted;
        updated += u.updated;
        if rows.len() > REGISTER_BATCH {
            eprintln!("register {commune}: {} of {} rows stored", n * REGISTER_BATCH + batch.len(), rows.len());
        }
    }
    Ok(report(json_mode, &format!("register {commune}"), &r, inserted, updated))
}

// ---- plans ----

/// `63.80%` → percent in hundredths; `3496` → absolute holders.
fn target_value(text: &str) -> Result<TargetValue> {
    let text = text.trim();
    if let Some(p) = text.strip_suffix('%') {
        let p = p.trim().replace(',', ".");
        let (whole, frac) = p.split_once('.').unwrap_or((&p, ""));
        if frac.len() > 2 || whole.is_empty() || !(whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
            bail!("'{text}' is not a percent with at most two decimals (e.g. 63.80%)");
        }
        let hundredths: u32 = format!("{whole}{frac:0<2}").parse()?;
        if hundredths > 10_000 {
            bail!("'{text}' is more than 100 %");
        }
        Ok(TargetValue::Percent(Percent::from_hundredths(hundredths)))
    } else {
        Ok(TargetValue::Absolute(
            text.parse().map_err(|_| anyhow!("'{text}' is neither a percent (63.80%) nor a number of holders"))?,
        ))
    }
}

fn value_columns(v: TargetValue) -> (Option<i64>, Option<i64>) {
    match v {
        TargetValue::Percent(p) => (Some(i64::from(p.hundredths())), None),
        TargetValue::Absolute(n) => (None, Some(n as i64)),
    }
}

fn value_of(percent: Option<i64>, absolute: Option<i64>) -> Result<TargetValue> {
    kyso_server::campaign_data::value_of(percent, absolute).map_err(|e| anyhow!(e))
}

fn value_text(v: TargetValue) -> String {
    match v {
        TargetValue::Percent(p) => p.to_string(),
        TargetValue::Absolute(n) => format!("{n} holders"),
    }
}

pub async fn add_plan(store: &Store, a: &PlanArgs, actor: &str) -> Result<PlanRow> {
    AdultsDenominator::new(a.min_age, parse_date(&a.reference_date).map_err(|e| anyhow!("--reference-date: {e}"))?)
        .map_err(|e| anyhow!("--min-age: {e}"))?;
    if !matches!(a.kind.as_str(), "level" | "increment" | "unknown") {
        bail!("--kind must be level, increment or unknown");
    }
    if !(a.unit.len() == 2 || a.unit.len() == 5) || !a.unit.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--unit: a 2-digit province or 5-digit commune code");
    }
    let (percent, absolute) = value_columns(target_value(&a.target).map_err(|e| anyhow!("--target: {e}"))?);
    let mut milestones = Vec::new();
    for m in &a.milestones {
        let (date, value) =
            m.split_once('=').with_context(|| format!("--milestone '{m}': write DATE=35% or DATE=1918"))?;
        let (p, n) = value_columns(target_value(value).map_err(|e| anyhow!("--milestone: {e}"))?);
        milestones.push(MilestoneRow { date: iso("milestone", date)?, percent_hundredths: p, absolute: n });
    }
    let plan = PlanRow {
        id: 0,
        unit_code: a.unit.clone(),
        period: a.period.clone(),
        version: 0,
        min_age: i64::from(a.min_age),
        reference_date: iso("reference-date", &a.reference_date)?,
        target_kind: a.kind.clone(),
        target_percent_hundredths: percent,
        target_absolute: absolute,
        baseline_count: a.baseline_count as i64,
        baseline_date: iso("baseline-date", &a.baseline_date)?,
        baseline_source: a.baseline_source.clone(),
        deadline: iso("deadline", &a.deadline)?,
        created_at: 0,
    };
    let detail =
        format!("period {}, target {} ({}), deadline {}", plan.period, a.target, plan.target_kind, plan.deadline);
    Ok(store
        .add_plan(&plan, &milestones, &AuditEvent::new(actor, "campaign.plan.add", &plan.unit_code, detail))
        .await?)
}

async fn plan_add(store: &Store, a: PlanArgs, json_mode: bool) -> Result<ExitCode> {
    let p = add_plan(store, &a, ACTOR).await?;
    out(
        json_mode,
        json!({"id": p.id, "unit": p.unit_code, "period": p.period, "version": p.version}),
        &format!("plan {} for {} ({}), version {}", p.id, p.unit_code, p.period, p.version),
    );
    Ok(ExitCode::SUCCESS)
}

async fn plan_list(store: &Store, json_mode: bool) -> Result<ExitCode> {
    let plans = store.plans(None).await?;
    let mut lines = Vec::new();
    let mut v = Vec::new();
    for (p, ms) in &plans {
        let target = target(p, ms)?;
        lines.push(format!(
            "{} {} v{}: {}+ on {}, target {} ({}), baseline {} on {} ({}), deadline {}, {} milestone(s)",
            p.unit_code,
            p.period,
            p.version,
            p.min_age,
            p.reference_date,
            value_text(target.value),
            p.target_kind,
            p.baseline_count,
            p.baseline_date,
            p.baseline_source,
            p.deadline,
            ms.len()
        ));
        v.push(json!({"id": p.id, "unit": p.unit_code, "period": p.period, "version": p.version, "min_age": p.min_age,
            "reference_date": p.reference_date, "kind": p.target_kind, "target": value_text(target.value),
            "baseline": {"count": p.baseline_count, "date": p.baseline_date, "source": p.baseline_source},
            "deadline": p.deadline, "milestones": ms.iter().map(|m| json!({"date": m.date, "target": value_of(m.percent_hundredths, m.absolute).map(value_text).unwrap_or_default()})).collect::<Vec<_>>()}));
    }
    out(json_mode, json!(v), &lines.join("\n"));
    Ok(ExitCode::SUCCESS)
}

// ---- counting (the read model is shared with the dashboard) ----

pub use kyso_server::campaign_data::vn_date;

/// A stored plan as the campaign core's target.
pub fn target(p: &PlanRow, ms: &[MilestoneRow]) -> Result<Target> {
    kyso_server::campaign_data::target(p, ms).map_err(|e| anyhow!(e))
}

/// The register of a commune (or one hamlet) and the adoption ledger from kyso's certificates.
pub async fn load(store: &Store, commune: &str, hamlet: Option<&str>) -> Result<(Register, Adoption)> {
    kyso_server::campaign_data::load(store, commune, hamlet).await.map_err(|e| anyhow!(e))
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Green => "green",
        Status::Amber => "amber",
        Status::Red => "red",
    }
}

/// Progress of a commune on `date` (ISO) as JSON: the dashboard's numbers, for scripts.
pub async fn progress(store: &Store, commune: &str, date: &str) -> Result<Value> {
    let unit = store.commune(commune).await?.with_context(|| format!("unknown commune {commune}"))?;
    let as_of = parse_date(date).map_err(|e| anyhow!(e))?;
    let plan = store.plans(Some(commune)).await?.into_iter().next_back();
    let (register, adoption) = load(store, commune, None).await?;
    let line = match &plan {
        Some((p, _)) => {
            AdultsDenominator::new(u8::try_from(p.min_age)?, parse_date(&p.reference_date).map_err(|e| anyhow!(e))?)?
        }
        None => AdultsDenominator::new(15, as_of)?,
    };
    let adults = line.count(register.residents());
    let holders = adoption.commune_holders_on(commune, as_of);
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
            let t = target(p, ms)?;
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
            json!({"period": p.period, "version": p.version, "kind": p.target_kind, "value": value_text(t.value),
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
        "plan": plan_json, "hamlets": hamlets,
    }))
}

fn progress_text(v: &Value) -> String {
    let mut s = format!(
        "{} ({}) on {}: {} holders of {} adults ({}+ on {}), {}",
        v["commune"]["name"].as_str().unwrap_or(""),
        v["commune"]["code"].as_str().unwrap_or(""),
        v["date"].as_str().unwrap_or(""),
        v["holders"],
        v["adults"],
        v["age_line"],
        v["reference_date"].as_str().unwrap_or(""),
        v["share"].as_str().unwrap_or("-"),
    );
    let p = &v["plan"];
    if !p.is_null() {
        s.push_str(&format!(
            "\nplan {} ({}): target {} by {} — as a level {} holders, as an increment over {} {} holders{}",
            p["period"].as_str().unwrap_or(""),
            p["kind"].as_str().unwrap_or(""),
            p["value"].as_str().unwrap_or(""),
            p["deadline"].as_str().unwrap_or(""),
            p["target"]["level"],
            p["baseline"]["count"],
            p["target"]["increment"],
            if p["kind"] == "unknown" { " (the plan does not say which: both shown)" } else { "" },
        ));
        for m in p["milestones"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\nmilestone {}: {} (level) / {} (increment)",
                m["date"].as_str().unwrap_or(""),
                m["level"],
                m["increment"]
            ));
        }
        for f in p["forecast"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\n{:<9} {}: gap {}, {} days left, needs {} a day",
                f["reading"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or("").to_uppercase(),
                f["gap"],
                f["days_left"],
                f["required_rate"].as_f64().map_or("∞ (deadline passed)".into(), |r| format!("{r:.1}")),
            ));
        }
    }
    for h in v["hamlets"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n  {:<6} {:<24} {:>6} / {:<6}",
            h["code"].as_str().unwrap_or(""),
            h["name"].as_str().unwrap_or(""),
            h["holders"],
            h["adults"]
        ));
    }
    s
}

// ---- worklists and visits ----

/// The key of the visit log's ID hashes, created on first use.
pub async fn visit_key(store: &Store, create: bool) -> Result<Option<String>> {
    if let Some(k) = store.setting("campaign_visit_key").await? {
        return Ok(Some(k));
    }
    if !create {
        return Ok(None);
    }
    let key = kyso_custody::Kek::generate()?.to_hex();
    store.commit(&[Write::Setting { name: "campaign_visit_key".into(), value: key.clone() }]).await?;
    Ok(Some(key))
}

pub fn id_hash(key: &str, id: &CitizenId) -> Vec<u8> {
    kyso_pki::alg::sha256(format!("kyso-visit\0{key}\0{}", id.expose()).as_bytes())
}

fn outcome_of(name: &str, provider: Option<&str>) -> Result<Outcome> {
    Ok(match name.replace('_', "-").as_str() {
        "done" => Outcome::Done,
        "assisted" => Outcome::Assisted,
        "not-at-home" => Outcome::NotAtHome,
        "refused" => Outcome::Refused,
        "moved-away" => Outcome::MovedAway,
        "deceased" => Outcome::Deceased,
        "already-holds" => Outcome::AlreadyHolds {
            provider: provider.context("already-holds needs --provider")?.to_owned(),
        },
        other => bail!(
            "--outcome: unknown outcome '{other}' (done, assisted, not-at-home, refused, moved-away, deceased, already-holds)"
        ),
    })
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Done => "done",
        Outcome::Assisted => "assisted",
        Outcome::NotAtHome => "not-at-home",
        Outcome::Refused => "refused",
        Outcome::MovedAway => "moved-away",
        Outcome::Deceased => "deceased",
        Outcome::AlreadyHolds { .. } => "already-holds",
    }
}

async fn visit(
    store: &Store,
    id: &str,
    outcome: &str,
    provider: Option<String>,
    team: &str,
    date: &str,
    json_mode: bool,
) -> Result<ExitCode> {
    let id = CitizenId::parse(id).map_err(|e| anyhow!("--id: {e}"))?;
    let outcome = outcome_of(outcome, provider.as_deref())?;
    let r = store.resident(id.expose()).await?.with_context(|| format!("{id} is not in the register"))?;
    let key = visit_key(store, true).await?.context("visit key")?;
    let row = VisitRow {
        seq: 0,
        commune_code: r.commune_code.clone(),
        hamlet_code: r.hamlet_code.clone(),
        id_hash: id_hash(&key, &id),
        id_masked: id.masked(),
        outcome: outcome_name(&outcome).into(),
        provider,
        team: team.into(),
        visit_date: date.into(),
        at: 0,
    };
    let audit = AuditEvent::new(ACTOR, "campaign.visit", &id.masked(), format!("{} by {team}", row.outcome));
    let row = store.append_visit(&row, &audit).await?;
    out(
        json_mode,
        json!({"seq": row.seq, "id_masked": row.id_masked, "outcome": row.outcome, "hamlet": row.hamlet_code, "date": row.visit_date}),
        &format!("visit #{} recorded: {} {} on {} ({})", row.seq, row.id_masked, row.outcome, row.visit_date, team),
    );
    Ok(ExitCode::SUCCESS)
}

/// One worklist line, masked: household, masked ID, name, last outcome.
pub type WorklistLine = (String, String, String, String);

/// The worklist of a hamlet on `date` (ISO), in walking order.
pub async fn worklist_lines(store: &Store, commune: &str, hamlet: &str, date: &str) -> Result<Vec<WorklistLine>> {
    let as_of = parse_date(date).map_err(|e| anyhow!(e))?;
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let line = match store.plans(Some(commune)).await?.into_iter().next_back() {
        Some((p, _)) => AdultsDenominator::new(u8::try_from(p.min_age)?, as_of)?,
        None => AdultsDenominator::new(15, as_of)?,
    };
    let mut log = VisitLog::new();
    if let Some(key) = visit_key(store, false).await? {
        let by_hash: std::collections::HashMap<Vec<u8>, &CitizenId> =
            register.residents().iter().map(|r| (id_hash(&key, &r.id), &r.id)).collect();
        for v in store.visits(commune, hamlet).await? {
            let (Some(person), Ok(outcome), Ok(date)) =
                (by_hash.get(&v.id_hash), outcome_of(&v.outcome, v.provider.as_deref()), parse_date(&v.visit_date))
            else {
                continue;
            };
            log.record(Visit { person: (*person).clone(), date, team: v.team, outcome });
        }
    }
    let list = build_worklist(&register, &adoption, &line, &log, (commune, hamlet), as_of);
    Ok(list
        .entries
        .iter()
        .map(|e| {
            (
                e.household.clone().unwrap_or_default(),
                e.masked_id.clone(),
                e.full_name.clone().unwrap_or_default(),
                e.last_outcome.as_ref().map(outcome_name).unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

async fn worklist(
    store: &Store,
    commune: &str,
    hamlet: &str,
    date: &str,
    csv: bool,
    json_mode: bool,
) -> Result<ExitCode> {
    if !store.hamlets(commune).await?.iter().any(|h| h.code == hamlet) {
        bail!("--hamlet: commune {commune} has no hamlet {hamlet}");
    }
    let lines = worklist_lines(store, commune, hamlet, date).await?;
    let audit = AuditEvent::new(
        ACTOR,
        "campaign.worklist.export",
        &format!("{commune}/{hamlet}"),
        format!("{} entries on {date}{}", lines.len(), if csv { ", csv" } else { "" }),
    );
    store.commit(&[Write::Audit(audit)]).await?;
    if csv {
        println!("household,id_masked,full_name,last_outcome");
        for (h, id, name, o) in &lines {
            println!("{},{},{},{}", csv_field(h), id, csv_field(name), o);
        }
    } else {
        let v: Vec<Value> = lines
            .iter()
            .map(|(h, id, name, o)| json!({"household": h, "id_masked": id, "full_name": name, "last_outcome": o}))
            .collect();
        let mut text = format!("worklist {commune}/{hamlet} on {date}: {} to visit", lines.len());
        for (h, id, name, o) in &lines {
            text.push_str(&format!("\n{h:<8} {id}  {name:<28} {o}"));
        }
        out(json_mode, json!({"commune": commune, "hamlet": hamlet, "date": date, "entries": v}), &text);
    }
    Ok(ExitCode::SUCCESS)
}
