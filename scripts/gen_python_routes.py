#!/usr/bin/env python3
"""Generate ``sdk/python/tug/_routes.py``: the Engine API route table of the Python SDK.

Reads ``wit/operations.tsv`` and the WIT files of package ``tug:engine`` and writes one entry per HTTP
route that a WIT function serves, with everything ``tug.docker_transport`` needs to turn a docker-py
request into a call of the Python bindings componentize-py generates for world ``tug:engine/plugin``:
the module and function names, where each positional parameter comes from (a path parameter, a query
parameter, the JSON body, a header, the options record), each options field's query name and WIT type,
the transport shape and the return type. Nothing is hand-written: what cannot be mapped is listed in the
comment at the top of the generated file.

Usage: ``python3 scripts/gen_python_routes.py [--wit DIR] [--out FILE] [--bindings DIR] [--check]``.
``--bindings`` (the output of ``componentize-py -d wit -w tug:engine/plugin bindings DIR``) checks every
generated module, function and class name against the real bindings. ``--check`` exits 1 when the file
on disk differs from what would be generated. Standard library only (Python 3.11+).
"""

import argparse
import csv
import keyword
import os
import pprint
import re
import sys

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")


def py_name(wit_name):
    """Return the Python identifier componentize-py generates for a WIT identifier (kebab → snake,
    ``%`` escape dropped, a trailing ``_`` on Python keywords: ``%import`` → ``import_``)."""
    name = wit_name.lstrip("%").replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


def py_class(wit_name):
    """Return the Python class name componentize-py generates for a WIT type (``list-options`` →
    ``ListOptions``)."""
    return "".join(part[:1].upper() + part[1:] for part in wit_name.lstrip("%").split("-"))


