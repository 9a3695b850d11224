//! The triggers: each builds messages from a template and enqueues them, one per idempotency key
//! (running a trigger again, or from two places at once, adds nothing). Residents are reached at
//! the mobile number they gave at registration (SMS, Zalo) and any recorded e-mail; units at the
//! contacts recorded for them. Nothing is delivered here: [`super::send_due`] does that.

use crate::read::Fallible;
use crate::reports::{rules, submissions, tasks, unit_name};
use kyso_campaign::deadlines::VIETNAM;
use kyso_campaign::notify::{
    idempotency_key, in_sentence, mask, not_before, renewal_stage, report_reminders, Channel, Template,
};
use kyso_campaign::reports::label;
use kyso_store::notify::{Enqueued, NewMessage, OutboxRow};
use kyso_store::Store;
use time::{Date, Duration, OffsetDateTime};

fn err(e: kyso_store::StoreError) -> String {
    e.to_string()
}

/// An invitation to a support session for the residents on a hamlet's worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub commune: String,
    pub hamlet: String,
    /// When the session starts (Vietnam time).
    pub at: OffsetDateTime,
    /// Where: a support point's name and address, or a place in words ("Nhà văn hóa xóm …").
    pub place: String,
    pub channels: Vec<Channel>,
}

/// What an invitation reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InviteReport {
    /// People on the hamlet's worklist.
    pub residents: u64,
    /// Of them, people with no address on the chosen channels (no registration yet).
    pub unreachable: u64,
    pub enqueued: Enqueued,
}

/// Longest place text.
const MAX_PLACE: usize = 200;

/// Invites the people on a hamlet's worklist (adults without a certificate, today) to a support
/// session: a message on each chosen channel they have an address on, Vietnamese, not delivered
/// in quiet hours. Refused for a session in the past. The outbox's audit rows record it.
pub async fn invite_hamlet(store: &Store, inv: &Invitation, actor: &str, now: i64) -> Fallible<InviteReport> {
    if inv.at.unix_timestamp() <= now {
        return Err("the session's time is in the past: choose a later date and time".into());
    }
    if inv.place.trim().is_empty() || inv.place.chars().count() > MAX_PLACE {
        return Err(format!("the place: say where the session is held (at most {MAX_PLACE} characters)"));
    }
    if inv.channels.is_empty() {
        return Err("choose at least one channel (SMS, Zalo or e-mail)".into());
    }
    let hamlets = store.hamlets(&inv.commune).await.map_err(err)?;
    let hamlet = hamlets
        .iter()
        .find(|h| h.code == inv.hamlet)
        .ok_or_else(|| format!("hamlet {} is not in commune {}", inv.hamlet, inv.commune))?;
    let commune_name = unit_name(store, &inv.commune).await?.unwrap_or_else(|| inv.commune.clone());
    let today = crate::read::vn_date(now);
    let list = crate::worklist::worklist_of(store, (&inv.commune, &inv.hamlet), &today, None).await?;
    let ids: Vec<String> = list.entries.iter().map(|e| e.person().expose().to_owned()).collect();
    let addresses = store.person_addresses(&ids).await.map_err(err)?;
    let text = Template::SessionInvitation {
        commune: format!("UBND {}", in_sentence(&commune_name)),
        hamlet: in_sentence(&hamlet.name),
        at: inv.at,
        place: inv.place.trim().to_owned(),
    };
    let trigger = format!("invite|{}/{}|{}", inv.commune, inv.hamlet, inv.at.unix_timestamp());
    let mut msgs = Vec::new();
    let mut unreachable = 0;
    for id in &ids {
        let mut reached = false;
        for (channel, address) in addresses.get(id).into_iter().flatten() {
            let Some(ch) = Channel::parse(channel).filter(|c| inv.channels.contains(c)) else { continue };
            reached = true;
            msgs.push(message(&trigger, ch, address, Some(id.as_str()), &inv.commune, &text, now));
        }
        unreachable += u64::from(!reached);
    }
    let enqueued = store.enqueue_messages(&msgs, actor, now).await.map_err(err)?;
    Ok(InviteReport { residents: ids.len() as u64, unreachable, enqueued })
}

fn message(
    trigger: &str,
    ch: Channel,
    address: &str,
    person: Option<&str>,
    unit: &str,
    t: &Template,
    now: i64,
) -> NewMessage {
    let r = t.render(false);
    // an invitation is no use once the session has begun, a renewal reminder once the
    // certificate has ended, a report reminder once the report is due
    let expires_at = match t {
        Template::SessionInvitation { at, .. } => Some(at.unix_timestamp()),
        Template::RenewalReminder { expires, .. } => Some(expires.midnight().assume_offset(VIETNAM).unix_timestamp()),
        Template::ReportReminder { due, .. } => Some(due.unix_timestamp()),
        Template::TaskOverdue { .. } => None,
    };
    NewMessage {
        idem_key: idempotency_key(trigger, &t.key(), ch, address),
        channel: ch.name().into(),
        recipient: address.to_owned(),
        recipient_masked: mask(address),
        person_id: person.map(str::to_owned),
        unit_code: unit.to_owned(),
        template: t.key(),
        subject: r.subject,
        body: r.body,
        not_before: not_before(now),
        expires_at,
    }
}

