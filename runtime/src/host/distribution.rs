//! `tug:engine/distribution`: what a registry says about an image, through the daemon.

use wasmtime::component::Resource;

use super::{
    bindings::{distribution, types::AuthConfig},
    call::HostEngine,
    error::HostResult,
    query::registry_auth,
    state::HostState,
};
use crate::{
    engine::{segment, Request},
    policy::Op,
};

impl distribution::Host for HostState {
    async fn inspect(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        self.engine_call(Op::DistributionInspect, &e, move |_, call| {
            Box::pin(async move {
                call.target(&name);
                call.gate().registry(&name, "name")?;
                crate::policy::ownership::bounded(&name, "name")?;
                let encoded: Vec<String> = name.split('/').map(segment).collect();
                let req = Request::get(format!("/distribution/{}/json", encoded.join("/"))).header(
                    http::HeaderName::from_static("x-registry-auth"),
                    registry_auth(auth.as_ref()),
                );
                call.text(req).await
            })
        })
        .await
    }
}
