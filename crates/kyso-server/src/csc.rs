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
    let api = Router::new()
        .route("/info", post(info).get(info))
        .route("/credentials/list", post(list))
        .route("/credentials/info", post(cred_info))
        .route("/credentials/authorize", post(authorize))
        .route("/signatures/signHash", post(sign_hash));
    // v1 clients (pyHanko's default `api_ver`) get the same methods: the v1 parameter names are
    // accepted beside v2's. Unknown methods and wrong verbs answer in CSC's error shape.
    Router::new()
        .nest("/csc/v2", api.clone().route("/openapi.json", get(openapi)))
        .nest("/csc/v1", api)
        .route("/csc/{*rest}", axum::routing::any(unknown_method))
}

async fn unknown_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    err(
        StatusCode::NOT_FOUND,
        "invalid_request",
        format!("{method} {}: no such CSC method (see /csc/v2/info)", uri.path()),
    )
}

/// 405 and 413 in CSC's error shape on the CSC paths (a layer on the whole router, `lib.rs`).
pub(crate) async fn csc_json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_csc = req.uri().path().starts_with("/csc/");
    let r = next.run(req).await;
    if !is_csc {
        return r;
    }
    match r.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = r.headers().get(header::ALLOW).cloned();
            let mut e =
                err(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "use POST (GET only for info and openapi.json)");
            if let Some(a) = allow {
                e.headers_mut().insert(header::ALLOW, a);
            }
            e
        }
        StatusCode::PAYLOAD_TOO_LARGE if !is_json(&r) => err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is larger than {MAX_CSC_BODY} bytes"),
        ),
        _ => r,
    }
}

