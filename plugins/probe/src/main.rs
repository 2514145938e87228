//! Calls the WIT functions named on the command line (`interface.function`, `interface.resource.method`,
//! as `wit/operations.tsv` names them), each with arguments that harm nothing when the call is allowed
//! (names of objects that do not exist, empty bodies), and prints one line per function:
//! `fn NAME: ok`, `fn NAME: denied RULE FIELD`, `fn NAME: error KIND`, or `fn NAME: unknown` for a name this
//! probe does not know (a new WIT function must be added here, or the tests that drive it fail).
//!
//! `--big` as the first argument passes 1 MiB strings as every name, id, reference and filter value, and
//! 1 MiB of nesting as every JSON body: the host must answer each call, not crash.

use tug_sdk::{
    container_streams, containers, distribution, engine, exec, exec_streams, image_streams, images, networks,
    nodes, plugin_streams, plugins, registry, registry_streams, secrets, services, swarm, system,
    system_streams, task_streams, tasks, types::Error, volumes,
};

/// What a call answered, as one word or a denial.
fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(Error::Denied(d)) => format!("denied {} {}", d.rule, d.field.unwrap_or_else(|| "-".into())),
        Err(e) => format!("error {}", kind(&e)),
    }
}

fn kind(e: &Error) -> &'static str {
    match e {
        Error::NotFound(_) => "not-found",
        Error::Conflict(_) => "conflict",
        Error::BadRequest(_) => "bad-request",
        Error::NotModified => "not-modified",
        Error::Denied(_) => "denied",
        Error::Api(_) => "api",
        Error::Transport(_) => "transport",
        Error::Timeout(_) => "timeout",
        Error::ApiVersion(_) => "api-version",
        Error::InvalidArgument(_) => "invalid-argument",
        Error::Integrity(_) => "integrity",
    }
}

/// The arguments every call gets.
struct Args {
    /// A name, id or reference.
    id: String,
    /// A JSON body.
    body: String,
    /// A reference to an image.
    image: String,
}

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    let big = names.first().is_some_and(|a| a == "--big");
    if big {
        names.remove(0);
    }
    let a = if big {
        Args {
            id: "a".repeat(1 << 20),
            body: "[".repeat(1 << 20),
            image: format!("tug-probe/{}:x", "a".repeat(1 << 20)),
        }
    } else {
        Args {
            id: "tug-probe-none".into(),
            body: "{}".into(),
            image: "tug-probe/none:x".into(),
        }
    };
    for name in &names {
        let line = call(name, &a);
        println!("fn {name}: {line}");
    }
}

fn filters(a: &Args) -> Option<Vec<(String, Vec<String>)>> {
    Some(vec![("label".into(), vec![a.id.clone()])])
}

fn scratch() -> registry::Image {
    registry::Image::scratch(&registry::Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    })
}

