//! How a [`Dockerd`] starts: where it runs ([`Network`]), its listeners, host name, environment and extra
//! arguments ([`DockerdOptions`]), and the dockerd command line they make.

use std::{path::PathBuf, process::Command};

use super::Dockerd;
use crate::{host, net::HostBridge, tls::TlsCerts};

/// Where a test daemon runs; see the [`crate::dockerd`] documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// A network namespace of its own (`unshare --net --fork`), loopback down: reachable only through its
    /// unix socket. The default.
    #[default]
    Isolated,
    /// The host's network namespace with a bridge of its own ([`HostBridge`]) and no iptables rules:
    /// what a TCP or TLS listener on 127.0.0.1 needs. Its containers reach the bridge's address, but not
    /// one another (the host's `br_netfilter` sends bridged traffic through its FORWARD chain, which
    /// drops it) nor the outside. A published port is a `docker-proxy` in the host's namespace.
    HostBridge,
    /// A named network namespace the caller made and keeps until the daemon is dropped (`nsenter
    /// --net=PATH`), e.g. a [`crate::net::Netns`] joined to another by a veth pair.
    Netns(PathBuf),
}

/// How to start a [`Dockerd`]: a builder; [`Dockerd::start`] is `DockerdOptions::new().start()`.
#[derive(Clone, Debug)]
pub struct DockerdOptions {
    network: Network,
    tls: bool,
    tcp: bool,
    hostname: Option<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
    load_image: bool,
}

impl Default for DockerdOptions {
    fn default() -> Self {
        DockerdOptions {
            network: Network::Isolated,
            tls: false,
            tcp: false,
            hostname: None,
            env: Vec::new(),
            args: Vec::new(),
            load_image: true,
        }
    }
}

impl DockerdOptions {
    /// The defaults: [`Network::Isolated`], the unix socket only, the test image loaded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the daemon runs.
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// A TLS listener (`--tlsverify`, client certificates required) on `127.0.0.1:PORT`, with
    /// certificates made at start ([`Dockerd::tls`]). Needs [`Network::HostBridge`].
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// A plain TCP listener (no TLS) on `127.0.0.1:PORT`. Needs [`Network::HostBridge`]; not with
    /// [`DockerdOptions::tls`].
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// The daemon's host name (a UTS namespace of its own): the name of its swarm node.
    pub fn hostname(mut self, name: &str) -> Self {
        self.hostname = Some(name.to_owned());
        self
    }

    /// An environment variable for the daemon.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// An extra dockerd argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Does not load the test image (a faster start for a test that needs no container).
    pub fn without_image(mut self) -> Self {
        self.load_image = false;
        self
    }

    /// Starts the daemon and waits until it answers `/_ping` (and its TCP listener accepts) and holds
    /// the test image. The error names what failed, with the end of the daemon's log.
    pub fn start(self) -> Result<Dockerd, String> {
        if (self.tls || self.tcp) && self.network != Network::HostBridge {
            return Err(
                "a TCP or TLS listener on 127.0.0.1 needs Network::HostBridge (in a namespace of its own \
                 the daemon's 127.0.0.1 is not the host's)"
                    .into(),
            );
        }
        if self.tls && self.tcp {
            return Err("a daemon of the tests has either a TLS or a plain TCP listener, not both".into());
        }
        host::sweep_leftovers_once();
        let tag = host::next_tag();
        let dir = std::env::temp_dir().join(format!("tug-dockerd-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // From here on, dropping `d` undoes whatever was made.
        let mut d = Dockerd {
            dir,
            tag,
            options: self,
            child: None,
            pid: 0,
            port: None,
            tls: None,
            bridge: None,
        };
        if d.options.network == Network::HostBridge {
            d.bridge = Some(HostBridge::create(&d.tag)?);
        }
        if d.options.tls || d.options.tcp {
            d.port = Some(host::free_port()?);
        }
        if d.options.tls {
            d.tls = Some(TlsCerts::generate(&d.dir.join("tls"), &["127.0.0.1"])?);
        }
        d.spawn()?;
        if d.options.load_image {
            d.load_test_image()?;
        }
        Ok(d)
    }
}

impl Dockerd {
    /// The command that runs dockerd with every argument, in its network (and UTS) namespace.
    pub(super) fn command(&self) -> Command {
        let o = &self.options;
        let mut dockerd: Vec<String> = vec!["dockerd".into()];
        let path = |name: &str| self.dir.join(name).display().to_string();
        for (flag, value) in [
            ("--data-root", path("data")),
            ("--exec-root", path("exec")),
            ("--pidfile", path("pid")),
            ("-H", self.url()),
            ("--containerd-namespace", format!("tug-test-{}", self.tag)),
            (
                "--containerd-plugins-namespace",
                format!("tug-test-{}-plugins", self.tag),
            ),
            ("--cgroup-parent", format!("/{}", self.cgroup())),
        ] {
            dockerd.extend([flag.to_owned(), value]);
        }
        if let Some(bridge) = &self.bridge {
            dockerd.extend([
                "--bridge".to_owned(),
                bridge.name().to_owned(),
                "--iptables=false".into(),
                "--ip6tables=false".into(),
                "--ip-forward=false".into(),
                "--ip-masq=false".into(),
            ]);
        }
        if let Some(tls) = &self.tls {
            for (flag, file) in [
                ("--tlscacert", tls.ca_cert()),
                ("--tlscert", tls.server_cert()),
                ("--tlskey", tls.server_key()),
            ] {
                dockerd.extend([flag.to_owned(), file.display().to_string()]);
            }
            dockerd.push("--tlsverify".into());
        }
        if let Some(url) = self.tcp_url() {
            dockerd.extend(["-H".to_owned(), url]);
        }
        dockerd.extend(o.args.iter().cloned());
        // A host name needs a UTS namespace; `hostname` runs in it, then dockerd replaces the shell.
        if let Some(name) = &o.hostname {
            let mut wrapped: Vec<String> = ["sh", "-c", "hostname \"$0\" && exec \"$@\""]
                .map(String::from)
                .into();
            wrapped.push(name.clone());
            wrapped.extend(dockerd);
            dockerd = wrapped;
        }
        let mut argv: Vec<String> = match &o.network {
            Network::Isolated => ["unshare", "--net"].map(String::from).into(),
            Network::Netns(path) => vec![
                "nsenter".into(),
                format!("--net={}", path.display()),
                "--".into(),
                "unshare".into(),
            ],
            Network::HostBridge => vec!["unshare".into()],
        };
        if o.hostname.is_some() {
            argv.push("--uts".into());
        }
        if o.network == Network::Isolated {
            argv.push("--fork".into());
        }
        if argv.last().is_some_and(|a| a == "unshare") {
            // Nothing to unshare: dockerd itself.
            argv.pop();
        } else {
            argv.push("--".into());
        }
        argv.extend(dockerd);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env("DOCKER_SERVICE_PREFER_OFFLINE_IMAGE", "1")
            .envs(o.env.iter().map(|(k, v)| (k, v)));
        cmd
    }
}
