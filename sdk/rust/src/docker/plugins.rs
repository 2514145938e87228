//! [`Plugins`] and [`Plugin`]: the engine's managed plugins, over `plugins` and `plugin-streams`.
//!
//! The progress of a pull, upgrade or push is Docker's JSON progress messages, read as
//! [`CreateImageInfo`] (the spec's type of that shape: `id`, `status`, `progress`, `error`; a push's
//! `aux` is in `extra`).

use super::{parse, short_id, to_json, Docker, Docs, Result};
use crate::models::{CreateImageInfo, Plugin as PluginDoc, PluginPrivilege};
use crate::types::AuthConfig;
use crate::{plugin_streams, plugins};

/// The engine's plugins: [`crate::docker::Docker::plugins`].
#[derive(Clone, Debug)]
pub struct Plugins {
    docker: Docker,
}

/// A plugin: its name and its inspect document.
#[derive(Clone, Debug)]
pub struct Plugin {
    docker: Docker,
    /// The name (`vieux/sshfs:latest`).
    pub name: String,
    /// The engine's inspect document.
    pub attrs: PluginDoc,
}

impl Plugins {
    pub(crate) fn new(docker: Docker) -> Self {
        Plugins { docker }
    }

    fn model(&self, attrs: PluginDoc) -> Plugin {
        Plugin {
            docker: self.docker.clone(),
            name: attrs.name.clone().unwrap_or_default(),
            attrs,
        }
    }

    /// `plugins.list`.
    pub fn list(&self, options: plugins::ListOptions) -> Result<Vec<Plugin>> {
        let docs: Vec<PluginDoc> = parse("plugins.list", &plugins::list(self.docker.engine(), &options)?)?;
        Ok(docs.into_iter().map(|d| self.model(d)).collect())
    }

    /// The plugin named `name` (`plugins.inspect`).
    pub fn get(&self, name: &str) -> Result<Plugin> {
        let doc = parse("plugins.inspect", &plugins::inspect(self.docker.engine(), name)?)?;
        Ok(self.model(doc))
    }

    /// `plugins.privileges`: what installing `remote` would grant it.
    pub fn privileges(&self, remote: &str, auth: Option<AuthConfig>) -> Result<Vec<PluginPrivilege>> {
        parse(
            "plugins.privileges",
            &plugins::privileges(self.docker.engine(), remote, auth.as_ref())?,
        )
    }

    /// `plugin-streams.create`: creates the plugin `name` (disabled) from a tar of its `config.json` and
    /// `rootfs/`, streamed from `tar` (a file, or `&bytes[..]`), and returns it.
    pub fn create(&self, name: &str, mut tar: impl std::io::Read) -> Result<Plugin> {
        let upload = plugin_streams::create(self.docker.engine(), name)?;
        crate::upload_with(upload, |body| std::io::copy(&mut tar, body).map(|_| ()))?;
        self.get(name)
    }

    /// `plugin-streams.pull`'s progress: installs `remote` (as `options.name`, default `remote`,
    /// disabled) granting it `privileges`, which must be what [`Plugins::privileges`] answered.
    pub fn pull_progress(
        &self,
        remote: &str,
        privileges: &[PluginPrivilege],
        options: plugin_streams::PullOptions,
        auth: Option<AuthConfig>,
    ) -> Result<Docs<CreateImageInfo>> {
        Ok(Docs::new(
            plugin_streams::pull(
                self.docker.engine(),
                remote,
                &to_json("plugin-streams.pull", &privileges)?,
                &options,
                auth.as_ref(),
            )?,
            "a plugin pull progress message",
        ))
    }

    /// docker-py's `install`: grants `remote` the privileges it asks for, pulls it (as `name`, default
    /// `remote`) to the end and returns it (disabled).
    pub fn install(&self, remote: &str, name: Option<&str>, auth: Option<AuthConfig>) -> Result<Plugin> {
        let privileges = self.privileges(remote, auth.clone())?;
        let options = plugin_streams::PullOptions {
            name: name.map(str::to_owned),
        };
        for message in self.pull_progress(remote, &privileges, options, auth)? {
            message?;
        }
        self.get(name.unwrap_or(remote))
    }
}

impl Plugin {
    /// The first 12 characters of its ID (empty if the engine gave none).
    pub fn short_id(&self) -> &str {
        short_id(self.attrs.id.as_deref().unwrap_or_default())
    }

    /// Whether it is enabled, as of the last reload.
    pub fn enabled(&self) -> bool {
        self.attrs.enabled.unwrap_or(false)
    }

    /// Inspects it again.
    pub fn reload(&mut self) -> Result<()> {
        *self = self.docker.plugins().get(&self.name)?;
        Ok(())
    }

    /// `plugins.enable`.
    pub fn enable(&self, options: plugins::EnableOptions) -> Result<()> {
        Ok(plugins::enable(self.docker.engine(), &self.name, options)?)
    }

    /// `plugins.disable`.
    pub fn disable(&self, options: plugins::DisableOptions) -> Result<()> {
        Ok(plugins::disable(self.docker.engine(), &self.name, options)?)
    }

    /// `plugins.set`: `NAME=value` settings (docker-py's `configure`); the plugin must be disabled.
    pub fn set(&self, settings: &[&str]) -> Result<()> {
        Ok(plugins::set(
            self.docker.engine(),
            &self.name,
            &to_json("plugins.set", &settings)?,
        )?)
    }

    /// `plugins.remove`.
    pub fn remove(&self, options: plugins::RemoveOptions) -> Result<()> {
        Ok(plugins::remove(self.docker.engine(), &self.name, options)?)
    }

    /// `plugin-streams.upgrade` to `remote`, granting the privileges it asks for: its progress.
    pub fn upgrade(&self, remote: &str, auth: Option<AuthConfig>) -> Result<Docs<CreateImageInfo>> {
        let privileges = self.docker.plugins().privileges(remote, auth.clone())?;
        Ok(Docs::new(
            plugin_streams::upgrade(
                self.docker.engine(),
                &self.name,
                remote,
                &to_json("plugin-streams.upgrade", &privileges)?,
                auth.as_ref(),
            )?,
            "a plugin upgrade progress message",
        ))
    }

    /// `plugin-streams.push`: its progress.
    pub fn push(&self, auth: Option<AuthConfig>) -> Result<Docs<CreateImageInfo>> {
        Ok(Docs::new(
            plugin_streams::push(self.docker.engine(), &self.name, auth.as_ref())?,
            "a plugin push progress message",
        ))
    }
}
