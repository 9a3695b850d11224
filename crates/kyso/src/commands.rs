//! Command implementations.

use crate::data::DataDir;
use crate::{AuditCommand, BenchCommand, CaCommand, CertCommand, CitizenCommand, Cli, Command, IssueArgs};
use anyhow::{bail, Context, Result};
use kyso_authority::{Authority, Config, IssueRequest};
use kyso_custody::{KeyCustody, Vault};
use kyso_pki::crl::{reason_from_name, reason_name};
use kyso_pki::CitizenSubject;
use kyso_store::Store;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

const ACTOR_CLI: &str = "cli";

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let dir = DataDir::new(&cli.data_dir);
    match cli.command {
        Command::Init(a) => {
            init(&dir, cli.database_url.as_deref(), a.config.as_deref(), a.base_url.as_deref(), cli.json).await?;
        }
        Command::Serve(a) => {
            if a.demo {
                crate::demo::prepare(&dir, cli.database_url.as_deref(), &a.listen, a.base_url.as_deref()).await?;
            }
            // Certificates must never point at an address this server is not reachable at: check
            // base_url against --listen before seeding or binding anything.
            let cfg = dir.load_config()?;
            if let Some(u) = &a.base_url {
                same_base_url(&cfg, u, &dir)?;
            }
            let planned = crate::public_url::resolve_listen(&a.listen).await?;
            crate::public_url::check(&cfg, &dir.config_path(), &a.listen, planned).await?;
            let auth = open(&dir, cli.database_url.as_deref()).await?;
            if a.demo {
                crate::demo::seed(&auth).await?;
                crate::demo_campaign::seed(&dir, &auth).await?;
                crate::demo_accounts::seed(&auth).await?;
                // Today's figures of every commune, for the ranking page.
                let today = kyso_server::campaign_data::vn_date(kyso_store::now());
                crate::campaign_cli::refresh_now(&auth.store, &today, 15).await?;
            }
            let token = dir.operator_token()?;
            let listener = tokio::net::TcpListener::bind(&a.listen).await.with_context(|| {
                format!("cannot listen on {}: is another server running there? Use --listen", a.listen)
            })?;
            let addr = listener.local_addr()?;
            if addr != planned {
                crate::public_url::check(&cfg, &dir.config_path(), &a.listen, addr).await?;
            }
            println!("certificates name CRL, OCSP and CA certificates under {}", cfg.base_url);
            println!("kyso is serving on http://{addr}/ ({} storage)", auth.store.backend());
            println!("operator API token: in {}", dir.path.join("operator-token").display());
            if a.demo {
                crate::demo::print_logins(&addr.to_string());
                crate::demo_accounts::print_logins();
            }
            kyso_server::serve(kyso_server::AppState::new(auth, token), listener).await?;
        }
        Command::Cert(c) => return cert(&dir, cli.database_url.as_deref(), c, cli.json).await,
        Command::Citizen(CitizenCommand::Add { id, name, province, commune, eid_level }) => {
            if !(0..=2).contains(&eid_level) {
                bail!("--eid-level must be 0, 1 or 2");
            }
            let auth = open(&dir, cli.database_url.as_deref()).await?;
            let s = CitizenSubject::new(&id, &name, &province, commune.as_deref())?;
            auth.register_citizen(&s, eid_level, ACTOR_CLI).await?;
            out(
                cli.json,
                json!({"id_masked": s.id.masked(), "eid_level": eid_level}),
                &format!("recorded {} at e-ID level {eid_level}", s.id.masked()),
            );
        }
        Command::Crl { ca, out: file } => {
            let auth = open(&dir, cli.database_url.as_deref()).await?;
            let crl = auth.sign_crl(&ca, ACTOR_CLI).await?;
            match file {
                Some(f) => {
                    std::fs::write(&f, &crl.der)?;
                    out(
                        cli.json,
                        json!({"ca": ca, "crl_number": crl.crl_number, "file": f}),
                        &format!("CRL #{} of {ca} written to {}", crl.crl_number, f.display()),
                    );
                }
                None => print!("{}", kyso_pki::pem("X509 CRL", &crl.der)),
            }
        }
        Command::Ca(CaCommand::Export { out_dir }) => {
            let auth = open(&dir, cli.database_url.as_deref()).await?;
            std::fs::create_dir_all(&out_dir)?;
            let mut written = Vec::new();
            for a in auth.store.authorities().await? {
                let f = out_dir.join(format!("{}.pem", a.id));
                std::fs::write(&f, kyso_pki::pem("CERTIFICATE", &a.cert_der))?;
                written.push(f.display().to_string());
            }
            out(cli.json, json!({ "files": written }), &written.join("\n"));
        }
        Command::Ca(CaCommand::List) => {
            let auth = open(&dir, cli.database_url.as_deref()).await?;
            let rows = auth.store.authorities().await?;
            let v: Vec<_> = rows.iter().map(|a| json!({"id": a.id, "kind": a.kind, "parent": a.parent_id, "name": a.display_name, "serial": a.serial})).collect();
            let text: Vec<String> = rows
                .iter()
                .map(|a| {
                    format!(
                        "{:<14} {:<9} {:<8} {}",
                        a.id,
                        a.kind,
                        a.parent_id.as_deref().unwrap_or("-"),
                        a.display_name
                    )
                })
                .collect();
            out(cli.json, json!(v), &text.join("\n"));
        }
        Command::Audit(AuditCommand::Show { after, limit, action }) => {
            let store = open_store(&dir, cli.database_url.as_deref()).await?;
            let mut rows = Vec::new();
            let mut from = after;
            // Page through the log until `limit` matching rows are found.
            while rows.len() < limit.max(0) as usize {
                let page = store.audit_rows(from, 1000).await?;
                let Some(last) = page.last() else { break };
                from = last.seq;
                rows.extend(page.into_iter().filter(|r| action.as_deref().is_none_or(|a| r.action.starts_with(a))));
            }
            rows.truncate(limit.max(0) as usize);
            let v: Vec<_> = rows
                .iter()
                .map(|r| json!({"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "subject": r.subject, "detail": r.detail}))
                .collect();
            let text: Vec<String> = rows
                .iter()
                .map(|r| format!("#{} {} {} {} {} — {}", r.seq, r.at, r.actor, r.action, r.subject, r.detail))
                .collect();
            out(cli.json, json!(v), &text.join("\n"));
        }
        Command::Audit(AuditCommand::Verify { full }) => {
            let store = open_store(&dir, cli.database_url.as_deref()).await?;
            dir.kek().context("`kyso audit verify` needs the key-encryption key: the audit chain is keyed by it")?;
            let started = std::time::Instant::now();
            let mut c = store.check_audit(full).await?;
            // The reason each revocation row names (what kyso_authority writes: `reason <name>`,
            // or `superseded` for a renewal) must be the certificate's stored reason code.
            let named = |detail: &str, code: Option<i64>| {
                let want = match detail {
                    "superseded" => Some(4),
                    d => d.strip_prefix("reason ").and_then(kyso_pki::crl::reason_from_name),
                };
                want.map(i64::from) == code
            };
            if let Some((seq, serial)) = store.first_revocation_reason_mismatch(named).await? {
                c.mismatches.push(format!(
                    "certificate {serial}'s revocation reason in the database is not the one audit row {seq} recorded"
                ));
            }
            let secs = started.elapsed().as_secs_f64();
            let ok = c.ok();
            let r = &c.chain;
            let walked = match c.resumed_from {
                Some(seq) => format!("{} row(s) after the checkpoint at row {seq}", r.rows),
                None => format!("{} rows from row 1", r.rows),
            };
            let mut text = match &r.first_error {
                None => format!(
                    "audit log intact: head #{} {}, {walked} walked in {secs:.2} s\n(record this head outside the database: a tail cut off, back to any earlier point, is only visible against it)",
                    r.head_seq, r.head_hash
                ),
                Some((seq, why)) => format!("audit log BROKEN at row {seq}: {why} ({walked} verified before it)"),
            };
            if let Some(why) = &c.checkpoint_refused {
                text.push_str(&format!("\nCHECKPOINT REFUSED: {why}"));
            }
            for m in &c.mismatches {
                text.push_str(&format!("\nINCONSISTENT: {m}"));
            }
            if c.without_key + c.without_audit > 0 {
                text.push_str(&format!(
                    "\nINCONSISTENT: {} certificate(s) without their custody key, {} without an issuance audit row",
                    c.without_key, c.without_audit
                ));
            }
            out(
                cli.json,
                json!({"ok": ok, "rows": r.rows, "head_seq": r.head_seq, "head_hash": r.head_hash,
                "resumed_from": c.resumed_from, "full": full, "seconds": secs,
                "first_bad_row": r.first_error.as_ref().map(|e| e.0), "problem": r.first_error.as_ref().map(|e| e.1.clone()),
                "checkpoint_refused": c.checkpoint_refused, "mismatches": c.mismatches,
                "first_mismatch": c.mismatches.first(),
                "certificate_rows_checked": c.certificate_rows_checked,
                "checkpoint": c.checkpoint_written.as_ref().map(|k| k.seq),
                "certificates_without_key": c.without_key, "certificates_without_audit": c.without_audit}),
                &text,
            );
            if !ok {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Staff(c) => return crate::accounts_cli::staff(&dir, cli.database_url.as_deref(), c, cli.json).await,
        Command::Point(c) => return crate::accounts_cli::point(&dir, cli.database_url.as_deref(), c, cli.json).await,
        Command::Campaign(c) => return crate::campaign_cli::run(&dir, cli.database_url.as_deref(), c, cli.json).await,
        Command::SignPdf(a) => {
            return crate::signing::sign_doc(&dir, cli.database_url.as_deref(), a, true, cli.json).await
        }
        Command::SignFile(a) => {
            return crate::signing::sign_doc(&dir, cli.database_url.as_deref(), a, false, cli.json).await
        }
        Command::Verify { file, signature, trust, lang } => {
            return crate::signing::verify(
                &dir,
                cli.database_url.as_deref(),
                &file,
                signature.as_deref(),
                &trust,
                &lang,
                cli.json,
            )
            .await
        }
        Command::Credential(c) => {
            return crate::signing::credential(&dir, cli.database_url.as_deref(), c, cli.json).await
        }
        Command::SignHash { id, credential, hashes, otp } => {
            return crate::signing::sign_hash(
                &dir,
                cli.database_url.as_deref(),
                &id,
                &credential,
                &hashes,
                otp.as_deref(),
                cli.json,
            )
            .await
        }
        Command::Bench(BenchCommand::Pdf { pdf, key, certs, count }) => {
            crate::bench_pdf::run(&pdf, &key, &certs, count, cli.json)?;
        }
        Command::Bench(BenchCommand::Sign { custody, clients, batches, batch_size, authorize_calls }) => {
            crate::bench_sign::run(&custody, clients, batches, batch_size, authorize_calls, cli.json).await?;
        }
        Command::Bench(BenchCommand::CampaignData { residents, list, units, seed, out }) => {
            crate::bench_campaign::data(&units, residents, list, seed, &out)?;
        }
        Command::Bench(BenchCommand::Campaign { date, commune, runs }) => {
            let store = open_store(&dir, cli.database_url.as_deref()).await?;
            crate::bench_campaign::run(&store, &date, &commune, runs).await?;
        }
        Command::Bench(BenchCommand::Audit { rows, certificates, keep }) => {
            crate::bench_audit::run(rows, certificates, keep, cli.database_url.as_deref(), cli.json).await?;
        }
        Command::Bench(BenchCommand::ValidateMany { signatures, runs, no_limits, out_dir }) => {
            crate::bench_dos::validate_many(&signatures, runs, no_limits, out_dir.as_deref(), cli.json)?;
        }
        Command::Bench(BenchCommand::XlsxBomb { out, inflated_mb, shared }) => {
            crate::bench_dos::xlsx_bomb(&out, inflated_mb, shared)?;
        }
        Command::Bench(BenchCommand::Issue { count, concurrency, cpu_only }) => {
            crate::bench::issue(count, concurrency, cpu_only, cli.database_url.as_deref(), cli.json).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn out(json_mode: bool, v: serde_json::Value, text: &str) {
    if json_mode {
        println!("{v}");
    } else if !text.is_empty() {
        println!("{text}");
    }
}

pub async fn init(
    dir: &DataDir,
    db: Option<&str>,
    config: Option<&std::path::Path>,
    base_url: Option<&str>,
    json_mode: bool,
) -> Result<()> {
    let cfg = match config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None if dir.config_path().exists() => dir.load_config()?,
        None => {
            let url = kyso_authority::config::BaseUrl::parse(base_url.unwrap_or(DEFAULT_BASE_URL))
                .map_err(|e| anyhow::anyhow!("--base-url: {e}"))?;
            Config::demo(&url.to_string())
        }
    };
    if let Some(u) = base_url {
        same_base_url(&cfg, u, dir)?;
    }
    cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    dir.create()?;
    std::fs::write(dir.config_path(), cfg.to_toml())?;
    dir.ensure_kek()?;
    dir.operator_token()?;
    let store = open_store(dir, db).await?;
    let vault = Vault::new(&dir.kek()?);
    Authority::init(&store, &vault, &cfg).await?;
    let names: Vec<&str> = cfg.providers.iter().map(|p| p.name.as_str()).collect();
    out(
        json_mode,
        json!({"data_dir": dir.path, "providers": cfg.providers.iter().map(|p| &p.id).collect::<Vec<_>>(), "backend": store.backend()}),
        &format!(
            "initialised {}: national root, {} provider CA(s) ({}), OCSP responders, TSA",
            dir.path.display(),
            names.len(),
            names.join(", ")
        ),
    );
    Ok(())
}

/// `kyso init`'s base URL when `--base-url` is not given: what `kyso serve`'s default `--listen` serves.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// An explicit `--base-url` must be the configuration's: the base URL is written into the CA
/// certificates when the data directory is created, and is not changed by a flag.
fn same_base_url(cfg: &Config, given: &str, dir: &DataDir) -> Result<()> {
    let given = kyso_authority::config::BaseUrl::parse(given).map_err(|e| anyhow::anyhow!("--base-url: {e}"))?;
    let have = kyso_authority::config::BaseUrl::parse(&cfg.base_url)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.config_path().display()))?;
    if given != have {
        bail!(
            "--base-url {given} differs from base_url {have} in the configuration ({}), which the CA certificates \
             already carry. Leave --base-url out to keep {have}, or start a new data directory (--data-dir) to use {given}",
            dir.config_path().display()
        );
    }
    Ok(())
}

/// The store, keyed for the audit chain by the KEK when there is one (`kyso init` creates it; a
/// data directory without it can read but not write audited changes).
pub async fn open_store(dir: &DataDir, db: Option<&str>) -> Result<Store> {
    let url = dir.database_url(db);
    let store = Store::open(&url).await.with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    Ok(match dir.kek_if_present()? {
        Some(kek) => store.with_audit_key(kyso_authority::audit_key(&kek)),
        None => store,
    })
}

/// Database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

pub async fn open(dir: &DataDir, db: Option<&str>) -> Result<Arc<Authority>> {
    let cfg = dir.load_config()?;
    let store = open_store(dir, db).await?;
    let vault = Arc::new(Vault::new(&dir.kek()?));
    let custody: Arc<dyn KeyCustody> = vault.clone();
    let hsm_providers: Vec<String> =
        cfg.providers.iter().filter(|p| p.citizen_key_custody == "pkcs11").map(|p| p.id.clone()).collect();
    let pkcs11 = cfg.pkcs11.clone();
    let mut auth = Authority::load(store, custody, vault, cfg).await?;
    if let (Some(p), false) = (pkcs11, hsm_providers.is_empty()) {
        let pin = std::env::var(&p.user_pin_env)
            .with_context(|| format!("the PKCS#11 token's user PIN: set {}", p.user_pin_env))?;
        let token = kyso_custody::Pkcs11Custody::open(std::path::Path::new(&p.module), &p.token, &pin)
            .map_err(|e| anyhow::anyhow!("PKCS#11 token `{}` in {}: {e}", p.token, p.module))?;
        let token: Arc<dyn kyso_custody::PinCustody> = Arc::new(token);
        for id in hsm_providers {
            auth.set_pin_custody(&id, token.clone());
        }
    }
    Ok(Arc::new(auth))
}

async fn cert(dir: &DataDir, db: Option<&str>, c: CertCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        CertCommand::Issue(a) => issue(&auth, a, json_mode).await?,
        CertCommand::Renew { serial, new_key } => {
            let c = auth.renew(&serial, new_key, ACTOR_CLI).await?;
            out(
                json_mode,
                serde_json::to_value(&c)?,
                &format!(
                    "renewed {serial}: new certificate {} valid until {}",
                    c.serial,
                    kyso_pki::time::rfc3339(c.not_after)
                ),
            );
        }
        CertCommand::Revoke { serial, reason } => {
            let code = reason_from_name(&reason).with_context(|| format!("--reason: unknown revocation reason `{reason}` (try keyCompromise, affiliationChanged, superseded, cessationOfOperation, unspecified)"))?;
            let c = auth.revoke(&serial, code, ACTOR_CLI).await?;
            out(
                json_mode,
                json!({"serial": c.serial, "revoked_at": c.revoked_at, "reason": reason_name(code)}),
                &format!("revoked {} ({}); CRL of {} re-signed", c.serial, reason_name(code), c.issuer_id),
            );
        }
        CertCommand::Show { serial, pem, out: file } => {
            let c = auth.certificate(&serial).await?;
            if let Some(f) = file {
                std::fs::write(&f, &c.der)?;
            }
            if pem {
                print!("{}", kyso_pki::pem("CERTIFICATE", &c.der));
            } else {
                let status = status_text(&c);
                out(json_mode, cert_json(&c), &format!(
                    "serial      {}\nprovider    {}\nprofile     {}\nsubject     {}\nholder      {}\nvalid       {} → {}\nstatus      {status}",
                    c.serial, c.issuer_id, c.profile, c.subject_cn, masked(&c.id_number),
                    kyso_pki::time::rfc3339(c.not_before), kyso_pki::time::rfc3339(c.not_after)));
            }
        }
        CertCommand::List { id, provider, limit } => {
            let id = id
                .map(|i| kyso_pki::CitizenId::parse(&i).map(|x| x.expose().to_string()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let rows = auth.store.certificates(id.as_deref(), provider.as_deref(), limit, 0).await?;
            if json_mode {
                println!("{}", json!(rows.iter().map(cert_json).collect::<Vec<_>>()));
            } else {
                for c in &rows {
                    println!(
                        "{}  {:<8} {:<12} {:<14} {:<28} {}",
                        c.serial,
                        c.issuer_id,
                        c.profile,
                        masked(&c.id_number),
                        c.subject_cn,
                        status_text(c)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn masked(id: &Option<String>) -> String {
    id.as_deref().and_then(|i| kyso_pki::CitizenId::parse(i).ok()).map(|i| i.masked()).unwrap_or_else(|| "-".into())
}

fn status_text(c: &kyso_store::CertRow) -> String {
    match (c.revoked_at, &c.superseded_by) {
        (Some(at), _) => {
            format!("revoked {} ({})", kyso_pki::time::rfc3339(at), reason_name(c.revocation_reason.unwrap_or(0) as u8))
        }
        (None, _) if c.not_after < kyso_store::now() => "expired".into(),
        _ => "valid".into(),
    }
}

fn cert_json(c: &kyso_store::CertRow) -> serde_json::Value {
    json!({"serial": c.serial, "provider": c.issuer_id, "profile": c.profile, "subject": c.subject_cn,
        "id_masked": masked(&c.id_number), "not_before": c.not_before, "not_after": c.not_after,
        "revoked_at": c.revoked_at, "revocation_reason": c.revocation_reason.map(|r| reason_name(r as u8)),
        "superseded_by": c.superseded_by, "status": status_text(c)})
}

async fn issue(auth: &Arc<Authority>, a: IssueArgs, json_mode: bool) -> Result<()> {
    let key_algorithm =
        a.key_alg.as_deref().map(str::parse).transpose().map_err(|e| anyhow::anyhow!("--key-alg: {e}"))?;
    if a.eid_level2 {
        let s = CitizenSubject::new(&a.id, &a.name, &a.province, a.commune.as_deref())?;
        auth.register_citizen(&s, 2, ACTOR_CLI).await?;
    }
    let req = IssueRequest {
        id_number: a.id,
        full_name: a.name,
        province: a.province,
        commune: a.commune,
        provider: a.provider,
        key_algorithm,
        validity_days: a.days,
        actor: ACTOR_CLI.into(),
    };
    let c = match &a.csr {
        Some(f) => {
            let raw = std::fs::read(f).with_context(|| format!("--csr: cannot read {}", f.display()))?;
            let spki =
                kyso_pki::cert::csr_public_key(&raw).map_err(|e| anyhow::anyhow!("--csr {}: {e}", f.display()))?;
            auth.issue_for_public_key(req, spki).await?
        }
        None => auth.issue(req).await?,
    };
    if let Some(f) = &a.out {
        std::fs::write(f, &c.der)?;
    }
    out(
        json_mode,
        serde_json::to_value(&c)?,
        &format!(
            "issued {} to {} ({}) by {}, valid until {}",
            c.serial,
            c.subject,
            c.id_masked,
            c.provider,
            kyso_pki::time::rfc3339(c.not_after)
        ),
    );
    Ok(())
}
