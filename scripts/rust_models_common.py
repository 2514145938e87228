"""The parts of scripts/gen_rust_models.py that do not walk the specs: its tables, the Rust names it makes
(snake case, camel case, enum variants), the doc text it cleans, the types of its model (`Field`, `Item`)
and the output it writes (`render`, `rustfmt`). The walk itself, `Builder`, and the command line are in
scripts/gen_rust_models.py.
"""

import os
import re
import runpy
import subprocess
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD, NEW = "v1.41.yaml", "v1.55.yaml"
GENERATOR = "scripts/gen_rust_models.py"

# The tables of scripts/gen-policy-schema (a script without a .py suffix), read rather than copied, so the
# policy's view of the request bodies and the SDK's types cannot drift apart.
_POLICY = runpy.run_path(os.path.join(REPO, "scripts", "gen-policy-schema"))
EXTRA_FIELDS = _POLICY["EXTRA_FIELDS"]
RENAMED_FIELDS = _POLICY["RENAMED_FIELDS"]
POLICY_ROOTS = _POLICY["ROOTS"]

# EXTRA_FIELDS only says "scalar"; the Rust type of each, from the daemon's Go types (moby api/types):
# registry.AuthConfig.{Auth,IdentityToken,RegistryToken} string; swarm.InitRequest.AutoLockManagers bool;
# swarm.{Init,Join}Request.Availability swarm.NodeAvailability (the `NodeSpec.Availability` enum).
EXTRA_FIELD_TYPES = {
    ("AuthConfig", "auth"): ("str",),
    ("AuthConfig", "identitytoken"): ("str",),
    ("AuthConfig", "registrytoken"): ("str",),
    ("SwarmInitRequest", "AutoLockManagers"): ("bool",),
    ("SwarmInitRequest", "Availability"): ("named", "NodeSpecAvailability"),
    ("SwarmJoinRequest", "Availability"): ("named", "NodeSpecAvailability"),
}

# Schemas that give only `x-go-type` (v1.55's *DiskUsage lists): the Go type -> the definition it is.
# moby api/types: image.Summary (ImageSummary), volume.Volume, build.CacheRecord (BuildCache),
# network.ServiceInfo.
X_GO_TYPES = {"Summary": "ImageSummary", "Volume": "Volume", "CacheRecord": "BuildCache", "ServiceInfo": "ServiceInfo"}

# `{type: object}` with no properties is free-form JSON (serde_json::Value), except these, which are Go structs
# whose presence is the information: a `null` there means "not set" to the daemon, so they are typed as
# `EmptyObject` (serializes as `{}`). Cite the Go type.
#   ServiceSpec.Mode.Global, .GlobalJob: swarm.ServiceMode `Global *GlobalService`, `GlobalJob *GlobalJob`
#   (struct{}); TaskSpec.ContainerSpec.Configs.Runtime: swarm.ConfigReference `Runtime *ConfigReferenceRuntimeTarget`
#   (struct{}); ClusterVolumeSpec.AccessMode.MountVolume: volume.AccessMode `MountVolume *TypeMount` (FsType,
#   MountFlags, which the spec lists inside the description by an indentation mistake: kept in `extra`).
EMPTY_OBJECT_PATHS = {
    "ServiceSpec.Mode.Global",
    "ServiceSpec.Mode.GlobalJob",
    "TaskSpec.ContainerSpec.Configs[].Runtime",
    "ClusterVolumeSpec.AccessMode.MountVolume",
}
EMPTY_OBJECT = "EmptyObject"
EMPTY_OBJECT_DOC = (
    "An object the daemon's Go types declare as an empty struct (`struct{}`), whose presence is what counts: "
    "`Some(EmptyObject::default())` serializes as `{}` (`ServiceSpec.Mode.Global`, the values of "
    "`ExposedPorts` and `Volumes`). Whatever fields it has anyway are kept in `extra`."
)

