"""Host side of ``tug build SCRIPT.py``: checks the script's syntax and writes the component's entry
module, which preloads every module the script imports (see ``tug/_script.py``).

Usage: ``python3 prepare.py SCRIPT.py NAME OUT_DIR``: the script's text is read from SCRIPT.py (a copy
tug made, so the build is of what tug hashed) and NAME is the file name it reports. On a syntax error,
prints ``NAME:LINE:COL: message`` and exits 2.
"""

import ast
import sys


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

_script.preload({modules!r})
if "docker" in sys.modules:  # imported by the script, or by a module it imports
    import tug.docker_transport

    tug.docker_transport.install()
from wit_world import exports

SOURCE = {source!r}


class Run(exports.Run):
    def run(self) -> None:
        _script.main(SOURCE, {filename!r})
'''


def main():
    """Entry point."""
    path, filename, out = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        print(f"{filename}:{e.lineno}:{e.offset}: {e.msg}", file=sys.stderr)
        sys.exit(2)
    modules = imports(tree, filename)
    with open(f"{out}/tug_entry.py", "w", encoding="utf-8") as f:
        f.write(ENTRY.format(filename=filename, modules=modules, source=source))


if __name__ == "__main__":
    main()
