//! The container quota (`[quota] containers`): one count of every container a run has or has asked the
//! engine for, whichever way — its containers, the `RUN` step containers of its builds in flight (one at a
//! time each), and the tasks its swarm services ask for — so that no way around `containers.create`
//! (builds held open side by side, services next to containers) gives a run more.

use std::sync::{atomic::Ordering, Arc};

use serde_json::Value;

use super::{
    config::{Access, Area},
    denial::{Denial, GateError},
    gate::{Gate, RUN_LABEL},
};
use crate::engine::{Client, Error, Request};

/// The label the swarm puts on a task's container (counted with its service's tasks, not twice).
const TASK_LABEL: &str = "com.docker.swarm.task.id";

/// A build in flight, counted in the run's containers until it is dropped.
pub struct BuildSlot(Arc<Gate>);

impl Drop for BuildSlot {
    fn drop(&mut self) {
        self.0.builds.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many tasks a service spec asks for at most: its replicas (1 when it names none), a job's
/// concurrency, 1 for a global service (one per node: a run's swarm has one).
pub(super) fn tasks_of(spec: &Value) -> u64 {
    let mode = &spec["Mode"];
    mode["Replicated"]["Replicas"]
        .as_u64()
        .or_else(|| mode["ReplicatedJob"]["MaxConcurrent"].as_u64())
        .unwrap_or(1)
}

impl Gate {
    /// How many containers the run has or has asked for: its containers that are not a service's tasks,
    /// its builds in flight, and the tasks its services ask for (but those of the service `except`, which
    /// an update is about to replace).
    pub async fn containers_in_use(&self, client: &Client, except: Option<&str>) -> Result<u64, GateError> {
        let filters = serde_json::json!({ "label": [format!("{RUN_LABEL}={}", self.run_id)] }).to_string();
        let list: Value = client
            .json(
                Request::get("/containers/json")
                    .query("all", true)
                    .query("filters", &filters),
            )
            .await?;
        let containers = list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["Labels"].get(TASK_LABEL).is_none())
            .count() as u64;
        let builds = u64::from(self.builds.load(Ordering::SeqCst));
        let mut tasks = 0;
        if self.policy.operations.get(Area::Services) != Access::None {
            match client
                .json::<Value>(Request::get("/services").query("filters", &filters))
                .await
            {
                Ok(services) => {
                    tasks = services
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|s| self.owns_labels(&s["Spec"]["Labels"]))
                        .filter(|s| except.is_none_or(|id| s["ID"].as_str() != Some(id)))
                        .map(|s| tasks_of(&s["Spec"]))
                        .sum();
                }
                // Not a swarm manager: no services.
                Err(Error::Server { status, .. }) if status.as_u16() == 503 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(containers.saturating_add(builds).saturating_add(tasks))
    }

    /// Refuses `more` containers (a create: 1; a service: its tasks) that would take the run past its
    /// quota. `field` names what asks for them.
    pub async fn container_quota(
        &self,
        client: &Client,
        more: u64,
        except: Option<&str>,
        field: &str,
    ) -> Result<(), GateError> {
        let quota = self.policy.quota.containers;
        if self.unrestricted() || quota == u32::MAX {
            return Ok(());
        }
        let used = self.containers_in_use(client, except).await?;
        if used.saturating_add(more) > u64::from(quota) {
            let reason = format!(
                "this run has {used} containers (its containers, builds in flight and service tasks \
                 together) and asks for {more} more; policy {} allows {quota}",
                self.policy.name
            );
            return Err(if field.is_empty() {
                Denial::call("quota.containers", reason)
            } else {
                Denial::field("quota.containers", field, reason)
            }
            .into());
        }
        Ok(())
    }

    /// Checks that a build fits in the container quota and counts it until the slot is dropped.
    pub async fn build_slot(self: &Arc<Self>, client: &Client) -> Result<BuildSlot, GateError> {
        self.container_quota(client, 1, None, "").await?;
        self.builds.fetch_add(1, Ordering::SeqCst);
        Ok(BuildSlot(self.clone()))
    }
}
