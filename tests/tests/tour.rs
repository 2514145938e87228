//! The tour plugin calls every Engine API operation the other example plugins do not, under `trusted`
//! (registry auth needs `system` write); each line is checked by the plugin, the key ones here too.

use tug_e2e::{plugin, tug_run};

#[test]
fn tour_of_the_remaining_operations() {
    tug_run([
        plugin("tour").into_os_string(),
        "--policy".into(),
        "trusted".into(),
    ])
    .assert_success()
    .assert_stdout_line("[tour] list: ")
    .assert_stdout_line("[tour] top: ")
    .assert_stdout_line("[tour] changes: include /tour")
    .assert_stdout_line("[tour] stats: a document with memory_stats: true")
    .assert_stdout_line("[tour] rename: now tug-tour-")
    .assert_stdout_line("[tour] exec resize: stty says 30 90")
    .assert_stdout_line("[tour] attach: stdout got:hello, stderr err")
    .assert_stdout_line("[tour] checkpoint create: checkpoints need an engine with experimental features")
    .assert_stdout_line("[tour] history: 2 layer(s)")
    .assert_stdout_line("[tour] image list: shows the tagged image")
    .assert_stdout_line("[tour] distribution inspect: application/vnd.docker.distribution.manifest.v2+json")
    .assert_stdout_line("[tour] search: ")
    .assert_stdout_line("[tour] container prune: 2 removed")
    .assert_stdout_line("[tour] auth: Login Succeeded")
    .assert_stdout_line("[tour] ok");
}
