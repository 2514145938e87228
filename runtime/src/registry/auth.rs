//! Registry credentials (docker's `config.json`, credential helpers, explicit ones) and the
//! `WWW-Authenticate` challenges registries answer with.
//!
//! Secrets never leave this module in text: [`Credentials`] and [`Secret`] print as `***` in `Debug`.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use serde::Deserialize;

use super::{
    error::{RegistryError, Result},
    reference::DOCKER_HUB,
};

/// What authenticates tug to one registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    /// A user name and password (HTTP Basic, and Basic at a token service).
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (`identitytoken` in docker's config), exchanged at the token service.
    IdentityToken(String),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Basic { username, .. } => write!(f, "Basic({username}:***)"),
            Secret::IdentityToken(_) => f.write_str("IdentityToken(***)"),
        }
    }
}

/// Credentials for registries, keyed by registry host.
///
/// Lookups follow docker: a `credHelpers` entry for the registry, else the `credsStore` helper, else the
/// `auths` entry of the configuration (base64 `auth`, `username`/`password`, or `identitytoken`); entries
/// added with [`Credentials::insert`] come first. Helpers (`docker-credential-<name> get`) run when a
/// registry first asks for credentials, and their answers are cached.
#[derive(Clone, Default)]
pub struct Credentials {
    explicit: HashMap<String, Secret>,
    file_auths: HashMap<String, Secret>,
    creds_store: Option<String>,
    cred_helpers: HashMap<String, String>,
    source: Option<PathBuf>,
    helper_cache: Arc<Mutex<HashMap<String, Option<Secret>>>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hosts: Vec<&String> = self.explicit.keys().chain(self.file_auths.keys()).collect();
        hosts.sort();
        hosts.dedup();
        f.debug_struct("Credentials")
            .field("source", &self.source)
            .field("registries", &hosts)
            .field("creds_store", &self.creds_store)
            .field("cred_helpers", &self.cred_helpers)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Credentials {
    /// No credentials: every registry is used anonymously.
    pub fn none() -> Credentials {
        Credentials::default()
    }

    /// Docker's configuration: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. A missing file
    /// means no credentials; a file that is not valid JSON is an error.
    pub fn from_docker_config() -> Result<Credentials> {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => match std::env::var_os("HOME") {
                Some(h) => PathBuf::from(h).join(".docker"),
                None => return Ok(Credentials::none()),
            },
        };
        Credentials::from_docker_config_dir(&dir)
    }

