//! `tug:engine/images`: image operations answered by one JSON document, and the build cache. An image is
//! read only when the run may see it (resolved to its full id), removed only when the run made it, and
//! named only with a name that names nothing yet or names what the run made (`policy/image_names.rs`).

use wasmtime::component::Resource;

use super::{
    bindings::{
        images::{
            self, BuildPruneOptions, CommitOptions, ListOptions, PruneOptions, RemoveOptions, SearchOptions,
            TagOptions,
        },
        types::Error as WitError,
    },
    call::HostEngine,
    error::HostResult,
    query::QueryExt,
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{image_names::image_path, Denial, Op},
};

/// `repo` and `tag` as one reference (the tag defaults to `latest`, as the daemon's).
pub(crate) fn repo_tag(repo: &str, tag: Option<&str>) -> String {
    let has_tag = repo.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/')) || repo.contains('@');
    match tag {
        Some(t) if !t.is_empty() => format!("{repo}:{t}"),
        _ if has_tag => repo.to_owned(),
        _ => format!("{repo}:latest"),
    }
}

impl images::Host for HostState {
    async fn build_cancel(&mut self, e: Resource<HostEngine>, id: String) -> HostResult<()> {
        self.engine_call(Op::BuildCancel, &e, move |_, call| {
            Box::pin(async move {
                // A build's id is one its client chose at random (plugins cannot name one for their own
                // classic builds): there is no other build a plugin could name.
                call.target(&id);
                call.unit(Request::post("/build/cancel").query("id", id)).await
            })
        })
        .await
    }

    async fn attestations(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        platform: Option<String>,
    ) -> HostResult<String> {
        self.engine_call(Op::ImageAttestations, &e, move |_, call| {
            Box::pin(async move {
                call.resolve(&name).await?;
                let version = call.client()?.api_version().await?;
                if version < crate::engine::ApiVersion::new(1, 55) {
                    return Err(WitError::ApiVersion(format!(
                        "image attestations need API ≥ 1.55; this engine speaks {version}"
                    )));
                }
                call.text(Request::get(image_path(&name, "/attestations")).opt("platform", platform))
                    .await
            })
        })
        .await
    }

