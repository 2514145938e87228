#!/usr/bin/env python3
"""The JSON request bodies docker-py sends, produced by docker-py itself without a daemon.

Every case below calls docker-py's own API (`APIClient` methods, the `docker.types` builders, and the
high-level `DockerClient` collections) over its documented options. The client's transport is replaced
by a recording adapter: each request is answered with a plausible canned reply and never leaves the
process, and every JSON body that reaches it is kept with the Engine API operation its route is.

Run with docker-py on the path (tug's build toolchain holds it):

    PYTHONPATH=~/.local/share/tug/tools/python-site python3 scripts/docker_py_bodies.py > bodies.json

The output is one JSON document: a list of `{"operation": ENGINE_OPERATION_ID, "case": WHAT,
"body": BODY}`, in the order the cases run. `runtime/tests/client_bodies.rs` feeds every body to the
policy's canonicalizer and rules. Nothing here depends on the machine: the docker config directory is
an empty temporary one, so `~/.docker/config.json` (proxies, detachKeys, credentials) cannot change
what is sent.
"""

import json
import os
import re
import sys
import tempfile
import urllib.parse

# Before docker is imported: docker-py reads its config directory when a client is made.
os.environ["DOCKER_CONFIG"] = tempfile.mkdtemp(prefix="tug-docker-py-bodies-")
for var in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "HTTP_PROXY", "HTTPS_PROXY"):
    os.environ.pop(var, None)

import docker  # noqa: E402
import requests  # noqa: E402
from docker import types  # noqa: E402

ID64 = "0123456789abcdef" * 4
ID25 = "abcdefghijklmnopqrstuvwxy"

# (method, route, Engine API operationId); the route is matched against the path without /vX.Y.
ROUTES = [
    ("POST", r"/containers/create", "ContainerCreate"),
    ("POST", r"/containers/[^/]+/update", "ContainerUpdate"),
    ("POST", r"/containers/[^/]+/exec", "ContainerExec"),
    ("POST", r"/exec/[^/]+/start", "ExecStart"),
    ("POST", r"/commit", "ImageCommit"),
    ("POST", r"/auth", "SystemAuth"),
    ("POST", r"/networks/create", "NetworkCreate"),
    ("POST", r"/networks/[^/]+/connect", "NetworkConnect"),
    ("POST", r"/networks/[^/]+/disconnect", "NetworkDisconnect"),
    ("POST", r"/volumes/create", "VolumeCreate"),
    ("POST", r"/swarm/init", "SwarmInit"),
    ("POST", r"/swarm/join", "SwarmJoin"),
    ("POST", r"/swarm/update", "SwarmUpdate"),
    ("POST", r"/swarm/unlock", "SwarmUnlock"),
    ("POST", r"/nodes/[^/]+/update", "NodeUpdate"),
    ("POST", r"/services/create", "ServiceCreate"),
    ("POST", r"/services/[^/]+/update", "ServiceUpdate"),
    ("POST", r"/secrets/create", "SecretCreate"),
    ("POST", r"/secrets/[^/]+/update", "SecretUpdate"),
    ("POST", r"/configs/create", "ConfigCreate"),
    ("POST", r"/configs/[^/]+/update", "ConfigUpdate"),
    ("POST", r"/plugins/pull", "PluginPull"),
    ("POST", r"/plugins/[^/]+/upgrade", "PluginUpgrade"),
    ("POST", r"/plugins/[^/]+/set", "PluginSet"),
]

# What a service inspect answers: the daemon's own spelling, so that an update that fetches the current
# spec (the high-level `Service.update`) sends what docker-py makes of a real answer.
SERVICE_SPEC = {
    "Name": "web",
    "Labels": {"app": "web"},
    "TaskTemplate": {
        "ContainerSpec": {
            "Image": "tug-test/busybox:latest",
            "Args": ["sleep", "60"],
            "Init": False,
            "StopGracePeriod": 10000000000,
            "DNSConfig": {},
            "Isolation": "default",
        },
        "Resources": {"Limits": {}, "Reservations": {}},
        "RestartPolicy": {"Condition": "any", "Delay": 5000000000, "MaxAttempts": 0},
        "Placement": {},
        "ForceUpdate": 0,
        "Runtime": "container",
    },
    "Mode": {"Replicated": {"Replicas": 1}},
    "UpdateConfig": {
        "Parallelism": 1,
        "FailureAction": "pause",
        "Monitor": 5000000000,
        "MaxFailureRatio": 0,
        "Order": "stop-first",
    },
    "RollbackConfig": {
        "Parallelism": 1,
        "FailureAction": "pause",
        "Monitor": 5000000000,
        "MaxFailureRatio": 0,
        "Order": "stop-first",
    },
    "EndpointSpec": {"Mode": "vip"},
}

