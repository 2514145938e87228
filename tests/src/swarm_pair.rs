//! A real two-node swarm on this machine: two [`Dockerd`]s, each in a network namespace of its own joined
//! to the other by a veth pair (10.213.0.2/24, the manager, and 10.213.0.3/24, the worker), each with a
//! host name of its own (`tug-PID-N-a`, `-b`), the test image loaded into both.
//!
//! Why namespaces (measured with dockerd 20.10.24): the swarm port (`2377`, managers only) and the gossip
//! port (`7946`, tcp and udp) bind to the listen address, so two nodes on 127.0.0.2 and 127.0.0.3 of one
//! namespace do not clash there; but the VXLAN data path is a kernel socket on `0.0.0.0:4789`, and every
//! node makes the `ingress` overlay with the same VXLAN ID, so the second node in a namespace fails with
//! `Failed creating ingress network: network sandbox join failed: subnet sandbox join failed for
//! "10.0.0.0/24": error creating vxlan interface: file exists` (its tasks without published ports still
//! run) — and so would a node in the host's namespace while a test makes the host's daemon a swarm
//! manager. Two daemons in one namespace also fight over `docker0` and the iptables chains
//! (`unable to add return rule in DOCKER-ISOLATION-STAGE-1 chain`) unless each has its own bridge and
//! `--iptables=false`. In namespaces of their own nothing of the two nodes (ports, `docker0`,
//! `docker_gwbridge`, `ingress`, iptables rules) meets the host's or another pair's, and the same subnet
//! serves every pair. The veth pair never appears in the host's namespace (no host bridge, whose bridged
//! traffic the host's `br_netfilter` would send through its FORWARD chain, policy DROP): the host reaches
//! the nodes through their unix sockets only.
//!
//! Dropping it makes both nodes leave the swarm and tears both daemons down (their containers removed,
//! stopped, directories deleted), at once, and then deletes the namespaces, with the veth pair in them.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use crate::{
    dockerd::{Dockerd, DockerdOptions, Network},
    host::next_tag,
    net::{interface_name, veth_pair, Netns},
};

/// The manager's address in its namespace.
pub const MANAGER_ADDR: &str = "10.213.0.2";
/// The worker's address in its namespace.
pub const WORKER_ADDR: &str = "10.213.0.3";

/// One task of a service, as the manager sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// The task's ID.
    pub id: String,
    /// The ID of the node it is assigned to (empty while unassigned).
    pub node_id: String,
    /// Its state: `new`, `pending`, `assigned`, … `running`, `failed`, `shutdown`, ….
    pub state: String,
    /// The state the orchestrator wants for it (`running`, `shutdown`).
    pub desired_state: String,
    /// Why it failed, if it did.
    pub error: String,
}

/// The two-node swarm; see the module documentation.
pub struct SwarmPair {
    manager: Dockerd,
    worker: Dockerd,
    manager_id: String,
    worker_id: String,
    // Declared after the daemons, so dropped after them.
    namespaces: [Netns; 2],
}

