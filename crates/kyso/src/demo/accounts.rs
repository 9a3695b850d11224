//! The accounts part of `kyso serve --demo`: Hiệp Lực's support points, one staff login per role,
//! and two citizen logins (level 2 without a certificate yet; level 1 waiting for the desk), plus
//! a few days of support sessions so the results page has something to show. Idempotent.

use super::synthetic_resident;
use anyhow::{anyhow, Result};
use kyso_authority::Authority;
use kyso_pki::CitizenId;
use kyso_store::accounts::{EidAccountRow, StaffAccountRow, SupportPointRow, SupportSessionRow};
use kyso_store::{AuditEvent, CitizenRow, Write};
use std::sync::Arc;

const COMMUNE: &str = "01960";
const SEEDED: &str = "demo_accounts_seeded";
/// Every demo login uses this password (a demo only: printed at start).
pub const DEMO_PASSWORD: &str = "kyso-demo-2026";
/// Resident numbers (see `synthetic_resident`): 1001 is level 2 with no certificate yet, 1012 is
/// level 1, 2017 has no account (for trying registration).
pub const CITIZEN_L2: usize = 1001;
pub const CITIZEN_L1: usize = 1012;
pub const CITIZEN_NEW: usize = 2017;

/// (username, display name, role, scope kind, point)
const STAFF: [(&str, &str, &str, &str, Option<&str>); 7] = [
    ("hotro.hieplu", "Nguyễn Thị Hoa (Một cửa Hiệp Lực)", "support_staff", "commune", Some("hl-motcua")),
    ("canbo.xa", "Trần Văn Bình (UBND xã Hiệp Lực)", "commune_officer", "commune", None),
    ("canbo.tinh", "Lê Minh Quân (Sở KH&CN Thái Nguyên)", "province_officer", "province", None),
    ("vnpt.vanhanh", "Phạm Thu Trang (VNPT-CA)", "provider_operator", "provider", None),
    ("kiemtoan", "Đỗ Ngọc Mai (Kiểm toán)", "auditor", "national", None),
    ("quantri", "Vũ Đức Long (Quản trị)", "administrator", "national", None),
    ("tongdai", "Hoàng Thị Lan (Tổng đài Thái Nguyên)", "hotline_operator", "province", None),
];

pub async fn seed(auth: &Arc<Authority>) -> Result<()> {
    let store = &auth.store;
    if store.setting(SEEDED).await?.is_some() {
        return Ok(());
    }
    let commune = store.commune(COMMUNE).await?.ok_or_else(|| anyhow!("demo commune {COMMUNE} is not seeded"))?;
    let now = kyso_store::now();
    for (id, name, kind, address, days, hours) in [
        (
            "hl-motcua",
            "Bộ phận Một cửa xã Hiệp Lực",
            "one_stop",
            "Trụ sở UBND xã Hiệp Lực",
            "123456",
            "7:30-11:30, 13:30-17:00",
        ),
        ("hl-luudong", "Điểm hỗ trợ lưu động chợ Hiệp Lực", "mobile", "Chợ trung tâm xã Hiệp Lực", "67", "6:30-10:30"),
        (
            "hl-buudien",
            "Điểm hỗ trợ tại Bưu điện văn hóa xã",
            "commune",
            "Bưu điện văn hóa xã Hiệp Lực",
            "12345",
            "7:00-11:00, 14:00-17:00",
        ),
    ] {
        let p = SupportPointRow {
            id: id.into(),
            commune_code: COMMUNE.into(),
            name: name.into(),
            kind: kind.into(),
            address: address.into(),
            opening_days: days.into(),
            opening_hours: hours.into(),
            created_at: now,
        };
        auth.add_support_point(p, "demo").await?;
    }
    for (username, display, role, scope_kind, point) in STAFF {
        let scope_code = match scope_kind {
            "commune" => COMMUNE.to_string(),
            "province" => commune.province_code.clone(),
            "provider" => "vnpt".to_string(),
            _ => "VN".to_string(),
        };
        let row = StaffAccountRow {
            username: username.into(),
            display_name: display.into(),
            role: role.into(),
            scope_kind: scope_kind.into(),
            scope_code,
            point_id: point.map(str::to_string),
            password_hash: String::new(),
            created_at: now,
        };
        auth.add_staff(row, DEMO_PASSWORD, "demo").await?;
    }
    // Citizen logins: level 2 (verified at the one-stop desk) and level 1.
    let mut writes = Vec::new();
    for (i, level) in [(CITIZEN_L2, 2), (CITIZEN_L1, 1)] {
        let (id, name) = synthetic_resident(i);
        let hash = tokio::task::spawn_blocking(|| kyso_access::password::hash(DEMO_PASSWORD)).await?;
        writes.push(Write::EidAccount(EidAccountRow {
            id_number: id.clone(),
            phone: format!("09{:08}", i),
            password_hash: hash,
            level,
            activation: if level == 2 { "self_activated" } else { "registered" }.into(),
            verified_method: (level == 2).then(|| "chip card + face".into()),
            verified_by: (level == 2).then(|| "hotro.hieplu".into()),
            verified_place: (level == 2).then(|| "Bộ phận Một cửa xã Hiệp Lực".into()),
            verified_at: (level == 2).then_some(now),
            created_at: now,
            updated_at: now,
        }));
        writes.push(Write::Citizen(CitizenRow {
            id_number: id,
            full_name: name,
            province: commune.province_name.clone(),
            commune: Some(commune.name.clone()),
            eid_level: level,
            updated_at: now,
        }));
    }
    // A week of support sessions at the one-stop desk.
    for d in 1..=7i64 {
        let day = kyso_tracker::read::vn_date(now - d * 86_400);
        for k in 0..(3 + d % 4) {
            let i = 3000 + (d * 10 + k) as usize;
            let id = CitizenId::parse(&synthetic_resident(i).0).map_err(|e| anyhow!(e))?;
            let steps = match k % 3 {
                0 => "eid_level2,certificate_issued,first_signature",
                1 => "eid_level2,certificate_issued",
                _ => "advice",
            };
            writes.push(Write::SupportSession(SupportSessionRow {
                id: 0,
                point_id: if k % 4 == 3 { "hl-luudong" } else { "hl-motcua" }.into(),
                staff: "hotro.hieplu".into(),
                id_hash: auth.person_hash(&id).await?,
                id_masked: id.masked(),
                steps: steps.into(),
                outcome: if k % 3 == 2 { "partial" } else { "completed" }.into(),
                day: day.clone(),
                at: now - d * 86_400,
            }));
        }
    }
    writes.push(Write::Audit(AuditEvent::new("demo", "demo.accounts", COMMUNE, "demo logins and support sessions")));
    writes.push(Write::Setting { name: SEEDED.into(), value: now.to_string() });
    store.commit(&writes).await?;
    Ok(())
}

pub fn print_logins() {
    let id = |i| synthetic_resident(i).0;
    println!("demo logins (password for all: {DEMO_PASSWORD}):");
    println!("  citizen, e-ID level 2, no certificate yet: {}  → /login", id(CITIZEN_L2));
    println!("  citizen, e-ID level 1 (verify at the desk): {}  → /login", id(CITIZEN_L1));
    println!("  resident with no account (try /register): {}", id(CITIZEN_NEW));
    for (u, name, role, _, _) in STAFF {
        println!("  staff {u:<14} {role:<18} {name}  → /staff/login");
    }
}
