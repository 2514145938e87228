//! Progress bars (indicatif) for the pulls, pushes, builds, loads and archive transfers a plugin starts,
//! drawn by the host from what passes through their streams — on stderr, and only when it is a terminal.
//! The plugin's own output (stdout and stderr) is written between redraws (the output writer suspends
//! the bars for each write), so a bar never lands inside it.

use std::{collections::BTreeMap, time::Duration};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    host::observe::StreamTap,
    policy::{audit::Masker, operations::Op},
};

/// A byte transfer gets a bar once this much has passed (a small copy would only flash one).
const SHOW_AFTER: u64 = 1 << 20;

/// The bars of a run.
pub struct Progress {
    bars: MultiProgress,
    masker: Masker,
}

impl Progress {
    /// Bars on stderr, redrawn at most 10 times a second; the plugin's output is written between redraws.
    /// What the bars show of a stream's text is masked with `masker`.
    pub fn new(masker: Masker) -> Self {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let shared = bars.clone();
        crate::host::output::suspend_with(Some(Box::new(move |write: &mut dyn FnMut()| {
            shared.suspend(write)
        })));
        Progress { bars, masker }
    }

    /// A tap drawing the progress of a stream of `op`, if it is one worth a bar.
    pub fn tap(&self, op: Op, target: Option<&str>) -> Option<Box<dyn StreamTap>> {
        let (label, kind) = match op {
            Op::ImageCreate => ("pull", Kind::Layers),
            Op::ImagePush => ("push", Kind::Layers),
            Op::PluginPull | Op::PluginUpgrade => ("plugin pull", Kind::Layers),
            Op::PluginPush => ("plugin push", Kind::Layers),
            Op::ImageBuild => ("build", Kind::Steps),
            Op::ImageLoad => ("load", Kind::Layers),
            Op::ContainerArchive => ("copy from", Kind::Bytes),
            Op::PutContainerArchive => ("copy to", Kind::Bytes),
            Op::ContainerExport => ("export", Kind::Bytes),
            Op::ImageGet | Op::ImageGetAll => ("save", Kind::Bytes),
            _ => return None,
        };
        let prefix = match target {
            Some(t) if !t.is_empty() => format!("{label} {}", short(t, 40)),
            _ => label.to_owned(),
        };
        Some(Box::new(Bar {
            bars: self.bars.clone(),
            masker: self.masker.clone(),
            bar: None,
            prefix,
            kind,
            layers: BTreeMap::new(),
            bytes: 0,
        }))
    }

    /// The run ended: what is still drawn stays as it is.
    pub fn finish(&self) {
        crate::host::output::suspend_with(None);
    }
}

/// What a bar counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Bytes of layers, from `progressDetail` (pull, push, load).
    Layers,
    /// A build's steps (`Step 2/5 : …`).
    Steps,
    /// Bytes through a stream (archives, exports, saves).
    Bytes,
}

