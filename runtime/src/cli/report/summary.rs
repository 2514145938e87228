//! A run's summary: calls by area, denials, objects made and removed, duration — as a short table on
//! stderr (`--summary`), as Markdown appended to `$GITHUB_STEP_SUMMARY`, and as GitHub Actions
//! annotations (`::warning` for each denial as it happens, `::error` when the run fails).

use std::{fmt::Write as _, io::Write as _, path::Path, time::Duration};

use super::{Outcome, Tally};
use crate::policy::audit::Masker;

/// What the summary is made of.
pub struct RunSummary<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// The run id.
    pub run: &'a str,
    /// How it ended.
    pub outcome: Outcome,
    /// The plugin's own exit code, when it exited.
    pub plugin_code: Option<i32>,
    /// How long it took.
    pub elapsed: Duration,
    /// What the report counted.
    pub tally: &'a Tally,
    /// What tug said about the end, if anything.
    pub message: Option<&'a str>,
    /// The run's secrets.
    pub masker: &'a Masker,
}

/// Escapes the message of a workflow command (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property of a workflow command (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The `::warning` annotation of a denial.
pub fn denial_annotation(
    plugin: &str,
    operation: &str,
    rule: &str,
    field: Option<&str>,
    reason: &str,
) -> String {
    let field = field.map(|f| format!(" ({f})")).unwrap_or_default();
    format!(
        "::warning title={}::{}",
        escape_property(&format!("tug: plugin {plugin}: {operation} denied")),
        escape_data(&format!("{operation} denied by rule {rule}{field}: {reason}")),
    )
}

impl RunSummary<'_> {
    /// A one-line verdict: `plugin hello: success (exit 0) in 1.2 s`.
    fn verdict(&self) -> String {
        let code = self.outcome.code();
        let plugin_code = match (self.outcome, self.plugin_code) {
            (Outcome::Exited(_), _) | (_, None) => String::new(),
            (_, Some(c)) => format!(", plugin exit {c}"),
        };
        format!(
            "plugin {}: {} (exit {code}{plugin_code}) in {:.1} s",
            self.plugin,
            self.outcome.name(),
            self.elapsed.as_secs_f64()
        )
    }

    /// The annotations of the run's end: an `::error` when it did not succeed.
    pub fn annotations(&self) -> Vec<String> {
        if self.outcome == Outcome::Exited(0) {
            return Vec::new();
        }
        let mut text = self.verdict();
        if let Some(m) = self.message {
            write!(text, ": {m}").ok();
        }
        if let Some(d) = self.tally.denials.first() {
            write!(
                text,
                "; first denial: {} by rule {}: {}",
                d.operation, d.rule, d.reason
            )
            .ok();
        }
        vec![format!(
            "::error title={}::{}",
            escape_property(&format!("tug: plugin {} {}", self.plugin, self.outcome.name())),
            escape_data(&self.masker.mask(&text)),
        )]
    }

    /// The short table `--summary` prints on stderr.
    pub fn table(&self) -> String {
        let mut out = format!("tug: {} — run {}\n", self.verdict(), self.run);
        if !self.tally.areas.is_empty() {
            writeln!(
                out,
                "  {:<14} {:>6} {:>7} {:>7}",
                "area", "ok", "failed", "denied"
            )
            .ok();
            for (area, c) in &self.tally.areas {
                writeln!(out, "  {area:<14} {:>6} {:>7} {:>7}", c.ok, c.failed, c.denied).ok();
            }
        }
        if !self.tally.objects.is_empty() {
            writeln!(
                out,
                "  {:<14} {:>6} {:>7} {:>7} {:>5}",
                "objects", "made", "removed", "cleaned", "left"
            )
            .ok();
            for (kind, c) in &self.tally.objects {
                writeln!(
                    out,
                    "  {kind:<14} {:>6} {:>7} {:>7} {:>5}",
                    c.created, c.removed, c.cleaned, c.left
                )
                .ok();
            }
        }
        for d in &self.tally.denials {
            let field = d.field.as_deref().map(|f| format!(" {f}")).unwrap_or_default();
            writeln!(out, "  denied: {} — {}{field}: {}", d.operation, d.rule, d.reason).ok();
        }
        if self.tally.denied as usize > self.tally.denials.len() {
            writeln!(out, "  … {} denials in all", self.tally.denied).ok();
        }
        self.masker.mask(out.trim_end()).into_owned()
    }

    /// The Markdown for `$GITHUB_STEP_SUMMARY`.
    pub fn markdown(&self) -> String {
        let cell = |s: &str| markdown_cell(self.masker, s);
        let icon = if self.outcome == Outcome::Exited(0) {
            "✅"
        } else {
            "❌"
        };
        let mut out = format!("### {icon} tug: {}\n\n", cell(&self.verdict()));
        writeln!(out, "Run `{}`.", self.run).ok();
        if let Some(m) = self.message {
            writeln!(out, "\n> {}", cell(m)).ok();
        }
        if !self.tally.areas.is_empty() {
            out.push_str("\n| area | ok | failed | denied |\n|---|---:|---:|---:|\n");
            for (area, c) in &self.tally.areas {
                writeln!(out, "| {area} | {} | {} | {} |", c.ok, c.failed, c.denied).ok();
            }
        }
        if !self.tally.denials.is_empty() {
            out.push_str("\n**Denied**\n\n| operation | rule | field | reason |\n|---|---|---|---|\n");
            for d in &self.tally.denials {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    d.operation,
                    cell(&d.rule),
                    d.field.as_deref().map(cell).unwrap_or_default(),
                    cell(&d.reason)
                )
                .ok();
            }
        }
        if !self.tally.objects.is_empty() {
            out.push_str(
                "\n| objects | made | removed by the plugin | removed by tug | left |\n|---|---:|---:|---:|---:|\n",
            );
            for (kind, c) in &self.tally.objects {
                writeln!(
                    out,
                    "| {kind} | {} | {} | {} | {} |",
                    c.created, c.removed, c.cleaned, c.left
                )
                .ok();
            }
        }
        out.push('\n');
        out
    }
}

