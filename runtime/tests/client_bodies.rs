//! The policy accepts what real clients send. Every request body docker-py and the docker CLI send for the
//! operations a plugin reaches with a JSON body goes through what the host runs for that operation:
//!
//! * docker-py's bodies: `scripts/docker_py_bodies.py` runs docker-py's own builders over their documented
//!   options (`tests/fixtures/docker_py_bodies.json`; regenerated and compared when python3 and tug's
//!   tools directory are there);
//! * the docker CLI's: captured from the real CLI by `tests/tests/cli_bodies.rs` (the e2e suite) through a
//!   recording proxy in front of a daemon of its own (`tests/fixtures/docker_cli_bodies.json`).
//!
//! Each body must be canonical (no `canonical.*` refusal), must keep every field the daemon would act on
//! (only the documented drops, renames and moves: `client_bodies/kept.rs`), and must pass the gate's
//! rules, or be refused by a named rule on a named field with a permitted variant (the body without what
//! was refused) passing. The gate asks a stand-in engine (`client_bodies/engine.rs`), for which everything
//! a body names is the run's own.

#[path = "client_bodies/engine.rs"]
mod engine;
#[path = "client_bodies/kept.rs"]
mod kept;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tug::engine::{Client, EngineConfig};
use tug::policy::canonical::{self, BodyKind};
use tug::policy::{Gate, GateError, Op, Policy};

/// One captured body.
struct Case {
    client: &'static str,
    operation: String,
    case: String,
    body: Value,
}

impl Case {
    fn op(&self) -> Op {
        Op::from_id(&self.operation)
            .unwrap_or_else(|| panic!("{}: no operation {}", self.case, self.operation))
    }

    fn kind(&self) -> BodyKind {
        self.op()
            .body()
            .unwrap_or_else(|| panic!("{} sends no body", self.operation))
    }