struct Bar {
    bars: MultiProgress,
    bar: Option<ProgressBar>,
    prefix: String,
    masker: Masker,
    kind: Kind,
    /// Per layer: bytes done and in all.
    layers: BTreeMap<String, (u64, u64)>,
    bytes: u64,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// At most `n` characters of `s`, with an ellipsis when cut; control characters (a build's output may
/// hold terminal escapes) become spaces, so a bar's line stays one line of plain text.
fn short(s: &str, n: usize) -> String {
    let plain: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let s = plain.trim();
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl Bar {
    fn bar(&mut self) -> &ProgressBar {
        let (bars, prefix, kind) = (&self.bars, &self.prefix, self.kind);
        self.bar.get_or_insert_with(|| {
            let bar = bars.add(ProgressBar::new(0));
            bar.set_style(style(match kind {
                Kind::Layers => "{prefix:.bold} [{bar:30}] {bytes}/{total_bytes} {wide_msg}",
                Kind::Steps => "{prefix:.bold} [{bar:30}] step {pos}/{len} {wide_msg}",
                Kind::Bytes => "{prefix:.bold} {bytes} ({binary_bytes_per_sec}) {wide_msg}",
            }));
            bar.set_prefix(prefix.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        })
    }
}

impl StreamTap for Bar {
    fn document(&mut self, doc: &[u8]) {
        // Secrets masked in the document's text, before anything of it reaches the terminal.
        let text = String::from_utf8_lossy(doc);
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&self.masker.mask(&text)) else {
            return;
        };
        if let Some(error) = v["error"].as_str() {
            let message = format!("error: {}", short(error, 80));
            self.bar().set_message(message);
            return;
        }
        if let Some(text) = v["stream"].as_str() {
            // A build's output: `Step N/M : INSTRUCTION` moves the bar.
            let line = text.trim();
            if let Some((n, m)) = line
                .strip_prefix("Step ")
                .and_then(|s| s.split_once(' '))
                .and_then(|(nm, _)| nm.split_once('/'))
                .and_then(|(n, m)| Some((n.parse::<u64>().ok()?, m.parse::<u64>().ok()?)))
            {
                let bar = self.bar();
                bar.set_length(m);
                bar.set_position(n);
            }
            if !line.is_empty() {
                let message = short(line, 80);
                self.bar().set_message(message);
            }
            return;
        }
        let Some(status) = v["status"].as_str().filter(|_| self.kind == Kind::Layers) else {
            return;
        };
        let id = v["id"].as_str().unwrap_or_default();
        let detail = &v["progressDetail"];
        if let (Some(current), Some(total)) = (detail["current"].as_u64(), detail["total"].as_u64()) {
            self.layers.insert(id.to_owned(), (current.min(total), total));
        } else if matches!(
            status,
            "Pull complete" | "Already exists" | "Pushed" | "Layer already exists" | "Download complete"
        ) {
            if let Some(layer) = self.layers.get_mut(id) {
                layer.0 = layer.1;
            }
        }
        let (done, all) = self.layers.values().fold((0, 0), |(d, a), (c, t)| (d + c, a + t));
        let message = if id.is_empty() {
            short(status, 80)
        } else {
            format!("{} {}", short(id, 12), short(status, 60))
        };
        let bar = self.bar();
        bar.set_length(all);
        bar.set_position(done);
        bar.set_message(message);
    }

    fn bytes(&mut self, n: u64) {
        // A request body (a build's context, an image tar to load) is counted in bytes, whatever the
        // answer's progress is counted in.
        self.kind = Kind::Bytes;
        self.bytes += n;
        if self.bar.is_some() || self.bytes >= SHOW_AFTER {
            let total = self.bytes;
            self.bar().set_position(total);
        }
    }
}

impl Drop for Bar {
    /// The stream ended: the bar becomes a line of its own above the bars still running, so it stays
    /// in the terminal's scrollback (a finished bar would vanish at the next redraw).
    fn drop(&mut self) {
        let Some(bar) = self.bar.take() else {
            return;
        };
        let secs = bar.elapsed().as_secs_f64();
        let (pos, len) = (bar.position(), bar.length().unwrap_or(0));
        let done = match self.kind {
            Kind::Layers if len > 0 => format!("{} of {}", HumanBytes(pos), HumanBytes(len)),
            Kind::Layers => String::new(),
            Kind::Steps => format!("step {pos}/{len}"),
            Kind::Bytes => format!("{}", HumanBytes(self.bytes)),
        };
        let message = short(&bar.message(), 60);
        bar.finish_and_clear();
        self.bars.remove(&bar);
        let line = [
            format!("✓ {}", self.prefix),
            done,
            message,
            format!("({secs:.1} s)"),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let _ = self.bars.println(line);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_one_line_of_plain_text() {
        assert_eq!(super::short("\u{1b}[2Jstep\r\nnext\t", 80), "[2Jstep  next");
        assert_eq!(super::short("abcdef", 3), "abc…");
    }
}
