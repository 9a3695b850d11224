//! `kyso serve --demo`: initialise on embedded SQLite if needed and seed synthetic residents of
//! Xã Hiệp Lực (Thái Nguyên) with level-2 e-ID and certificates from both demo providers, then the
//! campaign (`campaign`, `list`, `reports`), the web app's accounts (`accounts`) and queued
//! notifications (`notify`). `kyso serve`
//! enters through [`prepare`], [`seed`] and [`print_logins`]; the benchmarks borrow
//! [`synthetic_resident`].
//!
//! The population is sized after the commune's plan (Appendix I): 5,480 people aged 15 or more on
//! 1 January 2026, and children under 15 beside them, so the dashboard's denominator is the plan's.

mod accounts;
mod campaign;
mod list;
mod notify;
mod reach;
mod reports;

use crate::data::DataDir;
use anyhow::Result;
use kyso_authority::{Authority, IssueRequest};
use kyso_store::{AuditEvent, CitizenRow, Write};
use std::sync::Arc;

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Đức", "Thu", "Minh", "Ngọc", "Quang", "Thanh", "Xuân"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai",
    "Nam", "Nga", "Phúc", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Việt", "Yến",
];
/// The demo's hamlets (resident i lives in hamlet i % 5, codes T01..T05).
pub const HAMLETS: [&str; 5] = ["Xóm Đồng Tâm", "Xóm Ba Họ", "Xóm Cầu Đá", "Xóm Tân Lập", "Xóm Làng Mới"];
pub const DEMO_PROVINCE: &str = "Tỉnh Thái Nguyên";
pub const DEMO_COMMUNE: &str = "Xã Hiệp Lực";
/// Residents 0..ADULTS were born 1950–2007 (15 or more on the plan's reference date, 1 January
/// 2026); the rest were born 2013–2025 (under 15 until 2028).
pub const ADULTS: usize = 5_480;
pub const RESIDENTS: usize = 7_200;
/// The demo certificates kyso issues itself (the first level-2 adults); three of them are revoked.
const KYSO_ISSUED: usize = 60;

/// Synthetic resident number i: a plausible, unique 12-digit ID (019 = Thái Nguyên birth registration).
pub fn synthetic_resident(i: usize) -> (String, String) {
    let year = if i < ADULTS { 1950 + (i * 7919) % 58 } else { 2013 + (i * 7919) % 13 };
    let female = i % 2 == 1;
    let g = if year >= 2000 { 2 } else { 0 } + usize::from(female);
    let id = format!("019{g}{:02}{:06}", year % 100, i % 1_000_000);
    let mut middle = MIDDLE[(i / 3) % MIDDLE.len()];
    if !female && middle == "Thị" {
        middle = "Văn";
    }
    let name = format!("{} {} {}", FAMILY[i % FAMILY.len()], middle, GIVEN[(i / 7) % GIVEN.len()]);
    (id, name)
}

/// The residents kyso issues a demo certificate to.
pub fn kyso_issued() -> impl Iterator<Item = usize> {
    (0..ADULTS).filter(|i| i % 20 <= 11).take(KYSO_ISSUED)
}

/// Initialise a fresh data directory, its base URL from `--base-url` or `--listen` (see
/// `public_url`: a wildcard `--listen` needs `--base-url`).
pub async fn prepare(dir: &DataDir, db: Option<&str>, listen: &str, base_url: Option<&str>) -> Result<()> {
    if dir.config_path().exists() {
        return Ok(());
    }
    let base = crate::public_url::for_demo(listen, base_url)?;
    crate::init::init(dir, db, None, Some(&base), false).await
}

/// Seed the demo (each part once: the seeders are idempotent): residents and certificates, the
/// campaign, the accounts.
pub async fn seed(dir: &DataDir, auth: &Arc<Authority>) -> Result<()> {
    seed_residents(auth).await?;
    campaign::seed(dir, auth).await?;
    accounts::seed(auth).await?;
    reach::seed(&auth.store).await?;
    notify::seed(auth).await?;
    seed_procedures(auth).await
}

