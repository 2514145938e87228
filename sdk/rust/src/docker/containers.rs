//! [`Containers`] (the collection) and [`Container`] (the model), over `containers`,
//! `container-streams`, `exec` and `exec-streams`.

use std::io::Read;

use serde::Deserialize;

use super::{id_of, parse, short_id, streams::Logs, to_json, Docker, Docs, Error, Image, Result};
use crate::models::{
    ContainerCreateBody, ContainerExecBody, ContainerInspectResponse, ContainerPruneResponse,
    ContainerStatsResponse, ContainerSummary, ContainerTopResponse, ContainerUpdateBody,
    ContainerUpdateResponse, ContainerWaitResponse, ExecInspectResponse, FilesystemChange, HealthConfig,
    HostConfig,
};
use crate::types::{AttachedSocket, AuthConfig, StreamKind};
use crate::wasip2::io::streams::InputStream;
use crate::{container_streams, containers, exec, exec_streams, images};

/// The containers of an engine: [`crate::docker::Docker::containers`].
#[derive(Clone, Debug)]
pub struct Containers {
    docker: Docker,
}

/// A container: its ID and its inspect document (`attrs`, as of the last [`Container::reload`]).
#[derive(Clone, Debug)]
pub struct Container {
    docker: Docker,
    /// The full ID.
    pub id: String,
    /// The engine's inspect document.
    pub attrs: ContainerInspectResponse,
}

/// How [`Containers::create`] and [`Containers::run`] make a container: the create body (`config`,
/// which the builder methods fill) and, for `run`, what to do with it.
///
/// ```no_run
/// # use tug_sdk::docker::RunOptions;
/// let options = RunOptions::new()
///     .command(["sh", "-c", "make test"])
///     .env("CI", "1")
///     .label("org.example.job", "42")
///     .working_dir("/src")
///     .remove(true);
/// ```
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The create body (`Image` is set from the image argument).
    pub config: ContainerCreateBody,
    /// The container's name.
    pub name: Option<String>,
    /// The platform (`os[/arch[/variant]]`) of the image to use.
    pub platform: Option<String>,
    /// `run` only: start it and return the [`Container`] at once (default false).
    pub detach: bool,
    /// `run` only: remove the container once it has exited and its output was read (default false).
    pub remove: bool,
    /// `run` only: return what it wrote to stdout (default true).
    pub stdout: bool,
    /// `run` only: return what it wrote to stderr too (default false).
    pub stderr: bool,
    /// `run` only: credentials for pulling the image when it is missing (default: the host's, if any).
    pub auth: Option<AuthConfig>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            config: ContainerCreateBody::default(),
            name: None,
            platform: None,
            detach: false,
            remove: false,
            stdout: true,
            stderr: false,
            auth: None,
        }
    }
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

impl RunOptions {
    /// The defaults: stdout returned, nothing removed, not detached.
    pub fn new() -> Self {
        Self::default()
    }

    fn host_config(&mut self) -> &mut HostConfig {
        self.config.host_config.get_or_insert_with(Default::default)
    }

    /// `Cmd`: the command (arguments to the entrypoint).
    pub fn command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.cmd = Some(strings(args));
        self
    }

    /// `Entrypoint`.
    pub fn entrypoint<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.entrypoint = Some(strings(args));
        self
    }

    /// Adds `NAME=value` to `Env`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.config
            .env
            .get_or_insert_with(Vec::new)
            .push(format!("{name}={value}"));
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.config
            .labels
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// `WorkingDir`.
    pub fn working_dir(mut self, dir: &str) -> Self {
        self.config.working_dir = Some(dir.to_owned());
        self
    }

    /// `User`.
    pub fn user(mut self, user: &str) -> Self {
        self.config.user = Some(user.to_owned());
        self
    }

    /// `Tty`.
    pub fn tty(mut self, tty: bool) -> Self {
        self.config.tty = Some(tty);
        self
    }

    /// `Healthcheck`.
    pub fn healthcheck(mut self, check: HealthConfig) -> Self {
        self.config.healthcheck = Some(check);
        self
    }

    /// `HostConfig.NetworkMode`: the network to connect it to (`bridge`, `none`, a network's name…).
    pub fn network(mut self, network: &str) -> Self {
        self.host_config().network_mode = Some(network.to_owned());
        self
    }

    /// Adds a bind mount or named volume to `HostConfig.Binds` (`src:dst[:ro]`).
    pub fn volume(mut self, bind: &str) -> Self {
        self.host_config()
            .binds
            .get_or_insert_with(Vec::new)
            .push(bind.to_owned());
        self
    }

    /// The container's name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Whether `run` returns at once with the started container.
    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }

    /// Whether `run` removes the container once it has exited.
    pub fn remove(mut self, remove: bool) -> Self {
        self.remove = remove;
        self
    }

    /// Whether `run` returns the container's stdout.
    pub fn stdout(mut self, stdout: bool) -> Self {
        self.stdout = stdout;
        self
    }

    /// Whether `run` returns the container's stderr.
    pub fn stderr(mut self, stderr: bool) -> Self {
        self.stderr = stderr;
        self
    }

    /// Replaces the whole create body (keep the builder calls after this one).
    pub fn config(mut self, config: ContainerCreateBody) -> Self {
        self.config = config;
        self
    }
}

