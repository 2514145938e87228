//! The images a Dockerfile builds from, read as the daemon's classic builder reads it (moby v20.10.24:
//! `builder/dockerfile`, and the buildkit `parser`, `instructions` and `shell` packages it vendors):
//! `FROM` (after the global `ARG`s and the build's `buildargs`), and `COPY --from` naming an image. A
//! build may only use images the policy allows, and the daemon pulls a missing one from its registry:
//! tug checks both, and names each image that is already there by its id (the Dockerfile is
//! rewritten), so no other image can answer for the name between the check and the build.
//!
//! What the builder would read otherwise than tug is refused, not guessed: the reading of the text
//! (`dockerfile_parse.rs`: lines, directives, continuations, flags, each parse error, which would make
//! the daemon keep the build's context on its disk), and of variables (`dockerfile_lex.rs`). Besides
//! images, two instructions are refused for what the daemon does with them outside the build's
//! container: an `ADD` of a URL (the daemon fetches it from the host's network), and a `WORKDIR` in
//! `/proc` (CVE-2024-21626); in the Dockerfile and in `ONBUILD` triggers.

#[path = "dockerfile_lex.rs"]
mod lex;
#[path = "dockerfile_parse.rs"]
mod parse;
#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;

use std::{cell::Cell, collections::HashMap};

use lex::{Lexer, Var, Word};
pub use parse::Instruction;
use parse::Json;

use super::{gate::shorten, rules::lexical};

/// The instructions of the classic builder (the `instructions.ParseInstruction` switch).
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

/// The build args the builder takes from `buildargs` without an `ARG` (`builtinAllowedBuildArgs`).
const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The most text variable expansion may make of one Dockerfile (the builder has no limit).
const EXPANSION_BUDGET: usize = 16 << 20;

/// An image a Dockerfile uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    /// The instruction's index in [`instructions`].
    pub instruction: usize,
    /// The reference, variables expanded.
    pub reference: String,
}

/// The instructions of a Dockerfile as the classic builder's parser reads it: a leading byte-order
/// mark dropped; parser directives (`escape`, `syntax`) only at the top; comments dropped; continuation
/// lines (the escape character, `\` unless `# escape=` says otherwise, then only spaces and tabs)
/// joined, comments and empty lines among them dropped; the keyword, the leading `--` flags and the
/// arguments split. `Err` names the line of each text the parser rejects, and of what tug does not read
/// as it does (see `dockerfile_parse.rs`).
pub fn instructions(text: &str) -> Result<Vec<Instruction>, String> {
    Ok(parse::read(text, "Dockerfile")?.instructions)
}

/// The variables a stage's instructions see, in one of the ways tug reads what it cannot know.
#[derive(Clone, Copy, PartialEq)]
enum World {
    /// What tug does not know is unknown: for `ADD` sources.
    Symbolic,
    /// What tug does not know is empty (the ARG values taken as written): for `WORKDIR`.
    Empty,
    /// What tug does not know is `/`: for `WORKDIR`.
    Root,
}

/// A stage's `ENV` and `ARG` values in one world.
#[derive(Default)]
struct Vars {
    env: HashMap<String, Word>,
    args: HashMap<String, Option<Word>>,
}

/// The stage being built.
struct Stage {
    /// Its name, lower case ("" when it has none).
    name: String,
    /// Its variables in each world (`World` order).
    vars: [Vars; 3],
    /// Its working directory in the `Empty` and `Root` worlds. The base image's is not known: `/` stands
    /// for it (a relative path that lands in `/proc` from a directory outside `/proc` lands there from
    /// `/` as well).
    workdir: [String; 2],
}

const WORLDS: [World; 3] = [World::Symbolic, World::Empty, World::Root];

/// What a Dockerfile's walk knows: the escape character, the build's args, the global `ARG`s.
struct Ctx<'a> {
    escape: char,
    build_args: &'a [(String, String)],
    /// The global `ARG`s: name, and default (expanded) if any.
    meta: HashMap<String, Option<String>>,
    budget: Cell<usize>,
}

