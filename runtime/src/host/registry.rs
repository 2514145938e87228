//! `tug:engine/registry`: images held by the host and edited without a daemon (see `crate::registry`).
//!
//! An `image` handle is a [`HostImage`]: the image behind an async mutex, so that a layer upload or a save
//! (which run as tasks while the plugin writes or reads) can hold it; the other methods answer `conflict`
//! meanwhile instead of waiting on the plugin itself.

use std::sync::{Arc, OnceLock};

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
    error::{check, HostResult},
    resources::HostEngine,
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{rules_registry::StagingBudget, Denial},
    registry::{
        ConfigEdit, Credentials, Image, LayerInfo, Platform, Reference, Registry, RegistryError,
        RegistryOptions,
    },
};

/// An `image` handle.
pub struct HostImage {
    /// The image; locked by a layer upload or a save while it runs.
    pub image: Arc<Mutex<Image>>,
}

/// The per-run state of the `registry` interface.
#[derive(Default)]
pub struct RegistryState {
    /// The registry client, made on first use with the host's credentials.
    client: OnceLock<Registry>,
    /// Bytes of new layers staged so far, against `registry.staging`.
    staging: OnceLock<Arc<StagingBudget>>,
}

impl RegistryState {
    /// A state whose client is `client` (for callers that configure credentials or insecure registries
    /// themselves).
    pub fn with_client(client: Registry) -> Self {
        let state = RegistryState::default();
        let _ = state.client.set(client);
        state
    }
}

impl HostState {
    /// The registry client of this run: the host's docker credentials, never shown to the plugin.
    pub(crate) fn registry_client(&self) -> Registry {
        self.registry
            .client
            .get_or_init(|| {
                let credentials = Credentials::from_docker_config().unwrap_or_else(|e| {
                    tracing::warn!("reading the docker credentials: {e}; registries are reached anonymously");
                    Credentials::none()
                });
                Registry::new(RegistryOptions {
                    credentials,
                    insecure: Vec::new(),
                })
            })
            .clone()
    }

    /// The staging budget of this run (`registry.staging`).
    pub(crate) fn staging(&self) -> Arc<StagingBudget> {
        self.registry
            .staging
            .get_or_init(|| Arc::new(StagingBudget::new(self.gate.policy.registry.staging.0)))
            .clone()
    }

    /// Parses a reference the plugin gave and checks its registry (and, for names an image will carry,
    /// the image patterns) against the policy.
    fn reference(&self, text: &str, field: &str, named: bool) -> Result<Reference, WitError> {
        let reference = Reference::parse(text).map_err(registry_error)?;
        let full = reference.to_string();
        self.gate.registry(&full, field).map_err(denied)?;
        if named {
            self.gate.image(&full, field).map_err(denied)?;
        }
        Ok(reference)
    }

    /// The image behind a handle, unless a layer upload or save holds it.
    fn image_of(&self, this: &Resource<HostImage>) -> wasmtime::Result<Result<Arc<Mutex<Image>>, WitError>> {
        Ok(Ok(self.table.get(this)?.image.clone()))
    }
}

/// A denial as the WIT error.
pub(crate) fn denied(d: Denial) -> WitError {
    super::error::IntoWit::into_wit(d)
}

/// A registry error as the WIT error a plugin sees, its message naming the registry, reference or blob.
pub(crate) fn registry_error(e: RegistryError) -> WitError {
    use RegistryError as E;
    let message = e.to_string();
    match e {
        E::InvalidReference { .. }
        | E::InvalidPlatform { .. }
        | E::Config(_)
        | E::Layer(_)
        | E::Manifest { .. }
        | E::Unsupported(_) => WitError::InvalidArgument(message),
        E::NoMatchingPlatform { .. } => WitError::NotFound(message),
        E::DigestMismatch { .. } | E::SizeMismatch { .. } => WitError::Integrity(message),
        E::Api { status, .. } if status == http::StatusCode::NOT_FOUND => WitError::NotFound(message),
        E::Unauthorized { status, .. } | E::Api { status, .. } => WitError::Api(ApiError {
            status: status.as_u16(),
            message,
        }),
        E::Credentials { .. } => WitError::Api(ApiError { status: 401, message }),
        E::Transport { .. } | E::Io { .. } => WitError::Transport(message),
    }
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

/// Locks an image for a method, or ends the call with `conflict`.
macro_rules! locked {
    ($self:ident, $image:expr) => {
        match lock(&$image).await {
            Ok(guard) => guard,
            Err(err) => {
                $self.end_call(Some(&err), 0);
                return Ok(Err(err));
            }
        }
    };
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
        let s = self.registry_client().stats();
        Ok(WitStats {
            blob_bytes_downloaded: s.blob_bytes_downloaded,
            blob_bytes_uploaded: s.blob_bytes_uploaded,
            manifest_bytes_downloaded: s.manifest_bytes_downloaded,
            blobs_mounted: s.blobs_mounted,
            blobs_skipped: s.blobs_skipped,
            blobs_uploaded: s.blobs_uploaded,
        })
    }
}

