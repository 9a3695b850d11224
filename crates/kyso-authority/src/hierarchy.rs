//! `init` (create the root, provider CAs, OCSP responders and TSA in one transaction) and `load`.

use crate::{Authority, AuthorityError, Committer, Config, LoadedCa, LoadedSigner, Result, ACTOR_SYSTEM};
use der::Decode;
use kyso_custody::{KeyAlgorithm, KeyCustody, Signer, WrappedKey};
use kyso_pki::cert::{self, key_identifier, CertSpec, IssuerRef, Profile, Serial, Urls};
use kyso_pki::subject::org_name;
use kyso_store::{AuditEvent, AuthorityRow, CertRow, KeyRow, Store, Write};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;

pub(crate) fn key_row(w: &WrappedKey, now: i64) -> KeyRow {
    KeyRow {
        id: key_row_id(&w.public_key_der),
        backend: w.backend.to_string(),
        algorithm: w.algorithm.as_str().to_string(),
        public_key: w.public_key_der.clone(),
        wrapped: w.blob.clone(),
        created_at: now,
    }
}

/// Keys are named by creation time and the hash of their public key: unique, reveals nothing,
/// and ordered, so inserting many keys appends to the index instead of scattering over it.
pub(crate) fn key_row_id(spki: &[u8]) -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("key-{ms:012x}{}", hex::encode(&kyso_pki::alg::sha256(spki)[..10]))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn cert_row(
    serial: &Serial,
    issuer: &str,
    profile: Profile,
    cn: &str,
    key_id: Option<String>,
    nb: SystemTime,
    na: SystemTime,
    der: Vec<u8>,
    now: i64,
) -> CertRow {
    CertRow {
        serial: serial.hex(),
        issuer_id: issuer.to_string(),
        profile: profile.as_str().to_string(),
        id_number: None,
        subject_cn: cn.to_string(),
        key_id,
        not_before: kyso_pki::time::unix(nb) as i64,
        not_after: kyso_pki::time::unix(na) as i64,
        revoked_at: None,
        revocation_reason: None,
        superseded_by: None,
        der,
        created_at: now,
    }
}

const DAY: u64 = 86_400;

struct Made {
    signer: Box<dyn Signer>,
    der: Vec<u8>,
}

/// Generate a key in custody and certify it; push key, certificate, authority and audit rows.
#[allow(clippy::too_many_arguments)]
fn make(
    custody: &dyn KeyCustody,
    writes: &mut Vec<Write>,
    id: &str,
    kind: &str,
    parent: Option<&str>,
    display: &str,
    org: &str,
    profile: Profile,
    alg: KeyAlgorithm,
    years: u64,
    urls: Urls,
    policy: Option<&str>,
    issuer: Option<&IssuerRef>,
) -> Result<Made> {
    let now = SystemTime::now();
    let now_s = kyso_pki::time::unix(now) as i64;
    let (signer, wrapped) = custody.generate(alg)?;
    let krow = key_row(&wrapped, now_s);
    writes.push(Write::Audit(AuditEvent::new(
        ACTOR_SYSTEM,
        "key.generate",
        &krow.id,
        format!("{alg} for {id} in {}", custody.backend()),
    )));
    let serial = Serial::random()?;
    let not_after = now + Duration::from_secs(years * 365 * DAY);
    let spec = CertSpec {
        profile,
        subject: org_name(org, display)?,
        subject_public_key_der: signer.public_key_der(),
        serial,
        not_before: now,
        not_after,
        urls,
        policy_oid: policy
            .map(|p| {
                kyso_pki::cert::parse_oid(p).ok_or_else(|| AuthorityError::Refused(format!("bad policy OID for {id}")))
            })
            .transpose()?,
    };
    let der = match issuer {
        Some(i) => cert::issue(&spec, i)?,
        None => cert::self_signed(&spec, signer.as_ref())?,
    };
    let issuer_id = parent.unwrap_or(id);
    writes.push(Write::Audit(AuditEvent::new(
        ACTOR_SYSTEM,
        "cert.issue",
        &serial.hex(),
        format!("{} certificate for {id}, signed by {issuer_id}", profile.as_str()),
    )));
    writes.push(Write::Certificate(cert_row(
        &serial,
        issuer_id,
        profile,
        display,
        Some(krow.id.clone()),
        now,
        not_after,
        der.clone(),
        now_s,
    )));
    writes.push(Write::Authority(AuthorityRow {
        id: id.to_string(),
        kind: kind.to_string(),
        parent_id: parent.map(str::to_string),
        display_name: display.to_string(),
        key_id: krow.id.clone(),
        serial: serial.hex(),
        cert_der: der.clone(),
        created_at: now_s,
    }));
    writes.insert(0, Write::Key(krow));
    Ok(Made { signer, der })
}