/// What one reminders pass enqueued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    pub renewals: Enqueued,
    pub reports: Enqueued,
    pub tasks: Enqueued,
}

fn add(a: &mut Enqueued, b: Enqueued) {
    a.queued += b.queued;
    a.duplicates += b.duplicates;
    a.opted_out += b.opted_out;
}

/// The day's reminders, for `today` (Vietnam): renewals 30 and 7 days ahead for the holders of
/// every commune with a plan, report reminders to units with a contact that have not reported,
/// overdue-task reminders to lead units (once a week). Safe to run as often as wanted.
pub async fn run_reminders(store: &Store, today: Date, now: i64) -> Fallible<ReminderReport> {
    let mut out = ReminderReport::default();
    let mut communes: Vec<String> =
        store.plans(None).await.map_err(err)?.into_iter().map(|(p, _)| p.unit_code).filter(|u| u.len() > 2).collect();
    communes.dedup();
    for c in &communes {
        add(&mut out.renewals, renewal_reminders(store, c, today, now).await?);
    }
    let contacts = store.unit_contacts().await.map_err(err)?;
    out.reports = report_reminders_for(store, &contacts, today, now).await?;
    out.tasks = task_reminders(store, &contacts, today, now).await?;
    Ok(out)
}

/// Renewal reminders of a commune's holders whose coverage ends in 30 or 7 days (SMS to the
/// registration number, e-mail when recorded).
async fn renewal_reminders(store: &Store, commune: &str, today: Date, now: i64) -> Fallible<Enqueued> {
    let lapses = crate::renewals::commune_lapses(store, commune, None, today).await?;
    let due: Vec<_> = lapses.iter().filter_map(|l| renewal_stage(l.expires, today).map(|s| (l, s))).collect();
    if due.is_empty() {
        return Ok(Enqueued::default());
    }
    let ids: Vec<String> = due.iter().map(|(l, _)| l.id.expose().to_owned()).collect();
    let addresses = store.person_addresses(&ids).await.map_err(err)?;
    let mut msgs = Vec::new();
    for (l, stage) in due {
        let t = Template::RenewalReminder { days: stage, provider: l.provider.clone(), expires: l.expires };
        let trigger = format!("renewal|{}", l.expires);
        for (channel, address) in addresses.get(l.id.expose()).into_iter().flatten() {
            let Some(ch) = Channel::parse(channel).filter(|c| matches!(c, Channel::Sms | Channel::Email)) else {
                continue;
            };
            msgs.push(message(&trigger, ch, address, Some(l.id.expose()), commune, &t, now));
        }
    }
    store.enqueue_messages(&msgs, "notify", now).await.map_err(err)
}

type UnitContact = (String, String, String, String);

/// The weekly report due tomorrow and the monthly one due on the 20th, to each unit's reporting
/// contact (agency '') that has not submitted the period yet.
async fn report_reminders_for(store: &Store, contacts: &[UnitContact], today: Date, now: i64) -> Fallible<Enqueued> {
    let mut msgs = Vec::new();
    for (period, due) in report_reminders(&rules(), today) {
        for (unit, _, channel, address) in contacts.iter().filter(|c| c.1.is_empty()) {
            let Some(ch) = Channel::parse(channel) else { continue };
            if !submissions(store, unit, &period).await?.is_empty() {
                continue;
            }
            let name = unit_name(store, unit).await?.unwrap_or_else(|| unit.clone());
            let t = Template::ReportReminder { unit: name, period, due };
            let trigger = format!("report|{unit}|{}", label(&period, true));
            msgs.push(message(&trigger, ch, address, None, unit, &t, now));
        }
    }
    store.enqueue_messages(&msgs, "notify", now).await.map_err(err)
}

/// Overdue tasks, to the contacts of the agencies the task names as lead, once per week (the
/// week's Monday is in the idempotency key).
async fn task_reminders(store: &Store, contacts: &[UnitContact], today: Date, now: i64) -> Fallible<Enqueued> {
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let mut msgs = Vec::new();
    for (row, task) in tasks(store, None).await? {
        if !task.overdue(today) || task.lead.trim().is_empty() {
            continue;
        }
        let lead = task.lead.to_lowercase();
        for (unit, agency, channel, address) in contacts.iter().filter(|c| c.0 == row.unit_code && !c.1.is_empty()) {
            let Some(ch) = Channel::parse(channel) else { continue };
            if !lead.contains(&agency.to_lowercase()) {
                continue;
            }
            let t = Template::TaskOverdue {
                unit: agency.clone(),
                number: task.number.clone(),
                name: task.name.clone(),
                deadline: task.deadline_text.clone(),
            };
            let trigger = format!("task|{unit}|{}|{monday}", task.number);
            msgs.push(message(&trigger, ch, address, None, unit, &t, now));
        }
    }
    store.enqueue_messages(&msgs, "notify", now).await.map_err(err)
}

/// The outbox page's read model: a unit's latest messages (recipients masked) and the counts.
pub struct OutboxView {
    pub rows: Vec<OutboxRow>,
    pub counts: Vec<(String, i64)>,
}

pub async fn outbox_view(store: &Store, unit: &str, limit: i64) -> Fallible<OutboxView> {
    Ok(OutboxView {
        rows: store.outbox(Some(unit), limit).await.map_err(err)?,
        counts: store.outbox_counts(Some(unit)).await.map_err(err)?,
    })
}