PRIVILEGES = [
    {"Name": "network", "Description": "permissions to access a network", "Value": ["host"]},
    {"Name": "mount", "Description": "host path to mount", "Value": ["/var/lib/docker/plugins/"]},
    {"Name": "device", "Description": "host device to access", "Value": ["/dev/fuse"]},
    {"Name": "capabilities", "Description": "list of additional capabilities", "Value": ["CAP_SYS_ADMIN"]},
]


def answer(method, path):
    """A canned reply for a request: (status, JSON value)."""
    if method == "POST":
        if path.endswith("/containers/create") or path.endswith("/exec") or path == "/commit":
            return 201, {"Id": ID64, "Warnings": []}
        if path == "/networks/create":
            return 201, {"Id": ID64, "Warning": ""}
        if path == "/volumes/create":
            return 201, {"Name": "vol", "Driver": "local", "Labels": {}, "Options": {}, "Scope": "local"}
        if path in ("/services/create", "/secrets/create", "/configs/create"):
            return 201, {"ID": ID25}
        if path == "/swarm/init":
            return 200, ID25
        if path == "/auth":
            return 200, {"Status": "Login Succeeded"}
        if path.endswith("/update") and path.startswith("/services/"):
            return 200, {"Warnings": []}
        return 200, {}
    if re.fullmatch(r"/containers/[^/]+/json", path):
        return 200, {
            "Id": ID64,
            "Name": "/c",
            "Image": "sha256:" + ID64,
            "Config": {"Image": "tug-test/busybox:latest", "Labels": {}},
            "HostConfig": {},
            "State": {"Status": "created", "Running": False},
            "NetworkSettings": {"Networks": {}},
        }
    if re.fullmatch(r"/exec/[^/]+/json", path):
        return 200, {"ID": ID64, "Running": False, "ExitCode": 0}
    if re.fullmatch(r"/networks/[^/]+", path):
        return 200, {"Id": ID64, "Name": "net", "Driver": "bridge", "Containers": {}, "Labels": {}}
    if re.fullmatch(r"/volumes/[^/]+", path):
        return 200, {"Name": "vol", "Driver": "local", "Labels": {}}
    if re.fullmatch(r"/services/[^/]+", path):
        return 200, {"ID": ID25, "Version": {"Index": 7}, "Spec": SERVICE_SPEC}
    if re.fullmatch(r"/(secrets|configs)/[^/]+", path):
        return 200, {"ID": ID25, "Version": {"Index": 3}, "Spec": {"Name": "s", "Labels": {}}}
    if path == "/swarm":
        return 200, {"ID": ID25, "Version": {"Index": 11}, "Spec": {"Name": "default"}}
    if path == "/plugins/privileges":
        return 200, PRIVILEGES
    return 200, {}


class Recorder(requests.adapters.BaseAdapter):
    """A transport that records each JSON body and answers from `answer`: nothing leaves the process."""

    def __init__(self):
        super().__init__()
        self.case = None
        self.bodies = []

    def send(self, request, **_kwargs):
        path = urllib.parse.urlsplit(request.url).path
        path = re.sub(r"^/v[0-9]+\.[0-9]+", "", path)
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            operation = next(
                (op for m, route, op in ROUTES if m == request.method and re.fullmatch(route, path)),
                None,
            )
            if operation is None:
                raise SystemExit(f"{self.case}: {request.method} {path} sent a body no route names")
            self.bodies.append({"operation": operation, "case": self.case, "body": json.loads(body)})
        status, value = answer(request.method, path)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(value).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