impl SwarmPair {
    /// Makes the namespaces and the veth pair, starts both daemons (at once), `swarm init` on the
    /// manager (advertising and listening on 10.213.0.2:2377), `swarm join` of the worker (on
    /// 10.213.0.3), and waits until the manager sees both nodes ready. The error names the step, with
    /// the end of the daemon's log.
    pub fn start() -> Result<SwarmPair, String> {
        crate::host::sweep_leftovers_once();
        let tag = next_tag();
        let ns_manager = Netns::create(&format!("tug-{tag}-a"))?;
        let ns_worker = Netns::create(&format!("tug-{tag}-b"))?;
        veth_pair(
            (
                &ns_manager,
                &interface_name(&tag, "a")?,
                &format!("{MANAGER_ADDR}/24"),
            ),
            (
                &ns_worker,
                &interface_name(&tag, "b")?,
                &format!("{WORKER_ADDR}/24"),
            ),
        )?;
        let node = |ns: &Netns| {
            DockerdOptions::new()
                .network(Network::Netns(ns.path()))
                .hostname(ns.name())
                .start()
                .map_err(|e| format!("starting the swarm node {}: {e}", ns.name()))
        };
        let (manager, worker) = std::thread::scope(|s| {
            let worker = s.spawn(|| node(&ns_worker));
            let manager = node(&ns_manager);
            let worker = worker
                .join()
                .unwrap_or_else(|_| Err("starting the swarm worker panicked".into()));
            (manager, worker)
        });
        let (manager, worker) = (manager?, worker?);
        let step = |d: &Dockerd, what: &str, args: &[&str]| {
            d.docker(args).map(|o| o.trim().to_owned()).map_err(|e| {
                format!(
                    "{what}: docker {}: {}\n--- the end of the daemon's log ---\n{}",
                    args.join(" "),
                    e.trim(),
                    d.log_tail(30)
                )
            })
        };
        let listen = format!("{MANAGER_ADDR}:2377");
        step(
            &manager,
            "swarm init on the manager",
            &[
                "swarm",
                "init",
                "--advertise-addr",
                MANAGER_ADDR,
                "--listen-addr",
                &listen,
            ],
        )?;
        let token = step(
            &manager,
            "the worker's join token",
            &["swarm", "join-token", "-q", "worker"],
        )?;
        step(
            &worker,
            "swarm join of the worker",
            &[
                "swarm",
                "join",
                "--token",
                &token,
                "--advertise-addr",
                WORKER_ADDR,
                "--listen-addr",
                &format!("{WORKER_ADDR}:2377"),
                &listen,
            ],
        )?;
        let id = "{{.Swarm.NodeID}}";
        let manager_id = step(&manager, "the manager's node ID", &["info", "--format", id])?;
        let worker_id = step(&worker, "the worker's node ID", &["info", "--format", id])?;
        let pair = SwarmPair {
            manager,
            worker,
            manager_id,
            worker_id,
            namespaces: [ns_manager, ns_worker],
        };
        let started = Instant::now();
        loop {
            let nodes = step(
                &pair.manager,
                "listing the nodes",
                &["node", "ls", "--format", "{{.ID}} {{.Status}}"],
            )?;
            let ready = |id: &str| nodes.lines().any(|l| l == format!("{id} Ready"));
            if ready(&pair.manager_id) && ready(&pair.worker_id) {
                return Ok(pair);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "the swarm's nodes were not both ready within 30 s:\n{nodes}\n--- the worker's log ---\n{}",
                    pair.worker.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The manager (node A, 10.213.0.2), the leader.
    pub fn manager(&self) -> &Dockerd {
        &self.manager
    }

    /// The worker (node B, 10.213.0.3).
    pub fn worker(&self) -> &Dockerd {
        &self.worker
    }

    /// The manager, to kill or restart it.
    pub fn manager_mut(&mut self) -> &mut Dockerd {
        &mut self.manager
    }

    /// The worker, to kill or restart it.
    pub fn worker_mut(&mut self) -> &mut Dockerd {
        &mut self.worker
    }

    /// The manager's node ID.
    pub fn manager_id(&self) -> &str {
        &self.manager_id
    }

    /// The worker's node ID.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The network namespaces of the manager and of the worker.
    pub fn namespaces(&self) -> [&Netns; 2] {
        [&self.namespaces[0], &self.namespaces[1]]
    }

    /// The tasks of `service` (current and past), as the manager lists them.
    pub fn tasks(&self, service: &str) -> Result<Vec<Task>, String> {
        let ids = self
            .manager
            .docker(&["service", "ps", "-q", "--no-trunc", service])
            .map_err(|e| format!("docker service ps {service}: {}", e.trim()))?;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![
            "inspect",
            "--type",
            "task",
            "--format",
            "{{.ID}}\t{{.NodeID}}\t{{.Status.State}}\t{{.DesiredState}}\t{{.Status.Err}}",
        ];
        args.extend(&ids);
        let out = self
            .manager
            .docker(&args)
            .map_err(|e| format!("docker inspect of the tasks of {service}: {}", e.trim()))?;
        Ok(out
            .lines()
            .map(|l| {
                let mut f = l.split('\t').map(str::to_owned);
                Task {
                    id: f.next().unwrap_or_default(),
                    node_id: f.next().unwrap_or_default(),
                    state: f.next().unwrap_or_default(),
                    desired_state: f.next().unwrap_or_default(),
                    error: f.next().unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Waits until `replicas` tasks of `service` are running; how many run on each node (by node ID).
    /// The error lists the tasks, with their errors.
    pub fn wait_running(
        &self,
        service: &str,
        replicas: usize,
        timeout: Duration,
    ) -> Result<BTreeMap<String, usize>, String> {
        let started = Instant::now();
        loop {
            let tasks = self.tasks(service)?;
            let mut per_node = BTreeMap::new();
            for t in tasks.iter().filter(|t| t.state == "running") {
                *per_node.entry(t.node_id.clone()).or_insert(0) += 1;
            }
            if per_node.values().sum::<usize>() >= replicas {
                return Ok(per_node);
            }
            if started.elapsed() > timeout {
                return Err(format!(
                    "{replicas} tasks of {service} were not running within {} s: {tasks:#?}",
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for SwarmPair {
    fn drop(&mut self) {
        // Both nodes at once: each leaves the swarm (forced: the other may be gone already), then its
        // daemon goes (containers removed, stopped, directory deleted). The namespaces go after, as
        // fields.
        let (manager, worker) = (&mut self.manager, &mut self.worker);
        std::thread::scope(|s| {
            for node in [manager, worker] {
                s.spawn(move || {
                    if node.is_running() {
                        let _ = node.docker(&["swarm", "leave", "--force"]);
                    }
                    node.teardown();
                });
            }
        });
    }
}
