//! Image names: which images a run may read, which names it may write, and which it made.
//!
//! Every image write that gives an image a name — tag, build `t`, commit and import `repo`, the
//! `RepoTags` of a load, the registry interface's load — may only create a name, or move one the run
//! made itself: a name that exists and is not the run's is never moved (`images.overwrite`). A name joins
//! the run's set only once the engine confirmed it (with the image id it names), so a write dropped half
//! way adds nothing; removals are allowed for images the run made (their labels) and for the names in the
//! set that still name the image they named.

use serde_json::Value;

use super::{
    denial::{Denial, GateError},
    gate::{id_like, normalize, shorten, split_tag, Gate},
    ownership::{bounded, Resolved},
};
use crate::engine::{Client, Error, Request};

/// `/images/{name}{rest}`. Image names keep their slashes (`registry:5000/repo/name:tag`): the daemon
/// routes `/images/{name:.*}/json`.
pub fn image_path(name: &str, rest: &str) -> String {
    let encoded: Vec<String> = name.split('/').map(crate::engine::segment).collect();
    format!("/images/{}{rest}", encoded.join("/"))
}

impl Gate {
    /// Records that the engine confirmed a name the run gave an image (the image id it names, when tug
    /// knows it).
    pub fn confirm_image(&self, name: &str, id: Option<&str>) {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(normalize(name), id.map(str::to_owned));
    }

    /// Records, before the request goes, that the run is giving the image `id` the name `name`: if the
    /// run ends before the engine's answer, cleanup still takes the name off (when it names `id`).
    pub fn intend_image(&self, name: &str, id: &str) {
        self.intended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(normalize(name), id.to_owned());
    }

    /// What cleanup takes off: the names the run made ([`Gate::made_images`]) and those it was about to
    /// make when it ended ([`Gate::intend_image`]), each with the id it names or was to name.
    pub fn cleanup_names(&self) -> Vec<(String, Option<String>)> {
        let mut names: std::collections::BTreeMap<String, Option<String>> = self
            .intended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        names.extend(self.made_images());
        names.into_iter().collect()
    }

    /// The names the run made, with the id each named (for cleanup: names the run put on images it did
    /// not make are taken off again).
    pub fn made_images(&self) -> Vec<(String, Option<String>)> {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the run made the name `name` for the image `id`: it is in the run's set and names the same
    /// image (a name whose image tug could not read is not the run's to move or remove).
    fn made(&self, name: &str, id: &str) -> bool {
        match self
            .images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&normalize(name))
        {
            Some(Some(made)) => made == id,
            Some(None) | None => false,
        }
    }

    /// Whether an image of a list (`images.list`, `system.data-usage`) is one the run may see: the policy
    /// allows one of its names, the run made it, or its labels are the run's.
    pub fn lists_image(&self, img: &Value) -> bool {
        if self.sees_everything() {
            return true;
        }
        let id = img["Id"].as_str().unwrap_or_default();
        names_of(img).any(|t| self.image(t, "").is_ok() || self.made(t, id))
            || self.owns_image_labels(&img["Labels"])
    }

    /// Resolves an image by reference or id and checks that the run may read it: the policy allows the
    /// reference or one of the image's names, or the run made it.
    pub async fn image_visible(
        &self,
        client: &Client,
        name: &str,
        field: &str,
    ) -> Result<Resolved, GateError> {
        bounded(name, field)?;
        let v: Value = client.json(Request::get(image_path(name, "/json"))).await?;
        let id = v["Id"].as_str().unwrap_or_default().to_owned();
        if self.image(name, field).is_ok()
            || self.owns_image_labels(&v["Config"]["Labels"])
            || self.made(name, &id)
            || names_of(&v).any(|t| self.image(t, field).is_ok() || self.made(t, &id))
        {
            return Ok(Resolved { id, doc: v });
        }
        Err(self.image(name, field).unwrap_err().into())
    }

