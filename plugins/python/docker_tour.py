"""A docker-py script as anyone writes one: nothing here knows about tug. `tug build` turns it into a
plugin; `tug run docker_tour.wasm -- PART…` runs the parts named (all of `basic` by default) and exits 1
if any check fails. The tests (tests/tests/python.rs) run it against the real daemon.
"""

import io
import sys
import tarfile
import time

import docker
import docker.errors
from docker.utils.socket import frames_iter

IMAGE = "tug-test/busybox:latest"
client = docker.from_env()
failed = []


def check(name, fn):
    """Runs one check, printing PASS or FAIL with what it saw."""
    try:
        seen = fn()
        print(f"PASS {name}: {seen!r}"[:300])
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the script exits 1
        failed.append(name)
        print(f"FAIL {name}: {type(e).__name__}: {e}")


def version():
    v = client.version()
    assert v["ApiVersion"] and client.ping() is True
    return v["ApiVersion"]


def run_and_list():
    out = client.containers.run(IMAGE, ["echo", "hi"], remove=True)
    assert out == b"hi\n", out
    ct = client.containers.run(IMAGE, ["sleep", "30"], detach=True, labels={"tour": "1"})
    try:
        names = [c.name for c in client.containers.list(filters={"label": "tour=1"})]
        assert ct.name in names, names
        return names
    finally:
        ct.remove(force=True)


def logs():
    ct = client.containers.run(
        IMAGE, ["sh", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.1; done"], detach=True
    )
    try:
        chunks = list(ct.logs(stream=True, follow=True))
        assert b"".join(chunks).count(b"out") == 3, chunks
        assert ct.logs(stdout=True, stderr=False) == b"out1\nout2\nout3\n"
        assert ct.wait()["StatusCode"] == 0
        return len(chunks)
    finally:
        ct.remove(force=True)


def errors():
    try:
        client.containers.get("tug-no-such-container")
        raise AssertionError("no NotFound")
    except docker.errors.NotFound:
        pass
    try:
        client.containers.run(IMAGE, ["sh", "-c", "echo boom >&2; exit 3"], remove=True)
        raise AssertionError("no ContainerError")
    except docker.errors.ContainerError as e:
        assert e.exit_status == 3 and b"boom" in e.stderr, (e.exit_status, e.stderr)
    try:
        client.containers.run(IMAGE, ["true"], privileged=True, remove=True)
        raise AssertionError("privileged was not refused")
    except docker.errors.APIError as e:
        assert e.status_code == 403, e.status_code
        assert "containers.privileged" in str(e), str(e)
        # tug's subclass of APIError carries the denial's parts.
        assert type(e).__name__ == "PolicyDenied" and e.rule == "containers.privileged", type(e)
        assert e.field and e.reason, (e.field, e.reason)
        return str(e.explanation)


def exec_run():
    ct = client.containers.run(IMAGE, ["sleep", "30"], detach=True)
    try:
        code, out = ct.exec_run(["sh", "-c", "echo exo; echo exe >&2; exit 4"])
        assert code == 4 and sorted(out.split()) == [b"exe", b"exo"], (code, out)
        code, (out, err) = ct.exec_run(["sh", "-c", "echo exo; echo exe >&2"], demux=True)
        assert (out, err) == (b"exo\n", b"exe\n"), (out, err)
        streamed = b"".join(ct.exec_run(["sh", "-c", "echo a; echo b"], stream=True).output)
        assert streamed == b"a\nb\n", streamed
        sock = ct.exec_run(["cat"], stdin=True, socket=True).output
        sock._sock.sendall(b"ping\n")
        sock._sock.shutdown(1)
        frames = list(frames_iter(sock, False))
        assert frames == [(1, b"ping\n")], frames
        code, out = ct.exec_run(["sh", "-c", "tty; echo to-stderr >&2"], tty=True)
        assert code == 0 and out.startswith(b"/dev/pts/") and b"to-stderr" in out, (code, out)
        return code
    finally:
        ct.remove(force=True)


def attach_socket():
    ct = client.containers.run(IMAGE, ["cat"], stdin_open=True, detach=True)
    try:
        sock = ct.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        sock._sock.sendall(b"through attach\n")
        frame = next(frames_iter(sock, False))
        assert frame == (1, b"through attach\n"), frame
        sock.close()
        ct.kill()
        assert ct.wait()["StatusCode"] == 137
        return frame
    finally:
        ct.remove(force=True)


def archive():
    ct = client.containers.run(IMAGE, ["sleep", "30"], detach=True)
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            payload = b"hello from a plugin\n"
            info = tarfile.TarInfo("hello.txt")
            info.size = len(payload)
            t.addfile(info, io.BytesIO(payload))
        assert ct.put_archive("/tmp", buf.getvalue()) is True
        bits, stat = ct.get_archive("/tmp/hello.txt")
        back = tarfile.open(fileobj=io.BytesIO(b"".join(bits))).extractfile("hello.txt").read()
        assert back == payload and stat["name"] == "hello.txt" and stat["size"] == len(payload), stat
        exported = b"".join(ct.export())
        assert len(exported) > 10000
        return stat
    finally:
        ct.remove(force=True)


def stats_events():
    since = int(time.time()) - 1
    ct = client.containers.run(IMAGE, ["sleep", "30"], detach=True)
    try:
        one = ct.stats(stream=False)
        assert "memory_stats" in one, sorted(one)
        stream = ct.stats(stream=True, decode=True)
        assert "read" in next(stream)
        assert "PID" in ct.top()["Titles"]
    finally:
        ct.remove(force=True)
    events = client.events(since=since, until=int(time.time()) + 1, decode=True, filters={"type": "container"})
    seen = {e.get("status") for e in events}
    assert {"create", "start", "destroy"} <= seen, seen
    return sorted(seen)


def networks_volumes():
    net = client.networks.create(
        "tug-tour-net",
        ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="172.31.250.0/24")]),
    )
    vol = client.volumes.create("tug-tour-vol")
    try:
        out = client.containers.run(
            IMAGE,
            ["sh", "-c", "echo kept > /data/f; cat /data/f; ip -4 addr show eth0"],
            network="tug-tour-net",
            mounts=[docker.types.Mount("/data", "tug-tour-vol", type="volume")],
            remove=True,
        )
        assert b"kept" in out and b"172.31.250." in out, out
        return net.attrs["IPAM"]["Config"]
    finally:
        net.remove()
        vol.remove()


