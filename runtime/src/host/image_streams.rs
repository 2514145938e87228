//! `tug:engine/image-streams`: build, pull, import, push, save and load.

use base64::Engine as _;
use serde_json::{Map, Value};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynInputStream;

use super::{
    bindings::{
        image_streams::{self, BuildOptions, ImportOptions, LoadOptions, PullOptions, PushOptions},
        types::AuthConfig,
    },
    error::{check, HostResult, IntoHost},
    images::{image_check, image_path},
    query::{auth_json, pairs_json, registry_auth, QueryExt},
    resources::{HostEngine, HostJsonStream, HostProgressUpload, HostUpload},
    state::HostState,
};
use crate::{engine::Request, policy::Denial};

impl HostState {
    async fn progress_upload(
        &mut self,
        e: &Resource<HostEngine>,
        req: Request,
    ) -> HostResult<Resource<HostProgressUpload>> {
        let client = self.client(e)?;
        match client.upload(req).await {
            Ok(up) => Ok(Ok(self.table.push(HostProgressUpload(HostUpload::new(up)))?)),
            Err(err) => Err(err).into_host(),
        }
    }
}

/// `X-Registry-Config`: base64url of `{"registry": {auth}, …}`.
fn registry_config(configs: &[(String, AuthConfig)]) -> http::HeaderValue {
    let map: Map<String, Value> = configs.iter().map(|(r, a)| (r.clone(), auth_json(a))).collect();
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(Value::Object(map).to_string());
    http::HeaderValue::from_str(&encoded).expect("base64 is a valid header value")
}

