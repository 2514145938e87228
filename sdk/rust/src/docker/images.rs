//! [`Images`] (the collection) and [`Image`] (the model), over `images`, `image-streams` and
//! `distribution`.

use serde_json::Value;

use super::{parse, short_id, Docker, Docs, Error, Result};
use crate::models::{
    BuildInfo, BuildPruneResponse, CreateImageInfo, DistributionInspect, ImageDeleteResponseItem,
    ImageHistoryResponseItem, ImageInspect, ImagePruneResponse, ImageSearchResponseItem, ImageSummary,
    PushImageInfo,
};
use crate::types::AuthConfig;
use crate::wasip2::io::streams::InputStream;
use crate::{distribution, image_streams, images};

/// The images of an engine: [`crate::docker::Docker::images`].
#[derive(Clone, Debug)]
pub struct Images {
    docker: Docker,
}

/// An image: its ID and its inspect document (`attrs`).
#[derive(Clone, Debug)]
pub struct Image {
    docker: Docker,
    /// The ID (`sha256:…`).
    pub id: String,
    /// The engine's inspect document.
    pub attrs: ImageInspect,
}

/// What [`Images::build`] gives back: the image and the builder's messages.
#[derive(Debug)]
pub struct BuildOutput {
    /// The image built.
    pub image: Image,
    /// The builder's output (`stream` messages), in order.
    pub log: Vec<String>,
}

/// `name` split into repository and tag as docker-py's `pull` does: a reference without a tag or digest
/// gets `latest` (the engine would otherwise pull every tag).
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    if reference.contains('@') {
        return (reference, None);
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], Some(&reference[slash + i + 1..])),
        None => (reference, Some("latest")),
    }
}

impl Images {
    pub(crate) fn new(docker: Docker) -> Self {
        Images { docker }
    }

    /// `images.list` read as summaries.
    pub fn list_summaries(&self, options: images::ListOptions) -> Result<Vec<ImageSummary>> {
        parse("images.list", &images::list(self.docker.engine(), &options)?)
    }

    /// `images.list`, each image then inspected (docker-py's `list()`); an image removed in between
    /// is left out.
    pub fn list(&self, options: images::ListOptions) -> Result<Vec<Image>> {
        let summaries = self.list_summaries(options)?;
        super::get_each(summaries.into_iter().map(|s| s.id), |id| self.get(id))
    }

    /// The image with this name, ID or ID prefix (`images.inspect`).
    pub fn get(&self, name: &str) -> Result<Image> {
        let attrs: ImageInspect = parse("images.inspect", &images::inspect(self.docker.engine(), name)?)?;
        let id = attrs.id.clone().unwrap_or_else(|| name.to_owned());
        Ok(Image {
            docker: self.docker.clone(),
            id,
            attrs,
        })
    }

    /// `image-streams.pull`'s progress (`latest` when `reference` names no tag or digest and the
    /// options no tag).
    pub fn pull_progress(
        &self,
        reference: &str,
        options: image_streams::PullOptions,
        auth: Option<AuthConfig>,
    ) -> Result<Docs<CreateImageInfo>> {
        let (name, tag) = match options.tag {
            Some(_) => (reference, None),
            None => split_reference(reference),
        };
        let options = image_streams::PullOptions {
            tag: options.tag.or(tag.map(str::to_owned)),
            ..options
        };
        Ok(Docs::new(
            image_streams::pull(self.docker.engine(), name, &options, auth.as_ref())?,
            "a pull progress message",
        ))
    }

    /// docker-py's `pull`: pulls `reference` to the end and returns the image.
    pub fn pull(
        &self,
        reference: &str,
        options: image_streams::PullOptions,
        auth: Option<AuthConfig>,
    ) -> Result<Image> {
        let tag = options.tag.clone();
        for message in self.pull_progress(reference, options, auth)? {
            message?;
        }
        match tag {
            Some(tag) => self.get(&format!("{reference}:{tag}")),
            None => {
                let (name, tag) = split_reference(reference);
                match tag {
                    Some(tag) => self.get(&format!("{name}:{tag}")),
                    None => self.get(reference),
                }
            }
        }
    }