def low_level():
    api = docker.APIClient(base_url="unix://var/run/docker.sock")
    c = api.create_container(IMAGE, ["echo", "low"])
    api.start(c)
    assert api.wait(c)["StatusCode"] == 0
    out = api.logs(c)
    api.remove_container(c)
    assert out == b"low\n", out
    return out


def build_save_load():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        df = f"FROM {IMAGE}\nRUN echo built > /built\nLABEL tour=1\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(df)
        t.addfile(info, io.BytesIO(df))
    buf.seek(0)
    image, log = client.images.build(fileobj=buf, custom_context=True, tag="tug-test/tour-built:1", rm=True)
    assert any("Successfully built" in line.get("stream", "") for line in log), log
    assert client.containers.run(image.id, ["cat", "/built"], remove=True) == b"built\n"
    image.tag("tug-test/tour-built", "2")
    history = image.history()
    saved = b"".join(image.save())
    assert len(saved) > 10000 and history
    return image.tags


def push_pull():
    """Tag, push to the local registry (the progress stream), remove, pull back by tag."""
    repo = "127.0.0.1:5000/tug-test/tour"
    tag = f"{int(time.time() * 1000)}"
    image = client.images.get(IMAGE)
    assert image.tag(repo, tag)
    progress = list(client.images.push(repo, tag=tag, stream=True, decode=True))
    assert not any("error" in p for p in progress), progress
    assert any("Digest" in p.get("aux", {}) for p in progress), progress
    client.images.remove(f"{repo}:{tag}")
    pulled = client.images.pull(repo, tag=tag)
    assert f"{repo}:{tag}" in pulled.tags, pulled.tags
    client.images.remove(f"{repo}:{tag}")
    return pulled.tags


