//! `tug:engine/image-streams`: build, pull, import, push, save and load. Every image a run makes carries
//! the run's labels (build `labels`, import `LABEL` changes, load's rewritten configs); every name it gives
//! one names nothing yet or names what the run made, and joins the run's set once the progress stream
//! ends well.

use base64::Engine as _;
use serde_json::{Map, Value};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynInputStream;

use super::{
    bindings::{
        image_streams::{self, BuildOptions, ImportOptions, LoadOptions, PullOptions, PushOptions},
        types::{AuthConfig, Error as WitError},
    },
    call::HostEngine,
    error::HostResult,
    images::repo_tag,
    input_streams::BodyInputStream,
    query::{auth_json, pairs_json, registry_auth, QueryExt},
    resources::{Confirm, HostJsonStream, HostProgressUpload, HostUpload, Watch},
    state::HostState,
};
use crate::{
    engine::Request,
    policy::{ceilings::BuildResources, gate::registry_of, image_names::image_path, rules, Op},
};

/// The name to forward for an image the gate resolved: its full id when the plugin named it by id (or
/// id prefix), else the name with its tag (`latest` when it has none), which is what the gate checked.
fn forward_name(name: &str, resolved: &crate::policy::ownership::Resolved) -> String {
    let bare = resolved.id.trim_start_matches("sha256:");
    let given = name.trim_start_matches("sha256:");
    if !given.is_empty() && bare.starts_with(given) {
        return resolved.id.clone();
    }
    repo_tag(name, None)
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
        let r = self
            .engine_call(Op::ImageBuild, &e, move |_, call| {
                Box::pin(async move {
                    let gate = call.gate_arc();
                    rules::build_options(
                        &gate,
                        o.remote.as_deref(),
                        o.networkmode.as_deref(),
                        o.version.as_deref(),
                    )?;
                    let client = call.client()?.clone();
                    let names: Vec<String> = o.t.iter().flatten().cloned().collect();
                    for (i, t) in names.iter().enumerate() {
                        gate.image_target(&client, t, &format!("t[{i}]")).await?;
                    }
                    let mut labels = Value::Object(
                        o.labels
                            .iter()
                            .flatten()
                            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                            .collect(),
                    );
                    gate.check_labels(&labels, "labels")?;
                    // The image and every container made from it carry the run's labels (a Dockerfile's
                    // `LABEL tug.keep=1` included: these come last and win).
                    let mut wrapper = serde_json::json!({ "labels": labels.take() });
                    gate.stamp_image(&mut wrapper, "labels");
                    let stamped: Vec<(String, String)> = wrapper["labels"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect();
                    // A build's RUN steps get the container ceilings.
                    let res = gate.build_resources(BuildResources {
                        memory: o.memory,
                        memswap: o.memswap,
                        cpuperiod: o.cpuperiod,
                        cpuquota: o.cpuquota,
                        shmsize: o.shmsize,
                    });
                    let dockerfile = o.dockerfile.clone();
                    let build_args = o.buildargs.clone().unwrap_or_default();
                    // Cache sources are images the build reads: each one the run may see, by its id.
                    let mut cache_from = None;
                    if let Some(names) = &o.cachefrom {
                        let mut ids = Vec::with_capacity(names.len());
                        for (i, name) in names.iter().enumerate() {
                            let field = format!("cachefrom[{i}]");
                            ids.push(if gate.unrestricted() {
                                name.clone()
                            } else {
                                gate.image_visible(&client, name, &field).await?.id
                            });
                        }
                        cache_from = Some(Value::from(ids).to_string());
                    }
                    // The builder never pulls for a run: tug pulls the bases itself (`build_bases`).
                    let pull = o.pull.unwrap_or(false);
                    let forward_pull = if gate.unrestricted() { o.pull } else { Some(false) };
                    let auths: Vec<(String, http::HeaderValue)> = registry
                        .iter()
                        .flatten()
                        .map(|(r, a)| (r.clone(), registry_auth(Some(a))))
                        .collect();
                    let mut req = Request::post("/build")
                        .opt("dockerfile", o.dockerfile)
                        .each("t", o.t.as_ref())
                        .opt("extrahosts", o.extrahosts)
                        .opt("remote", o.remote)
                        .opt("q", o.q)
                        .opt("nocache", o.nocache)
                        .opt("cachefrom", cache_from)
                        .opt("pull", forward_pull)
                        // Intermediate containers carry no run labels: they go, even after a failure.
                        .opt("rm", if gate.unrestricted() { o.rm } else { Some(true) })
                        .opt(
                            "forcerm",
                            if gate.unrestricted() {
                                o.forcerm
                            } else {
                                Some(true)
                            },
                        )
                        .opt("memory", res.memory)
                        .opt("memswap", res.memswap)
                        .opt("cpushares", o.cpushares)
                        .opt("cpusetcpus", o.cpusetcpus)
                        .opt("cpuperiod", res.cpuperiod)
                        .opt("cpuquota", res.cpuquota)
                        .opt("buildargs", o.buildargs.map(|b| pairs_json(&b)))
                        .opt("shmsize", res.shmsize)
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
                    // The build counts as a container (its RUN steps') until its stream ends.
                    let slot = gate.build_slot(&client).await?;
                    let up = call.upload(req).await?;
                    let confirm = Confirm::new(gate.clone(), names.into_iter().map(|n| (n, None)).collect())
                        .holding(slot);
                    // The context passes through tug: the images its Dockerfile uses are checked and named
                    // by their ids.
                    let upload = if gate.unrestricted() {
                        HostUpload::new(up, Some(call.defer()))
                    } else {
                        let bases = super::build_context::Bases {
                            gate: gate.clone(),
                            client,
                            dockerfile,
                            build_args,
                            pull,
                            auths,
                        };
                        super::build_context::filtered(up, call.defer(), bases)
                    };
                    Ok(HostProgressUpload {
                        upload,
                        watch: Some(Watch::Confirm(confirm)),
                    })
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn pull(
        &mut self,
        e: Resource<HostEngine>,
        from_image: String,
        o: PullOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::ImageCreate, &e, move |st, call| {
                Box::pin(async move {
                    let reference = match &o.tag {
                        Some(t) if !from_image.contains('@') => format!("{from_image}:{t}"),
                        _ => from_image.clone(),
                    };
                    call.target(&reference);
                    let gate = call.gate_arc();
                    gate.registry(&reference, "from-image")?;
                    gate.image(&reference, "from-image")?;
                    let client = call.client()?.clone();
                    let plan = gate.image_pull(&client, &from_image, o.tag.as_deref()).await?;
                    let (from_image, tag) = match plan.by_digest {
                        Some(digested) => (digested, None),
                        None => (from_image, o.tag),
                    };
                    let auth = match &auth {
                        Some(a) => registry_auth(Some(a)),
                        None => st.registry.engine_auth(&registry_of(&reference)).await,
                    };
                    let req = Request::post("/images/create")
                        .query("fromImage", from_image)
                        .opt("tag", tag)
                        .opt("platform", o.platform)
                        .header(http::HeaderName::from_static("x-registry-auth"), auth);
                    let stream = call.json_stream(req).await?;
                    // A name the pull creates is the run's once the pull ends well (it may remove it).
                    let watch = match plan.new_name {
                        Some(name) => {
                            Watch::Confirm(Confirm::new(gate, vec![(name, None)]).reading_ids(client))
                        }
                        None => Watch::None,
                    };
                    Ok(HostJsonStream::watched(stream, watch).tapped(call.tap()))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn import(
        &mut self,
        e: Resource<HostEngine>,
        o: ImportOptions,
    ) -> HostResult<Resource<HostProgressUpload>> {
        let r = self
            .engine_call(Op::ImageCreate, &e, move |_, call| {
                Box::pin(async move {
                    let gate = call.gate_arc();
                    let client = call.client()?.clone();
                    let target = o.repo.as_deref().map(|r| repo_tag(r, o.tag.as_deref()));
                    if let Some(target) = &target {
                        call.target(target);
                        gate.image_target(&client, target, "repo").await?;
                    }
                    // The imported image carries the run's labels, set by a `LABEL` change after the
                    // plugin's own (which may not touch them).
                    let changes = rules::image_changes(&gate, o.changes.as_deref().unwrap_or_default())?;
                    let req = Request::post("/images/create")
                        .query("fromSrc", "-")
                        .opt("repo", o.repo)
                        .opt("tag", o.tag)
                        .opt("message", o.message)
                        .each("changes", Some(&changes))
                        .opt("platform", o.platform)
                        .content_type("application/x-tar");
                    let up = call.upload(req).await?;
                    let names = target.into_iter().map(|t| (t, None)).collect();
                    Ok(HostProgressUpload {
                        upload: HostUpload::new(up, Some(call.defer())),
                        watch: Some(Watch::Confirm(Confirm::new(gate, names))),
                    })
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn push(
        &mut self,
        e: Resource<HostEngine>,
        name: String,
        o: PushOptions,
        auth: Option<AuthConfig>,
    ) -> HostResult<Resource<HostJsonStream>> {
        let r = self
            .engine_call(Op::ImagePush, &e, move |st, call| {
                Box::pin(async move {
                    // One tag: without one the daemon would push every tag of the repository, where
                    // the gate saw only `latest`.
                    let (repo, tag) = match &o.tag {
                        Some(t) => (name.clone(), t.clone()),
                        None => match repo_tag(&name, None).rsplit_once(':') {
                            Some((r, t)) => (r.to_owned(), t.to_owned()),
                            None => (name.clone(), "latest".to_owned()),
                        },
                    };
                    let reference = format!("{repo}:{tag}");
                    call.gate().registry(&reference, "name")?;
                    call.resolve(&reference).await?;
                    let auth = match &auth {
                        Some(a) => registry_auth(Some(a)),
                        None => st.registry.engine_auth(&registry_of(&reference)).await,
                    };
                    let req = Request::post(image_path(&repo, "/push"))
                        .opt("tag", Some(tag))
                        .header(http::HeaderName::from_static("x-registry-auth"), auth);
                    Ok(HostJsonStream::new(call.json_stream(req).await?).tapped(call.tap()))
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn save(&mut self, e: Resource<HostEngine>, name: String) -> HostResult<Resource<DynInputStream>> {
        let r = self
            .engine_call(Op::ImageGet, &e, move |_, call| {
                Box::pin(async move {
                    // Saved by the name the plugin gave (the tar keeps it), once the gate has seen that
                    // the run may read the image it names: with its tag (a bare repository name would
                    // save every tag of it), or by id when the name was an id.
                    let resolved = call.resolve(&name).await?;
                    let target = forward_name(&name, &resolved);
                    let dl = call.download(Request::get(image_path(&target, "/get"))).await?;
                    Ok(Box::new(BodyInputStream::new(dl.body).tapped(call.tap())) as DynInputStream)
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn save_all(
        &mut self,
        e: Resource<HostEngine>,
        names: Vec<String>,
    ) -> HostResult<Resource<DynInputStream>> {
        let r = self
            .engine_call(Op::ImageGetAll, &e, move |_, call| {
                Box::pin(async move {
                    if names.is_empty() {
                        return Err(WitError::InvalidArgument("save-all: no image names".into()));
                    }
                    let mut targets = Vec::with_capacity(names.len());
                    for name in &names {
                        let resolved = call.resolve(name).await?;
                        targets.push(forward_name(name, &resolved));
                    }
                    call.target(&names.join(","));
                    let dl = call
                        .download(Request::get("/images/get").each("names", Some(&targets)))
                        .await?;
                    Ok(Box::new(BodyInputStream::new(dl.body).tapped(call.tap())) as DynInputStream)
                })
            })
            .await;
        self.hand_out(r)
    }

    async fn load(
        &mut self,
        e: Resource<HostEngine>,
        o: LoadOptions,
    ) -> HostResult<Resource<HostProgressUpload>> {
        let r = self
            .engine_call(Op::ImageLoad, &e, move |_, call| {
                Box::pin(async move {
                    let req = Request::post("/images/load")
                        .opt("quiet", o.quiet)
                        .content_type("application/x-tar");
                    let up = call.upload(req).await?;
                    if call.gate().unrestricted() {
                        return Ok(HostProgressUpload {
                            upload: HostUpload::new(up, Some(call.defer())),
                            watch: None,
                        });
                    }
                    // The tar passes through tug: its images' configs get the run's labels, their names
                    // are checked like any name the run gives, and they join the run's set once the
                    // load ends well.
                    let client = call.client()?.clone();
                    let (upload, confirm) = super::load::filtered(call.gate_arc(), client, up, call.defer());
                    Ok(HostProgressUpload {
                        upload,
                        watch: Some(Watch::Confirm(confirm)),
                    })
                })
            })
            .await;
        self.hand_out(r)
    }
}