/// What [`Containers::run`] gives back: the output, or with `detach` the running container.
#[derive(Debug)]
pub enum Ran {
    /// The container's output (stdout and/or stderr as asked, in the order written).
    Output(Vec<u8>),
    /// The started container (`detach`).
    Detached(Box<Container>),
}

impl Ran {
    /// The output, if the run was not detached.
    pub fn into_output(self) -> Option<Vec<u8>> {
        match self {
            Ran::Output(out) => Some(out),
            Ran::Detached(_) => None,
        }
    }

    /// The container, if the run was detached.
    pub fn into_container(self) -> Option<Container> {
        match self {
            Ran::Detached(c) => Some(*c),
            Ran::Output(_) => None,
        }
    }
}

/// How [`Container::exec_run`] runs a command.
#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    /// `User`.
    pub user: Option<String>,
    /// `WorkingDir`.
    pub workdir: Option<String>,
    /// `Env` (`NAME=value`).
    pub env: Vec<String>,
    /// `Privileged`.
    pub privileged: bool,
    /// `Tty`: the output is raw stdout.
    pub tty: bool,
}

/// The outcome of [`Container::exec_run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutput {
    /// The process's exit code.
    pub exit_code: i64,
    /// What it wrote to stdout (all of the output with a TTY).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// What the engine says about a path in a container (the `X-Docker-Container-Path-Stat` header).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PathStat {
    /// The base name.
    #[serde(default)]
    pub name: String,
    /// The size in bytes.
    #[serde(default)]
    pub size: i64,
    /// The mode bits, Go's `os.FileMode` (type bits included).
    #[serde(default)]
    pub mode: u32,
    /// The modification time (RFC 3339).
    #[serde(default)]
    pub mtime: String,
    /// The target, for a symbolic link.
    #[serde(default, rename = "linkTarget")]
    pub link_target: String,
}

/// A tar archive of a path in a container: [`Container::get_archive`].
#[derive(Debug)]
pub struct Archive {
    /// The path's stat.
    pub stat: PathStat,
    /// The tar, streamed.
    pub content: InputStream,
}

impl Archive {
    /// Reads the whole tar.
    pub fn bytes(self) -> Result<Vec<u8>> {
        Ok(crate::read_to_end(&self.content)?)
    }

    /// The contents of the file the archive holds (the path was a regular file).
    pub fn file(self) -> Result<Vec<u8>> {
        let name = self.stat.name.clone();
        let mut tar = tar::Archive::new(self.content);
        for entry in tar.entries()? {
            let mut entry = entry?;
            if entry.header().entry_type().is_file() {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                return Ok(data);
            }
        }
        Err(Error::NotFound(format!(
            "the archive of {name} holds no regular file"
        )))
    }
}

impl Containers {
    pub(crate) fn new(docker: Docker) -> Self {
        Containers { docker }
    }

    /// `containers.list` read as summaries (docker-py's `list(sparse=True)`).
    pub fn list_summaries(&self, options: containers::ListOptions) -> Result<Vec<ContainerSummary>> {
        parse(
            "containers.list",
            &containers::list(self.docker.engine(), &options)?,
        )
    }

    /// `containers.list`, each container then inspected (docker-py's `list()`); a container removed in
    /// between is left out.
    pub fn list(&self, options: containers::ListOptions) -> Result<Vec<Container>> {
        let summaries = self.list_summaries(options)?;
        super::get_each(summaries.into_iter().map(|s| s.id), |id| self.get(id))
    }

    /// The container with this ID, ID prefix or name (`containers.inspect`).
    pub fn get(&self, id: &str) -> Result<Container> {
        let attrs: ContainerInspectResponse = parse(
            "containers.inspect",
            &containers::inspect(self.docker.engine(), id, Default::default())?,
        )?;
        let id = attrs.id.clone().unwrap_or_else(|| id.to_owned());
        Ok(Container {
            docker: self.docker.clone(),
            id,
            attrs,
        })
    }

