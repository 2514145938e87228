//! Pushing an image: each blob is skipped when the destination has it, mounted when it lives in another
//! repository of the same registry, streamed registry-to-registry when it lives elsewhere, uploaded
//! from disk when tug made it; then the config and the manifest.

use super::{
    blob::{BlobKind, FileReader, Mount, Repo, Source},
    client::Counters,
    error::{RegistryError, Result},
    image::{Image, Layer, Location, PushReport},
    Reference, Registry,
};

/// How one blob got to the destination.
enum Outcome {
    Skipped,
    Mounted,
    Uploaded(u64),
}

impl PushReport {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Skipped => self.blobs_skipped += 1,
            Outcome::Mounted => self.blobs_mounted += 1,
            Outcome::Uploaded(n) => {
                self.blobs_uploaded += 1;
                self.bytes_uploaded += n;
            }
        }
    }
}

fn non_distributable(media_type: &str) -> bool {
    media_type.contains("foreign") || media_type.contains("nondistributable")
}

impl Image {
    /// Pushes the image to `dest` (its tag, or its digest, which must then be the manifest's). Never
    /// downloads a layer to push it to the registry it already lives on. An unchanged image is pushed
    /// with its original manifest bytes, so its digest stays the same.
    pub async fn push(&self, registry: &Registry, dest: &Reference) -> Result<PushReport> {
        let to = Repo::of(dest);
        let (manifest, media_type) = self.manifest_bytes();
        let manifest_digest = super::blob::sha256_digest(&manifest);
        if let Some(d) = dest.digest() {
            if d != manifest_digest {
                return Err(RegistryError::DigestMismatch {
                    what: format!("push to {dest}: the image's manifest"),
                    expected: d.to_owned(),
                    actual: manifest_digest,
                });
            }
        }
        let mut report = PushReport::default();
        let mut done = std::collections::HashSet::new();
        for layer in &self.layers {
            if non_distributable(&layer.descriptor.media_type)
                || !done.insert(layer.descriptor.digest.clone())
            {
                continue;
            }
            let outcome = push_layer(registry, &to, layer).await?;
            report.count(outcome);
        }
        let (config, config_digest) = self.config_bytes();
        let outcome = if registry.blob_exists(&to, &config_digest, true).await? {
            Counters::add(&registry.inner.counters.blobs_skipped, 1);
            Outcome::Skipped
        } else {
            // Unchanged: the config is a blob of the source repository too.
            let from = self
                .source
                .as_ref()
                .filter(|_| self.original.is_some())
                .map(Repo::of)
                .filter(|from| from.host == to.host && from.name != to.name);
            match from {
                Some(from) => match registry.mount_blob(&to, &config_digest, &from).await? {
                    Mount::Mounted => Outcome::Mounted,
                    Mount::Started(location) => {
                        registry
                            .put_bytes(&to, &location, &config_digest, config.clone())
                            .await?;
                        Outcome::Uploaded(config.len() as u64)
                    }
                },
                None => {
                    registry.upload_bytes(&to, &config_digest, config.clone()).await?;
                    Outcome::Uploaded(config.len() as u64)
                }
            }
        };
        report.count(outcome);
        let reference = dest.tag().or(dest.digest()).unwrap_or("latest");
        let digest = registry
            .put_manifest(&to, reference, manifest.clone(), &media_type)
            .await?;
        report.manifest_digest = digest;
        report.manifest_size = manifest.len() as u64;
        Ok(report)
    }
}

async fn push_layer(registry: &Registry, to: &Repo, layer: &Layer) -> Result<Outcome> {
    let d = &layer.descriptor;
    if registry.blob_exists(to, &d.digest, true).await? {
        Counters::add(&registry.inner.counters.blobs_skipped, 1);
        return Ok(Outcome::Skipped);
    }
    let location = match &layer.location {
        Location::Remote(from) if from.host == to.host => {
            match registry.mount_blob(to, &d.digest, from).await? {
                Mount::Mounted => return Ok(Outcome::Mounted),
                // The registry would not mount (no access to the source): stream it instead.
                Mount::Started(location) => location,
            }
        }
        _ => registry.start_upload(to).await?,
    };
    let source = match &layer.location {
        Location::Remote(from) => Source::Remote(
            registry
                .get_blob(from, &d.digest, Some(d.size), BlobKind::Layer)
                .await?,
        ),
        Location::Local { path, .. } => Source::File(
            FileReader::open(path, format!("local layer {}", d.digest), &d.digest, d.size).await?,
        ),
    };
    registry
        .finish_upload(to, &location, &d.digest, d.size, source)
        .await?;
    Ok(Outcome::Uploaded(d.size))
}