# Operations that answer a stream of JSON messages the specs give no schema for (the transport shape
# json-stream of operations-*-detail.tsv): the definition that describes one message (moby's
# jsonmessage.JSONMessage in each case; fields a definition lacks land in `extra`).
STREAM_ITEMS = {
    "ImageCreate": "CreateImageInfo",
    "ImagePush": "PushImageInfo",
    "ImageBuild": "BuildInfo",
    "ImageLoad": "BuildInfo",
    "PluginPull": "CreateImageInfo",
    "PluginUpgrade": "CreateImageInfo",
    "PluginPush": "PushImageInfo",
}
# Operations whose 2xx schema describes one message of a stream.
STREAMED_RESPONSES = {"SystemEvents", "ContainerStats"}

RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl",
    "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static",
    "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual",
    "yield", "try", "gen",
}
EXTRA_FIELD = "extra"


class GenError(Exception):
    pass


# ---- names ---------------------------------------------------------------------------------------------------

# Words the generic splitting would cut wrong.
_SPECIAL_WORDS = [("IPv4", "Ipv4"), ("IPv6", "Ipv6"), ("IOps", "Iops")]
_TOKEN = re.compile(r"[A-Z]{2,}s(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name):
    """`NanoCPUs` -> [Nano, CPUs]; `IPv4Address` -> [Ipv4, Address]; `com.docker.x` -> [com, docker, x]."""
    for old, new in _SPECIAL_WORDS:
        name = name.replace(old, new)
    out = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        for tok in _TOKEN.findall(part):
            if tok.isdigit() and out and out[-1][1] == part:
                out[-1] = (out[-1][0] + tok, part)
            else:
                out.append((tok, part))
    return [w for w, _ in out]


def snake(name):
    s = "_".join(w.lower() for w in words(name))
    if not s:
        raise GenError(f"no field name for {name!r}")
    if s[0].isdigit():
        s = "n" + s
    if s == "type":
        return "typ"
    if s in RUST_KEYWORDS:
        return "r#" + s
    return s


def camel(name):
    """UpperCamelCase of a JSON name or enum value, keeping inner capitals (`BindOptions`, `json-file` -> `JsonFile`)."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    return "".join(p[0].upper() + p[1:] for p in parts)


def variant(value):
    if value == "":
        return "Empty"
    v = camel(value)
    if not v:
        raise GenError(f"no variant name for enum value {value!r}")
    return "V" + v if v[0].isdigit() else v


# ---- doc text ------------------------------------------------------------------------------------------------

_MARKDOWN_TOKEN = re.compile(
    r"(?P<code>`+[^`]*`+)"
    r"|(?P<link>\[(?:[^\[\]`]|`[^`]*`)*\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*\))"
    r"|(?P<url>https?://[^\s<>()\[\]`]*[^\s<>()\[\]`.,;:!?'\"])"
    r"|(?P<html></?su[bp]>|<br\s*/?>)"
)


def markdown_safe(text):
    """Prose rustdoc renders as written: code spans, `[text](url)` links and <sup>/<sub> kept, bare URLs
    wrapped in <>, every other [ ] < > escaped (rustdoc would take them for intra-doc links or HTML)."""
    out = []
    pos = 0
    for m in _MARKDOWN_TOKEN.finditer(text):
        out.append(re.sub(r"([\[\]<>])", r"\\\1", text[pos:m.start()]))
        out.append(f"<{m.group('url')}>" if m.group("url") else m.group(0))
        pos = m.end()
    out.append(re.sub(r"([\[\]<>])", r"\\\1", text[pos:]))
    return "".join(out)


def _paragraph_text(para):
    """One paragraph as Markdown text: lines joined, list items (`- x`) kept one a line."""
    para = para.split("```")[0]
    items = []
    for ln in para.splitlines():
        ln = ln.strip()
        if not ln:
            continue
        if re.match(r"([-*]|[0-9]+\.) ", ln) or not items:
            items.append(ln)
        else:
            items[-1] += " " + ln
    text = "\n".join(items)
    text = re.sub(r"<p>\s*(<br\s*/?>)?\s*(</?p>)?", "", text).strip()
    if text.count("`") % 2:
        text = text.replace("`", "'")
    return "\n".join(markdown_safe(ln) for ln in text.split("\n")) if text else None


def first_paragraph(desc):
    """The first paragraph of a spec description (and the next one when the first ends with a colon),
    Markdown-safe; None when there is nothing to say."""
    if not isinstance(desc, str):
        return None
    paras = [t for t in (_paragraph_text(p) for p in re.split(r"\n\s*\n", desc.strip())) if t]
    if not paras:
        return None
    text = paras[0]
    if text.endswith(":") and len(paras) > 1 and len(paras[1]) < 1000:
        text += "\n\n" + paras[1]
    return text


def sentence(text):
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":", ")")) else text + "."


# ---- types ---------------------------------------------------------------------------------------------------
# A type is a tuple: ("str",) ("bool",) ("i64",) ("u64",) ("f64",) ("value",) ("vec", T) ("map", T) ("opt", T)
# ("named", Name).


def rust_type(t):
    k = t[0]
    if k == "str":
        return "String"
    if k in ("bool", "i64", "u64", "f64"):
        return k
    if k == "value":
        return "serde_json::Value"
    if k == "vec":
        return f"Vec<{rust_type(t[1])}>"
    if k == "map":
        return f"BTreeMap<String, {rust_type(t[1])}>"
    if k == "opt":
        return f"Option<{rust_type(t[1])}>"
    if k == "named":
        return t[1]
    raise GenError(f"bad type {t}")


class Field:
    def __init__(self, ty, doc, spec):
        self.ty = ty
        self.doc = doc
        self.specs = {spec}


class Item:
    """kind: struct | enum | alias. origin: where it comes from (a definition, or a path for synthetic ones)."""

    def __init__(self, name, kind, origin, doc, spec):
        self.name = name
        self.kind = kind
        self.origin = origin
        self.doc = doc
        self.specs = {spec}
        self.fields = {}  # struct: json name -> Field
        self.values = []  # enum: values
        self.ty = None  # alias: type
        self.notes = []  # extra doc paragraphs



# ---- output --------------------------------------------------------------------------------------------------


def doc_lines(text, indent=""):
    out = []
    for para in text.split("\n\n"):
        if out:
            out.append(f"{indent}///")
        for item in para.split("\n"):
            sub = "  " if re.match(r"[-*] ", item) else ""
            # A word Markdown would take for a list item or a heading at the start of a line (`- 1`,
            # `2.`) is glued to the word before it, so that wrapping cannot put it there.
            words_ = item.split(" ")
            glued = [words_[0]]
            for w in words_[1:]:
                if re.fullmatch(r"[-*+>]|#+\S*|[0-9]+[.)]", w):
                    glued[-1] += "\0" + w
                else:
                    glued.append(w)
            for line in textwrap.wrap(" ".join(glued), width=100, break_long_words=False,
                                      break_on_hyphens=False, subsequent_indent=sub):
                out.append(f"{indent}/// {line.replace(chr(0), ' ')}".rstrip())
    return out


def spec_note(specs, item_specs=None):
    if item_specs is not None and specs == item_specs:
        return None
    if specs == {"extra"}:
        return ("Not in the Engine API specs: the daemon decodes it (`EXTRA_FIELDS` in "
                "`scripts/gen-policy-schema`).")
    if specs == {OLD}:
        return "Only in the v1.41 spec (gone from v1.55)."
    if specs == {NEW}:
        return "Not described by the v1.41 spec."
    return None


def named_in(t):
    if t is None or t == "binary":
        return None
    if t[0] == "named":
        return t[1]
    if t[0] in ("vec", "map", "opt"):
        return named_in(t[1])
    return None


def op_uses(b):
    """Item name -> how the operations use it (body, response, stream message)."""
    uses = {}
    for oid in sorted(b.ops):
        op = b.ops[oid]
        route = f"`{oid}` (`{op['method']} {op['path']}`)"
        for role, t in (("the body", op["body"]), ("the response", op["response"])):
            name = named_in(t)
            if name is None or b.items[name].origin.startswith(f"op:{oid}:"):
                continue
            what = role if t[0] == "named" else f"an item of {role}"
            uses.setdefault(name, []).append(f"{what} of {route}")
        if oid in STREAM_ITEMS:
            uses.setdefault(STREAM_ITEMS[oid], []).append(f"a message of the stream of {route}")
    return uses


def item_doc(item, uses=()):
    doc = item.doc
    if not doc:
        if item.origin.startswith("#/definitions/"):
            doc = f"The `{item.name}` object of the Engine API."
        else:
            parent_path = item.origin
            doc = f"The object at `{parent_path}` (an inline object of the specs)."
    parts = [sentence(doc)]
    parts += item.notes
    if uses:
        parts.append("Used as " + "; ".join(uses) + ".")
    note = spec_note(item.specs)
    if note:
        parts.append(note)
    return "\n\n".join(parts)


def emit_struct(item, out, uses):
    out += doc_lines(item_doc(item, uses))
    out.append("#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]")
    out.append(f"pub struct {item.name} {{")
    names = {}
    for key, field in item.fields.items():
        fname = snake(key)
        if fname in names:
            raise GenError(f"{item.name}: properties {names[fname]} and {key} both become field `{fname}`")
        if fname == EXTRA_FIELD:
            raise GenError(f"{item.name}: property {key} collides with the `{EXTRA_FIELD}` field")
        names[fname] = key
        doc = field.doc
        if doc is None:
            ref = named_in(field.ty)
            doc = f"The `{key}` field" + (f" (see [`{ref}`])." if ref else ".")
        note = spec_note(field.specs, item.specs)
        text = sentence(doc) + ("\n\n" + note if note else "")
        out += doc_lines(text, "    ")
        out.append(f'    #[serde(rename = "{key}", default, skip_serializing_if = "Option::is_none")]')
        out.append(f"    pub {fname}: Option<{rust_type(field.ty)}>,")
    out.append("    /// The fields this SDK does not know (a newer engine's), kept so that a document survives a round")
    out.append("    /// trip unchanged.")
    out.append("    #[serde(flatten)]")
    out.append(f"    pub {EXTRA_FIELD}: serde_json::Map<String, serde_json::Value>,")
    out.append("}")


def emit_enum(item, out, uses):
    variants = {}
    for v in item.values:
        name = variant(v)
        if name in variants or name == "Other":
            raise GenError(f"{item.name}: values {variants.get(name)!r} and {v!r} both become variant {name}")
        variants[name] = v
    n = item.name
    out += doc_lines(item_doc(item, uses))
    out.append("#[derive(Clone, Debug, PartialEq, Eq, Hash)]")
    out.append(f"pub enum {n} {{")
    for name, v in variants.items():
        out.append(f'    /// "{v}"')
        out.append(f"    {name},")
    out.append("    /// A value this SDK does not know (a newer engine's), kept as it was sent.")
    out.append("    Other(String),")
    out.append("}")
    out.append("")
    out.append(f"impl {n} {{")
    out.append("    /// The value as the daemon writes it.")
    out.append("    pub fn as_str(&self) -> &str {")
    out.append("        match self {")
    for name, v in variants.items():
        out.append(f'            Self::{name} => "{v}",')
    out.append("            Self::Other(s) => s,")
    out.append("        }")
    out.append("    }")
    out.append("")
    out.append("    fn known(s: &str) -> Option<Self> {")
    out.append("        match s {")
    for name, v in variants.items():
        out.append(f'            "{v}" => Some(Self::{name}),')
    out.append("            _ => None,")
    out.append("        }")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl From<&str> for {n} {{")
    out.append("    fn from(s: &str) -> Self {")
    out.append("        Self::known(s).unwrap_or_else(|| Self::Other(s.to_owned()))")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl From<String> for {n} {{")
    out.append("    fn from(s: String) -> Self {")
    out.append("        Self::known(&s).unwrap_or(Self::Other(s))")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl std::fmt::Display for {n} {{")
    out.append("    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {")
    out.append("        f.write_str(self.as_str())")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl Serialize for {n} {{")
    out.append("    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {")
    out.append("        serializer.serialize_str(self.as_str())")
    out.append("    }")
    out.append("}")
    out.append("")
    out.append(f"impl<'de> Deserialize<'de> for {n} {{")
    out.append("    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {")
    out.append("        String::deserialize(deserializer).map(Self::from)")
    out.append("    }")
    out.append("}")


def emit_alias(item, out, uses):
    out += doc_lines(item_doc(item, uses))
    out.append(f"pub type {item.name} = {rust_type(item.ty)};")


def table_type(t):
    if t is None:
        return "-"
    if t == "binary":
        return "binary"
    return rust_type(t)


def op_rows(b):
    rows = []
    for oid in sorted(b.ops):
        op = b.ops[oid]
        stream = "-"
        if oid in STREAM_ITEMS:
            stream = STREAM_ITEMS[oid]
        elif oid in STREAMED_RESPONSES:
            stream = table_type(op["response"])
        rows.append((oid, op["method"], op["path"], table_type(op["body"]), table_type(op["response"]), stream))
    return rows


def render(b, sources):
    n_defs = len(b.def_names)
    kinds = {}
    for it in b.items.values():
        kinds[it.kind] = kinds.get(it.kind, 0) + 1
    head = [
        "//! Typed documents of the Docker Engine API: request bodies, responses and the messages of its streams.",
        "//!",
        f"//! GENERATED by `{GENERATOR}` from the Engine API specs v1.41 (Docker 20.10) and v1.55:",
        "//! do not edit it by hand, change the generator and run it again (with `--check`, it tells whether",
        "//! this file is up to date). The specs, by SHA-256:",
        "//!",
    ]
    for fname in sorted(sources):
        head.append(f"//! - `{fname}`: `{sources[fname]}`")
    head += [
        "//!",
        f"//! {len(b.items)} items ({kinds.get('struct', 0)} structs, {kinds.get('enum', 0)} enums, "
        f"{kinds.get('alias', 0)} type aliases): the {n_defs} definitions of the two specs, each",
        "//! under the spec's own name, and the inline objects, request bodies and responses.",
        "//!",
        "//! # How the types are made",
        "//!",
        "//! - An object is a struct whose every field is an `Option` (the daemon omits fields, and a 1.41 daemon",
        "//!   lacks the newer ones), named in snake case (`HostConfig` -> `host_config`, `type` -> `typ`) and",
        "//!   serialized under the daemon's JSON name; `None` is not serialized, so a body built with",
        "//!   `..Default::default()` carries only the fields set. A struct has the properties of BOTH specs: the",
        "//!   types of v1.55, the properties only v1.41 has added (the docs of a field or type say when only one",
        "//!   spec describes it), plus the fields the daemon decodes that no spec lists (`EXTRA_FIELDS` of",
        "//!   `scripts/gen-policy-schema`, whose `RENAMED_FIELDS` fixes the specs' misnamings too). `allOf`",
        "//!   compositions are one struct with the merged properties.",
        "//! - Unknown fields are kept: every struct ends with `extra`, a `#[serde(flatten)]` map of the fields",
        "//!   this SDK does not know (a newer engine's), serialized back as they came, so a document read,",
        "//!   edited and sent back (a service spec, say) loses nothing.",
        "//! - Unknown enum values are kept: a string enum has one variant per value the specs list plus",
        "//!   `Other(String)`, which any other string becomes (never an error) and which serializes back",
        "//!   unchanged. Every enum has `as_str()`, `Display`, `From<&str>` and `From<String>`.",
        "//! - A JSON `null` reads as `None` and is then not written: to the daemon (Go) an absent field and a",
        "//!   `null` one are the same. Map values and array items the specs mark `x-nullable` are `Option`s",
        "//!   (`PortMap`), so their `null`s survive.",
        "//! - Integers of format `uint8` to `uint64` are `u64`, other integers `i64`, numbers `f64`; integer",
        "//!   enums (`ChangeType`) are plain integers whose docs list the values.",
        "//! - Maps are `BTreeMap`s: the daemon (Go's `encoding/json`) writes map keys sorted, and a `BTreeMap`",
        "//!   writes them back in that order; and a body's bytes do not depend on a hash seed.",
        "//! - Free-form objects are `serde_json::Value`; the objects Go declares as empty structs, whose",
        f"//!   presence is the information (`ServiceSpec.Mode.Global`), are [`{EMPTY_OBJECT}`].",
        "//! - Inline objects and enums are named `{Parent}{Field}` (`MountBindOptions`,",
        "//!   `ContainerStateStatus`), array items `{Parent}{Field}Item`; a name a definition already has gets",
        "//!   `Enum` or `Object` appended. The inline request bodies and responses of the operations are",
        "//!   `{OperationId}Body`, `{OperationId}Response` and `{OperationId}ResponseItem`. A definition v1.41",
        "//!   has and v1.55 renamed (found at the same place of both specs) is an alias of the v1.55 type",
        "//!   (`Port` = `PortSummary`).",
        "//!",
        "//! # Operations",
        "//!",
        "//! What each operation of the two specs sends and answers (its 2xx schema): `binary` for a tar or other",
        "//! bytes, `-` for nothing the specs describe (no body; an empty answer, or a tar, log or hijacked",
        "//! stream the specs give no schema for). For the operations that answer a stream of JSON messages,",
        "//! the last column is the type of one message (for those the specs give no schema for, the",
        "//! definition that describes moby's `jsonmessage.JSONMessage` there, chosen by the generator).",
        "//!",
        "//! | operationId | route | body | response | stream of |",
        "//! |---|---|---|---|---|",
    ]
    for oid, method, path, body, resp, stream in op_rows(b):
        cells = [f"`{oid}`", f"`{method} {path}`"] + [c if c in ("-", "binary") else f"`{c}`" for c in (body, resp, stream)]
        head.append("//! | " + " | ".join(cells) + " |")
    head += [
        "",
        "#![allow(clippy::upper_case_acronyms)]",
        "",
        "use serde::{Deserialize, Serialize};",
        "use std::collections::BTreeMap;",
        "",
    ]
    blocks = []
    uses = op_uses(b)
    for name in sorted(b.items):
        item = b.items[name]
        out = []
        if item.kind == "struct":
            emit_struct(item, out, uses.get(name, ()))
        elif item.kind == "enum":
            emit_enum(item, out, uses.get(name, ()))
        else:
            emit_alias(item, out, uses.get(name, ()))
        blocks.append("\n".join(out))
    text = "\n".join(head) + "\n" + "\n\n".join(blocks) + "\n"
    return text


def rustfmt(text):
    cfg = os.path.join(REPO, "rustfmt.toml")
    cmd = ["rustfmt", "--edition", "2021", "--emit", "stdout"]
    if os.path.exists(cfg):
        cmd += ["--config-path", cfg]
    try:
        res = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd=REPO, check=False)
    except FileNotFoundError:
        raise GenError("rustfmt not found (install it with `rustup component add rustfmt`)") from None
    if res.returncode != 0:
        raise GenError(f"rustfmt failed: {res.stderr[:2000]}")
    return res.stdout
