//! The campaign part of `kyso serve --demo`: Xã Hiệp Lực's units, its five hamlets, the register
//! of the demo's 10,000 synthetic residents and the Hiệp Lực plan (Appendix I). Idempotent.

use crate::campaign_cli::{add_plan, resident_row, PlanArgs};
use crate::demo::synthetic_resident;
use anyhow::{anyhow, Result};
use kyso_authority::Authority;
use kyso_campaign::csv::parse_date;
use kyso_campaign::population::{CitizenId, Resident};
use kyso_campaign::units::parse_admin_units_csv;
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::{AuditEvent, Write};
use std::sync::Arc;

const COMMUNE: &str = "01960";
const RESIDENTS: usize = 10_000;
/// The demo's hamlets (resident i lives in hamlet i % 5), codes T01..T05.
const HAMLETS: [&str; 5] = ["Xóm Đồng Tâm", "Xóm Ba Họ", "Xóm Cầu Đá", "Xóm Tân Lập", "Xóm Làng Mới"];
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

// Called from `demo` once the lead wires it into `kyso serve --demo`.
pub async fn seed(auth: &Arc<Authority>) -> Result<()> {
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
    store.upsert_residents(&residents, ("Tỉnh Thái Nguyên", "Xã Hiệp Lực"), &audit).await?;
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
    crate::demo_reports::seed(store).await?;
    store.commit(&[Write::Setting { name: SEEDED.into(), value: kyso_store::now().to_string() }]).await?;
    eprintln!("demo campaign seeded: Xã Hiệp Lực, 5 hamlets, {RESIDENTS} residents, the 2026 plan");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_campaign::population::Sex;

    #[test]
    fn demo_residents_match_their_id_numbers() {
        for i in [0, 1, 2, 3, 4, 57, 9_999] {
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
    async fn seeds_hiep_luc_once_and_counts_the_demo_certificates() {
        let path = std::env::temp_dir().join(format!("kyso-demo-campaign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let dir = crate::data::DataDir::new(&path);
        crate::commands::init(&dir, None, None, "http://127.0.0.1:8080", true).await.unwrap();
        let auth = crate::commands::open(&dir, None).await.unwrap();
        crate::demo::seed(&auth).await.unwrap();
        seed(&auth).await.unwrap();
        seed(&auth).await.unwrap();
        let store = &auth.store;
        assert_eq!(store.residents(COMMUNE, None).await.unwrap().len(), RESIDENTS);
        assert_eq!(store.plans(Some(COMMUNE)).await.unwrap().len(), 1);
        // The register import kept the demo's e-ID levels.
        let (id, _) = synthetic_resident(12);
        assert_eq!(store.citizen(&id).await.unwrap().unwrap().eid_level, 1);
        let today = crate::campaign_cli::vn_date(kyso_store::now());
        let v = crate::campaign_cli::progress(store, COMMUNE, &today).await.unwrap();
        // Everyone in the synthetic register is 18..76: all adults; 340 issued, 3 revoked.
        assert_eq!(v["adults"], 10_000);
        assert_eq!(v["holders"], 337);
        assert_eq!(v["plan"]["target"]["level"], 6_380);
        assert_eq!(v["plan"]["target"]["increment"], 6_720);
        assert_eq!(v["hamlets"].as_array().unwrap().len(), 5);
        auth.store.close().await;
        let _ = std::fs::remove_dir_all(&path);
    }
}