    /// Resolves an image the run wants to remove and checks that the run made it: its labels are the
    /// run's, or the name is one the run gave it. Returns what to forward: the full id when the plugin
    /// named the image by id (or when the name is its only one), the name otherwise (untagging).
    pub async fn image_owned(&self, client: &Client, name: &str, field: &str) -> Result<Resolved, GateError> {
        bounded(name, field)?;
        let v: Value = client.json(Request::get(image_path(name, "/json"))).await?;
        let id = v["Id"].as_str().unwrap_or_default().to_owned();
        let by_name = names_of(&v).any(|t| normalize(t) == normalize(name));
        if self.unrestricted() || self.owns_image_labels(&v["Config"]["Labels"]) {
            // The run's own image: by the name given (untagging), or by id when that is all it has.
            let forward = if by_name && untag_keeps_image(&v, name) {
                name.to_owned()
            } else {
                id
            };
            return Ok(Resolved { id: forward, doc: v });
        }
        if by_name && self.made(name, &id) {
            // A name the run gave an image it did not make: only the name goes, never the image.
            if !untag_keeps_image(&v, name) {
                return Err(Denial::field(
                    "ownership",
                    field,
                    format!(
                        "{} is the last name of an image this run did not make: removing it would remove the \
                         image (with the digests of its repository)",
                        shorten(name)
                    ),
                )
                .into());
            }
            return Ok(Resolved {
                id: name.to_owned(),
                doc: v,
            });
        }
        Err(Denial::field(
            "ownership",
            field,
            format!(
                "image {} was not made by this run; a plugin may only remove its own images",
                shorten(name)
            ),
        )
        .into())
    }

    /// Checks a name the run is about to give an image (`field` says where it came from): the policy
    /// allows it, it does not read as an image id, and it names no image yet, or one the run made. The
    /// engine moves an existing name silently; tug never lets a plugin move another's.
    pub async fn image_target(&self, client: &Client, reference: &str, field: &str) -> Result<(), GateError> {
        bounded(reference, field)?;
        self.image(reference, field)?;
        if self.unrestricted() {
            return Ok(());
        }
        let normalized = normalize(reference);
        if let Some(bare) = normalized
            .strip_prefix("docker.io/library/")
            .map(|n| split_tag(n).0)
        {
            if id_like(bare) {
                return Err(Denial::field(
                    "images.name",
                    field,
                    format!(
                        "the name {} is {} hex digits: `docker run {bare}` would find it before the image \
                         whose id starts with them",
                        shorten(reference),
                        bare.len()
                    ),
                )
                .into());
            }
        }
        match client
            .json::<Value>(Request::get(image_path(reference, "/json")))
            .await
        {
            Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
            Ok(v) => {
                let id = v["Id"].as_str().unwrap_or_default();
                let names_it = names_of(&v).any(|t| normalize(t) == normalized);
                if !names_it || self.owns_image_labels(&v["Config"]["Labels"]) || self.made(reference, id) {
                    // Not a name of that image (the reference matched an id), or the run's own.
                    return if names_it {
                        Ok(())
                    } else {
                        Err(Denial::field(
                            "images.name",
                            field,
                            format!("{} reads as the id of an existing image", shorten(reference)),
                        )
                        .into())
                    };
                }
                Err(Denial::field(
                    "images.overwrite",
                    field,
                    format!(
                        "image name {} already names an image this run did not make; a plugin may not \
                         move another's name (choose another name, or remove it outside tug)",
                        shorten(reference)
                    ),
                )
                .into())
            }
        }
    }
}

/// How a pull goes, once the gate checked it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullPlan {
    /// The name the pull creates: the run's once the pull ends well.
    pub new_name: Option<String>,
    /// Pull this instead (`repo@digest`): the name is another's, and names that digest already.
    pub by_digest: Option<String>,
}

