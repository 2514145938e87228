//! Manifests and indexes (Docker v2 schema 2, Docker manifest list, OCI manifest, OCI index), their
//! media types, and platforms.
//!
//! The structs keep every field they do not name (`annotations`, `urls`, `subject`…) in `extra`, so a
//! manifest tug rebuilds loses nothing; an unchanged image is pushed with its original bytes anyway.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{RegistryError, Result};

/// Docker image manifest v2, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// OCI gzip layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI uncompressed layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// The `Accept` header of manifest requests: all four types tug reads.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// A content descriptor (a manifest's config and layers, an index's manifests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An image manifest (Docker schema 2 or OCI).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ManifestDoc {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An index (Docker manifest list or OCI index).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexDoc {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a manifest request returned.
pub(crate) enum Parsed {
    Manifest(ManifestDoc, String),
    Index(IndexDoc),
}

/// Parses a manifest or index, deciding its media type from the document (or the `Content-Type`).
pub(crate) fn parse(bytes: &[u8], content_type: &str, reference: &str) -> Result<Parsed> {
    let bad = |message: String| RegistryError::Manifest {
        reference: reference.to_owned(),
        message,
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    if v.get("schemaVersion").and_then(|s| s.as_u64()) == Some(1) {
        return Err(RegistryError::Unsupported(format!(
            "{reference}: a schema 1 manifest (deprecated); push the image again with a newer client"
        )));
    }
    let media_type = v
        .get("mediaType")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
        .unwrap_or(content_type)
        .to_owned();
    let is_index = match media_type.as_str() {
        DOCKER_MANIFEST_LIST | OCI_INDEX => true,
        DOCKER_MANIFEST | OCI_MANIFEST => false,
        // No (usable) media type: OCI allows leaving it out; decide by shape.
        _ if v.get("manifests").is_some() => true,
        _ if v.get("config").is_some() && v.get("layers").is_some() => false,
        other => return Err(bad(format!("unsupported media type {other:?}"))),
    };
    if is_index {
        let doc: IndexDoc = serde_json::from_value(v).map_err(|e| bad(format!("not an index: {e}")))?;
        Ok(Parsed::Index(doc))
    } else {
        let doc: ManifestDoc = serde_json::from_value(v).map_err(|e| bad(format!("not a manifest: {e}")))?;
        let mt = if media_type == DOCKER_MANIFEST {
            DOCKER_MANIFEST
        } else {
            OCI_MANIFEST
        };
        Ok(Parsed::Manifest(doc, mt.to_owned()))
    }
}

/// A platform: `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`…
    pub os: String,
    /// `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`…
    pub architecture: String,
    /// `v7`, `v8`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A platform from its parts (architecture names normalized: `x86_64` → `amd64`, `aarch64` → `arm64`).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_ascii_lowercase(),
            architecture: normalize_arch(architecture).to_owned(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_owned),
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Platform> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(RegistryError::InvalidPlatform {
                platform: text.to_owned(),
            }),
        }
    }

    /// `linux/<the architecture tug runs on>`.
    pub fn host() -> Platform {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform::new("linux", arch, variant)
    }

    /// Whether an index entry (`other`) serves this platform: same os and architecture, and the same
    /// variant when this one names one (`arm64` with no variant is `arm64/v8`).
    pub fn matches(&self, other: &Platform) -> bool {
        if !self.os.eq_ignore_ascii_case(&other.os)
            || self.architecture != normalize_arch(&other.architecture)
        {
            return false;
        }
        // arm64 without a variant is arm64/v8.
        let variant = |p: &Platform| {
            p.variant
                .clone()
                .or_else(|| (normalize_arch(&p.architecture) == "arm64").then(|| "v8".to_owned()))
        };
        self.variant.is_none() || variant(self) == variant(other)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Platform> {
        Platform::parse(s)
    }
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(p.matches(&Platform::new("linux", "arm64", None)));
        assert!(Platform::parse("linux/arm64").unwrap().matches(&Platform::new(
            "linux",
            "arm64",
            Some("v8")
        )));
        assert!(!Platform::parse("linux/arm/v6").unwrap().matches(&Platform::new(
            "linux",
            "arm",
            Some("v7")
        )));
        assert!(Platform::parse("linux/x86_64")
            .unwrap()
            .matches(&Platform::new("linux", "amd64", None)));
        assert!(!Platform::parse("linux/amd64")
            .unwrap()
            .matches(&Platform::new("windows", "amd64", None)));
        assert!(Platform::parse("linux").is_err() && Platform::parse("a/b/c/d").is_err());
        assert_eq!(Platform::host().os, "linux");
    }

    #[test]
    fn parses_and_keeps_unknown_fields() {
        let m = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:00","size":2},
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:11","size":3,
                       "annotations":{"a":"b"}}],
            "annotations":{"x":"y"}}"#;
        let Parsed::Manifest(doc, mt) = parse(m, "", "r").unwrap() else {
            panic!("not a manifest")
        };
        assert_eq!(mt, OCI_MANIFEST);
        assert_eq!(doc.layers[0].extra["annotations"]["a"], "b");
        let back = serde_json::to_value(&doc).unwrap();
        assert_eq!(back["annotations"]["x"], "y");
        let i =
            br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "digest":"sha256:22","size":5,"platform":{"os":"linux","architecture":"arm","variant":"v7"}}]}"#;
        let Parsed::Index(doc) = parse(i, OCI_INDEX, "r").unwrap() else {
            panic!("not an index")
        };
        assert_eq!(
            doc.manifests[0].platform.as_ref().unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!(parse(br#"{"schemaVersion":1}"#, "", "r").is_err());
        assert!(parse(b"{}", "text/plain", "r").is_err());
    }
}
