//! The coverage gate: every operation of the Engine API 1.41 (`tests/data/operations-v1.41.tsv`, copied
//! from the official inventory) has a WIT function (`wit/operations.tsv`), every function listed there
//! exists in the WIT, and the list of operations not mapped yet only ever shrinks.

use std::collections::{BTreeMap, BTreeSet};

use tug_e2e::workspace_root;

/// Operations of 1.41 that no WIT function reaches yet. A test fails when one of these gets mapped
/// (remove it here) and when a mapped operation loses its function.
const NOT_YET_MAPPED: &[&str] = &[];

/// `interface.function` for every function declared directly in an interface of `wit/` (not resource
/// methods), with `%` escapes removed.
fn wit_functions() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(workspace_root().join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wit") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut interface: Option<String> = None;
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
                if let (Some(i), Some((name, _))) = (&interface, t.split_once(": func")) {
                    out.insert(format!("{i}.{}", name.trim().trim_start_matches('%')));
                }
            }
            depth += t.matches('{').count();
            depth -= t.matches('}').count();
            if depth == 0 {
                interface = None;
            }
        }
    }
    out
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
    let mapped = tsv("wit/operations.tsv", 0, 1);
    let functions = wit_functions();

    let missing_functions: Vec<String> = mapped
        .iter()
        .filter(|(_, f)| !functions.contains(*f))
        .map(|(op, f)| format!("{op} → {f}"))
        .collect();
    assert!(
        missing_functions.is_empty(),
        "listed in wit/operations.tsv but not in the WIT: {missing_functions:?}"
    );

    let unmapped: Vec<&str> = spec
        .keys()
        .map(String::as_str)
        .filter(|op| !mapped.contains_key(*op))
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
    let unknown: Vec<&String> = mapped.keys().filter(|op| !spec.contains_key(*op)).collect();
    println!("beyond 1.41: {unknown:?}");
}
