"""A ``requests`` transport that lets unmodified docker-py scripts run as tug plugins.

docker-py talks HTTP to a daemon socket; a tug plugin has no socket, only the typed WIT functions of
``tug:engine``. :class:`TugAdapter` takes each ``requests.PreparedRequest`` docker-py builds, finds the
WIT function serving it in the generated route table (``tug._routes``), converts the path, query,
headers and body into that function's arguments, calls it through the bindings componentize-py
generates, and answers with a ``requests.Response`` shaped the way docker-py reads the daemon's: JSON
bodies, chunked JSON streams (``chunk_left``), multiplexed log frames (8-byte headers), raw tar streams,
and a socket-like object at ``response.raw._fp.fp.raw`` for hijacked connections.

Call :func:`install` once (at import time of the plugin, before ``docker.from_env()``).

Every module this file needs is imported at top level: componentize-py snapshots the interpreter after
the top-level imports, and nothing else can be imported at run time.
"""

import base64
import http.client
import importlib
import json
import re
import urllib.parse

import docker.errors as _docker_errors
import requests
import requests.adapters
import requests.exceptions
from requests.structures import CaseInsensitiveDict

from . import _routes
from ._docker_io import (  # noqa: F401 - re-exported for docker-py's isinstance checks
    TugRaw,
    TugSocket,
    _drop,
    _error_message,
    _frames,
    _payloads,
    _json_stream_chunks,
    _read_input_stream,
)

from . import _bindings
from ._bindings import cpt as _cpt

_MODULES = _bindings.MODULES
_TYPES = _MODULES.get(_routes.TYPES_MODULE)

__all__ = ["TugAdapter", "install", "engine", "PolicyDenied"]

_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")
_COMPILED = [(r, re.compile(r["regex"])) for r in _routes.ROUTES]
_WRITE_CHUNK = 4096
_MUX_CONTENT_TYPE = "application/vnd.docker.multiplexed-stream"
_RAW_CONTENT_TYPE = "application/vnd.docker.raw-stream"
#: The header carrying a policy denial's rule, field and reason (JSON) on a 403 answer.
_DENIAL_HEADER = "X-Tug-Denial"


def engine(name=None):
    """Return the tug engine handle named ``name`` (``None``: the engine ``tug run`` was given), opened
    once and cached for the life of the plugin."""
    return _bindings.engine(name)


# --- converting docker-py's request into WIT arguments -------------------------------------------------

_TRUE = ("1", "true", "yes", "on")