impl Ctx<'_> {
    /// A build arg (the last of a name wins, as in the JSON object tug sends).
    fn build_arg(&self, name: &str) -> Option<&str> {
        self.build_args
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A variable of the global scope (`BuildArgs.GetAllMeta`, the same as `GetAllAllowed` before the
    /// first `FROM`): a declared `ARG` or a proxy arg takes the build arg; else a declared default.
    fn meta_var(&self, name: &str) -> Var {
        let declared = self.meta.get(name);
        if declared.is_some() || PROXY_ARGS.contains(&name) {
            if let Some(v) = self.build_arg(name) {
                return Var::Set(Word::lit(v));
            }
        }
        match declared {
            Some(Some(v)) => Var::Set(Word::lit(v)),
            _ => Var::Unset,
        }
    }

    /// A variable a stage's instruction sees: `ENV` first (the builder leaves out an arg the environment
    /// has, the base image's included), then an `ARG` of the stage (the build arg, its default, or the
    /// global one), then a proxy arg; else the base image's environment, which tug does not know.
    fn stage_var(&self, vars: &Vars, world: World, name: &str) -> Var {
        if let Some(w) = vars.env.get(name) {
            return Var::Set(w.clone());
        }
        let unknown = match world {
            World::Symbolic => return Var::Set(Word::unknown()),
            World::Empty => "",
            World::Root => "/",
        };
        if let Some(default) = vars.args.get(name) {
            if let Some(v) = self.build_arg(name) {
                return Var::Set(Word::lit(v));
            }
            if let Some(w) = default {
                return Var::Set(w.clone());
            }
            if let Some(Some(v)) = self.meta.get(name) {
                return Var::Set(Word::lit(v));
            }
        } else if PROXY_ARGS.contains(&name) {
            if let Some(v) = self.build_arg(name) {
                return Var::Set(Word::lit(v));
            }
        }
        Var::Set(Word::lit(unknown))
    }

    fn expand(&self, word: &str, env: &dyn Fn(&str) -> Var) -> Result<Word, String> {
        Lexer {
            escape: self.escape,
            env,
            budget: &self.budget,
        }
        .word(word)
    }

    /// A name that has no variable in it, quotes and escapes removed.
    fn name(&self, raw: &str, what: &str) -> Result<String, String> {
        if raw.is_empty() {
            return Err(format!("{what} names can not be blank"));
        }
        if raw.contains('$') {
            return Err(format!(
                "{what} {} cannot be read: a variable in a name",
                shorten(raw)
            ));
        }
        Ok(self.expand(raw, &|_| Var::Unset)?.known().unwrap_or_default())
    }

    /// The `name[=value]` words of an `ARG`.
    fn arg_words(&self, i: &Instruction) -> Result<Vec<(String, Option<String>)>, String> {
        let words = parse::words(&i.args, self.escape);
        if words.is_empty() {
            return Err("ARG requires at least one argument".into());
        }
        words
            .into_iter()
            .map(|w| {
                let (k, v) = match w.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (w, None),
                };
                Ok((self.name(&k, "ARG")?, v))
            })
            .collect()
    }

    /// A global `ARG` (`processMetaArg`): each default expanded with the global args declared before
    /// this instruction, then all declared (one without a default unsets the name).
    fn meta_arg(&mut self, i: &Instruction) -> Result<(), String> {
        let mut declared = Vec::new();
        for (name, default) in self.arg_words(i)? {
            let value = match default {
                Some(d) => Some(
                    self.expand(&d, &|n| self.meta_var(n))?
                        .known()
                        .unwrap_or_default(),
                ),
                None => None,
            };
            declared.push((name, value));
        }
        self.meta.extend(declared);
        Ok(())
    }

    /// A `FROM`: the stage's name, and the image it names (none for a complete stage or `scratch`).
    fn from(&self, i: &Instruction, stages: &[String]) -> Result<(String, Option<String>), String> {
        let words: Vec<&str> = parse::fields(&i.args).collect();
        let name = match words.as_slice() {
            [_] => String::new(),
            [_, as_, name] if as_.eq_ignore_ascii_case("as") => {
                let lower = name.to_ascii_lowercase();
                let ok = lower.starts_with(|c: char| c.is_ascii_lowercase())
                    && lower
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
                if !ok {
                    return Err(format!(
                        "invalid name for build stage: {}, name can't start with a number or contain symbols",
                        shorten(name)
                    ));
                }
                lower
            }
            _ => return Err("FROM requires either one or three arguments".into()),
        };
        if !name.is_empty() && stages.contains(&name) {
            return Err(format!("{name} stage name already used"));
        }
        let reference = self
            .expand(words[0], &|n| self.meta_var(n))
            .map_err(|why| format!("FROM {why}"))?
            .known()
            .unwrap_or_default();
        if reference.is_empty() {
            return Err(format!("FROM {}: the base name is blank", shorten(words[0])));
        }
        let lower = reference.to_ascii_lowercase();
        if is_stage(stages, &lower) || reference == "scratch" {
            return Ok((name, None));
        }
        let reference = image_reference(&reference)
            .map_err(|why| format!("FROM {} cannot be read: {why}", shorten(words[0])))?;
        Ok((name, Some(reference)))
    }

    /// An `ENV` or stage `ARG` of `stage`: each value expanded in each world with the variables before
    /// the instruction, then all set.
    fn set_vars(&self, stage: &mut Stage, i: &Instruction) -> Result<(), String> {
        let env = i.keyword == "env";
        let pairs = if env {
            env_pairs(&i.args, self.escape)?
                .into_iter()
                .map(|(k, v)| Ok((self.name(&k, "ENV")?, Some(v))))
                .collect::<Result<Vec<_>, String>>()?
        } else {
            self.arg_words(i)?
        };
        if pairs.is_empty() {
            return Err("ENV requires at least one argument".into());
        }
        for (w, world) in WORLDS.into_iter().enumerate() {
            if !env && world == World::Symbolic {
                continue;
            }
            let vars = &stage.vars[w];
            let mut values = Vec::new();
            for (name, raw) in &pairs {
                let value = match raw {
                    Some(raw) => Some(self.expand(raw, &|n| self.stage_var(vars, world, n))?),
                    None => None,
                };
                values.push((name.clone(), value));
            }
            let vars = &mut stage.vars[w];
            for (name, value) in values {
                match (env, value) {
                    (true, value) => {
                        vars.env.insert(name, value.unwrap_or_default());
                    }
                    (false, value) => {
                        vars.args.insert(name, value);
                    }
                }
            }
        }
        Ok(())
    }

    /// A `WORKDIR` of `stage`: refused when it lands in `/proc` in the `Empty` or `Root` world.
    fn workdir(&self, stage: &mut Stage, i: &Instruction) -> Result<(), String> {
        if i.args.is_empty() {
            return Err("WORKDIR requires exactly one argument".into());
        }
        for (k, world) in [World::Empty, World::Root].into_iter().enumerate() {
            let vars = &stage.vars[k + 1];
            let path = self
                .expand(&i.args, &|n| self.stage_var(vars, world, n))?
                .render("");
            stage.workdir[k] = in_proc(&stage.workdir[k], &path, &i.args)?;
        }
        Ok(())
    }
}

