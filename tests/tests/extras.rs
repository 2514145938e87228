//! The operations outside the main areas, from a plugin under the `ci` policy.

use tug_e2e::{plugin, tug_run};

#[test]
fn ping_head_websocket_attach_and_the_error_paths() {
    // `ci` grants build write, for build-cancel.
    tug_run([plugin("extras").into_os_string(), "--policy".into(), "ci".into()])
        .assert_success()
        .assert_stdout_line("[extras] ping-head: api-version 1.")
        .assert_stdout_line("[extras] attach-websocket: the container answered \"got:over the websocket\"")
        .assert_stdout_line("[extras] checkpoints: checkpoints need an engine with experimental features")
        .assert_stdout_line("[extras] build-cancel: accepted")
        .assert_stdout_line("[extras] attestations: image attestations need API ≥ 1.55")
        .assert_stdout_line("[extras] volume-update: updating a volume (cluster volumes) needs API ≥ 1.42")
        .assert_stdout_line("[extras] session: denied by ")
        .assert_stdout_line("[extras] ok");
}
