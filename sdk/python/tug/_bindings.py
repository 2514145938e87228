"""The bindings componentize-py generates for world ``tug:engine/plugin``, imported once for the whole
SDK, and the engine handles a plugin opens (one per name, for the life of the plugin).

Outside a component (host Python, docs tools) the bindings do not exist: the names are None and
:data:`MISSING` says why; calling into them raises a clear error.
"""

import importlib

from . import _api, _routes

try:  # the bindings exist only inside a component built by componentize-py
    import componentize_py_types as cpt
    from wit_world.imports import engines as _engines
    from wit_world.imports import monotonic_clock, poll

    MODULES = {m: importlib.import_module("wit_world.imports." + m)
               for m in sorted(set(_api.FUNCTIONS) | set(_api.RECORDS) | set(_routes.MODULES))}
    MISSING = None
except ImportError as _e:  # pragma: no cover - outside a component
    cpt = _engines = monotonic_clock = poll = None
    MODULES = {}
    MISSING = _e

__all__ = ["cpt", "poll", "monotonic_clock", "MODULES", "MISSING", "engine", "engine_names", "require"]

_by_name = {}


def require():
    """Raise a clear error when the bindings are missing (not inside a tug plugin)."""
    if MISSING is not None:
        raise RuntimeError("tug bindings are not available (not running inside a tug plugin built with "
                           "`tug build`): %s" % MISSING)


def engine(name=None):
    """The WIT engine handle named ``name`` (None: the engine ``tug run`` was given), opened once and
    kept for the life of the plugin. A name the host does not grant raises the WIT error."""
    require()
    if name not in _by_name:
        _by_name[name] = _engines.default() if name is None else _engines.open(name)
    return _by_name[name]


def engine_names():
    """The names of the engines the run was given (``engines.names``), ``default`` first."""
    require()
    return list(_engines.names())
