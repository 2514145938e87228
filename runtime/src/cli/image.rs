//! `tug image …`: pull, save, edit and push images straight from and to registries, without a daemon.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::registry::{
    ConfigEdit, Credentials, Image, Platform, PushReport, Reference, Registry, RegistryOptions,
};

/// `tug image …`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Pull an image's manifest and config (layers stay in the registry), and write it as a `docker save`
    /// tar (-o) or an OCI layout tar (--oci) if asked.
    Pull(PullArgs),
    /// Write an image from a registry to a `docker save` (or OCI layout) tar.
    Save(SaveArgs),
    /// Pull SRC lazily, add layers and edit its config, push it as DEST: only new blobs are uploaded.
    AddLayer(AddLayerArgs),
    /// Copy SRC to DEST, registry to registry: blobs are mounted (same registry), skipped (already
    /// there) or streamed (another registry), never stored locally.
    Push(PushArgs),
}

/// Options of every `tug image` command.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Print one JSON object (digest, transfer counters, push report) on stdout; steps go to stderr.
    #[arg(long)]
    pub json: bool,
    /// A registry host to reach over plain http (loopback hosts always are).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure: Vec<String>,
}

/// `tug image pull`.
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The image: `[registry/]repository[:tag][@digest]`.
    pub reference: String,
    /// The platform to pick from a multi-platform image (default: linux/<this machine's architecture>).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Write a `docker save` tar (for `docker load -i`).
    #[arg(short = 'o', long = "output", value_name = "FILE.tar", conflicts_with = "oci")]
    pub output: Option<PathBuf>,
    /// Write an OCI image layout tar.
    #[arg(long, value_name = "FILE.tar")]
    pub oci: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// Archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `docker save` / `docker load` format.
    Docker,
    /// OCI image layout.
    Oci,
}

/// `tug image save`.
#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// The image: `[registry/]repository[:tag][@digest]`.
    pub reference: String,
    /// The file to write (atomically: nothing is left behind on failure).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// The archive format.
    #[arg(long, value_enum, default_value = "docker")]
    pub format: Format,
    /// The platform to pick from a multi-platform image.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `tug image add-layer`.
#[derive(Debug, clap::Args)]
pub struct AddLayerArgs {
    /// The image to start from.
    pub source: String,
    /// Where to push the result.
    pub dest: String,
    /// A host file to put in the image (all --file options make one layer).
    #[arg(long = "file", value_name = "HOSTFILE:IMAGEPATH")]
    pub files: Vec<String>,
    /// A host directory to put in the image (one layer each; IMAGEDIR defaults to /).
    #[arg(long = "dir", value_name = "HOSTDIR[:IMAGEDIR]")]
    pub dirs: Vec<String>,
    /// Set an environment variable (`K=V`), or remove one (`K`).
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Set a label (`K=V`), or remove one (`K`).
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// The new Cmd: a JSON array, or a shell command line (run with /bin/sh -c).
    #[arg(long, value_name = "JSON")]
    pub cmd: Option<String>,
    /// The new Entrypoint: a JSON array, or a shell command line.
    #[arg(long, value_name = "JSON")]
    pub entrypoint: Option<String>,
    /// The new working directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The new user.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Remove the source's layer N (0 is the bottom one); before anything is added.
    #[arg(long = "remove-layer", value_name = "N")]
    pub remove_layers: Vec<usize>,
    /// The platform to pick from a multi-platform source.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `tug image push`.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The image to copy: a reference, or the path of a `docker save` tar (its layers are then
    /// compressed and uploaded unless the destination has them).
    pub source: String,
    /// Where to push it.
    pub dest: String,
    /// The platform to pick from a multi-platform source.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Prints steps (to stderr under --json) and collects the JSON answer.
struct Out {
    json: bool,
    answer: serde_json::Map<String, Value>,
}

impl Out {
    fn new(common: &Common, command: &str) -> Out {
        let mut answer = serde_json::Map::new();
        answer.insert("command".into(), json!(command));
        Out {
            json: common.json,
            answer,
        }
    }

    fn step(&self, line: impl AsRef<str>) {
        if self.json {
            eprintln!("{}", line.as_ref());
        } else {
            println!("{}", line.as_ref());
        }
    }

    fn set(&mut self, key: &str, value: impl serde::Serialize) {
        self.answer
            .insert(key.to_owned(), serde_json::to_value(value).expect("JSON"));
    }

