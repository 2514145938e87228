//! A run of some phases (`--only`) merged into the `docs/benchmarks.md` of earlier runs: the sections
//! and target rows of the phases that ran replace theirs, the others' stay as they were.

use super::Target;

/// A `## ` section: its heading (without `## `) and its whole text, heading included.
struct Section {
    heading: String,
    text: String,
}

/// The text before the first `## ` heading, and the sections.
fn sections(md: &str) -> (String, Vec<Section>) {
    let mut pre = String::new();
    let mut out: Vec<Section> = Vec::new();
    for line in md.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("## ") {
            out.push(Section {
                heading: h.trim_end().to_owned(),
                text: String::new(),
            });
        }
        match out.last_mut() {
            Some(s) => s.text.push_str(line),
            None => pre.push_str(line),
        }
    }
    (pre, out)
}

/// The phase of a heading or a target: `p2` for `P2 (a): …` and `P2a logs`, `p8b` for `P8b: …` (with
/// `letters`, the letters right after the number count), `p1` for `/version …`.
fn phase(text: &str, letters: bool) -> Option<String> {
    if text.starts_with("/version") {
        return Some("p1".into());
    }
    let rest = text.strip_prefix('P')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let tail: String = if letters {
        rest[digits.len()..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect()
    } else {
        String::new()
    };
    Some(format!("p{digits}{tail}"))
}

/// The number of a phase, to sort target rows by.
fn phase_number(p: &str) -> u32 {
    p.trim_start_matches('p')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(u32::MAX)
}

/// The first cell of a table row, if `line` is a row other than the header and the rule.
fn first_cell(line: &str) -> Option<&str> {
    let cell = line.strip_prefix("| ")?.split(" |").next()?;
    (!cell.is_empty() && !line.starts_with("|---") && cell != "target").then_some(cell)
}

/// The Targets section: the rows of the phases that ran from `new`, the others from `old`, by phase.
fn targets(old: &str, new: &str, ran: &[String]) -> String {
    let rows = |text: &str| -> Vec<(u32, String)> {
        text.lines()
            .filter_map(|l| {
                let p = phase(first_cell(l)?, false)?;
                Some((phase_number(&p), l.to_owned()))
            })
            .collect()
    };
    let keep = |line: &str| {
        first_cell(line)
            .and_then(|c| phase(c, false))
            .is_some_and(|p| !ran.contains(&p))
    };
    let mut all: Vec<(u32, String)> = rows(old).into_iter().filter(|(_, l)| keep(l)).collect();
    all.extend(rows(new).into_iter().filter(|(_, l)| !keep(l)));
    all.sort_by_key(|(n, _)| *n);
    let mut out = String::new();
    for line in new.split_inclusive('\n') {
        if first_cell(line).and_then(|c| phase(c, false)).is_some() {
            continue;
        }
        out.push_str(line);
        if line.starts_with("|---") {
            for (_, row) in &all {
                out.push_str(row);
                out.push('\n');
            }
        }
    }
    out
}

/// The machine and versions: `new`'s, but a version `new` did not measure keeps `old`'s.
fn versions(old: &str, new: &str) -> String {
    new.split_inclusive('\n')
        .map(|line| {
            if line.contains("| not measured |") {
                let key = line.split(" | ").next().unwrap_or_default();
                if let Some(o) = old
                    .split_inclusive('\n')
                    .find(|l| l.split(" | ").next() == Some(key) && !l.contains("not measured"))
                {
                    return o.to_owned();
                }
            }
            line.to_owned()
        })
        .collect()
}

/// `new` (a run of the phases in `ran`) merged into `old`; see the module documentation.
pub fn merge(old: &str, new: &str, ran: &[String]) -> String {
    let (_, old_s) = sections(old);
    let (pre, new_s) = sections(new);
    let find = |h: &str| new_s.iter().find(|s| s.heading == h);
    let mut out: Vec<(String, String)> = Vec::new();
    for s in &old_s {
        let text = match (s.heading.as_str(), phase(&s.heading, true)) {
            ("Targets", _) => Some(targets(
                &s.text,
                find("Targets").map_or(&s.text, |n| &n.text),
                ran,
            )),
            ("Machine and versions", _) => Some(versions(
                &s.text,
                find("Machine and versions").map_or(&s.text, |n| &n.text),
            )),
            (h, Some(p)) if ran.contains(&p) => find(h).map(|n| n.text.clone()),
            (_, Some(_)) => Some(s.text.clone()),
            (h, None) => Some(find(h).map_or(s.text.clone(), |n| n.text.clone())),
        };
        if let Some(text) = text {
            out.push((s.heading.clone(), text));
        }
    }
    // A section only `new` has goes right after the section `new` has before it (as a new P2 (d) follows
    // P2 (c)), or, when it is `new`'s first, before the first of `new`'s that is placed.
    for (i, s) in new_s.iter().enumerate() {
        if out.iter().any(|(h, _)| *h == s.heading) {
            continue;
        }
        let after = new_s[..i]
            .iter()
            .rev()
            .find_map(|n| out.iter().position(|(h, _)| *h == n.heading))
            .map(|p| p + 1);
        let before = || {
            new_s[i + 1..]
                .iter()
                .find_map(|n| out.iter().position(|(h, _)| *h == n.heading))
        };
        let at = after.or_else(before).unwrap_or(out.len());
        out.insert(at, (s.heading.clone(), s.text.clone()));
    }
    let mut md = pre;
    for (_, text) in out {
        md.push_str(&text);
    }
    md
}

/// The targets of a `docs/benchmarks.md` Targets table (for the chart of a merged report); the short
/// name is the text before the first colon.
pub fn targets_of(md: &str) -> Vec<Target> {
    let (_, s) = sections(md);
    let Some(t) = s.iter().find(|s| s.heading == "Targets") else {
        return Vec::new();
    };
    t.text
        .lines()
        .filter(|l| first_cell(l).is_some())
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let (what, measured, target) = (cells.first()?, cells.get(1)?, cells.get(2)?);
            let unit = ["×", " ms", " GiB"].into_iter().find(|u| measured.ends_with(u))?;
            let at_most = target.starts_with('≤');
            let num = |s: &str| -> Option<f64> {
                s.trim_start_matches(['≤', '≥', ' '])
                    .trim_end_matches(unit)
                    .trim()
                    .parse()
                    .ok()
            };
            let name: String = what.split(':').next().unwrap_or(what).chars().take(44).collect();
            Some(Target {
                name,
                what: (*what).to_owned(),
                value: num(measured)?,
                target: num(target)?,
                at_most,
                unit,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "# Benchmarks\n\nold intro\n\n## Targets\n\n| target | measured | target | met |\n|---|---|---|---|\n\
        | /version median: plugin ÷ native | 1.105× | ≤ 1.10× | ✗ |\n\
        | P2b archive: plugin ÷ curl | 0.798× | ≥ 0.95× | ✗ |\n\
        | P4 Rust cold start, median ms | 0.413 ms | ≤ 2.00 ms | ✓ |\n\n\
        ## Machine and versions\n\n| what | version |\n|---|---|\n| docker-py | 7.1.0 |\n| node | v20 |\n\n\
        ## P1: `/version` round trip\n\nold p1\n\n## P2 (b): a 1 GiB archive\n\nold p2b\n\n\
        ## P4: cold start\n\nold p4\n\n## Analysis: by hand\n\nkept words\n";

    const NEW: &str = "# Benchmarks\n\nnew intro\n\n## Targets\n\n| target | measured | target | met |\n|---|---|---|---|\n\
        | P2b archive: plugin ÷ curl | 0.990× | ≥ 0.95× | ✓ |\n\n\
        ## Machine and versions\n\n| what | version |\n|---|---|\n| docker-py | not measured |\n| node | v22 |\n\n\
        ## P2 (b): a 1 GiB archive\n\nnew p2b\n\n## P2 (d): a new table\n\nnew p2d\n";

    /// A run of P2 replaces P2's sections and target row, keeps the other phases', the hand-written
    /// analysis and a version it did not measure, and places a section only it has after its neighbour.
    #[test]
    fn a_partial_run_replaces_only_its_phases() {
        let md = merge(OLD, NEW, &["p2".to_owned()]);
        assert!(md.starts_with("# Benchmarks\n\nnew intro\n"), "{md}");
        assert!(md.contains("| P2b archive: plugin ÷ curl | 0.990× |"), "{md}");
        assert!(!md.contains("0.798×"), "{md}");
        assert!(
            md.contains("| /version median: plugin ÷ native | 1.105× |"),
            "{md}"
        );
        assert!(
            md.contains("| P4 Rust cold start, median ms | 0.413 ms |"),
            "{md}"
        );
        // Target rows stay in phase order.
        let (p1, p2, p4) = (
            md.find("/version median").unwrap(),
            md.find("P2b archive").unwrap(),
            md.find("P4 Rust").unwrap(),
        );
        assert!(p1 < p2 && p2 < p4, "{md}");
        assert!(
            md.contains("| docker-py | 7.1.0 |") && md.contains("| node | v22 |"),
            "{md}"
        );
        assert!(
            md.contains("old p1") && md.contains("old p4") && md.contains("kept words"),
            "{md}"
        );
        assert!(md.contains("new p2b") && !md.contains("old p2b"), "{md}");
        let (b, d, p4s) = (
            md.find("new p2b").unwrap(),
            md.find("new p2d").unwrap(),
            md.find("old p4").unwrap(),
        );
        assert!(b < d && d < p4s, "{md}");
    }

    /// The chart's targets come back from the table with their values, directions and units.
    #[test]
    fn targets_are_read_back_from_the_table() {
        let t = targets_of(OLD);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].name, "/version median");
        assert!((t[0].value - 1.105).abs() < 1e-9 && (t[0].target - 1.10).abs() < 1e-9 && t[0].at_most);
        assert!(!t[1].at_most && t[1].unit == "×");
        assert_eq!((t[2].unit, t[2].value), (" ms", 0.413));
    }

    /// The paired ratios' summaries.
    #[test]
    fn median_quartiles_and_spread() {
        use crate::report::engines::{median, quartiles, spread};
        let v = [0.9, 1.2, 0.7, 1.0, 1.1, 0.95, 1.05, 0.85];
        assert!((median(&v) - 0.975).abs() < 1e-9);
        assert_eq!(quartiles(&v), (0.85, 1.05));
        assert_eq!(spread(&v), (0.7, 1.2));
        assert_eq!(quartiles(&[2.0]), (2.0, 2.0));
        assert!(median(&[]).is_nan() && quartiles(&[]).0.is_nan());
    }
}