def clients(recorder, version):
    """A high-level client whose low-level client sends through `recorder`."""
    client = docker.DockerClient(base_url="unix:///nonexistent/tug-docker-py-bodies.sock", version=version)
    client.api.mount("http+docker://", recorder)
    return client, client.api


def host_config_cases(api):
    """`create_host_config` with every documented keyword (several values where the shape differs)."""
    mount_types = [
        types.Mount("/data", "vol", type="volume", read_only=True, no_copy=True,
                    labels={"a": "b"}, driver_config=types.DriverConfig("local", {"o": "bind"})),
        types.Mount("/srv", "/srv", type="bind", propagation="rslave", consistency="cached"),
        types.Mount("/tmp", None, type="tmpfs", tmpfs_size="64m", tmpfs_mode=0o1777),
        types.Mount("/pipe", r"\\.\pipe\docker_engine", type="npipe"),
    ]
    yield "binds as a dict, port bindings of every shape, links", dict(
        binds={"/srv/data": {"bind": "/data", "mode": "ro"}, "named": {"bind": "/named", "mode": "rw"}},
        port_bindings={1111: 4567, 2222: None, "3333/udp": ("127.0.0.1", 3333),
                       4444: ("127.0.0.1",), 5555: [1234, 4567]},
        links={"db": "database", "cache": None},
        publish_all_ports=True,
    )
    yield "binds as a list", dict(binds=["/srv/data:/data:ro", "named:/named", "/srv/logs:/logs:z"])
    yield "namespaces, volumes_from and network mode", dict(
        volumes_from=["other", "another:ro"], network_mode="container:other", pid_mode="container:other",
        ipc_mode="shareable", uts_mode="host", userns_mode="host", cgroupns="private",
    )
    yield "restart policy, devices and device requests", dict(
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
        devices=["/dev/sda:/dev/xvda:rwm", "/dev/fuse"],
        device_requests=[types.DeviceRequest(driver="nvidia", count=-1, capabilities=[["gpu"]],
                                             device_ids=["0"], options={"a": "b"})],
        device_cgroup_rules=["c 1:3 mr"],
    )
    yield "ulimits, log config, mounts of each type, tmpfs", dict(
        ulimits=[types.Ulimit(name="nofile", soft=1024, hard=2048)],
        log_config=types.LogConfig(type=types.LogConfig.types.JSON, config={"max-size": "1m"}),
        mounts=mount_types,
        tmpfs={"/run": "", "/cache": "size=64m,uid=1000"},
    )
    yield "dns, hosts, capabilities, security options", dict(
        dns=["8.8.8.8"], dns_opt=["ndots:2"], dns_search=["example.com"],
        extra_hosts={"db": "10.0.0.2", "v6": "::1"},
        cap_add=["NET_ADMIN", "SYS_ADMIN"], cap_drop=["MKNOD"],
        security_opt=["no-new-privileges", "seccomp=unconfined"], privileged=True,
    )
    yield "extra hosts as a list, group_add, init, isolation", dict(
        extra_hosts=["db:10.0.0.2"], group_add=["audio", 1000], init=True,
        isolation="default", runtime="runc", read_only=True, auto_remove=True,
    )
    yield "cpu, memory and block I/O", dict(
        cpu_period=100000, cpu_quota=50000, cpu_shares=512, cpuset_cpus="0", cpuset_mems="0",
        cpu_rt_period=1000000, cpu_rt_runtime=950000, nano_cpus=500000000, cpu_count=1, cpu_percent=50,
        mem_limit="128m", memswap_limit="256m", mem_reservation="64m", kernel_memory="32m",
        mem_swappiness=10, oom_kill_disable=True, oom_score_adj=100, pids_limit=100, shm_size="64m",
        blkio_weight=300, blkio_weight_device=[{"Path": "/dev/sda", "Weight": 200}],
        device_read_bps=[{"Path": "/dev/sda", "Rate": 1048576}],
        device_write_bps=[{"Path": "/dev/sda", "Rate": 1048576}],
        device_read_iops=[{"Path": "/dev/sda", "Rate": 100}],
        device_write_iops=[{"Path": "/dev/sda", "Rate": 100}],
    )
    yield "sysctls, storage options, cgroup parent, volume driver, lxc", dict(
        sysctls={"net.ipv4.ip_forward": "1"}, storage_opt={"size": "10G"}, cgroup_parent="/tug",
        volume_driver="local", lxc_conf={"lxc.utsname": "x"},
    )


