//! A managed Docker plugin's whole life, through the local registry: create it from a tar (its
//! `config.json` and `rootfs/`), inspect it, set one of its env settings, enable it (dockerd starts it and
//! talks to it on its socket), list it, disable it, push it to 127.0.0.1:5000, ask the registry for its
//! privileges, remove it, pull it back accepting those privileges, upgrade it to the same reference, enable
//! and disable it again, and remove it. Whatever it made is removed at the end, whatever happens.
//!
//! The plugin has no filesystem but what its policy preopens: the tar is read from
//! `/fixture/docker-plugin.tar` (a policy with `[[preopens]] host = "<dir>" guest = "/fixture"`).
//!
//! Usage:
//! - `dockerplugin [run] [TAG [TAR]]`: the whole life above (by default a unique tag and the path above);
//!   prints `ok` at the end;
//! - `dockerplugin case KIND TARGET BODY [KIND TARGET BODY]…`: tries each call and prints
//!   `case N: denied RULE FIELD`, `case N: allowed` or `case N: error MESSAGE`. Kinds: `create` (TARGET is
//!   the name, BODY a path to a tar or `-` for an empty body), `pull` (TARGET the remote, BODY the
//!   privileges), `upgrade` (TARGET the plugin, upgraded to itself; BODY the privileges), `set` (BODY the
//!   settings), `enable` (disabled again at once), `privileges`, `push`, `inspect`, `list`. What a `pull`
//!   installs is removed at once. The cases send their bodies as given, through the WIT functions
//!   themselves: they probe the policy, which must see exactly those bytes.

use std::fs::File;
use std::time::{SystemTime, UNIX_EPOCH};

use tug_sdk::docker::{filters, Docker, Docs, Plugin};
use tug_sdk::models::CreateImageInfo;
use tug_sdk::plugins::{self, DisableOptions, EnableOptions, ListOptions, RemoveOptions};
use tug_sdk::types::JsonStream;
use tug_sdk::{documents, plugin_streams, upload_with};

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const REPOSITORY: &str = "127.0.0.1:5000/tug-test/dockerplugin";
const TAR: &str = "/fixture/docker-plugin.tar";
const SETTING: &str = "TUGTEST_GREETING";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("case") {
        tug_sdk::main(|| cases(&Docker::from_env()?, &args[1..]));
        return;
    }
    let args = match args.first().map(String::as_str) {
        Some("run") => &args[1..],
        _ => &args[..],
    };
    let tag = args.first().cloned().unwrap_or_else(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("e2e-{}-{:09}", now.as_secs(), now.subsec_nanos())
    });
    let tar = args.get(1).map_or(TAR, String::as_str);
    tug_sdk::main(|| {
        let docker = Docker::from_env()?;
        let mut made = Vec::new();
        let outcome = run(&docker, &tag, tar, &mut made);
        outcome.and(clean_up(&docker, made))
    });
    println!("ok");
}

/// Removes the plugins named in `made` that are still installed (force: disabled first).
fn clean_up(docker: &Docker, made: Vec<String>) -> Result {
    let mut failed = Vec::new();
    for name in made {
        let removed = docker
            .plugins()
            .get(&name)
            .and_then(|plugin| plugin.remove(RemoveOptions { force: Some(true) }));
        match removed {
            Ok(()) => println!("cleanup: removed plugin {name}"),
            Err(e) if e.is_not_found() => {}
            Err(e) => failed.push(format!("removing plugin {name}: {e}")),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("cleanup failed: {}", failed.join("; ")).into())
    }
}

/// `Settings.Env`.
fn env(plugin: &Plugin) -> Vec<String> {
    let settings = plugin.attrs.settings.as_ref();
    settings.and_then(|s| s.env.clone()).unwrap_or_default()
}

