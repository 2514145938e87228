//! JSON paths for error messages: `HostConfig.Mounts[0].BindOptions`, `Labels["com.example.x"]`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Keys longer than this (in characters) are cut in paths and messages.
const MAX_KEY_CHARS: usize = 64;

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone)]
pub(super) enum Seg<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

/// Renders a path: plain keys joined with `.`, other keys as `["..."]` (JSON-escaped), indices as `[n]`.
pub(super) fn render(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Seg::Key(k) if is_plain(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push('[');
                out.push_str(&quoted(k));
                out.push(']');
            }
        }
    }
    out
}

/// A key shown in a message: as is when it is printable and short, else JSON-quoted and/or cut.
pub(super) fn show_key(key: &str) -> Cow<'_, str> {
    if key.chars().all(|c| !c.is_control() && c != '`') && key.chars().count() <= MAX_KEY_CHARS {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(quoted(key))
    }
}

/// Letters, digits, `_` and `-` (any script, so `HoſtConfig` shows as sent), not empty, not too long.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// JSON string literal of the key, cut after [`MAX_KEY_CHARS`] characters with `…` inside the quotes.
fn quoted(key: &str) -> String {
    match key.char_indices().nth(MAX_KEY_CHARS) {
        None => serde_json::to_string(key).expect("a str serializes"),
        Some((cut, _)) => {
            let mut s = serde_json::to_string(&key[..cut]).expect("a str serializes");
            s.insert(s.len() - 1, '…');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg<'_> {
        Seg::Key(Cow::Borrowed(k))
    }

    #[test]
    fn renders_paths() {
        assert_eq!(render(&[]), "");
        assert_eq!(
            render(&[key("HostConfig"), key("Binds"), Seg::Index(0)]),
            "HostConfig.Binds[0]"
        );
        assert_eq!(render(&[Seg::Index(2), key("Name")]), "[2].Name");
        assert_eq!(
            render(&[
                key("HostConfig"),
                key("PortBindings"),
                key("80/tcp"),
                Seg::Index(0)
            ]),
            r#"HostConfig.PortBindings["80/tcp"][0]"#
        );
        assert_eq!(render(&[key("Labels"), key("a.b")]), r#"Labels["a.b"]"#);
        assert_eq!(render(&[key("HoſtConfig")]), "HoſtConfig");
        assert_eq!(render(&[key("")]), r#"[""]"#);
        let long = "x".repeat(100);
        assert_eq!(render(&[key(&long)]), format!("[\"{}…\"]", "x".repeat(64)));
    }

    #[test]
    fn shows_keys() {
        assert_eq!(show_key("Privileged"), "Privileged");
        assert_eq!(show_key("a`b"), r#""a`b""#);
        assert_eq!(show_key("a\nb"), r#""a\nb""#);
    }
}
