//! The `netvol` plugin under the default (`untrusted`) policy: a network with its own subnet, a volume
//! shared by two containers, connect and disconnect, lists that show only the run's own, prune; and
//! afterwards nothing of the run is left.

use serde_json::{json, Value};
use tug::engine::{Client, EngineConfig, Request};
use tug_e2e::{plugin, tug_run};

#[test]
fn netvol_shares_a_volume_over_its_own_network() {
    // A /24 of 172.30.0.0/16 per test process, away from the pools the daemon hands out by itself.
    let octet = 20 + std::process::id() % 200;
    let run = tug_run([
        plugin("netvol").display().to_string(),
        "--".into(),
        octet.to_string(),
    ]);
    run.assert_success()
        .assert_stdout_line("[netvol] created network tug-netvol-")
        .assert_stdout_line(&format!("with subnet 172.30.{octet}.0/24"))
        .assert_stdout_line("[netvol] created volume tug-netvol-")
        .assert_stdout_line(&format!(
            "[netvol] the writer wrote into the volume from an address in 172.30.{octet}.0/24"
        ))
        .assert_stdout_line("[netvol] the reader read: hello-from-the-writer")
        .assert_stdout_line(&format!("[netvol] connected a container at 172.30.{octet}.20"))
        .assert_stdout_line("[netvol] disconnected it")
        .assert_stdout_line("[netvol] the lists show only the run's own network and volume")
        .assert_stdout_line("[netvol] prune removed only the run's unused network and volume")
        .assert_stdout_line("[netvol] removed the containers, the network and the volume")
        .assert_stdout_line("[netvol] ok");

    // Nothing of the plugin's is left on the daemon.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = Client::new(EngineConfig::from_env().unwrap()).unwrap();
    let filters = json!({ "label": ["tug.plugin=netvol"] }).to_string();
    for path in ["/containers/json", "/networks", "/volumes"] {
        let mut req = Request::get(path).query("filters", filters.clone());
        if path == "/containers/json" {
            req = req.query("all", true);
        }
        let left: Value = rt.block_on(c.json(req)).unwrap();
        let left = left.get("Volumes").cloned().unwrap_or(left);
        assert!(
            left.is_null() || left == json!([]),
            "{path}: left behind: {left}\n{}",
            run.report()
        );
    }
}
