//! `tug:engine/images`: image operations answered by one JSON document, and build-cache prune.

use wasmtime::component::Resource;

use super::{
    bindings::images::{
        self, BuildPruneOptions, CommitOptions, ListOptions, PruneOptions, RemoveOptions, SearchOptions,
        TagOptions,
    },
    containers::own,
    error::{check, HostResult},
    query::QueryExt,
    resources::HostEngine,
    state::HostState,
};
use crate::engine::Request;

/// `/images/{name}{rest}`. Image names keep their slashes (`registry:5000/repo/name:tag`): the daemon
/// routes `/images/{name:.*}/json`.
pub(crate) fn image_path(name: &str, rest: &str) -> String {
    let encoded: Vec<String> = name.split('/').map(crate::engine::segment).collect();
    format!("/images/{}{rest}", encoded.join("/"))
}

impl HostState {
    /// Checks that an image (by reference or id) may be read: the policy allows one of its tags, or the
    /// run made it.
    pub(crate) async fn image_visible(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        name: &str,
    ) -> HostResult<()> {
        check!(self, self.allow(operation));
        if self.gate.image(name, "name").is_ok() {
            return Ok(Ok(()));
        }
        let client = self.client(e)?;
        let v: serde_json::Value = check!(self, client.json(Request::get(image_path(name, "/json"))).await);
        let tags = v["RepoTags"].as_array().cloned().unwrap_or_default();
        let allowed = tags
            .iter()
            .filter_map(|t| t.as_str())
            .any(|t| self.gate.image(t, "name").is_ok());
        if allowed || self.gate.owns_labels(&v["Config"]["Labels"]) {
            return Ok(Ok(()));
        }
        check!(self, self.gate.image(name, "name"));
        Ok(Ok(()))
    }

    /// Checks that the run may remove or overwrite an image: it made it (built, pulled, tagged, loaded or
    /// committed it during this run).
    pub(crate) async fn image_owned(
        &mut self,
        e: &Resource<HostEngine>,
        operation: &'static str,
        name: &str,
    ) -> HostResult<()> {
        check!(self, self.allow(operation));
        if self.gate.policy.unrestricted || self.images.contains(name) {
            return Ok(Ok(()));
        }
        let client = self.client(e)?;
        let v: serde_json::Value = check!(self, client.json(Request::get(image_path(name, "/json"))).await);
        if self.gate.owns_labels(&v["Config"]["Labels"]) {
            return Ok(Ok(()));
        }
        check!(
            self,
            Err(crate::policy::Denial::field(
                "ownership",
                "name",
                format!("image {name} was not made by this run; a plugin may only remove its own images"),
            ))
        );
        Ok(Ok(()))
    }
}

/// Unwraps an image check inside a host function.
macro_rules! image_check {
    ($self:ident . $check:ident($e:expr, $op:expr, $name:expr)) => {
        if let Err(err) = $self.$check(&$e, $op, &$name).await? {
            return Ok(Err(err));
        }
    };
}
pub(crate) use image_check;

/// Keeps the entries of an image list the policy lets the plugin see.
fn visible_images(state: &HostState, list: String) -> String {
    if state.gate.policy.unrestricted || state.gate.policy.visibility.all {
        return list;
    }
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&list) else {
        return list;
    };
    let kept: Vec<serde_json::Value> = items
        .into_iter()
        .filter(|img| {
            let tags = img["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str());
            let mut tags = tags;
            tags.any(|t| state.gate.image(t, "").is_ok() || state.images.contains(t))
                || state.gate.owns_labels(&img["Labels"])
        })
        .collect();
    serde_json::Value::Array(kept).to_string()
}

impl images::Host for HostState {
    async fn build_cancel(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        check!(self, self.allow("BuildCancel"));
        self.json_unit(&e, Request::post("/build/cancel").query("id", id))
            .await
    }

    async fn attestations(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        platform: Option<String>,
    ) -> HostResult<String> {
        image_check!(self.image_visible(e, "ImageAttestations", name));
        let client = self.client(&e)?;
        let version = check!(self, client.api_version().await);
        if version < crate::engine::ApiVersion::new(1, 55) {
            check!(
                self,
                Err(crate::engine::Error::VersionTooNew {
                    message: format!("image attestations need API ≥ 1.55; this engine speaks {version}"),
                })
            );
        }
        self.json_text(
            &e,
            Request::get(image_path(&name, "/attestations")).opt("platform", platform),
        )
        .await
    }

    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        check!(self, self.allow("ImageList"));
        let req = Request::get("/images/json")
            .opt("all", o.all)
            .filters(o.filters.as_ref())
            .opt("digests", o.digests);
        let list = check!(self, self.json_text(&e, req).await?);
        Ok(Ok(visible_images(self, list)))
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        image_check!(self.image_visible(e, "ImageInspect", name));
        self.json_text(&e, Request::get(image_path(&name, "/json"))).await
    }

    async fn history(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        image_check!(self.image_visible(e, "ImageHistory", name));
        self.json_text(&e, Request::get(image_path(&name, "/history")))
            .await
    }

    async fn tag(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        repo: String,
        o: TagOptions,
    ) -> HostResult<()> {
        let req = Request::post(image_path(&name, "/tag"))
            .query("repo", repo)
            .opt("tag", o.tag);
        self.json_unit(&e, req).await
    }

    async fn remove(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        o: RemoveOptions,
    ) -> HostResult<String> {
        image_check!(self.image_owned(e, "ImageDelete", name));
        let req = Request::delete(image_path(&name, ""))
            .opt("force", o.force)
            .opt("noprune", o.noprune);
        self.json_text(&e, req).await
    }

    async fn search(
        &mut self,
        e: Resource<HostEngine>,
        term: String,
        o: SearchOptions,
    ) -> HostResult<String> {
        check!(self, self.allow("ImageSearch"));
        check!(self, self.gate.registry("docker.io/search", "term"));
        let req = Request::get("/images/search")
            .query("term", term)
            .opt("limit", o.limit)
            .filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.json_text(&e, Request::post("/images/prune").filters(o.filters.as_ref()))
            .await
    }

    async fn commit(
        &mut self,
        e: Resource<HostEngine>,
        container: String,
        config: Option<String>,
        o: CommitOptions,
    ) -> HostResult<String> {
        let container = own!(self, e, "ImageCommit", container);
        if let Some(repo) = &o.repo {
            check!(
                self,
                self.gate.image(
                    &format!("{repo}:{}", o.tag.as_deref().unwrap_or("latest")),
                    "repo"
                )
            );
        }
        let body = check!(self, self.gate.commit_config(config.as_deref()));
        let target = o
            .repo
            .clone()
            .map(|r| format!("{r}:{}", o.tag.as_deref().unwrap_or("latest")));
        let req = Request::post("/commit")
            .query("container", container)
            .opt("repo", o.repo)
            .opt("tag", o.tag)
            .opt("comment", o.comment)
            .opt("author", o.author)
            .opt("pause", o.pause)
            .each("changes", o.changes.as_ref())
            .json_bytes(body);
        let answer = check!(self, self.json_text(&e, req).await?);
        self.images.extend(target);
        Ok(Ok(answer))
    }

    async fn build_prune(&mut self, e: Resource<HostEngine>, o: BuildPruneOptions) -> HostResult<String> {
        check!(self, self.allow("BuildPrune"));
        let req = Request::post("/build/prune")
            .opt("keep-storage", o.keep_storage)
            .opt("all", o.all)
            .filters(o.filters.as_ref());
        self.json_text(&e, req).await
    }
}
