//! `kyso`: one binary for the CLI and the server. Thin: parse arguments, open the data directory
//! and storage, call `kyso-authority`, print. `--json` gives machine-readable output.
//!
//! Modules: `cli` (the grammar) and `commands` (the dispatch table) on top; a module per command
//! (`init`, `serve`, `cert`, `citizen`, `ca`, `audit`, `backup_cli`, `signing`, `trust_cli`, `accounts_cli`, `campaign_cli`,
//! `report_cli`); the developer's `bench` and the `demo` seeding in their own trees; leaves that
//! import nothing from the crate (`data`: the data directory, store and authority; `output`;
//! `args`; `logging`; `public_url`). No module imports `commands`, and the imports between
//! modules form no circle (`module_graph`'s test).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts_cli;
mod args;
mod audit;
mod backup_cli;
mod bench;
mod ca;
mod campaign_cli;
mod cert;
mod citizen;
mod cli;
mod commands;
mod data;
mod demo;
mod federation_cli;
mod init;
mod logging;
#[cfg(test)]
mod module_graph;
mod notify_cli;
mod output;
mod procedure_cli;
mod public_url;
mod reach_cli;
mod report_cli;
mod serve;
mod signing;
mod trust_cli;

fn main() -> std::process::ExitCode {
    let cli = cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KYSO_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .fmt_fields(logging::fields())
        // colour only for a person at a terminal: a file or a pipe gets plain lines
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            output::note(&format!("error: cannot start the async runtime: {e}"));
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::note(&format!("error: {e:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}
