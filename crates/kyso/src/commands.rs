//! The dispatch table: one line a command, calling its module's entry point.

use crate::cli::{Cli, Command};
use crate::data::{self, DataDir};
use crate::{
    accounts_cli, audit, backup_cli, bench, ca, campaign_cli, cert, citizen, federation_cli, init, notify_cli,
    procedure_cli, serve, signing, trust_cli,
};
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let (dir, db, json) = (DataDir::new(&cli.data_dir), cli.database_url.as_deref(), cli.json);
    if let Some(url) = &cli.read_database_url {
        data::use_read_replica(&dir, db, url, std::time::Duration::from_millis(cli.replica_max_lag_ms))?;
    }
    match cli.command {
        Command::Init(a) => init::run(&dir, db, a, json).await.map(done),
        Command::Serve(a) => serve::run(&dir, db, a).await.map(done),
        Command::Cert(c) => cert::run(&dir, db, c, json).await,
        Command::Citizen(c) => citizen::run(&dir, db, c, json).await.map(done),
        Command::Crl(a) => ca::crl(&dir, db, a, json).await.map(done),
        Command::Ca(c) => ca::run(&dir, db, c, json).await.map(done),
        Command::Audit(c) => audit::run(&dir, db, c, json).await,
        Command::Backup(a) => backup_cli::backup(&dir, db, a, json).await.map(done),
        Command::Restore(a) => backup_cli::restore(&dir, db, a, json).await.map(done),
        Command::Staff(c) => accounts_cli::staff(&dir, db, c, json).await,
        Command::Point(c) => accounts_cli::point(&dir, db, c, json).await,
        Command::Procedure(c) => procedure_cli::run(&dir, db, c, json).await,
        Command::Campaign(c) => campaign_cli::run(&dir, db, c, json).await,
        Command::Notify(c) => notify_cli::run(&dir, db, c, json).await,
        Command::Federation(c) => federation_cli::run(c, json).await,
        Command::SignPdf(a) => signing::sign_doc(&dir, db, a, true, json).await,
        Command::SignFile(a) => signing::sign_doc(&dir, db, a, false, json).await,
        Command::Verify(a) => signing::verify(&dir, db, a, json).await,
        Command::Trust(c) => trust_cli::run(&dir, db, c, json).await,
        Command::Credential(c) => signing::credential(&dir, db, c, json).await,
        Command::SignHash(a) => signing::sign_hash(&dir, db, a, json).await,
        Command::Bench(c) => bench::run(&dir, db, c, json).await.map(done),
    }
}

/// A command that returned without an exit status succeeded.
fn done(_: ()) -> ExitCode {
    ExitCode::SUCCESS
}