    /// `containers.create` from `image` and `options.config` (`run`-only options are ignored).
    pub fn create(&self, image: &str, options: &RunOptions) -> Result<Container> {
        let mut config = options.config.clone();
        config.image = Some(image.to_owned());
        let create = containers::CreateOptions {
            name: options.name.clone(),
            platform: options.platform.clone(),
        };
        let answer = containers::create(
            self.docker.engine(),
            &to_json("containers.create", &config)?,
            &create,
        )?;
        self.get(&id_of("containers.create", &answer)?)
    }

    /// docker-py's `run`: creates a container from `image` (pulling the image first when the engine
    /// does not have it), starts it and, unless `detach`, follows its output to the end, waits for it,
    /// removes it when asked, and returns its output — or [`Error::Container`] with its exit status and
    /// stderr when it exits non-zero.
    pub fn run(&self, image: &str, options: RunOptions) -> Result<Ran> {
        let container = match self.create(image, &options) {
            // Only a missing image is pulled (docker-py's `ImageNotFound`); a missing network is not.
            Err(Error::NotFound(m)) if m.contains("No such image") => {
                self.docker
                    .images()
                    .pull(image, Default::default(), options.auth.clone())?;
                self.create(image, &options)?
            }
            other => other?,
        };
        let outcome = run_created(&container, &options);
        let remove = options.remove
            && !matches!(outcome, Ok(Ran::Detached(_)))
            && !options
                .config
                .host_config
                .as_ref()
                .and_then(|h| h.auto_remove)
                .unwrap_or(false);
        if remove {
            let removed = container.remove(containers::RemoveOptions {
                force: Some(true),
                ..Default::default()
            });
            if outcome.is_ok() {
                removed?;
            }
        }
        outcome
    }

    /// `containers.prune`.
    pub fn prune(&self, options: containers::PruneOptions) -> Result<ContainerPruneResponse> {
        parse(
            "containers.prune",
            &containers::prune(self.docker.engine(), &options)?,
        )
    }
}

/// Starts `container` and, unless detached, reads its output and waits for it.
fn run_created(container: &Container, options: &RunOptions) -> Result<Ran> {
    container.start()?;
    if options.detach {
        let mut c = container.clone();
        c.reload()?;
        return Ok(Ran::Detached(Box::new(c)));
    }
    let out = if options.stdout || options.stderr {
        container
            .logs(container_streams::LogsOptions {
                follow: Some(true),
                stdout: Some(options.stdout),
                stderr: Some(options.stderr),
                ..Default::default()
            })?
            .bytes()?
    } else {
        Vec::new()
    };
    let status = container.wait(Default::default())?.status_code.unwrap_or(0);
    if status != 0 {
        let stderr = container
            .logs(container_streams::LogsOptions {
                stderr: Some(true),
                ..Default::default()
            })
            .and_then(Logs::output)
            .map(|(_, err)| err)
            .unwrap_or_default();
        return Err(Error::Container {
            id: container.id.clone(),
            exit_status: status,
            command: container
                .attrs
                .config
                .as_ref()
                .and_then(|c| c.cmd.clone())
                .unwrap_or_default(),
            image: container
                .attrs
                .config
                .as_ref()
                .and_then(|c| c.image.clone())
                .unwrap_or_default(),
            stderr,
        });
    }
    Ok(Ran::Output(out))
}

impl Container {
    fn engine(&self) -> &crate::engines::Engine {
        self.docker.engine()
    }