/// Sign and verify a probe with a freshly opened key: a key that cannot produce valid signatures
/// (corrupted, wrong backend, faulty token) stops the start instead of issuing bad certificates.
fn self_test(signer: &dyn Signer, id: &str) -> Result<()> {
    let scheme = signer.algorithm().default_scheme();
    let probe = b"kyso key self-test";
    let sig = signer.sign(scheme, probe)?;
    if !kyso_custody::verify(signer.public_key_der(), scheme, probe, &sig) {
        return Err(AuthorityError::Refused(format!("the key of {id} failed its sign/verify self-test")));
    }
    Ok(())
}

impl Authority {
    /// Create the whole hierarchy in one transaction: a crash leaves either all of it or none.
    pub async fn init(store: &Store, custody: &dyn KeyCustody, config: &Config) -> Result<()> {
        config.validate().map_err(AuthorityError::Refused)?;
        let existing = store.authorities().await?;
        if !existing.is_empty() {
            return Err(AuthorityError::AlreadyInitialised(existing.len()));
        }
        let mut w = Vec::new();
        let r = &config.root;
        let root = make(
            custody,
            &mut w,
            "root",
            "root",
            None,
            &r.name,
            &r.organization,
            Profile::Root,
            r.key_algorithm,
            r.validity_years,
            Urls::default(),
            None,
            None,
        )?;
        let root_cert = Certificate::from_der(&root.der).map_err(|e| AuthorityError::Refused(e.to_string()))?;
        let root_issuer = IssuerRef::from_cert(&root_cert, root.signer.as_ref())?;
        let under_root =
            Urls { crl: Some(config.crl_url("root")), ocsp: None, ca_issuers: Some(config.ca_url("root")) };
        for p in &config.providers {
            let ca = make(
                custody,
                &mut w,
                &p.id,
                "provider",
                Some("root"),
                &p.name,
                &p.organization,
                Profile::ProviderCa,
                p.key_algorithm,
                10,
                under_root.clone(),
                Some(&p.policy_oid),
                Some(&root_issuer),
            )?;
            let ca_cert = Certificate::from_der(&ca.der).map_err(|e| AuthorityError::Refused(e.to_string()))?;
            let ca_issuer = IssuerRef::from_cert(&ca_cert, ca.signer.as_ref())?;
            let name = format!("{} OCSP Responder", p.name);
            make(
                custody,
                &mut w,
                &format!("{}-ocsp", p.id),
                "ocsp",
                Some(&p.id),
                &name,
                &p.organization,
                Profile::OcspSigner,
                KeyAlgorithm::EcP256,
                1,
                Urls::default(),
                None,
                Some(&ca_issuer),
            )?;
        }
        let t = &config.tsa;
        make(
            custody,
            &mut w,
            "tsa",
            "tsa",
            Some("root"),
            &t.name,
            &r.organization,
            Profile::Tsa,
            t.key_algorithm,
            5,
            under_root,
            Some(&t.policy_oid),
            Some(&root_issuer),
        )?;
        w.push(Write::Setting { name: "config".into(), value: config.to_toml() });
        w.push(Write::Audit(AuditEvent::new(
            ACTOR_SYSTEM,
            "init",
            "hierarchy",
            format!("root + {} provider CA(s), OCSP responders, TSA", config.providers.len()),
        )));
        store.commit(&w).await?;
        Ok(())
    }

