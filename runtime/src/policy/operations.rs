//! Which area and access each Engine API operation needs (operationIds as in `wit/operations.tsv`).

use super::config::{Access, Area};

/// The area and access an operation needs; `None` for an operation tug does not know (refused).
pub fn requirement(operation: &str) -> Option<(Area, Access)> {
    use Access::{Read, Write};
    use Area::*;
    Some(match operation {
        "SystemPing" | "SystemPingHead" | "SystemVersion" | "SystemInfo" | "SystemDataUsage"
        | "SystemEvents" => (System, Read),
        "SystemAuth" | "Session" => (System, Write),
        "ContainerList"
        | "ContainerInspect"
        | "ContainerTop"
        | "ContainerLogs"
        | "ContainerChanges"
        | "ContainerExport"
        | "ContainerStats"
        | "ContainerArchiveInfo"
        | "ContainerArchive"
        | "ContainerWait" => (Containers, Read),
        "ContainerCreate"
        | "ContainerResize"
        | "ContainerStart"
        | "ContainerStop"
        | "ContainerRestart"
        | "ContainerKill"
        | "ContainerUpdate"
        | "ContainerRename"
        | "ContainerPause"
        | "ContainerUnpause"
        | "ContainerAttach"
        | "ContainerDelete"
        | "PutContainerArchive"
        | "ContainerPrune" => (Containers, Write),
        "ContainerAttachWebsocket" | "CheckpointCreate" | "CheckpointDelete" => (Containers, Write),
        "CheckpointList" => (Containers, Read),
        "ImageAttestations" => (Images, Read),
        "VolumeUpdate" => (Volumes, Write),
        "BuildCancel" => (Build, Write),
        "ExecInspect" => (Exec, Read),
        "ContainerExec" | "ExecStart" | "ExecResize" => (Exec, Write),
        "ImageList" | "ImageInspect" | "ImageHistory" | "ImageSearch" | "ImageGet" | "ImageGetAll" => {
            (Images, Read)
        }
        "ImageCreate" | "ImagePush" | "ImageTag" | "ImageDelete" | "ImagePrune" | "ImageCommit"
        | "ImageLoad" => (Images, Write),
        "ImageBuild" | "BuildPrune" => (Build, Write),
        "DistributionInspect" => (Distribution, Read),
        "PluginList" | "PluginInspect" | "GetPluginPrivileges" => (Plugins, Read),
        "PluginPull" | "PluginUpgrade" | "PluginPush" | "PluginCreate" | "PluginDelete" | "PluginEnable"
        | "PluginDisable" | "PluginSet" => (Plugins, Write),
        "NetworkList" | "NetworkInspect" => (Networks, Read),
        "NetworkCreate" | "NetworkDelete" | "NetworkConnect" | "NetworkDisconnect" | "NetworkPrune" => {
            (Networks, Write)
        }
        "VolumeList" | "VolumeInspect" => (Volumes, Read),
        "VolumeCreate" | "VolumeDelete" | "VolumePrune" => (Volumes, Write),
        "SwarmInspect" | "NodeList" | "NodeInspect" => (Swarm, Read),
        // The unlock key is a credential: reading it is a write.
        "SwarmInit" | "SwarmJoin" | "SwarmLeave" | "SwarmUpdate" | "SwarmUnlockkey" | "SwarmUnlock"
        | "NodeUpdate" | "NodeDelete" => (Swarm, Write),
        "ServiceList" | "ServiceInspect" | "ServiceLogs" | "TaskList" | "TaskInspect" | "TaskLogs" => {
            (Services, Read)
        }
        "ServiceCreate" | "ServiceUpdate" | "ServiceDelete" => (Services, Write),
        "SecretList" | "SecretInspect" => (Secrets, Read),
        "SecretCreate" | "SecretUpdate" | "SecretDelete" => (Secrets, Write),
        "ConfigList" | "ConfigInspect" => (Configs, Read),
        "ConfigCreate" | "ConfigUpdate" | "ConfigDelete" => (Configs, Write),
        // Not Engine API operations: the daemonless `registry` interface. Editing an image held by the
        // host and writing it out reach nothing but the registry it came from.
        "RegistryPull" | "RegistryEdit" | "RegistrySave" => (Registry, Read),
        "RegistryPush" => (Registry, Write),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the WIT maps has a requirement.
    #[test]
    fn every_mapped_operation_has_a_requirement() {
        let tsv = include_str!("../../../wit/operations.tsv");
        for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let op = line.split('\t').next().unwrap();
            assert!(requirement(op).is_some(), "{op} has no requirement");
        }
        assert!(requirement("SessionHijack").is_none());
    }
}
