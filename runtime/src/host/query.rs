//! Building Engine API requests from WIT options: query encodings, JSON bodies from plugins, and the
//! registry auth header.

use base64::Engine as _;
use http::HeaderValue;
use serde_json::{Map, Value};

use super::bindings::types::AuthConfig;
use crate::engine::Request;

/// The `filters` query parameter: `{"key": ["value", …]}`, a key given twice merged into one (the engine
/// would keep only the last).
pub use crate::policy::gate::filters_json;

/// A `{"key": "value"}` JSON object (build args, labels).
pub fn pairs_json(pairs: &[(String, String)]) -> String {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    Value::Object(map).to_string()
}

/// Query helpers for optional WIT fields.
pub trait QueryExt: Sized {
    /// Adds `key=value` when there is a value.
    fn opt<V: ToString>(self, key: &str, value: Option<V>) -> Self;
    /// Adds `filters` when given.
    fn filters(self, filters: Option<&Vec<(String, Vec<String>)>>) -> Self;
    /// Adds `key=v` once per value.
    fn each(self, key: &str, values: Option<&Vec<String>>) -> Self;
}

impl QueryExt for Request {
    fn opt<V: ToString>(self, key: &str, value: Option<V>) -> Self {
        self.query_opt(key, value)
    }
    fn filters(self, filters: Option<&Vec<(String, Vec<String>)>>) -> Self {
        self.query_opt("filters", filters.map(|f| filters_json(f)))
    }
    fn each(mut self, key: &str, values: Option<&Vec<String>>) -> Self {
        for v in values.into_iter().flatten() {
            self = self.query(key, v);
        }
        self
    }
}

/// The `X-Registry-Auth` header: base64url of the auth JSON; `{}` when the plugin gives none.
pub fn registry_auth(auth: Option<&AuthConfig>) -> HeaderValue {
    let json = auth.map(auth_json).unwrap_or_else(|| Value::Object(Map::new()));
    registry_auth_json(&json)
}

/// The `X-Registry-Auth` header for an auth document: base64url of its JSON.
pub fn registry_auth_json(json: &Value) -> HeaderValue {
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(json.to_string());
    HeaderValue::from_str(&encoded).expect("base64 is a valid header value")
}

/// The auth JSON docker expects (`username`, `password`, `identitytoken`, `registrytoken`,
/// `serveraddress`).
pub fn auth_json(a: &AuthConfig) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::from(v.as_str()));
        }
    };
    put("username", &a.username);
    put("password", &a.password);
    put("identitytoken", &a.identity_token);
    put("registrytoken", &a.registry_token);
    put("serveraddress", &a.server_address);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let f = vec![
            ("label".to_owned(), vec!["a=b".to_owned()]),
            ("status".to_owned(), vec![]),
        ];
        assert_eq!(filters_json(&f), r#"{"label":["a=b"],"status":[]}"#);
        assert_eq!(pairs_json(&[("K".into(), "v".into())]), r#"{"K":"v"}"#);
        let h = registry_auth(None);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE
                .decode(h.as_bytes())
                .unwrap(),
            b"{}"
        );
    }
}