def _as_bool(value):
    """Convert a query value (``"1"``, ``"true"``, ``"True"``, ``"0"``…) or a JSON value to a bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().lower() in _TRUE


def _norm(value):
    """Normalise a value for comparing against a route condition (bools as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().lower()


def _filters(text):
    """Convert docker-py's ``filters`` JSON (``{"label": ["a=b"], "dangling": {"true": true}}``) to the
    WIT ``filters`` list of pairs ``[("label", ["a=b"]), ...]``."""
    data = json.loads(text) if isinstance(text, str) else text
    if not data:
        return []
    out = []
    for key, val in data.items():
        if isinstance(val, dict):
            vals = [k for k, v in val.items() if v]
        elif isinstance(val, (list, tuple)):
            vals = [_json_scalar(v) for v in val]
        else:
            vals = [_json_scalar(val)]
        out.append((str(key), vals))
    return out


def _json_scalar(v):
    """Render a JSON scalar the way the daemon's query parser reads it (``true``, ``1``, ``x``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _convert(kind, values, encoding=None):
    """Convert the query values ``values`` (a list: a parameter may repeat) to the WIT type ``kind``."""
    last = values[-1]
    if kind == "bool":
        return _as_bool(last)
    if kind in ("s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"):
        return int(float(last)) if re.match(r"^-?\d+\.\d*$", last) else int(last)
    if kind in ("f32", "f64"):
        return float(last)
    if kind in ("string", "json"):
        return last
    if kind == "filters":
        return _filters(last)
    if kind == "list<string>":
        if encoding == "json" or (len(values) == 1 and last.startswith("[")):
            return [str(v) for v in json.loads(last)]
        return list(values)
    if kind == "list<tuple<string, string>>":
        return [(str(k), _json_scalar(v)) for k, v in json.loads(last).items()]
    raise _Refused(400, "tug: cannot convert query value %r to WIT type %s" % (last, kind))


def _convert_json(kind, value):
    """Convert a value of the JSON request body to the WIT type ``kind``."""
    if value is None:
        return None
    if kind == "bool":
        return _as_bool(value)
    if kind in ("s64", "u32", "s32", "u64"):
        return int(value)
    if kind == "string":
        return str(value)
    if kind == "json":
        return json.dumps(value)
    return value


def _auth_config(data):
    """Build the WIT ``auth-config`` record from docker's auth JSON (``username``, ``password``,
    ``serveraddress``, ``identitytoken``, ``registrytoken``; keys matched case- and
    underscore-insensitively)."""
    if not isinstance(data, dict):
        return None
    keyed = {k.replace("_", "").lower(): v for k, v in data.items()}
    names = list(_TYPES.AuthConfig.__dataclass_fields__)
    return _TYPES.AuthConfig(**{n: (keyed.get(n.replace("_", "")) or None) for n in names})


def _decode_header_json(value):
    """Decode an ``X-Registry-Auth``/``X-Registry-Config`` header (base64url JSON; docker-py gives it as
    bytes)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii", "replace")
    value = value.strip()
    value += "=" * (-len(value) % 4)
    try:
        raw = base64.urlsafe_b64decode(value)
    except Exception:
        raw = base64.b64decode(value)
    return json.loads(raw.decode("utf-8")) if raw.strip() else None


def _header_value(kind, value):
    """Convert a header's value to the WIT type ``kind`` (an ``auth-config`` or a per-registry list of
    them)."""
    if value is None:
        return None
    data = _decode_header_json(value)
    if data is None:
        return None
    if kind == "auth-config":
        return _auth_config(data)
    if kind == "list<tuple<string, auth-config>>":
        return [(reg, _auth_config(cfg)) for reg, cfg in data.items()]
    raise _Refused(400, "tug: cannot convert header to WIT type %s" % kind)


def _body_bytes(body):
    """Return a request body (bytes, str, file or iterable of chunks) as bytes (None if there is none)."""
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in body)


def _body_chunks(body):
    """Yield a request body (bytes, str, file or iterable of chunks) as chunks of bytes, without reading
    a file or generator into memory at once."""
    if body is None:
        return
    if isinstance(body, (bytes, bytearray, str)):
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]
        return
    if hasattr(body, "read"):
        while True:
            c = body.read(65536)
            if not c:
                return
            yield c.encode("utf-8") if isinstance(c, str) else c
    for c in body:
        if c:
            yield c.encode("utf-8") if isinstance(c, str) else c


