//! A build context (`image-streams.build`) that passes through tug on its way to the engine
//! (`host/tar_filter.rs`): the Dockerfile is held back, the images it uses are checked
//! (`Gate::build_bases`: allowed by the policy; pulled by tug, by digest and from an allowed registry,
//! where the builder would pull them), and it is sent with each image named by its id (the builder is
//! told not to pull). A Dockerfile that is a link, or missing, is refused.

use std::sync::Arc;

use super::{
    bindings::types::Error as WitError,
    call::Call,
    resources::HostUpload,
    tar_filter::{self, clean, Held, Rewrite},
};
use crate::{
    engine::{Client, Upload},
    policy::{gate::shorten, Denial, Gate},
};

/// The largest Dockerfile tug reads.
const MAX_DOCKERFILE: u64 = 1 << 20;

/// What the filter checks a build's Dockerfile with.
pub(crate) struct Bases {
    /// The run's gate.
    pub gate: Arc<Gate>,
    /// The engine (to look the images up, and pull them).
    pub client: Client,
    /// The build's `dockerfile` option.
    pub dockerfile: Option<String>,
    /// The build's `buildargs`.
    pub build_args: Vec<(String, String)>,
    /// The build's `pull` option.
    pub pull: bool,
    /// `X-Registry-Auth` values by registry, from the build's registry configs.
    pub auths: Vec<(String, http::HeaderValue)>,
}

/// Starts the filter between the plugin's context and the engine's build.
pub(crate) fn filtered(up: Upload, call: Call, bases: Bases) -> HostUpload {
    let paths = match &bases.dockerfile {
        // The daemon reads the path given, cleaned, relative to the context's root.
        Some(p) => vec![clean(p)],
        // Or `Dockerfile`, and `dockerfile` when there is none.
        None => vec!["Dockerfile".to_owned(), "dockerfile".to_owned()],
    };
    tar_filter::start(up, call, Build { bases, paths })
}

struct Build {
    bases: Bases,
    paths: Vec<String>,
}

impl Rewrite for Build {
    fn what(&self) -> &'static str {
        "build"
    }

    fn hold(&self, name: &str, _size: u64) -> bool {
        self.paths.iter().any(|p| p == name)
    }

    fn limit(&self) -> u64 {
        MAX_DOCKERFILE * self.paths.len() as u64
    }

    fn gate(&self) -> Arc<Gate> {
        self.bases.gate.clone()
    }

    fn link(&self, path: &str) -> Result<(), WitError> {
        if self.paths.iter().any(|p| p == path) {
            return Err(Denial::field(
                "build.images",
                "Dockerfile",
                format!("the Dockerfile {} is a link: send the file itself", shorten(path)),
            )
            .into());
        }
        Ok(())
    }

    fn finish(&mut self, held: Vec<Held>, rt: &tokio::runtime::Handle) -> Result<Vec<Held>, WitError> {
        // The one the daemon will read: the first of the paths the context has, and of several entries
        // of that path the last (unpacking the tar, the daemon writes each over the one before).
        let Some(mut file) = self
            .paths
            .iter()
            .find_map(|p| held.iter().rposition(|h| clean(&h.path.to_string_lossy()) == *p))
            .and_then(|i| held.into_iter().nth(i))
        else {
            return Err(WitError::InvalidArgument(format!(
                "build: the context has no {}",
                self.paths.join(" or ")
            )));
        };
        let text = String::from_utf8(file.data)
            .map_err(|_| WitError::InvalidArgument("build: the Dockerfile is not UTF-8".into()))?;
        let b = &self.bases;
        let checked = rt
            .block_on(
                b.gate
                    .build_bases(&b.client, &text, &b.build_args, b.pull, &b.auths),
            )
            .map_err(WitError::from)?;
        file.data = checked.into_bytes();
        Ok(vec![file])
    }
}