def push_pull_auth():
    """The basic-auth registry: a push without credentials is refused by the registry; with docker-py's
    ``auth_config`` it goes through, and a pull with them brings it back."""
    user, password = sys.argv[sys.argv.index("registry-auth") + 1:][:2]
    repo = "127.0.0.1:5001/tug-test/tour-auth"
    tag = f"{int(time.time() * 1000)}"
    auth = {"username": user, "password": password}
    image = client.images.get(IMAGE)
    assert image.tag(repo, tag)
    try:
        refused = list(client.images.push(repo, tag=tag, stream=True, decode=True))
        assert any("error" in p for p in refused), refused
        pushed = list(client.images.push(repo, tag=tag, stream=True, decode=True, auth_config=auth))
        assert not any("error" in p for p in pushed), pushed
        client.images.remove(f"{repo}:{tag}")
        pulled = client.images.pull(repo, tag=tag, auth_config=auth)
        assert f"{repo}:{tag}" in pulled.tags, pulled.tags
        return pulled.tags
    finally:
        try:
            client.images.remove(f"{repo}:{tag}")
        except docker.errors.NotFound:
            pass


def push_pull_host_auth():
    """The basic-auth registry with no credentials in the script: the host's docker config has them
    (the plugin never sees them)."""
    repo = "127.0.0.1:5001/tug-test/tour-host-auth"
    tag = f"{int(time.time() * 1000)}"
    image = client.images.get(IMAGE)
    assert image.tag(repo, tag)
    try:
        pushed = list(client.images.push(repo, tag=tag, stream=True, decode=True))
        assert not any("error" in p for p in pushed), pushed
        client.images.remove(f"{repo}:{tag}")
        pulled = client.images.pull(repo, tag=tag)
        assert f"{repo}:{tag}" in pulled.tags, pulled.tags
        return pulled.tags
    finally:
        try:
            client.images.remove(f"{repo}:{tag}")
        except docker.errors.NotFound:
            pass


def swarm():
    """A one-node swarm: init, a secret and a config mounted into a service's task, its logs, then
    everything removed and the swarm left."""
    client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377",
                      labels={"org.example.plugin": "swarm"})
    try:
        mark = {"org.example.plugin": "swarm"}
        secret = client.secrets.create(name="tug-py-secret", data=b"s3cret", labels=mark)
        config = client.configs.create(name="tug-py-config", data=b"conf", labels=mark)
        service = client.services.create(
            IMAGE,
            ["sh", "-c", "cat /run/secrets/tug-py-secret /conf; echo; sleep 60"],
            name="tug-py-service",
            labels={"org.example.plugin": "swarm"},
            secrets=[docker.types.SecretReference(secret.id, "tug-py-secret")],
            configs=[docker.types.ConfigReference(config.id, "tug-py-config", filename="/conf")],
            mode=docker.types.ServiceMode("replicated", replicas=1),
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            states = [t["Status"]["State"] for t in service.tasks()]
            if "running" in states:
                break
            time.sleep(0.5)
        assert "running" in states, states
        logs = b""
        while time.time() < deadline and b"s3cretconf" not in logs:
            logs = b"".join(service.logs(stdout=True))
            time.sleep(0.5)
        assert b"s3cretconf" in logs, logs
        listed = [s.name for s in client.services.list(filters={"name": "tug-py-service"})]
        assert listed == ["tug-py-service"], listed
        service.remove()
        secret.remove()
        config.remove()
        return states
    finally:
        client.swarm.leave(force=True)


PARTS = {
    "basic": [
        ("version", version),
        ("run_and_list", run_and_list),
        ("logs", logs),
        ("errors", errors),
        ("exec_run", exec_run),
        ("attach_socket", attach_socket),
        ("archive", archive),
        ("stats_events", stats_events),
        ("networks_volumes", networks_volumes),
        ("low_level", low_level),
    ],
    "images": [("build_save_load", build_save_load)],
    "registry": [("push_pull", push_pull)],
    "registry-auth": [("push_pull_auth", push_pull_auth)],
    "registry-host-auth": [("push_pull_host_auth", push_pull_host_auth)],
    "swarm": [("swarm", swarm)],
}

for part in [a for a in sys.argv[1:] if a in PARTS] or ["basic"]:
    for name, fn in PARTS[part]:
        check(name, fn)
if failed:
    print("failed:", ", ".join(failed), file=sys.stderr)
    sys.exit(1)
print("all passed")
