//! The images a Dockerfile builds from, as the classic builder reads it: `FROM` (after the global `ARG`s
//! and the build's `buildargs`), and `COPY --from` naming an image. A build may only use images the
//! policy allows, and the daemon pulls a missing one from its registry: tug checks both, and names each
//! image that is already there by its id (the Dockerfile is rewritten), so no other image can answer for
//! the name between the check and the build.

use super::gate::shorten;

/// The instructions of the classic builder.
const KEYWORDS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

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

/// Whether a line is a parser directive as the builder reads one (`# key = value`, the key a letter and
/// letters or digits): its key, lower case, and value.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?;
    let (key, value) = rest.split_once('=')?;
    let key = key.trim_matches([' ', '\t']);
    let ok =
        key.starts_with(|c: char| c.is_ascii_alphabetic()) && key.chars().all(|c| c.is_ascii_alphanumeric());
    let value = value.trim_matches([' ', '\t']);
    (ok && !value.is_empty()).then(|| (key.to_ascii_lowercase(), value.to_owned()))
}

/// The instructions of a Dockerfile as the classic builder reads it: a leading byte-order mark dropped;
/// parser directives only at the top (the first line that is not one ends them); comments dropped;
/// continuation lines (the escape character, `\` unless `# escape=` says otherwise, then only spaces
/// and tabs) joined, comments and empty lines inside them dropped. `Err` names a line tug cannot read as
/// the builder would (a keyword that is not ASCII: the builder lower-cases Unicode).
pub fn instructions(text: &str) -> Result<Vec<Instruction>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut escape = '\\';
    let mut out = Vec::new();
    let mut directives = true;
    let mut i = 0;
    // A line ending in the escape character and then only spaces and tabs continues.
    let continued = |line: &str, escape: char| -> Option<usize> {
        let end = line.trim_end_matches([' ', '\t']);
        end.ends_with(escape).then(|| end.len() - escape.len_utf8())
    };
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if directives {
            if let Some((key, value)) = directive(trimmed) {
                if key == "escape" {
                    escape = match value.as_str() {
                        "\\" => '\\',
                        "`" => '`',
                        other => return Err(format!("Dockerfile line {}: escape {other:?}", i + 1)),
                    };
                }
                i += 1;
                continue;
            }
            directives = false;
        }
        if trimmed.trim().is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        loop {
            // The first line loses its leading whitespace; continuation lines keep theirs.
            let line = if i == start {
                lines[i].trim_start()
            } else {
                lines[i]
            };
            i += 1;
            // Comments and empty lines inside a continued instruction are dropped, as the builder's.
            if i - 1 > start && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            match continued(line, escape) {
                Some(cut) => joined.push_str(&line[..cut]),
                None => {
                    joined.push_str(line);
                    break;
                }
            }
            if i >= lines.len() {
                break;
            }
        }
        let joined = joined.trim();
        let (keyword, rest) = joined.split_once(char::is_whitespace).unwrap_or((joined, ""));
        if !keyword.is_ascii() {
            return Err(format!(
                "Dockerfile line {}: instruction {} cannot be read",
                start + 1,
                shorten(keyword)
            ));
        }
        out.push(Instruction {
            line: start,
            lines: i - start,
            keyword: keyword.to_ascii_lowercase(),
            rest: rest.trim().to_owned(),
        });
    }
    Ok(out)
}

/// The leading flags of an instruction's arguments (`--from=x`, `--platform=y`) and the rest. A word the
/// builder would read as a flag once it removes quotes and escapes (`"--from"=x`, `--fr\om=x`) is refused:
/// tug reads flags only as they are written.
fn flags(rest: &str) -> Result<(Vec<&str>, Vec<&str>), String> {
    let words: Vec<&str> = rest.split_ascii_whitespace().collect();
    let mut n = 0;
    for w in &words {
        let bare: String = w
            .chars()
            .filter(|c| !matches!(c, '"' | '\'' | '\\' | '`'))
            .collect();
        if !bare.starts_with("--") {
            break;
        }
        if bare.len() != w.len() {
            return Err(format!("the flag {} is quoted or escaped", shorten(w)));
        }
        n += 1;
    }
    Ok((words[..n].to_vec(), words[n..].to_vec()))
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME:+word}` from `vars`; `None` for a name that is
/// not declared, or any other form (quotes and escapes included).
fn expand(word: &str, vars: &[(String, String)]) -> Option<String> {
    if word.contains(['"', '\'', '\\', '`']) {
        return None;
    }
    let get = |name: &str| vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
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
                let v = get(name)?;
                if v.is_empty() {
                    default.to_owned()
                } else {
                    v
                }
            } else if let Some((name, alt)) = inner.split_once(":+") {
                if get(name)?.is_empty() {
                    String::new()
                } else {
                    alt.to_owned()
                }
            } else if inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                get(&inner)?
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
            out.push_str(&get(&name)?);
        }
    }
    Some(out)
}

