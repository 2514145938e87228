//! The builder's expansion of one word (`ProcessWord` of buildkit's `frontend/dockerfile/shell/lex.go`
//! as moby v20.10.24 vendors it): quotes, the escape character, `$name`, `${name}`, `${name:-word}`,
//! `${name:+word}`, `${name?word}`, `${name:?word}`. A variable's value may be unknown to tug (the base
//! image's environment): the result keeps where. A name that runs into a character that is not ASCII
//! is refused (Go takes Unicode letters and digits into names).

use std::cell::Cell;

use crate::policy::gate::shorten;

/// How deep `${…}` may nest in a word.
const MAX_NESTING: usize = 16;

/// A part of an expanded word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seg {
    /// Text tug knows.
    Lit(String),
    /// A value tug does not know (any text, maybe none).
    Unknown,
}

/// An expanded word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Word(pub Vec<Seg>);

impl Word {
    /// A word of known text.
    pub fn lit(s: &str) -> Word {
        let mut w = Word::default();
        w.push_str(s);
        w
    }

    /// A word of unknown text.
    pub fn unknown() -> Word {
        Word(vec![Seg::Unknown])
    }

    fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(Seg::Lit(l)) => l.push_str(s),
            _ => self.0.push(Seg::Lit(s.to_owned())),
        }
    }

    fn push_char(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    fn append(&mut self, other: Word) {
        for seg in other.0 {
            match seg {
                Seg::Lit(s) => self.push_str(&s),
                Seg::Unknown if self.0.last() != Some(&Seg::Unknown) => self.0.push(Seg::Unknown),
                Seg::Unknown => {}
            }
        }
    }

    /// The text, when all of it is known.
    pub fn known(&self) -> Option<String> {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => Some(l.as_str()),
                Seg::Unknown => None,
            })
            .collect()
    }

    /// The text with each unknown part written as `unknown`.
    pub fn render(&self, unknown: &str) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.as_str(),
                Seg::Unknown => unknown,
            })
            .collect()
    }

    /// The known text before the first unknown part, and whether there is one.
    pub fn prefix(&self) -> (&str, bool) {
        match self.0.as_slice() {
            [] => ("", false),
            [Seg::Lit(l)] => (l, false),
            [Seg::Lit(l), ..] => (l, true),
            [Seg::Unknown, ..] => ("", true),
        }
    }

    /// Whether it is empty: `None` when that is unknown.
    fn empty(&self) -> Option<bool> {
        if self.0.iter().any(|s| matches!(s, Seg::Lit(_))) {
            Some(false)
        } else if self.0.is_empty() {
            Some(true)
        } else {
            None
        }
    }

    fn size(&self) -> usize {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.len(),
                Seg::Unknown => 1,
            })
            .sum()
    }
}

/// A variable's value.
pub(super) enum Var {
    /// Not set.
    Unset,
    /// Set (its text may be unknown).
    Set(Word),
}

/// Expands words with one escape character and one environment, within a budget of bytes.
pub(super) struct Lexer<'a> {
    /// The Dockerfile's escape character.
    pub escape: char,
    /// The value of a name.
    pub env: &'a dyn Fn(&str) -> Var,
    /// The bytes expansion may still produce.
    pub budget: &'a Cell<usize>,
}

type Chars<'s> = std::iter::Peekable<std::str::Chars<'s>>;

