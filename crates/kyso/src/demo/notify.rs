//! The notifications part of `kyso serve --demo`: residents of Xóm Đồng Tâm (T01) on the worklist
//! who registered an e-ID account (their mobile number), a few with an e-mail, the commune's
//! reminder contacts (its reporting officer, two lead units of the task register), a session
//! invitation for the hamlet next Saturday, and the day's reminders. Without [notify] in kyso.toml
//! the messages stay queued (docs/NOTIFICATIONS.md says how to deliver them locally). Idempotent.

use super::{synthetic_resident, ADULTS, HAMLETS};
use anyhow::{anyhow, Result};
use kyso_authority::Authority;
use kyso_campaign::notify::{mask, Channel};
use kyso_store::accounts::EidAccountRow;
use kyso_store::Write;
use kyso_tracker::notify::{invite_hamlet, run_reminders, Invitation};
use std::sync::Arc;
use time::{Duration, Weekday};

const COMMUNE: &str = "01960";
const SEEDED: &str = "demo_notify_seeded";
/// Residents of T01 without a certificate who registered (level 1): given an account with a phone.
const REGISTERED: usize = 40;

pub async fn seed(auth: &Arc<Authority>) -> Result<()> {
    let store = &auth.store;
    if store.setting(SEEDED).await?.is_some() {
        return Ok(());
    }
    let now = kyso_store::now();
    // Level-1 adults of hamlet T01 (i % 5 == 0, i % 20 in 12..=16: see `seed_residents`).
    let people: Vec<usize> =
        (0..ADULTS).filter(|i| i % HAMLETS.len() == 0 && (12..=16).contains(&(i % 20))).take(REGISTERED).collect();
    let hash = tokio::task::spawn_blocking(|| kyso_access::password::hash(super::accounts::DEMO_PASSWORD)).await?;
    let mut writes = Vec::new();
    for &i in &people {
        let (id, _) = synthetic_resident(i);
        if store.eid_account(&id).await?.is_some() {
            continue;
        }
        writes.push(Write::EidAccount(EidAccountRow {
            id_number: id,
            phone: format!("098{:07}", i),
            password_hash: hash.clone(),
            level: 1,
            activation: "registered".into(),
            verified_method: None,
            verified_by: None,
            verified_place: None,
            verified_at: None,
            created_at: now,
            updated_at: now,
        }));
    }
    store.commit(&writes).await?;
    for &i in people.iter().take(5) {
        let email = format!("dan{i}@hiepluc.example");
        store.set_person_contact(&synthetic_resident(i).0, "email", Some((&email, &mask(&email))), "demo").await?;
    }
    // One of them asked to receive nothing.
    if let Some(&i) = people.get(7) {
        store.set_opt_out(&synthetic_resident(i).0, true, "demo", now).await?;
    }
    for (agency, channel, address) in [
        ("", "email", "baocao@hiepluc.example"),
        ("Phòng Văn hóa – Xã hội", "email", "vhxh@hiepluc.example"),
        ("Công an xã", "sms", "0981000113"),
    ] {
        store.set_unit_contact(COMMUNE, agency, channel, Some((address, &mask(address))), "demo").await?;
    }
    // An invitation for next Saturday, 08:00, at the hamlet's cultural house.
    let today = kyso_tracker::reports::today().map_err(|e| anyhow!(e))?;
    let saturday = today.next_occurrence(Weekday::Saturday).max(today + Duration::days(1));
    let at = saturday.with_time(time::macros::time!(08:00)).assume_offset(kyso_calendar::VIETNAM);
    let inv = Invitation {
        commune: COMMUNE.into(),
        hamlet: "T01".into(),
        at,
        place: "Nhà văn hóa xóm Đồng Tâm".into(),
        channels: vec![Channel::Sms, Channel::Email],
    };
    let r = invite_hamlet(store, &inv, "canbo.xa", now).await.map_err(|e| anyhow!(e))?;
    let reminders = run_reminders(store, today, now).await.map_err(|e| anyhow!(e))?;
    store.commit(&[Write::Setting { name: SEEDED.into(), value: now.to_string() }]).await?;
    eprintln!(
        "demo notifications: {} invitations queued for {} (Xóm Đồng Tâm), {} reminders",
        r.enqueued.queued,
        saturday,
        reminders.renewals.queued + reminders.reports.queued + reminders.tasks.queued
    );
    Ok(())
}
