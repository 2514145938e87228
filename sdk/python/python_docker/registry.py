"""python-docker's ``Registry`` over tug's ``registry`` interface.

The tug host talks to the registry, not the plugin: it authenticates with the credentials of the host's
docker config (``config.json``, credential helpers), which never reach the plugin, and the policy says
which registries (``registries``), images (``images``) and operations (``operations.registry``) a run
may use. A pull fetches the manifest and the config; the layers stay in the registry until the image is
written out or loaded, and a push sends only the blobs the registry lacks.
"""

import urllib.parse
import warnings

from . import _wit
from .base import Image, Layer
from ._wit import PolicyDenied, RegistryError

__all__ = ["Registry", "Image", "Layer", "RegistryError", "PolicyDenied"]

#: What python-docker's default hostname and Docker Hub's other names are, as a reference names them.
_DOCKER_HUB = {"registry-1.docker.io": "docker.io", "index.docker.io": "docker.io"}

_CREDENTIALS_NOTE = (
    "the username and password given to Registry() are not used: the tug host reaches registries with "
    "the credentials of its own docker config (config.json, credential helpers), and a plugin cannot "
    "hand it others"
)


class Registry:
    """A registry (python-docker's ``Registry``).

    ``hostname`` is a URL or a host (``http://127.0.0.1:5000``, ``ghcr.io``); its scheme is not used:
    the host speaks plain http to loopback registries and the ones it is configured to treat as
    insecure, https to the others. ``username`` and ``password`` are accepted and **not used** (a
    ``UserWarning`` says so): the host authenticates with its own docker config's credentials for the
    registry, which the plugin never sees; an unauthorized answer then says which credentials were
    tried."""

    def __init__(self, hostname="https://registry-1.docker.io", username=None, password=None):
        """No request is made here: the host authenticates each call as the registry asks."""
        self.hostname = hostname
        self.username = username
        self.password = password
        parsed = urllib.parse.urlsplit(hostname if "://" in hostname else "//" + hostname)
        host = parsed.netloc or parsed.path.strip("/")
        #: The registry as image references name it (``127.0.0.1:5000``, ``docker.io``).
        self.registry = _DOCKER_HUB.get(host.lower(), host)
        self._note = None
        if username is not None or password is not None:
            self._note = _CREDENTIALS_NOTE
            warnings.warn("python_docker (tug): " + _CREDENTIALS_NOTE, UserWarning, stacklevel=2)

    def _call(self, function, fn, *args):
        """A WIT call whose registry errors carry the credentials note, when credentials were given."""
        try:
            return _wit.call(function, fn, *args)
        except PolicyDenied:
            raise
        except RegistryError as e:
            if self._note and e.status_code in (401, 403):
                raise RegistryError("%s (%s)" % (e, self._note), e.status_code, e.kind, e.function) from None
            raise

    def reference(self, image, tag="latest"):
        """``registry/image:tag`` (``registry/image@sha256:…`` for a digest)."""
        sep = "@" if str(tag).startswith("sha256:") else ":"
        return "%s/%s%s%s" % (self.registry, image, sep, tag)

    def authenticate(self, image=None, action=None):
        """Does nothing: the host authenticates every request itself (python-docker fetches a token)."""

    def pull_image(self, image, tag="latest", lazy=False):
        """Pulls ``image:tag``'s manifest and config (``registry.image.pull``) and returns an
        :class:`Image` whose ``layers`` are newest first.

        ``lazy`` is accepted and changes nothing: lazy or not, the layers stay in the registry until the
        image is written out (``write_filename``) or loaded (``run``), and a push to the same registry
        mounts or skips them without downloading them."""
        _wit.require()
        h = self._call("registry.image.pull", _wit.wit_registry.Image.pull, self.reference(image, tag),
                       _wit.wit_registry.PullOptions(platform=None))
        return Image._from_handle(image, tag, h, self.registry)

    def push_image(self, image):
        """Pushes ``image`` to ``registry/image.name:image.tag`` (``registry.image.push``) after applying
        its config edits: only the blobs the registry lacks are uploaded (the others are skipped or
        mounted from another repository, never downloaded). Returns the push report (also kept as
        ``image.push_report``): ``reference``, ``manifest_digest``, ``blobs_uploaded``,
        ``blobs_mounted``, ``blobs_skipped``, ``bytes_uploaded``."""
        image._sync(named=False)
        report = self._call("registry.image.push", image._image().push, image._reference(self.registry))
        image.push_report = report
        return report

    def get_manifest_digest(self, image, tag):
        """The digest of ``image:tag``'s manifest (pulls its manifest and config)."""
        pulled = self.pull_image(image, tag)
        try:
            return self._call("registry.image.manifest-digest", pulled._image().manifest_digest)
        finally:
            pulled.close()

    def list_images(self, n=None, last=None):
        """The repositories of the registry's catalog (``registry.catalog``), at most ``n``, only those
        after ``last`` when given. The host follows the registry's pages (up to 10000 names)."""
        limit = 10000 if last is not None else n
        names = self._call("registry.catalog", _wit.wit_registry.catalog, self.registry, limit)
        if last is not None:
            names = [x for x in names if x > last]
        return names[:n] if n is not None else names

    def list_image_tags(self, image, n=None, last=None):
        """The tags of ``image`` (``registry.list-tags``) that the policy lets the run pull, at most ``n``,
        only those after ``last`` when given."""
        limit = 10000 if last is not None else n
        tags = self._call("registry.list-tags", _wit.wit_registry.list_tags,
                          "%s/%s" % (self.registry, image), limit)
        if last is not None:
            tags = [t for t in tags if t > last]
        return tags[:n] if n is not None else tags

    def delete_image(self, image, tag):
        """Not supported: raises ``NotImplementedError``. A registry delete removes a manifest for everyone
        who uses it, and tug cannot tie it to what this run made (a tag pushed by the run may name a
        manifest others pushed too); most registries disable deletes anyway."""
        raise NotImplementedError(
            "python_docker (tug): delete_image(%r, %r) is not supported: deleting from a registry cannot "
            "be tied to what this run made (the manifest may be others'), and most registries disable "
            "it; tug's registry interface is pull, push and read-only listings" % (image, tag)
        )

    def stats(self):
        """What this run moved to and from registries so far (``registry.stats``), as a dict:
        ``blob_bytes_downloaded``, ``blob_bytes_uploaded``, ``manifest_bytes_downloaded``,
        ``blobs_mounted``, ``blobs_skipped``, ``blobs_uploaded``."""
        _wit.require()
        s = _wit.wit_registry.stats()
        return {k: getattr(s, k) for k in (
            "blob_bytes_downloaded", "blob_bytes_uploaded", "manifest_bytes_downloaded",
            "blobs_mounted", "blobs_skipped", "blobs_uploaded")}
