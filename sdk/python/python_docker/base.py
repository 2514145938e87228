"""python-docker's ``Image`` and ``Layer`` over tug's ``registry`` interface.

An :class:`Image` is a handle on an image the tug host holds: its manifest and config, and layers that
stay in their registry (a pulled image's) or on the host (the ones added here) until the image is pushed,
written out or loaded. ``image.layers`` lists them newest first, as python-docker does; the image
config is ``image.layers[0].config`` (every layer shows the same dict), and edits to it (``Env``,
``Cmd``, ``Entrypoint``, ``Labels``, ``WorkingDir``, ``User``…) are applied to the image before it is
pushed, written or run. Change the layers with :meth:`Image.remove_layer` and the ``add_layer_*``
methods, not by editing the list.
"""

import copy
import io
import json
import os
import shlex
import sys
import tarfile

from . import _wit

__all__ = ["Image", "Layer"]

#: The platform of an image made here from nothing (``Image(name, tag)``).
DEFAULT_PLATFORM = ("linux", "amd64", None)


def _hex(digest):
    """``sha256:abc…`` → ``abc…``."""
    return digest.split(":", 1)[-1] if digest else digest


class Layer:
    """One layer of an :class:`Image` (python-docker's ``Layer``): ``id`` and ``checksum`` (the hex of the
    uncompressed tar's digest, the config's ``diff_id``), ``parent`` (the id of the layer below),
    ``compressed_checksum`` and ``compressed_size`` (the blob in the registry), ``media_type``,
    ``local`` (added by this run, held by the host), and ``config``: the image config (the same dict on
    every layer; ``image.layers[0].config`` is what python-docker scripts edit).

    The layer's bytes are not in the plugin: ``content``, ``size``, ``compressed_content``, ``tar``,
    ``targz`` and ``list_files`` raise ``NotImplementedError``; write the image out with
    ``Image.write_filename`` to get them."""

    def __init__(self, id, parent, content=None, architecture="amd64", os="linux", created=None,
                 author=None, config=None, checksum=None, compressed_size=None,
                 compressed_checksum=None, media_type=None, local=False, digest=None):
        """As python-docker's ``Layer``; ``content`` must be None (the bytes stay with the host)."""
        if content is not None:
            raise NotImplementedError(
                "python_docker (tug): a Layer cannot be made from bytes; use Image.add_layer_contents, "
                "add_layer_path or add_layer_paths (the host builds and holds the layer)"
            )
        self.id = id
        self.parent = parent
        self.architecture = architecture
        self.os = os
        self.created = created
        self.author = author
        self.config = config if config is not None else {}
        self.checksum = checksum
        self.compressed_size = compressed_size
        self.compressed_checksum = compressed_checksum
        self.media_type = media_type
        self.local = local
        self.digest = digest

    def _bytes(self, what):
        raise NotImplementedError(
            "python_docker (tug): Layer.%s: a layer's bytes stay in the registry (or with the tug host) "
            "until the image is written out; use Image.write_filename" % what
        )

    @property
    def content(self):
        """Not available in tug: raises ``NotImplementedError``."""
        return self._bytes("content")

    @property
    def size(self):
        """Not available in tug (the uncompressed size needs the bytes): raises ``NotImplementedError``."""
        return self._bytes("size")

    @property
    def compressed_content(self):
        """Not available in tug: raises ``NotImplementedError``."""
        return self._bytes("compressed_content")

    @property
    def tar(self):
        """Not available in tug: raises ``NotImplementedError``."""
        return self._bytes("tar")

    @property
    def targz(self):
        """Not available in tug: raises ``NotImplementedError``."""
        return self._bytes("targz")

    def list_files(self):
        """Not available in tug: raises ``NotImplementedError``."""
        return self._bytes("list_files")

    def __repr__(self):
        return "Layer(id=%r, compressed_checksum=%r, compressed_size=%r, local=%r)" % (
            self.id, self.compressed_checksum, self.compressed_size, self.local)


def _normalized(config):
    """The image config's ``config`` section as a dict a python-docker script can edit in place: ``Env``
    a list, ``Labels`` a dict."""
    config = dict(config or {})
    if not isinstance(config.get("Env"), list):
        config["Env"] = []
    if not isinstance(config.get("Labels"), dict):
        config["Labels"] = {}
    return config


