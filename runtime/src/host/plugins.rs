//! `tug:engine/plugins`: the managed-plugin operations answered by one JSON document (or nothing). Every
//! call passes the policy gate: area access (`plugins`), and for writes the plugin rules
//! (`policy/rules_plugins.rs`): checked settings, what an enabled plugin would run with, registries.

use wasmtime::component::Resource;

use super::{
    bindings::{
        plugins::{self, DisableOptions, EnableOptions, ListOptions, RemoveOptions},
        types::AuthConfig,
    },
    error::{check, HostResult},
    query::{registry_auth, QueryExt},
    resources::HostEngine,
    state::HostState,
};
use crate::{engine::Request, policy::rules_plugins::plugin_path};

/// A plugin name or reference the host may put into a path: no empty, `.` or `..` parts.
pub(crate) fn plugin_name(name: &str, field: &str) -> Result<(), super::bindings::types::Error> {
    if name.is_empty() || name.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(super::bindings::types::Error::InvalidArgument(format!(
            "{field}: {name:?} is not a plugin name"
        )));
    }
    Ok(())
}

impl HostState {
    /// Begins a call on plugin `name`: area access, the audit target, a usable name.
    pub(crate) fn plugin_call(
        &mut self,
        operation: &'static str,
        name: &str,
    ) -> Result<(), super::bindings::types::Error> {
        use super::error::IntoWit;
        let allowed = self.allow(operation);
        self.target(name);
        let result = allowed
            .map_err(IntoWit::into_wit)
            .and_then(|()| plugin_name(name, "name"));
        if let Err(err) = &result {
            self.end_call(Some(err), 0);
        }
        result
    }
}

/// Unwraps `plugin_call` inside a host function.
macro_rules! plugin_call {
    ($self:ident, $op:expr, $name:expr) => {
        if let Err(err) = $self.plugin_call($op, &$name) {
            return Ok(Err(err));
        }
    };
}
pub(crate) use plugin_call;

impl plugins::Host for HostState {
    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("PluginList"));
        let req = Request::get("/plugins").filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }

    async fn privileges(
        &mut self,
        e: Resource<HostEngine>,
        remote: String,
        auth: Option<AuthConfig>,
    ) -> HostResult<String> {
        check!(self, self.allow("GetPluginPrivileges"));
        self.target(&remote);
        check!(self, self.gate.registry(&remote, "remote"));
        let req = Request::get("/plugins/privileges")
            .query("remote", remote)
            .header(
                http::HeaderName::from_static("x-registry-auth"),
                registry_auth(auth.as_ref()),
            );
        self.json_text(&e, req).await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        plugin_call!(self, "PluginInspect", name);
        self.json_text(&e, Request::get(plugin_path(&name, "/json")))
            .await
    }

    async fn remove(&mut self, e: Resource<HostEngine>, name: String, o: RemoveOptions) -> HostResult<()> {
        plugin_call!(self, "PluginDelete", name);
        let req = Request::delete(plugin_path(&name, "")).opt("force", o.force);
        self.json_unit(&e, req).await
    }

    async fn enable(&mut self, e: Resource<HostEngine>, name: String, o: EnableOptions) -> HostResult<()> {
        plugin_call!(self, "PluginEnable", name);
        let client = self.client(&e)?;
        check!(self, self.gate.plugin_enable(&client, &name).await);
        let req = Request::post(plugin_path(&name, "/enable")).opt("timeout", o.timeout);
        self.json_unit(&e, req).await
    }

    async fn disable(&mut self, e: Resource<HostEngine>, name: String, o: DisableOptions) -> HostResult<()> {
        plugin_call!(self, "PluginDisable", name);
        let req = Request::post(plugin_path(&name, "/disable")).opt("force", o.force);
        self.json_unit(&e, req).await
    }

    async fn set(&mut self, e: Resource<HostEngine>, name: String, settings: String) -> HostResult<()> {
        plugin_call!(self, "PluginSet", name);
        let client = self.client(&e)?;
        let body = check!(self, self.gate.plugin_set(&client, &name, &settings).await);
        self.json_unit(&e, Request::post(plugin_path(&name, "/set")).json_bytes(body))
            .await
    }
}
