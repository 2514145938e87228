//! Where the engine is and how to talk to it: `DOCKER_HOST`-style endpoints, TLS material, the API
//! version, timeouts, and configuration from the environment and docker CLI contexts, as docker-py's
//! `from_env` and the docker CLI resolve them.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};

/// The default unix socket of a local daemon.
pub const DEFAULT_UNIX_SOCKET: &str = "/var/run/docker.sock";
/// The oldest Engine API version tug speaks.
pub const MIN_API_VERSION: ApiVersion = ApiVersion::new(1, 24);
/// The newest Engine API version tug speaks; `auto` negotiation never goes above it.
pub const MAX_API_VERSION: ApiVersion = ApiVersion::new(1, 55);

/// Where a daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path/to/docker.sock`.
    Unix(PathBuf),
    /// `tcp://host:port` (also `http://` and, implying TLS, `https://`).
    Tcp {
        /// Host name or IP address.
        host: String,
        /// Port.
        port: u16,
    },
    /// `ssh://[user@]host[:port]`: the system `ssh` runs `docker system dial-stdio` on the host.
    Ssh {
        /// The remote user, if given.
        user: Option<String>,
        /// The remote host.
        host: String,
        /// The ssh port, if given.
        port: Option<u16>,
    },
}

impl Endpoint {
    /// Parses a `DOCKER_HOST` value; `tls` picks the default tcp port (2376 with TLS, 2375 without).
    pub fn parse(s: &str, tls: bool) -> Result<Self> {
        let bad = |why: &str| Error::Config(format!("DOCKER_HOST {s:?}: {why}"));
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Ok(Endpoint::Unix(DEFAULT_UNIX_SOCKET.into()));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if s.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(s)));
        }
        if let Some(rest) = s.strip_prefix("ssh://") {
            let rest = rest.trim_end_matches('/');
            let (user, hostport) = match rest.rsplit_once('@') {
                Some((u, h)) => (Some(u.to_owned()), h),
                None => (None, rest),
            };
            let (host, port) = split_host_port(hostport).map_err(|w| bad(&w))?;
            if host.is_empty() {
                return Err(bad("no host"));
            }
            return Ok(Endpoint::Ssh { user, host, port });
        }
        let rest = ["tcp://", "http://", "https://"]
            .iter()
            .find_map(|p| s.strip_prefix(p))
            .ok_or_else(|| bad("the scheme must be unix://, tcp://, http://, https:// or ssh://"))?;
        let hostport = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_host_port(hostport).map_err(|w| bad(&w))?;
        let host = if host.is_empty() {
            "127.0.0.1".to_owned()
        } else {
            host
        };
        let default_port = if tls || s.starts_with("https://") {
            2376
        } else {
            2375
        };
        Ok(Endpoint::Tcp {
            host,
            port: port.unwrap_or(default_port),
        })
    }
}

fn split_host_port(s: &str) -> std::result::Result<(String, Option<u16>), String> {
    // [v6]:port, host:port, host
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed '[' in the address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| format!("bad port {p:?}"))?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after the address")),
        };
        return Ok((h.to_owned(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port = p.parse().map_err(|_| format!("bad port {p:?}"))?;
            Ok((h.to_owned(), Some(port)))
        }
        _ => Ok((s.to_owned(), None)),
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ssh { user, host, port } => {
                write!(f, "ssh://")?;
                if let Some(u) = user {
                    write!(f, "{u}@")?;
                }
                write!(f, "{host}")?;
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
        }
    }
}

/// TLS for a tcp endpoint: the CA to verify the daemon with and the client certificate to present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file of the CA that signed the daemon's certificate (`ca.pem`); without it, the system's roots.
    pub ca: Option<PathBuf>,
    /// PEM file of the client certificate (`cert.pem`).
    pub cert: Option<PathBuf>,
    /// PEM file of the client key (`key.pem`).
    pub key: Option<PathBuf>,
    /// Verify the daemon's certificate and name (`DOCKER_TLS_VERIFY`). Off means encryption only.
    pub verify: bool,
}

