//! `tug:engine/services` and `tug:engine/service-streams`: swarm services and their logs. Every call
//! passes the policy gate: area access, ownership of the target service (its labels), the service rules
//! of `policy/rules_swarm.rs` on create and update bodies (row 27), lists narrowed to the run's services.

use serde_json::Value;
use wasmtime::component::Resource;

use super::{
    bindings::{
        service_streams::{self, LogsOptions},
        services::{self, InspectOptions, ListOptions, UpdateOptions},
        types::{AuthConfig, Error as WitError},
    },
    error::{check, wit_error, HostResult, IntoWit},
    query::{registry_auth, QueryExt},
    resources::{Frames, HostEngine, HostFrameReader},
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, rules_swarm::SwarmObject},
};

/// `/services/{id}{rest}`.
fn service_path(id: &str, rest: &str) -> String {
    format!("/services/{}{rest}", segment(id))
}

/// Adds the `X-Registry-Auth` header when the plugin gave credentials (without it, an update takes them
/// from `registryAuthFrom`).
pub(crate) fn with_auth(req: Request, auth: Option<&AuthConfig>) -> Request {
    match auth {
        Some(a) => req.header(
            http::HeaderName::from_static("x-registry-auth"),
            registry_auth(Some(a)),
        ),
        None => req,
    }
}

impl HostState {
    /// Checks an operation on a service, secret or config and returns the object's full id and inspect
    /// document (the run must own it).
    pub(crate) async fn own_swarm_object(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        kind: SwarmObject,
        id: &str,
    ) -> wasmtime::Result<Result<(String, Value), WitError>> {
        let allowed = self.allow(operation);
        self.target(id);
        if let Err(d) = allowed {
            return Ok(self.ended(Err(d.into_wit()), 0));
        }
        let client = self.client(e)?;
        let owned = self
            .gate
            .swarm_object(&client, kind, id, "id")
            .await
            .map_err(IntoWit::into_wit);
        if owned.is_err() {
            return Ok(self.ended(owned, 0));
        }
        Ok(owned)
    }

    /// Hands a `multiplexed` download (service or task logs) to the plugin as a frame reader.
    pub(crate) async fn frame_reader(
        &mut self,
        e: &Resource<HostEngine>,
        req: Request,
        tty: bool,
    ) -> HostResult<Resource<HostFrameReader>> {
        let client = self.client(e)?;
        let result = client.download(req).await.map_err(wit_error);
        match self.ended(result, 0) {
            Ok(dl) => Ok(Ok(self
                .table
                .push(HostFrameReader(Frames::new(Box::new(dl.body), tty)))?)),
            Err(err) => Ok(Err(err)),
        }
    }
}

/// Unwraps `own_swarm_object`'s answer inside a host function.
macro_rules! own_object {
    ($self:ident, $e:expr, $op:expr, $kind:expr, $id:expr) => {
        match $self.own_swarm_object(&$e, $op, $kind, &$id).await? {
            Ok(found) => found,
            Err(err) => return Ok(Err(err)),
        }
    };
}
pub(crate) use own_object;

impl services::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("ServiceList"));
        let filters = self.gate.scope_filters(o.filters);
        let req = Request::get("/services")
            .filters(filters.as_ref())
            .opt("status", o.status);
        self.json_text(&e, req).await
    }

    async fn create(
        &mut self,
        e: Resource<HostEngine>,
        spec: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        check!(self, self.allow("ServiceCreate"));
        let client = self.client(&e)?;
        let body = check!(
            self,
            self.gate
                .service_spec(&client, BodyKind::ServiceCreate, &spec)
                .await
        );
        let req = with_auth(Request::post("/services/create"), auth.as_ref()).json_bytes(body);
        self.json_text(&e, req).await
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        let (id, _) = own_object!(self, e, "ServiceInspect", SwarmObject::Service, id);
        let req = Request::get(service_path(&id, "")).opt("insertDefaults", o.insert_defaults);
        self.json_text(&e, req).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let (id, _) = own_object!(self, e, "ServiceDelete", SwarmObject::Service, id);
        self.json_unit(&e, Request::delete(service_path(&id, ""))).await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        let (id, _) = own_object!(self, e, "ServiceUpdate", SwarmObject::Service, id);
        let client = self.client(&e)?;
        let body = check!(
            self,
            self.gate
                .service_spec(&client, BodyKind::ServiceUpdate, &spec)
                .await
        );
        let req = Request::post(service_path(&id, "/update"))
            .query("version", o.version)
            .opt("registryAuthFrom", o.registry_auth_from)
            .opt("rollback", o.rollback);
        self.json_text(&e, with_auth(req, auth.as_ref()).json_bytes(body))
            .await
    }
}

impl service_streams::Host for HostState {
    async fn logs(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: LogsOptions,
    ) -> HostResult<Resource<HostFrameReader>> {
        let (id, service) = own_object!(self, e, "ServiceLogs", SwarmObject::Service, id);
        // Raw bytes only when the service's containers have a TTY, as docker-py finds out.
        let tty = service["Spec"]["TaskTemplate"]["ContainerSpec"]["TTY"]
            .as_bool()
            .unwrap_or(false);
        let req = Request::get(service_path(&id, "/logs"))
            .opt("details", o.details)
            .opt("follow", o.follow)
            .opt("stdout", o.stdout)
            .opt("stderr", o.stderr)
            .opt("since", o.since)
            .opt("timestamps", o.timestamps)
            .opt("tail", o.tail);
        self.frame_reader(&e, req, tty).await
    }
}
