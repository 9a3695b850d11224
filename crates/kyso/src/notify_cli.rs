//! `kyso notify`: notifications through the outbox — invite a hamlet to a support session, run
//! the day's reminders, deliver what is due (for cron, when the server's own timer is not used),
//! record opt-outs and contacts, show the outbox (recipients masked).

use crate::data::{open_store, DataDir};
use crate::output::out;
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use kyso_campaign::notify::{mask, Channel};
use kyso_campaign::population::CitizenId;
use kyso_tracker::notify::{self as notify, Invitation};
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Invite the people on a hamlet's worklist to a support session (SMS/Zalo to the number given
    /// at registration, e-mail where recorded).
    Invite {
        #[arg(long)]
        commune: String,
        #[arg(long)]
        hamlet: String,
        /// When, in Vietnam time: "YYYY-MM-DD HH:MM".
        #[arg(long)]
        at: String,
        /// Where, in words (a support point's name and address).
        #[arg(long)]
        place: String,
        /// Channels: sms, zalo, email (comma-separated).
        #[arg(long, default_value = "sms")]
        channel: String,
    },
    /// Enqueue today's reminders: renewals (30 and 7 days ahead), reports (the day before Thursday
    /// 10:00; the 18th for the 20th), overdue tasks. Running it again adds nothing.
    Remind {
        /// The day, YYYY-MM-DD (default today in Vietnam).
        #[arg(long)]
        date: Option<String>,
    },
    /// Deliver the messages that are due (per [notify] in kyso.toml), once; for cron.
    SendDue {
        /// At most this many messages.
        #[arg(long, default_value_t = notify::BATCH)]
        max: usize,
    },
    /// A resident opts out of every notification (--undo: back in).
    OptOut {
        #[arg(long)]
        id: String,
        #[arg(long)]
        undo: bool,
    },
    /// Record where messages go: a resident's e-mail or Zalo number (--id), or a unit's reminder
    /// address (--unit, with --agency for a lead unit of the task register).
    Contact {
        #[arg(long, required_unless_present = "unit", conflicts_with = "unit")]
        id: Option<String>,
        #[arg(long)]
        unit: Option<String>,
        /// The lead unit as the task register writes it, e.g. "Công an xã".
        #[arg(long, default_value = "", requires = "unit")]
        agency: String,
        /// email, sms or zalo.
        #[arg(long)]
        channel: String,
        /// The address; leave out to remove it.
        #[arg(long)]
        address: Option<String>,
    },
    /// The outbox of a unit (recipients masked), newest first.
    Outbox {
        #[arg(long)]
        unit: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

fn channel(text: &str) -> Result<Channel> {
    Channel::parse(text).ok_or_else(|| anyhow!("--channel {text:?}: use email, sms or zalo"))
}

/// "YYYY-MM-DD HH:MM" in Vietnam time.
fn vietnam_time(text: &str) -> Result<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let t = time::PrimitiveDateTime::parse(text.trim(), format)
        .map_err(|_| anyhow!("--at {text:?}: write the date and time as YYYY-MM-DD HH:MM (Vietnam time)"))?;
    Ok(t.assume_offset(kyso_calendar::VIETNAM))
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: NotifyCommand, json_mode: bool) -> Result<ExitCode> {
    let store = open_store(dir, db).await?;
    let now = kyso_store::now();
    match c {
        NotifyCommand::Invite { commune, hamlet, at, place, channel: channels } => {
            let channels = channels.split(',').map(channel).collect::<Result<Vec<_>>>()?;
            let inv = Invitation { commune, hamlet, at: vietnam_time(&at)?, place, channels };
            let r = notify::invite_hamlet(&store, &inv, "cli", now).await.map_err(|e| anyhow!(e))?;
            out(
                json_mode,
                json!({"residents": r.residents, "unreachable": r.unreachable, "queued": r.enqueued.queued,
                       "duplicates": r.enqueued.duplicates, "opted_out": r.enqueued.opted_out}),
                &format!(
                    "{} people on the worklist: {} messages queued ({} already queued, {} opted out); {} have no address on these channels",
                    r.residents, r.enqueued.queued, r.enqueued.duplicates, r.enqueued.opted_out, r.unreachable
                ),
            );
        }
        NotifyCommand::Remind { date } => {
            let today = match date {
                Some(d) => kyso_campaign::csv::parse_date(&d).map_err(|e| anyhow!("--date: {e}"))?,
                None => kyso_tracker::reports::today().map_err(|e| anyhow!(e))?,
            };
            let r = notify::run_reminders(&store, today, now).await.map_err(|e| anyhow!(e))?;
            out(
                json_mode,
                json!({"renewals": r.renewals.queued, "reports": r.reports.queued, "tasks": r.tasks.queued}),
                &format!(
                    "queued: {} renewal reminders, {} report reminders, {} overdue-task reminders",
                    r.renewals.queued, r.reports.queued, r.tasks.queued
                ),
            );
        }
        NotifyCommand::SendDue { max } => {
            let cfg = dir.load_config()?;
            let Some(n) = cfg.notify.as_ref() else {
                bail!(
                    "no [notify] section in {}: nothing can be delivered (docs/NOTIFICATIONS.md)",
                    dir.config_path().display()
                );
            };
            let (delivery, limits) = notify::from_config(n).map_err(|e| anyhow!(e))?;
            let r = notify::send_due(&store, &delivery, &limits, now, max).await.map_err(|e| anyhow!(e))?;
            out(
                json_mode,
                json!({"sent": r.sent, "retried": r.retried, "failed": r.failed, "suppressed": r.suppressed, "expired": r.expired,
                       "quiet_hours": r.quiet}),
                &if r.quiet {
                    "quiet hours (21:00–07:00 Vietnam time): nothing sent".to_string()
                } else {
                    format!(
                        "sent {}, to retry {}, failed {}, suppressed {}, expired {}",
                        r.sent, r.retried, r.failed, r.suppressed, r.expired
                    )
                },
            );
        }
        NotifyCommand::OptOut { id, undo } => {
            let id = CitizenId::parse(&id).map_err(|e| anyhow!("--id: {e}"))?;
            store.set_opt_out(id.expose(), !undo, "cli", now).await?;
            let what = if undo { "receives notifications again" } else { "receives no notifications" };
            out(json_mode, json!({"id": id.masked(), "opted_out": !undo}), &format!("{} {what}", id.masked()));
        }
        NotifyCommand::Contact { id, unit, agency, channel: ch, address } => {
            let ch = channel(&ch)?;
            let address = address.map(|a| ch.address(&a).map_err(|e| anyhow!("--address: {e}"))).transpose()?;
            let pair = address.as_deref().map(|a| (a, mask(a)));
            let pair = pair.as_ref().map(|(a, m)| (*a, m.as_str()));
            let who = match (id, unit) {
                (Some(id), _) => {
                    let id = CitizenId::parse(&id).map_err(|e| anyhow!("--id: {e}"))?;
                    store.set_person_contact(id.expose(), ch.name(), pair, "cli").await?;
                    id.masked()
                }
                (None, Some(unit)) => {
                    store.set_unit_contact(&unit, agency.trim(), ch.name(), pair, "cli").await?;
                    if agency.is_empty() {
                        unit
                    } else {
                        format!("{unit} ({agency})")
                    }
                }
                (None, None) => bail!("give --id or --unit"),
            };
            let shown = pair.map(|(_, m)| m.to_string()).unwrap_or_else(|| "removed".into());
            out(
                json_mode,
                json!({"who": who, "channel": ch.name(), "address": shown}),
                &format!("{who}: {} {shown}", ch.name()),
            );
        }
        NotifyCommand::Outbox { unit, limit } => {
            let v = notify::outbox_view(&store, &unit, limit.clamp(1, 1000)).await.map_err(|e| anyhow!(e))?;
            let mut text: Vec<String> =
                vec![v.counts.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")];
            for r in &v.rows {
                text.push(format!(
                    "{:>6}  {:<6} {:<18} {:<20} {:<10} {}",
                    r.id,
                    r.channel,
                    r.recipient_masked,
                    r.template,
                    r.status,
                    kyso_fmt::vn_datetime(r.created_at)
                ));
            }
            let rows: Vec<_> = v
                .rows
                .iter()
                .map(|r| json!({"id": r.id, "channel": r.channel, "to": r.recipient_masked, "template": r.template,
                                "status": r.status, "attempts": r.attempts, "created_at": r.created_at, "sent_at": r.sent_at}))
                .collect();
            out(json_mode, json!({"counts": v.counts, "messages": rows}), &text.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
