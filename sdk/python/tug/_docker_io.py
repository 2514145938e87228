"""The I/O side of ``tug.docker_transport``: a socket-like object and a ``urllib3.HTTPResponse``
look-alike over tug's WIT handles (attached sockets, frame readers, JSON streams, input streams), shaped
as docker-py reads a daemon's answers, and the mapping of WIT errors to HTTP statuses.

Every module this file needs is imported at top level (componentize-py keeps only what is imported when
it snapshots the interpreter).
"""

import json
import socket as _socket
import struct

import urllib3.exceptions

try:  # the bindings exist only inside a component built by componentize-py
    import componentize_py_types as _cpt
    from wit_world.imports import streams as _wasi_streams
except ImportError:  # pragma: no cover - outside a component
    _cpt = _wasi_streams = None

_MAX_FRAME = 65536
_WRITE_CHUNK = 4096


def _drop(handle):
    """Release a WIT resource handle (componentize-py drops it in ``__exit__``)."""
    if handle is not None:
        try:
            handle.__exit__(None, None, None)
        except Exception:  # already dropped
            pass


# --- a urllib3.HTTPResponse look-alike over WIT handles ------------------------------------------------


class TugSocket:
    """A socket-like object over a WIT ``attached-socket`` (exec start, attach) or a read-only stream:
    what docker-py digs out of ``response.raw._fp.fp.raw``. ``recv`` returns the process's output
    (multiplexed 8-byte-header frames unless it has a TTY); ``sendall`` writes to its stdin;
    ``shutdown(SHUT_WR)`` closes stdin. ``install`` makes ``docker.utils.socket.read`` treat it like an
    ``NpipeSocket`` (no select/poll: there is no file descriptor)."""

    def __init__(self, source=None, handle=None, on_close=None):
        """``source``: a callable returning the next chunk of output (``b""`` at the end); ``handle``:
        the ``attached-socket``, for stdin; ``on_close``: called once by ``close``."""
        self._source = source
        self._handle = handle
        self._on_close = on_close
        self._buf = b""
        self._stdin = None
        self._closed = False
        self._response = None

    @property
    def _sock(self):
        """docker-py looks for the real socket here (``CancellableStream.close``): it is this object."""
        return self

    def recv(self, n=4096):
        """Return at most ``n`` bytes of output, waiting for them; ``b""`` at the end."""
        if not self._buf and not self._closed and self._source is not None:
            self._buf = self._source()
        buf = self._buf
        if len(buf) <= n:  # the whole chunk: no copy
            self._buf = b""
            return buf
        self._buf = buf[n:]
        return buf[:n]

    read = recv

    def sendall(self, data):
        """Write ``data`` to the process's stdin."""
        if self._handle is None:
            raise OSError("tug: this stream has no stdin")
        if self._stdin is None:
            self._stdin = self._handle.stdin()
        data = bytes(data)
        for i in range(0, len(data), _WRITE_CHUNK):
            self._stdin.blocking_write_and_flush(data[i:i + _WRITE_CHUNK])

    def send(self, data):
        """Write ``data`` to the process's stdin; returns its length."""
        self.sendall(data)
        return len(data)

    write = send

    def shutdown(self, how):
        """Close the process's stdin (output keeps flowing until ``close``). ``SHUT_RDWR`` also stops
        reading. Any other value is taken as ``SHUT_WR``: scripts written for Linux pass ``1``
        (``SHUT_WR`` there), which is ``SHUT_RD`` in WASI's socket module (``SHUT_WR`` is 2 there)."""
        if self._handle is not None:
            _drop(self._stdin)
            self._stdin = None
            try:
                self._handle.close_stdin()
            except Exception:
                pass
        if how == getattr(_socket, "SHUT_RDWR", None):
            self.close()

    def close(self):
        """Close the connection and release its WIT handles."""
        if self._closed:
            return
        self._closed = True
        _drop(self._stdin)
        self._stdin = None
        if self._on_close:
            self._on_close()

    def fileno(self):
        """There is no file descriptor: raises ``OSError``."""
        raise OSError("tug: a WIT stream has no file descriptor")

    def settimeout(self, timeout):
        """Accepted and ignored (WIT calls wait; docker-py only disables timeouts)."""

    def gettimeout(self):
        """Return None: the stream waits without a timeout."""
        return None

    def setblocking(self, flag):
        """Accepted and ignored."""


