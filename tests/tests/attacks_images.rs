//! The image attacks, from inside the `attack` plugin against the real daemon: images the policy does not
//! let the run see cannot be tagged, saved or pruned; no image write moves a name that is another's
//! (tag, build, commit, import, load); every image a run makes carries its labels, `tug.keep` included,
//! whatever its Dockerfile or tar says, and goes when the run ends; builds run under the container
//! ceilings; a registry image's config cannot smuggle `tug.*` labels by spelling.

use serde_json::{json, Value};
use tug::engine::{Client, Request};
use tug_e2e::attack::{attack, case, client, named, policy, rt};

fn tag() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}-{}", std::process::id(), now.subsec_nanos())
}

/// An image of nobody's run under `name`: a one-file import, so its id is its own.
fn victim_image(rt: &tokio::runtime::Runtime, c: &Client, name: &str) -> String {
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("victim {name}\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "victim.txt", data.as_bytes())
        .unwrap();
    let body = tar.into_inner().unwrap();
    let (repo, tag) = name.rsplit_once(':').unwrap();
    let req = Request::post("/images/create")
        .query("fromSrc", "-")
        .query("repo", repo)
        .query("tag", tag)
        .content_type("application/x-tar");
    rt.block_on(async {
        let upload = c.upload(req).await.unwrap();
        upload.send_all(&body[..]).await.unwrap()
    });
    image_id(rt, c, name).expect("the victim image was made")
}

/// An image of nobody's run with no name at all (an import without a repository): its id.
fn dangling_image(rt: &tokio::runtime::Runtime, c: &Client) -> String {
    let mut tar = tar::Builder::new(Vec::new());
    let data = format!("dangling {}\n", tag());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    tar.append_data(&mut header, "dangling.txt", data.as_bytes())
        .unwrap();
    let body = tar.into_inner().unwrap();
    let req = Request::post("/images/create")
        .query("fromSrc", "-")
        .content_type("application/x-tar");
    let answer = rt.block_on(async {
        let upload = c.upload(req).await.unwrap();
        upload.send_all(&body[..]).await.unwrap()
    });
    let last = serde_json::Deserializer::from_slice(&answer)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .last()
        .unwrap();
    last["status"].as_str().unwrap().to_owned()
}

fn image_id(rt: &tokio::runtime::Runtime, c: &Client, name: &str) -> Option<String> {
    let v: Value = rt
        .block_on(c.json(Request::get(format!("/images/{name}/json"))))
        .ok()?;
    v["Id"].as_str().map(str::to_owned)
}

fn remove_image(rt: &tokio::runtime::Runtime, c: &Client, name: &str) {
    let _ = rt.block_on(c.call(Request::delete(format!("/images/{name}")).query("force", true)));
}

/// A policy that writes images but sees only `tug-test/*`: images outside it cannot be tagged into it,
/// saved, pruned or removed.
#[test]
fn images_the_run_may_not_see_are_out_of_its_reach() {
    let (rt, c) = (rt(), client());
    let secret = format!("tug-victim/secret-{}:1", tag());
    let secret_id = victim_image(&rt, &c, &secret);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        dir.path(),
        "untrusted",
        "images-write",
        &[("images = \"read\"", "images = \"write\"")],
    );
    let stolen = format!("tug-test/stolen-{}:1", tag());
    let cases = vec![
        case("tag", format!("{secret}=>{stolen}")),
        case("save-all", &secret),
        case("prune-dup", "images"),
        case("remove-image", &secret),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    let still = image_id(&rt, &c, &secret);
    let stolen_made = image_id(&rt, &c, &stolen);
    remove_image(&rt, &c, &secret);
    a.expect(&[
        ("retag an image the policy does not allow", "denied images name"),
        ("export it", "denied images name"),
        ("prune with a duplicate filter key", "allowed"),
        ("remove it", "denied ownership name"),
    ]);
    assert_eq!(still, Some(secret_id), "the image survived");
    assert_eq!(stolen_made, None, "no name was made for it");
}

/// Under `ci` (any image, image writes): a name that is another's is never moved — not by a tag, a
/// build, a commit, an import or a load — and the plugin may not remove it; a name the run made (a
/// build, an import, a load) carries the run's labels (as `tug.image.…`, `tug.image.keep=0`; the
/// run's container keys empty, so no container of the image is the run's), whatever the Dockerfile or
/// the tar said, and is gone when the run ends.
#[test]
fn image_writes_never_move_anothers_name_and_every_image_is_the_runs() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let victim = format!("tug-test/victim-{t}:1");
    let victim_id = victim_image(&rt, &c, &victim);
    let built = format!("tug-test/built-{t}:1");
    let imported = format!("tug-test/imported-{t}:1");
    let loaded = format!("tug-test/loaded-{t}:1");
    let tagged = format!("tug-test/tagged-{t}:1");
    let from = "FROM tug-test/busybox:latest";
    let cases = vec![
        case("tag", format!("tug-test/busybox:latest=>{victim}")),
        case("build", format!("{victim}|{from}")),
        case("commit", &victim),
        case("import", &victim),
        case("load-as", format!("{victim}|{{}}")),
        case("import-drop", &victim),
        case("remove-image", &victim),
        // What the run may make, and what it carries.
        case(
            "build",
            format!("{built}|{from}\nLABEL tug.keep=1 tug.run=someone-else"),
        ),
        case("image-labels", &built),
        case("create-show", json!({ "Image": built }).to_string()),
        case("import", &imported),
        case("image-labels", &imported),
        case(
            "load-as",
            format!("{loaded}|{}", json!({"tug.keep": "1", "tug.run": "someone-else"})),
        ),
        case("image-labels", &loaded),
        case("remove-image", &loaded),
        // A name of the run's own on an image it did not make: taken off when the run ends.
        case("tag", format!("tug-test/busybox:latest=>{tagged}")),
    ];
    let dir = tempfile::tempdir().unwrap();
    let name = format!("attack-images-{t}");
    let wasm = named(dir.path(), &name);
    let a = attack(&wasm, &["--policy".into(), "ci".into()], &cases);
    let victim_now = image_id(&rt, &c, &victim);
    let left: Vec<Option<String>> = [&built, &imported, &loaded, &tagged]
        .iter()
        .map(|n| image_id(&rt, &c, n))
        .collect();
    let base = image_id(&rt, &c, "tug-test/busybox:latest");
    remove_image(&rt, &c, &victim);
    a.expect(&[
        ("tag onto it", "denied images.overwrite repo"),
        ("build as it", "denied images.overwrite t[0]"),
        ("commit as it", "denied images.overwrite repo"),
        ("import as it", "denied images.overwrite repo"),
        ("load a tar naming it", "denied images.overwrite RepoTags[0]"),
        ("an import dropped half way", "denied images.overwrite repo"),
        ("remove it", "denied ownership name"),
        ("build one's own", "allowed"),
        ("its labels", "allowed"),
        ("a container of it", "allowed"),
        ("import one's own", "allowed"),
        ("its labels", "allowed"),
        ("load one's own", "allowed"),
        ("its labels", "allowed"),
        ("remove what the run loaded", "allowed"),
        ("tag a shared image", "allowed"),
    ]);
    assert_eq!(
        victim_now,
        Some(victim_id),
        "the victim's name still names its image"
    );
    for n in [8, 11, 13] {
        // The run's labels, as an image carries them: under `tug.image.`, and the run's own keys empty,
        // so that a container anyone makes of the image is not the run's.
        let labels: Value = serde_json::from_str(a.show(n)).unwrap();
        assert_eq!(labels["tug.image.keep"], "0", "case {n}: {labels}");
        assert!(
            labels["tug.image.run"]
                .as_str()
                .is_some_and(|r| r != "someone-else" && r.len() == 16),
            "case {n}: {labels}"
        );
        assert_eq!(labels["tug.image.plugin"], name.as_str(), "case {n}: {labels}");
        for key in ["tug.run", "tug.keep", "tug.plugin", "tug.owner-pid", "tug.host"] {
            assert_eq!(labels[key], "", "case {n}: {key} in {labels}");
        }
    }
    let container: Value = serde_json::from_str(a.show(9)).unwrap();
    assert_eq!(container["Keep"], "0", "{container}");
    assert_eq!(left, vec![None, None, None, None], "what the run made is gone");
    assert!(base.is_some(), "the image it tagged stays");
}

