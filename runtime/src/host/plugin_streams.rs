//! `tug:engine/plugin-streams`: pull, upgrade and push (JSON progress streams, whatever the 1.41 spec says)
//! and create (an uploaded tar). The references must name registries the policy allows; the privileges a
//! pull or upgrade accepts are canonical and checked (`policy/rules_plugins.rs`).

use wasmtime::component::Resource;

use super::{
    bindings::{
        plugin_streams::{self, PullOptions},
        types::AuthConfig,
    },
    call::HostEngine,
    error::HostResult,
    query::{registry_auth, QueryExt},
    resources::{HostJsonStream, HostUpload},
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{ownership::plugin_name, rules_plugins::plugin_path, Op},
};

fn auth_header(auth: Option<&AuthConfig>) -> (http::HeaderName, http::HeaderValue) {
    (
        http::HeaderName::from_static("x-registry-auth"),
        registry_auth(auth),
    )
}

impl plugin_streams::Host for HostState {
    async fn pull(
        &mut self,
        e: Resource<HostEngine>,
        remote: String,
        privileges: String,
        o: PullOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::PluginPull, &e, move |_, call| {
                Box::pin(async move {
                    call.target(&remote);
                    call.gate().registry(&remote, "remote")?;
                    if let Some(name) = &o.name {
                        plugin_name(name, "name")?;
                    }
                    let body = call.gate().plugin_privileges(&privileges)?;
                    let (header, value) = auth_header(auth.as_ref());
                    let req = Request::post("/plugins/pull")
                        .query("remote", remote)
                        .opt("name", o.name)
                        .header(header, value)
                        .json_bytes(body);
                    Ok(HostJsonStream::new(call.json_stream(req).await?).tapped(call.tap()))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn upgrade(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        remote: String,
        privileges: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::PluginUpgrade, &e, move |_, call| {
                Box::pin(async move {
                    let name = call.own(&name).await?;
                    call.gate().registry(&remote, "remote")?;
                    let body = call.gate().plugin_privileges(&privileges)?;
                    let (header, value) = auth_header(auth.as_ref());
                    let req = Request::post(plugin_path(&name, "/upgrade"))
                        .query("remote", remote)
                        .header(header, value)
                        .json_bytes(body);
                    Ok(HostJsonStream::new(call.json_stream(req).await?).tapped(call.tap()))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn push(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::PluginPush, &e, move |_, call| {
                Box::pin(async move {
                    let name = call.own(&name).await?;
                    call.gate().registry(&name, "name")?;
                    let (header, value) = auth_header(auth.as_ref());
                    let req = Request::post(plugin_path(&name, "/push")).header(header, value);
                    Ok(HostJsonStream::new(call.json_stream(req).await?).tapped(call.tap()))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn create(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<Resource<HostUpload>> {
        let r = self
            .engine_call(Op::PluginCreate, &e, move |_, call| {
                Box::pin(async move {
                    let name = call.own(&name).await?;
                    call.gate().registry(&name, "name")?;
                    let req = Request::post("/plugins/create")
                        .query("name", name)
                        .content_type("application/x-tar");
                    let up = call.upload(req).await?;
                    Ok(HostUpload::new(up, Some(call.defer())))
                })
            })
            .await;
        self.hand_out(r)
    }
}
