//! The coverage gate: every operation of the Engine API 1.41 (`tests/data/operations-v1.41.tsv`, copied
//! from the official inventory) has a WIT function (`wit/operations.tsv`), every function listed there
//! exists in the WIT, and every WIT function — resource methods included — is either in the table (so the
//! gate knows its operation, and the deny-all and grant-each tests call it) or one of the few that reach
//! neither an engine nor a registry by themselves, named below with the reason.

use std::collections::{BTreeMap, BTreeSet};

use tug_e2e::workspace_root;

/// Operations of 1.41 that no WIT function reaches yet. A test fails when one of these gets mapped
/// (remove it here) and when a mapped operation loses its function.
const NOT_YET_MAPPED: &[&str] = &[];

/// WIT functions that are not operations of the table: they reach no engine or registry of their own
/// accord, or only through a handle a permitted call handed out. A new function belongs in the table
/// unless it is one of these kinds.
const UNGATED: &[(&str, &str)] = &[
    (
        "engines.default",
        "hands out the run's own engine capability (no call to it)",
    ),
    (
        "engines.open",
        "hands out an engine capability the run was given (no call to it)",
    ),
    (
        "engines.names",
        "the names of the engines the run was given, held by the host (no call to any)",
    ),
    ("engines.engine.name", "the handle's name, held by the host"),
    ("types.json-stream.next", "reads a stream a permitted call opened"),
    (
        "types.json-stream.subscribe",
        "a pollable on a permitted call's stream",
    ),
    ("types.frame-reader.tty", "held by the host"),
    (
        "types.frame-reader.next",
        "reads a stream a permitted call opened",
    ),
    (
        "types.frame-reader.read-multiplexed",
        "reads a stream a permitted call opened",
    ),
    (
        "types.frame-reader.into-stream",
        "reads a stream a permitted call opened",
    ),
    (
        "types.frame-reader.subscribe",
        "a pollable on a permitted call's stream",
    ),
    ("types.upload.body", "the body of a permitted call"),
    (
        "types.upload.finish",
        "ends a permitted call (its permit writes the audit line then)",
    ),
    ("types.progress-upload.body", "the body of a permitted call"),
    (
        "types.progress-upload.finish",
        "ends a permitted call (its permit writes the audit line then)",
    ),
    ("types.attached-socket.tty", "held by the host"),
    (
        "types.attached-socket.stdin",
        "the stdin of a permitted call's connection",
    ),
    (
        "types.attached-socket.close-stdin",
        "half-closes a permitted call's connection",
    ),
    (
        "types.attached-socket.next",
        "reads a permitted call's connection",
    ),
    (
        "types.attached-socket.subscribe",
        "a pollable on a permitted call's connection",
    ),
    (
        "types.attached-socket.resize",
        "asks the gate again, for the resize operation of what the socket is attached to",
    ),
    ("registry.stats", "the run's own transfer counters"),
    ("registry.image.scratch", "an empty image held by the host"),
    ("registry.image.source", "held by the host"),
    ("registry.image.name", "held by the host"),
    ("registry.image.config", "held by the host"),
    ("registry.image.layers", "held by the host"),
    ("registry.image.manifest-digest", "computed by the host"),
    (
        "registry-streams.layer-upload.body",
        "the body of a permitted call",
    ),
    ("registry-streams.layer-upload.finish", "ends a permitted call"),
];

/// `interface.function` for every function declared in an interface of `wit/`, and
/// `interface.resource.method` for every method of its resources, with `%` escapes removed.
fn wit_functions() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(workspace_root().join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wit") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut interface: Option<String> = None;
        let mut resource: Option<String> = None;
        let mut depth = 0usize;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("//") {
                continue;
            }
            if depth == 0 {
                if let Some(rest) = t.strip_prefix("interface ") {
                    interface = Some(rest.trim_end_matches('{').trim().to_owned());
                }
            }
            if depth == 1 {
                if let Some(rest) = t.strip_prefix("resource ") {
                    resource = Some(rest.trim_end_matches('{').trim_end_matches(';').trim().to_owned());
                }
            }
            if let (Some(i), Some((name, _))) = (&interface, t.split_once(": ")) {
                let is_func = t.contains(": func") || t.contains(": static func");
                let name = name.trim().trim_start_matches('%');
                match (depth, &resource, is_func) {
                    (1, _, true) => {
                        out.insert(format!("{i}.{name}"));
                    }
                    (2, Some(r), true) => {
                        out.insert(format!("{i}.{r}.{name}"));
                    }
                    _ => {}
                }
            }
            depth += t.matches('{').count();
            depth -= t.matches('}').count();
            if depth <= 1 {
                resource = None;
            }
            if depth == 0 {
                interface = None;
            }
        }
    }
    out
}

fn table() -> Vec<Vec<String>> {
    std::fs::read_to_string(workspace_root().join("wit/operations.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn tsv(path: &str, key: usize, value: usize) -> BTreeMap<String, String> {
    std::fs::read_to_string(workspace_root().join(path))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[key].to_owned(), cols[value].to_owned())
        })
        .collect()
}

#[test]
fn every_operation_has_a_wit_function() {
    let spec = tsv("tests/data/operations-v1.41.tsv", 2, 4);
    assert_eq!(spec.len(), 106, "the 1.41 inventory has 106 operations");
    let rows = table();
    let functions = wit_functions();

    let missing_functions: Vec<String> = rows
        .iter()
        .filter(|r| !functions.contains(&r[1]))
        .map(|r| format!("{} → {}", r[0], r[1]))
        .collect();
    assert!(
        missing_functions.is_empty(),
        "listed in wit/operations.tsv but not in the WIT: {missing_functions:?}"
    );

    let mapped: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let unmapped: Vec<&str> = spec
        .keys()
        .map(String::as_str)
        .filter(|op| !mapped.contains(*op))
        .collect();
    let expected: Vec<&str> = NOT_YET_MAPPED.to_vec();
    println!(
        "{} of {} Engine API 1.41 operations have a WIT function",
        spec.len() - unmapped.len(),
        spec.len()
    );
    assert_eq!(
        unmapped, expected,
        "operations without a WIT function (update NOT_YET_MAPPED when mapping more)"
    );
    let unknown: Vec<&&str> = mapped.iter().filter(|op| !spec.contains_key(**op)).collect();
    println!("beyond 1.41: {unknown:?}");
}

/// Every WIT function is in the operation table or knowingly ungated: a new function the table does not
/// list fails here, before a plugin could call it past the gate.
#[test]
fn every_wit_function_is_in_the_table_or_ungated() {
    let functions = wit_functions();
    let listed: BTreeSet<String> = table().into_iter().map(|r| r[1].clone()).collect();
    let ungated: BTreeSet<String> = UNGATED.iter().map(|(f, _)| (*f).to_owned()).collect();
    let neither: Vec<&String> = functions
        .iter()
        .filter(|f| !listed.contains(*f) && !ungated.contains(*f))
        .collect();
    assert!(
        neither.is_empty(),
        "WIT functions neither in wit/operations.tsv nor knowingly ungated: {neither:?}"
    );
    let both: Vec<&String> = listed.intersection(&ungated).collect();
    assert!(both.is_empty(), "listed as ungated but in the table: {both:?}");
    let stale: Vec<&String> = ungated.iter().filter(|f| !functions.contains(*f)).collect();
    assert!(
        stale.is_empty(),
        "ungated functions that are not in the WIT: {stale:?}"
    );
    println!(
        "{} WIT functions: {} gated by the table, {} ungated",
        functions.len(),
        listed.len(),
        ungated.len()
    );
}