/// A Dockerfile names images too: a build may only use those the policy allows (through variables and
/// `COPY --from` as well), and pull only from the registries it allows.
#[test]
fn builds_use_only_images_the_policy_allows() {
    let (rt, c) = (rt(), client());
    let secret = format!("tug-victim/secret-{}:1", tag());
    victim_image(&rt, &c, &secret);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy(
        dir.path(),
        "untrusted",
        "builds",
        &[
            ("images = \"read\"", "images = \"write\""),
            ("build = \"none\"", "build = \"write\""),
        ],
    );
    let cases = vec![
        case("build", format!("|FROM {secret}\nRUN cat /victim.txt")),
        case("build", format!("|ARG BASE={secret}\nFROM $BASE")),
        case(
            "build",
            format!("|FROM tug-test/busybox:latest\nCOPY --from={secret} /victim.txt /x"),
        ),
        case("build", "|FROM tug-test/absent-base:1"),
        case("build-link", format!("FROM {secret}")),
        case("build", "|FROM tug-test/busybox:latest\nRUN true"),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), policy.display().to_string()],
        &cases,
    );
    remove_image(&rt, &c, &secret);
    a.expect(&[
        (
            "a base the policy does not allow",
            "denied images Dockerfile line 1",
        ),
        ("through a build argument", "denied images Dockerfile line 2"),
        ("copied from", "denied images Dockerfile line 2"),
        (
            "an allowed name the daemon would pull from Docker Hub",
            "denied registries Dockerfile line 1",
        ),
        ("a Dockerfile that is a link", "denied build.images Dockerfile"),
        ("an allowed base", "allowed"),
    ]);
}

