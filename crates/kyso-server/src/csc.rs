//! The remote-signing API, shaped after the Cloud Signature Consortium API v2: `info`,
//! `credentials/list`, `credentials/info`, `credentials/authorize`, `signatures/signHash`, with
//! the citizen authenticated by a bearer token. Field names and error codes follow the
//! specification; the OpenAPI document is served at `/csc/v2/openapi.json`.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use kyso_authority::signing::{scheme_from_oid, SigningError, SHA256_OID};
use kyso_custody::Pin;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/csc/v2/info", post(info).get(info))
        .route("/csc/v2/credentials/list", post(list))
        .route("/csc/v2/credentials/info", post(cred_info))
        .route("/csc/v2/credentials/authorize", post(authorize))
        .route("/csc/v2/signatures/signHash", post(sign_hash))
        .route("/csc/v2/openapi.json", get(openapi))
}

fn err(status: StatusCode, code: &str, desc: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": code, "error_description": desc.to_string() }))).into_response()
}

fn from_signing(e: SigningError) -> Response {
    match e {
        SigningError::InvalidRequest(m) => err(StatusCode::BAD_REQUEST, "invalid_request", m),
        e @ SigningError::InvalidPin { .. } => err(StatusCode::BAD_REQUEST, "invalid_pin", e),
        e @ SigningError::InvalidOtp => err(StatusCode::BAD_REQUEST, "invalid_otp", e),
        e @ SigningError::Locked => err(StatusCode::FORBIDDEN, "access_denied", e),
        e @ SigningError::Busy => {
            let mut r = err(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable", e);
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        SigningError::Authority(kyso_authority::AuthorityError::Refused(m)) => {
            err(StatusCode::BAD_REQUEST, "invalid_request", m)
        }
        SigningError::Authority(e) => {
            tracing::error!(error = %e, "remote signing failure");
            err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error; see the server log")
        }
    }
}

/// The citizen behind the bearer token, or a 401 response.
async fn citizen(s: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "invalid_token", "send Authorization: Bearer <access token>"))?;
    match s.authority.token_owner(token).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(err(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is unknown or expired")),
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            Err(err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error"))
        }
    }
}

macro_rules! json_body {
    ($b:expr) => {
        match $b {
            Ok(Json(b)) => b,
            Err(e) => return err(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()),
        }
    };
}

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

async fn info() -> Json<Value> {
    Json(json!({
        "specs": "2.0.0.2",
        "name": "kyso",
        "logo": "",
        "region": "VN",
        "lang": "vi-VN",
        "description": "Ký số từ xa cho người dân — remote signing under the citizen's sole control",
        "authType": ["external"],
        "methods": ["info", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"],
        "signAlgorithms": { "algos": ["1.2.840.10045.4.3.2", "1.2.840.113549.1.1.10", "1.2.840.113549.1.1.11"] }
    }))
}

fn key_info(alg: &str) -> Value {
    match alg {
        "ec-p256" => {
            json!({"status": "enabled", "algo": ["1.2.840.10045.2.1"], "len": 256, "curve": "1.2.840.10045.3.1.7"})
        }
        "rsa-3072" => json!({"status": "enabled", "algo": ["1.2.840.113549.1.1.1"], "len": 3072}),
        _ => json!({"status": "enabled", "algo": ["1.2.840.113549.1.1.1"], "len": 2048}),
    }
}

async fn describe(s: &AppState, c: &kyso_store::CredentialRow, certificates: &str) -> Result<Value, Response> {
    let fail = |e: String| {
        tracing::error!(error = %e, "credential info failed");
        err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    };
    let key = s.authority.store.key(&c.key_id).await.map_err(|e| fail(e.to_string()))?;
    let cert = s
        .authority
        .store
        .certificate(&c.cert_serial)
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("certificate missing".into()))?;
    let status = if cert.revoked_at.is_some() {
        "revoked"
    } else if cert.not_after < kyso_store::now() {
        "expired"
    } else {
        "valid"
    };
    let mut chain = vec![B64.encode(&cert.der)];
    if certificates == "chain" {
        if let Some(ca) = s.authority.ca(&c.provider_id) {
            chain.push(B64.encode(&ca.cert_der));
        }
    }
    let parsed = kyso_pki::cert::parse(&cert.der).map_err(|e| fail(e.to_string()))?;
    let tbs = &parsed.tbs_certificate;
    let mut out = json!({
        "description": format!("{} — {}", cert.subject_cn, c.provider_id),
        "key": key_info(&key.algorithm),
        "cert": {
            "status": status,
            "issuerDN": tbs.issuer.to_string(),
            "subjectDN": tbs.subject.to_string(),
            "serialNumber": c.cert_serial,
            "validFrom": kyso_pki::time::rfc3339(cert.not_before),
            "validTo": kyso_pki::time::rfc3339(cert.not_after),
        },
        "authMode": "explicit",
        "SCAL": "2",
        "PIN": {"presence": "true", "format": "N", "label": "PIN", "description": "Mã PIN 6 chữ số"},
        "OTP": {"presence": if c.totp_secret.is_some() { "true" } else { "false" }, "type": "offline", "format": "N", "label": "OTP"},
        "multisign": kyso_authority::signing::MAX_HASHES_PER_SAD,
        "lang": "vi-VN",
        "status": c.status,
    });
    if certificates != "none" {
        out["cert"]["certificates"] = json!(chain);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListReq {
    #[serde(default)]
    credential_info: bool,
    #[serde(default = "single")]
    certificates: String,
}

fn single() -> String {
    "single".into()
}

async fn list(State(s): State<AppState>, headers: HeaderMap, body: Body<ListReq>) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let b = json_body!(body);
    let creds = match s.authority.store.credentials_of(&id).await {
        Ok(c) => c,
        Err(e) => return from_signing(e.into()),
    };
    let mut out = json!({ "credentialIDs": creds.iter().map(|c| c.id.clone()).collect::<Vec<_>>() });
    if b.credential_info {
        let mut infos = Vec::new();
        for c in &creds {
            match describe(&s, c, &b.certificates).await {
                Ok(mut v) => {
                    v["credentialID"] = json!(c.id);
                    infos.push(v)
                }
                Err(r) => return r,
            }
        }
        out["credentialInfos"] = json!(infos);
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfoReq {
    #[serde(rename = "credentialID")]
    credential_id: String,
    #[serde(default = "single")]
    certificates: String,
}

async fn cred_info(State(s): State<AppState>, headers: HeaderMap, body: Body<InfoReq>) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let b = json_body!(body);
    let c = match s.authority.own_credential(&id, &b.credential_id).await {
        Ok(c) => c,
        Err(e) => return from_signing(e),
    };
    match describe(&s, &c, &b.certificates).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// Base64 SHA-256 hashes; the error names the offending element.
fn decode_hashes(h: &[String]) -> Result<Vec<[u8; 32]>, String> {
    h.iter()
        .enumerate()
        .map(|(i, x)| {
            let v = B64.decode(x.trim()).map_err(|_| format!("Invalid parameter hashes[{i}]: not base64"))?;
            <[u8; 32]>::try_from(v.as_slice())
                .map_err(|_| format!("Invalid parameter hashes[{i}]: a SHA-256 hash is 32 bytes"))
        })
        .collect()
}

fn check_hash_alg(oid: &Option<String>) -> Result<(), String> {
    match oid.as_deref() {
        None | Some(SHA256_OID) => Ok(()),
        Some(o) => Err(format!("Invalid parameter hashAlgorithmOID `{o}`: use SHA-256 ({SHA256_OID})")),
    }
}

/// Both checks, as a ready 400 response on failure.
fn hashes_of(oid: &Option<String>, h: &[String]) -> Result<Vec<[u8; 32]>, String> {
    check_hash_alg(oid)?;
    decode_hashes(h)
}

#[derive(Deserialize)]
struct AuthorizeReq {
    #[serde(rename = "credentialID")]
    credential_id: String,
    #[serde(rename = "numSignatures")]
    num_signatures: Option<usize>,
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID")]
    hash_algorithm_oid: Option<String>,
    #[serde(rename = "PIN")]
    pin: Option<String>,
    #[serde(rename = "OTP")]
    otp: Option<String>,
}

async fn authorize(State(s): State<AppState>, headers: HeaderMap, body: Body<AuthorizeReq>) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let b = json_body!(body);
    let hashes = match hashes_of(&b.hash_algorithm_oid, &b.hashes) {
        Ok(h) => h,
        Err(m) => return err(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    if b.num_signatures.is_some_and(|n| n != hashes.len()) {
        return err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter numSignatures: must equal the number of hashes",
        );
    }
    let Some(pin) = b.pin.as_deref().and_then(|p| Pin::parse(p).ok()) else {
        return err(StatusCode::BAD_REQUEST, "invalid_request", "Invalid parameter PIN: 6 digits expected");
    };
    match s.authority.authorize(&id, &b.credential_id, &pin, b.otp.as_deref(), &hashes).await {
        Ok(a) => Json(json!({ "SAD": a.sad, "expiresIn": a.expires_in })).into_response(),
        Err(e) => from_signing(e),
    }
}

#[derive(Deserialize)]
struct SignHashReq {
    #[serde(rename = "credentialID")]
    credential_id: String,
    #[serde(rename = "SAD")]
    sad: String,
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID")]
    hash_algorithm_oid: Option<String>,
    #[serde(rename = "signAlgo")]
    sign_algo: Option<String>,
}

async fn sign_hash(State(s): State<AppState>, headers: HeaderMap, body: Body<SignHashReq>) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let b = json_body!(body);
    let hashes = match hashes_of(&b.hash_algorithm_oid, &b.hashes) {
        Ok(h) => h,
        Err(m) => return err(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    let scheme = match b.sign_algo.as_deref().map(|o| scheme_from_oid(o).ok_or(o)) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(o)) => {
            return err(StatusCode::BAD_REQUEST, "invalid_request", format!("Invalid parameter signAlgo `{o}`"))
        }
    };
    match s.authority.sign_hash(&id, &b.credential_id, &b.sad, &hashes, scheme).await {
        Ok(sigs) => {
            Json(json!({ "signatures": sigs.iter().map(|x| B64.encode(x)).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => from_signing(e),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("csc-openapi.json")).into_response()
}
