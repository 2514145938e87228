//! The rules of the bodies and options that make images: a build's options and a commit's or import's
//! `changes` (re-exported by `policy/rules.rs`).

use super::{denial::Denial, gate::Gate};

/// A build's options that reach beyond the uploaded context: no remote context (the daemon would fetch a
/// URL), no network mode but the default, bridge or none, and the classic builder only.
pub fn build_options(
    gate: &Gate,
    remote: Option<&str>,
    network_mode: Option<&str>,
    version: Option<&str>,
) -> Result<(), Denial> {
    if gate.policy.unrestricted {
        return Ok(());
    }
    if remote.is_some() {
        return Err(Denial::field(
            "build.remote",
            "remote",
            "the daemon may not fetch a build context from a URL; upload it",
        ));
    }
    if let Some(mode) = network_mode.filter(|m| !matches!(*m, "default" | "bridge" | "none")) {
        return Err(Denial::field(
            "build.network-mode",
            "networkmode",
            format!(
                "build network mode {} is not allowed (default, bridge, none)",
                super::gate::shorten(mode)
            ),
        ));
    }
    if version.is_some_and(|v| v != "1") {
        return Err(Denial::field(
            "build.builder",
            "version",
            "only the classic builder (version 1) is available to plugins",
        ));
    }
    Ok(())
}

/// An import's or a commit's `changes` (Dockerfile instructions applied to the image's config): no
/// `ONBUILD` (a trigger runs in builds tug checks no more), no `LABEL` that could name a `tug.*` label —
/// the builder expands quotes, escapes and variables in keys, so those are refused too — and, last, the
/// run's own labels as one `LABEL`, which wins over anything before it. Returns the changes to send.
pub fn image_changes(gate: &Gate, changes: &[String]) -> Result<Vec<String>, Denial> {
    if gate.policy.unrestricted {
        return Ok(changes.to_vec());
    }
    for (i, change) in changes.iter().enumerate() {
        let field = format!("changes[{i}]");
        // The daemon joins the changes with newlines into one Dockerfile: one instruction each, none
        // continued onto the next (which would swallow the run's own LABEL).
        if change.contains(['\n', '\r']) || change.trim_end_matches([' ', '\t']).ends_with(['\\', '`']) {
            return Err(Denial::field(
                "images.changes",
                field,
                "a change is one instruction: no line breaks, no continuation at its end",
            ));
        }
        let trimmed = change.trim_start();
        let keyword = trimmed.split(char::is_whitespace).next().unwrap_or_default();
        if !keyword.is_ascii() || keyword.eq_ignore_ascii_case("onbuild") {
            return Err(Denial::field(
                "images.changes",
                field,
                "ONBUILD triggers (and instructions tug cannot read) may not be set",
            ));
        }
        if keyword.eq_ignore_ascii_case("label")
            && (change.to_ascii_lowercase().contains(super::gate::RESERVED_PREFIX)
                || change.contains(['"', '\'', '\\', '$', '`']))
        {
            return Err(Denial::field(
                "labels.reserved",
                field,
                "labels starting with `tug.` are tug's own; a LABEL change may not quote, escape or expand",
            ));
        }
    }
    let mut out = changes.to_vec();
    out.push(format!(
        "LABEL {}",
        gate.image_stamp()
            .iter()
            .map(|(k, v)| format!(
                "{}={}",
                serde_json::to_string(k).unwrap_or_default(),
                serde_json::to_string(v).unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    Ok(out)
}
