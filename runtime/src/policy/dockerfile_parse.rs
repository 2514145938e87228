//! The reading of a Dockerfile's text that the daemon's classic builder does before it runs anything:
//! buildkit's `frontend/dockerfile/parser` as moby v20.10.24 vendors it (buildkit eeb7b65ab7d6:
//! `parser.go` `Parse`, `line_parsers.go`, `split_command.go`), after `readAndParseDockerfile` of moby's
//! `builder/remotecontext/detect.go`. A Dockerfile that this parser rejects makes a 20.10 daemon keep the
//! build's whole context on its disk (`withDockerfileFromContext` returns without closing it), so each
//! of its errors is refused here first, naming the line.
//!
//! Where the Go code's reading turns on Unicode or on Go's regexp classes (`unicode.IsSpace`, `\s`,
//! `[\t\v\f\r ]`, spaces tested byte by byte in UTF-8), the text is refused instead of mirrored: the
//! only separators accepted are space, tab, line feed and a carriage return right before a line feed.
//! In what is left, every one of those Go tests means "space or tab", and the reading below is the
//! builder's, step for step.

use crate::policy::gate::shorten;

/// The longest line the builder reads: its `bufio.Scanner` holds a line and its line feed in 64 KiB
/// (`bufio.MaxScanTokenSize`), so a line of more bytes (a carriage return before the line feed counted)
/// fails the parse ("dockerfile line greater than max allowed size of 65535").
pub(super) const MAX_LINE: usize = 65_535;

/// The deepest JSON tug reads in an instruction's arguments (Go's decoder takes 10000 levels).
const MAX_JSON_DEPTH: usize = 512;

/// The two separators left once `check_chars` has refused the others.
const SPACES: [char; 2] = [' ', '\t'];

/// One instruction as the parser makes it of one line or of several joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The first line, counted from 0.
    pub line: usize,
    /// The lines it spans (comments and empty lines inside a continued instruction included).
    pub lines: usize,
    /// The keyword, lower case.
    pub keyword: String,
    /// What follows the keyword and the spaces after it (flags included), continuation lines joined.
    pub rest: String,
    /// The leading `--name=value` words, as the builder extracts them.
    pub flags: Vec<String>,
    /// The arguments after the flags, trimmed.
    pub args: String,
    /// The joined line as the builder keeps it (`Node.Original`; an `ONBUILD` trigger is cut from it).
    pub original: String,
    /// Whether the text ends while the instruction is still continued (its last line ends in the escape
    /// character, which the builder drops).
    pub unterminated: bool,
}

/// A Dockerfile as the parser reads it.
pub(super) struct Dockerfile {
    /// The escape character (`\`, or `` ` `` by a directive).
    pub escape: char,
    /// The instructions, in order.
    pub instructions: Vec<Instruction>,
}

/// The parser directives (`# escape=`, `# syntax=`) at the top of the text.
struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

impl Directives {
    /// `possibleParserDirective`: until the first line that is not a directive of a known key, a line
    /// matching `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` sets a directive; a key seen before is an
    /// error, and an escape other than `\` or `` ` ``.
    fn check(&mut self, token: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = directive(token) else {
            self.done = true;
            return Ok(());
        };
        if key != "escape" && key != "syntax" {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        if key == "escape" {
            self.escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(format!(
                        "invalid escape token {} does not match ` or \\",
                        shorten(other)
                    ))
                }
            };
        }
        self.seen.push(key);
        Ok(())
    }
}

/// The key (lower case) and value of a line the directive regexp matches. Its `(.+?)\s*$` after a
/// greedy `\s*` makes a value of only spaces the last of them.
fn directive(token: &str) -> Option<(String, String)> {
    let rest = token.strip_prefix('#')?.trim_start_matches(SPACES);
    let key_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let key = &rest[..key_len];
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let after = rest[key_len..].trim_start_matches(SPACES).strip_prefix('=')?;
    if after.is_empty() {
        return None;
    }
    let trimmed = after.trim_matches(SPACES);
    let value = if trimmed.is_empty() {
        &after[after.len() - 1..]
    } else {
        trimmed
    };
    Some((key.to_ascii_lowercase(), value.to_owned()))
}

/// The name of a character `check_chars` refuses.
fn char_name(c: char) -> &'static str {
    match c {
        '\0' => "NUL",
        '\r' => "carriage return not before a line feed",
        '\u{b}' => "vertical tab",
        '\u{c}' => "form feed",
        '\u{85}' => "next line",
        '\u{a0}' => "no-break space",
        '\u{feff}' => "byte-order mark",
        c if c.is_control() => "control character",
        _ => "Unicode space",
    }
}

