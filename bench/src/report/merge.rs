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
    // Sections only `new` has go before the next of `new`'s sections that is placed.
    for (i, s) in new_s.iter().enumerate() {
        if out.iter().any(|(h, _)| *h == s.heading) {
            continue;
        }
        let at = new_s[i + 1..]
            .iter()
            .find_map(|n| out.iter().position(|(h, _)| *h == n.heading))
            .unwrap_or(out.len());
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
