"""tug's Python SDK for plugins built with ``tug build``.

Two ways to script Docker from a plugin:

- **docker-py, unchanged.** A script that imports ``docker`` gets tug's transport
  (``tug.docker_transport``): ``docker.from_env()``, ``docker.DockerClient`` and ``docker.APIClient``
  call tug's WIT functions instead of a socket. A policy denial is
  ``tug.docker_transport.PolicyDenied``, an ``APIError`` with status 403.
- **The typed layer**, for what docker-py has no words for (engines by name, daemonless registry images,
  waiting on several streams)::

      import tug
      eng = tug.engine()                        # tug.engine("build-host") for another granted engine
      ids = [c["Id"] for c in eng.containers.list(all=True, filters={"label": "team=ci"})]
      with eng.containers.logs(ids[0], stdout=True, follow=True) as out:
          for stream, data in out: ...
      try:
          eng.containers.create({"Image": "busybox", "HostConfig": {"Privileged": True}})
      except tug.PolicyDenied as denied:
          print(denied.rule, denied.field, denied.reason)

``tug.registry`` holds the daemonless image functions, ``tug.wait`` waits on several handles at once,
``tug.errors`` the exceptions. ``tug._routes`` and ``tug._api`` are generated from ``wit/`` by
``scripts/gen_python_routes.py``.
"""

from . import errors, handles, registry
from ._bindings import MISSING as _MISSING
from ._bindings import monotonic_clock as _clock
from ._bindings import poll as _poll
from .client import Engine, engine, engine_names
from .errors import (
    APIError,
    Conflict,
    NotFound,
    PolicyDenied,
    TugError,
)

__all__ = [
    "engine",
    "engine_names",
    "Engine",
    "wait",
    "registry",
    "errors",
    "handles",
    "TugError",
    "APIError",
    "NotFound",
    "Conflict",
    "PolicyDenied",
]


def wait(*waitables, timeout=None):
    """Wait until at least one of ``waitables`` (handles from the typed layer: streams, sockets) can be
    read without waiting, or ``timeout`` seconds pass. Returns the ready ones, in the order given (an
    empty list on timeout)."""
    if _MISSING is not None:
        raise RuntimeError("tug.wait needs the tug bindings (inside a plugin)")
    pollables = [w.subscribe() for w in waitables]
    timer = None
    if timeout is not None:
        timer = _clock.subscribe_duration(max(0, int(timeout * 1e9)))
        pollables.append(timer)
    try:
        ready = _poll.poll(pollables)
        return [waitables[i] for i in sorted(set(ready)) if i < len(waitables)]
    finally:
        for p in pollables:
            try:
                p.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - already released
                pass