/// The longest text of the plugin's a summary cell holds (GitHub drops a step summary over 1 MiB).
const CELL_MAX: usize = 300;

/// Text for a Markdown table cell: masked first (an escaped secret would no longer match), control
/// characters as spaces (a CR or LF would end the table and let the text write Markdown of its own), `|`
/// and backticks escaped, at most [`CELL_MAX`] characters.
fn markdown_cell(masker: &Masker, s: &str) -> String {
    let masked = masker.mask(s);
    let mut out = String::with_capacity(masked.len().min(CELL_MAX * 2));
    for (i, c) in masked.chars().enumerate() {
        if i == CELL_MAX {
            out.push('…');
            break;
        }
        match c {
            '|' | '`' | '<' | '>' | '[' | ']' | '*' | '_' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Appends `text` to the file at `path` (GitHub's step summary).
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::report::{AreaCount, DenialLine, ObjectCount};

    #[test]
    fn annotations_escape_and_the_summary_counts() {
        let mut tally = Tally {
            calls: 3,
            denied: 1,
            ..Default::default()
        };
        tally.areas.insert(
            "containers",
            AreaCount {
                ok: 2,
                failed: 0,
                denied: 1,
            },
        );
        tally.objects.insert(
            "container",
            ObjectCount {
                created: 1,
                removed: 0,
                cleaned: 1,
                left: 0,
            },
        );
        tally.denials.push(DenialLine {
            operation: "ContainerCreate".into(),
            rule: "containers.binds".into(),
            field: Some("HostConfig.Binds[0]".into()),
            reason: "bind mount of /etc, with s3cret".into(),
        });
        let masker = Masker::new(["s3cret"]);
        let s = RunSummary {
            plugin: "p",
            run: "r1",
            outcome: Outcome::Denied,
            plugin_code: Some(1),
            elapsed: Duration::from_millis(1500),
            tally: &tally,
            message: Some("50%\nsure"),
            masker: &masker,
        };
        let a = s.annotations();
        assert_eq!(a.len(), 1);
        assert!(
            a[0].starts_with(
                "::error title=tug%3A plugin p denied::plugin p: denied (exit 77, plugin exit 1)"
            ),
            "{}",
            a[0]
        );
        assert!(
            a[0].contains("50%25%0Asure") && a[0].contains("***") && !a[0].contains("s3cret"),
            "{}",
            a[0]
        );
        let md = s.markdown();
        assert!(
            md.contains("| containers | 2 | 0 | 1 |") && md.contains("| container | 1 | 0 | 1 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| ContainerCreate | containers.binds | HostConfig.Binds\\[0\\] |"),
            "{md}"
        );
        let t = s.table();
        assert!(
            t.contains("denied: ContainerCreate — containers.binds HostConfig.Binds[0]"),
            "{t}"
        );
        // The plugin's text cannot end the table or write Markdown of its own, and is cut.
        let c = markdown_cell(&masker, &format!("a\r\n### b|`c` s3cret {}", "x".repeat(400)));
        assert!(
            c.starts_with("a  \\#\\#\\# b\\|\\`c\\` \\*\\*\\* x") && c.ends_with('…'),
            "{c}"
        );
        // CELL_MAX characters of the text, the 9 backslashes of its escapes, the ellipsis.
        assert_eq!(c.chars().count(), CELL_MAX + 9 + 1, "{c}");
        let w = denial_annotation("p", "ContainerCreate", "containers.binds", None, "no, really: no");
        assert_eq!(
            w,
            "::warning title=tug%3A plugin p%3A ContainerCreate denied::ContainerCreate denied by rule containers.binds: no, really: no"
        );
    }
}