    fn finish(mut self, registry: &Registry, summary: String) -> ExitCode {
        let stats = registry.stats();
        self.set("stats", stats);
        if self.json {
            println!("{}", Value::Object(self.answer));
        } else {
            println!(
                "{summary} (downloaded {} of layers, {} of configs and {} of manifests; uploaded {})",
                bytes(stats.blob_bytes_downloaded - stats.config_bytes_downloaded),
                bytes(stats.config_bytes_downloaded),
                bytes(stats.manifest_bytes_downloaded),
                bytes(stats.blob_bytes_uploaded),
            );
        }
        ExitCode::SUCCESS
    }
}

fn bytes(n: u64) -> String {
    if n < 10_000 {
        format!("{n} B")
    } else if n < 10_000_000 {
        format!("{:.1} kB", n as f64 / 1e3)
    } else {
        format!("{:.1} MB", n as f64 / 1e6)
    }
}

/// Runs a `tug image` command.
pub async fn run(command: ImageCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImageCommand::Pull(a) => {
            let target = match (a.output, a.oci) {
                (Some(p), None) => Some((p, Format::Docker)),
                (None, Some(p)) => Some((p, Format::Oci)),
                _ => None,
            };
            pull_and_save("pull", &a.reference, a.platform.as_deref(), target, &a.common).await
        }
        ImageCommand::Save(a) => {
            pull_and_save(
                "save",
                &a.reference,
                a.platform.as_deref(),
                Some((a.output, a.format)),
                &a.common,
            )
            .await
        }
        ImageCommand::AddLayer(a) => add_layer(a).await,
        ImageCommand::Push(a) => push(a).await,
    }
}

fn registry(common: &Common) -> anyhow::Result<Registry> {
    let credentials = Credentials::from_docker_config()?;
    Ok(Registry::new(RegistryOptions {
        credentials,
        insecure: common.insecure.clone(),
    }))
}

fn platform(p: Option<&str>) -> anyhow::Result<Option<Platform>> {
    p.map(|p| Platform::parse(p).context("--platform")).transpose()
}

async fn pull(out: &mut Out, registry: &Registry, reference: &str, p: Option<&str>) -> anyhow::Result<Image> {
    let reference = Reference::parse(reference)?;
    let platform = platform(p)?;
    let image = Image::pull(registry, &reference, platform.as_ref())
        .await
        .with_context(|| format!("pulling {reference}"))?;
    let layers = image.layers();
    let total: u64 = layers.iter().map(|l| l.size).sum();
    out.step(format!(
        "pulled {reference}: manifest {}, {} layers ({} compressed, left in the registry)",
        image.manifest_digest(),
        layers.len(),
        bytes(total)
    ));
    out.set("source", reference.to_string());
    out.set("layers", &layers);
    out.set("image_bytes", total);
    Ok(image)
}

async fn pull_and_save(
    command: &str,
    reference: &str,
    p: Option<&str>,
    target: Option<(PathBuf, Format)>,
    common: &Common,
) -> anyhow::Result<ExitCode> {
    let mut out = Out::new(common, command);
    let registry = registry(common)?;
    let image = pull(&mut out, &registry, reference, p).await?;
    out.set("digest", image.manifest_digest());
    let summary = match target {
        Some((path, format)) => {
            write_atomically(&path, format, &image, &registry).await?;
            out.step(format!("wrote {} ({format:?} format)", path.display()));
            out.set("output", path.display().to_string());
            format!("saved {} to {}", image.manifest_digest(), path.display())
        }
        None => format!("resolved {}", image.manifest_digest()),
    };
    Ok(out.finish(&registry, summary))
}

/// Writes an archive to a temporary file beside `path`, renamed over it only when complete.
async fn write_atomically(
    path: &Path,
    format: Format,
    image: &Image,
    registry: &Registry,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".tug-save-")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let file = tokio::fs::File::from_std(temp.reopen().context("opening the temporary file")?);
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    match format {
        Format::Docker => image.write_docker_archive(registry, &mut writer).await?,
        Format::Oci => image.write_oci_archive(registry, &mut writer).await?,
    }
    writer.flush().await.context("writing the archive")?;
    writer
        .into_inner()
        .sync_all()
        .await
        .context("writing the archive")?;
    // tempfile creates 0600; an archive is an ordinary file.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))
            .context("setting the archive's mode")?;
    }
    temp.persist(path)
        .with_context(|| format!("renaming the archive to {}", path.display()))?;
    Ok(())
}

/// `["a","b"]` → list; anything else → `/bin/sh -c <text>` (docker's shell form).
fn command_line(text: &str, option: &str) -> anyhow::Result<Vec<String>> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).with_context(|| format!("{option}: not a JSON array of strings"));
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), text.into()])
}

