"""A python-docker 0.2 script as its README writes one: nothing here knows about tug. `tug build` turns it
into a plugin; tests/tests/python_docker.rs runs it against the local registry and the daemon:

    tug run registry_tour.wasm -- REGISTRY_URL BASE_REPO TAG NEW_REPO OUT_DIR HOST_DIR

BASE_REPO:TAG is an image of two layers (busybox and one more); NEW_REPO a repository nobody pushed to
yet; OUT_DIR a directory the script may write; HOST_DIR a directory with `hello.txt` (`-`: none). Each step prints
PASS or FAIL with what it saw; the first failure ends the script with exit status 1.
"""

import sys
import tarfile

import requests

from python_docker.registry import Registry

registry_url, base_repo, tag, new_repo, out_dir, host_dir = sys.argv[1:7]
registry = Registry(registry_url)
new_layers = 3 if host_dir != "-" else 2
state = {}


def step(name, fn):
    """Runs one step, printing PASS or FAIL with what it saw; a failure ends the script."""
    try:
        seen = fn()
        print(f"PASS {name}: {seen}"[:400])
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the script exits 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")
        sys.exit(1)


def pull_lazy():
    before = registry.stats()
    image = registry.pull_image(base_repo, tag, lazy=True)
    after = registry.stats()
    assert image.name == base_repo and image.tag == tag, (image.name, image.tag)
    assert len(image.layers) == 2, image.layers
    base_layer = image.layers[1]
    downloaded = after["blob_bytes_downloaded"] - before["blob_bytes_downloaded"]
    # The config only: not a byte of a layer.
    assert downloaded < base_layer.compressed_size, (downloaded, base_layer.compressed_size)
    state.update(image=image, base_layer=base_layer)
    return f"{len(image.layers)} layers, {downloaded} blob bytes downloaded (the config)"


def edit():
    image = state["image"]
    image.remove_layer()
    assert [l.compressed_checksum for l in image.layers] == [state["base_layer"].compressed_checksum]
    image.name = new_repo
    image.tag = "1"
    image.add_layer_contents({"/this/is/a/test1": b"this is test 1"})

    def executable(tarinfo):
        tarinfo.mode = 0o755
        return tarinfo

    image.add_layer_contents({"/bin/hello-tug": b"#!/bin/sh\necho hello from tug\n"},
                             filter=executable)
    if host_dir != "-":
        image.add_layer_path(host_dir, arcpath="/app")
    image.layers[0].config["Env"].append("FOO=BAR")
    image.layers[0].config["Labels"]["org.example.tour"] = "registry"
    assert len(image.layers) == new_layers + 1, image.layers
    return [l.compressed_checksum[:12] for l in image.layers]


def push():
    image = state["image"]
    before = registry.stats()
    report = registry.push_image(image)
    after = registry.stats()
    down = after["blob_bytes_downloaded"] - before["blob_bytes_downloaded"]
    up = after["blob_bytes_uploaded"] - before["blob_bytes_uploaded"]
    base = state["base_layer"].compressed_size
    assert down == 0, f"{down} blob bytes downloaded by the push"
    assert up == report.bytes_uploaded and up < base, (up, report.bytes_uploaded, base)
    assert report.blobs_uploaded == new_layers + 1, report  # the new layers and the config
    assert report.blobs_mounted + report.blobs_skipped == 1, report  # the base layer, not sent
    state["report"] = report
    return (f"{report.reference} {report.manifest_digest[:19]}: {report.bytes_uploaded} bytes uploaded in "
            f"{report.blobs_uploaded} blobs, {report.blobs_mounted} mounted, {report.blobs_skipped} "
            f"skipped, 0 downloaded (base layer {base} bytes)")


def pull_back():
    pulled = registry.pull_image(new_repo, "1")
    image = state["image"]
    assert [l.compressed_checksum for l in pulled.layers] == [l.compressed_checksum for l in image.layers]
    config = pulled.layers[0].config
    assert "FOO=BAR" in config["Env"], config["Env"]
    assert config["Labels"].get("org.example.tour") == "registry", config["Labels"]
    return f"{len(pulled.layers)} layers, Env {config['Env']}"


def listings():
    tags = registry.list_image_tags(new_repo)
    assert "1" in tags, tags
    names = registry.list_images()
    assert new_repo in names, names
    return f"tags {tags}; {len(names)} repositories in the catalog"


def listing_elsewhere():
    # A registry the policy does not allow: refused as an HTTP 403 naming the rule.
    try:
        Registry("http://127.0.0.1:5002").list_images()
    except requests.exceptions.HTTPError as e:
        assert e.response.status_code == 403 and "rule `registries`" in str(e), e
        return str(e)
    raise AssertionError("the catalog of 127.0.0.1:5002 was listed")


def write_filename():
    path = f"{out_dir}/example-docker-image.tar"
    state["image"].write_filename(path)
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert "manifest.json" in names, names
    return f"{path}: {len(names)} entries"


def run():
    image = state["image"]
    out = image.run(["cat", "/this/is/a/test1"])
    assert out == b"this is test 1", out
    more = image.run(["sh", "-c", "echo $FOO; hello-tug; cat /app/hello.txt 2>/dev/null || true"])
    host = b"hello from the host\n" if host_dir != "-" else b""
    assert more == b"BAR\nhello from tug\n" + host, more
    return f"{out!r} {more!r}"


def unsupported():
    try:
        registry.delete_image(new_repo, "1")
    except NotImplementedError as e:
        return str(e)[:80]
    raise AssertionError("delete_image did not raise")


step("pull_lazy", pull_lazy)
step("edit", edit)
step("push", push)
step("pull_back", pull_back)
step("listings", listings)
step("listing_elsewhere", listing_elsewhere)
step("write_filename", write_filename)
step("run", run)
step("delete_unsupported", unsupported)
print("all passed")