/// Tars that read one way to tug and another to the daemon: an entry whose PAX size covers a hidden tar
/// (a Dockerfile, a manifest naming another's image) is passed on as one entry holding those bytes; one
/// image config given twice is refused. Commit `changes` that expand into `tug.*` labels, and ONBUILD
/// triggers that name other images, are refused; a Dockerfile flag spelled with an escape is not read
/// past.
#[test]
fn tar_and_dockerfile_tricks_are_read_as_the_daemon_reads_them() {
    let (rt, c) = (rt(), client());
    let t = tag();
    let victim = format!("tug-test/victim-{t}:1");
    let victim_id = victim_image(&rt, &c, &victim);
    let honest = format!("tug-test/honest-{t}:1");
    let onbuild = format!("tug-test/onbuild-{t}:1");
    let dangling = dangling_image(&rt, &c);
    let cases = vec![
        // If the daemon read the hidden Dockerfile, it would try to pull this and fail.
        case("build-smuggle", format!("127.0.0.1:5999/absent-{t}:1")),
        case("load-smuggle", format!("{honest}|{victim}")),
        case("load-dup", format!("tug-test/dup-{t}:1")),
        case("commit-changes", "LABEL tu\\g.keep=1"),
        case("commit-changes", "LABEL ${X:-tug}.keep=1"),
        case("commit-changes", "ONBUILD RUN true"),
        case(
            "commit-onbuild",
            format!("{onbuild}|COPY --from=127.0.0.1:5999/absent:1 / /"),
        ),
        case("build", format!("|FROM {onbuild}")),
        case(
            "build",
            format!("|FROM tug-test/busybox:latest\nCOPY --fr\\om={victim} /victim.txt /x"),
        ),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    let victim_now = image_id(&rt, &c, &victim);
    remove_image(&rt, &c, &victim);
    a.expect(&[
        ("a Dockerfile hidden past a PAX size", "allowed"),
        ("a manifest hidden past a PAX size", "allowed"),
        ("an image config given twice", "error"),
        ("a label key with an escape", "denied labels.reserved changes[0]"),
        ("a label key with a variable", "denied labels.reserved changes[0]"),
        ("an ONBUILD change", "denied images.changes changes[0]"),
        ("an ONBUILD trigger in the config", "allowed"),
        (
            "building from it",
            &format!("denied build.images Dockerfile line 1 ({onbuild} OnBuild[0])"),
        ),
        ("an escaped flag", "denied build.images Dockerfile"),
        ("a Dockerfile that is a device", "error"),
        (
            "a Dockerfile the builder cannot parse",
            "denied build.images Dockerfile",
        ),
        ("a change with a line break", "denied images.changes changes[0]"),
        (
            "a change continued onto the next",
            "denied images.changes changes[0]",
        ),
        ("name an image nobody names", "denied images.name name"),
    ]);
    let dangling_now = image_id(&rt, &c, &dangling);
    remove_image(&rt, &c, &dangling);
    assert_eq!(
        dangling_now.as_deref(),
        Some(dangling.as_str()),
        "the unnamed image is still there"
    );
    assert!(a.outcomes[2].contains("twice"), "{}", a.outcomes[2]);
    assert_eq!(
        victim_now,
        Some(victim_id),
        "the victim's name still names its image"
    );
}

/// A build's `RUN` steps get the container ceilings: memory (and swap no larger) and CPUs.
#[test]
fn builds_run_under_the_container_ceilings() {
    let script = "RUN echo limit mem $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat \
                  /sys/fs/cgroup/memory.max) memsw $(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
                  2>/dev/null || echo unknown) cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
                  /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null | tr '\\n' ' ' || cat /sys/fs/cgroup/cpu.max)";
    let cases = vec![case("build", format!("|FROM tug-test/busybox:latest\n{script}"))];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[("a build", "allowed")]);
    let shown = a.show(0);
    println!("{shown}");
    let words: Vec<&str> = shown.split_whitespace().collect();
    let after = |key: &str| words.iter().position(|w| *w == key).map(|i| words[i + 1]);
    assert_eq!(after("mem"), Some("2147483648"), "ci's memory ceiling: {shown}");
    assert!(
        matches!(after("memsw"), Some("2147483648") | Some("unknown")),
        "swap no larger: {shown}"
    );
    let cpu: Vec<&str> = words[words.iter().position(|w| *w == "cpu").unwrap() + 1..].to_vec();
    assert_eq!(cpu, ["200000", "100000"], "ci's 2 CPUs as a quota: {shown}");
}

