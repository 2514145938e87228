//! The images a Dockerfile builds from, as the classic builder reads it: `FROM` (after the global `ARG`s
//! and the build's `buildargs`), and `COPY --from` naming an image. A build may only use images the
//! policy allows, and the daemon pulls a missing one from its registry: tug checks both, and names each
//! image that is already there by its id (the Dockerfile is rewritten), so no other image can answer for
//! the name between the check and the build.

use super::gate::shorten;

/// One instruction: its first line (0-based), how many lines it spans, its keyword (lower case) and the
/// rest of it, continuation lines joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The first line, counted from 0.
    pub line: usize,
    /// The lines it spans.
    pub lines: usize,
    /// The keyword, lower case.
    pub keyword: String,
    /// The arguments, continuation lines joined.
    pub rest: String,
}

/// An image a Dockerfile uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    /// The instruction's index in [`instructions`].
    pub instruction: usize,
    /// The reference, variables expanded.
    pub reference: String,
}

/// The instructions of a Dockerfile: comments and parser directives dropped, continuation lines (ending
/// in the escape character, `\` unless a `# escape=` directive says otherwise) joined.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let mut escape = '\\';
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut directives = true;
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if directives {
            if let Some(d) = trimmed.strip_prefix('#') {
                if let Some((k, v)) = d.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("escape") {
                        escape = v.trim().chars().next().unwrap_or('\\');
                    }
                    i += 1;
                    continue;
                }
            }
            directives = false;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        loop {
            let line = lines[i].trim_end();
            i += 1;
            // Comments and empty lines inside a continued instruction are dropped, as the builder's.
            if i - 1 > start && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            let continued = line.ends_with(escape);
            let part = if continued {
                &line[..line.len() - escape.len_utf8()]
            } else {
                line
            };
            joined.push_str(part);
            if !continued || i >= lines.len() {
                break;
            }
        }
        let joined = joined.trim();
        let (keyword, rest) = joined.split_once(char::is_whitespace).unwrap_or((joined, ""));
        out.push(Instruction {
            line: start,
            lines: i - start,
            keyword: keyword.to_ascii_lowercase(),
            rest: rest.trim().to_owned(),
        });
    }
    out
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME:+word}` from `vars` (an unknown name is empty,
/// as the builder's); `None` for any other form.
fn expand(word: &str, vars: &[(String, String)]) -> Option<String> {
    let get = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            let mut inner = String::new();
            loop {
                match chars.next()? {
                    '}' => break,
                    c => inner.push(c),
                }
            }
            let value = if let Some((name, default)) = inner.split_once(":-") {
                let v = get(name);
                if v.is_empty() {
                    default.to_owned()
                } else {
                    v
                }
            } else if let Some((name, alt)) = inner.split_once(":+") {
                if get(name).is_empty() {
                    String::new()
                } else {
                    alt.to_owned()
                }
            } else if inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                get(&inner)
            } else {
                return None;
            };
            out.push_str(&value);
        } else {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                return None;
            }
            out.push_str(&get(&name));
        }
    }
    Some(out)
}

/// The images a Dockerfile builds from (stage names and `scratch` left out), with `build_args` (the
/// build's `buildargs`) overriding the global `ARG` defaults; `Err` names the line that cannot be read.
pub fn bases(text: &str, build_args: &[(String, String)]) -> Result<Vec<Base>, String> {
    let instructions = instructions(text);
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut seen_from = false;
    let at = |i: &Instruction| format!("Dockerfile line {}", i.line + 1);
    for (n, ins) in instructions.iter().enumerate() {
        match ins.keyword.as_str() {
            "arg" if !seen_from => {
                for decl in ins.rest.split_whitespace() {
                    let (name, default) = decl.split_once('=').unwrap_or((decl, ""));
                    let default = default.trim_matches('"').to_owned();
                    let value = build_args
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(default);
                    vars.push((name.to_owned(), value));
                }
            }
            "from" => {
                seen_from = true;
                let words: Vec<&str> = ins
                    .rest
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let Some(image) = words.first() else {
                    return Err(format!("{}: FROM names no image", at(ins)));
                };
                let reference = expand(image, &vars)
                    .filter(|r| !r.is_empty() && !r.contains('$'))
                    .ok_or_else(|| format!("{}: FROM {} cannot be read", at(ins), shorten(image)))?;
                if !stages.contains(&reference.to_ascii_lowercase())
                    && !reference.eq_ignore_ascii_case("scratch")
                {
                    out.push(Base {
                        instruction: n,
                        reference,
                    });
                }
                if let (Some(a), Some(name)) = (words.get(1), words.get(2)) {
                    if a.eq_ignore_ascii_case("as") {
                        stages.push(name.to_ascii_lowercase());
                    }
                }
            }
            "copy" | "add" => {
                for flag in ins.rest.split_whitespace().take_while(|w| w.starts_with("--")) {
                    let Some(from) = flag.strip_prefix("--from=") else {
                        continue;
                    };
                    if from.contains('$') {
                        return Err(format!(
                            "{}: COPY --from={} cannot be read",
                            at(ins),
                            shorten(from)
                        ));
                    }
                    let is_stage = stages.contains(&from.to_ascii_lowercase())
                        || from.parse::<usize>().is_ok_and(|i| i < stages.len().max(1));
                    if !is_stage {
                        out.push(Base {
                            instruction: n,
                            reference: from.to_owned(),
                        });
                    }
                }
            }
            "onbuild" if ins.rest.to_ascii_lowercase().contains("--from") => {
                return Err(format!("{}: ONBUILD COPY --from is not allowed", at(ins)));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The Dockerfile with each base of `bases` whose reference `by_id` names an image id written as that id
/// instead (instructions keep their first line; a continued instruction becomes one line and blank ones,
/// so line numbers stay).
pub fn rewrite(text: &str, bases: &[Base], by_id: &[(usize, String)]) -> String {
    let instructions = instructions(text);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (base_index, id) in by_id {
        let Some(base) = bases.get(*base_index) else {
            continue;
        };
        let Some(ins) = instructions.get(base.instruction) else {
            continue;
        };
        let rewritten = match ins.keyword.as_str() {
            "from" => {
                // FROM [--flags] image [AS name]: the image word, the others as they were.
                let mut done = false;
                let words: Vec<String> = ins
                    .rest
                    .split_whitespace()
                    .map(|w| {
                        if !done && !w.starts_with("--") {
                            done = true;
                            id.clone()
                        } else {
                            w.to_owned()
                        }
                    })
                    .collect();
                format!("FROM {}", words.join(" "))
            }
            _ => {
                let flag = format!("--from={}", base.reference);
                format!(
                    "{} {}",
                    ins.keyword.to_ascii_uppercase(),
                    ins.rest.replacen(&flag, &format!("--from={id}"), 1)
                )
            }
        };
        lines[ins.line] = rewritten;
        for l in ins.line + 1..ins.line + ins.lines {
            lines[l] = String::new();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_with_args_stages_and_copies() {
        let text = "# escape=\\\n# a comment\nARG BASE=tug-test/busybox\nARG TAG\nFROM ${BASE}:${TAG:-latest} AS build\n\
                    RUN echo \\\n  hi\nFROM build\nCOPY --from=build /a /b\nCOPY --from=127.0.0.1:5000/x:1 /c /d\n\
                    FROM --platform=linux/amd64 scratch\n";
        let b = bases(text, &[]).unwrap();
        let refs: Vec<&str> = b.iter().map(|b| b.reference.as_str()).collect();
        assert_eq!(refs, ["tug-test/busybox:latest", "127.0.0.1:5000/x:1"]);
        let b = bases(text, &[("TAG".into(), "2".into())]).unwrap();
        assert_eq!(b[0].reference, "tug-test/busybox:2");
        assert!(bases("FROM $(evil)\n", &[]).is_err());
        assert!(bases("FROM ${A/b/c}\n", &[]).is_err());
        assert!(bases("FROM x\nCOPY --from=$Y /a /b\n", &[]).is_err());
        assert_eq!(instructions("RUN a \\\n# c\n b\n")[0].rest, "a  b");
    }

    #[test]
    fn rewritten_by_id_line_for_line() {
        let text = "ARG B=busybox\nFROM \\\n  $B AS x\nCOPY --from=other:1 /a /b\nRUN true\n";
        let b = bases(text, &[]).unwrap();
        let out = rewrite(text, &b, &[(0, "sha256:aa".into()), (1, "sha256:bb".into())]);
        assert_eq!(
            out,
            "ARG B=busybox\nFROM sha256:aa AS x\n\nCOPY --from=sha256:bb /a /b\nRUN true\n"
        );
    }
}