impl TlsConfig {
    /// `ca.pem`, `cert.pem` and `key.pem` from a directory, those that exist (like `DOCKER_CERT_PATH`).
    pub fn from_dir(dir: &Path, verify: bool) -> Self {
        let file = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
        TlsConfig {
            ca: file("ca.pem"),
            cert: file("cert.pem"),
            key: file("key.pem"),
            verify,
        }
    }
}

/// An Engine API version, e.g. `1.41`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u16,
    /// The part that changes.
    pub minor: u16,
}

impl ApiVersion {
    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Config(format!("API version {s:?} is not of the form 1.41"));
        let (a, b) = s.trim().trim_start_matches('v').split_once('.').ok_or_else(bad)?;
        Ok(ApiVersion::new(
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        ))
    }
}

/// Which API version to speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VersionPolicy {
    /// Ask the daemon (`/_ping`'s `Api-Version`) and use the lower of it and [`MAX_API_VERSION`].
    #[default]
    Auto,
    /// Always this version.
    Pinned(ApiVersion),
}

impl FromStr for VersionPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty() || s.eq_ignore_ascii_case("auto") {
            Ok(VersionPolicy::Auto)
        } else {
            s.parse().map(VersionPolicy::Pinned)
        }
    }
}

/// Everything needed to reach one engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where the daemon listens.
    pub endpoint: Endpoint,
    /// TLS for a tcp endpoint.
    pub tls: Option<TlsConfig>,
    /// Which API version to speak.
    pub version: VersionPolicy,
    /// The limit for a whole non-streaming call, and for the response head of a streaming one.
    pub timeout: Duration,
    /// The limit for establishing a connection.
    pub connect_timeout: Duration,
    /// How long an idle connection is kept for reuse.
    pub pool_idle_timeout: Duration,
    /// Extra arguments for `ssh` on an `ssh://` endpoint (e.g. `-i key`), placed before the host.
    pub ssh_options: Vec<String>,
    /// How many idle connections the pool keeps; `None`: by endpoint (see
    /// [`EngineConfig::pool_max_idle`]).
    pub pool_max_idle: Option<usize>,
}

impl EngineConfig {
    /// A configuration for an endpoint with the defaults: no TLS, `auto` version, 60 s call timeout (as
    /// docker-py), 10 s connect timeout, idle connections kept 30 s.
    pub fn new(endpoint: Endpoint) -> Self {
        EngineConfig {
            endpoint,
            tls: None,
            version: VersionPolicy::Auto,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(30),
            ssh_options: Vec::new(),
            pool_max_idle: None,
        }
    }

    /// How many idle connections the pool keeps. On a unix socket one: a plugin calls one at a time
    /// and streams have connections of their own (`direct.rs`); more would only gather connections the
    /// pool hands back late (from another task) while the next call already opened a new one, and a
    /// connect costs tens of microseconds. Over tcp, TLS and ssh, where a connect costs a handshake (a
    /// TLS handshake is milliseconds, an ssh one a process and hundreds of them), up to 32: concurrent
    /// callers (several plugins on one engine) each find one.
    pub fn pool_max_idle(&self) -> usize {
        self.pool_max_idle.unwrap_or(match self.endpoint {
            Endpoint::Unix(_) => 1,
            Endpoint::Tcp { .. } | Endpoint::Ssh { .. } => 32,
        })
    }

    /// Parses a `DOCKER_HOST`-style URL with the defaults of [`EngineConfig::new`].
    pub fn from_url(url: &str) -> Result<Self> {
        let https = url.starts_with("https://");
        let mut cfg = EngineConfig::new(Endpoint::parse(url, https)?);
        if https {
            cfg.tls = Some(TlsConfig {
                verify: true,
                ..TlsConfig::default()
            });
        }
        Ok(cfg)
    }

