//! Image references: `[registry/]repository[:tag][@digest]`, normalized the way docker does.

use std::fmt;

use super::error::{RegistryError, Result};

/// The registry docker uses when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's registry API.
pub(crate) const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalized image reference.
///
/// `busybox` is `docker.io/library/busybox:latest`; `127.0.0.1:5000/a/b` is `127.0.0.1:5000/a/b:latest`;
/// `x@sha256:…` has a digest and no tag. A reference with neither tag nor digest gets the tag `latest`,
/// as `docker pull` does. `index.docker.io` and `registry-1.docker.io` are normalized to `docker.io`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses and normalizes a reference.
    pub fn parse(text: &str) -> Result<Reference> {
        let bad = |reason: &str| RegistryError::InvalidReference {
            reference: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if text.len() > 4096 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains whitespace or is too long"));
        }
        let (name, digest) = match text.split_once('@') {
            Some((n, d)) => {
                validate_digest(d).map_err(|r| bad(&r))?;
                (n, Some(d.to_owned()))
            }
            None => (text, None),
        };
        let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => {
                let i = last_slash + i;
                (&name[..i], Some(name[i + 1..].to_owned()))
            }
            None => (name, None),
        };
        if let Some(t) = &tag {
            validate_tag(t).map_err(|r| bad(&r))?;
        }
        let (registry, remainder) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                validate_domain(first).map_err(|r| bad(&r))?;
                (first.to_owned(), rest.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
            _ => registry,
        };
        let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
            format!("library/{remainder}")
        } else {
            remainder
        };
        validate_repository(&repository).map_err(|r| bad(&r))?;
        if registry.len() + 1 + repository.len() > 255 {
            return Err(bad("the name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            (t, _) => t,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The registry host (`docker.io`, `127.0.0.1:5000`, `ghcr.io`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository within the registry (`library/busybox`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any (`latest` when the text named neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        validate_tag(tag).map_err(|reason| RegistryError::InvalidReference {
            reference: format!("{}/{}:{tag}", self.registry, self.repository),
            reason,
        })?;
        Ok(Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository pinned to a digest (the tag is kept for display).
    pub fn with_digest(&self, digest: &str) -> Result<Reference> {
        validate_digest(digest).map_err(|reason| RegistryError::InvalidReference {
            reference: format!("{}/{}@{digest}", self.registry, self.repository),
            reason,
        })?;
        Ok(Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        })
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What the manifest URL names: the digest when pinned, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The host that serves the registry API for this reference (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }
}

/// The API host of a registry name (Docker Hub's is `registry-1.docker.io`).
pub(crate) fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Reference> {
        Reference::parse(s)
    }
}

/// Checks a `sha256:<64 lowercase hex>` digest (the only algorithm tug verifies).
pub(crate) fn validate_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!("digest {d:?} is not algorithm:hex"));
    };
    if alg != "sha256" {
        return Err(format!("digest {d:?}: only sha256 digests are supported"));
    }
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!("digest {d:?}: expected 64 lowercase hex digits"));
    }
    Ok(())
}

fn validate_tag(t: &str) -> Result<(), String> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && (b == b'.' || b == b'-')));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {t:?}: expected 1 to 128 of [A-Za-z0-9_.-], not starting with . or -"
        ))
    }
}

fn validate_domain(d: &str) -> Result<(), String> {
    let err = || Err(format!("registry {d:?} is not a host[:port]"));
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        // [ipv6]:port
        let Some((h, p)) = rest.split_once(']') else {
            return err();
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return err();
        }
        let port = match p {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return err(),
            },
        };
        (None, port)
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err() {
            return err();
        }
    }
    if let Some(h) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if h.is_empty() || !h.split('.').all(label_ok) {
            return err();
        }
    }
    Ok(())
}

fn validate_repository(r: &str) -> Result<(), String> {
    if r.is_empty() {
        return Err("empty repository name".into());
    }
    for component in r.split('/') {
        if !component_ok(component) {
            return Err(format!(
                "repository {r:?}: component {component:?} must be lowercase letters and digits, \
                 separated by '.', '_', '__' or dashes"
            ));
        }
    }
    Ok(())
}

fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: '.', '_', '__' or one or more '-'.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !is_alnum(b[i]) {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalizes_like_docker() {
        let r = p("busybox");
        assert_eq!(
            (r.registry(), r.repository(), r.tag(), r.digest()),
            ("docker.io", "library/busybox", Some("latest"), None)
        );
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(
            p("index.docker.io/library/busybox:1").to_string(),
            "docker.io/library/busybox:1"
        );
        assert_eq!(
            p("registry-1.docker.io/foo/bar").to_string(),
            "docker.io/foo/bar:latest"
        );
        assert_eq!(p("foo/bar:v1.2").to_string(), "docker.io/foo/bar:v1.2");
        let r = p("127.0.0.1:5000/a/b:tag");
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "a/b", Some("tag"))
        );
        let r = p("localhost/x");
        assert_eq!((r.registry(), r.repository()), ("localhost", "x"));
        let r = p("[::1]:5000/x/y:1");
        assert_eq!(r.registry(), "[::1]:5000");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("x@{d}"));
        assert_eq!(
            (r.repository(), r.tag(), r.digest()),
            ("library/x", None, Some(d.as_str()))
        );
        assert_eq!(r.manifest_reference(), d);
        let r = p(&format!("ghcr.io/o/x:t@{d}"));
        assert_eq!((r.tag(), r.digest()), (Some("t"), Some(d.as_str())));
        assert_eq!(r.to_string(), format!("ghcr.io/o/x:t@{d}"));
        assert_eq!(r.with_tag("u").unwrap().to_string(), "ghcr.io/o/x:u");
        assert_eq!(p("a/b__c-d.e---f").repository(), "a/b__c-d.e---f");
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Busybox",
            "a/B",
            "a//b",
            "a/b:",
            "a/b:-x",
            "a@sha256:abc",
            "a@md5:0123",
            "a b",
            "host:99999/x",
            "a/b___c",
            "a/-b",
            "a/b.",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        let e = Reference::parse("a/b:-x").unwrap_err().to_string();
        assert!(e.contains("a/b:-x"), "{e}");
        assert!(p("a").with_tag("bad tag").is_err());
    }
}