class _Refused(Exception):
    """An answer the transport itself gives (no route, an unconvertible parameter): status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# --- the adapter ----------------------------------------------------------------------------------------


def _match(method, path, query, body_json):
    """Find the route serving ``method`` and ``path``; returns ``(route, path params)`` or raises
    ``_Refused`` (501: tug serves no such call)."""
    found = []
    for route, rx in _COMPILED:
        if route["method"] != method:
            continue
        m = rx.match(path)
        if m and (not found or found[0][0]["path"] == route["path"]):
            found.append((route, m))
    if not found:
        # 501, not 404: docker-py would raise NotFound, which scripts read as "no such object".
        raise _Refused(501, "tug: no WIT function serves %s %s" % (method, path))
    maybe = None
    for route, m in found:
        verdict = "match"
        for cond in route["when"]:
            if cond["in"] == "query":
                present = cond["key"] in query
                value = query[cond["key"]][-1] if present else None
            else:
                present = isinstance(body_json, dict) and body_json.get(cond["key"]) is not None
                value = body_json.get(cond["key"]) if present else None
            if not present:
                if cond["equals"] is None:
                    verdict = "no"
                    break
                verdict = "maybe"
            elif cond["equals"] is not None and _norm(value) != _norm(cond["equals"]) and not (
                    _norm(cond["equals"]) in ("true", "false")
                    and _as_bool(value) == (_norm(cond["equals"]) == "true")):
                verdict = "no"
                break
        if verdict == "match":
            return route, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        if verdict == "maybe" and maybe is None:
            maybe = (route, m)
    if maybe:
        return maybe[0], {k: urllib.parse.unquote(v) for k, v in maybe[1].groupdict().items()}
    raise _Refused(501, "tug: no WIT function serves %s %s with these parameters" % (method, path))


def _fill_exec_stdin(eng, route, pathp):
    """Fill exec-streams.start's ``stdin`` option (no query or body name): whether the exec instance was
    created with ``AttachStdin`` (its inspect JSON's ``OpenStdin``)."""
    try:
        return bool(json.loads(_MODULES["exec"].inspect(eng, pathp["id"])).get("OpenStdin"))
    except Exception:
        return None


# Options fields the route table could not map (see the top of _routes.py), filled by the transport.
_FILLERS = {("exec_streams", "start", "stdin"): _fill_exec_stdin}


class TugAdapter(requests.adapters.BaseAdapter):
    """A ``requests`` adapter answering docker-py's requests by calling tug's WIT functions on one engine
    (``engine_name`` None: the engine ``tug run`` was given)."""

    def __init__(self, engine_name=None, *args, **kwargs):
        """Create the adapter for the engine ``engine_name`` (extra arguments, such as those docker-py
        passes to ``UnixHTTPAdapter``, are ignored)."""
        super().__init__()
        self.engine_name = engine_name if isinstance(engine_name, str) and \
            not engine_name.startswith(("http", "unix", "/")) else None

    def close(self):
        """Nothing to close: handles are released as each response is read."""

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Answer ``request`` (a ``requests.PreparedRequest``) with a ``requests.Response``."""
        url = urllib.parse.urlsplit(request.url)
        path = _VERSION_PREFIX.sub("", url.path) or "/"
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        method = request.method.upper()
        try:
            body_json = None
            body = request.body
            ctype = request.headers.get("Content-Type", "")
            # JSON bodies only: a tar (put_archive, load, build) is never decoded.
            looks_json = isinstance(body, (bytes, str)) and len(body) < (1 << 20) and body[:1] in (
                b"{", b"[", "{", "[")
            if isinstance(body, (bytes, str)) and (ctype.startswith("application/json") or (
                    not ctype and looks_json)):
                try:
                    body_json = json.loads(body)
                except ValueError:
                    body_json = None
            route, pathp = _match(method, path, query, body_json)
            return self._call(request, route, pathp, query, body_json)
        except _Refused as r:
            return self._error(request, r.status, r.message)
        except _cpt.Err as e:
            err = e.value
            name = type(err).__name__
            status, msg = _error_message(err)
            if name.endswith("Transport"):
                raise requests.exceptions.ConnectionError(msg, request=request)
            if name.endswith("Timeout"):
                raise requests.exceptions.ReadTimeout(msg, request=request)
            headers = None
            if name.endswith("Denied"):
                headers = {_DENIAL_HEADER: json.dumps(
                    {"rule": err.value.rule, "field": err.value.field, "reason": err.value.reason})}
            return self._error(request, status, msg, headers)

    # building the call

    def _call(self, request, route, pathp, query, body_json):
        """Convert the request into the route's WIT arguments, call the function, build the answer."""
        module = _MODULES[route["module"]]
        fn = getattr(module, route["function"])
        eng = engine(self.engine_name)
        args, used = [], set()
        upload_body = None
        for p in route["params"]:
            src = p["source"]
            if src == "path":
                args.append(pathp[p["key"]])
            elif src == "query":
                used.add(p["key"])
                if p["key"] in query:
                    args.append(_convert(p["kind"], query[p["key"]]))
                elif p["optional"]:
                    args.append(None)
                else:
                    raise _Refused(400, "tug: missing query parameter `%s`" % p["key"])
            elif src == "body":
                data = _body_bytes(request.body)
                if data is None or not data.strip():
                    args.append(None if p["optional"] else "{}")
                else:
                    args.append(data.decode("utf-8"))
            elif src == "body-record":
                args.append(_auth_config(body_json or {}))
            elif src == "header":
                args.append(_header_value(p["kind"], request.headers.get(p["key"])))
            elif src == "options":
                args.append(self._options(module, route, p, pathp, query, body_json, used, eng))
            else:
                args.append(None)
        if route["shape"] in ("upload", "progress-upload"):
            upload_body = request.body
        ignored = sorted(set(query) - used)
        result = fn(eng, *args)
        resp = self._respond(request, route, result, upload_body)
        if ignored:
            resp.headers["X-Tug-Ignored-Query"] = ",".join(ignored)
        return resp

    def _options(self, module, route, param, pathp, query, body_json, used, eng):
        """Build the options dataclass (every field passed: the bindings give them no defaults)."""
        opts = route["options"]
        cls = getattr(module, opts["class"])
        kwargs = {}
        for f in opts["fields"]:
            val = None
            if f["source"] == "query":
                used.add(f["key"])
                if f["key"] in query:
                    val = _convert(f["kind"], query[f["key"]], f.get("encoding"))
            elif f["source"] == "body":
                if isinstance(body_json, dict):
                    val = _convert_json(f["kind"], body_json.get(f["key"]))
            else:
                filler = _FILLERS.get((route["module"], route["function"], f["name"]))
                if filler:
                    val = filler(eng, route, pathp)
            if val is None and not f["optional"]:
                raise _Refused(400, "tug: missing query parameter `%s`" % f["key"])
            kwargs[f["name"]] = val
        return cls(**kwargs)

    # building the response

    def _response(self, request, status, headers, raw):
        """Return a ``requests.Response`` with ``raw`` as its body."""
        resp = requests.Response()
        resp.status_code = status
        resp.reason = http.client.responses.get(status, "")
        resp.headers = CaseInsensitiveDict(headers)
        resp.raw = raw
        resp.url = request.url
        resp.request = request
        resp.connection = self
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
        return resp

    def _bytes(self, request, status, data, ctype="application/json", headers=None):
        """Return a response whose whole body is ``data`` (not chunked)."""
        h = {"Content-Type": ctype, "Content-Length": str(len(data))}
        if headers:
            h.update(headers)
        if request.method.upper() == "HEAD":
            data = b""
        return self._response(request, status, h, TugRaw([data] if data else [], chunked=False))

    def _error(self, request, status, message, headers=None):
        """Return an error response with the daemon's ``{"message": ...}`` body."""
        data = b"" if status == 304 else (json.dumps({"message": message}) + "\n").encode("utf-8")
        return self._bytes(request, status, data, headers=headers)

    def _stream(self, request, chunks, ctype, on_close, sock=None, status=200, headers=None):
        """Return a chunked response read lazily from ``chunks``."""
        h = {"Content-Type": ctype, "Transfer-Encoding": "chunked"}
        if headers:
            h.update(headers)
        raw = TugRaw(chunks, chunked=True, sock=sock, on_close=on_close)
        return self._response(request, status, h, raw)

    def _respond(self, request, route, result, upload_body):
        """Turn the WIT function's result into a response, by its WIT return type."""
        returns = route["returns"]
        created = request.method.upper() == "POST" and route["shape"] == "json" and \
            route["function"] in ("create", "commit", "tag")
        if returns == "_":
            return self._bytes(request, 201 if created else 204, b"", ctype="text/plain")
        if returns == "json":
            headers = {}
            if route["result_header"]:
                h = route["result_header"]
                headers[h["header"]] = base64.b64encode(result.encode("utf-8")).decode("ascii")
                if request.method.upper() == "HEAD":
                    return self._bytes(request, 200, b"", headers=headers)
            data = result.encode("utf-8")
            if not data:
                return self._bytes(request, 204, b"", ctype="text/plain")
            return self._bytes(request, 201 if created else 200, data, headers=headers)
        if returns == "json-stream":
            return self._stream(request, _json_stream_chunks(result), "application/json",
                                lambda: _drop(result))
        if returns == "frame-reader":
            tty = result.tty()
            response = self._stream(request, _frames(result, not tty),
                                    _RAW_CONTENT_TYPE if tty else _MUX_CONTENT_TYPE,
                                    lambda: _drop(result))
            if not tty:
                response.raw._payloads = _payloads(result, response.raw)
            return response
        if returns == "input-stream":
            return self._stream(request, _read_input_stream(result), "application/x-tar",
                                lambda: _drop(result))
        if returns == "attached-socket":
            return self._hijacked(request, result)
        if returns in ("upload", "progress-upload"):
            return self._upload(request, route, result, upload_body)
        rec = route["result_record"]
        if rec:
            return self._record(request, rec, result)
        raise _Refused(501, "tug: the transport does not serve WIT return type %s yet" % returns)

    def _record(self, request, rec, result):
        """Answer a record result: fields named after headers become headers, an input-stream the body."""
        headers, body, closer = {}, None, None
        for f in rec["fields"]:
            val = getattr(result, f["name"])
            if f["header"]:
                if val is None:
                    continue
                if f["encoding"] == "base64-json":
                    headers[f["header"]] = base64.b64encode(val.encode("utf-8")).decode("ascii")
                elif isinstance(val, bool):
                    headers[f["header"]] = "true" if val else "false"
                else:
                    headers[f["header"]] = str(val)
            elif f["type"] == "input-stream":
                body, closer = val, (lambda v=val: _drop(v))
        if body is not None:
            return self._stream(request, _read_input_stream(body), "application/x-tar", closer,
                                headers=headers)
        ok = b"OK" if request.method.upper() != "HEAD" else b""
        return self._bytes(request, 200, ok, ctype="text/plain; charset=utf-8", headers=headers)

    def _hijacked(self, request, handle):
        """Answer a hijacked connection: a ``TugSocket`` at ``raw._fp.fp.raw`` over the attached socket."""
        tty = handle.tty()
        gen = _frames(handle, not tty)

        def source():
            try:
                return next(gen)
            except StopIteration:
                return b""

        sock = TugSocket(source=source, handle=handle, on_close=lambda: _drop(handle))
        raw = TugRaw(iter(source, b""), chunked=False, sock=sock, on_close=sock.close)
        ctype = _RAW_CONTENT_TYPE if tty else _MUX_CONTENT_TYPE
        status = 101 if request.headers.get("Upgrade") else 200
        headers = {"Content-Type": ctype}
        if status == 101:
            headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
        return self._response(request, status, headers, raw)

    def _upload(self, request, route, up, body):
        """Stream the request body into an ``upload``/``progress-upload``, finish it, answer its result."""
        out = up.body()
        write_error = None
        try:
            for chunk in _body_chunks(body):
                for i in range(0, len(chunk), _WRITE_CHUNK):
                    out.blocking_write_and_flush(chunk[i:i + _WRITE_CHUNK])
        except _cpt.Err as e:  # the host stopped reading: `finish` says why
            write_error = e
        finally:
            _drop(out)
        cls = type(up)
        result = cls.finish(up)
        if write_error is not None:
            _drop(result)
            raise write_error
        if route["returns"] == "upload":
            data = result.encode("utf-8")
            return self._bytes(request, 200, data, ctype="application/json" if data else "text/plain")
        return self._stream(request, _json_stream_chunks(result), "application/json",
                            lambda: _drop(result))


# --- installing into docker-py --------------------------------------------------------------------------

_installed = False
_pending_engine = [None]


class PolicyDenied(_docker_errors.APIError):
    """A call the run's policy refused, as docker-py raises it: an ``APIError`` with status 403 whose
    message names the rule, the field and the reason; ``rule``, ``field`` (None for the whole call) and
    ``reason`` are also attributes. ``except docker.errors.APIError`` catches it."""

    def __init__(self, message, response=None, explanation=None):
        """As ``docker.errors.APIError``; the denial's parts come from the answer's denial header."""
        super().__init__(message, response=response, explanation=explanation)
        try:
            denial = json.loads(response.headers[_DENIAL_HEADER])
        except (AttributeError, KeyError, TypeError, ValueError):
            denial = {}
        self.rule = denial.get("rule")
        self.field = denial.get("field")
        self.reason = denial.get("reason")


def _create_api_error(original):
    """Wrap docker-py's ``create_api_error_from_http_exception``: an answer carrying tug's denial header
    raises :class:`PolicyDenied`, anything else what docker-py raises."""

    def create_api_error_from_http_exception(e):
        response = getattr(e, "response", None)
        if response is not None and response.status_code == 403 and \
                _DENIAL_HEADER in response.headers:
            try:
                explanation = response.json()["message"]
            except ValueError:
                explanation = (response.text or "").strip()
            raise PolicyDenied(e, response=response, explanation=explanation) from e
        return original(e)

    create_api_error_from_http_exception.__doc__ = original.__doc__
    create_api_error_from_http_exception.__wrapped__ = original
    return create_api_error_from_http_exception


def install():
    """Make every ``docker.APIClient`` (so ``docker.from_env()`` and ``docker.DockerClient``) talk to tug
    instead of a socket, whatever ``base_url`` the script gives: ``tug://NAME`` selects the engine
    ``NAME`` (``engines.open``), anything else the engine ``tug run`` was given.

    It wraps ``APIClient.__init__`` so docker-py takes its ``http+unix://`` branch (which only mounts an
    adapter; no ``socket.AF_UNIX`` is touched), replaces the ``UnixHTTPAdapter`` that branch creates with
    :class:`TugAdapter`, and makes ``docker.utils.socket.read`` treat :class:`TugSocket` like an
    ``NpipeSocket`` (no select/poll on a file descriptor). docker-py's multiplexed stream helper (streamed
    logs) takes the frames' payloads straight from the ``frame-reader`` while the body is unread.
    Idempotent."""
    global _installed
    if _installed:
        return
    import docker.api.client as client_mod
    import docker.utils.socket as socket_mod

    def adapter_factory(*args, **kwargs):
        return TugAdapter(_pending_engine[0])

    client_mod.UnixHTTPAdapter = adapter_factory
    client_mod.create_api_error_from_http_exception = _create_api_error(
        client_mod.create_api_error_from_http_exception)
    _docker_errors.PolicyDenied = PolicyDenied
    orig_init = client_mod.APIClient.__init__

    def __init__(self, base_url=None, *args, **kwargs):
        name = None
        if isinstance(base_url, str) and base_url.startswith("tug://"):
            name = base_url[len("tug://"):].strip("/") or None
        args = list(args)
        if len(args) >= 3:  # (version, timeout, tls, ...)
            args[2] = False
        else:
            kwargs["tls"] = False
        kwargs.pop("use_ssh_client", None)
        _pending_engine[0] = name
        try:
            orig_init(self, "unix:///var/run/docker.sock", *args, **kwargs)
        finally:
            _pending_engine[0] = None

    __init__.__doc__ = orig_init.__doc__
    __init__.__wrapped__ = orig_init
    client_mod.APIClient.__init__ = __init__
    orig_mux = client_mod.APIClient._multiplexed_response_stream_helper

    def _multiplexed_response_stream_helper(self, response):
        payloads = getattr(response.raw, "take_payloads", None)
        payloads = payloads() if payloads is not None else None
        if payloads is not None:
            return payloads
        return orig_mux(self, response)

    _multiplexed_response_stream_helper.__doc__ = orig_mux.__doc__
    _multiplexed_response_stream_helper.__wrapped__ = orig_mux
    client_mod.APIClient._multiplexed_response_stream_helper = _multiplexed_response_stream_helper
    npipe = socket_mod.NpipeSocket
    socket_mod.NpipeSocket = (TugSocket,) if npipe is type(None) else (npipe, TugSocket)
    _installed = True