/// The images a Dockerfile builds from (stage names and `scratch` left out), with `build_args` (the
/// build's `buildargs`) overriding the global `ARG` defaults; `Err` names the line that cannot be read.
/// A `COPY --from` or `FROM` names a stage only once that stage is complete (the builder's rule); a
/// variable must be a declared global `ARG`.
pub fn bases(text: &str, build_args: &[(String, String)]) -> Result<Vec<Base>, String> {
    let instructions = instructions(text)?;
    // What the builder would fail to parse is refused before it reaches it: a daemon that fails to parse
    // a Dockerfile keeps the build's context on its disk.
    if instructions.is_empty() {
        return Err("the Dockerfile has no instructions".into());
    }
    if let Some(ins) = instructions
        .iter()
        .find(|i| !KEYWORDS.contains(&i.keyword.as_str()))
    {
        return Err(format!(
            "Dockerfile line {}: unknown instruction {}",
            ins.line + 1,
            shorten(&ins.keyword)
        ));
    }
    if let Some(first) = instructions.iter().find(|i| i.keyword != "arg") {
        if first.keyword != "from" {
            return Err(format!(
                "Dockerfile line {}: the first instruction must be FROM",
                first.line + 1
            ));
        }
    }
    let mut vars: Vec<(String, String)> = Vec::new();
    // Stages complete so far: their names (lower case, or "" when unnamed); the one being built.
    let mut stages: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut out = Vec::new();
    let at = |i: &Instruction| format!("Dockerfile line {}", i.line + 1);
    let is_stage = |stages: &[String], name: &str| {
        let lower = name.to_ascii_lowercase();
        stages.iter().any(|s| !s.is_empty() && *s == lower)
            || name.parse::<usize>().is_ok_and(|i| i < stages.len())
    };
    for (n, ins) in instructions.iter().enumerate() {
        match ins.keyword.as_str() {
            "arg" if current.is_none() => {
                for decl in ins.rest.split_whitespace() {
                    let (name, default) = decl.split_once('=').unwrap_or((decl, ""));
                    if default.contains(['"', '\'', '\\', '$', '`']) {
                        return Err(format!("{}: ARG {} cannot be read", at(ins), shorten(decl)));
                    }
                    let value = build_args
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| default.to_owned());
                    vars.push((name.to_owned(), value));
                }
            }
            "from" => {
                if let Some(done) = current.take() {
                    stages.push(done);
                }
                let (_, words) = flags(&ins.rest).map_err(|why| format!("{}: {why}", at(ins)))?;
                let Some(image) = words.first() else {
                    return Err(format!("{}: FROM names no image", at(ins)));
                };
                let reference = expand(image, &vars)
                    .filter(|r| !r.is_empty() && !r.contains('$'))
                    .ok_or_else(|| format!("{}: FROM {} cannot be read", at(ins), shorten(image)))?;
                if !is_stage(&stages, &reference) && !reference.eq_ignore_ascii_case("scratch") {
                    out.push(Base {
                        instruction: n,
                        reference,
                    });
                }
                let name = match (words.get(1), words.get(2)) {
                    (Some(a), Some(name)) if a.eq_ignore_ascii_case("as") => name.to_ascii_lowercase(),
                    _ => String::new(),
                };
                current = Some(name);
            }
            "copy" | "add" => {
                let (flags, _) = flags(&ins.rest).map_err(|why| format!("{}: {why}", at(ins)))?;
                for flag in flags {
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
                    if !is_stage(&stages, from) {
                        out.push(Base {
                            instruction: n,
                            reference: from.to_owned(),
                        });
                    }
                }
            }
            "onbuild" => onbuild(&ins.rest).map_err(|why| format!("{}: {why}", at(ins)))?,
            _ => {}
        }
    }
    Ok(out)
}