impl Gate {
    /// Checks a pull of `image` (`tag` apart, as the API takes it) before it reaches the engine, and
    /// returns how to pull it (the name it will create, if the run is to own it; a digest to pull by
    /// instead). A pull moves a local name to whatever
    /// the registry has under it now: unless the policy is unrestricted, every tag at once is refused,
    /// and a name that exists and is not the run's may only be pulled when the registry's digest for it is
    /// one its image already has (the pull then moves nothing).
    pub async fn image_pull(
        &self,
        client: &Client,
        image: &str,
        tag: Option<&str>,
    ) -> Result<PullPlan, GateError> {
        let by_digest = image.contains('@') || tag.is_some_and(|t| t.starts_with("sha256:"));
        let reference = match tag {
            Some(t) if !image.contains('@') => format!("{image}{}{t}", if by_digest { "@" } else { ":" }),
            _ => image.to_owned(),
        };
        bounded(&reference, "from-image")?;
        if self.unrestricted() || by_digest {
            return Ok(PullPlan::default());
        }
        if tag.is_none() && split_tag(image).1.is_none() {
            return Err(Denial::field(
                "images.pull-all",
                "tag",
                "pulling every tag of a repository could move names others use; give a tag",
            )
            .into());
        }
        let local = match client
            .json::<Value>(Request::get(image_path(&reference, "/json")))
            .await
        {
            Err(Error::NotFound { .. }) => {
                return Ok(PullPlan {
                    new_name: Some(reference),
                    by_digest: None,
                })
            }
            Err(e) => return Err(e.into()),
            Ok(v) => v,
        };
        let id = local["Id"].as_str().unwrap_or_default();
        if self.owns_image_labels(&local["Config"]["Labels"]) || self.made(&reference, id) {
            return Ok(PullPlan::default());
        }
        let remote: Value = client
            .json(Request::get(format!("/distribution/{}/json", {
                let encoded: Vec<String> = reference.split('/').map(crate::engine::segment).collect();
                encoded.join("/")
            })))
            .await?;
        let digest = remote["Descriptor"]["digest"].as_str().unwrap_or_default();
        let repo = repository(&reference);
        let has = local["RepoDigests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|d| d.split_once('@'))
            .any(|(r, d)| d == digest && repository(r) == repo);
        if !digest.is_empty() && has {
            // Pulled by that digest, so that nothing the registry gets meanwhile can move the name.
            return Ok(PullPlan {
                new_name: None,
                by_digest: Some(format!("{repo}@{digest}")),
            });
        }
        Err(Denial::field(
            "images.overwrite",
            "from-image",
            format!(
                "{} names a local image this run did not make, and the registry has another image under                  it: the pull would move the name (pull it under a digest, or a name of the run's own)",
                shorten(&reference)
            ),
        )
        .into())
    }
}

/// The `X-Registry-Auth` value for each registry a build's plugin gave credentials for (its registry
/// configs), keyed as the plugin keyed them (`127.0.0.1:5001`, `https://index.docker.io/v1/`).
pub type RegistryAuths = [(String, http::HeaderValue)];

impl Gate {
    /// Checks the images a build's Dockerfile uses (`FROM`, `COPY --from`; `build_args` expanded): each
    /// one the policy allows, its `ONBUILD` triggers included. The builder never pulls: a base that is
    /// missing, or every base when the build asks to `pull`, is pulled by tug first, from a registry the
    /// policy allows and by its digest (so the pull moves no local name, where the builder's would move
    /// another's to the registry's image). Returns the Dockerfile with every base named by its id.
    pub async fn build_bases(
        &self,
        client: &Client,
        dockerfile: &str,
        build_args: &[(String, String)],
        pull: bool,
        auths: &RegistryAuths,
    ) -> Result<String, GateError> {
        let bases = super::dockerfile::bases(dockerfile, build_args)
            .map_err(|why| Denial::field("build.images", "Dockerfile", why))?;
        let instructions = super::dockerfile::instructions(dockerfile)
            .map_err(|why| Denial::field("build.images", "Dockerfile", why))?;
        let mut by_id = Vec::new();
        for (i, base) in bases.iter().enumerate() {
            let line = instructions.get(base.instruction).map_or(0, |ins| ins.line + 1);
            let field = format!("Dockerfile line {line}");
            bounded(&base.reference, &field)?;
            self.image(&base.reference, &field)?;
            let local = if pull {
                None
            } else {
                match client
                    .json::<Value>(Request::get(image_path(&base.reference, "/json")))
                    .await
                {
                    Ok(v) => Some(v),
                    Err(Error::NotFound { .. }) => None,
                    Err(e) => return Err(e.into()),
                }
            };
            let v = match local {
                Some(v) => v,
                None => {
                    self.registry(&base.reference, &field)?;
                    pull_by_digest(client, &base.reference, auths).await?
                }
            };
            // The build's steps start in the base's working directory.
            super::rules::check_workdir(
                &v["Config"]["WorkingDir"],
                &format!("{field} ({} Config.WorkingDir)", shorten(&base.reference)),
            )?;
            // The base's own ONBUILD triggers run in this build: none may name another image.
            for (j, trigger) in v["Config"]["OnBuild"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .enumerate()
            {
                super::dockerfile::onbuild(trigger).map_err(|why| {
                    Denial::field(
                        "build.images",
                        format!("{field} ({} OnBuild[{j}])", shorten(&base.reference)),
                        why,
                    )
                })?;
            }
            let id = v["Id"].as_str().unwrap_or_default().to_owned();
            if !id.starts_with("sha256:") {
                return Err(Error::Decode {
                    context: format!("the image {}", shorten(&base.reference)),
                    message: "no id".into(),
                }
                .into());
            }
            by_id.push((i, id));
        }
        Ok(super::dockerfile::rewrite(dockerfile, &bases, &by_id)
            .map_err(|why| Denial::field("build.images", "Dockerfile", why))?)
    }
}

/// Pulls `reference` by the digest its registry has for it now (asked through the daemon, with the
/// plugin's credentials for that registry if it gave any), and returns the pulled image's inspect
/// document. A pull by digest gives the image no tag, so it moves no name.
async fn pull_by_digest(client: &Client, reference: &str, auths: &RegistryAuths) -> Result<Value, GateError> {
    let registry = super::gate::registry_of(reference);
    let auth = auths.iter().find_map(|(key, value)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let host = if host == "index.docker.io" {
            "docker.io"
        } else {
            host
        };
        (host == registry).then(|| value.clone())
    });
    let with_auth = |req: Request| match &auth {
        Some(value) => req.header(http::HeaderName::from_static("x-registry-auth"), value.clone()),
        None => req,
    };
    let repo = repository(reference);
    let digested = match split_tag(reference) {
        (_, Some(d)) if d.starts_with('@') => format!("{repo}{d}"),
        _ => {
            let encoded: Vec<String> = reference.split('/').map(crate::engine::segment).collect();
            let remote: Value = client
                .json(with_auth(Request::get(format!(
                    "/distribution/{}/json",
                    encoded.join("/")
                ))))
                .await?;
            let digest = remote["Descriptor"]["digest"]
                .as_str()
                .filter(|d| d.starts_with("sha256:"))
                .ok_or_else(|| Error::Decode {
                    context: format!("the registry's answer for {}", shorten(reference)),
                    message: "no digest".into(),
                })?;
            format!("{repo}@{digest}")
        }
    };
    let answer = client
        .call(with_auth(
            Request::post("/images/create").query("fromImage", &digested),
        ))
        .await?;
    // A pull's answer is a progress stream, and an error in it comes with status 200.
    for doc in serde_json::Deserializer::from_slice(answer.body()).into_iter::<Value>() {
        if let Some(message) = doc.ok().and_then(|d| d["error"].as_str().map(str::to_owned)) {
            return Err(Error::Api {
                status: http::StatusCode::BAD_GATEWAY,
                message: format!("pulling {}: {message}", shorten(&digested)),
            }
            .into());
        }
    }
    Ok(client.json(Request::get(image_path(&digested, "/json"))).await?)
}

/// A reference's repository, normalized, without its tag or digest (`busybox:1` →
/// `docker.io/library/busybox`).
pub fn repository(reference: &str) -> String {
    let normalized = normalize(split_tag(reference).0);
    split_tag(&normalized).0.to_owned()
}

/// Whether taking the name `name` off the image `v` (its inspect document) leaves the image, as the
/// daemon's image delete decides: once a tag goes, the digests of its repository go with it unless
/// another tag of that repository is left (`repo@sha256:…` does not keep an image named only
/// `repo:tag`), and an image without references is removed.
pub fn untag_keeps_image(v: &Value, name: &str) -> bool {
    let gone = normalize(name);
    let repo = repository(name);
    let refs = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(normalize)
            .filter(|r| *r != gone)
            .collect()
    };
    let tags = refs("RepoTags");
    let mut digests = refs("RepoDigests");
    let canonical = name.contains('@');
    if !canonical && !tags.iter().any(|t| repository(t) == repo) {
        digests.retain(|d| repository(d) != repo);
    }
    !tags.is_empty() || !digests.is_empty()
}