/// The working directory `path` makes of `current` (`normalizeWorkdir`): `Err` when it is in `/proc`.
fn in_proc(current: &str, path: &str, written: &str) -> Result<String, String> {
    if path.is_empty() {
        return Ok(current.to_owned());
    }
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{current}/{path}")
    };
    let clean = lexical(&joined);
    if clean.starts_with("/proc") {
        return Err(format!(
            "WORKDIR {}: working directory {} is inside /proc",
            shorten(written),
            shorten(&clean.to_string_lossy())
        ));
    }
    Ok(clean.to_string_lossy().into_owned())
}

/// Whether `lower` (lower case) names a complete stage (`stagesBuildResults.getByName`).
fn is_stage(stages: &[String], lower: &str) -> bool {
    stages.iter().any(|s| !s.is_empty() && s == lower)
}

/// A reference as written, if it has only the characters of image references.
fn image_reference(r: &str) -> Result<String, String> {
    let ok = r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c));
    if ok {
        Ok(r.to_owned())
    } else {
        Err("not an image reference".into())
    }
}

/// The `(name, value)` pairs of an `ENV` as `parseNameVal` splits them: `name value…` when the first
/// word has no `=`, else `name=value` words.
fn env_pairs(args: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = parse::words(args, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let p = args.find([' ', '\t']).ok_or("ENV must have two arguments")?;
        let value = args[p..].trim_start_matches([' ', '\t']);
        return Ok(vec![(args[..p].to_owned(), value.to_owned())]);
    }
    Ok(words
        .iter()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// The flags of an instruction as `BFlags.Parse` takes them: `(name, value)`; `Err` for a flag the
/// instruction does not take in the classic builder (RUN takes none there, `--chmod` needs BuildKit),
/// one without a value, one given twice.
fn flag_values<'a>(keyword: &str, flags: &'a [String]) -> Result<Vec<(&'a str, &'a str)>, String> {
    let takes: &[&str] = match keyword {
        "add" => &["chown"],
        "copy" => &["chown", "from"],
        "from" => &["platform"],
        "healthcheck" => &["interval", "timeout", "start-period", "retries"],
        _ => &[],
    };
    let mut out: Vec<(&str, &str)> = Vec::new();
    for flag in flags {
        let body = flag.strip_prefix("--").unwrap_or(flag);
        let (name, value) = body.split_once('=').unwrap_or((body, ""));
        if !takes.contains(&name) {
            return Err(format!(
                "{} does not take the flag {} in the classic builder",
                keyword.to_ascii_uppercase(),
                shorten(flag)
            ));
        }
        if !body.contains('=') {
            return Err(format!("the flag {} has no value", shorten(flag)));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("the flag --{name} is given twice"));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The sources of an `ADD` or `COPY` (all its arguments but the last), JSON or not.
fn sources(i: &Instruction) -> Result<Vec<String>, String> {
    let mut list: Vec<String> = match parse::json(&i.args)? {
        Json::Strings(v) => v,
        Json::Not => parse::fields(&i.args).map(str::to_owned).collect(),
    };
    if list.len() < 2 {
        return Err(format!(
            "{} requires at least two arguments",
            i.keyword.to_ascii_uppercase()
        ));
    }
    list.pop();
    Ok(list)
}

/// Whether an expanded `ADD` source is, or could be, a URL the daemon would fetch (`urlutil.IsURL`:
/// `http://`, `https://`): any `://`, or unknown text after a start that could begin one (any case).
fn url_like(w: &Word) -> bool {
    if w.render("").contains("://") {
        return true;
    }
    let (prefix, unknown) = w.prefix();
    let prefix = prefix.to_ascii_lowercase();
    unknown && ["http://", "https://"].iter().any(|u| u.starts_with(&prefix))
}

/// The `ADD` sources that are or could be URLs, refused.
fn check_add(i: &Instruction, lexers: &[Lexer]) -> Result<(), String> {
    for source in sources(i)? {
        for lexer in lexers {
            if url_like(&lexer.word(&source)?) {
                return Err(format!(
                    "ADD {} could fetch a URL, which the daemon does from the host's network (fetch it in a RUN)",
                    shorten(&source)
                ));
            }
        }
    }
    Ok(())
}

/// An `ONBUILD`'s trigger as the builder stores it (`(?i)^\s*ONBUILD\s*` cut from the line).
fn trigger_text(original: &str) -> &str {
    let s = original.trim_start_matches([' ', '\t']);
    s.get("onbuild".len()..)
        .unwrap_or_default()
        .trim_start_matches([' ', '\t'])
}

/// The images a Dockerfile builds from (stage names and `scratch` left out), with `build_args` (the
/// build's `buildargs`, the last of a name winning) overriding the global `ARG` defaults; `Err` names
/// the line the builder would reject or tug does not read as it does. A `FROM` names a stage (by name,
/// any case) only once that stage is complete; a `COPY --from` also takes a complete stage's index
/// (`strconv.ParseInt`, so `+0`, `-0` and `00` are index 0, and an index out of range is refused; a
/// number too big for it is an image). Variables in `FROM` are the global `ARG`s and the proxy args
/// (`HTTP_PROXY`…) the build gives, as `${name:-word}` and the other forms of the builder's shell;
/// `COPY --from` is not expanded by the builder, so a `$` in it is refused.
///
/// Also refused: an `ADD` whose source is or could be a URL (`://` anywhere, or a variable tug does
/// not know where `http://` could begin: in a stage, only `ENV`s of the Dockerfile are known, since the
/// base image's environment overrides `ARG`s); and a `WORKDIR` that lands in `/proc`. For that one, a
/// variable tug cannot resolve comes from the base image's environment and is taken as empty and as
/// `/` (a base image can point its own working directory anywhere; what is checked is that the
/// Dockerfile's text does not lead there), `ARG`s as their values, and the base image's working
/// directory as `/`. The same for each `ONBUILD` trigger ([`onbuild`]).
pub fn bases(text: &str, build_args: &[(String, String)]) -> Result<Vec<Base>, String> {
    let df = parse::read(text, "Dockerfile")?;
    let mut ctx = Ctx {
        escape: df.escape,
        build_args,
        meta: HashMap::new(),
        budget: Cell::new(EXPANSION_BUDGET),
    };
    // Stages complete so far: their names (lower case, or "" when unnamed); the one being built.
    let mut stages: Vec<String> = Vec::new();
    let mut stage: Option<Stage> = None;
    let mut out = Vec::new();
    for (n, i) in df.instructions.iter().enumerate() {
        let at = |why: String| format!("Dockerfile line {}: {why}", i.line + 1);
        if !KEYWORDS.contains(&i.keyword.as_str()) {
            return Err(at(format!("unknown instruction {}", shorten(&i.keyword))));
        }
        let flags = flag_values(&i.keyword, &i.flags).map_err(at)?;
        if i.keyword == "from" {
            if let Some(done) = stage.take() {
                stages.push(done.name);
            }
            let (name, image) = ctx.from(i, &stages).map_err(at)?;
            if let Some(reference) = image {
                out.push(Base {
                    instruction: n,
                    reference,
                });
            }
            stage = Some(Stage {
                name,
                vars: Default::default(),
                workdir: ["/".into(), "/".into()],
            });
            continue;
        }
        let Some(st) = stage.as_mut() else {
            if i.keyword != "arg" {
                return Err(at("the first instruction must be FROM".into()));
            }
            ctx.meta_arg(i).map_err(at)?;
            continue;
        };
        match i.keyword.as_str() {
            "copy" => {
                sources(i).map_err(at)?;
                let from = flags.iter().find(|(name, _)| *name == "from");
                if let Some(reference) = from
                    .map(|(_, v)| copy_from(&stages, v))
                    .transpose()
                    .map_err(at)?
                    .flatten()
                {
                    out.push(Base {
                        instruction: n,
                        reference,
                    });
                }
            }
            "add" => {
                let vars = &st.vars[0];
                let env = |name: &str| ctx.stage_var(vars, World::Symbolic, name);
                let lexer = Lexer {
                    escape: ctx.escape,
                    env: &env,
                    budget: &ctx.budget,
                };
                check_add(i, &[lexer]).map_err(at)?;
            }
            "onbuild" => {
                if i.args.is_empty() {
                    return Err(at("ONBUILD requires at least one argument".into()));
                }
                let trigger = parse::split(&i.args).map_err(at)?;
                match trigger.keyword.as_str() {
                    "onbuild" => {
                        return Err(at("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()))
                    }
                    "maintainer" | "from" => {
                        return Err(at(format!(
                            "{} isn't allowed as an ONBUILD trigger",
                            trigger.keyword.to_ascii_uppercase()
                        )))
                    }
                    _ => {}
                }
                onbuild(trigger_text(&i.original)).map_err(at)?;
            }
            "workdir" => ctx.workdir(st, i).map_err(at)?,
            "env" | "arg" => ctx.set_vars(st, i).map_err(at)?,
            _ => {}
        }
    }
    if stage.is_none() {
        return Err("the Dockerfile has no FROM".into());
    }
    Ok(out)
}

/// What a `COPY --from` value names (`stagesBuildResults.get`, the value not expanded): a complete
/// stage by name or index (`None`), or an image.
fn copy_from(stages: &[String], value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.contains('$') {
        return Err(format!("COPY --from={} cannot be read", shorten(value)));
    }
    if is_stage(stages, &value.to_ascii_lowercase()) {
        return Ok(None);
    }
    if let Ok(index) = value.parse::<i64>() {
        return match usize::try_from(index) {
            Ok(ix) if ix < stages.len() => Ok(None),
            _ => Err(format!(
                "COPY --from={} names no complete build stage",
                shorten(value)
            )),
        };
    }
    image_reference(value)
        .map(Some)
        .map_err(|why| format!("COPY --from={} cannot be read: {why}", shorten(value)))
}

/// A variable of the base image's environment, for an `ADD` source in a trigger.
fn unknown_var(_: &str) -> Var {
    Var::Set(Word::unknown())
}

/// A variable of the base image's environment taken as empty, for a `WORKDIR` in a trigger.
fn empty_var(_: &str) -> Var {
    Var::Set(Word::default())
}

/// A variable of the base image's environment taken as `/`, for a `WORKDIR` in a trigger.
fn root_var(_: &str) -> Var {
    Var::Set(Word::lit("/"))
}

/// Checks an `ONBUILD` trigger (the instruction an image runs in the builds that use it), as the
/// builder reads one (`dispatchTriggeredOnBuild`: the whole parser, its own directives, one
/// instruction): no `COPY --from` (tug could not check the image where the trigger runs), no `ADD` of
/// what is or could be a URL, no `WORKDIR` in `/proc` (the trigger is expanded with the escape
/// character of the build that runs it, which may be either, and the base image's environment, which
/// tug does not know), no `ONBUILD` (only a forged image config has one there), nothing the builder
/// would reject.
pub fn onbuild(trigger: &str) -> Result<(), String> {
    let df = parse::read(trigger, "ONBUILD trigger")?;
    let [i] = df.instructions.as_slice() else {
        return Err(format!(
            "the ONBUILD trigger {} is not one instruction",
            shorten(trigger)
        ));
    };
    let name = i.keyword.to_ascii_uppercase();
    if !KEYWORDS.contains(&i.keyword.as_str()) || i.keyword == "from" {
        return Err(format!(
            "ONBUILD {} is not an instruction a trigger can run",
            shorten(&name)
        ));
    }
    if i.keyword == "onbuild" {
        return Err("ONBUILD in a trigger is not allowed".into());
    }
    let flags = flag_values(&i.keyword, &i.flags)?;
    if flags.iter().any(|(f, _)| *f == "from") {
        return Err("ONBUILD COPY --from is not allowed".into());
    }
    let budget = Cell::new(EXPANSION_BUDGET);
    let lexers = |env: &'static dyn Fn(&str) -> Var| {
        ['\\', '`'].map(|escape| Lexer {
            escape,
            env,
            budget: &budget,
        })
    };
    match i.keyword.as_str() {
        "add" => check_add(i, &lexers(&unknown_var))?,
        "workdir" => {
            for env in [&empty_var as &'static dyn Fn(&str) -> Var, &root_var] {
                for lexer in lexers(env) {
                    in_proc("/", &lexer.word(&i.args)?.render(""), &i.args)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The Dockerfile with each base of `bases` whose reference `by_id` names an image id written as that id
/// instead: the instruction on its first line, the other lines it spanned left empty, so line numbers
/// stay. `Err` when the rewritten text would not read as the same instructions with the ids in place.
pub fn rewrite(text: &str, bases: &[Base], by_id: &[(usize, String)]) -> Result<String, String> {
    let df = parse::read(text, "Dockerfile")?;
    let escape = df.escape;
    // The lines as the parser counts them (its last, empty piece after a final line feed kept).
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut expected = df.instructions;
    for (base_index, id) in by_id {
        let ins = bases
            .get(*base_index)
            .and_then(|b| expected.get_mut(b.instruction))
            .ok_or("the Dockerfile's bases do not match it")?;
        match ins.keyword.as_str() {
            "from" => {
                let mut words: Vec<&str> = parse::fields(&ins.args).collect();
                let first = words.first_mut().ok_or("FROM names no image")?;
                *first = id;
                ins.args = words.join(" ");
            }
            "copy" => {
                let flag = ins
                    .flags
                    .iter_mut()
                    .find(|f| f.starts_with("--from="))
                    .ok_or("COPY has no --from")?;
                *flag = format!("--from={id}");
            }
            _ => return Err("the Dockerfile's bases do not match it".into()),
        }
        let mut one = ins.keyword.to_ascii_uppercase();
        for part in ins.flags.iter().chain(Some(&ins.args).filter(|a| !a.is_empty())) {
            one.push(' ');
            one.push_str(part);
        }
        // Continued to the end of the text, it stays so: the builder drops the escape character a line
        // ends in, which would otherwise be an argument's last character.
        if ins.unterminated {
            one.push(' ');
            one.push(escape);
        }
        for (k, line) in lines.iter_mut().enumerate().skip(ins.line).take(ins.lines) {
            *line = if k == ins.line {
                std::mem::take(&mut one)
            } else {
                String::new()
            };
        }
    }
    let out = lines.join("\n");
    let again = parse::read(&out, "rewritten Dockerfile")?.instructions;
    let same = again.len() == expected.len()
        && again.iter().zip(&expected).all(|(a, e)| {
            a.line == e.line && a.keyword == e.keyword && a.flags == e.flags && a.args == e.args
        });
    if !same {
        return Err("the Dockerfile does not read the same once its images are named by id".into());
    }
    Ok(out)
}