impl registry::HostImage for HostState {
    async fn pull(&mut self, reference: String, options: PullOptions) -> HostResult<Resource<HostImage>> {
        check!(self, self.allow("RegistryPull"));
        self.target(&reference);
        let r = check!(self, self.reference(&reference, "reference", true));
        let client = self.registry_client();
        let platform = options.platform.map(platform);
        let pulled = Image::pull(&client, &r, platform.as_ref())
            .await
            .map_err(registry_error);
        let image = check!(self, self.ended(pulled, 0));
        Ok(Ok(self.table.push(HostImage {
            image: Arc::new(Mutex::new(image)),
        })?))
    }

    async fn scratch(&mut self, p: WitPlatform) -> wasmtime::Result<Resource<HostImage>> {
        let image = Image::scratch(platform(p));
        Ok(self.table.push(HostImage {
            image: Arc::new(Mutex::new(image)),
        })?)
    }

    async fn source(&mut self, this: Resource<HostImage>) -> wasmtime::Result<Option<String>> {
        let image = self.table.get(&this)?.image.clone();
        let source = lock(&image)
            .await
            .ok()
            .and_then(|i| i.source().map(ToString::to_string));
        Ok(source)
    }

    async fn name(&mut self, this: Resource<HostImage>) -> wasmtime::Result<Option<String>> {
        let image = self.table.get(&this)?.image.clone();
        let name = lock(&image)
            .await
            .ok()
            .and_then(|i| i.name().map(ToString::to_string));
        Ok(name)
    }

    async fn set_name(&mut self, this: Resource<HostImage>, reference: String) -> HostResult<()> {
        check!(self, self.allow("RegistryEdit"));
        let r = check!(self, self.reference(&reference, "reference", true));
        let image = check!(self, self.image_of(&this)?);
        locked!(self, image).set_name(r);
        Ok(self.ended(Ok(()), 0))
    }

    async fn config(&mut self, this: Resource<HostImage>) -> HostResult<String> {
        let image = match self.image_of(&this)? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        let text = match lock(&image).await {
            Ok(i) => i.config().to_string(),
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(text))
    }

    async fn set_config(&mut self, this: Resource<HostImage>, config: String) -> HostResult<()> {
        check!(self, self.allow("RegistryEdit"));
        let value: Value = check!(
            self,
            serde_json::from_str(&config)
                .map_err(|e| WitError::InvalidArgument(format!("image config: not JSON: {e}")))
        );
        if let Some(labels) = value.pointer("/config/Labels") {
            check!(self, self.gate.check_labels(labels, "config.Labels"));
        }
        let image = check!(self, self.image_of(&this)?);
        let result = locked!(self, image).set_config(value).map_err(registry_error);
        Ok(self.ended(result, 0))
    }

    async fn edit(&mut self, this: Resource<HostImage>, edit: WitEdit) -> HostResult<()> {
        check!(self, self.allow("RegistryEdit"));
        let labels: serde_json::Map<String, Value> = edit
            .labels
            .iter()
            .map(|(k, _)| (k.clone(), Value::Null))
            .collect();
        check!(self, self.gate.check_labels(&Value::Object(labels), "labels"));
        let edit = ConfigEdit {
            env: edit.env,
            cmd: edit.cmd,
            entrypoint: edit.entrypoint,
            labels: edit.labels,
            workdir: edit.workdir,
            user: edit.user,
        };
        let image = check!(self, self.image_of(&this)?);
        let result = locked!(self, image).edit(&edit).map_err(registry_error);
        Ok(self.ended(result, 0))
    }

    async fn layers(&mut self, this: Resource<HostImage>) -> HostResult<Vec<WitLayer>> {
        let image = match self.image_of(&this)? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        let layers = match lock(&image).await {
            Ok(i) => i.layers(),
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(layers.into_iter().map(layer).collect()))
    }

    async fn add_layer_files(
        &mut self,
        this: Resource<HostImage>,
        files: Vec<FileEntry>,
        comment: String,
    ) -> HostResult<WitLayer> {
        check!(self, self.allow("RegistryEdit"));
        let bytes: u64 = files.iter().map(|f| f.contents.len() as u64 + 1024).sum();
        let staging = self.staging();
        check!(self, staging.charge(bytes));
        let files: Vec<(String, Vec<u8>, u32)> =
            files.into_iter().map(|f| (f.path, f.contents, f.mode)).collect();
        let image = check!(self, self.image_of(&this)?);
        let result = locked!(self, image)
            .add_layer_files(&files, &comment)
            .await
            .map(layer)
            .map_err(registry_error);
        if result.is_err() {
            staging.refund(bytes);
        }
        Ok(self.ended(result, 0))
    }

