//! Running the real `meadow` binary from the CLI's integration tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `meadow --data-dir DIR ARGS...` with no data directory or log level from the environment.
pub fn meadow(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meadow"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("MEADOW_DATA_DIR")
        .env_remove("MEADOW_LOG")
        .output()
        .expect("run meadow")
}

/// Runs meadow, which must succeed, and returns its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = meadow(dir, args);
    assert!(out.status.success(), "meadow {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// Runs meadow, which must fail, and returns its standard error.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = meadow(dir, args);
    assert!(!out.status.success(), "meadow {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
