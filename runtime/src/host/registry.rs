//! `tug:engine/registry`: images held by the host and edited without a daemon (see `crate::registry`).
//!
//! An `image` handle is a [`HostImage`]: the image behind an async mutex, so that a layer upload or a save
//! (which run as tasks while the plugin writes or reads) can hold it; the other methods answer `conflict`
//! meanwhile instead of waiting on the plugin itself.

use std::sync::Arc;

use serde_json::Value;
use tokio::{io::AsyncWriteExt, sync::Mutex};
use wasmtime::component::Resource;

use super::{
    bindings::{
        registry::{
            self, ConfigEdit as WitEdit, FileEntry, LayerInfo as WitLayer, Platform as WitPlatform,
            PullOptions, PushReport as WitPush, TransferStats as WitStats,
        },
        types::{ApiError, Error as WitError},
    },
    call::{Call, HostEngine},
    error::HostResult,
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{gate::reserved, rules_registry::StagingBudget, Op},
    registry::{ConfigEdit, Image, LayerInfo, Platform, Reference},
};

/// An `image` handle.
pub struct HostImage {
    /// The image; locked by a layer upload or a save while it runs.
    pub image: Arc<Mutex<Image>>,
}

impl HostState {
    /// The staging budget of this run (`registry.staging`).
    pub(crate) fn staging(&self) -> Arc<StagingBudget> {
        self.staging
            .get_or_init(|| Arc::new(StagingBudget::new(self.gate.policy.registry.staging.0)))
            .clone()
    }

    /// The image behind a handle.
    fn image_of(&self, this: &Resource<HostImage>) -> wasmtime::Result<Arc<Mutex<Image>>> {
        Ok(self.table.get(this)?.image.clone())
    }
}

/// Parses a reference the plugin gave and checks its registry (and, for names an image will carry, the
/// image patterns) against the policy.
fn reference(call: &mut Call, text: &str, field: &str, named: bool) -> Result<Reference, WitError> {
    call.target(text);
    let reference = Reference::parse(text)?;
    let full = reference.to_string();
    call.gate().registry(&full, field)?;
    if named {
        call.gate().image(&full, field)?;
    }
    Ok(reference)
}

/// How long a method waits for an image that a layer upload or save still holds (one just dropped lets
/// go of it as its task ends) before answering `conflict`.
pub(crate) const BUSY_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// The answer while the image is held by a layer upload or a save.
pub(crate) fn busy() -> WitError {
    WitError::Conflict(
        "the image is busy: a layer upload into it or a save of it is under way (finish the upload or read \
         the save to its end first)"
            .into(),
    )
}

/// Locks an image, waiting up to [`BUSY_WAIT`].
async fn lock(image: &Mutex<Image>) -> Result<tokio::sync::MutexGuard<'_, Image>, WitError> {
    tokio::time::timeout(BUSY_WAIT, image.lock())
        .await
        .map_err(|_| busy())
}

fn platform(p: WitPlatform) -> Platform {
    Platform {
        os: p.os,
        architecture: p.architecture,
        variant: p.variant,
    }
}

pub(crate) fn layer(l: LayerInfo) -> WitLayer {
    WitLayer {
        digest: l.digest,
        diff_id: l.diff_id,
        size: l.size,
        media_type: l.media_type,
        local: l.local,
    }
}

impl registry::Host for HostState {
    async fn stats(&mut self) -> wasmtime::Result<WitStats> {
        let s = self.registry.stats();
        Ok(WitStats {
            blob_bytes_downloaded: s.blob_bytes_downloaded,
            blob_bytes_uploaded: s.blob_bytes_uploaded,
            manifest_bytes_downloaded: s.manifest_bytes_downloaded,
            blobs_mounted: s.blobs_mounted,
            blobs_skipped: s.blobs_skipped,
            blobs_uploaded: s.blobs_uploaded,
        })
    }

    async fn catalog(&mut self, registry_text: String, limit: Option<u32>) -> HostResult<Vec<String>> {
        self.registry_call(Op::RegistryCatalog, move |_, call| {
            Box::pin(async move {
                call.target(&registry_text);
                let registry = registry_host(&registry_text)?;
                // The registry as a reference would name it: the policy's `registries` decide.
                call.gate()
                    .registry(&format!("{registry}/_catalog"), "registry")?;
                let names = call.registry()?.catalog(&registry, listing_limit(limit)).await?;
                Ok(names)
            })
        })
        .await
    }

