//! {{name}}: a tug plugin that runs a container, prints its output and removes it.
//!
//! `tug run {{name}}.wasm [-- IMAGE [COMMAND…]]`: IMAGE defaults to `busybox:latest`, COMMAND to
//! `echo hello from a container`. When the container exits non-zero, its stderr is printed and the plugin
//! exits with its status.

use tug_sdk::docker::{Docker, Error, RunOptions};

fn main() {
    // Prints an error as one line on stderr and exits 1.
    tug_sdk::main(run);
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let image = args.next().unwrap_or_else(|| "busybox:latest".to_owned());
    let mut command: Vec<String> = args.collect();
    if command.is_empty() {
        command = vec!["echo".into(), "hello from a container".into()];
    }

    // The engine `tug run` was given, as docker-py's `docker.from_env()`.
    let docker = Docker::from_env()?;
    let options = RunOptions::new().command(command).remove(true);
    match docker.containers().run(&image, options) {
        Ok(ran) => {
            let output = ran.into_output().unwrap_or_default();
            print!("{}", String::from_utf8_lossy(&output));
            Ok(())
        }
        Err(Error::Container {
            exit_status,
            stderr,
            ..
        }) => {
            eprint!("{}", String::from_utf8_lossy(&stderr));
            tug_sdk::exit(u8::try_from(exit_status).unwrap_or(1))
        }
        Err(e) => Err(e),
    }
}