    /// The `config.json` in a docker configuration directory (what `DOCKER_CONFIG` names).
    pub fn from_docker_config_dir(dir: &Path) -> Result<Credentials> {
        let path = dir.join("config.json");
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Credentials {
                    source: Some(path),
                    ..Credentials::default()
                })
            }
            Err(e) => return Err(RegistryError::io(format!("reading {}", path.display()), e)),
        };
        let config: ConfigFile = serde_json::from_slice(&text).map_err(|e| RegistryError::Credentials {
            registry: path.display().to_string(),
            message: format!("not a docker config file: {e}"),
        })?;
        let mut file_auths = HashMap::new();
        for (key, entry) in config.auths {
            let host = normalize_registry_key(&key);
            if let Some(secret) = entry_secret(&entry).map_err(|message| RegistryError::Credentials {
                registry: format!("{host} in {}", path.display()),
                message,
            })? {
                file_auths.insert(host, secret);
            }
        }
        Ok(Credentials {
            explicit: HashMap::new(),
            file_auths,
            creds_store: config.creds_store.filter(|s| !s.is_empty()),
            cred_helpers: config
                .cred_helpers
                .into_iter()
                .map(|(k, v)| (normalize_registry_key(&k), v))
                .collect(),
            source: Some(path),
            helper_cache: Arc::default(),
        })
    }

    /// Adds (or replaces) a user name and password for one registry (`127.0.0.1:5001`, `docker.io`).
    pub fn insert(&mut self, registry: &str, username: &str, password: &str) {
        self.explicit.insert(
            normalize_registry_key(registry),
            Secret::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            },
        );
    }

    /// Whether any source could hold credentials for a registry (without running a helper).
    pub fn may_have(&self, registry: &str) -> bool {
        let key = normalize_registry_key(registry);
        self.explicit.contains_key(&key)
            || self.file_auths.contains_key(&key)
            || self.cred_helpers.contains_key(&key)
            || self.creds_store.is_some()
    }

    /// The auth document the Docker engine takes in `X-Registry-Auth` for `registry` (`username` and
    /// `password`, or `identitytoken`; with `serveraddress`), from these credentials; None when there are
    /// none for it or its helper fails (the engine then goes anonymously, as it would).
    pub async fn engine_auth(&self, registry: &str) -> Option<serde_json::Value> {
        let secret = match self.lookup(registry).await {
            Ok(secret) => secret?,
            Err(e) => {
                tracing::warn!("credentials for {registry}: {e}; the engine goes anonymously");
                return None;
            }
        };
        let server = if registry == DOCKER_HUB || registry == "docker.io" {
            "https://index.docker.io/v1/".to_owned()
        } else {
            registry.to_owned()
        };
        Some(match secret {
            Secret::Basic { username, password } => serde_json::json!({
                "username": username, "password": password, "serveraddress": server,
            }),
            Secret::IdentityToken(token) => serde_json::json!({
                "identitytoken": token, "serveraddress": server,
            }),
        })
    }

    /// The secret for a registry, running its credential helper if one is configured.
    pub(crate) async fn lookup(&self, registry: &str) -> Result<Option<Secret>> {
        let key = normalize_registry_key(registry);
        if let Some(s) = self.explicit.get(&key) {
            return Ok(Some(s.clone()));
        }
        let helper = self.cred_helpers.get(&key).or(self.creds_store.as_ref());
        if let Some(helper) = helper {
            let cached = self.helper_cache.lock().expect("helper cache").get(&key).cloned();
            let found = match cached {
                Some(found) => found,
                None => {
                    let found = run_helper(helper, &key).await?;
                    self.helper_cache
                        .lock()
                        .expect("helper cache")
                        .insert(key.clone(), found.clone());
                    found
                }
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(self.file_auths.get(&key).cloned())
    }
}

fn entry_secret(entry: &AuthEntry) -> Result<Option<Secret>, String> {
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Secret::IdentityToken(token.to_owned())));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "the `auth` field is not base64".to_owned())?;
        let text = String::from_utf8(decoded).map_err(|_| "the `auth` field is not UTF-8".to_owned())?;
        let (username, password) = text
            .split_once(':')
            .ok_or_else(|| "the `auth` field is not base64 of user:password".to_owned())?;
        return Ok(Some(Secret::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Secret::Basic {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `http://127.0.0.1:5001/v2/` → `127.0.0.1:5001`.
pub(crate) fn normalize_registry_key(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB.to_owned(),
        _ => host,
    }
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
async fn run_helper(helper: &str, registry: &str) -> Result<Option<Secret>> {
    use tokio::io::AsyncWriteExt;
    let program = format!("docker-credential-{helper}");
    let server = if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    };
    let fail = |message: String| RegistryError::Credentials {
        registry: registry.to_owned(),
        message,
    };
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .await
            .map_err(|e| fail(format!("{program}: writing the server name: {e}")))?;
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| fail(format!("{program} get did not answer within 60 s")))?
        .map_err(|e| fail(format!("{program}: {e}")))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        if text.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!(
            "{program} get failed ({}): {}",
            out.status,
            text.lines().next().unwrap_or("").trim()
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| {
        fail(format!(
            "{program} get answered something that is not its JSON: {e}"
        ))
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if answer.username == "<token>" {
        Secret::IdentityToken(answer.secret)
    } else {
        Secret::Basic {
            username: answer.username,
            password: answer.secret,
        }
    }))
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm=…`.
    Basic,
    /// `Bearer realm=…,service=…,scope=…`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses the first `Basic` or `Bearer` challenge of a `WWW-Authenticate` header value.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    } else {
        None
    }
}

/// `k=v, k2="quoted, with \"escapes\""` → pairs.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="tug-test""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="http://127.0.0.1:5003/token",service="tug-registry",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:5003/token".into(),
                service: Some("tug-registry".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn config_file_entries() {
        let dir = tempfile::tempdir().unwrap();
        let basic = base64::engine::general_purpose::STANDARD.encode("tug:tug-secret");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"127.0.0.1:5001":{{"auth":"{basic}"}},
                   "https://index.docker.io/v1/":{{"username":"u","password":"p"}},
                   "http://ghcr.io/v2/":{{"identitytoken":"refresh"}}}}}}"#
            ),
        )
        .unwrap();
        let creds = Credentials::from_docker_config_dir(dir.path()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let got = rt.block_on(creds.lookup("127.0.0.1:5001")).unwrap();
        assert_eq!(
            got,
            Some(Secret::Basic {
                username: "tug".into(),
                password: "tug-secret".into()
            })
        );
        assert!(matches!(
            rt.block_on(creds.lookup("docker.io")).unwrap(),
            Some(Secret::Basic { .. })
        ));
        assert_eq!(
            rt.block_on(creds.lookup("ghcr.io")).unwrap(),
            Some(Secret::IdentityToken("refresh".into()))
        );
        assert_eq!(rt.block_on(creds.lookup("127.0.0.1:5000")).unwrap(), None);
        let debug = format!("{creds:?}");
        assert!(!debug.contains("tug-secret") && !debug.contains("refresh") && !debug.contains(&basic));
        // No file: no credentials; a broken file: an error naming it.
        let empty = tempfile::tempdir().unwrap();
        assert!(!Credentials::from_docker_config_dir(empty.path())
            .unwrap()
            .may_have("x"));
        std::fs::write(empty.path().join("config.json"), "{").unwrap();
        let e = Credentials::from_docker_config_dir(empty.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.json"), "{e}");
    }
}
