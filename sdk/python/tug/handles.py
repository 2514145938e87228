"""Python objects over tug's WIT handles: streams of JSON documents, of output frames and of bytes,
attached sockets, uploads. Each is a context manager that releases its handle on exit (and ``close()``
does the same), so a long plugin never runs out of handles; each can ``subscribe()`` for
:func:`tug.wait`.

Errors raised while reading or writing are :mod:`tug.errors` exceptions naming the function that opened
the handle.
"""

import json

from . import errors
from ._bindings import cpt as _cpt

__all__ = ["Handle", "JsonStream", "Frames", "InputStream", "OutputStream", "Socket", "Upload",
           "STDOUT", "STDERR"]

#: The stream names of output frames.
STDOUT, STDERR = "stdout", "stderr"
_READ = 1 << 20
_WRITE = 4096


def _closed(err):
    """Whether a ``wasi:io`` stream error is the end of the stream (not a failure)."""
    return type(err).__name__.endswith("Closed")


class Handle:
    """A WIT resource handle with ``close()``, ``with`` support and ``subscribe()``."""

    def __init__(self, handle, function=None):
        """Wrap ``handle``; ``function`` names the WIT function that opened it (for error messages)."""
        self._handle = handle
        self.function = function

    def _h(self):
        if self._handle is None:
            raise errors.TugError("the handle is closed", function=self.function)
        return self._handle

    def subscribe(self):
        """A ``wasi:io`` pollable that is ready when reading will not wait (see :func:`tug.wait`)."""
        return self._h().subscribe()

    def close(self):
        """Release the handle (idempotent)."""
        h, self._handle = self._handle, None
        if h is not None:
            try:
                h.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - already released by the host
                pass

    @property
    def closed(self):
        """Whether :meth:`close` ran."""
        return self._handle is None

    def __enter__(self):
        """``with``: the handle itself."""
        return self

    def __exit__(self, *exc):
        """Release the handle."""
        self.close()
        return False

    def _wit(self, call, *args):
        """Call a method of the handle, turning a WIT error into a :mod:`tug.errors` exception."""
        try:
            return call(*args)
        except _cpt.Err as e:
            raise errors.from_wit(e.value, self.function) from None


class JsonStream(Handle):
    """A stream of JSON documents (progress, events, stats): iterate it for decoded documents. A
    progress document carrying ``errorDetail`` raises :class:`tug.errors.APIError` unless
    ``raise_errors`` is False."""

    def __init__(self, handle, function=None, raise_errors=True):
        """Wrap a ``json-stream`` handle."""
        super().__init__(handle, function)
        self.raise_errors = raise_errors

    def next(self):
        """The next decoded document, waiting for it; None at the end of the stream."""
        text = self._wit(self._h().next)
        if text is None:
            return None
        doc = json.loads(text)
        if self.raise_errors and isinstance(doc, dict) and doc.get("errorDetail"):
            detail = doc["errorDetail"]
            raise errors.APIError(detail.get("message") or doc.get("error") or json.dumps(detail),
                                  status_code=detail.get("code") or 500, function=self.function)
        return doc

    def __iter__(self):
        """Yield each document until the end; the handle is released at the end."""
        try:
            while True:
                doc = self.next()
                if doc is None:
                    return
                yield doc
        finally:
            self.close()

    def all(self):
        """Every remaining document, as a list."""
        return list(self)


class _FrameSource(Handle):
    """Reading output frames (a ``frame-reader`` or an ``attached-socket``)."""

    def next(self, max_bytes=_READ):
        """The next ``(stream, bytes)``, waiting for it; None at the end."""
        frame = self._wit(self._h().next, max_bytes)
        if frame is None:
            return None
        return frame.stream.name.lower(), bytes(frame.data)

    def _frames(self):
        while True:
            frame = self.next()
            if frame is None:
                return
            yield frame

    def __iter__(self):
        """Yield every frame until the end."""
        return self._frames()

    def read_all(self):
        """Everything that remains, as ``(stdout bytes, stderr bytes)``."""
        out, err = [], []
        for name, data in self:
            (err if name == STDERR else out).append(data)
        return b"".join(out), b"".join(err)