    async fn list_tags(&mut self, repository: String, limit: Option<u32>) -> HostResult<Vec<String>> {
        self.registry_call(Op::RegistryListTags, move |_, call| {
            Box::pin(async move {
                let last = repository.rsplit('/').next().unwrap_or_default();
                if repository.contains('@') || last.contains(':') {
                    call.target(&repository);
                    return Err(WitError::InvalidArgument(format!(
                        "list-tags: {repository:?} is not a repository: give it without tag or digest \
                         (`127.0.0.1:5000/app/base`)"
                    )));
                }
                let r = reference(call, &repository, "repository", false)?;
                let tags = call.registry()?.list_tags(&r, listing_limit(limit)).await?;
                // Only the names the run may pull: a repository with tags, none of them allowed, is
                // refused by the first tag's denial.
                let name = r.name();
                let mut first_denial = None;
                let mut allowed = Vec::with_capacity(tags.len());
                for tag in tags {
                    match call.gate().image(&format!("{name}:{tag}"), "repository") {
                        Ok(()) => allowed.push(tag),
                        Err(d) => {
                            first_denial.get_or_insert(d);
                        }
                    }
                }
                match first_denial {
                    Some(d) if allowed.is_empty() => Err(d.into()),
                    _ => Ok(allowed),
                }
            })
        })
        .await
    }
}

/// The default and the largest number of names a listing returns.
fn listing_limit(limit: Option<u32>) -> usize {
    limit
        .map_or(1000, |l| l as usize)
        .min(crate::registry::catalog::MAX_LISTING)
}

/// A registry host as a plugin names it (`127.0.0.1:5000`, `ghcr.io`, `docker.io`; `index.docker.io` and
/// `registry-1.docker.io` are `docker.io`), normalized as a reference would name it.
fn registry_host(text: &str) -> Result<String, WitError> {
    let bad = || {
        WitError::InvalidArgument(format!(
            "catalog: {:?} is not a registry host (`127.0.0.1:5000`, `ghcr.io`, `docker.io`)",
            text.chars().take(200).collect::<String>()
        ))
    };
    if text.is_empty() || text.contains(['/', '@']) {
        return Err(bad());
    }
    // A host is what a reference's first part is read as: a `.` or `:`, `localhost`, or upper case.
    let r = Reference::parse(&format!("{text}/x")).map_err(|_| bad())?;
    let normal = |h: &str| match h {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        h => h.to_owned(),
    };
    if r.registry() != normal(text) {
        return Err(bad());
    }
    Ok(r.registry().to_owned())
}