    async fn add_layer_dir(
        &mut self,
        this: Resource<HostImage>,
        host_dir: String,
        image_dir: String,
        comment: String,
    ) -> HostResult<WitLayer> {
        check!(self, self.allow("RegistryEdit"));
        self.target(&host_dir);
        let real = check!(self, self.gate.layer_dir(&host_dir, "host-dir"));
        let image = check!(self, self.image_of(&this)?);
        let mut guard = locked!(self, image);
        let staging = self.staging();
        let result = guard
            .add_layer_dir(&real, &image_dir, &comment)
            .await
            .map_err(registry_error)
            .and_then(|l| match staging.charge(l.size) {
                Ok(()) => Ok(l),
                Err(d) => {
                    // Over the budget: the layer is taken off again and nothing stays staged.
                    let last = guard.layers().len().saturating_sub(1);
                    let _ = guard.remove_layer(last);
                    Err(denied(d))
                }
            })
            .map(layer);
        drop(guard);
        Ok(self.ended(result, 0))
    }

    async fn remove_layer(&mut self, this: Resource<HostImage>, index: u32) -> HostResult<()> {
        check!(self, self.allow("RegistryEdit"));
        let image = check!(self, self.image_of(&this)?);
        let result = locked!(self, image)
            .remove_layer(index as usize)
            .map_err(registry_error);
        Ok(self.ended(result, 0))
    }

    async fn manifest_digest(&mut self, this: Resource<HostImage>) -> HostResult<String> {
        let image = match self.image_of(&this)? {
            Ok(i) => i,
            Err(e) => return Ok(Err(e)),
        };
        let digest = match lock(&image).await {
            Ok(i) => i.manifest_digest(),
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(digest))
    }

    async fn push(&mut self, this: Resource<HostImage>, reference: Option<String>) -> HostResult<WitPush> {
        check!(self, self.allow("RegistryPush"));
        let image = check!(self, self.image_of(&this)?);
        let snapshot: Image = locked!(self, image).clone();
        let target = check!(
            self,
            reference
                .or_else(|| snapshot.name().map(ToString::to_string))
                .ok_or_else(|| WitError::InvalidArgument(
                    "push: the image has no name; give a reference or call set-name".into()
                ))
        );
        self.target(&target);
        let dest = check!(self, self.reference(&target, "reference", true));
        let client = self.registry_client();
        let result = snapshot.push(&client, &dest).await.map_err(registry_error);
        let bytes = result.as_ref().map(|r| r.bytes_uploaded).unwrap_or(0);
        let report = check!(self, self.ended(result, bytes));
        Ok(Ok(WitPush {
            reference: dest.to_string(),
            manifest_digest: report.manifest_digest,
            manifest_size: report.manifest_size,
            blobs_uploaded: report.blobs_uploaded as u32,
            blobs_mounted: report.blobs_mounted as u32,
            blobs_skipped: report.blobs_skipped as u32,
            bytes_uploaded: report.bytes_uploaded,
        }))
    }

    async fn load(&mut self, this: Resource<HostImage>, e: Resource<HostEngine>) -> HostResult<String> {
        check!(self, self.allow("ImageLoad"));
        let image = check!(self, self.image_of(&this)?);
        let mut stamped: Image = locked!(self, image).clone();
        let name = check!(
            self,
            stamped
                .name()
                .map(ToString::to_string)
                .ok_or_else(|| WitError::InvalidArgument(
                    "load: the image has no name to load it under; call set-name first".into()
                ))
        );
        self.target(&name);
        check!(self, self.gate.image(&name, "name"));
        // The loaded image is the run's like everything it creates: its config carries the run's labels,
        // so cleanup finds it and the plugin may remove it. (A copy is stamped; the plugin's image is not.)
        let stamp = ConfigEdit {
            labels: self
                .gate
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            ..ConfigEdit::default()
        };
        if let Err(err) = stamped.edit(&stamp) {
            check!(self, Err(registry_error(err)));
        }
        let engine = self.client(&e)?;
        let client = self.registry_client();
        let upload = check!(
            self,
            engine
                .upload(Request::post("/images/load").content_type("application/x-tar"))
                .await
        );
        let (mut body, response) = upload.into_parts();
        let written = stamped.write_docker_archive(&client, &mut body).await;
        let answer = match written {
            Ok(()) => {
                let _ = body.shutdown().await;
                drop(body);
                response.bytes().await.map_err(super::error::wit_error)
            }
            Err(err) => {
                // A broken image must not reach the engine as a shorter tar: the request is aborted.
                response.abort();
                drop(body);
                Err(registry_error(err))
            }
        };
        let answer = answer.and_then(|text| load_messages(&text));
        let messages = check!(self, self.ended(answer, 0));
        self.images.insert(name);
        Ok(Ok(messages))
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
