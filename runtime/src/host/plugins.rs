//! `tug:engine/plugins`: the managed-plugin operations answered by one JSON document (or nothing). Every
//! call runs under a permit: area access (`plugins`), a usable plugin name, and for writes the plugin
//! rules (`policy/rules_plugins.rs`): checked settings, what an enabled plugin would run with, registries.

use wasmtime::component::Resource;

use super::{
    bindings::{
        plugins::{self, DisableOptions, EnableOptions, ListOptions, RemoveOptions},
        types::AuthConfig,
    },
    call::HostEngine,
    error::HostResult,
    query::{registry_auth, QueryExt},
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{rules_plugins::plugin_path, Op},
};

impl plugins::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::PluginList, &e, move |_, call| {
            Box::pin(async move {
                call.text(Request::get("/plugins").filters(o.filters.as_ref()))
                    .await
            })
        })
        .await
    }

    async fn privileges(
        &mut self,
        e: Resource<HostEngine>,
        remote: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        self.engine_call(Op::GetPluginPrivileges, &e, move |_, call| {
            Box::pin(async move {
                call.target(&remote);
                call.gate().registry(&remote, "remote")?;
                let req = Request::get("/plugins/privileges")
                    .query("remote", remote)
                    .header(
                        http::HeaderName::from_static("x-registry-auth"),
                        registry_auth(auth.as_ref()),
                    );
                call.text(req).await
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.engine_call(Op::PluginInspect, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                call.text(Request::get(plugin_path(&name, "/json"))).await
            })
        })
        .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, name: String, o: RemoveOptions) -> HostResult<()> {
        self.engine_call(Op::PluginDelete, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                call.unit(Request::delete(plugin_path(&name, "")).opt("force", o.force))
                    .await
            })
        })
        .await
    }

    async fn enable(&mut self, e: Resource<HostEngine>, name: String, o: EnableOptions) -> HostResult<()> {
        self.engine_call(Op::PluginEnable, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                let client = call.client()?.clone();
                call.gate().plugin_enable(&client, &name).await?;
                call.unit(Request::post(plugin_path(&name, "/enable")).opt("timeout", o.timeout))
                    .await
            })
        })
        .await
    }

    async fn disable(&mut self, e: Resource<HostEngine>, name: String, o: DisableOptions) -> HostResult<()> {
        self.engine_call(Op::PluginDisable, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                call.unit(Request::post(plugin_path(&name, "/disable")).opt("force", o.force))
                    .await
            })
        })
        .await
    }

    async fn set(&mut self, e: Resource<HostEngine>, name: String, settings: String) -> HostResult<()> {
        self.engine_call(Op::PluginSet, &e, move |_, call| {
            Box::pin(async move {
                let name = call.own(&name).await?;
                let client = call.client()?.clone();
                let body = call.gate().plugin_set(&client, &name, &settings).await?;
                call.unit(Request::post(plugin_path(&name, "/set")).json_bytes(body))
                    .await
            })
        })
        .await
    }
}