def container_cases(api):
    """`create_container` (`ContainerConfig`) over its options, each with a host config case."""
    hc = api.create_host_config
    for case, kwargs in host_config_cases(api):
        yield "create_container: host config: " + case, dict(
            image="tug-test/busybox:latest", command="true", host_config=hc(**kwargs))
    endpoint = api.create_endpoint_config(
        aliases=["web", "www"], links={"db": "database"}, ipv4_address="172.20.0.5",
        ipv6_address="2001:db8::5", link_local_ips=["169.254.1.1"], driver_opt={"com.example": "1"},
        mac_address="02:42:ac:11:00:02")
    yield "create_container: every ContainerConfig option, environment and labels as dicts", dict(
        image="tug-test/busybox:latest", command=["sh", "-c", "sleep 1"], hostname="h", user="1000:1000",
        detach=True, stdin_open=True, tty=True, ports=[80, (53, "udp")], environment={"A": "1", "B": None},
        volumes=["/data", "/logs"], network_disabled=False, name="web", entrypoint="/bin/sh -c",
        working_dir="/srv", domainname="example.com", mac_address="02:42:ac:11:00:02",
        labels={"app": "web"}, stop_signal="SIGTERM", stop_timeout=5,
        healthcheck=types.Healthcheck(test=["CMD", "true"], interval=2000000000, timeout=1000000000,
                                      retries=3, start_period=1000000000),
        networking_config=api.create_networking_config({"net": endpoint}),
        host_config=hc(network_mode="net"), platform="linux/amd64",
    )
    yield "create_container: environment and labels as lists, healthcheck as a dict, attached stdin", dict(
        image="tug-test/busybox:latest", command="cat", environment=["A=1", "B=2"], labels=["a", "b"],
        stdin_open=True, volumes="/data", healthcheck={"test": "true", "interval": 1000000000},
        networking_config=api.create_networking_config({"net": api.create_endpoint_config()}),
        host_config=hc(network_mode="net"),
    )
    yield "create_container: no host config", dict(image="tug-test/busybox:latest", command="true")


def run_cases():
    """The high-level `containers.create` (what `containers.run` creates) with its own keywords."""
    yield "containers.create: network by name", dict(
        image="tug-test/busybox:latest", command="true", network="net")
    yield "containers.create: network with networking_config", dict(
        image="tug-test/busybox:latest", command="true", network="net",
        networking_config={"net": types.EndpointConfig("1.45", aliases=["a"], ipv4_address="10.0.0.2")})
    yield "containers.create: ports, volumes as a dict, environment, restart policy", dict(
        image="tug-test/busybox:latest", command="true", name="c", detach=True,
        ports={"80/tcp": 8080, "53/udp": ("127.0.0.1", 5353), 443: None},
        volumes={"/srv/data": {"bind": "/data", "mode": "ro"}}, environment={"A": "1"},
        restart_policy={"Name": "always"}, labels={"a": "b"}, mem_limit="64m", cap_drop=["ALL"],
        healthcheck={"test": ["CMD-SHELL", "true"], "interval": 1000000000}, stop_signal="SIGINT",
        working_dir="/", user="nobody", hostname="h", tty=True, stdin_open=True, auto_remove=True,
        use_config_proxy=True, runtime="runc", platform="linux/amd64",
    )
    yield "containers.create: volumes as a list, mounts, device requests", dict(
        image="tug-test/busybox:latest", command="true", volumes=["/srv/data:/data:rw"],
        mounts=[types.Mount("/cache", None, type="tmpfs")],
        device_requests=[types.DeviceRequest(count=1, capabilities=[["gpu"]])],
    )