/// Refuses the characters whose reading turns on Go's Unicode tables or regexp classes: controls other
/// than tab, spaces other than space and tab, and a byte-order mark anywhere but the text's start.
fn check_chars(line: &str, n: usize, what: &str, first: bool) -> Result<(), String> {
    for (i, c) in line.char_indices() {
        let bad = (c.is_control() && c != '\t')
            || (c.is_whitespace() && c != ' ' && c != '\t')
            || (c == '\u{feff}' && !(first && i == 0));
        if bad {
            return Err(format!(
                "{what} line {n}: character U+{:04X} ({}) is not accepted",
                c as u32,
                char_name(c)
            ));
        }
    }
    Ok(())
}

/// `trimContinuationCharacter`: a line matching `([^E])E[ \t]*$|^E[ \t]*$` (`E` the escape character)
/// continues, and loses the escape and what follows it. The text and whether the instruction ends.
fn continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches(SPACES);
    if let Some(before) = trimmed.strip_suffix(escape) {
        match before.chars().next_back() {
            None => return (String::new(), false),
            Some(c) if c != escape => return (before.to_owned(), false),
            Some(_) => {}
        }
    }
    (line.to_owned(), true)
}

/// Reads `text` as the builder's parser does; `what` names it in errors ("Dockerfile", "ONBUILD
/// trigger"). `Err` for each text the parser rejects, and for the characters `check_chars` refuses.
pub(super) fn read(text: &str, what: &str) -> Result<Dockerfile, String> {
    // readAndParseDockerfile: an empty file is an error before the parser sees it.
    if text.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    // bufio.ScanLines: lines end at a line feed, one carriage return before it is dropped, and a last
    // line without a line feed counts unless it is empty.
    let mut raw: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        raw.pop();
    }
    let mut lines = Vec::with_capacity(raw.len());
    for (i, l) in raw.iter().enumerate() {
        if l.len() > MAX_LINE {
            return Err(format!(
                "{what} line {}: longer than {MAX_LINE} bytes, the builder's limit",
                i + 1
            ));
        }
        let l = l.strip_suffix('\r').unwrap_or(l);
        check_chars(l, i + 1, what, i == 0)?;
        // The first line loses a byte-order mark.
        lines.push(if i == 0 {
            l.strip_prefix('\u{feff}').unwrap_or(l)
        } else {
            l
        });
    }
    let mut dirs = Directives {
        escape: '\\',
        done: false,
        seen: Vec::new(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let at = |n: usize| format!("{what} line {}", n + 1);
        // The first line of an instruction loses its leading spaces; a comment is dropped.
        let token = lines[i].trim_start_matches(SPACES);
        dirs.check(token).map_err(|why| format!("{}: {why}", at(i)))?;
        i += 1;
        let content = if token.starts_with('#') { "" } else { token };
        let (mut line, mut end) = continuation(content, dirs.escape);
        if end && line.is_empty() {
            continue;
        }
        // Continuation lines keep their leading spaces; comments and empty lines among them are dropped.
        while !end && i < lines.len() {
            let next = lines[i];
            dirs.check(next).map_err(|why| format!("{}: {why}", at(i)))?;
            i += 1;
            let trimmed = next.trim_start_matches(SPACES);
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let (more, e) = continuation(next, dirs.escape);
            line.push_str(&more);
            end = e;
        }
        let node = node(&line, dirs.escape).map_err(|why| format!("{}: {why}", at(start)))?;
        out.push(Instruction {
            line: start,
            lines: i - start,
            keyword: node.keyword,
            rest: node.rest.to_owned(),
            flags: node.flags,
            args: node.args.to_owned(),
            original: line.clone(),
            unterminated: !end,
        });
    }
    if out.is_empty() {
        return Err(format!("the {what} has no instructions"));
    }
    Ok(Dockerfile {
        escape: dirs.escape,
        instructions: out,
    })
}

/// One line split as `splitCommand` splits it.
pub(super) struct Node<'a> {
    /// The keyword, lower case.
    pub keyword: String,
    /// What follows the keyword and the spaces after it.
    pub rest: &'a str,
    /// The flags `extractBuilderFlags` takes off the front of `rest`.
    pub flags: Vec<String>,
    /// The rest after the flags, trimmed.
    pub args: &'a str,
}