    /// The configuration of a docker CLI context by name, from the docker CLI's config directory
    /// (`$DOCKER_CONFIG`, else `~/.docker`), as `docker --context NAME` reads it. `default` is the
    /// docker CLI's default context: `DOCKER_HOST` (with its TLS variables), else the local socket.
    pub fn from_context(name: &str) -> Result<Self> {
        if name == "default" {
            let lookup = |k: &str| match k {
                "DOCKER_CONTEXT" => None,
                _ => std::env::var(k).ok(),
            };
            if std::env::var_os("DOCKER_HOST").is_none_or(|h| h.is_empty()) {
                return Ok(EngineConfig::new(Endpoint::Unix(DEFAULT_UNIX_SOCKET.into())));
            }
            return Self::from_lookup(lookup, &docker_config_dir());
        }
        from_context(&docker_config_dir(), name)
    }

    /// The configuration from this process's environment and the docker CLI's config directory.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok(), &docker_config_dir())
    }

    /// The configuration from environment variables as `lookup` gives them and a docker config directory.
    ///
    /// Resolution follows the docker CLI: `DOCKER_CONTEXT`, else `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`,
    /// `DOCKER_TLS` and `DOCKER_CERT_PATH`), else the `currentContext` of `config.json`, else the local
    /// unix socket. TLS is on when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is non-empty or `DOCKER_CERT_PATH` is
    /// set (as docker-py's `from_env`); the daemon is verified only with `DOCKER_TLS_VERIFY`.
    /// `DOCKER_API_VERSION` pins the version (`auto` or unset: negotiate).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, config_dir: &Path) -> Result<Self> {
        let get = |k: &str| lookup(k).filter(|v| !v.is_empty());
        let context = get("DOCKER_CONTEXT").or_else(|| {
            if get("DOCKER_HOST").is_some() {
                None
            } else {
                current_context(config_dir)
            }
        });
        let mut cfg = match context.as_deref() {
            Some(name) if name != "default" => from_context(config_dir, name)?,
            _ => {
                let verify = get("DOCKER_TLS_VERIFY").is_some();
                let cert_path = get("DOCKER_CERT_PATH");
                let tls = verify || cert_path.is_some() || get("DOCKER_TLS").is_some();
                let host = get("DOCKER_HOST").unwrap_or_else(|| format!("unix://{DEFAULT_UNIX_SOCKET}"));
                let mut cfg = EngineConfig::new(Endpoint::parse(&host, tls)?);
                if tls {
                    let dir = cert_path
                        .map(PathBuf::from)
                        .unwrap_or_else(|| config_dir.to_owned());
                    cfg.tls = Some(TlsConfig::from_dir(&dir, verify));
                }
                cfg
            }
        };
        if let Some(v) = get("DOCKER_API_VERSION") {
            cfg.version = v.parse()?;
        }
        Ok(cfg)
    }
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/root".into());
    home.join(".docker")
}

fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read(config_dir.join("config.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("currentContext")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A docker CLI context: `contexts/meta/<sha256(name)>/meta.json` and its TLS files under
/// `contexts/tls/<sha256(name)>/docker/`.
fn from_context(config_dir: &Path, name: &str) -> Result<EngineConfig> {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta_path = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read(&meta_path)
        .map_err(|e| Error::Config(format!("docker context {name:?}: {}: {e}", meta_path.display())))?;
    let meta: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| Error::Config(format!("docker context {name:?}: {}: {e}", meta_path.display())))?;
    let docker = &meta["Endpoints"]["docker"];
    let host = docker["Host"]
        .as_str()
        .ok_or_else(|| Error::Config(format!("docker context {name:?} has no docker endpoint Host")))?;
    let skip_verify = docker["SkipTLSVerify"].as_bool().unwrap_or(false);
    let tls_dir = config_dir.join("contexts/tls").join(&id).join("docker");
    let has_tls = tls_dir.is_dir() || host.starts_with("https://");
    let mut cfg = EngineConfig::new(Endpoint::parse(host, has_tls)?);
    if has_tls {
        cfg.tls = Some(TlsConfig::from_dir(&tls_dir, !skip_verify));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn parses_endpoints() {
        assert_eq!(
            Endpoint::parse("unix:///run/d.sock", false).unwrap(),
            Endpoint::Unix("/run/d.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://10.0.0.1", true).unwrap(),
            Endpoint::Tcp {
                host: "10.0.0.1".into(),
                port: 2376
            }
        );
        assert_eq!(
            Endpoint::parse("tcp://[::1]:2375", false).unwrap(),
            Endpoint::Tcp {
                host: "::1".into(),
                port: 2375
            }
        );
        assert_eq!(
            Endpoint::parse("ssh://me@box:2222", false).unwrap(),
            Endpoint::Ssh {
                user: Some("me".into()),
                host: "box".into(),
                port: Some(2222)
            }
        );
        assert!(Endpoint::parse("npipe:////./pipe/docker_engine", false).is_err());
        assert!(Endpoint::parse("tcp://host:notaport", false).is_err());
        for s in [
            "unix:///run/d.sock",
            "tcp://10.0.0.1:2376",
            "tcp://[::1]:2375",
            "ssh://me@box:2222",
        ] {
            assert_eq!(Endpoint::parse(s, false).unwrap().to_string(), s);
        }
    }

    #[test]
    fn versions() {
        let v: ApiVersion = "1.41".parse().unwrap();
        assert_eq!(v, ApiVersion::new(1, 41));
        assert!(v < MAX_API_VERSION && v > MIN_API_VERSION);
        assert_eq!("auto".parse::<VersionPolicy>().unwrap(), VersionPolicy::Auto);
        assert!("one.two".parse::<ApiVersion>().is_err());
    }

    #[test]
    fn environment_like_docker_py() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EngineConfig::from_lookup(env(&[]), dir.path()).unwrap();
        assert_eq!(cfg.endpoint, Endpoint::Unix(DEFAULT_UNIX_SOCKET.into()));
        assert!(cfg.tls.is_none());

        let cfg = EngineConfig::from_lookup(
            env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
                ("DOCKER_API_VERSION", "1.40"),
            ]),
            dir.path(),
        )
        .unwrap();
        assert_eq!(
            cfg.endpoint,
            Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 2376
            }
        );
        assert!(cfg.tls.as_ref().unwrap().verify);
        assert_eq!(cfg.version, VersionPolicy::Pinned(ApiVersion::new(1, 40)));

        // DOCKER_TLS_VERIFY empty and a cert path: TLS without verification (docker-py).
        let cfg = EngineConfig::from_lookup(
            env(&[
                ("DOCKER_HOST", "tcp://h:1"),
                ("DOCKER_TLS_VERIFY", ""),
                ("DOCKER_CERT_PATH", "/c"),
            ]),
            dir.path(),
        )
        .unwrap();
        assert!(!cfg.tls.unwrap().verify);
    }

    #[test]
    fn docker_cli_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let id = hex::encode(Sha256::digest(b"remote"));
        let meta = dir.path().join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://192.0.2.7:2376","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        let tls = dir.path().join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        std::fs::write(tls.join("ca.pem"), "x").unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"currentContext":"remote"}"#).unwrap();

        let cfg = EngineConfig::from_lookup(env(&[]), dir.path()).unwrap();
        assert_eq!(
            cfg.endpoint,
            Endpoint::Tcp {
                host: "192.0.2.7".into(),
                port: 2376
            }
        );
        let t = cfg.tls.unwrap();
        assert!(t.verify && t.ca.is_some() && t.cert.is_none());

        // DOCKER_HOST beats config.json's current context; DOCKER_CONTEXT beats DOCKER_HOST.
        let cfg = EngineConfig::from_lookup(env(&[("DOCKER_HOST", "unix:///x.sock")]), dir.path()).unwrap();
        assert_eq!(cfg.endpoint, Endpoint::Unix("/x.sock".into()));
        let cfg = EngineConfig::from_lookup(
            env(&[("DOCKER_HOST", "unix:///x.sock"), ("DOCKER_CONTEXT", "remote")]),
            dir.path(),
        )
        .unwrap();
        assert!(matches!(cfg.endpoint, Endpoint::Tcp { .. }));
        let err = EngineConfig::from_lookup(env(&[("DOCKER_CONTEXT", "nope")]), dir.path()).unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
    }
}