def service_cases():
    """`create_service` with every `docker.types` builder of a service spec."""
    container_spec = types.ContainerSpec(
        "tug-test/busybox:latest", command=["sh", "-c"], args=["sleep 60"], hostname="h",
        env={"A": "1"}, workdir="/srv", user="nobody", labels={"c": "d"},
        mounts=[types.Mount("/data", "vol"), "/srv:/srv:ro"], stop_grace_period=10000000000,
        secrets=[types.SecretReference("sid", "sname", filename="s", uid="0", gid="0", mode=0o400)],
        tty=True, groups=["audio"], open_stdin=True, read_only=True, stop_signal="SIGTERM",
        healthcheck=types.Healthcheck(test=["CMD", "true"], interval=2000000000, retries=2),
        hosts={"db": "10.0.0.2"}, dns_config=types.DNSConfig(nameservers=["8.8.8.8"], search=["x"],
                                                              options=["ndots:2"]),
        configs=[types.ConfigReference("cid", "cname", filename="/c", uid="0", gid="0", mode=0o444)],
        privileges=types.Privileges(credentialspec_file="spec.json", selinux_disable=False,
                                    selinux_user="u", selinux_role="r", selinux_type="t", selinux_level="l"),
        isolation="default", init=True, cap_add=["NET_ADMIN"], cap_drop=["MKNOD"],
        sysctls={"net.core.somaxconn": "1024"},
    )
    task = types.TaskTemplate(
        container_spec,
        resources=types.Resources(cpu_limit=500000000, mem_limit=67108864, cpu_reservation=100000000,
                                  mem_reservation=33554432, generic_resources={"gpu": 1, "ssd": "a"}),
        restart_policy=types.RestartPolicy(condition="on-failure", delay=1000000000, max_attempts=3,
                                           window=10000000000),
        placement=types.Placement(constraints=["node.role==manager"],
                                  preferences=[types.PlacementPreference("spread", "node.labels.zone")],
                                  platforms=[("amd64", "linux")], maxreplicas=2),
        log_driver=types.DriverConfig("json-file", {"max-size": "1m"}),
        networks=[types.NetworkAttachmentConfig("net", aliases=["web"], options={"o": "1"}), "other"],
        force_update=1,
    )
    common = dict(
        name="web", labels={"a": "b"},
        update_config=types.UpdateConfig(parallelism=2, delay=1000000000, failure_action="rollback",
                                         monitor=5000000000, max_failure_ratio=0.5, order="start-first"),
        rollback_config=types.RollbackConfig(parallelism=1, delay=0, failure_action="pause",
                                             monitor=1000000000, max_failure_ratio=0, order="stop-first"),
        endpoint_spec=types.EndpointSpec(mode="vip", ports={8080: 80, 5353: (53, "udp"),
                                                            9090: (90, "tcp", "host")}),
    )
    yield "create_service: every builder, mode replicated with replicas", dict(
        task_template=task, mode=types.ServiceMode("replicated", replicas=3), **common)
    yield "create_service: mode global, top-level networks", dict(
        task_template=types.TaskTemplate(types.ContainerSpec("tug-test/busybox:latest")),
        mode="global", networks=["net"])
    yield "create_service: mode replicated-job", dict(
        task_template=types.TaskTemplate(types.ContainerSpec("tug-test/busybox:latest", command="true")),
        mode=types.ServiceMode("replicated-job", replicas=4, concurrency=2))
    yield "create_service: mode global-job, mounts as strings, privileges from a registry", dict(
        task_template=types.TaskTemplate(types.ContainerSpec(
            "tug-test/busybox:latest", mounts=["vol:/data:rw"],
            privileges=types.Privileges(credentialspec_registry="r"))),
        mode=types.ServiceMode("global-job"))


def swarm_spec(api):
    return api.create_swarm_spec(
        task_history_retention_limit=5, snapshot_interval=10000, keep_old_snapshots=1,
        log_entries_for_slow_followers=500, heartbeat_tick=1, election_tick=10,
        dispatcher_heartbeat_period=5000000000, node_cert_expiry=7776000000000000,
        external_cas=[types.SwarmExternalCA(url="https://ca.example", protocol="cfssl",
                                            options={"a": "b"}, ca_cert="PEM")],
        name="default", labels={"a": "b"}, signing_ca_cert="PEM", signing_ca_key="KEY", ca_force_rotate=1,
        autolock_managers=True, log_driver={"Name": "json-file", "Options": {}},
    )


