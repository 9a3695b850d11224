//! `kyso serve`: check the public base URL against `--listen`, open the authority, seed the demo
//! with `--demo`, keep today's adoption figures fresh, and run the HTTP server.

use crate::data::{open, DataDir};
use crate::init::same_base_url;
use anyhow::{Context, Result};
use clap::Args;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to bind (host:port). It must be where kyso.toml's base_url points, unless
    /// behind_proxy = true or base_url is https.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// With --demo on a fresh data directory: the public base URL for certificates (default
    /// http://<--listen>; needed when --listen is 0.0.0.0 or [::]). Otherwise it must equal kyso.toml's.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Initialise if needed and seed demo residents and certificates.
    #[arg(long)]
    pub demo: bool,
}

/// How often the server recomputes today's adoption snapshots.
const ADOPTION_REFRESH: Duration = Duration::from_secs(15 * 60);

pub async fn run(dir: &DataDir, db: Option<&str>, a: ServeArgs) -> Result<()> {
    if a.demo {
        crate::demo::prepare(dir, db, &a.listen, a.base_url.as_deref()).await?;
    }
    // Certificates must never point at an address this server is not reachable at: check
    // base_url against --listen before seeding or binding anything.
    let cfg = dir.load_config()?;
    if let Some(u) = &a.base_url {
        same_base_url(&cfg, u, dir)?;
    }
    let planned = crate::public_url::resolve_listen(&a.listen).await?;
    crate::public_url::check(&cfg, &dir.config_path(), &a.listen, planned).await?;
    let auth = open(dir, db).await?;
    if a.demo {
        crate::demo::seed(dir, &auth).await?;
        // Today's figures of every commune, for the ranking page.
        let today = kyso_server::campaign_data::vn_date(kyso_store::now());
        crate::campaign_cli::refresh_now(&auth.store, &today, 15).await?;
    }
    // Every commune's figures of today, kept fresh for the dashboard and the ranking
    // page: one pass over the register's column index and the certificate sources (a few
    // seconds at national scale; the write lock is held only to store 3,321 rows).
    {
        let store = auth.store.clone();
        let first = if a.demo { ADOPTION_REFRESH } else { Duration::ZERO };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + first, ADOPTION_REFRESH);
            loop {
                tick.tick().await;
                let today = kyso_server::campaign_data::vn_date(kyso_store::now());
                if let Err(e) = crate::campaign_cli::refresh_now(&store, &today, 15).await {
                    tracing::warn!("today's adoption figures were not refreshed: {e:#}");
                }
            }
        });
    }
    let token = dir.operator_token()?;
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("cannot listen on {}: is another server running there? Use --listen", a.listen))?;
    let addr = listener.local_addr()?;
    if addr != planned {
        crate::public_url::check(&cfg, &dir.config_path(), &a.listen, addr).await?;
    }
    println!("certificates name CRL, OCSP and CA certificates under {}", cfg.base_url);
    println!("kyso is serving on http://{addr}/ ({} storage)", auth.store.backend());
    println!("operator API token: in {}", dir.path.join("operator-token").display());
    if a.demo {
        crate::demo::print_logins(&addr.to_string());
    }
    kyso_server::serve(kyso_server::AppState::new(auth, token), listener).await?;
    Ok(())
}
