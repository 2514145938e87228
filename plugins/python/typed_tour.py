"""tug's typed Python layer (``import tug``): engines by name, keyword options with defaults, filters as
dicts, JSON decoded, handles as context managers, errors as exceptions (``PolicyDenied`` with rule,
field and reason), ``tug.wait`` on several streams, and daemonless registry images. ``tug run
typed_tour.wasm -- PART…`` runs the parts named (``basic`` by default) and exits 1 if a check fails; the
tests (tests/tests/python.rs) run it against the real daemon.
"""

import io
import sys
import tarfile
import time

import tug

IMAGE = "tug-test/busybox:latest"
failed = []


def check(name, fn):
    """Runs one check, printing PASS or FAIL with what it saw."""
    try:
        seen = fn()
        print(f"PASS {name}: {seen!r}"[:300])
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the script exits 1
        failed.append(name)
        print(f"FAIL {name}: {type(e).__name__}: {e}")


eng = tug.engine()


def run(cmd, **host):
    """Create and start a container of IMAGE running ``cmd``; returns its id."""
    made = eng.containers.create({"Image": IMAGE, "Cmd": cmd, "Labels": {"typed": "1"},
                                  "HostConfig": host})
    eng.containers.start(made["Id"])
    return made["Id"]


def lifecycle():
    cid = run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    try:
        assert eng.containers.wait(cid)["StatusCode"] == 3
        with eng.containers.logs(cid, stdout=True, stderr=True) as out:
            stdout, stderr = out.read_all()
        assert (stdout, stderr) == (b"out\n", b"err\n"), (stdout, stderr)
        listed = eng.containers.list(all=True, filters={"label": ["typed=1"], "id": cid})
        assert [c["Id"] for c in listed] == [cid], listed
        assert eng.containers.inspect(cid)["State"]["ExitCode"] == 3
        return eng.name, eng.api_version()
    finally:
        eng.containers.remove(cid, force=True)


def errors():
    try:
        eng.containers.inspect("tug-no-such-container")
        raise AssertionError("no NotFound")
    except tug.NotFound as e:
        assert e.status_code == 404 and e.function == "containers.inspect", (e.status_code, e.function)
    try:
        eng.containers.create({"Image": IMAGE, "HostConfig": {"Privileged": True}})
        raise AssertionError("privileged was not refused")
    except tug.PolicyDenied as e:
        assert e.status_code == 403 and e.rule == "containers.privileged", (e.rule, e.field)
        assert "containers.create" in str(e) and e.reason, str(e)
        denied = (e.rule, e.field)
    try:
        eng.containers.list(colour="blue")
        raise AssertionError("an unknown option was accepted")
    except TypeError as e:
        assert "colour" in str(e) and "all" in str(e), str(e)
    try:
        tug.engine("no-such-engine")
        raise AssertionError("an engine the host did not grant was opened")
    except tug.TugError as e:
        assert "engines.open" in str(e), str(e)
    return denied


def exec_socket():
    cid = run(["sleep", "30"])
    try:
        made = eng.exec.create(cid, {"Cmd": ["sh", "-c", "cat; echo done >&2"], "AttachStdin": True,
                                     "AttachStdout": True, "AttachStderr": True})
        with eng.exec.start(made["Id"], stdin=True) as sock:
            sock.write(b"ping\n")
            sock.close_stdin()
            out, err = sock.read_all()
        assert (out, err) == (b"ping\n", b"done\n"), (out, err)
        assert eng.exec.inspect(made["Id"])["ExitCode"] == 0
        return out
    finally:
        eng.containers.remove(cid, force=True)


def archive():
    cid = run(["sleep", "30"])
    try:
        payload = b"typed archive\n"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            info = tarfile.TarInfo("typed.txt")
            info.size = len(payload)
            t.addfile(info, io.BytesIO(payload))
        with eng.containers.put_archive(cid, "/tmp") as up:
            up.write(buf.getvalue())
        got = eng.containers.get_archive(cid, "/tmp/typed.txt")
        assert got.stat["name"] == "typed.txt" and got.stat["size"] == len(payload), got.stat
        with got.content as content:
            data = content.read_all()
        assert tarfile.open(fileobj=io.BytesIO(data)).extractfile("typed.txt").read() == payload
        return got.stat["size"]
    finally:
        eng.containers.remove(cid, force=True)


