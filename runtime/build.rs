//! Generates the operation table (`policy::operations::{Op, FUNCTIONS}`) from `wit/operations.tsv`, the
//! one list of what a plugin can ask for: every WIT function that reaches an engine or a registry, the
//! Engine API operation it is (or tug's own name for it), the area and access the policy must grant, the
//! kind of object it targets, the kind of body it sends, its transport shape, and its route.

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

const AREAS: &[(&str, &str)] = &[
    ("system", "System"),
    ("containers", "Containers"),
    ("exec", "Exec"),
    ("images", "Images"),
    ("build", "Build"),
    ("distribution", "Distribution"),
    ("plugins", "Plugins"),
    ("networks", "Networks"),
    ("volumes", "Volumes"),
    ("swarm", "Swarm"),
    ("services", "Services"),
    ("secrets", "Secrets"),
    ("configs", "Configs"),
    ("registry", "Registry"),
];
const ACCESS: &[(&str, &str)] = &[("read", "Read"), ("write", "Write")];
const TARGETS: &[(&str, &str)] = &[
    ("-", "None"),
    ("container", "Container"),
    ("exec", "Exec"),
    ("image", "Image"),
    ("network", "Network"),
    ("volume", "Volume"),
    ("plugin", "Plugin"),
    ("service", "Service"),
    ("task", "Task"),
    ("secret", "Secret"),
    ("config", "Config"),
    ("node", "Node"),
];
const SHAPES: &[(&str, &str)] = &[
    ("json", "Json"),
    ("json-stream", "JsonStream"),
    ("raw-stream", "RawStream"),
    ("multiplexed", "Multiplexed"),
    ("upload", "Upload"),
    ("progress-upload", "ProgressUpload"),
    ("hijack", "Hijack"),
    ("handle", "Handle"),
];