/// Checks an `ONBUILD` trigger (the instruction an image runs in the builds that use it): no `COPY` or
/// `ADD` from another image (tug could not check it where the trigger runs), no flag tug cannot read.
pub fn onbuild(trigger: &str) -> Result<(), String> {
    let (keyword, rest) = trigger
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((trigger.trim(), ""));
    if !keyword.is_ascii() {
        return Err(format!("ONBUILD {} cannot be read", shorten(keyword)));
    }
    let (flags, _) = flags(rest)?;
    if matches!(keyword.to_ascii_lowercase().as_str(), "copy" | "add")
        && flags.iter().any(|f| f.starts_with("--from"))
    {
        return Err("ONBUILD COPY --from is not allowed".into());
    }
    Ok(())
}

/// The Dockerfile with each base of `bases` whose reference `by_id` names an image id written as that id
/// instead (instructions keep their first line; a continued instruction becomes one line and blank ones,
/// so line numbers stay).
pub fn rewrite(text: &str, bases: &[Base], by_id: &[(usize, String)]) -> String {
    let instructions = instructions(text).unwrap_or_default();
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
        assert_eq!(instructions("RUN a \\\n# c\n b\n").unwrap()[0].rest, "a  b");
    }

    /// What the builder reads otherwise than a naive parser would: each is read as the builder does, or
    /// refused.
    #[test]
    fn the_builders_own_reading() {
        let refs = |text: &str, args: &[(&str, &str)]| -> Result<Vec<String>, String> {
            let args: Vec<(String, String)> = args.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            bases(text, &args).map(|b| b.into_iter().map(|b| b.reference).collect())
        };
        // A byte-order mark on the first line.
        assert_eq!(
            refs("\u{feff}FROM evil.example/x\n", &[]).unwrap(),
            ["evil.example/x"]
        );
        // Quoted or escaped flags.
        assert!(refs("FROM ok\nCOPY --fr\\om=evil /a /b\n", &[]).is_err());
        assert!(refs("FROM ok\nCOPY \"--from\"=evil /a /b\n", &[]).is_err());
        assert!(refs("FROM \"evil\"/x\n", &[]).is_err());
        // Only declared ARGs (the built-in proxy ones are not).
        assert!(refs("FROM ${HTTP_PROXY:-ok}\n", &[("HTTP_PROXY", "evil/x")]).is_err());
        // Directives end at the first line that is not one.
        assert_eq!(
            refs("# a b=c\n# escape=`\nFROM ok\nRUN echo `\nFROM evil\n", &[]).unwrap(),
            ["ok", "evil"]
        );
        assert_eq!(
            refs("# escape=`\nFROM ok\nRUN echo `\nFROM evil\n", &[]).unwrap(),
            ["ok"]
        );
        // Only spaces and tabs after a continuation.
        assert_eq!(
            refs("FROM ok\nRUN echo \\\u{b}\nFROM evil\n", &[]).unwrap(),
            ["ok", "evil"]
        );
        // The stage being built is not a stage yet.
        assert_eq!(
            refs("FROM ok AS abc\nCOPY --from=abc /a /b\n", &[]).unwrap(),
            ["ok", "abc"]
        );
        assert_eq!(
            refs("FROM ok AS abc\nFROM abc\nCOPY --from=0 /a /b\n", &[]).unwrap(),
            ["ok"]
        );
        // Instructions tug cannot read as the builder does.
        assert!(refs("FROM ok\nONBU\u{130}LD COPY --from=evil / /\n", &[]).is_err());
        assert!(refs("FROM ok\nONBUILD COPY --fr\\om=evil / /\n", &[]).is_err());
        assert!(refs("FROM ok\nONBUILD COPY --from=evil / /\n", &[]).is_err());
        assert!(refs("FROM ok\nONBUILD COPY . /app\n", &[]).is_ok());
        // What the builder would fail to parse (and keep the context of).
        assert!(refs("# no instructions\n", &[]).is_err());
        assert!(refs("RUN true\nFROM ok\n", &[]).is_err());
        assert!(refs("FROM ok\nFROOM x\n", &[]).is_err());
        assert!(refs("ARG A=1\nFROM ok\n", &[]).is_ok());
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
