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
//!   installs is removed at once.

use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use tug_sdk::types::{Error, JsonStream};
use tug_sdk::{documents, engine, engines::Engine, plugin_streams, plugins, upload_with};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const REPOSITORY: &str = "127.0.0.1:5000/tug-test/dockerplugin";
const TAR: &str = "/fixture/docker-plugin.tar";
const SETTING: &str = "TUGTEST_GREETING";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let docker = engine();
    if args.first().map(String::as_str) == Some("case") {
        cases(&docker, &args[1..]);
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
    let mut made = Made::default();
    let outcome = run(&docker, &tag, tar, &mut made);
    let cleaned = made.clean_up(&docker);
    if let Err(e) = outcome.and(cleaned) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("ok");
}

/// The plugins this run installed and must remove at the end.
#[derive(Default)]
struct Made {
    plugins: Vec<String>,
}

impl Made {
    /// Removes every plugin still installed (force: disabled first); those already gone are fine.
    fn clean_up(&mut self, docker: &Engine) -> Result<()> {
        let mut failed = Vec::new();
        for name in self.plugins.drain(..) {
            match plugins::remove(docker, &name, plugins::RemoveOptions { force: Some(true) }) {
                Ok(()) => println!("cleanup: removed plugin {name}"),
                Err(Error::NotFound(_)) => {}
                Err(e) => failed.push(format!("removing plugin {name}: {e}")),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("cleanup failed: {}", failed.join("; ")).into())
        }
    }
}

fn run(docker: &Engine, tag: &str, tar: &str, made: &mut Made) -> Result<()> {
    let name = format!("{REPOSITORY}:{tag}");

    // Create it from the tar, streamed from the preopened file.
    let size = std::fs::metadata(tar)
        .map_err(|e| format!("reading {tar} (is its directory preopened?): {e}"))?
        .len();
    let upload = plugin_streams::create(docker, &name)?;
    made.plugins.push(name.clone());
    let answer = upload_with(upload, |body| {
        let mut file = std::fs::File::open(tar)?;
        std::io::copy(&mut file, body).map(|_| ())
    })?;
    println!("created plugin {name} from a {size}-byte tar (answer {answer:?})");

    // Inspect it.
    let inspected = inspect(docker, &name)?;
    let socket = &inspected["Config"]["Interface"]["Socket"];
    if inspected["Enabled"] != false || socket != "tugtest.sock" {
        return Err(format!(
            "the created plugin: expected disabled with socket tugtest.sock, got {inspected}"
        )
        .into());
    }
    println!(
        "inspect: id {}, enabled false, socket {socket}, types {}, env {}",
        short(inspected["Id"].as_str().unwrap_or_default()),
        inspected["Config"]["Interface"]["Types"],
        inspected["Settings"]["Env"]
    );

    // Set its env setting.
    let settings = json!([format!("{SETTING}=bonjour {tag}")]).to_string();
    plugins::set(docker, &name, &settings)?;
    let env = inspect(docker, &name)?["Settings"]["Env"].clone();
    let expected = format!("{SETTING}=bonjour {tag}");
    if !env.as_array().is_some_and(|e| e.contains(&json!(expected))) {
        return Err(format!("after set: expected Settings.Env to hold {expected:?}, got {env}").into());
    }
    println!("set {settings}: Settings.Env is now {env}");

    // Enable it: dockerd starts it and checks its socket.
    plugins::enable(docker, &name, plugins::EnableOptions { timeout: Some(30) })?;
    if inspect(docker, &name)?["Enabled"] != true {
        return Err("the plugin is not enabled after enable".into());
    }
    println!("enabled {name}");

    // List the enabled volume drivers: it is one.
    let options = plugins::ListOptions {
        filters: Some(vec![
            ("enabled".into(), vec!["true".into()]),
            ("capability".into(), vec!["volumedriver".into()]),
        ]),
    };
    let listed: Value = serde_json::from_str(&plugins::list(docker, &options)?)?;
    let names: Vec<&str> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Name"].as_str())
        .collect();
    if !names.contains(&name.as_str()) {
        return Err(format!("list (enabled volume drivers) does not show {name}: {names:?}").into());
    }
    println!(
        "list (enabled=true, capability=volumedriver): {} plugins, {name} among them",
        names.len()
    );

    // Disable it, push it to the local registry.
    plugins::disable(docker, &name, plugins::DisableOptions { force: None })?;
    println!("disabled {name}");
    println!("push {name}:");
    let progress = follow("push", &plugin_streams::push(docker, &name, None)?)?;
    let digest = progress
        .iter()
        .find_map(|d| d["aux"]["Digest"].as_str())
        .ok_or("the push reported no digest (aux.Digest)")?
        .to_owned();
    println!("pushed: digest {digest}");

    // What the registry says it needs.
    let privileges = plugins::privileges(docker, &name, None)?;
    let parsed: Value = serde_json::from_str(&privileges)?;
    if !parsed.is_array() {
        return Err(format!("privileges: expected an array, got {privileges}").into());
    }
    println!("privileges of {name}: {}", privileges.trim_end());

    // Remove it, pull it back accepting those privileges.
    plugins::remove(docker, &name, plugins::RemoveOptions { force: None })?;
    println!("removed {name}");
    println!("pull {name}:");
    let stream = plugin_streams::pull(docker, &name, &privileges, &Default::default(), None)?;
    follow("pull", &stream)?;
    let pulled = inspect(docker, &name)?;
    if pulled["Enabled"] != false || pulled["PluginReference"] != name.as_str() {
        return Err(
            format!("the pulled plugin: expected disabled with reference {name}, got {pulled}").into(),
        );
    }
    println!(
        "pulled: id {}, reference {}, enabled false",
        short(pulled["Id"].as_str().unwrap_or_default()),
        pulled["PluginReference"]
    );

    // Upgrade it (it is disabled) to the same reference.
    println!("upgrade {name} to {name}:");
    follow(
        "upgrade",
        &plugin_streams::upgrade(docker, &name, &name, &privileges, None)?,
    )?;
    let upgraded = inspect(docker, &name)?;
    println!("upgraded: reference {}", upgraded["PluginReference"]);

    // Enable and disable it again, then remove it.
    plugins::enable(docker, &name, plugins::EnableOptions { timeout: Some(30) })?;
    println!("enabled {name} again");
    plugins::disable(docker, &name, plugins::DisableOptions { force: Some(false) })?;
    println!("disabled {name} again");
    plugins::remove(docker, &name, plugins::RemoveOptions { force: None })?;
    made.plugins.retain(|p| p != &name);
    match plugins::inspect(docker, &name) {
        Err(Error::NotFound(_)) => println!("removed {name}: inspect says not found"),
        other => return Err(format!("after remove, inspect answered {other:?}").into()),
    }
    Ok(())
}

