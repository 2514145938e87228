//! Exits with the code given as its first argument (42 without one): `tug run exit-code.wasm -- 5`.
//! The end-to-end tests use it to check that `tug run` passes a plugin's exit code through.

fn main() {
    let code = match std::env::args().nth(1) {
        None => 42,
        Some(arg) => match arg.parse::<u8>() {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: the exit code {arg:?} is not a number from 0 to 255: {e}");
                std::process::exit(1);
            }
        },
    };
    println!("exiting with {code}");
    // Not `std::process::exit`: on wasm32-wasip2 it turns every non-zero code into 1.
    tug_sdk::exit(code);
}
