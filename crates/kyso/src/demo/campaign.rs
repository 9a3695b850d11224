//! The campaign part of `kyso serve --demo`: Xã Hiệp Lực's units, its five hamlets, the register
//! of the demo's synthetic residents (5,480 aged 15+ on 1 January 2026, as in Appendix I), the
//! Hiệp Lực plan, and the providers' list of the certificates they issued there. Idempotent.

use super::accounts::{CITIZEN_L1, CITIZEN_L2, CITIZEN_NEW};
use super::{synthetic_resident, HAMLETS, RESIDENTS};
use crate::campaign_cli::{add_plan, import_provider_list, resident_row, PlanArgs};
use crate::data::DataDir;
use anyhow::{anyhow, Result};
use kyso_authority::Authority;
use kyso_campaign::csv::parse_date;
use kyso_campaign::population::{CitizenId, Resident};
use kyso_campaign::units::parse_admin_units_csv;
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::{AuditEvent, Write};
use std::sync::Arc;
use time::Date;

const COMMUNE: &str = "01960";
const SEEDED: &str = "demo_campaign_seeded";

/// Resident i of the demo: date of birth consistent with the ID number (century and sex in digit 4,
/// year in digits 5–6), hamlet i % 5, four people to a household.
fn demo_resident(i: usize) -> Result<ResidentRow> {
    let (id, name) = synthetic_resident(i);
    let id = CitizenId::parse(&id).map_err(|e| anyhow!(e))?;
    let (sex, _) = id.encoded_sex_and_century();
    let dob = format!("{:04}-{:02}-{:02}", id.encoded_birth_year(), 1 + (i * 5) % 12, 1 + (i * 13) % 28);
    Ok(resident_row(&Resident {
        date_of_birth: parse_date(&dob).map_err(|e| anyhow!(e))?,
        id,
        full_name: Some(name),
        sex,
        commune_code: COMMUNE.into(),
        hamlet_code: format!("T{:02}", i % HAMLETS.len() + 1),
        household: Some((i / 4 + 1).to_string()),
    }))
}

/// Seeds once, after `demo::seed` (kyso's own certificates); the providers' list is written to
/// `<data dir>/demo/provider-list.csv`, where it can be imported again (nothing changes).
pub async fn seed(dir: &DataDir, auth: &Arc<Authority>) -> Result<()> {
    let store = &auth.store;
    if store.setting(SEEDED).await?.is_some() {
        return Ok(());
    }
    if store.commune(COMMUNE).await?.is_none() {
        let rows: Vec<CommuneRow> = parse_admin_units_csv(kyso_campaign::units::ADMIN_UNITS_2025)
            .items
            .into_iter()
            .map(|u| CommuneRow {
                kind: match u.commune_type {
                    kyso_campaign::units::CommuneType::Commune => "commune",
                    kyso_campaign::units::CommuneType::Ward => "ward",
                    kyso_campaign::units::CommuneType::SpecialZone => "special_zone",
                }
                .into(),
                code: u.commune_code,
                province_code: u.province_code,
                province_name: u.province_name,
                name: u.commune_name,
                lat: u.lat,
                lon: u.lon,
                area_km2: u.area_km2,
            })
            .collect();
        let audit = AuditEvent::new("demo", "campaign.units.import", "admin units", format!("{} communes", rows.len()));
        store.upsert_communes(&rows, &audit).await?;
    }
    let hamlets: Vec<HamletRow> = HAMLETS
        .iter()
        .enumerate()
        .map(|(n, name)| HamletRow {
            commune_code: COMMUNE.into(),
            code: format!("T{:02}", n + 1),
            name: (*name).into(),
        })
        .collect();
    store.upsert_hamlets(&hamlets, &AuditEvent::new("demo", "campaign.hamlets.import", COMMUNE, "5 hamlets")).await?;
    let residents = (0..RESIDENTS).map(demo_resident).collect::<Result<Vec<_>>>()?;
    let audit =
        AuditEvent::new("demo", "campaign.register.import", COMMUNE, format!("{RESIDENTS} synthetic residents"));
    store.upsert_residents(&residents, &audit).await?;
    if store.plans(Some(COMMUNE)).await?.is_empty() {
        let plan = PlanArgs {
            unit: COMMUNE.into(),
            period: "2026".into(),
            min_age: 15,
            reference_date: "2026-01-01".into(),
            target: "63.80%".into(),
            kind: "unknown".into(),
            baseline_count: 340,
            baseline_date: "2025-12-31".into(),
            baseline_source: "Phụ lục I".into(),
            deadline: "2026-10-31".into(),
            milestones: vec!["2026-07-31=35%".into()],
        };
        add_plan(store, &plan, "demo").await?;
    }
    let today = parse_date(&crate::campaign_cli::vn_date(kyso_store::now())).map_err(|e| anyhow!(e))?;
    let list = dir.path.join("demo").join("provider-list.csv");
    std::fs::create_dir_all(list.parent().unwrap_or(&dir.path))?;
    std::fs::write(&list, super::list::provider_list(today))?;
    eprintln!("demo: importing the providers' list {} …", list.display());
    import_provider_list(store, &list, None, &today.to_string(), None, false).await?;
    let eid = dir.path.join("demo").join("eid-level2.csv");
    std::fs::write(&eid, eid_level2_list())?;
    let r = kyso_tracker::eid::import_eid_list(store, &eid, None, "demo", &mut kyso_tracker::Silent).await?;
    eprintln!("demo: the police's level-2 e-ID list {}: {} accounts", eid.display(), r.kept);
    seed_visits(store, today).await?;
    super::reports::seed(store).await?;
    store.commit(&[Write::Setting { name: SEEDED.into(), value: kyso_store::now().to_string() }]).await?;
    eprintln!("demo campaign seeded: Xã Hiệp Lực, 5 hamlets, {RESIDENTS} residents, the 2026 plan");
    Ok(())
}

