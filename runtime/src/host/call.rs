//! The permit: the one way host code reaches an engine or a registry.
//!
//! An engine handle ([`HostEngine`]) and the run's registry client keep their clients private to this
//! module. A host function gets to them only by asking the gate for its operation ([`Op`], a row of
//! `wit/operations.tsv`) through [`HostState::engine_call`], [`HostState::registry_call`] or
//! [`HostState::local_call`]: the gate checks the area first, and the function's body runs with a
//! [`Call`], the permit, which hands out the client and resolves every name the plugin gives to the full
//! id the gate checked. When the body returns — answer, denial or error alike — the permit writes the
//! call's audit line; a permit dropped unfinished (the run's deadline cancelled the call) writes one too.
//! Host code returns `Result<T, WitError>` and uses `?`: engine, registry and gate errors convert at this
//! one edge (`host/error.rs`).

use std::{
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock},
    time::Instant,
};

use wasmtime::component::Resource;

use super::{
    bindings::types::Error as WitError,
    error::HostResult,
    resources::{Frames, HostFrameReader},
    state::HostState,
};
use crate::{
    engine::{BodyReader, Client, Download, JsonStream, Request, Upload},
    policy::{
        audit::{AuditEntry, Decision},
        operations::{Op, Target},
        ownership::Resolved,
        Gate,
    },
    registry::{Credentials, Registry, RegistryOptions},
};

/// An engine the plugin holds a handle to: the capability every Engine API function takes. Its client is
/// reachable only through a [`Call`], which checks every call against the engine's own gate.
#[derive(Clone)]
pub struct HostEngine {
    name: Arc<str>,
    engine: RunEngine,
}

impl HostEngine {
    /// The name tug knows the engine by.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// One engine of a run: its client and the gate its calls pass (the policy it is held to, the objects
/// the run made on it, its quotas).
#[derive(Clone)]
pub struct RunEngine {
    client: Client,
    gate: Arc<Gate>,
}

impl RunEngine {
    /// An engine reached by `client` whose calls pass `gate`.
    pub fn new(client: Client, gate: Arc<Gate>) -> Self {
        RunEngine { client, gate }
    }

    /// Its client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Its gate.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }
}

/// The engines a run was given, by name (`default`: the one `tug run` was given).
#[derive(Clone, Default)]
pub struct Engines(BTreeMap<String, RunEngine>);

impl Engines {
    /// The engines of a run.
    pub fn new(engines: BTreeMap<String, RunEngine>) -> Self {
        Engines(engines)
    }

    /// A handle to the engine of that name, if the run was given one.
    pub fn open(&self, name: &str) -> Option<HostEngine> {
        self.0.get(name).map(|engine| HostEngine {
            name: name.into(),
            engine: engine.clone(),
        })
    }

    /// The names of the engines.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// The per-run state of the `registry` interface: its client (made on first use, with the host's
/// credentials, which never reach the plugin).
#[derive(Default)]
pub struct RegistryState {
    client: OnceLock<Registry>,
}

impl RegistryState {
    /// A state whose client is `client` (for callers that configure credentials or insecure registries
    /// themselves).
    pub fn with_client(client: Registry) -> Self {
        let state = RegistryState::default();
        let _ = state.client.set(client);
        state
    }

