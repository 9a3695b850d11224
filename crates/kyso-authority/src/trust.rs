//! The national trust list in the service: imported editions (parsed by kyso-trust, stored in
//! the store, audited), kyso's own CAs listed beside the other providers, and the trust anchors
//! validation uses (each listed service with the periods its status allowed trust).

use crate::{Authority, AuthorityError, Result};
use kyso_trust::{Provider, Scheme, Service, ServiceType, Status, StatusChange, TrustList};
use kyso_validate::{TrustAnchors, TrustedPeriod};
use std::sync::Arc;

/// The parsed edition in force, by its import number.
#[derive(Default)]
pub(crate) struct TrustCache(tokio::sync::Mutex<Option<(i64, Arc<TrustList>)>>);

impl Authority {
    /// Read, check and store a trust list edition (audited). Errors name the provider, service and
    /// field; an edition older than the one in force is refused.
    pub async fn import_trust_list(&self, text: &str, actor: &str) -> Result<TrustList> {
        let list = TrustList::from_toml(text).map_err(|e| AuthorityError::Refused(e.to_string()))?;
        let sha = hex::encode(kyso_pki::alg::sha256(text.as_bytes()));
        let seq = i64::try_from(list.scheme.sequence_number)
            .map_err(|_| AuthorityError::Refused("trường `sequence_number`: quá lớn".into()))?;
        self.store.import_trust_list(seq, &sha, text, actor).await?;
        Ok(list)
    }

    /// The imported edition in force (parsed once per edition), if any.
    pub async fn imported_trust_list(&self) -> Result<Option<Arc<TrustList>>> {
        let Some(seq) = self.store.trust_list_seq().await? else { return Ok(None) };
        let mut cache = self.trust_cache.0.lock().await;
        if let Some((s, l)) = cache.as_ref() {
            if *s == seq {
                return Ok(Some(l.clone()));
            }
        }
        let Some(row) = self.store.trust_list().await? else { return Ok(None) };
        let list = Arc::new(
            TrustList::from_toml(&row.body)
                .map_err(|e| AuthorityError::Refused(format!("the stored trust list no longer reads: {e}")))?,
        );
        *cache = Some((row.seq, list.clone()));
        Ok(Some(list))
    }

    /// kyso's own services as trust-list providers: the root with the TSA, and each provider CA
    /// with its OCSP responder, granted since their certificates' notBefore. Their revocation
    /// status keeps coming from the store.
    pub fn own_trust_providers(&self) -> Vec<Provider> {
        let service = |name: &str, kind, der: &[u8], cert: &x509_cert::Certificate, supply: Option<String>| Service {
            name: name.to_string(),
            kind,
            certificate_der: der.to_vec(),
            certificate: cert.clone(),
            supply_points: supply.into_iter().collect(),
            history: vec![StatusChange {
                status: Status::Granted,
                from: cert.tbs_certificate.validity.not_before.to_unix_duration().as_secs() as i64,
            }],
        };
        let mut out = Vec::new();
        if let Some(root) = self.ca("root") {
            let mut services = vec![service(&root.display_name, ServiceType::CaPkc, &root.cert_der, &root.cert, None)];
            let tsa = self.tsa();
            services.push(service(
                "kyso TSA",
                ServiceType::Tsa,
                &tsa.cert_der,
                &tsa.cert,
                Some(format!("{}/tsa", self.config.base_url)),
            ));
            out.push(Provider {
                name: self.config.root.organization.clone(),
                trade_name: Some(format!("kyso: {}", root.display_name)),
                services,
            });
        }
        for p in &self.config.providers {
            let Some(ca) = self.ca(&p.id) else { continue };
            let mut services = vec![service(&ca.display_name, ServiceType::CaQc, &ca.cert_der, &ca.cert, None)];
            if let Some(r) = self.responder(&p.id) {
                services.push(service(
                    &format!("{} OCSP", p.name),
                    ServiceType::Ocsp,
                    &r.cert_der,
                    &r.cert,
                    Some(self.config.ocsp_url(&p.id)),
                ));
            }
            out.push(Provider {
                name: p.organization.clone(),
                trade_name: Some(format!("kyso: {}", p.name)),
                services,
            });
        }
        out
    }

    /// The list as relying parties see it: the imported edition with kyso's own providers merged
    /// in (an empty Vietnamese scheme when nothing was imported).
    pub async fn trust_list(&self) -> Result<TrustList> {
        let mut list = match self.imported_trust_list().await? {
            Some(l) => (*l).clone(),
            None => TrustList {
                scheme: Scheme {
                    territory: "VN".into(),
                    operator: self.config.root.organization.clone(),
                    sequence_number: 0,
                    issued: kyso_store::now(),
                    next_update: None,
                },
                providers: Vec::new(),
            },
        };
        for p in self.own_trust_providers() {
            list.put_provider(p);
        }
        Ok(list)
    }

    /// The anchors validation uses: kyso's own CAs (their status from the store), the imported
    /// list's services with their trusted periods, and `extra_roots` (trusted without a period).
    pub async fn validation_anchors(&self, extra_roots: &[Vec<u8>]) -> Result<TrustAnchors> {
        let mut t = self.trust_anchors(extra_roots);
        if let Some(list) = self.imported_trust_list().await? {
            add_listed(&mut t, &list);
        }
        Ok(t)
    }
}

/// Every service of `list` into `anchors` with the periods it was trusted in.
pub fn add_listed(anchors: &mut TrustAnchors, list: &TrustList) {
    for (_, s) in list.services() {
        let periods = s
            .trusted_periods()
            .into_iter()
            .map(|(from, until)| TrustedPeriod {
                from: kyso_pki::time::from_unix(from),
                until: until.map(kyso_pki::time::from_unix),
            })
            .collect();
        // the list was parsed, so its certificates read
        let _ = anchors.add_listed_service(&s.certificate_der, periods);
    }
}
