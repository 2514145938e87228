//! [`Networks`] and [`Network`] over `networks`; [`Volumes`] and [`Volume`] over `volumes`.

use super::{id_of, parse, short_id, to_json, Docker, Result};
use crate::models::{
    EndpointSettings, NetworkConnectRequest, NetworkCreateBody, NetworkDisconnectRequest, NetworkInspect,
    NetworkPruneResponse, NetworkSummary, Volume as VolumeDoc, VolumeCreateRequest, VolumeListResponse,
    VolumePruneResponse,
};
use crate::{networks, volumes};

/// The networks of an engine: [`crate::docker::Docker::networks`].
#[derive(Clone, Debug)]
pub struct Networks {
    docker: Docker,
}

/// A network: its ID and its inspect document.
#[derive(Clone, Debug)]
pub struct Network {
    docker: Docker,
    /// The full ID.
    pub id: String,
    /// The engine's inspect document.
    pub attrs: NetworkInspect,
}

impl Networks {
    pub(crate) fn new(docker: Docker) -> Self {
        Networks { docker }
    }

    /// `networks.list` read as summaries.
    pub fn list_summaries(&self, options: networks::ListOptions) -> Result<Vec<NetworkSummary>> {
        parse("networks.list", &networks::list(self.docker.engine(), &options)?)
    }

    /// `networks.list`, each network then inspected; a network removed in between is left out.
    pub fn list(&self, options: networks::ListOptions) -> Result<Vec<Network>> {
        let summaries = self.list_summaries(options)?;
        super::get_each(summaries.into_iter().map(|s| s.id), |id| self.get(id))
    }

    /// The network with this ID, ID prefix or name (`networks.inspect`).
    pub fn get(&self, id: &str) -> Result<Network> {
        let attrs: NetworkInspect = parse(
            "networks.inspect",
            &networks::inspect(self.docker.engine(), id, &Default::default())?,
        )?;
        let id = attrs.id.clone().unwrap_or_else(|| id.to_owned());
        Ok(Network {
            docker: self.docker.clone(),
            id,
            attrs,
        })
    }

    /// `networks.create` named `name`, with the rest of `config` (`Driver`, `Internal`, `Labels`…).
    pub fn create(&self, name: &str, config: NetworkCreateBody) -> Result<Network> {
        let config = NetworkCreateBody {
            name: Some(name.to_owned()),
            ..config
        };
        let answer = networks::create(self.docker.engine(), &to_json("networks.create", &config)?)?;
        self.get(&id_of("networks.create", &answer)?)
    }

    /// `networks.prune`.
    pub fn prune(&self, options: networks::PruneOptions) -> Result<NetworkPruneResponse> {
        parse(
            "networks.prune",
            &networks::prune(self.docker.engine(), &options)?,
        )
    }
}

impl Network {
    /// The first 12 characters of the ID.
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    /// The name.
    pub fn name(&self) -> Option<&str> {
        self.attrs.name.as_deref()
    }

    /// Inspects it again.
    pub fn reload(&mut self) -> Result<()> {
        *self = self.docker.networks().get(&self.id)?;
        Ok(())
    }

    /// `networks.connect`: connects a container (ID or name), with `endpoint` settings such as
    /// `Aliases`.
    pub fn connect(&self, container: &str, endpoint: Option<EndpointSettings>) -> Result<()> {
        let request = NetworkConnectRequest {
            container: Some(container.to_owned()),
            endpoint_config: endpoint,
            ..Default::default()
        };
        Ok(networks::connect(
            self.docker.engine(),
            &self.id,
            &to_json("networks.connect", &request)?,
        )?)
    }

    /// `networks.disconnect`.
    pub fn disconnect(&self, container: &str, force: bool) -> Result<()> {
        let request = NetworkDisconnectRequest {
            container: Some(container.to_owned()),
            force: Some(force),
            ..Default::default()
        };
        Ok(networks::disconnect(
            self.docker.engine(),
            &self.id,
            &to_json("networks.disconnect", &request)?,
        )?)
    }

    /// `networks.remove`.
    pub fn remove(&self) -> Result<()> {
        Ok(networks::remove(self.docker.engine(), &self.id)?)
    }
}

/// The volumes of an engine: [`crate::docker::Docker::volumes`].
#[derive(Clone, Debug)]
pub struct Volumes {
    docker: Docker,
}

/// A volume: its name and its inspect document.
#[derive(Clone, Debug)]
pub struct Volume {
    docker: Docker,
    /// The name (a volume's ID).
    pub id: String,
    /// The engine's inspect document.
    pub attrs: VolumeDoc,
}

impl Volumes {
    pub(crate) fn new(docker: Docker) -> Self {
        Volumes { docker }
    }

    fn model(&self, attrs: VolumeDoc) -> Volume {
        Volume {
            docker: self.docker.clone(),
            id: attrs.name.clone().unwrap_or_default(),
            attrs,
        }
    }

    /// `volumes.list` (the listing is the inspect document of each).
    pub fn list(&self, options: volumes::ListOptions) -> Result<Vec<Volume>> {
        let list: VolumeListResponse =
            parse("volumes.list", &volumes::list(self.docker.engine(), &options)?)?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| self.model(v))
            .collect())
    }

    /// The volume named `name` (`volumes.inspect`).
    pub fn get(&self, name: &str) -> Result<Volume> {
        let attrs = parse("volumes.inspect", &volumes::inspect(self.docker.engine(), name)?)?;
        Ok(self.model(attrs))
    }

    /// `volumes.create` (`Name` empty: the engine names it).
    pub fn create(&self, config: VolumeCreateRequest) -> Result<Volume> {
        let attrs = parse(
            "volumes.create",
            &volumes::create(self.docker.engine(), &to_json("volumes.create", &config)?)?,
        )?;
        Ok(self.model(attrs))
    }

    /// `volumes.prune`.
    pub fn prune(&self, options: volumes::PruneOptions) -> Result<VolumePruneResponse> {
        parse("volumes.prune", &volumes::prune(self.docker.engine(), &options)?)
    }
}

impl Volume {
    /// The name.
    pub fn name(&self) -> &str {
        &self.id
    }

    /// Inspects it again.
    pub fn reload(&mut self) -> Result<()> {
        *self = self.docker.volumes().get(&self.id)?;
        Ok(())
    }

    /// `volumes.remove`.
    pub fn remove(&self, options: volumes::RemoveOptions) -> Result<()> {
        Ok(volumes::remove(self.docker.engine(), &self.id, options)?)
    }
}