/// `splitCommand`: the keyword (up to the first space or tab), lower-cased (a keyword that is not ASCII
/// is refused: Go lower-cases Unicode, `ONBUİLD` is `onbuild`), and the flags and arguments after it.
pub(super) fn split(line: &str) -> Result<Node<'_>, String> {
    let trimmed = line.trim_matches(SPACES);
    let (cmd, rest) = match trimmed.find(SPACES) {
        Some(p) => (&trimmed[..p], trimmed[p..].trim_start_matches(SPACES)),
        None => (trimmed, ""),
    };
    if !cmd.is_ascii() {
        return Err(format!("instruction {} is not ASCII", shorten(cmd)));
    }
    let (flags, args) = flags(rest)?;
    Ok(Node {
        keyword: cmd.to_ascii_lowercase(),
        rest,
        flags,
        args: args.trim_matches(SPACES),
    })
}

/// `newNodeFromLine`: the line split, and the parse function of its keyword run (an `ONBUILD`'s
/// instruction in turn); `Err` for what a parse function rejects.
fn node(line: &str, escape: char) -> Result<Node<'_>, String> {
    let top = split(line)?;
    let (mut keyword, mut args) = (top.keyword.clone(), top.args);
    loop {
        parse_errors(&keyword, args, escape)?;
        if keyword != "onbuild" || args.is_empty() {
            return Ok(top);
        }
        let sub = split(args)?;
        (keyword, args) = (sub.keyword, sub.args);
    }
}

/// The errors of the dispatch table's parse functions: `parseNameVal` (ENV, LABEL), `parseJSON` through
/// `parseMaybeJSON` and `parseMaybeJSONToList` (an array that is not all strings), `parseHealthConfig`.
/// The others (`parseNameOrNameVal`, `parseString`, `parseStringsWhitespaceDelimited`, `parseIgnore`
/// for unknown keywords) take anything.
fn parse_errors(keyword: &str, args: &str, escape: char) -> Result<(), String> {
    match keyword {
        "env" | "label" => name_val(args, escape, keyword),
        "add" | "copy" | "volume" | "cmd" | "entrypoint" | "run" | "shell" => json(args).map(|_| ()),
        "healthcheck" => health_command(args).map_or(Ok(()), |cmd| json(cmd).map(|_| ())),
        _ => Ok(()),
    }
}

/// `parseNameVal`: words of `name value` (the first without `=`: at least two fields) or all
/// `name=value`.
fn name_val(args: &str, escape: char, keyword: &str) -> Result<(), String> {
    let words = words(args, escape);
    let Some(first) = words.first() else {
        return Ok(());
    };
    if !first.contains('=') {
        if !args.contains(SPACES) {
            return Err(format!(
                "{} must have two arguments",
                keyword.to_ascii_uppercase()
            ));
        }
        return Ok(());
    }
    match words.iter().find(|w| !w.contains('=')) {
        Some(w) => Err(format!(
            "Syntax error - can't find = in {}. Must be of the form: name=value",
            shorten(w)
        )),
        None => Ok(()),
    }
}

/// `parseHealthConfig` splits its type from the command byte by byte (`unicode.IsSpace(rune(byte))`, so
/// the bytes 0x85 and 0xA0 inside a UTF-8 character count as spaces): the command, where it starts with
/// `[` (anything else is no JSON to it).
fn health_command(args: &str) -> Option<&str> {
    let space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ' | 0x85 | 0xa0);
    let bytes = args.as_bytes();
    let sep = bytes.iter().position(|&b| space(b)).unwrap_or(bytes.len());
    if sep == 0 {
        return None;
    }
    let next = bytes[sep..]
        .iter()
        .position(|&b| !space(b))
        .map_or(bytes.len(), |p| sep + p);
    (bytes.get(next) == Some(&b'[')).then(|| &args[next..])
}