/// How many references (names and digests) an image has: an image with none has no name to take off.
pub fn references(v: &Value) -> usize {
    let count = |key: &str| v[key].as_array().map_or(0, Vec::len);
    count("RepoTags") + count("RepoDigests")
}

/// The names (`RepoTags`) of an image inspect document.
fn names_of(v: &Value) -> impl Iterator<Item = &str> {
    v["RepoTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::untag_keeps_image;

    #[test]
    fn untagging_removes_an_image_when_only_digests_of_its_repository_are_left() {
        let v = serde_json::json!({
            "RepoTags": ["127.0.0.1:5000/victim:rt"],
            "RepoDigests": ["127.0.0.1:5000/victim@sha256:aa"],
        });
        assert!(!untag_keeps_image(&v, "127.0.0.1:5000/victim:rt"));
        let v = serde_json::json!({
            "RepoTags": ["127.0.0.1:5000/victim:rt", "127.0.0.1:5000/victim:2"],
            "RepoDigests": ["127.0.0.1:5000/victim@sha256:aa"],
        });
        assert!(untag_keeps_image(&v, "127.0.0.1:5000/victim:rt"));
        // A digest of another repository keeps the image.
        let v = serde_json::json!({
            "RepoTags": ["mine:1"],
            "RepoDigests": ["127.0.0.1:5000/other@sha256:aa"],
        });
        assert!(untag_keeps_image(&v, "mine:1"));
        assert!(untag_keeps_image(&v, "docker.io/library/mine:1") == untag_keeps_image(&v, "mine"));
        let v = serde_json::json!({"RepoTags": ["a:1", "b:1"], "RepoDigests": []});
        assert!(untag_keeps_image(&v, "a:1"));
        let v = serde_json::json!({"RepoTags": ["a:1"], "RepoDigests": null});
        assert!(!untag_keeps_image(&v, "docker.io/library/a:1"));
    }

    #[test]
    fn names_join_the_set_with_their_ids() {
        let g = crate::policy::gate::tests::gate("ci");
        g.confirm_image("app:1", Some("sha256:aa"));
        assert!(g.made("docker.io/library/app:1", "sha256:aa"));
        assert!(
            !g.made("app:1", "sha256:bb"),
            "a name moved by someone else is not the run's"
        );
        g.confirm_image("127.0.0.1:5000/x", None);
        assert!(
            !g.made("127.0.0.1:5000/x:latest", "sha256:anything"),
            "an image tug did not read"
        );
        assert_eq!(g.made_images().len(), 2);
        // A name about to be made counts for cleanup only, never as the run's.
        g.intend_image("app:2", "sha256:cc");
        assert!(!g.made("app:2", "sha256:cc"));
        assert_eq!(g.cleanup_names().len(), 3);
        assert!(g
            .cleanup_names()
            .contains(&("docker.io/library/app:2".to_owned(), Some("sha256:cc".to_owned()))));
    }
}