impl image_streams::Host for HostState {
    async fn build(
        &mut self,
        e: Resource<HostEngine>,
        o: BuildOptions,
        registry: Option<Vec<(String, AuthConfig)>>,
    ) -> HostResult<Resource<HostProgressUpload>> {
        check!(self, self.allow("ImageBuild"));
        let policy = &self.gate.policy;
        if !policy.unrestricted {
            if o.remote.is_some() {
                check!(
                    self,
                    Err(Denial::field(
                        "build.remote",
                        "remote",
                        "the daemon may not fetch a build context from a URL; upload it"
                    ))
                );
            }
            if let Some(mode) = o
                .networkmode
                .as_deref()
                .filter(|m| !matches!(*m, "default" | "bridge" | "none"))
            {
                check!(
                    self,
                    Err(Denial::field(
                        "build.network-mode",
                        "networkmode",
                        format!("build network mode {mode} is not allowed (default, bridge, none)")
                    ))
                );
            }
            if o.version.as_deref().is_some_and(|v| v != "1") {
                check!(
                    self,
                    Err(Denial::field(
                        "build.builder",
                        "version",
                        "only the classic builder (version 1) is available to plugins"
                    ))
                );
            }
        }
        for (i, t) in o.t.iter().flatten().enumerate() {
            check!(self, self.gate.image(t, &format!("t[{i}]")));
        }
        let mut labels: serde_json::Value = serde_json::Value::Object(
            o.labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                .collect(),
        );
        check!(self, self.gate.check_labels(&labels, "labels"));
        let mut wrapper = serde_json::json!({ "labels": labels.take() });
        self.gate.stamp(&mut wrapper, "labels");
        let stamped: Vec<(String, String)> = wrapper["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        self.images.extend(o.t.iter().flatten().cloned());
        let mut req = Request::post("/build")
            .opt("dockerfile", o.dockerfile)
            .each("t", o.t.as_ref())
            .opt("extrahosts", o.extrahosts)
            .opt("remote", o.remote)
            .opt("q", o.q)
            .opt("nocache", o.nocache)
            .opt("cachefrom", o.cachefrom.map(|c| Value::from(c).to_string()))
            .opt("pull", o.pull)
            .opt("rm", o.rm)
            .opt("forcerm", o.forcerm)
            .opt("memory", o.memory)
            .opt("memswap", o.memswap)
            .opt("cpushares", o.cpushares)
            .opt("cpusetcpus", o.cpusetcpus)
            .opt("cpuperiod", o.cpuperiod)
            .opt("cpuquota", o.cpuquota)
            .opt("buildargs", o.buildargs.map(|b| pairs_json(&b)))
            .opt("shmsize", o.shmsize)
            .opt("squash", o.squash)
            .opt("labels", Some(pairs_json(&stamped)))
            .opt("networkmode", o.networkmode)
            .opt("platform", o.platform)
            .opt("target", o.target)
            .opt("outputs", o.outputs)
            .opt("version", o.version)
            .content_type("application/x-tar");
        if let Some(configs) = registry {
            req = req.header(
                http::HeaderName::from_static("x-registry-config"),
                registry_config(&configs),
            );
        }
        self.progress_upload(&e, req).await
    }

    async fn pull(
        &mut self,
        e: Resource<HostEngine>,
        from_image: String,
        o: PullOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        check!(self, self.allow("ImageCreate"));
        let reference = match &o.tag {
            Some(t) if !from_image.contains('@') => format!("{from_image}:{t}"),
            _ => from_image.clone(),
        };
        check!(self, self.gate.registry(&reference, "from-image"));
        check!(self, self.gate.image(&reference, "from-image"));
        self.images.insert(reference);
        let req = Request::post("/images/create")
            .query("fromImage", from_image)
            .opt("tag", o.tag)
            .opt("platform", o.platform)
            .header(
                http::HeaderName::from_static("x-registry-auth"),
                registry_auth(auth.as_ref()),
            );
        self.json_stream(&e, req).await
    }

    async fn import(
        &mut self,
        e: Resource<HostEngine>,
        o: ImportOptions,
    ) -> HostResult<Resource<HostProgressUpload>> {
        check!(self, self.allow("ImageCreate"));
        if let Some(repo) = &o.repo {
            let target = format!("{repo}:{}", o.tag.as_deref().unwrap_or("latest"));
            check!(self, self.gate.image(&target, "repo"));
            self.images.insert(target);
        }
        let req = Request::post("/images/create")
            .query("fromSrc", "-")
            .opt("repo", o.repo)
            .opt("tag", o.tag)
            .opt("message", o.message)
            .each("changes", o.changes.as_ref())
            .opt("platform", o.platform)
            .content_type("application/x-tar");
        self.progress_upload(&e, req).await
    }

    async fn push(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        o: PushOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        check!(self, self.allow("ImagePush"));
        let reference = match &o.tag {
            Some(t) => format!("{name}:{t}"),
            None => name.clone(),
        };
        check!(self, self.gate.registry(&reference, "name"));
        image_check!(self.image_visible(e, "ImagePush", reference));
        let req = Request::post(image_path(&name, "/push"))
            .opt("tag", o.tag)
            .header(
                http::HeaderName::from_static("x-registry-auth"),
                registry_auth(auth.as_ref()),
            );
        self.json_stream(&e, req).await
    }

    async fn save(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<Resource<DynInputStream>> {
        image_check!(self.image_visible(e, "ImageGet", name));
        self.input_stream(&e, Request::get(image_path(&name, "/get")))
            .await
    }

    async fn save_all(
        &mut self,
        e: Resource<HostEngine>,
        names: Vec<String>,
    ) -> HostResult<Resource<DynInputStream>> {
        self.input_stream(&e, Request::get("/images/get").each("names", Some(&names)))
            .await
    }

    async fn load(
        &mut self,
        e: Resource<HostEngine>,
        o: LoadOptions,
    ) -> HostResult<Resource<HostProgressUpload>> {
        check!(self, self.allow("ImageLoad"));
        let req = Request::post("/images/load")
            .opt("quiet", o.quiet)
            .content_type("application/x-tar");
        self.progress_upload(&e, req).await
    }
}