    /// Load the hierarchy and open its keys. Starts the group-commit writer.
    pub async fn load(
        store: Store,
        custody: Arc<dyn KeyCustody>,
        pin_custody: Arc<dyn kyso_custody::PinCustody>,
        config: Config,
    ) -> Result<Authority> {
        // Every change the authority makes is audited: refuse a store without the audit key now
        // rather than at the first write.
        store.audit_key()?;
        let rows = store.authorities().await?;
        if rows.is_empty() {
            return Err(AuthorityError::NotInitialised);
        }
        let mut cas = HashMap::new();
        let mut responders = HashMap::new();
        let mut tsa = None;
        for a in rows {
            let k = store.key(&a.key_id).await?;
            let alg: KeyAlgorithm = k.algorithm.parse()?;
            let wrapped =
                WrappedKey { backend: "vault", algorithm: alg, public_key_der: k.public_key.clone(), blob: k.wrapped };
            let signer = custody.open(&wrapped)?;
            self_test(signer.as_ref(), &a.id)?;
            let cert = Certificate::from_der(&a.cert_der)
                .map_err(|e| AuthorityError::Refused(format!("stored certificate of {}: {e}", a.id)))?;
            match a.kind.as_str() {
                "root" | "provider" => {
                    let key_id = key_identifier(signer.public_key_der())?;
                    let mut ca = LoadedCa {
                        id: a.id,
                        kind: a.kind,
                        display_name: a.display_name,
                        cert,
                        cert_der: a.cert_der,
                        key_id,
                        signer,
                        citizen_template: None,
                    };
                    if let Some(p) = config.provider(&ca.id).filter(|_| ca.kind == "provider") {
                        let urls = Urls {
                            crl: Some(config.crl_url(&ca.id)),
                            ocsp: Some(config.ocsp_url(&ca.id)),
                            ca_issuers: Some(config.ca_url(&ca.id)),
                        };
                        let policy = cert::parse_oid(&p.policy_oid);
                        ca.citizen_template = Some(cert::Template::new(Profile::Citizen, &urls, policy, &ca.issuer())?);
                    }
                    cas.insert(ca.id.clone(), Arc::new(ca));
                }
                "ocsp" => {
                    let parent = a.parent_id.clone().unwrap_or_default();
                    responders.insert(
                        parent,
                        Arc::new(LoadedSigner { id: a.id, parent_id: a.parent_id, cert, cert_der: a.cert_der, signer }),
                    );
                }
                _ => {
                    tsa = Some(Arc::new(LoadedSigner {
                        id: a.id,
                        parent_id: a.parent_id,
                        cert,
                        cert_der: a.cert_der,
                        signer,
                    }))
                }
            }
        }
        let tsa = tsa.ok_or_else(|| AuthorityError::NotFound("TSA".into()))?;
        let committer = Committer::start(store.clone());
        let mut allow_private = config.fetch_allowance().map_err(AuthorityError::Refused)?;
        allow_private.extend(crate::online::reach::from_env().map_err(AuthorityError::Refused)?);
        let online = crate::online::Online::new(
            crate::online::OnlineConfig { offline: config.offline_validation, allow_private, ..Default::default() },
            Some(store.clone()),
        );
        Ok(Authority {
            store,
            config,
            custody,
            committer,
            cas,
            responders,
            tsa,
            revocation_lock: tokio::sync::Mutex::new(()),
            pin_custody: HashMap::new(),
            default_pin_custody: pin_custody,
            sads: Default::default(),
            argon2: crate::gate::Argon2Gate::from_env(),
            throttle_pruned: std::sync::atomic::AtomicI64::new(0),
            pools: Default::default(),
            status_state: Default::default(),
            trust_cache: Default::default(),
            online,
            reads: Default::default(),
        })
    }

    pub(crate) fn custody(&self) -> &dyn KeyCustody {
        self.custody.as_ref()
    }
}