    async fn list(&mut self, e: Resource<HostEngine>, o: ListOptions) -> HostResult<String> {
        self.engine_call(Op::ImageList, &e, move |_, call| {
            Box::pin(async move {
                let req = Request::get("/images/json")
                    .opt("all", o.all)
                    .filters(o.filters.as_ref())
                    .opt("digests", o.digests);
                let list = call.text(req).await?;
                if call.gate().sees_everything() {
                    return Ok(list);
                }
                let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&list)
                else {
                    return Ok("[]".to_owned());
                };
                let kept: Vec<serde_json::Value> = items
                    .into_iter()
                    .filter(|img| call.gate().lists_image(img))
                    .collect();
                Ok(serde_json::Value::Array(kept).to_string())
            })
        })
        .await
    }

    async fn inspect(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.engine_call(Op::ImageInspect, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&name).await?;
                call.text(Request::get(image_path(&id, "/json"))).await
            })
        })
        .await
    }

    async fn history(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<String> {
        self.engine_call(Op::ImageHistory, &e, move |_, call| {
            Box::pin(async move {
                let id = call.own(&name).await?;
                call.text(Request::get(image_path(&id, "/history"))).await
            })
        })
        .await
    }

    async fn tag(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        repo: String,
        o: TagOptions,
    ) -> HostResult<()> {
        self.engine_call(Op::ImageTag, &e, move |_, call| {
            Box::pin(async move {
                let source = call.resolve(&name).await?;
                let id = source.id.clone();
                // An image nobody names gets no name from a run that did not make it: taking the name off
                // again (the run's removal, its cleanup) would remove the image.
                if !call.gate().owns_image_labels(&source.doc["Config"]["Labels"])
                    && !call.gate().unrestricted()
                    && crate::policy::image_names::references(&source.doc) == 0
                {
                    return Err(Denial::field(
                        "images.name",
                        "name",
                        "the image has no name or digest: a plugin may not name an image nobody names",
                    )
                    .into());
                }
                let target = repo_tag(&repo, o.tag.as_deref());
                let client = call.client()?.clone();
                call.gate().image_target(&client, &target, "repo").await?;
                let req = Request::post(image_path(&id, "/tag"))
                    .query("repo", repo)
                    .opt("tag", o.tag);
                call.gate().intend_image(&target, &id);
                call.unit(req).await?;
                call.gate().confirm_image(&target, Some(&id));
                Ok(())
            })
        })
        .await
    }

    async fn remove(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        o: RemoveOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::ImageDelete, &e, move |_, call| {
            Box::pin(async move {
                let target = call.own(&name).await?;
                let req = Request::delete(image_path(&target, ""))
                    .opt("force", o.force)
                    .opt("noprune", o.noprune);
                call.text(req).await
            })
        })
        .await
    }

    async fn search(
        &mut self,
        e: Resource<HostEngine>,
        term: String,
        o: SearchOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::ImageSearch, &e, move |_, call| {
            Box::pin(async move {
                // The daemon searches the registry the term names (`evil.example/x`), else Docker Hub.
                call.target(&term);
                call.gate().registry(&term, "term")?;
                let req = Request::get("/images/search")
                    .query("term", term)
                    .opt("limit", o.limit)
                    .filters(o.filters.as_ref());
                call.text(req).await
            })
        })
        .await
    }

    async fn prune(&mut self, e: Resource<HostEngine>, o: PruneOptions) -> HostResult<String> {
        self.engine_call(Op::ImagePrune, &e, move |_, call| {
            Box::pin(async move {
                let filters = call.gate().scope_filters(o.filters);
                call.text(Request::post("/images/prune").filters(filters.as_ref()))
                    .await
            })
        })
        .await
    }

    async fn commit(
        &mut self,
        e: Resource<HostEngine>,
        container: String,
        config: Option<String>,
        o: CommitOptions,
    ) -> HostResult<String> {
        self.engine_call(Op::ImageCommit, &e, move |_, call| {
            Box::pin(async move {
                let resolved = call.resolve(&container).await?;
                let client = call.client()?.clone();
                let target = o.repo.as_deref().map(|r| repo_tag(r, o.tag.as_deref()));
                if let Some(target) = &target {
                    call.gate().image_target(&client, target, "repo").await?;
                }
                let body = call.gate().commit_config(config.as_deref())?;
                // `changes` apply after the config: checked, and the run's labels last.
                let changes = crate::policy::rules::image_changes(
                    call.gate(),
                    o.changes.as_deref().unwrap_or_default(),
                )?;
                let req = Request::post("/commit")
                    .query("container", &resolved.id)
                    .opt("repo", o.repo)
                    .opt("tag", o.tag)
                    .opt("comment", o.comment)
                    .opt("author", o.author)
                    .opt("pause", o.pause)
                    .each("changes", Some(&changes))
                    .json_bytes(body);
                let answer = call.text(req).await?;
                if let Some(target) = target {
                    let id = serde_json::from_str::<serde_json::Value>(&answer)
                        .ok()
                        .and_then(|v| v["Id"].as_str().map(str::to_owned));
                    call.gate().confirm_image(&target, id.as_deref());
                }
                Ok(answer)
            })
        })
        .await
    }

    async fn build_prune(&mut self, e: Resource<HostEngine>, o: BuildPruneOptions) -> HostResult<String> {
        self.engine_call(Op::BuildPrune, &e, move |_, call| {
            Box::pin(async move {
                if !call.gate().sees_everything() {
                    return Err(Denial::call(
                        "build.prune",
                        "the build cache is shared and carries no owner: pruning it needs [visibility] all",
                    )
                    .into());
                }
                let req = Request::post("/build/prune")
                    .opt("keep-storage", o.keep_storage)
                    .opt("all", o.all)
                    .filters(o.filters.as_ref());
                call.text(req).await
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_of_repo_and_tag() {
        assert_eq!(repo_tag("app", None), "app:latest");
        assert_eq!(repo_tag("app", Some("1")), "app:1");
        assert_eq!(repo_tag("app:2", None), "app:2");
        assert_eq!(repo_tag("127.0.0.1:5000/app", None), "127.0.0.1:5000/app:latest");
        assert_eq!(repo_tag("127.0.0.1:5000/app:3", None), "127.0.0.1:5000/app:3");
    }
}