/// A registry image's config, as the daemon will decode it when it is loaded: a `tug.*` label spelled
/// `config.labels` or `Config.Labels` is the same label.
#[test]
fn registry_configs_cannot_smuggle_labels_by_spelling() {
    let cases = vec![
        case("set-config", r#"{"config":{"labels":{"tug.keep":"1"}}}"#),
        case("set-config", r#"{"Config":{"Labels":{"tug.keep":"1"}}}"#),
        case("set-config", r#"{"config":{"Labels":{"tug.keep":"1"}}}"#),
        case(
            "set-config",
            r#"{"config":{"Labels":{}},"config":{"Labels":{"tug.keep":"1"}}}"#,
        ),
        case("set-config", r#"{"config":{"Labels":{"app":"1"}}}"#),
    ];
    let a = attack(
        &tug_e2e::plugin("attack"),
        &["--policy".into(), "ci".into()],
        &cases,
    );
    a.expect(&[
        ("lower-case labels", "denied canonical.case-variant config.labels"),
        ("upper-case config", "denied canonical.case-variant Config"),
        ("tug.keep itself", "denied labels.reserved config.Labels.tug.keep"),
        ("a duplicate config", "denied canonical.duplicate-key config"),
        ("a label of its own", "allowed"),
    ]);
}