    /// `image-streams.push`'s progress: read it to the end (an `Err` item is a failed push).
    pub fn push(
        &self,
        name: &str,
        options: image_streams::PushOptions,
        auth: Option<AuthConfig>,
    ) -> Result<Docs<PushImageInfo>> {
        Ok(Docs::new(
            image_streams::push(self.docker.engine(), name, &options, auth.as_ref())?,
            "a push progress message",
        ))
    }

    /// `image-streams.build`'s progress, for the build context `context` (a tar: see
    /// [`crate::archive`]).
    pub fn build_progress(
        &self,
        context: &[u8],
        options: image_streams::BuildOptions,
    ) -> Result<Docs<BuildInfo>> {
        let upload = image_streams::build(self.docker.engine(), &options, None)?;
        Ok(Docs::new(
            crate::progress_upload_all(upload, context)?,
            "a build progress message",
        ))
    }

    /// docker-py's `build`: builds the context `context` (a tar holding a Dockerfile: see
    /// [`crate::archive`]) to the end and returns the image and the builder's output, or
    /// [`Error::Build`] with the builder's message and the output up to it.
    pub fn build(&self, context: &[u8], options: image_streams::BuildOptions) -> Result<BuildOutput> {
        self.build_with(context, options, |_| {})
    }

    /// Like [`Images::build`], giving each line of the builder's output to `on_output` as it comes.
    pub fn build_with(
        &self,
        context: &[u8],
        options: image_streams::BuildOptions,
        mut on_output: impl FnMut(&str),
    ) -> Result<BuildOutput> {
        let mut progress = self.build_progress(context, options)?;
        let (mut log, mut id) = (Vec::new(), None);
        while let Some(doc) = progress.next_raw() {
            let doc = match doc {
                Ok(doc) => doc,
                Err(e) => {
                    return Err(Error::Build {
                        reason: e.to_string(),
                        log,
                    })
                }
            };
            let v: Value = parse("a build progress message", &doc)?;
            if let Some(error) = v.get("error").and_then(Value::as_str) {
                return Err(Error::Build {
                    reason: error.to_owned(),
                    log,
                });
            }
            if let Some(found) = v.pointer("/aux/ID").and_then(Value::as_str) {
                id = Some(found.to_owned());
            }
            if let Some(text) = v.get("stream").and_then(Value::as_str) {
                if let Some(found) = text.trim().strip_prefix("Successfully built ") {
                    id.get_or_insert_with(|| found.to_owned());
                }
                on_output(text);
                log.push(text.to_owned());
            }
        }
        let Some(id) = id else {
            return Err(Error::Build {
                reason: "the build ended without naming an image".into(),
                log,
            });
        };
        Ok(BuildOutput {
            image: self.get(&id)?,
            log,
        })
    }

    /// `image-streams.load`: loads the images of a `docker save` tar and returns them.
    pub fn load(&self, tar: &[u8]) -> Result<Vec<Image>> {
        let upload = image_streams::load(
            self.docker.engine(),
            image_streams::LoadOptions { quiet: Some(false) },
        )?;
        let progress: Docs<Value> = Docs::new(crate::progress_upload_all(upload, tar)?, "a load message");
        // The names are the run's once the stream has ended well: read them all first.
        let mut names = Vec::new();
        for doc in progress {
            let doc = doc?;
            let Some(text) = doc.get("stream").and_then(Value::as_str) else {
                continue;
            };
            let text = text.trim();
            let name = text
                .strip_prefix("Loaded image: ")
                .or_else(|| text.strip_prefix("Loaded image ID: "));
            if let Some(name) = name {
                names.push(name.to_owned());
            }
        }
        let mut out = Vec::new();
        for name in names {
            out.push(self.get(&name)?);
        }
        Ok(out)
    }