class _Fp:
    """What docker-py reads at ``response.raw._fp``: ``chunked``, ``chunk_left`` and ``fp.raw``."""

    def __init__(self, raw, chunked, sock):
        self._raw = raw
        self.chunked = chunked
        self.fp = _SockHolder(sock)

    @property
    def chunk_left(self):
        """Bytes left of the current chunk (None at a chunk boundary), as urllib3 keeps it."""
        return len(self._raw._buf) or None


class _SockHolder:
    """``response.raw._fp.fp``: holds the socket-like object at ``.raw``."""

    def __init__(self, sock):
        self.raw = sock


class TugRaw:
    """A ``urllib3.HTTPResponse`` look-alike over an iterator of byte chunks, read lazily: ``read``,
    ``stream``, ``closed``, ``close``, ``release_conn`` and the ``_fp`` internals docker-py uses."""

    def __init__(self, chunks, chunked=True, sock=None, on_close=None):
        """``chunks``: an iterator of ``bytes``; ``chunked``: whether docker-py should treat the body as
        a stream; ``sock``: the socket-like object for hijacked connections (one reading this body is
        made otherwise); ``on_close``: releases the WIT handles."""
        self._chunks = iter(chunks)
        self._buf = b""
        # A generator of the payloads of a multiplexed body, for docker-py's stream helper to take
        # instead of reading headers and payloads (see ``take_payloads``); None once any byte is read.
        self._payloads = None
        self._eof = False
        self._closed = False
        self._on_close = on_close
        if sock is None:
            sock = TugSocket(source=self._next_chunk, on_close=self.close)
        self._fp = _Fp(self, chunked, sock)
        self.decode_content = False
        self.headers = {}

    def _next_chunk(self):
        """Return what is buffered or the next chunk (``b""`` at the end): the socket view's source."""
        if self._buf:
            data, self._buf = self._buf, b""
            return data
        if self._fill():
            data, self._buf = self._buf, b""
            return data
        return b""

    def take_payloads(self):
        """Return the generator of the body's frame payloads (a multiplexed body not read yet), else
        None. Once taken, the body is the generator's: it closes the body at its end."""
        payloads, self._payloads = self._payloads, None
        return payloads

    def _fill(self):
        """Read the next non-empty chunk into the buffer; False at the end."""
        self._payloads = None
        while not self._eof and not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                self._eof = True
                self.close()
        return bool(self._buf)

    @property
    def closed(self):
        """True once the body has been read to its end or closed."""
        return self._closed or (self._eof and not self._buf)

    def readable(self):
        """Return True (file-like protocol)."""
        return True

    def read(self, amt=None, decode_content=None, cache_content=False):
        """Return ``amt`` bytes (fewer only at the end), or everything left when ``amt`` is None."""
        if amt is not None and amt > 0:
            # docker-py reads a multiplexed stream a header (8 bytes), then a payload, at a time: served
            # from the chunk at hand, without a list and a join (7–16 % of the time per log line).
            buf = self._buf
            if not buf:
                if not self._fill():
                    return b""
                buf = self._buf
            n = len(buf)
            if n == amt:
                self._buf = b""
                return buf
            if n > amt:
                self._buf = buf[amt:]
                return buf[:amt]
        out = []
        want = amt
        while want is None or want > 0:
            if not self._buf and not self._fill():
                break
            take = self._buf if want is None else self._buf[:want]
            self._buf = self._buf[len(take):]
            out.append(take)
            if want is not None:
                want -= len(take)
        return b"".join(out)

    def read1(self, amt=-1):
        """Return at most ``amt`` bytes of what is buffered or of the next chunk."""
        if not self._buf and not self._fill():
            return b""
        n = len(self._buf) if amt is None or amt < 0 else amt
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def stream(self, amt=2 ** 16, decode_content=None):
        """Yield the body in pieces of at most ``amt`` bytes (one chunk at a time), as urllib3 does."""
        while True:
            data = self.read1(amt or 2 ** 16)
            if not data:
                return
            yield data

    def __iter__(self):
        """Iterate over the body's chunks."""
        return self.stream()

    def release_conn(self):
        """Nothing to release: there is no connection pool."""

    def close(self):
        """Stop reading and release the WIT handles behind the body."""
        if self._closed:
            return
        self._closed = True
        if self._on_close:
            cb, self._on_close = self._on_close, None
            cb()