/// The commune police's list of residents with a level-2 e-ID account: seven in ten of the demo's
/// residents, as the police export it (STT, ID number, level, date activated).
fn eid_level2_list() -> String {
    let mut csv = String::from("STT,Số CCCD,Mức độ định danh,Ngày kích hoạt\n");
    let mut n = 0;
    // every fifth resident shares a hamlet (i % 5): seven in ten of each hamlet
    for i in (0..RESIDENTS).filter(|i| (i / 5) % 10 < 7) {
        n += 1;
        let (id, _) = synthetic_resident(i);
        csv.push_str(&format!("{n},{id},Mức 2,{:02}/{:02}/2025\n", 1 + i % 28, 1 + i % 12));
    }
    csv
}

/// What the team of Xóm Đồng Tâm heard at the doors of its first adults without a certificate
/// over the last week (append-only, as `kyso campaign visit` records them): the worklist shows the
/// last outcome, the reconciliation page what the providers and the police should correct.
/// The team that walks Xóm Đồng Tâm in the demo.
const TEAM: &str = "Tổ công nghệ số cộng đồng xóm Đồng Tâm";

async fn seed_visits(store: &kyso_store::Store, today: Date) -> Result<()> {
    use kyso_campaign::worklist::Outcome;
    if !store.visits(COMMUNE, "T01").await?.is_empty() {
        return Ok(());
    }
    let key = crate::campaign_cli::visit_key(store, true).await?.ok_or_else(|| anyhow!("visit key"))?;
    let (register, adoption) = crate::campaign_cli::load(store, COMMUNE, Some("T01")).await?;
    let logins = [CITIZEN_L2, CITIZEN_L1, CITIZEN_NEW].map(|i| synthetic_resident(i).0);
    let outcomes = [
        Outcome::NotAtHome,
        Outcome::Refused,
        Outcome::AlreadyHolds { provider: "Viettel-CA".into() },
        Outcome::MovedAway,
        Outcome::Assisted,
        Outcome::Deceased,
        Outcome::AlreadyHolds { provider: "VNPT-CA".into() },
        Outcome::Done,
        Outcome::NotAtHome,
    ];
    let line = kyso_campaign::denominator::AdultsDenominator::new(15, today).map_err(|e| anyhow!(e))?;
    let visited = register.residents().iter().filter(|r| {
        line.counts(r.date_of_birth)
            && !adoption.holds_valid(&r.id, today)
            && !logins.contains(&r.id.expose().to_owned())
    });
    for (n, (r, outcome)) in visited.zip(outcomes).enumerate() {
        let day = (today - time::Duration::days(7 - n as i64 % 7)).to_string();
        let row = kyso_tracker::worklist::visit_row(&key, &r.id, (COMMUNE, &r.hamlet_code), &outcome, TEAM, &day);
        let audit =
            AuditEvent::new("demo", "campaign.visit", &row.id_masked, format!("{} by {}", row.outcome, row.team));
        store.append_visit(&row, &audit).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_campaign::population::Sex;

    #[test]
    fn demo_residents_match_their_id_numbers() {
        for i in [0, 1, 2, 3, 4, 57, 5_479, 5_480, 7_199] {
            let r = demo_resident(i).unwrap();
            let id = CitizenId::parse(&r.id_number).unwrap();
            assert_eq!(r.date_of_birth[..4].parse::<i32>().unwrap(), id.encoded_birth_year());
            let female = id.encoded_sex_and_century().0 == Sex::Female;
            assert_eq!(r.sex == "F", female);
            assert_eq!(r.hamlet_code, format!("T{:02}", i % 5 + 1));
            assert_eq!(r.household.as_deref(), Some((i / 4 + 1).to_string().as_str()));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_reproduces_appendix_i_and_counts_every_source() {
        let (dir, auth) = crate::demo::with_residents("demo-campaign").await;
        seed(&dir, &auth).await.unwrap();
        seed(&dir, &auth).await.unwrap();
        let store = &auth.store;
        assert_eq!(store.residents(COMMUNE, None).await.unwrap().len(), RESIDENTS);
        assert_eq!(store.plans(Some(COMMUNE)).await.unwrap().len(), 1);
        // The register import kept the demo's e-ID levels.
        let (id, _) = synthetic_resident(12);
        assert_eq!(store.citizen(&id).await.unwrap().unwrap().eid_level, 1);

        // Appendix I, on its own date: 340 holders of 5,480 people over 15 = 6.20 %; 63.80 % =
        // 3,496 as a level (3,836 as an increment); the 31 July milestone 35 %: 1,918 or 2,258.
        let v = crate::campaign_cli::progress(store, COMMUNE, "2025-12-31").await.unwrap();
        assert_eq!((v["residents"].as_u64(), v["adults"].as_u64()), (Some(7_200), Some(5_480)));
        assert_eq!((v["holders"].as_u64(), v["share"].as_str()), (Some(340), Some("6.20 %")));
        let target = &v["plan"]["target"];
        assert_eq!((target["level"].as_u64(), target["increment"].as_u64()), (Some(3_496), Some(3_836)));
        let milestone = &v["plan"]["milestones"][0];
        assert_eq!((milestone["level"].as_u64(), milestone["increment"].as_u64()), (Some(1_918), Some(2_258)));

        // Today: the providers' 2026 certificates (a person at two providers counted once, the
        // revoked ones not) and kyso's own 57 (60 issued, 3 revoked), all distinct people.
        let today = crate::campaign_cli::vn_date(kyso_store::now());
        let list = crate::demo::list::provider_list(parse_date(&today).unwrap());
        let mut listed = std::collections::HashSet::new();
        for row in list.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()) {
            if row[0].len() == 12 && row[4] != "Thu hồi" && parse_date(row[2]).is_ok() && row[0] != "019195999999" {
                listed.insert(row[0]);
            }
        }
        let v = crate::campaign_cli::progress(store, COMMUNE, &today).await.unwrap();
        assert_eq!(v["holders"].as_u64(), Some(listed.len() as u64 + 57));
        assert_eq!(v["hamlets"].as_array().unwrap().len(), 5);
        let hamlet_holders: u64 = v["hamlets"].as_array().unwrap().iter().map(|h| h["holders"].as_u64().unwrap()).sum();
        assert_eq!(hamlet_holders, listed.len() as u64 + 57);

        // The visits of Xóm Đồng Tâm: two claims no list shows, one moved away, one deceased.
        let (_, _, lines) = kyso_tracker::reconcile::reconciliation(store, COMMUNE, parse_date(&today).unwrap())
            .await
            .unwrap()
            .unwrap();
        let count = |name: &str| lines.iter().filter(|l| l.finding.name() == name).count();
        assert_eq!((count("not_in_any_list"), count("moved_away"), count("deceased")), (2, 1, 1));
        assert!(count("several_providers") > 0, "the list's second certificates");
        let worklist = crate::campaign_cli::worklist_lines(store, COMMUNE, "T01", &today).await.unwrap();
        assert!(worklist.iter().any(|l| l.3 == "not-at-home"), "the worklist shows the last outcome");
        // The police's level-2 list: seven residents in ten, so about 70 % of the adults; every
        // worklist line says what the person needs next, both needs present.
        let e = &v["eid_level2"];
        let (level2, adults) = (e["level2"].as_u64().unwrap(), e["adults"].as_u64().unwrap());
        assert!(adults > 5_000 && level2 * 10 > adults * 6 && level2 * 10 < adults * 8, "{e}");
        use kyso_campaign::eid::Need;
        assert!(worklist.iter().all(|l| l.4.is_some()));
        assert!([Need::Level2, Need::Certificate].iter().all(|n| worklist.iter().any(|l| l.4 == Some(*n))));
        auth.store.close().await;
        let _ = std::fs::remove_dir_all(&dir.path);
    }
}