fn inspect(docker: &Engine, name: &str) -> Result<Value> {
    Ok(serde_json::from_str(&plugins::inspect(docker, name)?)?)
}

/// Prints a progress stream's steps as they come and returns its documents; an `error`/`errorDetail`
/// document is a failure.
fn follow(what: &str, stream: &JsonStream) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    for document in documents(stream) {
        let document: Value = serde_json::from_str(&document?)?;
        if let Some(error) = document.get("errorDetail").or_else(|| document.get("error")) {
            return Err(format!("{what} failed: {error}").into());
        }
        if let Some(status) = document["status"].as_str() {
            if document.get("progress").is_none() {
                match document["id"].as_str() {
                    Some(id) => println!("  {id}: {status}"),
                    None => println!("  {status}"),
                }
            }
        } else if let Some(aux) = document.get("aux") {
            println!("  aux: {aux}");
        }
        all.push(document);
    }
    Ok(all)
}

/// Tries each `KIND TARGET BODY` case and prints what the policy (or the engine) said.
fn cases(docker: &Engine, args: &[String]) {
    if args.len() % 3 != 0 {
        eprintln!("error: cases come in threes: KIND TARGET BODY");
        std::process::exit(2);
    }
    for (n, case) in args.chunks(3).enumerate() {
        let (kind, target, body) = (case[0].as_str(), case[1].as_str(), case[2].as_str());
        let outcome = match kind {
            "create" => plugin_streams::create(docker, target).and_then(|upload| {
                upload_with(upload, |out| match body {
                    "-" => Ok(()),
                    path => std::io::copy(&mut std::fs::File::open(path)?, out).map(|_| ()),
                })
                .map(|_| ())
            }),
            "pull" => plugin_streams::pull(docker, target, body, &Default::default(), None).map(|stream| {
                let _ = follow("pull", &stream);
                let _ = plugins::remove(docker, target, plugins::RemoveOptions { force: Some(true) });
            }),
            "upgrade" => plugin_streams::upgrade(docker, target, target, body, None).map(|stream| {
                let _ = follow("upgrade", &stream);
            }),
            "set" => plugins::set(docker, target, body),
            "enable" => {
                plugins::enable(docker, target, plugins::EnableOptions { timeout: Some(30) }).map(|()| {
                    let _ = plugins::disable(docker, target, plugins::DisableOptions { force: Some(true) });
                })
            }
            "privileges" => plugins::privileges(docker, target, None).map(|_| ()),
            "push" => plugin_streams::push(docker, target, None).map(|stream| {
                let _ = follow("push", &stream);
            }),
            "inspect" => plugins::inspect(docker, target).map(|_| ()),
            "list" => plugins::list(docker, &Default::default()).map(|_| ()),
            other => {
                println!("case {n}: error unknown kind {other:?}");
                continue;
            }
        };
        match outcome {
            Ok(()) => println!("case {n}: allowed"),
            Err(Error::Denied(d)) => println!(
                "case {n}: denied {} {}",
                d.rule,
                d.field.unwrap_or_else(|| "-".into())
            ),
            Err(e) => println!("case {n}: error {e}"),
        }
    }
}

/// The first 12 characters of an ID.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