fn is_json(r: &Response) -> bool {
    r.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
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
        SigningError::Authority(e @ kyso_authority::AuthorityError::Busy(_)) => {
            let mut r = err(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", e);
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        SigningError::Overloaded(b) => {
            let desc =
                format!("the server is busy with other {} work; retry in {} s", b.work.name(), b.retry_after_secs);
            let mut r = err(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", desc);
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(b.retry_after_secs));
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

/// CSC requests are JSON: `Content-Type: application/json` (a missing header is read as JSON too,
/// a different one is a 415 naming it).
fn wrong_content_type(headers: &HeaderMap) -> Option<Response> {
    let ct = headers.get(header::CONTENT_TYPE)?;
    let essence = ct.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" {
        return None;
    }
    Some(err(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_request",
        format!(
            "Content-Type `{}`: send the parameters as JSON with Content-Type: application/json",
            ct.to_str().unwrap_or("?").escape_debug()
        ),
    ))
}

/// The JSON body of a request whose parameters are all optional (an empty body is `{}`).
fn optional_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Box<Response>> {
    if let Some(r) = wrong_content_type(headers) {
        return Err(Box::new(r));
    }
    let body = if body.iter().all(|b| JSON_WS.contains(b)) { b"{}".as_slice() } else { body };
    json_of(body).map_err(|m| Box::new(err(StatusCode::BAD_REQUEST, "invalid_request", m)))
}

/// `certificates` of credentials/list and credentials/info: none, single (the default) or chain.
#[derive(Clone, Copy, PartialEq, Default, Debug)]
enum Certificates {
    None,
    #[default]
    Single,
    Chain,
}

/// Serde's message for a bad `certificates` names the field and the values allowed.
fn certificates<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Certificates, D::Error> {
    let v = Value::deserialize(d)?;
    match v.as_str() {
        Some("none") => Ok(Certificates::None),
        Some("single") => Ok(Certificates::Single),
        Some("chain") => Ok(Certificates::Chain),
        Some(other) => Err(serde::de::Error::custom(format!(
            "Invalid parameter certificates `{}`: none, single or chain",
            other.chars().take(32).collect::<String>().escape_debug()
        ))),
        None => Err(serde::de::Error::custom("Invalid parameter certificates: a string, none, single or chain")),
    }
}

/// An optional parameter: absent is `None`, but `null` is refused like any other wrong type (CSC
/// parameters are never null).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Longest credentialID accepted (kyso's are `cred-` and 20 hex digits).
pub const MAX_CREDENTIAL_ID: usize = 256;

fn check_credential_id(id: &str) -> Result<(), String> {
    // Characters, as the document's maxLength counts them.
    if id.is_empty() || id.chars().count() > MAX_CREDENTIAL_ID {
        return Err(format!("Invalid parameter credentialID: 1 to {MAX_CREDENTIAL_ID} characters"));
    }
    Ok(())
}

/// `info`'s optional parameters (CSC: `lang`).
#[derive(Deserialize)]
struct ServiceInfoReq {
    #[serde(default, deserialize_with = "present")]
    lang: Option<String>,
}

async fn info(method: axum::http::Method, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if method == axum::http::Method::POST {
        match optional_body::<ServiceInfoReq>(&headers, &body) {
            Ok(r) if r.lang.as_ref().is_some_and(|l| l.chars().count() > 35) => {
                return err(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Invalid parameter lang: a language tag (at most 35 characters)",
                )
            }
            Ok(_) => {}
            Err(r) => return *r,
        }
    }
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
    .into_response()
}

/// `key` of credentials/info: `algo` lists the signature algorithms the key produces (what CSC
/// clients such as pyHanko choose a mechanism from), not the key's own algorithm.
fn key_info(alg: &str) -> Value {
    const RSA: [&str; 2] = ["1.2.840.113549.1.1.11", "1.2.840.113549.1.1.10"];
    match alg {
        "ec-p256" => {
            json!({"status": "enabled", "algo": ["1.2.840.10045.4.3.2"], "len": 256, "curve": "1.2.840.10045.3.1.7"})
        }
        "rsa-3072" => json!({"status": "enabled", "algo": RSA, "len": 3072}),
        _ => json!({"status": "enabled", "algo": RSA, "len": 2048}),
    }
}

/// The v2 `auth` object: a PIN, and a one-time code where the provider requires one.
fn auth_info(otp: bool) -> Value {
    let pin = json!({"type": "Password", "id": "PIN", "format": "N", "label": "PIN", "description": "Mã PIN 6 chữ số"});
    if otp {
        let code = json!({"type": "Password", "id": "OTP", "format": "N", "generator": "totp", "label": "OTP", "description": "Mã 6 chữ số của ứng dụng xác thực"});
        json!({"mode": "explicit", "expression": "PIN AND OTP", "objects": [pin, code]})
    } else {
        json!({"mode": "explicit", "expression": "PIN", "objects": [pin]})
    }
}

async fn describe(s: &AppState, c: &kyso_store::CredentialRow, certificates: Certificates) -> Result<Value, Response> {
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
    if certificates == Certificates::Chain {
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
        "auth": auth_info(c.totp_secret.is_some()),
        "authMode": "explicit",
        "SCAL": "2",
        "PIN": {"presence": "true", "format": "N", "label": "PIN", "description": "Mã PIN 6 chữ số"},
        "OTP": {"presence": if c.totp_secret.is_some() { "true" } else { "false" }, "type": "offline", "format": "N", "label": "OTP"},
        "multisign": kyso_authority::signing::MAX_HASHES_PER_SAD,
        "lang": "vi-VN",
        "status": c.status,
    });
    if certificates != Certificates::None {
        out["cert"]["certificates"] = json!(chain);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListReq {
    #[serde(default)]
    credential_info: bool,
    #[serde(default, deserialize_with = "certificates")]
    certificates: Certificates,
}

async fn list(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let b: ListReq = match optional_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let creds = match s.authority.store.credentials_of(&id).await {
        Ok(c) => c,
        Err(e) => return from_signing(e.into()),
    };
    let mut out = json!({ "credentialIDs": creds.iter().map(|c| c.id.clone()).collect::<Vec<_>>() });
    if b.credential_info {
        let mut infos = Vec::new();
        for c in &creds {
            match describe(&s, c, b.certificates).await {
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
    #[serde(default, deserialize_with = "certificates")]
    certificates: Certificates,
}

async fn cred_info(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Some(r) = wrong_content_type(&headers) {
        return r;
    }
    let b: InfoReq = match json_of(&body).and_then(|b: InfoReq| check_credential_id(&b.credential_id).map(|()| b)) {
        Ok(b) => b,
        Err(m) => return err(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    let c = match s.authority.own_credential(&id, &b.credential_id).await {
        Ok(c) => c,
        Err(e) => return from_signing(e),
    };
    match describe(&s, &c, b.certificates).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// Base64 SHA-256 hashes; the error names the offending element.
fn decode_hashes(h: &[String]) -> Result<Vec<[u8; 32]>, String> {
    h.iter()
        .enumerate()
        .map(|(i, x)| {
            let v = B64.decode(x).map_err(|_| format!("Invalid parameter hashes[{i}]: not base64"))?;
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

/// `credentials/authorize` as v2 writes it, with the v1 names real clients still send (`hash`,
/// `hashAlgo`, `PIN`, `OTP`) accepted beside v2's (`hashes`, `hashAlgorithmOID`, `authData`).
#[derive(Deserialize)]
struct AuthorizeReq {
    #[serde(rename = "credentialID")]
    credential_id: String,
    #[serde(rename = "numSignatures", default, deserialize_with = "present")]
    num_signatures: Option<usize>,
    #[serde(alias = "hash", default)]
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", alias = "hashAlgo", default, deserialize_with = "present")]
    hash_algorithm_oid: Option<String>,
    #[serde(rename = "PIN", default, deserialize_with = "present")]
    pin: Option<String>,
    #[serde(rename = "OTP", default, deserialize_with = "present")]
    otp: Option<String>,
    #[serde(rename = "authData", default)]
    auth_data: Vec<AuthData>,
}

/// One v2 `authData` item: `{"id": "PIN", "value": "123456"}`.
#[derive(Deserialize)]
struct AuthData {
    id: String,
    value: String,
}

/// A `credentials/authorize` request, parsed and checked (pure: the fuzz target `csc_json` holds it
/// to never panicking and to these invariants).
pub struct Authorize {
    pub credential_id: String,
    /// 1 to `MAX_HASHES_PER_SAD` SHA-256 hashes.
    pub hashes: Vec<[u8; 32]>,
    pub pin: Pin,
    pub otp: Option<String>,
}

/// JSON's whitespace (RFC 8259), not Rust's wider ASCII set.
const JSON_WS: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];

/// Longest JSON body the remote-signing API reads (1,000 base64 hashes and the rest).
pub const MAX_CSC_BODY: usize = 64 * 1024;

fn json_of<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.len() > MAX_CSC_BODY {
        return Err(format!("the request body is {} bytes; at most {MAX_CSC_BODY}", body.len()));
    }
    // Parameters are the members of one JSON object (serde would also read a struct from an array).
    if body.iter().find(|b| !JSON_WS.contains(b)) != Some(&b'{') {
        return Err("Invalid JSON body: send the parameters as one JSON object, {…}".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("Invalid JSON body: {e}"))
}

fn hash_count(h: &[String]) -> Result<(), String> {
    let max = kyso_authority::signing::MAX_HASHES_PER_SAD;
    if h.is_empty() || h.len() > max {
        return Err(format!("Invalid parameter hashes: send 1 to {max} SHA-256 hashes"));
    }
    Ok(())
}

/// Parse a `credentials/authorize` body; the error names the parameter.
pub fn parse_authorize(body: &[u8]) -> Result<Authorize, String> {
    let b: AuthorizeReq = json_of(body)?;
    check_credential_id(&b.credential_id)?;
    hash_count(&b.hashes)?;
    let hashes = hashes_of(&b.hash_algorithm_oid, &b.hashes)?;
    if b.num_signatures.is_some_and(|n| n != hashes.len()) {
        return Err("Invalid parameter numSignatures: must equal the number of hashes".into());
    }
    let mut pin = b.pin;
    let mut otp = b.otp;
    for item in b.auth_data {
        match item.id.as_str() {
            "PIN" => pin = Some(item.value),
            "OTP" => otp = Some(item.value),
            other => {
                return Err(format!("Invalid parameter authData: unknown id `{}` (PIN, OTP)", other.escape_debug()))
            }
        }
    }
    let Some(pin) = pin.as_deref().and_then(|p| Pin::parse(p).ok()) else {
        return Err("Invalid parameter PIN: 6 digits expected".into());
    };
    if otp.as_ref().is_some_and(|o| o.chars().count() > 16) {
        return Err("Invalid parameter OTP: 6 digits expected".into());
    }
    Ok(Authorize { credential_id: b.credential_id, hashes, pin, otp })
}

async fn authorize(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Some(r) = wrong_content_type(&headers) {
        return r;
    }
    let b = match parse_authorize(&body) {
        Ok(b) => b,
        Err(m) => return err(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    match s.authority.authorize(&id, &b.credential_id, &b.pin, b.otp.as_deref(), &b.hashes).await {
        Ok(a) => Json(json!({ "SAD": a.sad, "expiresIn": a.expires_in })).into_response(),
        Err(e) => from_signing(e),
    }
}

/// `signatures/signHash`, v2 names with v1's accepted (`hash`, `hashAlgo`).
#[derive(Deserialize)]
struct SignHashReq {
    #[serde(rename = "credentialID")]
    credential_id: String,
    #[serde(rename = "SAD")]
    sad: String,
    #[serde(alias = "hash", default)]
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", alias = "hashAlgo", default, deserialize_with = "present")]
    hash_algorithm_oid: Option<String>,
    #[serde(rename = "signAlgo", default, deserialize_with = "present")]
    sign_algo: Option<String>,
    #[serde(rename = "signAlgoParams", default, deserialize_with = "present")]
    sign_algo_params: Option<String>,
}

/// A `signatures/signHash` request, parsed and checked.
pub struct SignHash {
    pub credential_id: String,
    pub sad: String,
    pub hashes: Vec<[u8; 32]>,
    pub scheme: Option<kyso_custody::SignatureScheme>,
}

/// RSASSA-PSS-params (RFC 4055) naming SHA-256, MGF1 with SHA-256 and a 32-byte salt, base64 DER.
fn pss_params_are_sha256(b64: &str) -> bool {
    B64.decode(b64).ok().is_some_and(|der| kyso_pki::alg::pss_params_are_sha256(&der))
}

/// Parse a `signatures/signHash` body; the error names the parameter.
pub fn parse_sign_hash(body: &[u8]) -> Result<SignHash, String> {
    let b: SignHashReq = json_of(body)?;
    check_credential_id(&b.credential_id)?;
    hash_count(&b.hashes)?;
    let scheme = match b.sign_algo.as_deref() {
        None => None,
        Some(o) => {
            Some(scheme_from_oid(o).ok_or_else(|| format!("Invalid parameter signAlgo `{}`", o.escape_debug()))?)
        }
    };
    // The hash algorithm is said, or implied by a signAlgo that names one; never assumed.
    let implied = matches!(
        scheme,
        Some(kyso_custody::SignatureScheme::EcdsaP256Sha256 | kyso_custody::SignatureScheme::RsaPkcs1Sha256)
    );
    if b.hash_algorithm_oid.is_none() && !implied {
        return Err(format!(
            "Missing parameter hashAlgorithmOID (or hashAlgo): the hash algorithm is not implied by the signAlgo; use SHA-256 ({SHA256_OID})"
        ));
    }
    if let Some(p) = &b.sign_algo_params {
        if scheme != Some(kyso_custody::SignatureScheme::RsaPssSha256) || !pss_params_are_sha256(p) {
            return Err(
                "Invalid parameter signAlgoParams: only RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt"
                    .into(),
            );
        }
    }
    let hashes = hashes_of(&b.hash_algorithm_oid, &b.hashes)?;
    // kyso's SADs are base64url; the bound holds in bytes and in characters.
    if b.sad.is_empty()
        || b.sad.len() > 256
        || !b.sad.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err("Invalid parameter SAD: 1 to 256 base64url characters, as credentials/authorize returned it".into());
    }
    Ok(SignHash { credential_id: b.credential_id, sad: b.sad, hashes, scheme })
}

async fn sign_hash(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let id = match citizen(&s, &headers).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Some(r) = wrong_content_type(&headers) {
        return r;
    }
    let b = match parse_sign_hash(&body) {
        Ok(b) => b,
        Err(m) => return err(StatusCode::BAD_REQUEST, "invalid_request", m),
    };
    let (hashes, scheme) = (b.hashes, b.scheme);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: usize) -> String {
        let one = B64.encode([7u8; 32]);
        serde_json::to_string(&vec![one; n]).unwrap()
    }

    #[test]
    fn authorize_bodies_are_parsed_and_bounded() {
        let ok = format!(r#"{{"credentialID":"c","hashes":{},"PIN":"123456"}}"#, h(2));
        let a = parse_authorize(ok.as_bytes()).unwrap();
        assert_eq!((a.credential_id.as_str(), a.hashes.len(), a.otp), ("c", 2, None));
        let cases = [
            (format!(r#"{{"credentialID":"c","hashes":{},"PIN":"123456"}}"#, h(0)), "send 1 to 1000"),
            (format!(r#"{{"credentialID":"c","hashes":{},"PIN":"123456"}}"#, h(1001)), "send 1 to 1000"),
            (r#"{"credentialID":"c","hashes":["AAAA","@@"],"PIN":"123456"}"#.to_string(), "hashes[0]"),
            (format!(r#"{{"credentialID":"c","hashes":{},"PIN":"12345"}}"#, h(1)), "PIN"),
            (format!(r#"{{"credentialID":"c","numSignatures":3,"hashes":{},"PIN":"123456"}}"#, h(1)), "numSignatures"),
            (
                format!(
                    r#"{{"credentialID":"c","hashes":{},"PIN":"123456","hashAlgorithmOID":"1.3.14.3.2.26"}}"#,
                    h(1)
                ),
                "hashAlgorithmOID",
            ),
            ("{".to_string(), "Invalid JSON"),
            (format!(r#"["c",{},"123456"]"#, h(1)), "one JSON object"),
            (format!(r#"{{"credentialID":"c","hashes":{},"PIN":"123456","OTP":null}}"#, h(1)), "null"),
            (" ".repeat(MAX_CSC_BODY + 1), "at most"),
        ];
        for (body, names) in cases {
            let e = parse_authorize(body.as_bytes()).err().unwrap_or_default();
            assert!(e.contains(names), "{names}: {e}");
        }
    }

    #[test]
    fn certificates_and_credential_ids_are_checked() {
        for (body, want) in [
            (r#"{}"#, Some(Certificates::Single)),
            (r#"{"certificates":"none"}"#, Some(Certificates::None)),
            (r#"{"certificates":"chain"}"#, Some(Certificates::Chain)),
            (r#"{"certificates":"Chain"}"#, None),
            (r#"{"certificates":1}"#, None),
        ] {
            let got = json_of::<ListReq>(body.as_bytes());
            assert_eq!(got.as_ref().ok().map(|r| r.certificates), want, "{body}");
            if want.is_none() {
                assert!(got.err().unwrap().contains("certificates"), "{body}");
            }
        }
        let long = "c".repeat(MAX_CREDENTIAL_ID + 1);
        for id in ["", long.as_str()] {
            let body =
                format!(r#"{{"credentialID":"{id}","SAD":"s","hashes":{},"hashAlgorithmOID":"{SHA256_OID}"}}"#, h(1));
            assert!(parse_sign_hash(body.as_bytes()).err().unwrap().contains("credentialID"));
            let body = format!(r#"{{"credentialID":"{id}","hashes":{},"PIN":"123456"}}"#, h(1));
            assert!(parse_authorize(body.as_bytes()).err().unwrap().contains("credentialID"));
        }
        // An empty body (JSON whitespace only) is {}; other bytes are not JSON.
        assert!(optional_body::<ListReq>(&HeaderMap::new(), b" \r\n").is_ok());
        assert!(optional_body::<ListReq>(&HeaderMap::new(), b"\x0c").is_err());
        // lang and credentialID are counted in characters, as the document's maxLength counts them.
        let id = "é".repeat(MAX_CREDENTIAL_ID);
        assert!(check_credential_id(&id).is_ok());
        // Base64 exactly: no whitespace around a hash.
        let body = format!(r#"{{"credentialID":"c","hashes":[" {} "],"PIN":"123456"}}"#, B64.encode([7u8; 32]));
        assert!(parse_authorize(body.as_bytes()).err().unwrap().contains("hashes[0]"));
    }

    #[test]
    fn sign_hash_bodies_are_parsed_and_bounded() {
        let ok = format!(r#"{{"credentialID":"c","SAD":"s","hashes":{},"signAlgo":"1.2.840.10045.4.3.2"}}"#, h(1));
        let s = parse_sign_hash(ok.as_bytes()).unwrap();
        assert_eq!(s.scheme, Some(kyso_custody::SignatureScheme::EcdsaP256Sha256));
        let bad = format!(r#"{{"credentialID":"c","SAD":"s","hashes":{},"signAlgo":"1.2.3"}}"#, h(1));
        assert!(parse_sign_hash(bad.as_bytes()).err().unwrap().contains("signAlgo `1.2.3`"));
        let long = format!(r#"{{"credentialID":"c","SAD":"{}","hashes":{}}}"#, "s".repeat(300), h(1));
        assert!(parse_sign_hash(long.as_bytes()).is_err());
    }
}
