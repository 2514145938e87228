"""Runs a plugin's script as CPython runs ``python SCRIPT.py``: as ``__main__``, with ``sys.argv``, the
exit code of ``sys.exit(n)``, and a traceback on stderr (exit 1) for an uncaught exception.

``tug build`` writes a small entry module that imports this one, imports every module the script
imports (componentize-py keeps only what is imported at build time: an import at run time finds
nothing that was not), and calls :func:`main` from the component's ``run`` export.
"""

import importlib
import linecache
import sys
import traceback
import types

# Imported now: componentize-py keeps only what is imported when it snapshots the interpreter.
from wit_world.imports import exit as wasi_exit


def preload(modules):
    """Imports each ``(module, filename, line, required)`` now, at build time. A required module that
    cannot be imported stops the build with one line naming the script's file and line; an optional one
    (imported inside ``try``, a function or a condition) is skipped."""
    for name, filename, line, required in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            if required:
                raise ImportError(
                    f"{filename}:{line}: cannot import {name}: {e} (only pure-Python packages can be "
                    f"bundled; add them with --requirements)"
                ) from None
        except Exception as e:  # a module that fails on import fails the build, naming where
            if required:
                raise ImportError(f"{filename}:{line}: importing {name} failed: {e!r}") from None


def imports_of(source, filename):
    """The imports of ``source`` as ``preload`` takes them, parsed with the component's Python (when the
    host's could not parse it). A syntax error stops the build with one line naming file and line."""
    import ast  # noqa: PLC0415 - only at build time, only for scripts the host could not parse

    from tug_build.prepare import imports

    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        raise SyntaxError(f"{filename}:{e.lineno}:{e.offset}: {e.msg}") from None
    return imports(tree, filename)


def exit_code(exc):
    """The exit code CPython gives a ``SystemExit``: ``None`` is 0, an int is itself (modulo 256),
    anything else is printed to stderr and is 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run(source, filename):
    """Runs ``source`` as ``__main__``; returns the exit code."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    main = types.ModuleType("__main__")
    main.__file__ = filename
    sys.modules["__main__"] = main
    namespace = main.__dict__
    try:
        code = compile(source, filename, "exec")
        exec(code, namespace)
        return 0
    except SystemExit as e:
        return exit_code(e)
    except BaseException as e:  # noqa: BLE001 - CPython prints every uncaught exception and exits 1
        # From the script's own frames, as `python SCRIPT.py` shows it (this module's frame skipped).
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream has nothing left to flush
                pass


def main(source, filename):
    """Runs the script and ends the plugin with its exit code (``wasi:cli/exit``'s ``exit-with-code``)."""
    code = run(source, filename)
    if code == 0:
        return
    wasi_exit.exit_with_code(code)