    /// The first 12 characters of the ID.
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }

    /// The name, without the leading `/`.
    pub fn name(&self) -> Option<&str> {
        self.attrs.name.as_deref().map(|n| n.trim_start_matches('/'))
    }

    /// `State.Status` as the engine wrote it (`created`, `running`, `exited`…), as of the last reload.
    pub fn status(&self) -> Option<String> {
        self.attrs
            .state
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .map(|s| s.to_string())
    }

    /// `State.Health.Status` (`starting`, `healthy`, `unhealthy`), if it has a healthcheck.
    pub fn health(&self) -> Option<String> {
        self.attrs
            .state
            .as_ref()
            .and_then(|s| s.health.as_ref())
            .and_then(|h| h.status.as_ref())
            .map(|s| s.to_string())
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

    /// Inspects it again (`containers.inspect`).
    pub fn reload(&mut self) -> Result<()> {
        *self = self.docker.containers().get(&self.id)?;
        Ok(())
    }

    /// Runs `body` with the container, then removes it (forced, with its anonymous volumes) whatever
    /// `body` returned: a container that exists only for a piece of work. `body`'s error wins over the
    /// removal's.
    ///
    /// ```no_run
    /// # use tug_sdk::docker::{Docker, RunOptions};
    /// let docker = Docker::from_env()?;
    /// let container = docker.containers().create("busybox", &RunOptions::new().command(["sleep", "9"]))?;
    /// let top = container.scoped(|c| {
    ///     c.start()?;
    ///     c.top(Default::default())
    /// })?;
    /// # Ok::<(), tug_sdk::docker::Error>(())
    /// ```
    pub fn scoped<T>(self, body: impl FnOnce(&Container) -> Result<T>) -> Result<T> {
        let outcome = body(&self);
        let removed = self.remove(containers::RemoveOptions {
            force: Some(true),
            v: Some(true),
            ..Default::default()
        });
        let value = outcome?;
        removed?;
        Ok(value)
    }

    /// `containers.start`.
    pub fn start(&self) -> Result<()> {
        Ok(containers::start(self.engine(), &self.id, &Default::default())?)
    }

    /// `containers.stop`.
    pub fn stop(&self, options: containers::StopOptions) -> Result<()> {
        Ok(containers::stop(self.engine(), &self.id, options)?)
    }

    /// `containers.restart`.
    pub fn restart(&self, options: containers::RestartOptions) -> Result<()> {
        Ok(containers::restart(self.engine(), &self.id, options)?)
    }

    /// `containers.kill`.
    pub fn kill(&self, options: containers::KillOptions) -> Result<()> {
        Ok(containers::kill(self.engine(), &self.id, &options)?)
    }

    /// `containers.pause`.
    pub fn pause(&self) -> Result<()> {
        Ok(containers::pause(self.engine(), &self.id)?)
    }

    /// `containers.unpause`.
    pub fn unpause(&self) -> Result<()> {
        Ok(containers::unpause(self.engine(), &self.id)?)
    }

    /// `containers.rename`.
    pub fn rename(&self, name: &str) -> Result<()> {
        Ok(containers::rename(self.engine(), &self.id, name)?)
    }

    /// `containers.resize`: its TTY's size.
    pub fn resize(&self, height: u32, width: u32) -> Result<()> {
        Ok(containers::resize(self.engine(), &self.id, height, width)?)
    }

    /// `containers.update`: its resources and restart policy.
    pub fn update(&self, update: &ContainerUpdateBody) -> Result<ContainerUpdateResponse> {
        parse(
            "containers.update",
            &containers::update(self.engine(), &self.id, &to_json("containers.update", update)?)?,
        )
    }

    /// `containers.remove`.
    pub fn remove(&self, options: containers::RemoveOptions) -> Result<()> {
        Ok(containers::remove(self.engine(), &self.id, options)?)
    }

    /// `containers.wait`: until it stops (or meets `condition`); its exit status.
    pub fn wait(&self, options: containers::WaitOptions) -> Result<ContainerWaitResponse> {
        parse(
            "containers.wait",
            &containers::wait(self.engine(), &self.id, &options)?,
        )
    }

    /// `containers.top`.
    pub fn top(&self, options: containers::TopOptions) -> Result<ContainerTopResponse> {
        parse(
            "containers.top",
            &containers::top(self.engine(), &self.id, &options)?,
        )
    }

    /// `containers.changes`: the files changed in its filesystem.
    pub fn changes(&self) -> Result<Vec<FilesystemChange>> {
        let json = containers::changes(self.engine(), &self.id)?;
        // The engine answers `null` when nothing changed.
        Ok(parse::<Option<Vec<FilesystemChange>>>("containers.changes", &json)?.unwrap_or_default())
    }

    /// `containers.stats`: one sample of its resource usage.
    pub fn stats(&self) -> Result<ContainerStatsResponse> {
        parse(
            "containers.stats",
            &containers::stats(
                self.engine(),
                &self.id,
                containers::StatsOptions { one_shot: None },
            )?,
        )
    }

    /// `container-streams.stats`: a sample of its resource usage every second, until dropped.
    pub fn stats_stream(&self) -> Result<Docs<ContainerStatsResponse>> {
        Ok(Docs::new(
            container_streams::stats(self.engine(), &self.id)?,
            "a stats sample",
        ))
    }

    /// `container-streams.logs`.
    pub fn logs(&self, options: container_streams::LogsOptions) -> Result<Logs> {
        Ok(Logs::new(container_streams::logs(
            self.engine(),
            &self.id,
            &options,
        )?))
    }

    /// `container-streams.attach`: a socket to its standard streams.
    pub fn attach(&self, options: container_streams::AttachOptions) -> Result<AttachedSocket> {
        Ok(container_streams::attach(self.engine(), &self.id, &options)?)
    }

    /// `container-streams.export`: its filesystem as a tar.
    pub fn export(&self) -> Result<InputStream> {
        Ok(container_streams::export(self.engine(), &self.id)?)
    }

    /// `containers.archive-info`: the stat of `path` in it.
    pub fn archive_info(&self, path: &str) -> Result<PathStat> {
        parse(
            "containers.archive-info",
            &containers::archive_info(self.engine(), &self.id, path)?,
        )
    }

    /// `container-streams.get-archive`: `path` in it, as a tar (see [`Archive::file`]).
    pub fn get_archive(&self, path: &str) -> Result<Archive> {
        let archive = container_streams::get_archive(self.engine(), &self.id, path)?;
        Ok(Archive {
            stat: parse("container-streams.get-archive's stat", &archive.stat)?,
            content: archive.content,
        })
    }

    /// `container-streams.put-archive`: extracts the tar `tar` into `path` in it (see
    /// [`crate::archive`] to make one).
    pub fn put_archive(&self, path: &str, tar: &[u8]) -> Result<()> {
        let upload = container_streams::put_archive(self.engine(), &self.id, path, Default::default())?;
        crate::upload_all(upload, tar)?;
        Ok(())
    }

    /// `images.commit`: an image of its filesystem and config.
    pub fn commit(&self, options: images::CommitOptions) -> Result<Image> {
        let answer = images::commit(self.engine(), &self.id, None, &options)?;
        self.docker.images().get(&id_of("images.commit", &answer)?)
    }

    /// Creates an exec instance of `cmd` in it (`exec.create`), attached to stdout and stderr, and
    /// with stdin when `stdin`.
    fn exec_create(&self, cmd: &[&str], options: &ExecOptions, stdin: bool) -> Result<String> {
        let config = ContainerExecBody {
            attach_stdin: Some(stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(options.tty),
            cmd: Some(strings(cmd.iter().copied())),
            env: (!options.env.is_empty()).then(|| options.env.clone()),
            user: options.user.clone(),
            working_dir: options.workdir.clone(),
            privileged: Some(options.privileged),
            ..Default::default()
        };
        let answer = exec::create(self.engine(), &self.id, &to_json("exec.create", &config)?)?;
        id_of("exec.create", &answer)
    }

    /// docker-py's `exec_run`: runs `cmd` in it to the end (`exec.create`, `exec-streams.start`,
    /// `exec.inspect`) and returns its exit code and output.
    pub fn exec_run(&self, cmd: &[&str], options: ExecOptions) -> Result<ExecOutput> {
        let exec_id = self.exec_create(cmd, &options, false)?;
        let socket = exec_streams::start(
            self.engine(),
            &exec_id,
            exec_streams::StartOptions {
                tty: Some(options.tty),
                stdin: Some(false),
            },
        )?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        for frame in crate::frames(&socket) {
            let frame = frame?;
            match frame.stream {
                StreamKind::Stdout => stdout.extend_from_slice(&frame.data),
                StreamKind::Stderr | StreamKind::System => stderr.extend_from_slice(&frame.data),
                StreamKind::Stdin => {}
            }
        }
        drop(socket);
        let inspect = self.exec_wait(&exec_id)?;
        Ok(ExecOutput {
            exit_code: inspect.exit_code.unwrap_or(-1),
            stdout,
            stderr,
        })
    }

    /// `exec.inspect` of an exec instance of this container.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspectResponse> {
        parse("exec.inspect", &exec::inspect(self.engine(), exec_id)?)
    }

    /// `exec.inspect` once the exec instance is no longer running: its output ends when the process
    /// does, and the engine records the exit a moment later (waits at most 10 s, then answers what it
    /// has).
    pub fn exec_wait(&self, exec_id: &str) -> Result<ExecInspectResponse> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let inspect = self.exec_inspect(exec_id)?;
            if inspect.running != Some(true) || std::time::Instant::now() > deadline {
                return Ok(inspect);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// docker-py's `exec_run(socket=True, stdin=True)`: starts `cmd` in it with stdin open and returns
    /// the exec instance's ID (for `exec.inspect`) and the socket (write with `stdin()`, read frames
    /// with [`crate::frames`]).
    pub fn exec_socket(&self, cmd: &[&str], options: ExecOptions) -> Result<(String, AttachedSocket)> {
        let exec_id = self.exec_create(cmd, &options, true)?;
        let socket = exec_streams::start(
            self.engine(),
            &exec_id,
            exec_streams::StartOptions {
                tty: Some(options.tty),
                stdin: Some(true),
            },
        )?;
        Ok((exec_id, socket))
    }
}
