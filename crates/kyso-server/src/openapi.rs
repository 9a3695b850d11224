//! The OpenAPI 3.1 document of every JSON endpoint, served at `GET /api/openapi.json`. Each area
//! keeps its part in `openapi/<area>.json` (`{"paths": …, "components": {"schemas": …}}`); they are
//! merged once at startup onto `openapi/base.json`. A path or component named twice is a bug
//! (the unit tests below fail on it). The CSC API keeps its own document (`/csc/v2/openapi.json`).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// The fragments, by file name. To document a new area: add `openapi/<area>.json` and a line here.
const FRAGMENTS: &[(&str, &str)] = &[
    ("service.json", include_str!("../openapi/service.json")),
    ("operator.json", include_str!("../openapi/operator.json")),
    ("validate.json", include_str!("../openapi/validate.json")),
    ("dossiers.json", include_str!("../openapi/dossiers.json")),
];

const BASE: &str = include_str!("../openapi/base.json");

/// The merged document, as served.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| merge(BASE, FRAGMENTS).map(|v| v.to_string()).unwrap_or_else(|e| panic!("openapi: {e}")));

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    LazyLock::force(&DOCUMENT);
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

/// `base` with every fragment's paths and components added; an error names a fragment that is not
/// JSON, has other top-level keys, or names a path or component already defined.
pub fn merge(base: &str, fragments: &[(&str, &str)]) -> Result<Value, String> {
    let mut doc: Value = serde_json::from_str(base).map_err(|e| format!("base.json: {e}"))?;
    for (name, text) in fragments {
        let frag: Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let Value::Object(frag) = frag else { return Err(format!("{name}: not a JSON object")) };
        for (key, value) in frag {
            match key.as_str() {
                "paths" => add_all(section(&mut doc, &["paths"])?, value, name, "path")?,
                "components" => {
                    let Value::Object(kinds) = value else {
                        return Err(format!("{name}: components is not an object"));
                    };
                    for (kind, entries) in kinds {
                        add_all(section(&mut doc, &["components", &kind])?, entries, name, &kind)?;
                    }
                }
                other => return Err(format!("{name}: unexpected top-level key `{other}` (only paths, components)")),
            }
        }
    }
    Ok(doc)
}

/// The object at `keys` in `doc`, created when missing.
fn section<'a>(doc: &'a mut Value, keys: &[&str]) -> Result<&'a mut Map<String, Value>, String> {
    let mut at = doc;
    for k in keys {
        let Value::Object(m) = at else { return Err(format!("base.json: {k}'s parent is not an object")) };
        at = m.entry(k.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    match at {
        Value::Object(m) => Ok(m),
        _ => Err(format!("base.json: {} is not an object", keys.join("."))),
    }
}

fn add_all(into: &mut Map<String, Value>, entries: Value, fragment: &str, what: &str) -> Result<(), String> {
    let Value::Object(entries) = entries else { return Err(format!("{fragment}: {what} entries are not an object")) };
    for (k, v) in entries {
        if into.contains_key(&k) {
            return Err(format!("{fragment}: {what} `{k}` is already defined by another fragment"));
        }
        into.insert(k, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        merge(BASE, FRAGMENTS).unwrap()
    }

    #[test]
    fn fragments_merge_without_clashes() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        // each fragment's paths all arrive (a silent overwrite would lose some)
        let mut expected = 0;
        for (name, text) in FRAGMENTS {
            let f: Value = serde_json::from_str(text).unwrap();
            let paths = f["paths"].as_object().unwrap_or_else(|| panic!("{name}: no paths"));
            assert!(!paths.is_empty(), "{name}: no paths");
            expected += paths.len();
        }
        assert_eq!(d["paths"].as_object().unwrap().len(), expected);
    }

    #[test]
    fn a_path_or_schema_defined_twice_is_refused() {
        let twice = [("a.json", r#"{"paths": {"/x": {}}}"#), ("b.json", r#"{"paths": {"/x": {}}}"#)];
        let e = merge(BASE, &twice).unwrap_err();
        assert!(e.contains("b.json") && e.contains("/x"), "{e}");
        let twice = [("c.json", r#"{"paths": {}, "components": {"schemas": {"Error": {}}}}"#)];
        let e = merge(BASE, &twice).unwrap_err();
        assert!(e.contains("c.json") && e.contains("Error"), "{e}");
        let e = merge(BASE, &[("d.json", r#"{"info": {}}"#)]).unwrap_err();
        assert!(e.contains("d.json") && e.contains("info"), "{e}");
    }

    /// Every `$ref` points at something the merged document defines.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, d: &Value, refs: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let ptr = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
                        assert!(d.pointer(ptr).is_some(), "unresolved $ref {r}");
                        *refs += 1;
                    }
                    m.values().for_each(|x| walk(x, d, refs));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, d, refs)),
                _ => {}
            }
        }
        let d = doc();
        let mut refs = 0;
        walk(&d, &d, &mut refs);
        assert!(refs > 20, "{refs} references");
    }

    /// Every route under `/api/` declared in this crate's sources is documented, with its method.
    #[test]
    fn every_api_route_is_documented() {
        let d = doc();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = 0;
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for line in text.lines() {
                    let Some(rest) = line.trim().strip_prefix(".route(\"/api/") else { continue };
                    let path = format!("/api/{}", rest.split('"').next().unwrap());
                    let op = &d["paths"][&path];
                    assert!(op.is_object(), "{}: route {path} is not in openapi/*.json", p.display());
                    for method in ["get", "post", "put", "delete", "patch"] {
                        if [" ", "(", "."].iter().any(|pre| rest.contains(&format!("{pre}{method}("))) {
                            assert!(op[method].is_object(), "{path}: {method} is not documented");
                        }
                    }
                    found += 1;
                }
            }
        }
        assert!(found >= 6, "only {found} /api routes found in the sources");
    }
}