impl Lexer<'_> {
    /// `ProcessWord`: the word with quotes and escapes removed and variables expanded; `Err` where the
    /// builder fails (an unclosed quote or brace, a bad substitution, `${x?}` of an unset `x`) and where
    /// tug does not read it as Go does.
    pub fn word(&self, word: &str) -> Result<Word, String> {
        let mut it = word.chars().peekable();
        // text/scanner drops a byte-order mark at the start of its input.
        if it.peek() == Some(&'\u{feff}') {
            it.next();
        }
        self.stop_on(&mut it, None, 0)
            .map_err(|why| format!("{} cannot be read: {why}", shorten(word)))
    }

    fn spend(&self, w: &Word) -> Result<(), String> {
        let left = self
            .budget
            .get()
            .checked_sub(w.size())
            .ok_or("variables expand to too much text")?;
        self.budget.set(left);
        Ok(())
    }

    /// `processStopOn`.
    fn stop_on(&self, it: &mut Chars, stop: Option<char>, depth: usize) -> Result<Word, String> {
        if depth > MAX_NESTING {
            return Err(format!("variables nested more than {MAX_NESTING} deep"));
        }
        let mut out = Word::default();
        while let Some(&ch) = it.peek() {
            if Some(ch) == stop {
                it.next();
                return Ok(out);
            }
            let part = match ch {
                '\'' => Word::lit(&self.single(it)?),
                '"' => self.double(it, depth)?,
                '$' => self.dollar(it, depth)?,
                _ => {
                    it.next();
                    let c = if ch == self.escape {
                        match it.next() {
                            Some(c) => c,
                            None => break,
                        }
                    } else {
                        ch
                    };
                    let mut w = Word::default();
                    w.push_char(c);
                    w
                }
            };
            self.spend(&part)?;
            out.append(part);
        }
        match stop {
            Some(s) => Err(format!(
                "unexpected end of statement while looking for matching {s}"
            )),
            None => Ok(out),
        }
    }

    /// `processSingleQuote`: all up to the next `'`.
    fn single(&self, it: &mut Chars) -> Result<String, String> {
        it.next();
        let mut out = String::new();
        loop {
            match it.next() {
                None => {
                    return Err("unexpected end of statement while looking for matching single-quote".into())
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    /// `processDoubleQuote`: up to the next `"`, variables expanded, the escape character escaping only
    /// `"`, `$` and itself.
    fn double(&self, it: &mut Chars, depth: usize) -> Result<Word, String> {
        it.next();
        let mut out = Word::default();
        loop {
            match it.peek() {
                None => {
                    return Err("unexpected end of statement while looking for matching double-quote".into())
                }
                Some('"') => {
                    it.next();
                    return Ok(out);
                }
                Some('$') => {
                    let part = self.dollar(it, depth)?;
                    self.spend(&part)?;
                    out.append(part);
                }
                Some(_) => {
                    let mut c = it.next().unwrap_or_default();
                    if c == self.escape {
                        match it.peek() {
                            None => continue,
                            Some(&n) if n == '"' || n == '$' || n == self.escape => {
                                c = it.next().unwrap_or_default();
                            }
                            Some(_) => {}
                        }
                    }
                    out.push_char(c);
                }
            }
        }
    }

    /// `processDollar`.
    fn dollar(&self, it: &mut Chars, depth: usize) -> Result<Word, String> {
        it.next();
        if it.peek() != Some(&'{') {
            let name = self.name(it)?;
            if name.is_empty() {
                return Ok(Word::lit("$"));
            }
            return Ok(self.value(&name));
        }
        it.next();
        match it.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name(it)?;
        match it.next() {
            Some('}') => Ok(self.value(&name)),
            Some('?') => {
                let _ = self.stop_on(it, Some('}'), depth + 1)?;
                match (self.env)(&name) {
                    Var::Unset => Err(format!("{name}: is not allowed to be unset")),
                    Var::Set(w) => Ok(w),
                }
            }
            Some(':') => {
                let modifier = it.next();
                let word = self.stop_on(it, Some('}'), depth + 1)?;
                let var = (self.env)(&name);
                match (modifier, var) {
                    (Some('+'), Var::Unset) => Ok(Word::default()),
                    (Some('+'), Var::Set(v)) => Ok(match v.empty() {
                        Some(true) => Word::default(),
                        Some(false) => word,
                        None => Word::unknown(),
                    }),
                    (Some('-'), Var::Unset) => Ok(word),
                    (Some('-'), Var::Set(v)) => Ok(match v.empty() {
                        Some(true) => word,
                        Some(false) => v,
                        None => Word::unknown(),
                    }),
                    (Some('?'), Var::Unset) => Err(format!("{name}: is not allowed to be unset")),
                    (Some('?'), Var::Set(v)) if v.empty() == Some(true) => {
                        Err(format!("{name}: is not allowed to be empty"))
                    }
                    (Some('?'), Var::Set(v)) => Ok(v),
                    (m, _) => Err(format!(
                        "unsupported modifier ({}) in substitution",
                        m.map(String::from).unwrap_or_default()
                    )),
                }
            }
            _ => Err("missing ':' in substitution".into()),
        }
    }

    /// A name's value, unset as empty.
    fn value(&self, name: &str) -> Word {
        match (self.env)(name) {
            Var::Unset => Word::default(),
            Var::Set(w) => w,
        }
    }

    /// `processName`: digits, or one special parameter (`@*#?-$!`), or letters, digits and `_`.
    fn name(&self, it: &mut Chars) -> Result<String, String> {
        let not_ascii = |c: char| {
            format!(
                "a variable name runs into the character U+{:04X}, which tug does not read",
                c as u32
            )
        };
        let mut name = String::new();
        while let Some(&ch) = it.peek() {
            if !ch.is_ascii() {
                return Err(not_ascii(ch));
            }
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(&d) = it.peek() {
                    if !d.is_ascii() {
                        return Err(not_ascii(d));
                    }
                    if !d.is_ascii_digit() {
                        break;
                    }
                    name.push(d);
                    it.next();
                }
                return Ok(name);
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!') {
                it.next();
                return Ok(ch.to_string());
            }
            if !(ch.is_ascii_alphanumeric() || ch == '_') {
                break;
            }
            name.push(ch);
            it.next();
        }
        Ok(name)
    }
}
