"""tug's typed layer: every Engine API function of the WIT, called the Python way.

``tug.engine()`` (the engine ``tug run`` was given) or ``tug.engine("name")`` (``engines.open``) returns
an :class:`Engine`; its attributes are the WIT interfaces (``containers``, ``images``, ``networks``,
``volumes``, ``exec``, ``system``, ``swarm``, ``services``, ``tasks``, ``nodes``, ``secrets``,
``configs``, ``plugins``, ``distribution``), each with its ``*-streams`` twin folded in
(``engine.containers.logs``) and also reachable under its own name (``engine.container_streams``). The
functions take the WIT parameters positionally or by name, and the fields of their options record as
keyword arguments with defaults (an omitted ``option`` is None, a list empty, a flag False)::

    eng = tug.engine()
    made = eng.containers.create({"Image": "busybox", "Cmd": ["echo", "hi"]}, name="hi")
    eng.containers.start(made["Id"])
    with eng.containers.logs(made["Id"], stdout=True, follow=True) as out:
        for stream, data in out: ...

Conversions follow the WIT types, which the generated table ``tug._api`` carries: JSON parameters take
dicts and lists (or text), ``filters`` a dict (``{"label": ["a=b"]}``, ``{"dangling": True}``), pairs a
dict, records a dict; JSON results come back decoded, handles as :mod:`tug.handles` objects, errors as
:mod:`tug.errors` exceptions naming the function.
"""

import json

from . import _api, _bindings, errors, handles
from ._bindings import cpt as _cpt

__all__ = ["Engine", "Interface", "engine", "call"]

_TYPES = "tug_engine_types"
_MERGED = {
    "containers": "container_streams",
    "images": "image_streams",
    "exec": "exec_streams",
    "plugins": "plugin_streams",
    "services": "service_streams",
    "system": "system_streams",
    "tasks": "task_streams",
}


def _unwrap_option(kind):
    kind = kind.strip()
    if kind.startswith("option<") and kind.endswith(">"):
        return kind[len("option<"):-1].strip(), True
    return kind, False


def _record(module, kind):
    """``(class, fields)`` of WIT record ``kind`` as seen from ``module`` (its own or the types')."""
    for m in (module, _TYPES):
        rec = _api.RECORDS.get(m, {}).get(kind)
        if rec is not None:
            return getattr(_bindings.MODULES[m], rec[0]), rec[1], m
    return None


def _pairs(value):
    """A filters value (``"x"``, ``["x", "y"]``, ``{"x": True}``, ``True``) as a list of strings."""
    if isinstance(value, dict):
        return [str(k) for k, v in value.items() if v]
    if isinstance(value, (list, tuple, set)):
        return [_scalar(v) for v in value]
    return [_scalar(value)]


def _scalar(v):
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _default(kind):
    """The value of an omitted record field of WIT type ``kind`` (None when it has no natural one)."""
    inner, optional = _unwrap_option(kind)
    if optional:
        return None
    if inner.startswith("list<"):
        return []
    if inner == "bool":
        return False
    if inner in ("u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"):
        return 0
    if inner == "string":
        return ""
    return _REQUIRED


_REQUIRED = object()