def camel(wit_name):
    """Return the lowerCamelCase form of a kebab-case name (``from-image`` → ``fromImage``): the query
    parameter name assumed for a plain (non-options) function parameter."""
    parts = wit_name.lstrip("%").split("-")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def split_top(text, sep=","):
    """Split ``text`` on ``sep`` outside ``<>``, ``()`` and ``[]``; strip the pieces and drop empty
    ones."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [p for p in out if p]


def unwrap_option(wit_type):
    """Return ``(inner type, optional?)`` for a WIT type, unwrapping one ``option<...>``."""
    wit_type = wit_type.strip()
    if wit_type.startswith("option<") and wit_type.endswith(">"):
        return wit_type[len("option<"):-1].strip(), True
    return wit_type, False


def parse_wit_file(text):
    """Parse the interfaces of one WIT file (records and free functions, with their doc comments).

    Returns ``{interface: {"records": {name: [field...]}, "funcs": {name: func}}}`` where a field is
    ``{"name", "type", "doc"}`` and a func is ``{"name", "params": [(name, type)], "result", "doc"}``.
    Functions of resources, variants and enums are skipped: routes are free functions.
    """
    interfaces = {}
    iface = None
    record = None
    depth = 0
    block_kind = []  # what each open brace belongs to
    doc = []
    pending = ""  # a declaration spanning several lines
    pending_doc = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("///"):
            doc.append(line[3:].strip())
            continue
        if line.startswith("//") or not line:
            if not line:
                doc = [] if not pending else doc
            continue
        if pending:
            pending += " " + line
            if not pending.rstrip().endswith(";"):
                continue
            line, pending = pending, ""
            doc = pending_doc
        m = re.match(r"interface\s+([\w-]+)\s*\{", line)
        if m and depth == 0:
            iface = m.group(1)
            interfaces[iface] = {"records": {}, "funcs": {}, "doc": " ".join(doc)}
            depth, block_kind, doc = 1, ["interface"], []
            continue
        if iface is None:
            doc = []
            continue
        m = re.match(r"(record|resource|variant|enum|flags)\s+(%?[\w-]+)\s*\{", line)
        if m:
            kind = m.group(1)
            if kind == "record" and depth == 1:
                record = m.group(2).lstrip("%")
                interfaces[iface]["records"][record] = {"fields": [], "doc": " ".join(doc)}
            depth += 1
            block_kind.append(kind)
            doc = []
            if line.endswith("}"):  # `resource x {}` on one line
                depth -= 1
                block_kind.pop()
            continue
        if line.startswith("}"):
            depth -= 1
            kind = block_kind.pop()
            if kind == "record":
                record = None
            if depth == 0:
                iface = None
            doc = []
            continue
        if record is not None and depth == 2:
            m = re.match(r"(%?[\w-]+)\s*:\s*(.+?),?$", line)
            if m:
                interfaces[iface]["records"][record]["fields"].append(
                    {"name": m.group(1).lstrip("%"), "type": m.group(2).strip().rstrip(","),
                     "doc": " ".join(doc)})
            doc = []
            continue
        if depth == 1:
            m = re.match(r"(%?[\w-]+)\s*:\s*(static\s+)?func\s*\(", line)
            if m:
                if not line.rstrip().endswith(";"):
                    pending, pending_doc = line, doc
                    continue
                name = m.group(1).lstrip("%")
                rest = line[m.end():]
                close, depth_p = None, 1
                for i, ch in enumerate(rest):
                    if ch == "(":
                        depth_p += 1
                    elif ch == ")":
                        depth_p -= 1
                        if depth_p == 0:
                            close = i
                            break
                params = []
                for p in split_top(rest[:close]):
                    pname, ptype = p.split(":", 1)
                    params.append((pname.strip().lstrip("%"), ptype.strip()))
                result = rest[close + 1:].strip().rstrip(";").strip()
                if result.startswith("->"):
                    result = result[2:].strip()
                interfaces[iface]["funcs"][name] = {
                    "name": name, "params": params, "result": result, "doc": " ".join(doc)}
        doc = []
    return interfaces


def ok_type(result):
    """Return the success type of a ``result<T, error>`` (``_`` for none)."""
    m = re.match(r"result<(.*)>$", result)
    if not m:
        return result or "_"
    parts = split_top(m.group(1))
    return parts[0] if parts else "_"


def dep_interface_names(wit_dir):
    """Return the interface names declared in ``wit/deps`` (the WASI packages), which componentize-py
    disambiguates from tug's own interfaces of the same name."""
    names = set()
    deps = os.path.join(wit_dir, "deps")
    for root, _dirs, files in os.walk(deps):
        for fn in files:
            if fn.endswith(".wit"):
                with open(os.path.join(root, fn), encoding="utf-8") as f:
                    names.update(re.findall(r"^\s*interface\s+([\w-]+)", f.read(), re.M))
    return names


def module_name(iface, package, clashes):
    """Return the module componentize-py generates for interface ``iface`` of ``package``
    (``tug:engine``): the snake-case name, or ``tug_engine_<name>`` when a WASI interface has the same
    name (``types`` → ``tug_engine_types``)."""
    base = iface.replace("-", "_")
    if iface in clashes:
        return package.replace(":", "_").replace("-", "_") + "_" + base
    return base


def path_regex(path):
    """Return the anchored regex matching a path template; each ``{param}`` matches one or more
    characters, slashes included (image and plugin names contain them); routes are tried from the most
    literal to the least, so ``/containers/{id}/checkpoints/{name}`` is tried before
    ``/containers/{id}``."""
    out, pos = ["^"], 0
    for m in re.finditer(r"\{([\w-]+)\}", path):
        out.append(re.escape(path[pos:m.start()]))
        out.append("(?P<%s>.+?)" % m.group(1).replace("-", "_"))
        pos = m.end()
    out.append(re.escape(path[pos:]))
    out.append("$")
    return "".join(out)


def literal_len(path):
    """Return how many characters of a path template are literal (the route-matching priority)."""
    return len(re.sub(r"\{[\w-]+\}", "", path))


def parse_when(clause):
    """Parse the ``with ...`` clause of a doc comment's ``(OperationId, METHOD /path with ...)`` into
    conditions telling routes of the same method and path apart: ``stream=false`` → query ``stream``
    equals ``false``; ``fromImage`` → query ``fromImage`` present; ``Detach: true`` → body field
    ``Detach`` equals ``true``."""
    conds = []
    for item in re.findall(r"`([^`]+)`", clause or ""):
        if ":" in item:
            k, v = item.split(":", 1)
            conds.append({"in": "body", "key": k.strip(), "equals": v.strip()})
        elif "=" in item:
            k, v = item.split("=", 1)
            conds.append({"in": "query", "key": k.strip(), "equals": v.strip()})
        else:
            conds.append({"in": "query", "key": item.strip(), "equals": None})
    return conds


