//! `tug:engine/networks`. Every call passes the policy gate: area access, ownership of the network (and of
//! the container a connect or disconnect names), checked create bodies, scoped lists.

use wasmtime::component::Resource;

use super::{
    bindings::{
        networks::{self, InspectOptions, ListOptions, PruneOptions},
        types::Error as WitError,
    },
    error::{check, HostResult, IntoWit},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::canonical::BodyKind,
};

/// `/networks/{id}{rest}`.
fn network_path(id: &str, rest: &str) -> String {
    format!("/networks/{}{rest}", segment(id))
}

impl HostState {
    /// Checks an operation on a network and returns the network's full id (the run must own it).
    async fn own_network(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        id: &str,
    ) -> wasmtime::Result<Result<String, WitError>> {
        let allowed = self.allow(operation);
        self.target(id);
        if let Err(d) = allowed {
            return Ok(self.ended(Err(d.into_wit()), 0));
        }
        let client = self.client(e)?;
        let owned = self
            .gate
            .own_network(&client, id, "id")
            .await
            .map_err(IntoWit::into_wit);
        if owned.is_err() {
            return Ok(self.ended(owned, 0));
        }
        Ok(owned)
    }
}

/// Unwraps `own_network`'s answer inside a host function.
macro_rules! own_network {
    ($self:ident, $e:expr, $op:expr, $id:expr) => {
        match $self.own_network(&$e, $op, &$id).await? {
            Ok(full) => full,
            Err(err) => return Ok(Err(err)),
        }
    };
}

impl networks::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("NetworkList"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::get("/networks").filters(filters.as_ref()))
            .await
    }

    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        id: String,
        o: InspectOptions,
    ) -> HostResult<String> {
        let id = own_network!(self, e, "NetworkInspect", id);
        let req = Request::get(network_path(&id, ""))
            .opt("verbose", o.verbose)
            .opt("scope", o.scope);
        self.json_text(&e, req).await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        let id = own_network!(self, e, "NetworkDelete", id);
        self.json_unit(&e, Request::delete(network_path(&id, ""))).await
    }

    async fn create(&mut self, e: Resource<HostEngine>, config: String) -> HostResult<String> {
        check!(self, self.allow("NetworkCreate"));
        let client = self.client(&e)?;
        let body = check!(self, self.gate.network_create(&client, &config).await);
        self.json_text(&e, Request::post("/networks/create").json_bytes(body))
            .await
    }

    async fn connect(&mut self, e: Resource<HostEngine>, id: String, request: String) -> HostResult<()> {
        let id = own_network!(self, e, "NetworkConnect", id);
        let client = self.client(&e)?;
        let body = check!(
            self,
            self.gate
                .network_endpoint(&client, BodyKind::NetworkConnect, &request)
                .await
        );
        self.json_unit(&e, Request::post(network_path(&id, "/connect")).json_bytes(body))
            .await
    }

    async fn disconnect(&mut self, e: Resource<HostEngine>, id: String, request: String) -> HostResult<()> {
        let id = own_network!(self, e, "NetworkDisconnect", id);
        let client = self.client(&e)?;
        let body = check!(
            self,
            self.gate
                .network_endpoint(&client, BodyKind::NetworkDisconnect, &request)
                .await
        );
        self.json_unit(
            &e,
            Request::post(network_path(&id, "/disconnect")).json_bytes(body),
        )
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        check!(self, self.allow("NetworkPrune"));
        let filters = self.gate.scope_filters(o.filters);
        self.json_text(&e, Request::post("/networks/prune").filters(filters.as_ref()))
            .await
    }
}
