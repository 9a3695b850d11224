//! `kyso serve`: check the public base URL against `--listen`, open the authority, seed the demo
//! with `--demo`, keep today's adoption figures fresh, and run the HTTP server.

use crate::data::{open, DataDir};
use crate::init::same_base_url;
use anyhow::{Context, Result};
use clap::Args;

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
        kyso_tracker::adoption::refresh_today(&auth.store).await?;
    }
    // The server keeps today's figures fresh itself (kyso_server::serve starts the timer).
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