def wait_on_two():
    slow = run(["sh", "-c", "sleep 2; echo slow"])
    fast = run(["sh", "-c", "echo fast"])
    try:
        a = eng.containers.logs(slow, stdout=True, follow=True)
        b = eng.containers.logs(fast, stdout=True, follow=True)
        with a, b:
            t = time.monotonic()
            ready = tug.wait(a, b, timeout=10)
            first = "slow" if ready[0] is a else "fast"
            assert first == "fast" and time.monotonic() - t < 1.5, (first, time.monotonic() - t)
            assert b.read_all()[0] == b"fast\n"
            assert tug.wait(a, timeout=0.05) == [], "the slow stream was ready too early"
            assert a.read_all()[0] == b"slow\n"
        return first
    finally:
        eng.containers.remove(slow, force=True)
        eng.containers.remove(fast, force=True)


def events_and_volumes():
    since = str(int(time.time()) - 1)
    vol = eng.volumes.create({"Name": "tug-typed-vol", "Labels": {"typed": "1"}})
    try:
        assert vol["Name"] == "tug-typed-vol", vol
        cid = run(["sh", "-c", "echo kept > /data/f"],
                  Mounts=[{"Type": "volume", "Source": "tug-typed-vol", "Target": "/data"}])
        eng.containers.wait(cid)
        eng.containers.remove(cid)
    finally:
        eng.volumes.remove("tug-typed-vol")
    until = str(int(time.time()) + 1)
    with eng.system.events(since=since, until=until, filters={"type": ["container"]}) as events:
        seen = {e["Action"] for e in events if e["Actor"]["ID"] == cid}
    assert {"create", "start", "die", "destroy"} <= seen, seen
    return sorted(seen)


def registry():
    """A base pushed by the test to the open registry: add a layer, edit Env, push under a new tag;
    the base's layers are neither downloaded nor uploaded."""
    base = sys.argv[sys.argv.index("registry") + 1]
    before = tug.registry.stats()
    with tug.registry.pull(base) as img:
        bottom = img.layers()
        img.add_layer_files({"/typed.txt": b"from the typed layer\n"}, comment="typed")
        img.edit(env=["TYPED=1"], labels={"typed": "1"})
        target = base.rsplit(":", 1)[0] + ":typed"
        report = img.push(target)
    after = tug.registry.stats()
    assert report.blobs_uploaded == 2, report  # the new layer and the config
    assert report.blobs_skipped + report.blobs_mounted == len(bottom), report  # the base's layers
    # Only the base's config was downloaded, none of its layers.
    downloaded = after.blob_bytes_downloaded - before.blob_bytes_downloaded
    assert downloaded < min(layer.size for layer in bottom), (downloaded, bottom)
    with tug.registry.pull(target) as back:
        config = back.config()
        assert "TYPED=1" in config["config"]["Env"], config["config"]["Env"]
        assert len(back.layers()) == len(bottom) + 1
    repo = base.rsplit(":", 1)[0]
    assert sorted(tug.registry.list_tags(repo)) == ["base", "typed"], tug.registry.list_tags(repo)
    return report.manifest_digest


PARTS = {
    "basic": [
        ("lifecycle", lifecycle),
        ("errors", errors),
        ("exec_socket", exec_socket),
        ("archive", archive),
        ("wait_on_two", wait_on_two),
        ("events_and_volumes", events_and_volumes),
    ],
    "registry": [("registry", registry)],
}

for part in sys.argv[1:2] or ["basic"]:
    for name, fn in PARTS[part]:
        check(name, fn)
if failed:
    print("failed:", ", ".join(failed), file=sys.stderr)
    sys.exit(1)
print("all passed")