    fn name(&self) -> String {
        format!("{} {} «{}»", self.client, self.operation, self.case)
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(client: &'static str, file: &str) -> Vec<Case> {
    let path = fixtures().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let list: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    list.into_iter()
        .map(|c| Case {
            client,
            operation: c["operation"].as_str().expect("operation").to_owned(),
            case: c["case"].as_str().expect("case").to_owned(),
            body: c["body"].clone(),
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let mut all = load("docker-py", "docker_py_bodies.json");
    all.extend(load("docker CLI", "docker_cli_bodies.json"));
    all
}

/// docker-py's pinned build toolchain (`runtime/src/cli/build.rs`'s tools directory): `python-site`.
fn python_site() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let tools = var("TUG_TOOLS_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("tug/tools")))
        .or_else(|| var("HOME").map(|d| d.join(".local/share/tug/tools")))?;
    let site = tools.join("python-site");
    site.join("docker").is_dir().then_some(site)
}

/// The committed docker-py capture is what the script makes of the installed docker-py.
#[test]
fn docker_py_fixture_is_what_docker_py_sends() {
    let Some(site) = python_site() else {
        eprintln!(
            "\n*** SKIPPED: docker-py is not installed in tug's tools directory (scripts/setup installs it); \
             the committed tests/fixtures/docker_py_bodies.json is checked without being regenerated ***\n"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/docker_py_bodies.py");
    let out = match Command::new("python3")
        .arg(&script)
        .env("PYTHONPATH", &site)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED: python3 cannot run ({e}); the committed capture is checked as is ***\n"
            );
            return;
        }
    };
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh: Value = serde_json::from_slice(&out.stdout).expect("the script writes JSON");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("docker_py_bodies.json")).unwrap())
            .unwrap();
    assert!(
        fresh == committed,
        "docker-py sends other bodies than tests/fixtures/docker_py_bodies.json holds: regenerate it with \
         `PYTHONPATH={} python3 scripts/docker_py_bodies.py > runtime/tests/fixtures/docker_py_bodies.json`",
        site.display()
    );
}

/// No body is refused as non-canonical, and none loses a field but by a documented change.
#[test]
fn real_client_bodies_are_canonical_and_keep_what_the_daemon_obeys() {
    let all = cases();
    let mut failures = Vec::new();
    let mut changes = kept::Changes::new();
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &all {
        *counted.entry(c.client).or_default() += 1;
        let bytes = serde_json::to_vec(&c.body).unwrap();
        match canonical::canonicalize(c.kind(), &bytes) {
            Ok(out) => {
                if let Err(e) = kept::check(c.kind(), &c.body, &out, &mut changes) {
                    failures.push(format!("{}: {e}", c.name()));
                }
                let again = canonical::canonicalize(c.kind(), &canonical::to_canonical_bytes(&out));
                if again.as_ref() != Ok(&out) {
                    failures.push(format!(
                        "{}: the canonical body does not read back the same",
                        c.name()
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {} at {}: {e}", c.name(), e.rule(), e.path())),
        }
    }
    eprintln!("bodies checked: {counted:?}; changes made: {changes:#?}");
    assert!(
        counted["docker-py"] >= 100 && counted["docker CLI"] >= 30,
        "{counted:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} bodies:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// Sends `text` through what the host runs for `op` (`runtime/src/host/*.rs`); the body it would forward.
async fn through_gate(gate: &Gate, client: &Client, op: Op, text: &str) -> Result<Value, GateError> {
    let kind = op.body().expect("a body");
    let forwarded = match op {
        Op::ContainerCreate => gate.container_create(client, text).await?,
        Op::ContainerUpdate => gate.container_update(text)?,
        Op::ContainerExec => gate.exec_create(client, &engine::id64("c"), text).await?,
        Op::ImageCommit => gate.commit_config(Some(text))?,
        Op::NetworkCreate => gate.network_create(client, text).await?,
        Op::NetworkConnect | Op::NetworkDisconnect => gate.network_endpoint(client, kind, text).await?,
        Op::VolumeCreate => gate.volume_create(client, text).await?,
        Op::SwarmInit | Op::SwarmJoin | Op::SwarmUpdate | Op::SwarmUnlock | Op::NodeUpdate => {
            gate.swarm_request(kind, text)?
        }
        Op::ServiceCreate | Op::ServiceUpdate => gate.service_spec(client, kind, text).await?,
        Op::SecretCreate | Op::SecretUpdate | Op::ConfigCreate | Op::ConfigUpdate => {
            gate.secret_spec(kind, text)?
        }
        Op::PluginPull | Op::PluginUpgrade => gate.plugin_privileges(text)?,
        Op::PluginSet => gate.plugin_set(client, "sshfs", text).await?,
        // The host sends a body of its own, made from the function's arguments: the body a client sent is
        // only checked as canonical.
        Op::ExecStart | Op::SystemAuth => {
            let v = gate.canonical(kind, text)?;
            canonical::to_canonical_bytes(&v).into()
        }
        other => panic!("no gate function for {other:?}"),
    };
    Ok(serde_json::from_slice(&forwarded).expect("the gate forwards JSON"))
}

/// What a policy's rule refused, and what makes the variant permitted: `(rule, field, value)` sets the
/// field to a permitted value; any other refusal removes the refused field (or the array item it is in).
const PERMITTED: &[(&str, &str, &str)] = &[
    ("swarm.listen", "ListenAddr", "127.0.0.1:2377"),
    ("swarm.listen", "AdvertiseAddr", "127.0.0.1"),
    ("swarm.listen", "DataPathAddr", "127.0.0.1"),
    // A swarm pulls a service's image on its nodes: only from the registries the policy allows.
    (
        "registries",
        "TaskTemplate.ContainerSpec.Image",
        "127.0.0.1:5000/tug-test/busybox:latest",
    ),
];

/// One step of a denial's field path.
enum Step {
    Key(String),
    Index(usize),
}

/// Resolves a denial's field path (`HostConfig.Binds[0]`, `Labels["a.b"]`, and plain keys holding dots,
/// `Options.com.docker.network.bridge.name`) against `body`: at each object, the longest key of the
/// object the path goes on with. The steps of a path that leaves the body end with the first missing key.
fn steps(body: &Value, path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let (mut rest, mut at) = (path, Some(body));
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        let step = if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").expect("a closed quoted key");
            let key: String = serde_json::from_str(&format!("\"{}\"", &r[..end])).unwrap();
            rest = &r[end + 2..];
            Step::Key(key)
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').expect("a closed index");
            rest = &r[end + 1..];
            Step::Index(r[..end].parse().expect("an index"))
        } else {
            let longest = at.and_then(Value::as_object).and_then(|map| {
                map.keys()
                    .filter(|k| {
                        rest.starts_with(k.as_str())
                            && rest[k.len()..]
                                .chars()
                                .next()
                                .is_none_or(|c| c == '.' || c == '[')
                    })
                    .max_by_key(|k| k.len())
                    .cloned()
            });
            let key =
                longest.unwrap_or_else(|| rest[..rest.find(['.', '[']).unwrap_or(rest.len())].to_owned());
            rest = &rest[key.len()..];
            Step::Key(key)
        };
        at = at.and_then(|v| match &step {
            Step::Key(k) => v.get(k),
            Step::Index(i) => v.get(*i),
        });
        out.push(step);
    }
    out
}

/// The value at `path` (created as objects on the way when `create`).
fn at_path<'v>(mut at: &'v mut Value, path: &[Step], create: bool) -> Option<&'v mut Value> {
    for s in path {
        at = match s {
            Step::Key(k) if create && at.is_object() => {
                at.as_object_mut()?.entry(k.clone()).or_insert(Value::Null)
            }
            Step::Key(k) => at.get_mut(k)?,
            Step::Index(i) => at.get_mut(*i)?,
        };
        if create && at.is_null() {
            *at = Value::Object(Default::default());
        }
    }
    Some(at)
}

/// Makes `body` the permitted variant for one denial; whether it changed.
fn permit(body: &mut Value, rule: &str, field: &str) -> bool {
    let mut path = steps(body, field);
    if let Some((_, _, value)) = PERMITTED.iter().find(|(r, f, _)| *r == rule && *f == field) {
        let Some(slot) = at_path(body, &path, true) else {
            return false;
        };
        let changed = *slot != *value;
        *slot = Value::from(*value);
        return changed;
    }
    // Inside an array item: the whole item (a mount, a bind, a device, a reference) goes.
    if let Some(last) = path.iter().rposition(|s| matches!(s, Step::Index(_))) {
        path.truncate(last + 1);
    }
    let Some(last) = path.pop() else { return false };
    match (last, at_path(body, &path, false)) {
        (Step::Key(k), Some(Value::Object(map))) => map.remove(&k).is_some(),
        (Step::Index(i), Some(Value::Array(items))) if i < items.len() => {
            items.remove(i);
            true
        }
        _ => false,
    }
}

fn gate(profile: &str) -> Gate {
    Gate::new(
        Arc::new(Policy::profile(profile).unwrap()),
        engine::RUN.into(),
        vec![
            ("tug.run".into(), engine::RUN.into()),
            ("tug.plugin".into(), "p".into()),
        ],
    )
}

/// Every body passes the rules of `ci` and `untrusted`, or is refused by a named rule on a named field and
/// its permitted variant passes; every body passes `trusted` (canonical bodies only) as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_bodies_pass_the_rules_or_a_named_rule_refuses_them() {
    let fake = engine::FakeEngine::start();
    let client = Client::new(EngineConfig::from_url(&fake.url()).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut denials: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases() {
        let text = c.body.to_string();
        if let Err(e) = through_gate(&gate("trusted"), &client, c.op(), &text).await {
            failures.push(format!("{} under trusted: {e:?}", c.name()));
        }
        for profile in ["ci", "untrusted"] {
            let g = gate(profile);
            let Ok(mut body) = canonical::canonicalize(c.kind(), text.as_bytes()) else {
                failures.push(format!("{}: not canonical (see the other test)", c.name()));
                break;
            };
            let mut refused = Vec::new();
            let outcome = loop {
                match through_gate(&g, &client, c.op(), &body.to_string()).await {
                    Ok(_) => break Ok(()),
                    Err(GateError::Denied(d)) if d.rule.starts_with("canonical.") => {
                        break Err(format!("refused as non-canonical after {refused:?}: {d:?}"));
                    }
                    Err(GateError::Denied(d)) => {
                        let Some(field) = d.field.clone().filter(|f| !f.is_empty()) else {
                            break Err(format!("{} names no field: {}", d.rule, d.reason));
                        };
                        if d.rule.is_empty() || !permit(&mut body, &d.rule, &field) || refused.len() > 30 {
                            break Err(format!(
                                "no permitted variant for {} on {field} after {refused:?}",
                                d.rule
                            ));
                        }
                        refused.push(format!("{} {field}", d.rule));
                    }
                    Err(GateError::Engine(e)) => break Err(format!("asked the engine and failed: {e}")),
                }
            };
            match outcome {
                Ok(()) if profile == "ci" => {
                    for r in refused {
                        *denials
                            .entry(r.split(' ').next().unwrap().to_owned())
                            .or_default() += 1;
                    }
                }
                Ok(()) => {}
                Err(e) => failures.push(format!("{} under {profile}: {e}", c.name())),
            }
        }
    }
    eprintln!("rules that refused a real client's field under ci (then permitted without it): {denials:#?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