class Image:
    """An image held by the tug host (python-docker's ``Image``): ``name`` (the repository, without the
    registry: ``tug-test/base``), ``tag``, ``layers`` (newest first).

    ``Image(name, tag)`` starts an empty image (``linux/amd64``, or ``platform="linux/arm64"``) to add
    layers to; ``Registry.pull_image`` returns a pulled one. ``name`` and ``tag`` may be changed; they
    name the image when it is pushed (``Registry.push_image``), written (``write_filename``) and loaded
    (``run``)."""

    def __init__(self, name, tag, layers=None, platform=None):
        """``layers`` must be empty: layers are added with the ``add_layer_*`` methods."""
        if layers:
            raise NotImplementedError(
                "python_docker (tug): an Image cannot be made from Layer objects; pull one with "
                "Registry.pull_image or add layers with add_layer_contents / add_layer_path"
            )
        self.name = name
        self.tag = tag
        self.layers = []
        self._registry = None
        self._handle = None
        self._platform = platform
        self._config = _normalized({})
        self._synced_config = copy.deepcopy(self._config)
        self._synced_name = None
        self._loaded = None
        #: The last push's report (``tug:engine/registry`` ``push-report``), set by ``Registry.push_image``.
        self.push_report = None

    # --- the host's image ------------------------------------------------------------------------------

    @classmethod
    def _from_handle(cls, name, tag, handle, registry):
        """The :class:`Image` of a pulled handle (``registry``: the host it came from)."""
        image = cls(name, tag)
        image._handle = handle
        image._registry = registry
        image._synced_name = image._reference()
        image._reload()
        return image

    def _image(self):
        """The host's image handle (an empty image for ``Image(name, tag)``)."""
        if self._handle is None:
            _wit.require()
            os_, arch, variant = DEFAULT_PLATFORM
            if self._platform:
                parts = self._platform.split("/")
                if len(parts) not in (2, 3):
                    raise ValueError("python_docker (tug): platform %r: os/arch[/variant]" % self._platform)
                os_, arch, variant = parts[0], parts[1], (parts[2] if len(parts) > 2 else None)
            platform = _wit.wit_registry.Platform(os=os_, architecture=arch, variant=variant)
            self._handle = _wit.wit_registry.Image.scratch(platform)
        return self._handle

    def _host_config(self):
        """The whole image config document, as the host holds it."""
        h = self._image()
        return json.loads(_wit.call("registry.image.config", h.config))

    def _host_layers(self):
        """The host's layers, bottom first."""
        h = self._image()
        return _wit.call("registry.image.layers", h.layers)

    def _reload(self):
        """Builds ``layers`` (newest first) and the shared config from the host's image."""
        doc = self._host_config()
        self._config = _normalized(doc.get("config"))
        self._synced_config = copy.deepcopy(self._config)
        layers = []
        parent = None
        for info in self._host_layers():
            layer = self._layer(info, parent, doc)
            parent = layer.id
            layers.insert(0, layer)
        self.layers = layers

    def _layer(self, info, parent, doc=None, config=None):
        """A :class:`Layer` for the host's ``layer-info`` (``config``: the shared config dict)."""
        doc = doc or {}
        return Layer(
            id=_hex(info.diff_id),
            parent=parent,
            architecture=doc.get("architecture", DEFAULT_PLATFORM[1]),
            os=doc.get("os", DEFAULT_PLATFORM[0]),
            created=doc.get("created"),
            author=doc.get("author"),
            config=self._config if config is None else config,
            checksum=_hex(info.diff_id),
            compressed_size=info.size,
            compressed_checksum=_hex(info.digest),
            media_type=info.media_type,
            local=info.local,
            digest=info.digest,
        )

    def _check_layers(self):
        """Refuses a ``layers`` list edited by hand: it must be the host's, newest first."""
        host = [i.digest for i in reversed(self._host_layers())]
        mine = [getattr(l, "digest", None) for l in self.layers]
        if host != mine:
            raise ValueError(
                "python_docker (tug): image.layers no longer matches the image (%d layers here, %d on "
                "the host): change layers only with remove_layer and the add_layer_* methods"
                % (len(mine), len(host))
            )

    def _current_config(self):
        """The config a script edited: ``layers[0].config`` (python-docker's place for it)."""
        return self.layers[0].config if self.layers else self._config

    def _sync(self, named):
        """Applies what the script changed to the host's image: the config (``layers[0].config``) with
        ``set-config``, and, when ``named``, the name with ``set-name``. Returns the reference."""
        self._check_layers()
        config = self._current_config()
        if config != self._synced_config:
            doc = self._host_config()
            doc["config"] = config
            _wit.call("registry.image.set-config", self._image().set_config, json.dumps(doc))
            self._synced_config = copy.deepcopy(config)
        reference = self._reference()
        if named and reference != self._synced_name:
            _wit.call("registry.image.set-name", self._image().set_name, reference)
            self._synced_name = reference
        return reference

    def _reference(self, registry=None):
        """``registry/name:tag`` (``name@digest`` for a digest tag); without a registry, as on Docker
        Hub."""
        registry = registry or self._registry
        sep = "@" if str(self.tag).startswith("sha256:") else ":"
        name = "%s/%s" % (registry, self.name) if registry else self.name
        return "%s%s%s" % (name, sep, self.tag)

    def _added(self, info, base_id=None):
        """Puts the layer the host just added on top of ``layers``."""
        parent = self.layers[0].id if self.layers else None
        # The config a script edited so far carries over to the new top layer.
        self._config = self._current_config()
        layer = self._layer(info, parent, {"architecture": self._arch(), "os": self._os()}, self._config)
        if base_id is not None:
            layer.id = base_id
        self.layers.insert(0, layer)
        return layer

    def _arch(self):
        return self.layers[0].architecture if self.layers else DEFAULT_PLATFORM[1]

    def _os(self):
        return self.layers[0].os if self.layers else DEFAULT_PLATFORM[0]

    def close(self):
        """Releases the host's image (the object is unusable afterwards)."""
        _wit.drop(self._handle)
        self._handle = None

    # --- python-docker's API ---------------------------------------------------------------------------

    def remove_layer(self):
        """Removes the newest layer (``layers[0]``), as python-docker does; nothing is downloaded."""
        self._check_layers()
        if not self.layers:
            raise IndexError("pop from empty list")
        _wit.call("registry.image.remove-layer", self._image().remove_layer, len(self.layers) - 1)
        removed = self.layers.pop(0)
        # The config the script edited stays the image's.
        self._config = removed.config
        if self.layers:
            self.layers[0].config = removed.config
        return removed

    def add_layer_contents(self, contents, filter=None, base_id=None):
        """Adds a layer holding ``contents``, a dict of path in the image → bytes (mode 0644, parent
        directories added). ``filter`` is a ``tarfile`` filter as in python-docker (it gets each
        ``TarInfo`` and returns it, changed, or None to leave the file out); then the tar is built here
        and streamed to the host as it is."""
        self._check_layers()
        if filter is None:
            files = [
                _wit.wit_registry.FileEntry(path=str(path), contents=_as_bytes(data), mode=0o644)
                for path, data in contents.items()
            ]
            info = _wit.call("registry.image.add-layer-files", self._image().add_layer_files, files,
                             "python_docker add_layer_contents")
            return self._added(info, base_id)

        def write(tar):
            for path, data in contents.items():
                data = _as_bytes(data)
                ti = tarfile.TarInfo(name=str(path))
                ti.size = len(data)
                ti.mode = 0o644
                ti = filter(ti)
                if ti is None:
                    continue
                ti.name = ti.name.lstrip("/") or "."
                tar.addfile(ti, io.BytesIO(data))

        return self._add_tar(write, "python_docker add_layer_contents", base_id)

    def add_layer_path(self, path, arcpath=None, recursive=True, filter=None, base_id=None):
        """Adds a layer with the file or directory ``path`` under ``arcpath`` (default: ``path``).

        A path the plugin can open (one of the policy's ``preopens``) is read here, as python-docker
        reads it (``recursive`` and ``filter`` apply). Any other path is a host directory the policy
        grants in ``registry.layer_dirs``: the host adds it whole (``registry.image.add-layer-dir``), so
        ``recursive`` must be true and ``filter`` None."""
        self._check_layers()
        if os.path.exists(path):
            def write(tar):
                tar.add(path, arcname=arcpath, recursive=recursive, filter=filter)

            return self._add_tar(write, "python_docker add_layer_path %s" % path, base_id)
        if filter is not None or not recursive:
            raise ValueError(
                "python_docker (tug): %s is not open to the plugin, so the host adds it as a directory "
                "of registry.layer_dirs, whole: recursive=False and filter are only possible for paths "
                "the policy preopens" % path
            )
        image_dir = "/" + str(arcpath if arcpath is not None else path).lstrip("/")
        info = _wit.call("registry.image.add-layer-dir", self._image().add_layer_dir, str(path),
                         image_dir, "python_docker add_layer_path %s" % image_dir)
        return self._added(info, base_id)

    def add_layer_paths(self, paths, filter=None, base_id=None):
        """Adds a layer with each path of ``paths`` (host path → path in the image), not recursing into
        directories, as python-docker does. The paths must be open to the plugin (the policy's
        ``preopens``); for a host directory of ``registry.layer_dirs`` use :meth:`add_layer_path`."""
        self._check_layers()
        for path in paths:
            if not os.path.exists(path):
                raise FileNotFoundError(
                    "python_docker (tug): add_layer_paths: %s is not open to the plugin (only the "
                    "policy's preopens are); a host directory of registry.layer_dirs can be added whole "
                    "with add_layer_path" % path
                )

        def write(tar):
            for path, arcpath in paths.items():
                tar.add(path, arcname=arcpath, recursive=False, filter=filter)

        return self._add_tar(write, "python_docker add_layer_paths", base_id)

    def _add_tar(self, write, comment, base_id):
        """Streams the tar ``write(tar)`` makes into a new layer (``registry-streams.add-layer-tar``)."""
        h = self._image()
        upload = _wit.call("registry-streams.add-layer-tar", _wit.registry_streams.add_layer_tar, h, comment)
        body = None
        try:
            body = _wit.call("registry-streams.layer-upload.body", upload.body)
            writer = _wit.StreamWriter(body, "streaming the layer tar to the host")
            with tarfile.open(fileobj=writer, mode="w|") as tar:
                write(tar)
            _wit.drop(body)
            body = None
            info = _wit.call("registry-streams.layer-upload.finish",
                             _wit.registry_streams.LayerUpload.finish, upload)
            upload = None
        finally:
            _wit.drop(body)
            _wit.drop(upload)  # dropped unfinished: nothing is added
        return self._added(info, base_id)

    def write_filename(self, filename, version="v1", output="tar"):
        """Writes the image as a ``docker save`` tar (``docker load -i`` reads it) to ``filename``, which
        must be in a directory the policy preopens read-write. ``version``: ``"v1"`` (python-docker's
        only one; tug writes ``docker save``'s format, with ``manifest.json``) or ``"oci"`` (an OCI image
        layout). The layers still in their registry are fetched now, each verified; the file appears
        only complete (a failure leaves none)."""
        if output != "tar":
            raise ValueError("python_docker (tug): only output='tar' is written")
        fmt = {"v1": "DOCKER", "docker": "DOCKER", "oci": "OCI"}.get(version)
        if fmt is None:
            raise ValueError("python_docker (tug): version %r: 'v1' (docker save) or 'oci'" % (version,))
        self._sync(named=True)
        archive = getattr(_wit.registry_streams.ArchiveFormat, fmt)
        stream = _wit.call("registry-streams.save", _wit.registry_streams.save, self._image(), archive)
        part = "%s.part" % filename
        try:
            with open(part, "wb") as f:
                for chunk in _wit.read_stream(stream, "registry-streams.save of %s" % self._reference()):
                    f.write(chunk)
            os.replace(part, filename)
        except BaseException:
            try:
                os.remove(part)
            except OSError:
                pass
            raise
        finally:
            _wit.drop(stream)

    def load(self):
        """Loads the image into the run's engine under ``registry/name:tag`` (``registry.image.load``):
        the layers still in their registry stream from it into the engine. Returns the engine's load
        messages. The loaded image is the run's: tug removes it when the run ends."""
        reference = self._sync(named=True)
        messages = _wit.call("registry.image.load", self._image().load, _wit.engine())
        self._loaded = reference
        return json.loads(messages) if messages else []

    def run(self, cmd=None):
        """Loads the image into the run's engine and runs ``cmd`` (a list, as ``docker run IMAGE CMD…``)
        in a container of it, which is then removed. Returns the container's standard output (bytes), as
        python-docker returns ``docker run``'s; its standard error goes to the plugin's. On a non-zero
        exit status, prints the output and returns None, as python-docker does."""
        self.load()
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        body = {"Image": self._loaded, "AttachStdout": True, "AttachStderr": True}
        if cmd:
            body["Cmd"] = list(cmd)
        e = _wit.engine()
        c = _wit.containers
        created = _wit.call("containers.create", c.create, e, json.dumps(body),
                            c.CreateOptions(name=None, platform=None))
        cid = json.loads(created)["Id"]
        try:
            _wit.call("containers.start", c.start, e, cid, c.StartOptions(detach_keys=None))
            waited = json.loads(_wit.call("containers.wait", c.wait, e, cid,
                                          c.WaitOptions(condition=None)))
            stdout, stderr = _output(e, cid)
        finally:
            try:
                _wit.call("containers.remove", c.remove, e, cid,
                          c.RemoveOptions(v=True, force=True, link=None))
            except _wit.RegistryError:
                pass
        if stderr:
            sys.stderr.write(stderr.decode("utf-8", "replace"))
        status = waited.get("StatusCode", 0)
        if status != 0:
            # python-docker catches CalledProcessError and prints its output.
            print(stdout)
            return None
        return stdout


def _output(e, cid):
    """A finished container's (stdout, stderr) bytes, from its logs."""
    s = _wit.container_streams
    reader = _wit.call("container-streams.logs", s.logs, e, cid, s.LogsOptions(
        follow=False, stdout=True, stderr=True, since=None, until=None, timestamps=None, tail=None))
    out, err = [], []
    try:
        while True:
            frame = _wit.call("types.frame-reader.next", reader.next, 65536)
            if frame is None:
                break
            (err if frame.stream == _wit.wit_types.StreamKind.STDERR else out).append(bytes(frame.data))
    finally:
        _wit.drop(reader)
    return b"".join(out), b"".join(err)


def _as_bytes(data):
    """File contents as bytes (str is UTF-8)."""
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)
