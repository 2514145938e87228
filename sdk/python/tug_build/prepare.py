"""Host side of ``tug build SCRIPT.py``: checks the script's syntax and writes the component's entry
module, which preloads every module the script imports (see ``tug/_script.py``).

Usage: ``python3 prepare.py SCRIPT.py NAME OUT_DIR``: the script's text is read from SCRIPT.py (a copy
tug made, so the build is of what tug hashed) and NAME is the file name it reports. On a syntax error,
prints ``NAME:LINE:COL: message`` and exits 2 — unless the host's Python is older than the component's
(3.14) and may not know the syntax: then the entry module parses the script at build time with the
component's Python, and reports the error the same way.

``python3 prepare.py --local SCRIPT.py DIR``: prints (one per line) the files of the modules next to the
script (in DIR, the script's directory) that it imports, directly or through each other: ``NAME.py``, or
every ``.py`` file of package ``NAME/``. ``tug build`` hashes and bundles them, so a script that imports
its own helper module works as under ``python SCRIPT.py``.
"""

import ast
import os
import re
import sys

#: The component's Python (componentize-py 0.25 embeds CPython 3.14).
GUEST_PYTHON = (3, 14)
#: Bounds on what ``--local`` collects (a script next to a huge tree must not pull it all in).
MAX_LOCAL_FILES = 2000
MAX_LOCAL_BYTES = 64 << 20


def imports(tree, filename):
    """``(module, filename, line, required)`` for every import in the script. Imports at the top level,
    outside ``try``, are required; others (in ``try``, functions, conditions) are optional."""
    found = {}

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, child.lineno, top)
            elif isinstance(child, ast.ImportFrom):
                if child.level == 0 and child.module:
                    add(child.module, child.lineno, top)
                    for alias in child.names:
                        if alias.name != "*":
                            # `from a import b` may name a submodule: tried, never required.
                            add(f"{child.module}.{alias.name}", child.lineno, False)
            else:
                nested = isinstance(
                    child,
                    (ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.If, ast.With, ast.ClassDef),
                ) or (hasattr(ast, "TryStar") and isinstance(child, ast.TryStar))
                visit(child, top and not nested)

    def add(name, line, required):
        old = found.get(name)
        if old is None or (required and not old[3]):
            found[name] = (name, filename, line, required)

    visit(tree, True)
    return list(found.values())


ENTRY = '''# Written by `tug build`: runs the script {filename!r} as __main__ when the plugin runs.
import sys

import tug._script as _script

SOURCE = {source!r}

_script.preload({modules!r} if {parsed!r} else _script.imports_of(SOURCE, {filename!r}))
if "docker" in sys.modules:  # imported by the script, or by a module it imports
    import tug.docker_transport

    tug.docker_transport.install()
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        _script.main(SOURCE, {filename!r})
'''


def local_files(script, root):
    """The files of the modules in ``root`` that ``script`` imports, transitively (paths relative to
    ``root``, sorted)."""
    found, seen, queue, total = set(), set(), [script], 0
    while queue:
        path = queue.pop()
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue  # reported when the build imports it
        try:
            names = [name for name, _f, _l, _r in imports(ast.parse(text, path), path)]
        except (SyntaxError, ValueError):
            # Syntax this Python does not know: the import statements, read line by line.
            names = [m.group(2) for m in re.finditer(r"^\s*(import|from)\s+([A-Za-z_][\w.]*)", text, re.M)]
        for name in names:
            top = name.split(".")[0]
            if top in seen:
                continue
            seen.add(top)
            single = os.path.join(root, top + ".py")
            package = os.path.join(root, top)
            if os.path.isfile(single):
                files = [single]
            elif os.path.isfile(os.path.join(package, "__init__.py")):
                files = [os.path.join(d, n) for d, _dirs, names in os.walk(package)
                         for n in names if n.endswith(".py")]
            else:
                continue
            for file in files:
                rel = os.path.relpath(file, root)
                if rel in found or os.path.samefile(file, script):
                    continue
                found.add(rel)
                total += os.path.getsize(file)
                if len(found) > MAX_LOCAL_FILES or total > MAX_LOCAL_BYTES:
                    print(f"{os.path.basename(script)}: the modules it imports from {root} exceed "
                          f"{MAX_LOCAL_FILES} files or {MAX_LOCAL_BYTES >> 20} MiB", file=sys.stderr)
                    sys.exit(2)
                queue.append(file)
    return sorted(found)


def main():
    """Entry point."""
    if sys.argv[1] == "--local":
        for rel in local_files(sys.argv[2], sys.argv[3]):
            print(rel)
        return
    path, filename, out = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        modules, parsed = imports(ast.parse(source, filename), filename), True
    except SyntaxError as e:
        if sys.version_info[:2] >= GUEST_PYTHON:
            print(f"{filename}:{e.lineno}:{e.offset}: {e.msg}", file=sys.stderr)
            sys.exit(2)
        # Perhaps syntax newer than this Python: the component's Python parses it at build time.
        modules, parsed = [], False
    with open(f"{out}/tug_entry.py", "w", encoding="utf-8") as f:
        f.write(ENTRY.format(filename=filename, modules=modules, source=source, parsed=parsed))


if __name__ == "__main__":
    main()