/// The demo's procedures (`data/procedures/*.toml`): what a dossier is checked against.
pub const PROCEDURES: [&str; 3] = [
    include_str!("../../../../data/procedures/khai-sinh.toml"),
    include_str!("../../../../data/procedures/ly-lich-tu-phap.toml"),
    include_str!("../../../../data/procedures/ho-kinh-doanh.toml"),
];

async fn seed_procedures(auth: &Arc<Authority>) -> Result<()> {
    if !auth.procedures().await?.is_empty() {
        return Ok(());
    }
    for text in PROCEDURES {
        auth.put_procedure(&crate::procedure_cli::from_toml(text)?, "demo").await?;
    }
    Ok(())
}

async fn seed_residents(auth: &Arc<Authority>) -> Result<()> {
    if auth.store.setting("demo_seeded").await?.is_some() {
        return Ok(());
    }
    eprintln!("seeding the demo: {RESIDENTS} residents of {DEMO_COMMUNE}, certificates from both providers …");
    let now = kyso_store::now();
    let mut writes = Vec::with_capacity(RESIDENTS + 2);
    for i in 0..RESIDENTS {
        let (id, name) = synthetic_resident(i);
        // Adults: ~60 % verified at level 2, ~25 % level 1, the rest without an e-ID account.
        let level = match i % 20 {
            _ if i >= ADULTS => 0,
            0..=11 => 2,
            12..=16 => 1,
            _ => 0,
        };
        writes.push(Write::Citizen(CitizenRow {
            id_number: id,
            full_name: name,
            province: DEMO_PROVINCE.into(),
            commune: Some(format!("{DEMO_COMMUNE}, {}", HAMLETS[i % HAMLETS.len()])),
            eid_level: level,
            updated_at: now,
        }));
    }
    writes.push(Write::Audit(AuditEvent::new(
        "demo",
        "citizen.import",
        "demo register",
        format!("{RESIDENTS} synthetic residents"),
    )));
    auth.store.commit(&writes).await?;
    let providers = auth.provider_ids();
    let mut issued = Vec::new();
    for i in kyso_issued() {
        let (id, name) = synthetic_resident(i);
        let req = IssueRequest {
            id_number: id,
            full_name: name,
            province: DEMO_PROVINCE.into(),
            commune: Some(DEMO_COMMUNE.into()),
            provider: providers[i % providers.len()].clone(),
            key_algorithm: None,
            validity_days: None,
            actor: "demo".into(),
        };
        issued.push(auth.issue(req).await?.serial);
    }
    for (s, reason) in issued.iter().take(3).zip([1u8, 3, 5]) {
        auth.revoke(s, reason, "demo").await?;
    }
    auth.store.commit(&[Write::Setting { name: "demo_seeded".into(), value: now.to_string() }]).await?;
    eprintln!("demo seeded: {} certificates, 3 revoked", issued.len());
    Ok(())
}

pub fn print_logins(addr: &str) {
    println!("demo: open http://{addr}/ — CA certificates at /ca/<id>.crt, CRLs at /crl/<id>.crl, OCSP at /ocsp/<provider>, TSA at /tsa");
    println!("demo: try `kyso cert list` or `kyso cert issue --id 019090000001 --name \"Nguyễn Văn An\" --province \"{DEMO_PROVINCE}\" --provider vnpt --eid-level2` in another terminal");
    accounts::print_logins();
}

/// A fresh data directory (named after `name` and the process) with the demo's residents and
/// certificates, for the seeders' tests; the caller removes `dir.path`.
#[cfg(test)]
async fn with_residents(name: &str) -> (DataDir, Arc<Authority>) {
    let path = std::env::temp_dir().join(format!("kyso-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let dir = DataDir::new(&path);
    crate::init::init(&dir, None, None, None, true).await.unwrap();
    let auth = crate::data::open(&dir, None).await.unwrap();
    seed_residents(&auth).await.unwrap();
    (dir, auth)
}