    fn client(&self) -> Registry {
        self.client
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

    /// The `X-Registry-Auth` header for an engine pull or push from `registry` for which the plugin gave
    /// no credentials: the host's (docker `config.json`, credential helpers), which the plugin never
    /// sees; `{}` (anonymous) when the host has none.
    pub async fn engine_auth(&self, registry: &str) -> http::HeaderValue {
        match self.client().engine_auth(registry).await {
            Some(doc) => super::query::registry_auth_json(&doc),
            None => super::query::registry_auth(None),
        }
    }

    /// Transfer counters of the run's registry client (zero before its first use).
    pub fn stats(&self) -> crate::registry::TransferStats {
        self.client.get().map(Registry::stats).unwrap_or_default()
    }
}

/// The body of a gated host function: it borrows the host state and the permit for as long as it runs.
pub type CallBody<'a, T> = Pin<Box<dyn Future<Output = Result<T, WitError>> + Send + 'a>>;

/// A permit for one call of one operation. See the module documentation.
pub struct Call {
    op: Op,
    gate: Arc<Gate>,
    /// The engine's name, for an error that comes from reaching it.
    engine: Option<Arc<str>>,
    observers: super::observe::Observers,
    plugin: Arc<str>,
    target: Option<String>,
    start: Instant,
    client: Option<Client>,
    registry: Option<Registry>,
    bytes: u64,
    recorded: bool,
}

impl Call {
    /// The operation this permit is for.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The run's gate.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The run's gate, to hand to a stream that confirms what the call made once it ends well.
    pub fn gate_arc(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    /// The engine client: only an engine call has one.
    pub fn client(&self) -> Result<&Client, WitError> {
        self.client
            .as_ref()
            .ok_or_else(|| WitError::Transport(format!("{} reaches no engine", self.op.id())))
    }

    /// The registry client: only a registry call has one.
    pub fn registry(&self) -> Result<&Registry, WitError> {
        self.registry
            .as_ref()
            .ok_or_else(|| WitError::Transport(format!("{} reaches no registry", self.op.id())))
    }

    /// Names the object the call is about, for its audit line.
    pub fn target(&mut self, target: &str) {
        self.target = Some(target.to_owned());
    }

    /// The taps of the observers that watch this call's stream (progress shown from it), if any.
    pub fn tap(&self) -> Option<super::observe::Tap> {
        super::observe::Tap::of(&self.observers, self.op, self.target.as_deref())
    }

    /// Records the size of the answer, for the audit line.
    pub fn bytes(&mut self, bytes: u64) {
        self.bytes = bytes;
    }

    /// Resolves the name, id or id prefix the plugin gave for the operation's target (its kind comes
    /// from the operation table) and checks that the run may use it; returns what the gate found: the full
    /// id, which alone is forwarded, and the object's inspect document when the check read it.
    pub async fn resolve(&mut self, name: &str) -> Result<Resolved, WitError> {
        self.target(name);
        let client = self.client()?.clone();
        // The parameter's name in the WIT, for a denial's field.
        let field = match self.op.target() {
            _ if self.op == Op::ImageCommit => "container",
            Target::Volume | Target::Image | Target::Plugin => "name",
            _ => "id",
        };
        Ok(self.gate.resolve(&client, self.op, name, field).await?)
    }

    /// [`Call::resolve`], keeping only the full id.
    pub async fn own(&mut self, name: &str) -> Result<String, WitError> {
        Ok(self.resolve(name).await?.id)
    }

    /// Sends a request whose answer is one JSON document, returned as text.
    pub async fn text(&mut self, req: Request) -> Result<String, WitError> {
        let answer = self.client()?.call(req).await?;
        let text = super::types_impl::text(answer.into_body());
        self.bytes = text.len() as u64;
        Ok(text)
    }

    /// Sends a request whose answer is discarded.
    pub async fn unit(&mut self, req: Request) -> Result<(), WitError> {
        self.client()?.call(req).await?;
        Ok(())
    }

    /// Sends a request whose answer is a stream of JSON documents.
    pub async fn json_stream(&mut self, req: Request) -> Result<JsonStream<BodyReader>, WitError> {
        Ok(self.client()?.json_stream(req).await?)
    }

    /// Sends a request whose answer is a byte stream (an archive, an export, logs).
    pub async fn download(&mut self, req: Request) -> Result<Download, WitError> {
        Ok(self.client()?.download(req).await?)
    }

    /// Sends a request whose answer is a process's output (logs), as a frame reader (raw bytes when the
    /// process has a TTY).
    pub async fn frames(&mut self, req: Request, tty: bool) -> Result<HostFrameReader, WitError> {
        let dl = self.download(req).await?;
        Ok(HostFrameReader(Frames::new(Box::new(dl.body), tty)))
    }

    /// Starts a request whose body the plugin streams.
    pub async fn upload(&mut self, req: Request) -> Result<Upload, WitError> {
        Ok(self.client()?.upload(req).await?)
    }

    /// Hands this call's audit line over to a permit that lives on in a handle (an upload, whose answer
    /// comes at `finish`): this permit writes nothing more, the returned one writes the line when it ends.
    pub fn defer(&mut self) -> Call {
        self.recorded = true;
        Call {
            op: self.op,
            gate: self.gate.clone(),
            engine: self.engine.clone(),
            observers: self.observers.clone(),
            plugin: self.plugin.clone(),
            target: self.target.clone(),
            start: self.start,
            client: self.client.clone(),
            registry: self.registry.clone(),
            bytes: 0,
            recorded: false,
        }
    }

    fn record(&mut self, error: Option<&WitError>, cancelled: bool) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        if self.observers.is_empty() {
            return;
        }
        let message = match error {
            Some(e) => Some(error_text(e)),
            None if cancelled => Some("cancelled: the run ended before the call finished".to_owned()),
            None => None,
        };
        let decision = match error {
            Some(WitError::Denied(d)) => Decision::Deny {
                rule: &d.rule,
                field: d.field.as_deref(),
                reason: &d.reason,
            },
            _ => Decision::Allow,
        };
        let denied = matches!(decision, Decision::Deny { .. });
        let entry = AuditEntry {
            plugin: &self.plugin,
            run: &self.gate.run_id,
            operation: self.op.id(),
            engine: self.engine.as_deref(),
            target: self.target.as_deref(),
            decision,
            duration: self.start.elapsed(),
            bytes: self.bytes,
            error: if denied { None } else { message.as_deref() },
        };
        for o in self.observers.iter() {
            o.call(&entry);
        }
    }