class Frames(_FrameSource):
    """A container's output as frames: iterate it for ``(stream, bytes)`` pairs (``"stdout"`` /
    ``"stderr"``; ``"stdout"`` for everything when the container has a TTY)."""

    def tty(self):
        """Whether the output is a TTY's (one stream, not multiplexed)."""
        return self._h().tty()


    def __iter__(self):
        """Yield every frame until the end; the handle is released at the end."""
        try:
            yield from self._frames()
        finally:
            self.close()

    def text(self):
        """Everything that remains, both streams interleaved, decoded as UTF-8."""
        return b"".join(data for _, data in self).decode("utf-8", "replace")


class InputStream(Handle):
    """A stream of bytes to read (an archive, an export, a save)."""

    def read(self, n=-1):
        """Up to ``n`` bytes (all that remain when ``n`` < 0), waiting for them; ``b""`` at the end."""
        if n is not None and n >= 0:
            try:
                return bytes(self._h().blocking_read(n))
            except _cpt.Err as e:
                if _closed(e.value):
                    return b""
                raise errors.StreamError("reading failed: %r" % (e.value,), self.function) from None
        return b"".join(self)

    def __iter__(self):
        """Yield chunks until the end; the handle is released at the end."""
        try:
            while True:
                chunk = self.read(_READ)
                if not chunk:
                    return
                yield chunk
        finally:
            self.close()

    def read_all(self):
        """Everything that remains."""
        return b"".join(self)


class OutputStream(Handle):
    """A stream of bytes to write (an upload's body, a process's stdin)."""

    def write(self, data):
        """Write all of ``data`` (bytes), waiting as needed."""
        view = memoryview(bytes(data))
        for i in range(0, len(view), _WRITE):
            try:
                self._h().blocking_write_and_flush(bytes(view[i:i + _WRITE]))
            except _cpt.Err as e:
                raise errors.StreamError("writing failed: %r" % (e.value,), self.function) from None
        return len(view)


class Socket(_FrameSource):
    """An attached process (exec start, attach): write to its stdin, read its output frames."""

    def __init__(self, handle, function=None):
        """Wrap an ``attached-socket`` handle."""
        super().__init__(handle, function)
        self._stdin = None

    def tty(self):
        """Whether the process has a TTY."""
        return self._h().tty()

    def write(self, data):
        """Write ``data`` to the process's stdin."""
        if self._stdin is None:
            self._stdin = OutputStream(self._wit(self._h().stdin), self.function)
        return self._stdin.write(data)

    def close_stdin(self):
        """Close the process's stdin (it sees the end of its input)."""
        if self._stdin is not None:
            self._stdin.close()
        self._wit(self._h().close_stdin)

    def resize(self, height, width):
        """Resize the process's TTY."""
        self._wit(self._h().resize, height, width)


    def close(self):
        """Release stdin and the socket."""
        if self._stdin is not None:
            self._stdin.close()
        super().close()


class Upload(Handle):
    """A request body the plugin writes (put_archive, load, import, build, a registry layer):
    ``write()`` the bytes, then ``finish()`` for the answer. Leaving a ``with`` block finishes it; an
    exception inside the block abandons it instead (the host sends nothing more)."""

    def __init__(self, handle, finish, function=None):
        """Wrap an upload handle; ``finish(handle)`` ends it and returns the converted answer."""
        super().__init__(handle, function)
        self._finish = finish
        self._body = None
        self.result = None

    def write(self, data):
        """Write ``data`` (bytes) to the body."""
        if self._body is None:
            self._body = OutputStream(self._wit(self._h().body), self.function)
        return self._body.write(data)

    def finish(self):
        """End the body and return the answer (JSON, or a :class:`JsonStream` of progress)."""
        if self._body is not None:
            self._body.close()
        h, self._handle = self._h(), None
        try:
            self.result = self._finish(h)
        except _cpt.Err as e:
            raise errors.from_wit(e.value, self.function) from None
        return self.result

    def __exit__(self, exc_type, *rest):
        """Finish (no exception) or abandon (an exception) the upload."""
        if exc_type is None and self._handle is not None:
            self.finish()
        if self._body is not None:
            self._body.close()
        self.close()
        return False