fn call(name: &str, a: &Args) -> String {
    let d = engine();
    let id = a.id.as_str();
    let body = a.body.as_str();
    match name {
        "containers.list" => outcome(containers::list(
            &d,
            &containers::ListOptions {
                all: Some(true),
                filters: filters(a),
                ..Default::default()
            },
        )),
        "containers.create" => outcome(containers::create(&d, body, &Default::default())),
        "containers.inspect" => outcome(containers::inspect(&d, id, Default::default())),
        "containers.top" => outcome(containers::top(&d, id, &Default::default())),
        "containers.changes" => outcome(containers::changes(&d, id)),
        "containers.resize" => outcome(containers::resize(&d, id, 24, 80)),
        "containers.start" => outcome(containers::start(&d, id, &Default::default())),
        "containers.stop" => outcome(containers::stop(&d, id, Default::default())),
        "containers.restart" => outcome(containers::restart(&d, id, Default::default())),
        "containers.kill" => outcome(containers::kill(&d, id, &Default::default())),
        "containers.update" => outcome(containers::update(&d, id, body)),
        "containers.rename" => outcome(containers::rename(&d, id, id)),
        "containers.pause" => outcome(containers::pause(&d, id)),
        "containers.unpause" => outcome(containers::unpause(&d, id)),
        "containers.wait" => outcome(containers::wait(&d, id, &Default::default())),
        "containers.remove" => outcome(containers::remove(&d, id, Default::default())),
        "containers.archive-info" => outcome(containers::archive_info(&d, id, "/etc")),
        "containers.prune" => outcome(containers::prune(
            &d,
            &containers::PruneOptions { filters: filters(a) },
        )),
        "containers.stats" => outcome(containers::stats(&d, id, Default::default())),
        "containers.checkpoint-list" => outcome(containers::checkpoint_list(&d, id)),
        "containers.checkpoint-create" => outcome(containers::checkpoint_create(&d, id, body)),
        "containers.checkpoint-delete" => outcome(containers::checkpoint_delete(&d, id, id)),
        "container-streams.logs" => outcome(container_streams::logs(&d, id, &Default::default())),
        "container-streams.export" => outcome(container_streams::export(&d, id)),
        "container-streams.stats" => outcome(container_streams::stats(&d, id)),
        "container-streams.attach" => outcome(container_streams::attach(&d, id, &Default::default())),
        "container-streams.attach-websocket" => {
            outcome(container_streams::attach_websocket(&d, id, &Default::default()))
        }
        "container-streams.get-archive" => outcome(container_streams::get_archive(&d, id, "/etc")),
        "container-streams.put-archive" => {
            outcome(container_streams::put_archive(&d, id, "/tmp", Default::default()))
        }
        "exec.create" => outcome(exec::create(&d, id, body)),
        "exec.inspect" => outcome(exec::inspect(&d, id)),
        "exec.resize" => outcome(exec::resize(&d, id, 24, 80)),
        "exec.start-detached" => outcome(exec::start_detached(&d, id)),
        "exec-streams.start" => outcome(exec_streams::start(&d, id, Default::default())),
        "images.list" => outcome(images::list(
            &d,
            &images::ListOptions {
                filters: filters(a),
                ..Default::default()
            },
        )),
        "images.inspect" => outcome(images::inspect(&d, &a.image)),
        "images.history" => outcome(images::history(&d, &a.image)),
        "images.tag" => outcome(images::tag(&d, &a.image, &a.image, &Default::default())),
        "images.remove" => outcome(images::remove(&d, &a.image, Default::default())),
        "images.search" => outcome(images::search(&d, id, &Default::default())),
        "images.prune" => outcome(images::prune(&d, &images::PruneOptions { filters: filters(a) })),
        "images.commit" => outcome(images::commit(&d, id, Some(body), &Default::default())),
        "images.build-prune" => outcome(images::build_prune(&d, &Default::default())),
        "images.build-cancel" => outcome(images::build_cancel(&d, id)),
        "images.attestations" => outcome(images::attestations(&d, &a.image, None)),
        "image-streams.build" => outcome(image_streams::build(&d, &Default::default(), None)),
        "image-streams.pull" => outcome(image_streams::pull(&d, &a.image, &Default::default(), None)),
        "image-streams.import" => outcome(image_streams::import(&d, &Default::default())),
        "image-streams.push" => outcome(image_streams::push(&d, &a.image, &Default::default(), None)),
        "image-streams.save" => outcome(image_streams::save(&d, &a.image)),
        "image-streams.save-all" => outcome(image_streams::save_all(&d, std::slice::from_ref(&a.image))),
        "image-streams.load" => outcome(image_streams::load(&d, Default::default())),
        "system.ping" => outcome(system::ping(&d)),
        "system.ping-head" => outcome(system::ping_head(&d)),
        "system.session" => outcome(system::session(&d, &[])),
        "system.version" => outcome(system::version(&d)),
        "system.info" => outcome(system::info(&d)),
        "system.data-usage" => outcome(system::data_usage(&d)),
        "system.auth" => outcome(system::auth(&d, &Default::default())),
        "system-streams.events" => outcome(system_streams::events(
            &d,
            &system_streams::EventsOptions {
                since: Some("1".into()),
                until: Some("2".into()),
                filters: filters(a),
            },
        )),
        "distribution.inspect" => outcome(distribution::inspect(&d, &a.image, None)),
        "plugins.list" => outcome(plugins::list(&d, &Default::default())),
        "plugins.privileges" => outcome(plugins::privileges(&d, &a.image, None)),
        "plugins.inspect" => outcome(plugins::inspect(&d, id)),
        "plugins.remove" => outcome(plugins::remove(&d, id, Default::default())),
        "plugins.enable" => outcome(plugins::enable(&d, id, Default::default())),
        "plugins.disable" => outcome(plugins::disable(&d, id, Default::default())),
        "plugins.set" => outcome(plugins::set(&d, id, body)),
        "plugin-streams.pull" => outcome(plugin_streams::pull(
            &d,
            &a.image,
            body,
            &Default::default(),
            None,
        )),
        "plugin-streams.upgrade" => outcome(plugin_streams::upgrade(&d, id, &a.image, body, None)),
        "plugin-streams.push" => outcome(plugin_streams::push(&d, id, None)),
        "plugin-streams.create" => outcome(plugin_streams::create(&d, id)),
        "networks.list" => outcome(networks::list(&d, &networks::ListOptions { filters: filters(a) })),
        "networks.inspect" => outcome(networks::inspect(&d, id, &Default::default())),
        "networks.remove" => outcome(networks::remove(&d, id)),
        "networks.create" => outcome(networks::create(&d, body)),
        "networks.connect" => outcome(networks::connect(&d, id, body)),
        "networks.disconnect" => outcome(networks::disconnect(&d, id, body)),
        "networks.prune" => outcome(networks::prune(
            &d,
            &networks::PruneOptions { filters: filters(a) },
        )),
        "volumes.list" => outcome(volumes::list(&d, &volumes::ListOptions { filters: filters(a) })),
        "volumes.create" => outcome(volumes::create(&d, body)),
        "volumes.inspect" => outcome(volumes::inspect(&d, id)),
        "volumes.remove" => outcome(volumes::remove(&d, id, Default::default())),
        "volumes.update" => outcome(volumes::update(&d, id, 0, body)),
        "volumes.prune" => outcome(volumes::prune(&d, &volumes::PruneOptions { filters: filters(a) })),
        "swarm.inspect" => outcome(swarm::inspect(&d)),
        "swarm.init" => outcome(swarm::init(&d, body)),
        "swarm.join" => outcome(swarm::join(&d, body)),
        // Without force: a manager refuses, and this engine is in no swarm but the swarm tests' own.
        "swarm.leave" => outcome(swarm::leave(&d, swarm::LeaveOptions { force: Some(false) })),
        // Version 0: the swarm has moved on since, so nothing changes.
        "swarm.update" => outcome(swarm::update(
            &d,
            body,
            swarm::UpdateOptions {
                version: 0,
                ..Default::default()
            },
        )),
        "swarm.unlock-key" => outcome(swarm::unlock_key(&d)),
        "swarm.unlock" => outcome(swarm::unlock(&d, body)),
        "nodes.list" => outcome(nodes::list(&d, &nodes::ListOptions { filters: filters(a) })),
        "nodes.inspect" => outcome(nodes::inspect(&d, id)),
        "nodes.remove" => outcome(nodes::remove(&d, id, Default::default())),
        "nodes.update" => outcome(nodes::update(&d, id, body, nodes::UpdateOptions { version: 0 })),
        "services.list" => outcome(services::list(
            &d,
            &services::ListOptions {
                filters: filters(a),
                ..Default::default()
            },
        )),
        "services.create" => outcome(services::create(&d, body, None)),
        "services.inspect" => outcome(services::inspect(&d, id, Default::default())),
        "services.remove" => outcome(services::remove(&d, id)),
        "services.update" => outcome(services::update(
            &d,
            id,
            body,
            &services::UpdateOptions {
                version: 0,
                ..Default::default()
            },
            None,
        )),
        "service-streams.logs" => outcome(service_streams_logs(&d, id)),
        "tasks.list" => outcome(tasks::list(&d, &tasks::ListOptions { filters: filters(a) })),
        "tasks.inspect" => outcome(tasks::inspect(&d, id)),
        "task-streams.logs" => outcome(task_streams::logs(&d, id, &Default::default())),
        "secrets.list" => outcome(secrets::list(&d, &secrets::ListOptions { filters: filters(a) })),
        "secrets.create" => outcome(secrets::create(&d, body)),
        "secrets.inspect" => outcome(secrets::inspect(&d, id)),
        "secrets.remove" => outcome(secrets::remove(&d, id)),
        "secrets.update" => outcome(secrets::update(
            &d,
            id,
            body,
            secrets::UpdateOptions { version: 0 },
        )),
        "configs.list" => outcome(configs_list(&d, a)),
        "configs.create" => outcome(tug_sdk::configs::create(&d, body)),
        "configs.inspect" => outcome(tug_sdk::configs::inspect(&d, id)),
        "configs.remove" => outcome(tug_sdk::configs::remove(&d, id)),
        "configs.update" => outcome(tug_sdk::configs::update(
            &d,
            id,
            body,
            tug_sdk::configs::UpdateOptions { version: 0 },
        )),
        // The engine's version: a string, "" when the policy refuses the negotiation (the audit log says so).
        "engines.engine.api-version" => format!("ok {}", d.api_version()),
        "registry.image.pull" => outcome(registry::Image::pull(&a.image, &Default::default())),
        "registry.image.set-name" => outcome(scratch().set_name(&a.image)),
        "registry.image.set-config" => outcome(scratch().set_config(body)),
        "registry.image.edit" => outcome(scratch().edit(&Default::default())),
        "registry.image.add-layer-files" => outcome(scratch().add_layer_files(&[], id)),
        "registry.image.add-layer-dir" => outcome(scratch().add_layer_dir(id, "/", id)),
        "registry.image.remove-layer" => outcome(scratch().remove_layer(99)),
        "registry.image.push" => outcome(scratch().push(None)),
        "registry.image.load" => outcome(scratch().load(&d)),
        "registry-streams.add-layer-tar" => outcome(registry_streams::add_layer_tar(&scratch(), id)),
        "registry-streams.save" => outcome(registry_streams::save(
            &scratch(),
            registry_streams::ArchiveFormat::Docker,
        )),
        "registry.catalog" => outcome(registry::catalog(id, Some(1))),
        "registry.list-tags" => outcome(registry::list_tags(
            a.image
                .rsplit_once(':')
                .map_or(a.image.as_str(), |(repo, _)| repo),
            Some(1),
        )),
        _ => "unknown".into(),
    }
}

fn service_streams_logs(d: &tug_sdk::engines::Engine, id: &str) -> Result<(), Error> {
    tug_sdk::service_streams::logs(d, id, &Default::default()).map(|_| ())
}

fn configs_list(d: &tug_sdk::engines::Engine, a: &Args) -> Result<String, Error> {
    tug_sdk::configs::list(d, &tug_sdk::configs::ListOptions { filters: filters(a) })
}