    /// Ends the call with its result: one audit line (a denial names its rule and field; an error is
    /// recorded as the engine or registry gave it), and the result passed on. An engine that could not
    /// be reached or did not answer in time is named in the error (`engine NAME: …`): a run may hold
    /// several.
    pub fn end<T>(mut self, result: Result<T, WitError>) -> Result<T, WitError> {
        let result = match (result, &self.engine) {
            (Err(WitError::Transport(m)), Some(name)) => Err(WitError::Transport(name_engine(name, m))),
            (Err(WitError::Timeout(m)), Some(name)) => Err(WitError::Timeout(name_engine(name, m))),
            (r, _) => r,
        };
        self.record(result.as_ref().err(), false);
        result
    }
}

/// `engine NAME: message` (without the engine client's own `transport: `, which the error's case
/// says), unless the message already names the engine.
fn name_engine(name: &str, message: String) -> String {
    let prefix = format!("engine {name}: ");
    if message.contains(&prefix) {
        return message;
    }
    prefix + message.strip_prefix("transport: ").unwrap_or(&message)
}

/// A call's error for its record: the WIT case and the message as it came, unescaped, so the masker
/// finds a secret in it whatever characters the secret holds (`Debug` would escape `"` and `\`).
fn error_text(e: &WitError) -> String {
    match e {
        WitError::NotFound(m) => format!("NotFound: {m}"),
        WitError::Conflict(m) => format!("Conflict: {m}"),
        WitError::BadRequest(m) => format!("BadRequest: {m}"),
        WitError::NotModified => "NotModified".to_owned(),
        WitError::Denied(d) => format!("Denied: {} ({})", d.reason, d.rule),
        WitError::Api(a) => format!("Api: {} {}", a.status, a.message),
        WitError::Transport(m) => format!("Transport: {m}"),
        WitError::Timeout(m) => format!("Timeout: {m}"),
        WitError::ApiVersion(m) => format!("ApiVersion: {m}"),
        WitError::InvalidArgument(m) => format!("InvalidArgument: {m}"),
        WitError::Integrity(m) => format!("Integrity: {m}"),
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Dropped before `end`: the run's deadline (or its end) cancelled the call while it waited.
        self.record(None, true);
    }
}

/// Where a call goes.
enum Reach<'a> {
    Engine(&'a HostEngine),
    EngineAndRegistry(&'a HostEngine),
    Registry,
    Local,
}

impl HostState {
    /// A permit for `op`: an engine's call passes that engine's gate, the others the run's.
    fn begin(&self, op: Op, reach: Reach<'_>) -> Call {
        let (engine, registry) = match reach {
            Reach::Engine(e) => (Some(e), None),
            Reach::EngineAndRegistry(e) => (Some(e), Some(self.registry.client())),
            Reach::Registry => (None, Some(self.registry.client())),
            Reach::Local => (None, None),
        };
        Call {
            op,
            gate: engine.map_or_else(|| self.gate.clone(), |e| e.engine.gate.clone()),
            engine: engine.map(|e| e.name.clone()),
            observers: self.observers.clone(),
            plugin: self.plugin.clone(),
            target: None,
            start: Instant::now(),
            client: engine.map(|e| e.engine.client.clone()),
            registry,
            bytes: 0,
            recorded: false,
        }
    }

    async fn gated<T, F>(&mut self, mut call: Call, body: F) -> HostResult<T>
    where
        F: for<'a> FnOnce(&'a mut HostState, &'a mut Call) -> CallBody<'a, T>,
    {
        let result = match call.gate.allow(call.op) {
            Ok(()) => body(self, &mut call).await,
            Err(denial) => Err(denial.into()),
        };
        Ok(call.end(result))
    }

    /// Runs `body` as operation `op` on engine `e`, if the policy grants it: the permit gives `body` the
    /// engine's client. A handle that is not the plugin's traps.
    pub async fn engine_call<T, F>(&mut self, op: Op, e: &Resource<HostEngine>, body: F) -> HostResult<T>
    where
        F: for<'a> FnOnce(&'a mut HostState, &'a mut Call) -> CallBody<'a, T>,
    {
        let engine = self.table.get(e)?.clone();
        let call = self.begin(op, Reach::Engine(&engine));
        self.gated(call, body).await
    }

    /// Runs `body` as operation `op` on engine `e` with what it takes from a registry too (an image the
    /// registry interface holds, loaded into an engine with its lazy layers): the permit gives `body` both
    /// clients.
    pub async fn engine_registry_call<T, F>(
        &mut self,
        op: Op,
        e: &Resource<HostEngine>,
        body: F,
    ) -> HostResult<T>
    where
        F: for<'a> FnOnce(&'a mut HostState, &'a mut Call) -> CallBody<'a, T>,
    {
        let engine = self.table.get(e)?.clone();
        let call = self.begin(op, Reach::EngineAndRegistry(&engine));
        self.gated(call, body).await
    }

    /// Runs `body` as the daemonless operation `op` that reaches a registry, if the policy grants it: the
    /// permit gives `body` the run's registry client.
    pub async fn registry_call<T, F>(&mut self, op: Op, body: F) -> HostResult<T>
    where
        F: for<'a> FnOnce(&'a mut HostState, &'a mut Call) -> CallBody<'a, T>,
    {
        let call = self.begin(op, Reach::Registry);
        self.gated(call, body).await
    }

    /// Runs `body` as the operation `op` on what the host holds (an image being edited), if the policy
    /// grants it: the permit reaches neither an engine nor a registry.
    pub async fn local_call<T, F>(&mut self, op: Op, body: F) -> HostResult<T>
    where
        F: for<'a> FnOnce(&'a mut HostState, &'a mut Call) -> CallBody<'a, T>,
    {
        let call = self.begin(op, Reach::Local);
        self.gated(call, body).await
    }

    /// Puts what a permitted call produced into the resource table as the plugin's handle (a full table,
    /// the run's handle limit, traps).
    pub fn hand_out<T: Send + 'static>(&mut self, r: HostResult<T>) -> HostResult<Resource<T>> {
        match r? {
            Ok(v) => Ok(Ok(self.table.push(v)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Opens a handle to an engine the run was given (the policy decides which, by name).
    pub fn open_engine(&mut self, name: &str) -> Option<HostEngine> {
        self.engines.open(name)
    }
}

/// An engine capability and the operation to re-ask the gate for, kept by a handle whose methods reach
/// the engine again (an attached socket's `resize`).
#[derive(Clone)]
pub struct Reentry {
    engine: HostEngine,
    op: Op,
    path: String,
    target: String,
}

impl Reentry {
    /// Operation `op` on `path` (already resolved to the full id `target`) of `engine`.
    pub fn new(engine: &HostEngine, op: Op, target: &str, path: String) -> Self {
        Reentry {
            engine: engine.clone(),
            op,
            path,
            target: target.to_owned(),
        }
    }

    /// A permit for the operation, if the policy (still) grants it.
    pub(crate) fn call(&self, state: &HostState) -> Result<(Call, String), WitError> {
        let mut call = state.begin(self.op, Reach::Engine(&self.engine));
        call.target(&self.target);
        match call.gate.allow(self.op) {
            Ok(()) => Ok((call, self.path.clone())),
            Err(d) => Err(call.end::<()>(Err(d.into())).unwrap_err()),
        }
    }
}
