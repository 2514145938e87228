"""Images without a daemon, over tug's ``registry`` interface: pull a manifest and config (the layers
stay in their registry until written out), edit, push only what the registry lacks, save, load into an
engine. The host reaches registries with its own credentials; the plugin never sees them.

    with tug.registry.pull("127.0.0.1:5000/team/base:1") as img:
        img.add_layer_files({"/etc/motd": b"hi\\n"}, comment="motd")
        img.edit(env=["FOO=bar"], labels={"team": "ci"})
        report = img.push("127.0.0.1:5000/team/app:1")
"""

import json

from . import _bindings, errors, handles
from ._bindings import cpt as _cpt
from .client import engine as _engine
from .client import to_wit

__all__ = ["Image", "pull", "scratch", "stats", "catalog", "list_tags"]

_MOD = "registry"


def _r():
    _bindings.require()
    return _bindings.MODULES["registry"]


def _wit(function, call, *args):
    try:
        return call(*args)
    except _cpt.Err as e:
        raise errors.from_wit(e.value, function) from None


def _platform(platform):
    """A ``Platform`` from ``"linux/amd64"``, ``"linux/arm64/v8"``, a dict or None."""
    if platform is None or not isinstance(platform, (str, dict)):
        return platform
    if isinstance(platform, str):
        parts = platform.split("/")
        platform = {"os": parts[0], "architecture": parts[1] if len(parts) > 1 else "",
                    "variant": parts[2] if len(parts) > 2 else None}
    return to_wit("platform", platform, _MOD, "platform")


class Image(handles.Handle):
    """An image held by the host (the WIT ``registry.image``); ``with`` releases it."""

    def source(self):
        """The reference it was pulled from, or None."""
        return self._h().source()

    def name(self):
        """The name it is pushed and saved under, or None."""
        return self._h().name()

    def set_name(self, reference):
        """Set the name (and tag) it is pushed and saved under."""
        _wit("registry.image.set-name", self._h().set_name, reference)

    def config(self):
        """The image config document, decoded."""
        return json.loads(_wit("registry.image.config", self._h().config))

    def set_config(self, config):
        """Replace the config document (a dict or JSON text); ``rootfs`` stays tug's."""
        text = config if isinstance(config, str) else json.dumps(config)
        _wit("registry.image.set-config", self._h().set_config, text)

    def edit(self, env=(), cmd=None, entrypoint=None, labels=None, workdir=None, user=None):
        """Edit the config: ``env`` entries ``K=V`` set and ``K`` remove; ``labels`` maps a name to a
        value (None removes it)."""
        edit = to_wit("config-edit", {"env": list(env), "cmd": cmd, "entrypoint": entrypoint,
                                      "labels": dict(labels or {}), "workdir": workdir, "user": user},
                      _MOD, "edit")
        _wit("registry.image.edit", self._h().edit, edit)

    def layers(self):
        """The layers, bottom first (``LayerInfo`` records: digest, diff_id, size, media_type, local)."""
        return _wit("registry.image.layers", self._h().layers)

    def add_layer_files(self, files, comment=""):
        """Add a layer holding ``files``: a dict of path → bytes (mode 0o644), or of path →
        ``(bytes, mode)``. Returns its ``LayerInfo``."""
        entries = []
        for path, content in files.items():
            data, mode = content if isinstance(content, tuple) else (content, 0o644)
            if isinstance(data, str):
                data = data.encode("utf-8")
            entries.append(to_wit("file-entry", {"path": path, "contents": bytes(data), "mode": mode},
                                  _MOD, "files[%r]" % path))
        return _wit("registry.image.add-layer-files", self._h().add_layer_files, entries, comment)

    def add_layer_dir(self, host_dir, image_dir="/", comment=""):
        """Add a layer with host directory ``host_dir`` (granted by the policy's
        ``registry.layer_dirs``) under ``image_dir``."""
        return _wit("registry.image.add-layer-dir", self._h().add_layer_dir, host_dir, image_dir, comment)

    def add_layer_tar(self, comment=""):
        """An :class:`tug.handles.Upload` to write an uncompressed layer tar into; its ``finish()``
        adds the layer and returns its ``LayerInfo``."""
        streams = _bindings.MODULES["registry_streams"]
        up = _wit("registry-streams.add-layer-tar", streams.add_layer_tar, self._h(), comment)
        return handles.Upload(up, lambda h: type(h).finish(h), "registry-streams.add-layer-tar")

    def remove_layer(self, index):
        """Remove layer ``index`` (0 = the bottom one) and its history entry."""
        _wit("registry.image.remove-layer", self._h().remove_layer, index)

    def manifest_digest(self):
        """The digest of the manifest a push would write."""
        return _wit("registry.image.manifest-digest", self._h().manifest_digest)

    def push(self, reference=None):
        """Push (to ``reference``, default its name), sending only the blobs the registry lacks.
        Returns the ``PushReport``."""
        return _wit("registry.image.push", self._h().push, reference)

    def load(self, engine=None):
        """Load the image into ``engine`` (a :class:`tug.Engine`, a name, or None for the default);
        returns the engine's load messages."""
        eng = engine if hasattr(engine, "_handle") else _engine(engine)
        return json.loads(_wit("registry.image.load", self._h().load, eng._handle))

    def save(self, format="docker"):
        """The image as a tar (``docker`` or ``oci`` layout), an :class:`tug.handles.InputStream`."""
        streams = _bindings.MODULES["registry_streams"]
        fmt = to_wit("archive-format", format, "registry_streams", "format")
        return handles.InputStream(_wit("registry-streams.save", streams.save, self._h(), fmt),
                                   "registry-streams.save")


def pull(reference, platform=None):
    """Pull ``reference``'s manifest and config (an :class:`Image`); its layers stay in the registry."""
    options = _r().PullOptions(platform=_platform(platform))
    return Image(_wit("registry.image.pull", _r().Image.pull, reference, options), "registry.image")


def scratch(platform="linux/amd64"):
    """An empty image for ``platform``."""
    return Image(_r().Image.scratch(_platform(platform)), "registry.image")


def stats():
    """What this run moved to and from registries so far (a ``TransferStats`` record)."""
    return _r().stats()


def catalog(registry, limit=None):
    """The repositories ``registry`` (``127.0.0.1:5000``) lists, at most ``limit`` of them."""
    return _wit("registry.catalog", _r().catalog, registry, limit)


def list_tags(repository, limit=None):
    """The tags of ``repository`` (``127.0.0.1:5000/team/app``) the policy lets the run pull, at most
    ``limit`` of them."""
    return _wit("registry.list-tags", _r().list_tags, repository, limit)
