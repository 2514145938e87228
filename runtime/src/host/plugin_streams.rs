//! `tug:engine/plugin-streams`: pull, upgrade and push (JSON progress streams, whatever the 1.41 spec says)
//! and create (an uploaded tar). The references must name registries the policy allows; the privileges a
//! pull or upgrade accepts are canonical and checked (`policy/rules_plugins.rs`).

use wasmtime::component::Resource;

use super::{
    bindings::{
        plugin_streams::{self, PullOptions},
        types::AuthConfig,
    },
    error::{check, HostResult},
    plugins::{plugin_call, plugin_name},
    query::{registry_auth, QueryExt},
    resources::{HostEngine, HostJsonStream, HostUpload},
    state::HostState,
};
use crate::{engine::Request, policy::rules_plugins::plugin_path};

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
        check!(self, self.allow("PluginPull"));
        self.target(&remote);
        check!(self, self.gate.registry(&remote, "remote"));
        if let Some(name) = &o.name {
            check!(self, plugin_name(name, "name"));
        }
        let body = check!(self, self.gate.plugin_privileges(&privileges));
        let (header, value) = auth_header(auth.as_ref());
        let req = Request::post("/plugins/pull")
            .query("remote", remote)
            .opt("name", o.name)
            .header(header, value)
            .json_bytes(body);
        self.json_stream(&e, req).await
    }

    async fn upgrade(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        remote: String,
        privileges: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        plugin_call!(self, "PluginUpgrade", name);
        check!(self, self.gate.registry(&remote, "remote"));
        let body = check!(self, self.gate.plugin_privileges(&privileges));
        let (header, value) = auth_header(auth.as_ref());
        let req = Request::post(plugin_path(&name, "/upgrade"))
            .query("remote", remote)
            .header(header, value)
            .json_bytes(body);
        self.json_stream(&e, req).await
    }

    async fn push(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        plugin_call!(self, "PluginPush", name);
        check!(self, self.gate.registry(&name, "name"));
        let (header, value) = auth_header(auth.as_ref());
        let req = Request::post(plugin_path(&name, "/push")).header(header, value);
        self.json_stream(&e, req).await
    }

    async fn create(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<Resource<HostUpload>> {
        plugin_call!(self, "PluginCreate", name);
        check!(self, self.gate.registry(&name, "name"));
        let req = Request::post("/plugins/create")
            .query("name", name)
            .content_type("application/x-tar");
        self.upload(&e, req).await
    }
}