def generate(version):
    """Every case under API `version`; returns the recorded bodies."""
    rec = Recorder()
    client, api = clients(rec, version)

    def case(what, call, *args, **kwargs):
        rec.case = f"{what} (API {version})"
        call(*args, **kwargs)

    for name, kwargs in container_cases(api):
        case(name, api.create_container, **kwargs)
    for name, kwargs in run_cases():
        case(name, client.containers.create, **kwargs)
    # docker-py puts `runtime` beside the config, not in HostConfig: engines before 27 read it as the
    # HostConfig's when the body has none, and ignore it when it has one.
    case("create_container: runtime keyword, no host config", api.create_container,
         "tug-test/busybox:latest", "true", runtime="runc")
    case("create_container: runtime keyword beside a host config", api.create_container,
         "tug-test/busybox:latest", "true", runtime="runc", host_config=api.create_host_config(runtime="runc"))

    case("exec_create: defaults", api.exec_create, "c", "true")
    case("exec_create: every option", api.exec_create, "c", ["sh", "-c", "id"], stdout=True, stderr=True,
         stdin=True, tty=True, privileged=True, user="root", environment={"A": "1"}, workdir="/srv",
         detach_keys="ctrl-p,ctrl-q")
    case("exec_create: environment as a list", api.exec_create, "c", "id", environment=["A=1"])
    case("exec_start: detached", api.exec_start, ID64, detach=True, tty=True)
    case("containers.exec_run", client.containers.get("c").exec_run, "id", environment={"A": "1"},
         workdir="/", user="root", privileged=False, detach=True)

    case("update_container: every option", api.update_container, "c", blkio_weight=300, cpu_period=100000,
         cpu_quota=50000, cpu_shares=512, cpuset_cpus="0", cpuset_mems="0", mem_limit="128m",
         mem_reservation="64m", memswap_limit="256m", kernel_memory="32m",
         restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    case("Container.update", client.containers.get("c").update, mem_limit="64m")
    case("commit: with a config", api.commit, "c", repository="r", tag="t",
         conf={"Cmd": ["true"], "Labels": {"a": "b"}, "Env": ["A=1"]})

    pool = types.IPAMPool(subnet="10.9.0.0/24", iprange="10.9.0.0/25", gateway="10.9.0.1",
                          aux_addresses={"reserved": "10.9.0.2"})
    case("create_network: every option", api.create_network, "net", driver="bridge",
         options={"com.docker.network.bridge.name": "br-tug"},
         ipam=types.IPAMConfig(driver="default", pool_configs=[pool], options={"a": "b"}),
         check_duplicate=True, internal=True, labels={"a": "b"}, enable_ipv6=True, attachable=True,
         scope="local", ingress=False)
    case("create_network: ingress, swarm scope", api.create_network, "net2", driver="overlay", scope="swarm",
         ingress=True, attachable=False)
    case("create_network: defaults", api.create_network, "net3")
    case("networks.create", client.networks.create, "net4", driver="bridge", ipam=types.IPAMConfig())
    case("connect_container_to_network: every option", api.connect_container_to_network, "c", "net",
         aliases=["a"], links=[("db", "database")], ipv4_address="10.9.0.5", ipv6_address="2001:db8::5",
         link_local_ips=["169.254.1.1"], driver_opt={"o": "1"}, mac_address="02:42:ac:11:00:02")
    case("connect_container_to_network: defaults", api.connect_container_to_network, "c", "net")
    case("disconnect_container_from_network: force", api.disconnect_container_from_network, "c", "net",
         force=True)

    case("create_volume: every option", api.create_volume, "vol", driver="local",
         driver_opts={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, labels={"a": "b"})
    case("create_volume: defaults", api.create_volume)
    case("volumes.create", client.volumes.create, name="vol2", labels={"a": "b"})

    spec = swarm_spec(api)
    case("init_swarm: every option", api.init_swarm, advertise_addr="127.0.0.1",
         listen_addr="127.0.0.1:2377", force_new_cluster=False, swarm_spec=spec,
         default_addr_pool=["10.20.0.0/16"], subnet_size=24, data_path_addr="127.0.0.1",
         data_path_port=4789)
    case("init_swarm: defaults", api.init_swarm)
    case("join_swarm: every option", api.join_swarm, ["127.0.0.1:2377"], "SWMTKN-1-x",
         listen_addr="127.0.0.1:2377", advertise_addr="127.0.0.1", data_path_addr="127.0.0.1")
    case("update_swarm: a full spec", api.update_swarm, 11, swarm_spec=spec, rotate_worker_token=True)
    case("swarm.update", client.swarm.update, snapshot_interval=5000, rotate_manager_token=True)
    case("unlock_swarm", api.unlock_swarm, "SWMKEY-1-x")
    case("update_node", api.update_node, "n", 3, {"Availability": "active", "Role": "manager",
                                                 "Labels": {"a": "b"}, "Name": "n"})

    for name, kwargs in service_cases():
        case(name, api.create_service, **kwargs)
    case("update_service: new spec", api.update_service, "s", 7,
         task_template=types.TaskTemplate(types.ContainerSpec("tug-test/busybox:latest", env=["A=1"])),
         name="web", labels={"a": "b"}, mode=types.ServiceMode("replicated", replicas=2),
         update_config=types.UpdateConfig(parallelism=1), networks=["net"],
         endpoint_spec=types.EndpointSpec(ports={8080: 80}),
         rollback_config=types.RollbackConfig(parallelism=1))
    case("update_service: fetching the current spec", api.update_service, "s", 7,
         mode="global", fetch_current_spec=True)
    case("services.create", client.services.create, "tug-test/busybox:latest", ["sleep", "60"], name="web",
         env=["A=1"], labels={"a": "b"}, container_labels={"c": "d"}, mode=types.ServiceMode("replicated"),
         constraints=["node.role==manager"], preferences=[("spread", "node.labels.zone")],
         maxreplicas=1, platforms=[("amd64", "linux")], log_driver="json-file",
         log_driver_options={"max-size": "1m"}, networks=["net"], endpoint_spec=types.EndpointSpec(),
         resources=types.Resources(mem_limit=67108864), restart_policy=types.RestartPolicy(),
         stop_grace_period=1000000000, hosts={"db": "10.0.0.2"}, init=True)
    case("Service.update (fetches the current spec)", client.services.get("s").update, image="tug-test/busybox:1",
         force_update=True, env=["B=2"], mode={"Replicated": {"Replicas": 2}})
    case("Service.scale", client.services.get("s").scale, 3)

    case("create_secret: labels", api.create_secret, "s", b"data", labels={"a": "b"})
    case("create_secret: driver", api.create_secret, "s2", "data", driver=types.DriverConfig("d", {"o": "1"}))
    case("secrets.create", client.secrets.create, name="s3", data="x")
    case("create_config: labels and templating", api.create_config, "c", b"data", labels={"a": "b"},
         templating={"Name": "golang", "Options": {}})
    case("configs.create", client.configs.create, name="c2", data="x")

    privileges = api.plugin_privileges("vieux/sshfs")
    # Each returns its progress stream unread: the request has been sent by then.
    case("pull_plugin: the privileges plugin_privileges answered", api.pull_plugin, "vieux/sshfs",
         privileges, name="sshfs")
    case("upgrade_plugin: the privileges plugin_privileges answered", api.upgrade_plugin, "sshfs",
         "vieux/sshfs:next", privileges)
    case("configure_plugin: options as a dict", api.configure_plugin, "sshfs", {"DEBUG": "1", "mnt.source": "/x"})
    case("configure_plugin: options as a list", api.configure_plugin, "sshfs", ["DEBUG=1"])
    case("login", api.login, "user", password="pw", email="u@example.com", registry="localhost:5000")
    return rec.bodies


def main():
    bodies = []
    # docker-py's own default (1.45), and the version a 20.10 daemon speaks: some bodies differ by version.
    for version in ("1.41", docker.constants.DEFAULT_DOCKER_API_VERSION):
        bodies.extend(generate(version))
    json.dump(bodies, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