def to_wit(kind, value, module, where):
    """Convert a Python ``value`` to WIT type ``kind`` (as the bindings of ``module`` take it);
    ``where`` names the parameter for errors."""
    inner, optional = _unwrap_option(kind)
    if value is None:
        if optional:
            return None
        raise TypeError("%s is required" % where)
    if inner == "json":
        return value if isinstance(value, str) else json.dumps(value)
    if inner == "filters":
        if isinstance(value, dict):
            return [(str(k), _pairs(v)) for k, v in value.items()]
        return [(str(k), _pairs(v)) for k, v in value]
    if inner.startswith("list<tuple<string, string>>"):
        items = value.items() if isinstance(value, dict) else value
        return [(str(k), _scalar(v)) for k, v in items]
    if inner.startswith("list<tuple<string, option<string>>>"):
        items = value.items() if isinstance(value, dict) else value
        return [(str(k), None if v is None else _scalar(v)) for k, v in items]
    if inner == "list<string>":
        return [value] if isinstance(value, str) else [str(v) for v in value]
    if inner == "list<u8>":
        return bytes(value)
    if inner.startswith("list<tuple<string, "):  # e.g. per-registry auth configs
        sub = inner[len("list<tuple<string, "):-2]
        items = value.items() if isinstance(value, dict) else value
        return [(str(k), to_wit(sub, v, module, "%s[%r]" % (where, k))) for k, v in items]
    if inner.startswith("list<"):
        sub = inner[len("list<"):-1]
        return [to_wit(sub, v, module, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
    if inner.startswith("borrow<") or inner in ("image",):
        return getattr(value, "_handle", value)
    rec = _record(module, inner)
    if rec is not None:
        cls, fields, rec_module = rec
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise TypeError("%s: expected a dict of %s fields, got %r" % (where, cls.__name__, value))
        return _build_record(cls, fields, rec_module, value, where)
    if isinstance(value, str) and inner not in ("string", "char"):
        enum = getattr(_bindings.MODULES.get(module), _class_name(inner), None)
        if enum is not None and hasattr(enum, "__members__"):
            try:
                return enum[value.upper().replace("-", "_")]
            except KeyError:
                raise ValueError("%s: %r is not one of %s" % (
                    where, value, ", ".join(m.lower() for m in enum.__members__))) from None
    return value


def _class_name(kind):
    return "".join(p[:1].upper() + p[1:] for p in kind.lstrip("%").split("-"))


def _build_record(cls, fields, module, values, where):
    """Build record ``cls`` from the dict ``values`` (missing fields take their defaults)."""
    names = {f for f, _ in fields}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TypeError("%s: %s has no field %s (fields: %s)" % (
            where, cls.__name__, ", ".join(unknown), ", ".join(sorted(names))))
    args = {}
    for name, kind in fields:
        if name in values:
            args[name] = to_wit(kind, values[name], module, "%s.%s" % (where, name))
        else:
            value = _default(kind)
            if value is _REQUIRED:
                raise TypeError("%s: %s.%s is required" % (where, cls.__name__, name))
            args[name] = value
    return cls(**args)


def from_wit(kind, value, module, function):
    """Convert a WIT result ``value`` of type ``kind`` to what the typed layer returns."""
    inner, _ = _unwrap_option(kind)
    if value is None:
        return None
    if inner == "json":
        return json.loads(value) if value else None
    if inner == "json-stream":
        return handles.JsonStream(value, function)
    if inner == "frame-reader":
        return handles.Frames(value, function)
    if inner == "input-stream":
        return handles.InputStream(value, function)
    if inner == "attached-socket":
        return handles.Socket(value, function)
    if inner == "upload":
        return handles.Upload(value, lambda h: from_wit("json", type(h).finish(h), module, function),
                               function)
    if inner == "progress-upload":
        return handles.Upload(value, lambda h: handles.JsonStream(type(h).finish(h), function),
                              function)
    rec = _record(module, inner)
    if rec is not None:
        _cls, fields, rec_module = rec
        for name, fkind in fields:
            setattr(value, name, from_wit(fkind, getattr(value, name), rec_module, function))
    return value


def call(module, name, eng, args, kwargs):
    """Call WIT function ``module.name`` on engine handle ``eng`` (None for a function without one)
    with Python ``args`` and ``kwargs``; returns the converted result."""
    spec = _api.FUNCTIONS[module][name]
    iface = module.replace("_", "-")
    function = "%s.%s" % (iface, name.replace("_", "-"))
    params = spec["params"]
    if len(args) > len(params):
        raise TypeError("%s takes %d arguments (%s), %d given" % (
            function, len(params), ", ".join(p for p, _ in params), len(args)))
    given = dict(zip((p for p, _ in params), args))
    extra = {}
    for k, v in kwargs.items():
        if k in given:
            raise TypeError("%s: %s given twice" % (function, k))
        if any(k == p for p, _ in params):
            given[k] = v
        else:
            extra[k] = v
    options = [(p, kind) for p, kind in params if _record(module, _unwrap_option(kind)[0]) is not None
               and _unwrap_option(kind)[0].endswith("options")]
    out = []
    for p, kind in params:
        where = "%s(%s)" % (function, p)
        if p not in given and (p, kind) in options[:1]:
            given[p] = extra
            extra = {}
        if p not in given:
            inner, optional = _unwrap_option(kind)
            if optional:
                given[p] = None
            elif _record(module, inner) is not None:
                given[p] = {}
            else:
                raise TypeError("%s: missing argument %s" % (function, p))
        out.append(to_wit(kind, given[p], module, where))
    if extra:
        raise TypeError("%s: unexpected keyword argument(s) %s (parameters: %s%s)" % (
            function, ", ".join(sorted(extra)), ", ".join(p for p, _ in params),
            "; options: " + ", ".join(f for f, _ in _record(module, _unwrap_option(options[0][1])[0])[1])
            if options else ""))
    fn = getattr(_bindings.MODULES[module], name)
    try:
        result = fn(eng, *out) if spec["engine"] else fn(*out)
    except _cpt.Err as e:
        raise errors.from_wit(e.value, function) from None
    return from_wit(spec["returns"], result, module, function)


class Interface:
    """The functions of one WIT interface (and its ``*-streams`` twin) bound to an engine."""

    def __init__(self, engine, modules):
        """``engine``: the WIT engine handle; ``modules``: binding module names, searched in order."""
        self._engine = engine
        self._modules = modules

    def __getattr__(self, name):
        """The WIT function ``name`` as a Python callable."""
        for module in self._modules:
            spec = _api.FUNCTIONS.get(module, {}).get(name)
            if spec is not None:
                def bound(*args, _m=module, _n=name, **kwargs):
                    return call(_m, _n, self._engine, args, kwargs)

                bound.__name__ = name
                bound.__doc__ = spec["doc"]
                return bound
        raise AttributeError("%s has no function %s (functions: %s)" % (
            "/".join(self._modules), name, ", ".join(sorted(self.functions()))))

    def functions(self):
        """The names of the functions offered."""
        return sorted({n for m in self._modules for n in _api.FUNCTIONS.get(m, {})})

    def __dir__(self):
        """The functions, for completion."""
        return self.functions()


class Engine:
    """A Docker engine the host granted, with one attribute per WIT interface."""

    def __init__(self, name=None):
        """Open (once per plugin) the engine ``name``; None is the engine ``tug run`` was given."""
        try:
            self._handle = _bindings.engine(name)
        except _cpt.Err as e:
            raise errors.from_wit(e.value, "engines.%s" % ("default" if name is None else "open")) \
                from None
        self.name = self._handle.name()

    def api_version(self):
        """The API version spoken with this engine (``1.41``)."""
        return self._handle.api_version()

    def __getattr__(self, name):
        """The interface ``name`` (``containers``, ``container_streams``…)."""
        if name.startswith("_"):
            raise AttributeError(name)
        modules = [name] + ([_MERGED[name]] if name in _MERGED else [])
        if not any(m in _api.FUNCTIONS for m in modules) or name in ("registry", "registry_streams"):
            raise AttributeError("an engine has no interface %s (interfaces: %s)" % (
                name, ", ".join(self.interfaces())))
        return Interface(self._handle, modules)

    def interfaces(self):
        """The interface names."""
        return sorted(m for m in _api.FUNCTIONS if not m.startswith("registry"))

    def __dir__(self):
        """The interfaces, for completion."""
        return self.interfaces() + ["api_version", "name"]

    def __repr__(self):
        return "<tug.Engine %s>" % self.name


_engines = {}


def engine(name=None):
    """The :class:`Engine` named ``name`` (None: the one ``tug run`` was given), one object per name."""
    if name not in _engines:
        _engines[name] = Engine(name)
    return _engines[name]


def engine_names():
    """The names of the engines the run was given, ``default`` first: each opens with :func:`engine`
    (``tug.engine(name)``) or docker-py's ``DockerClient(base_url="tug://NAME")``."""
    return _bindings.engine_names()