def header_of(doc):
    """Return ``(header, encoding)`` when a doc comment starts by naming an HTTP header
    (``The `Api-Version` header`` → ``("Api-Version", "text")``; ``... header decoded to its JSON`` →
    ``"base64-json"``), else None."""
    m = re.match(r"[Tt]he `([A-Za-z][A-Za-z0-9-]*)` header( decoded to its JSON)?", doc)
    if not m:
        return None
    return m.group(1), ("base64-json" if m.group(2) else "text")


def build(wit_dir, package="tug:engine"):
    """Build the route table from ``wit_dir``; returns ``(routes, types_module, notes)`` where notes
    lists what could not be mapped."""
    interfaces = {}
    for fn in sorted(os.listdir(wit_dir)):
        if fn.endswith(".wit"):
            with open(os.path.join(wit_dir, fn), encoding="utf-8") as f:
                for name, body in parse_wit_file(f.read()).items():
                    interfaces[name] = body
    clashes = dep_interface_names(wit_dir) & set(interfaces)
    types_module = module_name("types", package, clashes)

    notes, routes = [], []
    with open(os.path.join(wit_dir, "operations.tsv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for order, row in enumerate(rows):
        fq = row["function"].split(".")
        if row["path"] == "-" or row["method"] not in HTTP_METHODS:
            notes.append("%s (%s): no HTTP route (%s %s)" % (row["function"], row["operationId"],
                                                            row["method"], row["path"]))
            continue
        if len(fq) != 2:
            notes.append("%s (%s %s %s): a resource method, not a free function" % (
                row["function"], row["operationId"], row["method"], row["path"]))
            continue
        iface, fname = fq
        func = interfaces.get(iface, {}).get("funcs", {}).get(fname)
        if func is None:
            notes.append("%s: not found in the WIT" % row["function"])
            continue
        doc = func["doc"]
        m = re.search(r"\((\w+),\s*(GET|POST|PUT|DELETE|HEAD)\s+(\S+?)(?:\s+with\s+([^)]*))?\)", doc)
        when = []
        if m:
            if (m.group(1), m.group(2), m.group(3)) != (row["operationId"], row["method"], row["path"]):
                notes.append("%s: doc says (%s, %s %s), operations.tsv says (%s, %s %s)" % (
                    row["function"], m.group(1), m.group(2), m.group(3),
                    row["operationId"], row["method"], row["path"]))
            when = parse_when(m.group(4))
        else:
            m2 = re.search(r"\((GET|POST|PUT|DELETE|HEAD)\s+(\S+?)[;)]", doc)
            if not m2:
                notes.append("%s: no (OperationId, METHOD /path) in its doc comment" % row["function"])
        path_params = [p.replace("-", "_") for p in re.findall(r"\{([\w-]+)\}", row["path"])]
        records = interfaces[iface]["records"]
        # explicit query names: "(the query parameters `h` and `w`)"
        explicit = []
        mq = re.search(r"the query parameters? ((?:`[^`]+`(?:,\s*|\s+and\s+)?)+)", doc)
        if mq:
            explicit = re.findall(r"`([^`]+)`", mq.group(1))
        headers = {}
        for hm in re.finditer(r"`([\w-]+)` is the `(X-[A-Za-z-]+)` header", doc):
            headers[hm.group(1)] = hm.group(2)
        for hm in re.finditer(r"`([\w-]+)` [^`(]*\(the `(X-[A-Za-z-]+)` header\)", doc):
            headers[hm.group(1)] = hm.group(2)

        params, options = [], None
        for pname, ptype in func["params"][1:]:  # the first is the engine
            inner, optional = unwrap_option(ptype)
            entry = {"name": py_name(pname), "wit": pname, "type": ptype, "optional": optional}
            if pname.replace("-", "_") in path_params:
                entry.update(source="path", key=pname.replace("-", "_"))
            elif inner == "json":
                entry.update(source="body", key=None)
            elif inner in records and inner.endswith("-options"):
                rec = records[inner]
                fields = []
                for fld in rec["fields"]:
                    f_inner, f_opt = unwrap_option(fld["type"])
                    qm = re.match(r"`([^`]+)`\s*:", fld["doc"])
                    bm = re.match(r"`([^`]+)` of the (?:[\w-]+ )*body", fld["doc"])
                    item = {"name": py_name(fld["name"]), "wit": fld["name"], "kind": f_inner,
                            "optional": f_opt}
                    if qm:
                        item.update(source="query", key=qm.group(1))
                    elif bm:
                        item.update(source="body", key=bm.group(1))
                    else:
                        item.update(source="unmapped", key=None)
                        notes.append("%s: options field `%s` has no query or body name (the "
                                     "transport fills it)" % (row["function"], fld["name"]))
                    if "sent as a JSON" in fld["doc"]:
                        item["encoding"] = "json"
                    fields.append(item)
                options = {"class": py_class(inner), "wit": inner, "fields": fields}
                entry.update(source="options", key=None, kind=inner)
            elif pname in headers:
                entry.update(source="header", key=headers[pname], kind=inner)
            elif inner in ("auth-config",) or (inner in records and row["body"] != "-"):
                entry.update(source="body-record", key=row["body"], kind=inner)
            elif inner in ("string", "u32", "s64", "bool", "list<string>"):
                key = explicit.pop(0) if explicit else camel(pname)
                entry.update(source="query", key=key, kind=inner,
                             inferred=not (mq and key in re.findall(r"`([^`]+)`", mq.group(1))))
            else:
                entry.update(source="unmapped", key=None, kind=inner)
                notes.append("%s: parameter `%s: %s` is not a path, query, body or header value" % (
                    row["function"], pname, ptype))
            params.append(entry)

        result = ok_type(func["result"])
        result_record = None
        if result in records:
            rec_fields = []
            for fld in records[result]["fields"]:
                h = header_of(fld["doc"])
                rec_fields.append({"name": py_name(fld["name"]), "type": fld["type"],
                                   "header": h[0] if h else None,
                                   "encoding": h[1] if h else None})
            result_record = {"class": py_class(result), "fields": rec_fields}
        result_header = None
        h = re.search(r"the `(X-[A-Za-z-]+)` header decoded to its JSON", doc)
        if h and result == "json":
            result_header = {"header": h.group(1), "encoding": "base64-json"}

        routes.append({
            "operation_id": row["operationId"],
            "method": row["method"],
            "path": row["path"],
            "regex": path_regex(row["path"]),
            "interface": iface,
            "module": module_name(iface, package, clashes),
            "function": py_name(fname),
            "area": row["area"],
            "access": row["access"],
            "target": None if row["target"] == "-" else row["target"],
            "body": None if row["body"] == "-" else row["body"],
            "shape": row["shape"],
            "returns": result,
            "result_record": result_record,
            "result_header": result_header,
            "params": params,
            "options": options,
            "when": when,
            "_order": order,
        })
    routes.sort(key=lambda r: (-literal_len(r["path"]), r["_order"]))
    for r in routes:
        del r["_order"]
    return routes, types_module, notes


def build_api(wit_dir, package="tug:engine"):
    """Build the function table of the typed ``tug`` layer from ``wit_dir``: for every interface of
    ``package`` (but ``types`` and ``engines``), its free functions (each parameter's Python name and
    WIT type, whether the first one is the engine, the success type, the first sentence of its doc)
    and its records (class name and fields). Returns ``(functions, records)``, keyed by module."""
    interfaces = {}
    for fn in sorted(os.listdir(wit_dir)):
        if fn.endswith(".wit"):
            with open(os.path.join(wit_dir, fn), encoding="utf-8") as f:
                interfaces.update(parse_wit_file(f.read()))
    clashes = dep_interface_names(wit_dir) & set(interfaces)
    functions, records = {}, {}
    for iface in sorted(interfaces):
        body = interfaces[iface]
        module = module_name(iface, package, clashes)
        if body["records"]:
            records[module] = {
                name: (py_class(name), [(py_name(f["name"]), f["type"]) for f in rec["fields"]])
                for name, rec in sorted(body["records"].items())}
        if iface in ("types", "engines") or not body["funcs"]:
            continue
        table = {}
        for name, func in sorted(body["funcs"].items()):
            params = [(py_name(p), t) for p, t in func["params"]]
            on_engine = bool(params) and params[0][1] == "borrow<engine>"
            doc = func["doc"].split(". ")[0].rstrip(".") + "."
            table[py_name(name)] = {
                "engine": on_engine,
                "params": params[1:] if on_engine else params,
                "returns": ok_type(func["result"]),
                "fallible": func["result"].startswith("result<"),
                "doc": doc,
            }
        functions[module] = table
    return functions, records


def render_api(functions, records):
    """Render ``sdk/python/tug/_api.py``: the function and record tables of the typed layer."""
    lines = [
        "# Generated by scripts/gen_python_routes.py from wit/*.wit.",
        "# Do not edit: rerun `python3 scripts/gen_python_routes.py`.",
        '"""The functions and records of tug\'s WIT, for the typed layer ``tug.client``.',
        "",
        "FUNCTIONS: module (under ``wit_world.imports``) → Python function name → ``engine`` (the first",
        "parameter is a ``borrow<engine>``), ``params`` (the other parameters: Python name, WIT type),",
        "``returns`` (the WIT success type), ``fallible`` (it returns a ``result``), ``doc``.",
        "RECORDS: module → WIT record name → (Python class name, [(field, WIT type)]).",
        '"""',
        "",
        "FUNCTIONS = " + pprint.pformat(functions, width=110, sort_dicts=True),
        "RECORDS = " + pprint.pformat(records, width=110, sort_dicts=True),
        "",
    ]
    return "\n".join(lines)


def check_bindings(routes, types_module, bindings):
    """Check every module, function and options class name against componentize-py's bindings in
    ``bindings``; returns a list of problems."""
    problems = []
    imports = os.path.join(bindings, "wit_world", "imports")
    cache = {}

    def src(mod):
        if mod not in cache:
            try:
                with open(os.path.join(imports, mod + ".py"), encoding="utf-8") as f:
                    cache[mod] = f.read()
            except OSError:
                cache[mod] = None
        return cache[mod]

    if src(types_module) is None:
        problems.append("no module %s in the bindings" % types_module)
    for r in routes:
        text = src(r["module"])
        if text is None:
            problems.append("no module %s in the bindings" % r["module"])
            continue
        sig = re.search(r"^def %s\((.*)\)" % re.escape(r["function"]), text, re.M)
        if not sig:
            problems.append("no function %s.%s in the bindings" % (r["module"], r["function"]))
            continue
        names = [p.split(":")[0].strip() for p in split_top(sig.group(1))][1:]
        if names != [p["name"] for p in r["params"]]:
            problems.append("%s.%s parameters are %s in the bindings" % (r["module"], r["function"], names))
        if r["options"]:
            cm = re.search(r"^class %s:\n(.*?)(?=^\S)" % r["options"]["class"], text, re.M | re.S)
            if not cm:
                problems.append("no class %s.%s in the bindings" % (r["module"], r["options"]["class"]))
            else:
                fields = re.findall(r"^    (\w+): ", cm.group(1), re.M)
                want = [f["name"] for f in r["options"]["fields"]]
                if fields != want:
                    problems.append("%s.%s fields are %s, not %s" % (
                        r["module"], r["options"]["class"], fields, want))
    return problems


def check_api_bindings(functions, records, bindings):
    """Check every function (its parameter names) and record (its fields) of the typed layer's tables
    against componentize-py's bindings in ``bindings``; returns a list of problems."""
    problems = []
    imports = os.path.join(bindings, "wit_world", "imports")
    for module in sorted(set(functions) | set(records)):
        try:
            with open(os.path.join(imports, module + ".py"), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            problems.append("no module %s in the bindings" % module)
            continue
        for name, fn in sorted(functions.get(module, {}).items()):
            sig = re.search(r"^def %s\((.*)\)" % re.escape(name), text, re.M)
            if not sig:
                problems.append("no function %s.%s in the bindings" % (module, name))
                continue
            names = [p.split(":")[0].strip() for p in split_top(sig.group(1))]
            want = (["e"] if fn["engine"] else []) + [p for p, _ in fn["params"]]
            if names != want:
                problems.append("%s.%s parameters are %s, not %s" % (module, name, names, want))
        for _wit, (cls, fields) in sorted(records.get(module, {}).items()):
            cm = re.search(r"^class %s:\n(.*?)(?=^\S|\Z)" % cls, text, re.M | re.S)
            if not cm:
                problems.append("no class %s.%s in the bindings" % (module, cls))
            elif re.findall(r"^    (\w+): ", cm.group(1), re.M) != [f for f, _ in fields]:
                problems.append("%s.%s fields differ from the WIT" % (module, cls))
    return problems


def render(routes, types_module, notes):
    """Render the generated module's source text."""
    modules = sorted({r["module"] for r in routes})
    lines = [
        "# Generated by scripts/gen_python_routes.py from wit/operations.tsv and wit/*.wit.",
        "# Do not edit: rerun `python3 scripts/gen_python_routes.py`.",
        "#",
        "# Not mapped to an HTTP route (the transport fills these or does not serve them):",
    ]
    for n in notes:
        lines.append("#   - " + n)
    lines += [
        '"""The Engine API routes of tug\'s WIT, for ``tug.docker_transport``.',
        "",
        "ROUTES: one dict per (method, path, WIT function), most literal path first. Keys: ``method``,",
        "``path`` (template), ``regex`` (anchored, named groups = path params), ``operation_id``,",
        "``module`` (under ``wit_world.imports``), ``function`` (Python name), ``shape`` (operations.tsv),",
        "``returns`` (WIT success type), ``result_record`` (its fields and the headers they come from),",
        "``result_header``, ``params`` (positional parameters after the engine, each with ``source``:",
        "path/query/body/body-record/header/options/unmapped, and ``key``: the path param, query name,",
        "body schema or header), ``options`` (``class`` and ``fields``: python name, ``key`` = query",
        "name or body field, ``kind`` = WIT type, ``optional``, ``source``), ``when`` (conditions that",
        "tell routes of the same method and path apart).",
        '"""',
        "",
        "TYPES_MODULE = %r" % types_module,
        "MODULES = %s" % pprint.pformat(tuple(modules), width=100),
        "ROUTES = " + pprint.pformat(routes, width=110, sort_dicts=False),
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    """Command-line entry point: generate (or ``--check``) ``sdk/python/tug/_routes.py``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wit", default=os.path.join(root, "wit"))
    ap.add_argument("--out", default=os.path.join(root, "sdk", "python", "tug", "_routes.py"))
    ap.add_argument("--api-out", default=os.path.join(root, "sdk", "python", "tug", "_api.py"))
    ap.add_argument("--bindings", help="componentize-py bindings directory to check names against")
    ap.add_argument("--check", action="store_true", help="fail if --out is not up to date")
    args = ap.parse_args(argv)
    routes, types_module, notes = build(args.wit)
    if args.bindings:
        problems = check_bindings(routes, types_module, args.bindings)
        for p in problems:
            print("bindings: " + p, file=sys.stderr)
        if problems:
            return 1
    functions, records = build_api(args.wit)
    if args.bindings:
        problems = check_api_bindings(functions, records, args.bindings)
        for p in problems:
            print("bindings: " + p, file=sys.stderr)
        if problems:
            return 1
    outputs = [(args.out, render(routes, types_module, notes)),
               (args.api_out, render_api(functions, records))]
    if args.check:
        stale = 0
        for path, text in outputs:
            try:
                with open(path, encoding="utf-8") as f:
                    same = f.read() == text
            except OSError:
                same = False
            if not same:
                print("%s is out of date" % path, file=sys.stderr)
                stale += 1
        return 1 if stale else 0
    for path, text in outputs:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print("wrote %d routes to %s and %d modules' functions to %s" % (
        len(routes), args.out, len(functions), args.api_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