fn lookup(table: &[(&str, &'static str)], value: &str, column: &str, line: usize) -> String {
    table
        .iter()
        .find(|(k, _)| *k == value)
        .map(|(_, v)| (*v).to_owned())
        .unwrap_or_else(|| panic!("wit/operations.tsv line {line}: unknown {column} {value:?}"))
}

struct Row {
    op: String,
    function: String,
    area: String,
    access: String,
    target: String,
    body: Option<String>,
    shape: String,
    method: Option<String>,
    path: String,
}

fn main() {
    // The manifest directory of this build (read when the script runs: a script binary may be shared by
    // checkouts at other paths that use one target directory).
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let tsv = Path::new(&dir).join("../wit/operations.tsv");
    println!("cargo:rerun-if-changed={}", tsv.display());
    let text = std::fs::read_to_string(&tsv).expect("reading wit/operations.tsv");
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("a header line");
    assert_eq!(
        header, "operationId\tfunction\tarea\taccess\ttarget\tbody\tshape\tmethod\tpath",
        "wit/operations.tsv: unexpected columns"
    );
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 9, "wit/operations.tsv line {n}: 9 columns");
        let opt = |s: &str| (s != "-").then(|| s.to_owned());
        rows.push(Row {
            op: cols[0].to_owned(),
            function: cols[1].to_owned(),
            area: lookup(AREAS, cols[2], "area", n),
            access: lookup(ACCESS, cols[3], "access", n),
            target: lookup(TARGETS, cols[4], "target", n),
            body: opt(cols[5]),
            shape: lookup(SHAPES, cols[6], "shape", n),
            method: opt(cols[7]),
            path: cols[8].to_owned(),
        });
    }

    // One variant per operation; the rows of one operation must agree on what the policy reads.
    let mut ops: BTreeMap<&str, &Row> = BTreeMap::new();
    let mut functions = std::collections::BTreeSet::new();
    for row in &rows {
        assert!(
            functions.insert(row.function.as_str()),
            "wit/operations.tsv: function {} listed twice",
            row.function
        );
        assert!(
            row.op.chars().all(|c| c.is_ascii_alphanumeric())
                && row.op.starts_with(|c: char| c.is_ascii_uppercase()),
            "wit/operations.tsv: {:?} is not an operationId",
            row.op
        );
        if row.method.is_none() {
            assert!(
                row.path == "registry" || row.path == "local",
                "wit/operations.tsv: {} has no method, so its path must say `registry` or `local`",
                row.function
            );
        }
        match ops.get(row.op.as_str()) {
            None => {
                ops.insert(&row.op, row);
            }
            Some(first) => assert!(
                first.area == row.area
                    && first.access == row.access
                    && first.target == row.target
                    && first.body == row.body,
                "wit/operations.tsv: {} and {} are both {} but differ in area, access, target or body",
                first.function,
                row.function,
                row.op
            ),
        }
    }

    let mut out = String::new();
    out.push_str("// Generated by runtime/build.rs from wit/operations.tsv. Do not edit.\n\n");
    out.push_str(
        "/// Every operation a plugin can ask the gate for: an Engine API operationId (`ImageTag`), or tug's \
         own name\n/// for a daemonless registry function (`RegistryPush`).\n",
    );
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum Op {\n");
    for (op, row) in &ops {
        let _ = writeln!(out, "    /// `{}` ({}).", op, row.function);
        let _ = writeln!(out, "    {op},");
    }
    out.push_str("}\n\nimpl Op {\n");
    out.push_str("    /// Every operation, in the table's order of names.\n");
    let _ = writeln!(out, "    pub const ALL: [Op; {}] = [", ops.len());
    for op in ops.keys() {
        let _ = writeln!(out, "        Op::{op},");
    }
    out.push_str("    ];\n\n");
    let method = |name: &str, ty: &str, doc: &str, f: &dyn Fn(&Row) -> String| {
        let mut s = String::new();
        let _ = writeln!(s, "    /// {doc}");
        let _ = writeln!(s, "    pub fn {name}(self) -> {ty} {{\n        match self {{");
        for (op, row) in &ops {
            let _ = writeln!(s, "            Op::{op} => {},", f(row));
        }
        s.push_str("        }\n    }\n\n");
        s
    };
    out.push_str(&method(
        "id",
        "&'static str",
        "The operationId, as the audit log names it.",
        &|r| format!("{:?}", r.op),
    ));
    out.push_str(&method(
        "area",
        "Area",
        "The area the policy grants it by.",
        &|r| format!("Area::{}", r.area),
    ));
    out.push_str(&method(
        "access",
        "Access",
        "The access to its area it needs.",
        &|r| format!("Access::{}", r.access),
    ));
    out.push_str(&method(
        "target",
        "Target",
        "The kind of object it addresses by name or id (resolved and checked by the gate).",
        &|r| format!("Target::{}", r.target),
    ));
    out.push_str(&method(
        "body",
        "Option<BodyKind>",
        "The kind of JSON body it sends, canonicalized and checked by the gate.",
        &|r| match &r.body {
            Some(b) => format!("Some(BodyKind::{b})"),
            None => "None".to_owned(),
        },
    ));
    out.push_str(
        "    /// The operation of an operationId.\n    pub fn from_id(id: &str) -> Option<Op> {\n        \
         Op::ALL.into_iter().find(|op| op.id() == id)\n    }\n}\n\n",
    );
    out.push_str(
        "/// Every WIT function that reaches an engine or a registry, as `wit/operations.tsv` lists it.\n",
    );
    let _ = writeln!(out, "pub const FUNCTIONS: [Function; {}] = [", rows.len());
    for row in &rows {
        let _ = writeln!(
            out,
            "    Function {{ name: {:?}, op: Op::{}, shape: Shape::{}, method: {}, path: {:?} }},",
            row.function,
            row.op,
            row.shape,
            match &row.method {
                Some(m) => format!("Some({m:?})"),
                None => "None".to_owned(),
            },
            row.path
        );
    }
    out.push_str("];\n");

    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("operations.rs");
    std::fs::write(dest, out).expect("writing the operation table");

    embed(Path::new(&dir));
}

/// `embedded.rs`: the files `tug build` writes out for a guest toolchain — the WIT contract (`wit/`), the
/// Python SDK (`sdk/python/`), the JavaScript SDK (`sdk/js/`, its modules and declarations; not its
/// toolchain) and the Rust SDK (`sdk/rust/src/`, its manifest, and the workspace's manifest and lockfile,
/// from which `tug new` writes a standalone manifest and the pins of a new crate) — as `(path relative to
/// the repository, contents)`, so the binary builds plugins wherever it is installed.
fn embed(manifest: &Path) {
    let root = manifest.join("..");
    let mut files = Vec::new();
    // `.ts`: the SDK's declarations (`index.d.ts`, `globals.d.ts`, `types/`), for the type check.
    for (dir, ext) in [
        ("wit", "wit"),
        ("sdk/python", "py"),
        ("sdk/js", "js"),
        ("sdk/js", "ts"),
        ("sdk/rust/src", "rs"),
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
        collect(&root, &root.join(dir), ext, &mut files);
    }
    // The Rust SDK's manifest inherits from the workspace's; the workspace's lockfile pins its dependencies.
    for file in ["Cargo.toml", "Cargo.lock", "sdk/rust/Cargo.toml"] {
        let path = root.join(file);
        let abs = path
            .canonicalize()
            .expect("an embedded file's path")
            .to_string_lossy()
            .into_owned();
        files.push((file.to_owned(), abs));
    }
    files.sort();
    let mut out = String::from("/// Files `tug build` writes out: (path in the repository, contents).\n");
    let _ = writeln!(out, "pub const EMBEDDED: [(&str, &str); {}] = [", files.len());
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={abs}");
        let _ = writeln!(out, "    ({rel:?}, include_str!({abs:?})),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded.rs");
    std::fs::write(dest, out).expect("writing the embedded files");
}

fn collect(root: &Path, dir: &Path, ext: &str, files: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "__pycache__" || name == "node_modules" || name == "toolchain" {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, ext, files);
        } else if path.extension().is_some_and(|e| e == ext) {
            let rel = path
                .strip_prefix(root)
                .expect("under the repository")
                .to_string_lossy()
                .into_owned();
            let abs = path
                .canonicalize()
                .expect("an embedded file's path")
                .to_string_lossy()
                .into_owned();
            files.push((rel, abs));
        }
    }
}
