//! `kyso citizen`: record a person from the population register with their e-ID level.

use crate::args::PersonArgs;
use crate::data::{open, DataDir, ACTOR_CLI};
use crate::output::out;
use anyhow::{bail, Result};
use clap::Subcommand;
use kyso_pki::CitizenSubject;
use serde_json::json;

#[derive(Subcommand)]
pub enum CitizenCommand {
    Add {
        #[command(flatten)]
        person: PersonArgs,
        /// 0 (none), 1 (self-registered) or 2 (verified in person).
        #[arg(long, default_value_t = 2)]
        eid_level: i64,
    },
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: CitizenCommand, json_mode: bool) -> Result<()> {
    let CitizenCommand::Add { person: PersonArgs { id, name, province, commune }, eid_level } = c;
    if !(0..=2).contains(&eid_level) {
        bail!("--eid-level must be 0, 1 or 2");
    }
    let auth = open(dir, db).await?;
    let s = CitizenSubject::new(&id, &name, &province, commune.as_deref())?;
    auth.register_citizen(&s, eid_level, ACTOR_CLI).await?;
    out(
        json_mode,
        json!({"id_masked": s.id.masked(), "eid_level": eid_level}),
        &format!("recorded {} at e-ID level {eid_level}", s.id.masked()),
    );
    Ok(())
}