impl registry::HostImage for HostState {
    async fn pull(
        &mut self,
        reference_text: String,
        options: PullOptions,
    ) -> HostResult<Resource<HostImage>> {
        let r = self
            .registry_call(Op::RegistryPull, move |_, call| {
                Box::pin(async move {
                    let r = reference(call, &reference_text, "reference", true)?;
                    let platform = options.platform.map(platform);
                    let image = Image::pull(call.registry()?, &r, platform.as_ref()).await?;
                    Ok(HostImage {
                        image: Arc::new(Mutex::new(image)),
                    })
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn scratch(&mut self, p: WitPlatform) -> wasmtime::Result<Resource<HostImage>> {
        let image = Image::scratch(platform(p));
        Ok(self.table.push(HostImage {
            image: Arc::new(Mutex::new(image)),
        })?)
    }

    async fn source(&mut self, this: Resource<HostImage>) -> wasmtime::Result<Option<String>> {
        let image = self.image_of(&this)?;
        let source = lock(&image)
            .await
            .ok()
            .and_then(|i| i.source().map(ToString::to_string));
        Ok(source)
    }

    async fn name(&mut self, this: Resource<HostImage>) -> wasmtime::Result<Option<String>> {
        let image = self.image_of(&this)?;
        let name = lock(&image)
            .await
            .ok()
            .and_then(|i| i.name().map(ToString::to_string));
        Ok(name)
    }

    async fn set_name(&mut self, this: Resource<HostImage>, reference_text: String) -> HostResult<()> {
        let image = self.image_of(&this)?;
        self.local_call(Op::RegistryEdit, move |_, call| {
            Box::pin(async move {
                let r = reference(call, &reference_text, "reference", true)?;
                lock(&image).await?.set_name(r);
                Ok(())
            })
        })
        .await
    }

    async fn config(&mut self, this: Resource<HostImage>) -> HostResult<String> {
        let image = self.image_of(&this)?;
        Ok(lock(&image).await.map(|i| i.config().to_string()))
    }

    async fn set_config(&mut self, this: Resource<HostImage>, config: String) -> HostResult<()> {
        let image = self.image_of(&this)?;
        self.local_call(Op::RegistryEdit, move |_, call| {
            Box::pin(async move {
                // Read as the daemon will read it when the image is loaded: no duplicate or case-variant
                // keys (`Config`, `labels`), and no `tug.*` label.
                let value = call.gate().image_config(&config)?;
                lock(&image).await?.set_config(value)?;
                Ok(())
            })
        })
        .await
    }

    async fn edit(&mut self, this: Resource<HostImage>, edit: WitEdit) -> HostResult<()> {
        let image = self.image_of(&this)?;
        self.local_call(Op::RegistryEdit, move |_, call| {
            Box::pin(async move {
                let labels: serde_json::Map<String, Value> = edit
                    .labels
                    .iter()
                    .map(|(k, _)| (k.clone(), Value::Null))
                    .collect();
                call.gate().check_labels(&Value::Object(labels), "labels")?;
                let edit = ConfigEdit {
                    env: edit.env,
                    cmd: edit.cmd,
                    entrypoint: edit.entrypoint,
                    labels: edit.labels,
                    workdir: edit.workdir,
                    user: edit.user,
                };
                lock(&image).await?.edit(&edit)?;
                Ok(())
            })
        })
        .await
    }

    async fn layers(&mut self, this: Resource<HostImage>) -> HostResult<Vec<WitLayer>> {
        let image = self.image_of(&this)?;
        Ok(lock(&image)
            .await
            .map(|i| i.layers().into_iter().map(layer).collect()))
    }

    async fn add_layer_files(
        &mut self,
        this: Resource<HostImage>,
        files: Vec<FileEntry>,
        comment: String,
    ) -> HostResult<WitLayer> {
        let image = self.image_of(&this)?;
        let staging = self.staging();
        self.local_call(Op::RegistryEdit, move |_, _call| {
            Box::pin(async move {
                let bytes: u64 = files.iter().map(|f| f.contents.len() as u64 + 1024).sum();
                staging.charge(bytes)?;
                let files: Vec<(String, Vec<u8>, u32)> =
                    files.into_iter().map(|f| (f.path, f.contents, f.mode)).collect();
                let added = match lock(&image).await {
                    Ok(mut guard) => guard
                        .add_layer_files(&files, &comment)
                        .await
                        .map_err(WitError::from),
                    Err(e) => Err(e),
                };
                if added.is_err() {
                    staging.refund(bytes);
                }
                Ok(layer(added?))
            })
        })
        .await
    }

    async fn add_layer_dir(
        &mut self,
        this: Resource<HostImage>,
        host_dir: String,
        image_dir: String,
        comment: String,
    ) -> HostResult<WitLayer> {
        let image = self.image_of(&this)?;
        let staging = self.staging();
        self.local_call(Op::RegistryEdit, move |_, call| {
            Box::pin(async move {
                call.target(&host_dir);
                let real = call.gate().layer_dir(&host_dir, "host-dir")?;
                let mut guard = lock(&image).await?;
                let added = guard.add_layer_dir(&real, &image_dir, &comment).await?;
                if let Err(d) = staging.charge(added.size) {
                    // Over the budget: the layer is taken off again and nothing stays staged.
                    let last = guard.layers().len().saturating_sub(1);
                    let _ = guard.remove_layer(last);
                    return Err(d.into());
                }
                Ok(layer(added))
            })
        })
        .await
    }

    async fn remove_layer(&mut self, this: Resource<HostImage>, index: u32) -> HostResult<()> {
        let image = self.image_of(&this)?;
        self.local_call(Op::RegistryEdit, move |_, _call| {
            Box::pin(async move {
                lock(&image).await?.remove_layer(index as usize)?;
                Ok(())
            })
        })
        .await
    }

    async fn manifest_digest(&mut self, this: Resource<HostImage>) -> HostResult<String> {
        let image = self.image_of(&this)?;
        Ok(lock(&image).await.map(|i| i.manifest_digest()))
    }

    async fn push(&mut self, this: Resource<HostImage>, target: Option<String>) -> HostResult<WitPush> {
        let image = self.image_of(&this)?;
        self.registry_call(Op::RegistryPush, move |_, call| {
            Box::pin(async move {
                let snapshot: Image = lock(&image).await?.clone();
                let target = target
                    .or_else(|| snapshot.name().map(ToString::to_string))
                    .ok_or_else(|| {
                        WitError::InvalidArgument(
                            "push: the image has no name; give a reference or call set-name".into(),
                        )
                    })?;
                let dest = reference(call, &target, "reference", true)?;
                let report = snapshot.push(call.registry()?, &dest).await?;
                call.bytes(report.bytes_uploaded);
                Ok(WitPush {
                    reference: dest.to_string(),
                    manifest_digest: report.manifest_digest,
                    manifest_size: report.manifest_size,
                    blobs_uploaded: report.blobs_uploaded as u32,
                    blobs_mounted: report.blobs_mounted as u32,
                    blobs_skipped: report.blobs_skipped as u32,
                    bytes_uploaded: report.bytes_uploaded,
                })
            })
        })
        .await
    }

    async fn load(&mut self, this: Resource<HostImage>, e: Resource<HostEngine>) -> HostResult<String> {
        let image = self.image_of(&this)?;
        self.engine_registry_call(Op::ImageLoad, &e, move |_, call| {
            Box::pin(async move {
                let mut stamped: Image = lock(&image).await?.clone();
                // The config as the daemon will decode it (a pulled one too): no key that it would read
                // as `config` or `Labels` but tug would not.
                call.gate().image_config_value(&stamped.config().to_string())?;
                let name = stamped.name().map(ToString::to_string).ok_or_else(|| {
                    WitError::InvalidArgument(
                        "load: the image has no name to load it under; call set-name first".into(),
                    )
                })?;
                call.target(&name);
                let client = call.client()?.clone();
                call.gate().image_target(&client, &name, "name").await?;
                // The loaded image is the run's like everything it makes: its config carries the run's
                // image stamp (`tug.image.*`, and no other `tug.*` label), so cleanup finds it and the
                // plugin may remove it. (A copy is stamped; the plugin's image is not.)
                let mut labels: Vec<(String, Option<String>)> = stamped.config()["config"]["Labels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| reserved(k))
                    .map(|(k, _)| (k.clone(), None))
                    .collect();
                labels.extend(call.gate().image_stamp().into_iter().map(|(k, v)| (k, Some(v))));
                stamped.edit(&ConfigEdit {
                    labels,
                    ..ConfigEdit::default()
                })?;
                let (_, id) = stamped.config_bytes();
                let upload = call
                    .upload(Request::post("/images/load").content_type("application/x-tar"))
                    .await?;
                let (mut body, response) = upload.into_parts();
                let registry = call.registry()?.clone();
                let written = stamped.write_docker_archive(&registry, &mut body).await;
                let answer = match written {
                    Ok(()) => {
                        response.finish_body();
                        let _ = body.shutdown().await;
                        drop(body);
                        response.bytes().await.map_err(WitError::from)
                    }
                    Err(err) => {
                        // A broken image must not reach the engine as a shorter tar: the request is
                        // aborted.
                        response.abort();
                        drop(body);
                        Err(err.into())
                    }
                };
                let messages = answer.and_then(|text| load_messages(&text))?;
                call.gate().confirm_image(&name, Some(&id));
                Ok(messages)
            })
        })
        .await
    }

    async fn drop(&mut self, this: Resource<HostImage>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

/// The daemon's load answer (a stream of JSON documents) as one JSON array, or the error one of them
/// carries.
fn load_messages(text: &[u8]) -> Result<String, WitError> {
    let docs: Vec<Value> = serde_json::Deserializer::from_slice(text)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .collect();
    if let Some(error) = docs.iter().find_map(|d| d.get("error").and_then(Value::as_str)) {
        return Err(WitError::Api(ApiError {
            status: 500,
            message: format!("the engine refused the image: {error}"),
        }));
    }
    Ok(Value::Array(docs).to_string())
}