/// `parseWords`: words split at spaces, quotes (`'`, `"`) keeping spaces inside a word, the escape
/// character keeping the next character (and itself) in the word; quotes and escapes are kept.
pub(super) fn words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    loop {
        let end = pos == chars.len();
        if phase == Phase::Spaces {
            if end {
                break;
            }
            if SPACES.contains(&chars[pos]) {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if end {
            if blank_ok || !word.is_empty() {
                words.push(word);
            }
            break;
        }
        let mut ch = chars[pos];
        if phase == Phase::Word {
            if SPACES.contains(&ch) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // In a quote.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// `parseStringsWhitespaceDelimited` (FROM, EXPOSE; ADD, COPY and VOLUME when not JSON): the fields
/// between runs of spaces and tabs.
pub(super) fn fields(args: &str) -> impl Iterator<Item = &str> {
    args.split(SPACES).filter(|f| !f.is_empty())
}

/// `extractBuilderFlags`: the leading words that start with `--` (a lone `--` ends them) and the rest.
/// It reads byte by byte, takes the bytes 0x85 and 0xA0 inside a UTF-8 character for spaces, and takes
/// quotes and backslashes out of a word: a flag with any of those is refused.
fn flags(rest: &str) -> Result<(Vec<String>, &str), String> {
    let space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ' | 0x85 | 0xa0);
    let bytes = rest.as_bytes();
    let mut flags = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && space(bytes[pos]) {
            pos += 1;
        }
        if pos == bytes.len() {
            return Ok((flags, ""));
        }
        if !(bytes[pos] == b'-' && bytes.get(pos + 1) == Some(&b'-')) {
            return Ok((flags, rest.get(pos..).unwrap_or_default()));
        }
        let start = pos;
        while pos < bytes.len() && !space(bytes[pos]) {
            pos += 1;
        }
        let word = &bytes[start..pos];
        if word
            .iter()
            .any(|&b| b >= 0x80 || matches!(b, b'"' | b'\'' | b'\\' | b'`'))
        {
            let shown = String::from_utf8_lossy(word);
            return Err(format!(
                "the flag {} is quoted, escaped or not ASCII",
                shorten(&shown)
            ));
        }
        if word == b"--" {
            return Ok((flags, rest.get(pos..).unwrap_or_default()));
        }
        flags.push(String::from_utf8_lossy(word).into_owned());
    }
}

/// What `parseJSON` makes of an instruction's arguments.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Json {
    /// Not JSON (no `[`, or not well-formed): the arguments are read as text.
    Not,
    /// A JSON array of strings (what follows the array is ignored, as Go's decoder does).
    Strings(Vec<String>),
}

/// `parseJSON`: arguments that start with `[` are decoded as the first JSON value of the text. `Err` for
/// a well-formed array with an element that is not a string (the parse error), and for JSON tug does
/// not read as Go does: nesting deeper than 512, a number of 1e308 or more (Go's decoder fails on what
/// overflows a float64).
pub(super) fn json(args: &str) -> Result<Json, String> {
    let s = args.trim_start_matches(SPACES);
    if !s.starts_with('[') {
        return Ok(Json::Not);
    }
    match scan_json(s.as_bytes())? {
        None => Ok(Json::Not),
        Some(elements) => elements
            .into_iter()
            .collect::<Option<Vec<String>>>()
            .map(Json::Strings)
            .ok_or_else(|| {
                "when using JSON array syntax, arrays must be comprised of strings only".to_owned()
            }),
    }
}

/// The first JSON value of `b` (which starts with `[`): `None` when it is not well-formed, else the top
/// array's elements (a string's value, or `None` for any other element).
fn scan_json(b: &[u8]) -> Result<Option<Vec<Option<String>>>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Want {
        Value,
        ValueOrClose,
        CommaOrClose,
        Key,
        KeyOrClose,
        Colon,
    }
    let mut stack: Vec<u8> = Vec::new();
    let mut elements = Vec::new();
    let mut want = Want::Value;
    let mut pos = 0;
    loop {
        while pos < b.len() && matches!(b[pos], b' ' | b'\t' | b'\n' | b'\r') {
            pos += 1;
        }
        let Some(&c) = b.get(pos) else {
            return Ok(None);
        };
        // Whether a value (a scalar, or a container closing) is complete at `pos`.
        let mut complete = false;
        match want {
            Want::Value | Want::ValueOrClose => match c {
                b']' if want == Want::ValueOrClose => {
                    stack.pop();
                    pos += 1;
                    complete = true;
                }
                b'[' | b'{' => {
                    if stack.len() == 1 {
                        elements.push(None);
                    }
                    stack.push(c);
                    if stack.len() > MAX_JSON_DEPTH {
                        return Err(format!("JSON nested more than {MAX_JSON_DEPTH} deep"));
                    }
                    pos += 1;
                    want = if c == b'[' {
                        Want::ValueOrClose
                    } else {
                        Want::KeyOrClose
                    };
                }
                b'"' => {
                    let Some((s, end)) = json_string(b, pos) else {
                        return Ok(None);
                    };
                    if stack.len() == 1 {
                        elements.push(Some(s));
                    }
                    pos = end;
                    complete = true;
                }
                b'-' | b'0'..=b'9' => {
                    let Some(end) = json_number(b, pos)? else {
                        return Ok(None);
                    };
                    if stack.len() == 1 {
                        elements.push(None);
                    }
                    pos = end;
                    complete = true;
                }
                _ => {
                    let Some(lit) = [&b"true"[..], b"false", b"null"]
                        .into_iter()
                        .find(|l| b[pos..].starts_with(l))
                    else {
                        return Ok(None);
                    };
                    if stack.len() == 1 {
                        elements.push(None);
                    }
                    pos += lit.len();
                    complete = true;
                }
            },
            Want::CommaOrClose => match (c, stack.last()) {
                (b',', Some(b'[')) => {
                    want = Want::Value;
                    pos += 1;
                }
                (b',', Some(_)) => {
                    want = Want::Key;
                    pos += 1;
                }
                (b']', Some(b'[')) | (b'}', Some(b'{')) => {
                    stack.pop();
                    pos += 1;
                    complete = true;
                }
                _ => return Ok(None),
            },
            Want::Key | Want::KeyOrClose => match c {
                b'}' if want == Want::KeyOrClose => {
                    stack.pop();
                    pos += 1;
                    complete = true;
                }
                b'"' => {
                    let Some((_, end)) = json_string(b, pos) else {
                        return Ok(None);
                    };
                    pos = end;
                    want = Want::Colon;
                }
                _ => return Ok(None),
            },
            Want::Colon => {
                if c != b':' {
                    return Ok(None);
                }
                pos += 1;
                want = Want::Value;
            }
        }
        if complete {
            if stack.is_empty() {
                return Ok(Some(elements));
            }
            want = Want::CommaOrClose;
        }
    }
}

/// A JSON string at `b[start]` (a `"`): its value, decoded as Go's `unquote` does (a lone surrogate
/// escape is U+FFFD), and the position after it; `None` when it is not well-formed.
fn json_string(b: &[u8], start: usize) -> Option<(String, usize)> {
    let hex4 = |at: usize| -> Option<u32> {
        let h = b.get(at..at + 4)?;
        h.iter()
            .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
    };
    let mut out = String::new();
    let mut pos = start + 1;
    loop {
        let run = b[pos..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .map(|p| pos + p)?;
        // The run holds no quote, backslash or control byte: it ends at an ASCII byte, on a boundary.
        out.push_str(std::str::from_utf8(&b[pos..run]).ok()?);
        pos = run;
        match b[pos] {
            b'"' => return Some((out, pos + 1)),
            b'\\' => {
                let c = *b.get(pos + 1)?;
                pos += 2;
                let simple = match c {
                    b'"' => Some('"'),
                    b'\\' => Some('\\'),
                    b'/' => Some('/'),
                    b'b' => Some('\u{8}'),
                    b'f' => Some('\u{c}'),
                    b'n' => Some('\n'),
                    b'r' => Some('\r'),
                    b't' => Some('\t'),
                    b'u' => None,
                    _ => return None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let unit = hex4(pos)?;
                pos += 4;
                if (0xd800..0xe000).contains(&unit) {
                    let low = (b.get(pos..pos + 2) == Some(b"\\u"))
                        .then(|| hex4(pos + 2))
                        .flatten()
                        .filter(|l| (0xdc00..0xe000).contains(l) && unit < 0xdc00);
                    match low {
                        Some(low) => {
                            let c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                            out.push(char::from_u32(c)?);
                            pos += 6;
                        }
                        None => out.push('\u{fffd}'),
                    }
                } else {
                    out.push(char::from_u32(unit)?);
                }
            }
            _ => return None,
        }
    }
}

/// A JSON number at `b[start]`: the position after it (`None` when it is not well-formed); `Err` for
/// one of 1e308 or more, which tug does not read as Go does.
fn json_number(b: &[u8], start: usize) -> Result<Option<usize>, String> {
    let digits = |mut p: usize| {
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        p
    };
    let mut pos = start;
    if b[pos] == b'-' {
        pos += 1;
    }
    match b.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(pos),
        _ => return Ok(None),
    }
    if b.get(pos) == Some(&b'.') {
        let end = digits(pos + 1);
        if end == pos + 1 {
            return Ok(None);
        }
        pos = end;
    }
    if matches!(b.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(b.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        let end = digits(pos);
        if end == pos {
            return Ok(None);
        }
        pos = end;
    }
    let text = std::str::from_utf8(&b[start..pos]).unwrap_or("0");
    match text.parse::<f64>() {
        Ok(v) if v.abs() < 1e308 => Ok(Some(pos)),
        _ => Err(format!("the JSON number {} is out of range", shorten(text))),
    }
}
