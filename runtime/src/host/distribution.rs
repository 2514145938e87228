//! `tug:engine/distribution`: what a registry says about an image, through the daemon.

use wasmtime::component::Resource;

use super::{
    bindings::{distribution, types::AuthConfig},
    error::{check, HostResult},
    query::registry_auth,
    resources::HostEngine,
    state::HostState,
};
use crate::engine::{segment, Request};

impl distribution::Host for HostState {
    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        check!(self, self.allow("DistributionInspect"));
        check!(self, self.gate.registry(&name, "name"));
        let encoded: Vec<String> = name.split('/').map(segment).collect();
        let req = Request::get(format!("/distribution/{}/json", encoded.join("/"))).header(
            http::HeaderName::from_static("x-registry-auth"),
            registry_auth(auth.as_ref()),
        );
        self.json_text(&e, req).await
    }
}
