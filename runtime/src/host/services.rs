//! `tug:engine/services` and `tug:engine/service-streams`: swarm services and their logs. Every call runs
//! under a permit: area access, the service resolved to the run's own by full id, the service rules of
//! `policy/rules_swarm.rs` on create and update bodies (row 27), lists narrowed to the run's services.

use wasmtime::component::Resource;

use super::{
    bindings::{
        service_streams::{self, LogsOptions},
        services::{self, InspectOptions, ListOptions, UpdateOptions},
        types::AuthConfig,
    },
    call::HostEngine,
    error::HostResult,
    query::{registry_auth, QueryExt},
    resources::HostFrameReader,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::{canonical::BodyKind, Op},
};

/// `/services/{id}{rest}`.
fn service_path(id: &str, rest: &str) -> String {
    format!("/services/{}{rest}", segment(id))
}

/// The query of a service's or a task's logs: the two interfaces' `logs-options` have the same fields.
macro_rules! swarm_logs {
    ($req:expr, $o:expr) => {
        $req.opt("details", $o.details)
            .opt("follow", $o.follow)
            .opt("stdout", $o.stdout)
            .opt("stderr", $o.stderr)
            .opt("since", $o.since)
            .opt("timestamps", $o.timestamps)
            .opt("tail", $o.tail)
    };
}
pub(crate) use swarm_logs;

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

impl services::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::ServiceList, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                let req = Request::get("/services")
                    .filters(filters.as_ref())
                    .opt("status", o.status);
                let list = call.text(req).await?;
                Ok(call.gate().keep_owned(list, &["Spec", "Labels"]))
            })
        })
        .await
    }

    async fn create(
        &mut self,
        e: Resource<HostEngine>,
        spec: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        self.engine_call(Op::ServiceCreate, &e, move |_, call| {
            Box::pin(async move {
                let client = call.client()?.clone();
                let body = call
                    .gate()
                    .service_spec(&client, BodyKind::ServiceCreate, &spec)
                    .await?;
                call.gate().service_quota(&client, &body, None).await?;
                let req = with_auth(Request::post("/services/create"), auth.as_ref()).json_bytes(body);
                call.text(req).await
            })
        })
        .await
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::ServiceInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let req = Request::get(service_path(&id, "")).opt("insertDefaults", o.insert_defaults);
                call.text(req).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::ServiceDelete, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                call.unit(Request::delete(service_path(&id, ""))).await
            })
        })
        .await
    }

    async fn update(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        spec: String,
        o: UpdateOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        self.engine_call(Op::ServiceUpdate, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&id).await?;
                let client = call.client()?.clone();
                let body = call
                    .gate()
                    .service_spec(&client, BodyKind::ServiceUpdate, &spec)
                    .await?;
                call.gate().service_quota(&client, &body, Some(&id)).await?;
                let req = Request::post(service_path(&id, "/update"))
                    .query("version", o.version)
                    .opt("registryAuthFrom", o.registry_auth_from)
                    .opt("rollback", o.rollback);
                call.text(with_auth(req, auth.as_ref()).json_bytes(body)).await
            })
        })
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
        let r = self
            .engine_call(Op::ServiceLogs, &e, move |_, call| {
                Box::pin(async move {
                    let service = call.resolve(&id).await?;
                    // Raw bytes only when the service's containers have a TTY, as docker-py finds out.
                    let tty = service.doc["Spec"]["TaskTemplate"]["ContainerSpec"]["TTY"]
                        .as_bool()
                        .unwrap_or(false);
                    call.frames(
                        swarm_logs!(Request::get(service_path(&service.id, "/logs")), o),
                        tty,
                    )
                    .await
                })
            })
            .await;
        self.hand_out(r)
    }
}