async fn add_layer(a: AddLayerArgs) -> anyhow::Result<ExitCode> {
    let mut out = Out::new(&a.common, "add-layer");
    let registry = registry(&a.common)?;
    let dest = Reference::parse(&a.dest)?;
    let mut image = pull(&mut out, &registry, &a.source, a.platform.as_deref()).await?;
    let mut removals = a.remove_layers.clone();
    removals.sort_unstable();
    removals.dedup();
    for n in removals.iter().rev() {
        image
            .remove_layer(*n)
            .with_context(|| format!("--remove-layer {n}"))?;
        out.step(format!("removed layer {n}"));
    }
    let mut added = Vec::new();
    if !a.files.is_empty() {
        let mut files = Vec::new();
        for spec in &a.files {
            let (host, in_image) = spec
                .rsplit_once(':')
                .with_context(|| format!("--file {spec}: expected HOSTFILE:IMAGEPATH"))?;
            let data = std::fs::read(host).with_context(|| format!("--file {spec}: reading {host}"))?;
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(host)?.permissions().mode() & 0o7777
            };
            files.push((in_image.to_owned(), data, mode));
        }
        let comment = format!("tug image add-layer --file {}", a.files.join(" --file "));
        let info = image.add_layer_files(&files, &comment).await?;
        out.step(format!(
            "added layer {} ({}) with {} file(s)",
            info.digest,
            bytes(info.size),
            files.len()
        ));
        added.push(info);
    }
    for spec in &a.dirs {
        let (host, in_image) = match spec.split_once(':') {
            Some((h, i)) => (h, i),
            None => (spec.as_str(), "/"),
        };
        let info = image
            .add_layer_dir(
                Path::new(host),
                in_image,
                &format!("tug image add-layer --dir {spec}"),
            )
            .await
            .with_context(|| format!("--dir {spec}"))?;
        out.step(format!(
            "added layer {} ({}) from {host}",
            info.digest,
            bytes(info.size)
        ));
        added.push(info);
    }
    let mut edit = ConfigEdit {
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        ..Default::default()
    };
    for l in &a.labels {
        edit.labels.push(match l.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (l.clone(), None),
        });
    }
    if let Some(c) = &a.cmd {
        edit.cmd = Some(command_line(c, "--cmd")?);
    }
    if let Some(e) = &a.entrypoint {
        edit.entrypoint = Some(command_line(e, "--entrypoint")?);
    }
    if edit != ConfigEdit::default() {
        image.edit(&edit)?;
        out.step("edited the config");
    }
    out.set("added", &added);
    push_to(out, &registry, image, &dest).await
}

fn step_push(out: &mut Out, dest: &Reference, report: &PushReport) {
    out.step(format!(
        "pushed {dest}: {} blob(s) uploaded ({}), {} mounted, {} already there; manifest {}",
        report.blobs_uploaded,
        bytes(report.bytes_uploaded),
        report.blobs_mounted,
        report.blobs_skipped,
        report.manifest_digest
    ));
    out.set("destination", dest.to_string());
    out.set("digest", &report.manifest_digest);
    out.set("push", report);
}

async fn push(a: PushArgs) -> anyhow::Result<ExitCode> {
    let mut out = Out::new(&a.common, "push");
    let registry = registry(&a.common)?;
    let dest = Reference::parse(&a.dest)?;
    let image = if Path::new(&a.source).is_file() {
        let image = Image::from_docker_archive(Path::new(&a.source))
            .await
            .with_context(|| format!("reading {}", a.source))?;
        let layers = image.layers();
        let total: u64 = layers.iter().map(|l| l.size).sum();
        out.step(format!(
            "read {}: {} layers ({} compressed)",
            a.source,
            layers.len(),
            bytes(total)
        ));
        out.set("source", &a.source);
        out.set("layers", &layers);
        out.set("image_bytes", total);
        image
    } else {
        pull(&mut out, &registry, &a.source, a.platform.as_deref()).await?
    };
    push_to(out, &registry, image, &dest).await
}

/// Names the image `dest`, pushes it there and reports the push: the end of `add-layer` and `push`.
async fn push_to(
    mut out: Out,
    registry: &Registry,
    mut image: Image,
    dest: &Reference,
) -> anyhow::Result<ExitCode> {
    image.set_name(dest.clone());
    let report = image
        .push(registry, dest)
        .await
        .with_context(|| format!("pushing {dest}"))?;
    step_push(&mut out, dest, &report);
    Ok(out.finish(registry, format!("{dest} is {}", report.manifest_digest)))
}