    /// `image-streams.save` by name (the tar's manifest then names it, so a load tags it again; a save by
    /// ID, [`Image::save`], does not).
    pub fn save(&self, name: &str) -> Result<InputStream> {
        Ok(image_streams::save(self.docker.engine(), name)?)
    }

    /// `image-streams.save-all`: several images in one tar.
    pub fn save_all(&self, names: &[String]) -> Result<InputStream> {
        Ok(image_streams::save_all(self.docker.engine(), names)?)
    }

    /// `images.search`: a registry's search.
    pub fn search(&self, term: &str, options: images::SearchOptions) -> Result<Vec<ImageSearchResponseItem>> {
        parse(
            "images.search",
            &images::search(self.docker.engine(), term, &options)?,
        )
    }

    /// `images.remove` by name or ID: what was untagged and deleted.
    pub fn remove(&self, name: &str, options: images::RemoveOptions) -> Result<Vec<ImageDeleteResponseItem>> {
        parse(
            "images.remove",
            &images::remove(self.docker.engine(), name, options)?,
        )
    }

    /// `images.prune`.
    pub fn prune(&self, options: images::PruneOptions) -> Result<ImagePruneResponse> {
        parse("images.prune", &images::prune(self.docker.engine(), &options)?)
    }

    /// `images.build-prune`: the builder's cache.
    pub fn build_prune(&self, options: images::BuildPruneOptions) -> Result<BuildPruneResponse> {
        parse(
            "images.build-prune",
            &images::build_prune(self.docker.engine(), &options)?,
        )
    }

    /// `distribution.inspect`: what the registry says about `name` (docker-py's
    /// `get_registry_data`).
    pub fn get_registry_data(&self, name: &str, auth: Option<AuthConfig>) -> Result<DistributionInspect> {
        parse(
            "distribution.inspect",
            &distribution::inspect(self.docker.engine(), name, auth.as_ref())?,
        )
    }
}

impl Image {
    /// The first 12 characters of the ID (without `sha256:`).
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    /// `RepoTags`.
    pub fn tags(&self) -> &[String] {
        self.attrs.repo_tags.as_deref().unwrap_or_default()
    }

    /// `Config.Labels`.
    pub fn labels(&self) -> impl Iterator<Item = (&String, &String)> {
        self.attrs
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .into_iter()
            .flatten()
    }

    /// Inspects it again.
    pub fn reload(&mut self) -> Result<()> {
        *self = self.docker.images().get(&self.id)?;
        Ok(())
    }

    /// `images.tag`: tags it `repo` (with `options.tag`, default `latest`).
    pub fn tag(&self, repo: &str, options: images::TagOptions) -> Result<()> {
        Ok(images::tag(self.docker.engine(), &self.id, repo, &options)?)
    }

    /// `images.history`.
    pub fn history(&self) -> Result<Vec<ImageHistoryResponseItem>> {
        parse(
            "images.history",
            &images::history(self.docker.engine(), &self.id)?,
        )
    }

    /// `image-streams.save` by ID: it as a `docker save` tar, without its names (docker-py's `save()`;
    /// see [`Images::save`] to keep a name).
    pub fn save(&self) -> Result<InputStream> {
        Ok(image_streams::save(self.docker.engine(), &self.id)?)
    }

    /// `images.remove`.
    pub fn remove(&self, options: images::RemoveOptions) -> Result<Vec<ImageDeleteResponseItem>> {
        self.docker.images().remove(&self.id, options)
    }
}

#[cfg(test)]
mod tests {
    use super::split_reference;

    #[test]
    fn a_reference_without_a_tag_pulls_latest() {
        assert_eq!(split_reference("busybox"), ("busybox", Some("latest")));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", Some("1.36")));
        assert_eq!(
            split_reference("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app", Some("latest"))
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/app:2"),
            ("127.0.0.1:5000/app", Some("2"))
        );
        assert_eq!(split_reference("app@sha256:ab"), ("app@sha256:ab", None));
    }
}