# --- body generators for each WIT return type -----------------------------------------------------------


def _read_input_stream(stream):
    """Yield the bytes of a ``wasi:io`` ``input-stream`` until it is closed."""
    while True:
        try:
            data = stream.blocking_read(_MAX_FRAME)
        except _cpt.Err as e:
            if type(e.value).__name__.endswith("Closed"):
                return
            raise urllib3.exceptions.ProtocolError("tug: reading the stream failed: %r" % (e.value,))
        if data:
            yield bytes(data)


def _json_stream_chunks(handle):
    """Yield each document of a WIT ``json-stream`` as one chunk (the daemon ends each with CRLF); an
    error ends the stream with an ``errorDetail`` document, as the daemon does."""
    while True:
        try:
            doc = handle.next()
        except _cpt.Err as e:
            msg = _error_message(e.value)[1]
            yield (json.dumps({"errorDetail": {"message": msg}, "error": msg}) + "\r\n").encode()
            return
        if doc is None:
            return
        yield (doc + "\r\n").encode("utf-8")


_HEADER = struct.Struct(">BxxxL").pack


def _frames(handle, mux):
    """Yield the output frames of a ``frame-reader`` or ``attached-socket``: with an 8-byte header
    (stream, 0, 0, 0, big-endian length) unless the process has a TTY (``mux`` False)."""
    next_frame = handle.next  # looked up once: this loop runs once per log line
    while True:
        try:
            frame = next_frame(_MAX_FRAME)
        except _cpt.Err as e:
            raise urllib3.exceptions.ProtocolError("tug: " + _error_message(e.value)[1])
        if frame is None:
            return
        data = bytes(frame.data)
        if not data:
            continue
        if mux:
            yield _HEADER(frame.stream.value, len(data)) + data
        else:
            yield data


def _payloads(handle, raw):
    """Yield the payloads of a ``frame-reader``'s frames (what docker-py's multiplexed stream helper
    yields, without an 8-byte header packed and parsed again per frame); close ``raw`` at the end."""
    next_frame = handle.next
    try:
        while True:
            try:
                frame = next_frame(_MAX_FRAME)
            except _cpt.Err as e:
                raise urllib3.exceptions.ProtocolError("tug: " + _error_message(e.value)[1])
            if frame is None:
                return
            data = frame.data
            if data:
                yield data
    finally:
        raw.close()


def _error_message(err):
    """Map a WIT ``error`` variant to ``(HTTP status, message)`` as the daemon would answer it."""
    name = type(err).__name__.split("_", 1)[-1]
    value = getattr(err, "value", None)
    if name == "NotFound":
        return 404, value
    if name == "Conflict":
        return 409, value
    if name == "BadRequest":
        return 400, value
    if name == "NotModified":
        return 304, ""
    if name == "Denied":
        where = " at `%s`" % value.field if value.field else ""
        return 403, "tug policy denied the call (rule `%s`%s): %s" % (value.rule, where, value.reason)
    if name == "Api":
        return value.status, value.message
    if name == "ApiVersion":
        return 400, "tug: API version: %s" % value
    if name == "InvalidArgument":
        return 400, "tug: invalid argument: %s" % value
    if name == "Integrity":
        return 500, "tug: integrity: %s" % value
    if name == "Transport":
        return 502, "tug: transport: %s" % value
    if name == "Timeout":
        return 504, "tug: timeout: %s" % value
    return 500, "tug: %r" % (err,)
