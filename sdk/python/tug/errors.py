"""The exceptions of tug's typed layer: one class per case of the WIT ``error`` variant, in a hierarchy
that mirrors docker-py's (``APIError`` with ``status_code`` and ``explanation``; ``NotFound`` under it),
plus :class:`PolicyDenied`, which carries the policy's ``rule``, ``field`` and ``reason``.

Every message names the function that failed (``containers.create``), so a line in a log says what to
fix.
"""

__all__ = [
    "TugError",
    "APIError",
    "NotFound",
    "Conflict",
    "BadRequest",
    "NotModified",
    "InvalidArgument",
    "PolicyDenied",
    "APIVersionError",
    "IntegrityError",
    "TransportError",
    "Timeout",
    "StreamError",
    "from_wit",
]


class TugError(Exception):
    """Base of every error the typed layer raises (docker-py's ``DockerException``). ``function`` is the
    WIT function that failed (``containers.create``), when known."""

    def __init__(self, message, function=None):
        """``message``: what went wrong; ``function``: the WIT function (``interface.function``)."""
        super().__init__(message)
        self.function = function

    def __str__(self):
        """The message, prefixed by the function that failed."""
        msg = super().__str__()
        return "%s: %s" % (self.function, msg) if self.function else msg


class APIError(TugError):
    """The engine (or the policy, or tug) refused the call with an HTTP status (docker-py's
    ``APIError``): ``status_code`` and ``explanation`` as docker-py has them."""

    status_code = 500

    def __init__(self, explanation, status_code=None, function=None):
        """``explanation``: the engine's message; ``status_code``: the HTTP status (the class's by
        default)."""
        super().__init__(explanation, function)
        self.explanation = explanation
        if status_code is not None:
            self.status_code = status_code

    def is_client_error(self):
        """Whether the status is 4xx (as in docker-py)."""
        return 400 <= self.status_code < 500

    def is_server_error(self):
        """Whether the status is 5xx (as in docker-py)."""
        return 500 <= self.status_code < 600


class NotFound(APIError):
    """No such object (404)."""

    status_code = 404


class Conflict(APIError):
    """The object is in a state that forbids the call, or the name is taken (409)."""

    status_code = 409


class BadRequest(APIError):
    """The engine found the request malformed (400)."""

    status_code = 400


class NotModified(APIError):
    """Nothing to do: already started, already stopped (304)."""

    status_code = 304


class InvalidArgument(APIError):
    """tug refused an argument before the engine saw it (400)."""

    status_code = 400


class APIVersionError(APIError):
    """The engine's API version cannot serve the call (400)."""

    status_code = 400


class IntegrityError(APIError):
    """Content did not match its digest or size (500)."""

    status_code = 500


class PolicyDenied(APIError):
    """The run's policy refused the call (403). ``rule`` is the policy rule (``containers.privileged``),
    ``field`` the part of the request it refused (``HostConfig.Privileged``; None for the whole call),
    ``reason`` why, in words."""

    status_code = 403

    def __init__(self, rule, field, reason, function=None):
        """Build the denial from the WIT ``denial`` record's parts."""
        where = " at `%s`" % field if field else ""
        super().__init__("tug policy denied the call (rule `%s`%s): %s" % (rule, where, reason),
                         function=function)
        self.rule = rule
        self.field = field
        self.reason = reason


class TransportError(TugError):
    """tug could not reach the engine or a registry (docker-py: ``requests.ConnectionError``)."""


class Timeout(TransportError):
    """A deadline passed before the engine answered."""


class StreamError(TugError):
    """A stream broke while it was read or written."""


_SIMPLE = {
    "NotFound": NotFound,
    "Conflict": Conflict,
    "BadRequest": BadRequest,
    "InvalidArgument": InvalidArgument,
    "ApiVersion": APIVersionError,
    "Integrity": IntegrityError,
    "Transport": TransportError,
    "Timeout": Timeout,
}


def from_wit(err, function=None):
    """Return the exception for a WIT ``error`` variant value (``Error_NotFound(value=...)``…), naming
    ``function``."""
    case = type(err).__name__.split("_", 1)[-1]
    value = getattr(err, "value", None)
    if case == "Denied":
        return PolicyDenied(value.rule, value.field, value.reason, function=function)
    if case == "Api":
        cls = {404: NotFound, 409: Conflict, 400: BadRequest, 304: NotModified}.get(value.status, APIError)
        return cls(value.message, status_code=value.status, function=function)
    if case == "NotModified":
        return NotModified("not modified", function=function)
    cls = _SIMPLE.get(case)
    if cls is None:
        return TugError("unexpected error %r" % (err,), function=function)
    return cls(str(value), function=function)