fn run(docker: &Docker, tag: &str, tar: &str, made: &mut Vec<String>) -> Result {
    let name = format!("{REPOSITORY}:{tag}");

    // Create it from the tar, streamed from the preopened file.
    let file = File::open(tar).map_err(|e| format!("reading {tar} (is its directory preopened?): {e}"))?;
    let size = file.metadata()?.len();
    made.push(name.clone());
    let mut plugin = docker.plugins().create(&name, file)?;
    println!("created plugin {name} from a {size}-byte tar");

    // Inspect it.
    let interface = (plugin.attrs.config.as_ref())
        .and_then(|c| c.interface.clone())
        .unwrap_or_default();
    let socket = interface.socket.unwrap_or_default();
    if plugin.enabled() || socket != "tugtest.sock" {
        return Err(format!(
            "the created plugin: expected disabled with socket tugtest.sock, got {:?}",
            plugin.attrs
        )
        .into());
    }
    println!(
        "inspect: id {}, enabled false, socket {socket:?}, types {:?}, env {:?}",
        plugin.short_id(),
        interface.types.unwrap_or_default(),
        env(&plugin)
    );

    // Set its env setting.
    let setting = format!("{SETTING}=bonjour {tag}");
    plugin.set(&[&setting])?;
    plugin.reload()?;
    let settings = env(&plugin);
    if !settings.contains(&setting) {
        let got = format!("expected Settings.Env to hold {setting:?}, got {settings:?}");
        return Err(format!("after set: {got}").into());
    }
    println!("set {:?}: Settings.Env is now {settings:?}", [&setting]);

    // Enable it: dockerd starts it and checks its socket.
    plugin.enable(EnableOptions { timeout: Some(30) })?;
    plugin.reload()?;
    if !plugin.enabled() {
        return Err("the plugin is not enabled after enable".into());
    }
    println!("enabled {name}");

    // List the enabled volume drivers: it is one.
    let enabled_drivers = filters([("enabled", "true"), ("capability", "volumedriver")]);
    let listed = docker.plugins().list(ListOptions {
        filters: Some(enabled_drivers),
    })?;
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    if !names.contains(&name.as_str()) {
        return Err(format!("list (enabled volume drivers) does not show {name}: {names:?}").into());
    }
    println!(
        "list (enabled=true, capability=volumedriver): {} plugins, {name} among them",
        names.len()
    );

    // Disable it, push it to the local registry.
    plugin.disable(DisableOptions { force: None })?;
    println!("disabled {name}");
    println!("push {name}:");
    let progress = follow("push", plugin.push(None)?)?;
    let digest = (progress.iter())
        .find_map(|message| message.extra.get("aux")?["Digest"].as_str())
        .ok_or("the push reported no digest (aux.Digest)")?;
    println!("pushed: digest {digest}");

    // What the registry says it needs.
    let privileges = docker.plugins().privileges(&name, None)?;
    println!("privileges of {name}: {}", serde_json::to_string(&privileges)?);

    // Remove it, pull it back accepting those privileges.
    plugin.remove(RemoveOptions { force: None })?;
    println!("removed {name}");
    println!("pull {name}:");
    let progress = docker
        .plugins()
        .pull_progress(&name, &privileges, Default::default(), None)?;
    follow("pull", progress)?;
    let mut plugin = docker.plugins().get(&name)?;
    let reference = plugin.attrs.plugin_reference.clone().unwrap_or_default();
    if plugin.enabled() || reference != name {
        return Err(format!(
            "the pulled plugin: expected disabled with reference {name}, got {:?}",
            plugin.attrs
        )
        .into());
    }
    println!(
        "pulled: id {}, reference {reference:?}, enabled false",
        plugin.short_id()
    );

    // Upgrade it (it is disabled) to the same reference.
    println!("upgrade {name} to {name}:");
    follow("upgrade", plugin.upgrade(&name, None)?)?;
    plugin.reload()?;
    let reference = plugin.attrs.plugin_reference.clone().unwrap_or_default();
    println!("upgraded: reference {reference:?}");

    // Enable and disable it again, then remove it.
    plugin.enable(EnableOptions { timeout: Some(30) })?;
    println!("enabled {name} again");
    plugin.disable(DisableOptions { force: Some(false) })?;
    println!("disabled {name} again");
    plugin.remove(RemoveOptions { force: None })?;
    made.retain(|p| *p != name);
    match docker.plugins().get(&name) {
        Err(e) if e.is_not_found() => println!("removed {name}: inspect says not found"),
        other => return Err(format!("after remove, inspect answered {other:?}").into()),
    }
    Ok(())
}

/// Prints a progress stream's steps as they come and returns its messages; an error message is a
/// failure.
fn follow(what: &str, progress: Docs<CreateImageInfo>) -> Result<Vec<CreateImageInfo>> {
    let mut all = Vec::new();
    for message in progress {
        let message = message?;
        let detail = message.error_detail.as_ref().and_then(|d| d.message.clone());
        if let Some(error) = detail.or_else(|| message.error.clone()) {
            return Err(format!("{what} failed: {error}").into());
        }
        match (&message.status, &message.id, &message.progress) {
            (Some(status), Some(id), None) => println!("  {id}: {status}"),
            (Some(status), None, None) => println!("  {status}"),
            (None, _, _) => {
                if let Some(aux) = message.extra.get("aux") {
                    println!("  aux: {aux}");
                }
            }
            _ => {}
        }
        all.push(message);
    }
    Ok(all)
}

/// Tries each `KIND TARGET BODY` case and prints what the policy (or the engine) said.
fn cases(docker: &Docker, args: &[String]) -> Result {
    if args.len() % 3 != 0 {
        eprintln!("error: cases come in threes: KIND TARGET BODY");
        std::process::exit(2);
    }
    let e = docker.engine();
    // What a case's progress says does not matter, only whether the call was let through.
    let drain = |stream: JsonStream| documents(&stream).for_each(drop);
    for (n, case) in args.chunks(3).enumerate() {
        let (kind, target, body) = (case[0].as_str(), case[1].as_str(), case[2].as_str());
        let outcome = match kind {
            "create" => plugin_streams::create(e, target).and_then(|upload| {
                upload_with(upload, |out| match body {
                    "-" => Ok(()),
                    path => std::io::copy(&mut File::open(path)?, out).map(drop),
                })
                .map(drop)
            }),
            "pull" => plugin_streams::pull(e, target, body, &Default::default(), None).map(|stream| {
                drain(stream);
                let _ = plugins::remove(e, target, RemoveOptions { force: Some(true) });
            }),
            "upgrade" => plugin_streams::upgrade(e, target, target, body, None).map(drain),
            "set" => plugins::set(e, target, body),
            "enable" => plugins::enable(e, target, EnableOptions { timeout: Some(30) }).map(|()| {
                let _ = plugins::disable(e, target, DisableOptions { force: Some(true) });
            }),
            "privileges" => plugins::privileges(e, target, None).map(drop),
            "push" => plugin_streams::push(e, target, None).map(drain),
            "inspect" => plugins::inspect(e, target).map(drop),
            "list" => plugins::list(e, &Default::default()).map(drop),
            other => {
                println!("case {n}: error unknown kind {other:?}");
                continue;
            }
        };
        match outcome {
            Ok(()) => println!("case {n}: allowed"),
            Err(tug_sdk::Error::Denied(d)) => println!(
                "case {n}: denied {} {}",
                d.rule,
                d.field.unwrap_or_else(|| "-".into())
            ),
            Err(e) => println!("case {n}: error {e}"),
        }
    }
    Ok(())
}
