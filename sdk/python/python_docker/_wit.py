"""The glue between ``python_docker`` and tug's WIT: the bindings componentize-py generates for
``tug:engine/registry``, ``registry-streams`` and the engine functions ``Image.run`` uses, the exceptions
WIT errors become, and the byte streams.

Every module this file needs is imported at top level: componentize-py snapshots the interpreter after
the top-level imports, and nothing can be imported at run time.
"""

import requests
import requests.exceptions
import requests.models

from tug._docker_io import _drop, _error_message

try:  # the bindings exist only inside a component built by componentize-py
    import componentize_py_types as cpt
    from wit_world.imports import container_streams, containers, engines
    from wit_world.imports import registry as wit_registry
    from wit_world.imports import registry_streams
    from wit_world.imports import tug_engine_types as wit_types

    MISSING = None
except ImportError as _e:  # pragma: no cover - outside a component
    cpt = container_streams = containers = engines = wit_registry = registry_streams = wit_types = None
    MISSING = _e

__all__ = ["RegistryError", "PolicyDenied", "call", "drop", "read_stream", "StreamWriter", "engine"]

#: The most bytes one ``blocking-write-and-flush`` takes (WASI's limit).
WRITE_CHUNK = 4096
#: Bytes asked for per read of an input stream.
READ_CHUNK = 65536


class RegistryError(requests.exceptions.HTTPError):
    """A registry or engine call tug refused or that failed. Like python-docker's errors (``requests``'
    ``raise_for_status``), it is a ``requests.exceptions.HTTPError`` whose ``response.status_code`` is the
    HTTP status the daemon or registry would answer (404 not found, 403 a policy denial, 502 a
    transport failure…). ``kind`` is the WIT error case (``not-found``, ``denied``, ``api``…),
    ``function`` the WIT function that failed (``registry.image.push``)."""

    def __init__(self, message, status=500, kind="api", function=None):
        """``message``: what went wrong; ``status``: the HTTP status; ``kind``: the WIT error case;
        ``function``: the WIT function."""
        response = requests.models.Response()
        response.status_code = status
        response.reason = kind
        response._content = message.encode("utf-8", "replace")
        super().__init__(message, response=response)
        self.status_code = status
        self.kind = kind
        self.function = function


class PolicyDenied(RegistryError, PermissionError):
    """tug's policy refused the call: ``rule`` (``operations.registry``, ``registries``, ``images``…),
    ``field`` (where in the call, or None) and ``reason``, all three in the message. Status 403."""

    def __init__(self, message, rule, field, reason, function=None):
        """``rule``, ``field``, ``reason``: the policy's denial."""
        super().__init__(message, status=403, kind="denied", function=function)
        self.rule = rule
        self.field = field
        self.reason = reason


# They are python_docker.registry's to the scripts that catch them.
RegistryError.__module__ = PolicyDenied.__module__ = "python_docker.registry"


def require():
    """Raise a clear error outside a tug plugin (no bindings)."""
    if MISSING is not None:
        raise RuntimeError(
            "python_docker (tug) runs inside a tug plugin built with `tug build SCRIPT.py`: the tug "
            "bindings are missing (%s)" % MISSING
        )


def wit_error(err, function, note=None):
    """The exception for WIT ``error`` value ``err`` raised by ``function``; ``note`` is appended."""
    status, message = _error_message(err)
    kind = type(err).__name__.split("_", 1)[-1]
    text = "%s: %s" % (function, message) if function else str(message)
    if note:
        text = "%s (%s)" % (text, note)
    if kind == "Denied":
        value = err.value
        return PolicyDenied(text, value.rule, value.field, value.reason, function)
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    return RegistryError(text, status, kebab, function)


def call(function, fn, *args, note=None):
    """Call binding ``fn(*args)``; a WIT error becomes :class:`RegistryError` / :class:`PolicyDenied`
    naming ``function`` (``registry.image.push``), with ``note`` when the error is the registry's."""
    require()
    try:
        return fn(*args)
    except cpt.Err as e:
        raise wit_error(e.value, function, note) from None


def drop(handle):
    """Release a WIT handle (an image, a stream, a reader); ``None`` and dropped handles are ignored."""
    _drop(handle)


def _stream_error(err, what):
    """The exception for a ``wasi:io`` ``stream-error`` while ``what``."""
    detail = ""
    value = getattr(err, "value", None)
    if value is not None:
        try:
            detail = value.to_debug_string()
        except Exception:  # noqa: BLE001 - the error handle may be gone
            detail = repr(value)
    return RegistryError("%s failed: %s" % (what, detail or "the stream broke"), 500, "stream")


def read_stream(stream, what):
    """Yield the bytes of a ``wasi:io`` ``input-stream`` until it ends; a broken stream (a blob that
    failed verification) raises :class:`RegistryError` naming the cause."""
    while True:
        try:
            data = stream.blocking_read(READ_CHUNK)
        except cpt.Err as e:
            if type(e.value).__name__.endswith("Closed"):
                return
            raise _stream_error(e.value, what) from None
        if data:
            yield bytes(data)


class StreamWriter:
    """A write-only file object over a ``wasi:io`` ``output-stream`` (for ``tarfile.open(mode="w|")``)."""

    def __init__(self, stream, what):
        """``stream``: the output stream; ``what``: for error messages."""
        self._stream = stream
        self._what = what
        self.written = 0

    def write(self, data):
        """Write all of ``data``, with backpressure; returns its length."""
        data = bytes(data)
        for i in range(0, len(data), WRITE_CHUNK):
            try:
                self._stream.blocking_write_and_flush(data[i:i + WRITE_CHUNK])
            except cpt.Err as e:
                raise _stream_error(e.value, self._what) from None
        self.written += len(data)
        return len(data)

    def flush(self):
        """Nothing to do: every write is flushed."""


_engine = []


def engine():
    """The engine ``tug run`` was given (opened once)."""
    require()
    if not _engine:
        _engine.append(engines.default())
    return _engine[0]
