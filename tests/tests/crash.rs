//! A process killed in the middle of an ingest leaves a consistent store: every batch is stored
//! whole or not at all, and the materialized programme still equals a fold of the stored ops.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meadow_core::store::Store;
use meadow_tests::benchmark_festival;

const BATCH: usize = 1000;
const CHILD_ENV: &str = "MEADOW_CRASH_CHILD_DIR";

fn child(dir: &Path) {
    let scenario = benchmark_festival(11, 30_000, 300);
    let mut store = Store::open(&dir.join("m.sqlite3")).expect("open");
    for (i, batch) in scenario.ops.chunks(BATCH).enumerate() {
        store.ingest(batch.to_vec()).expect("ingest");
        if i == 0 {
            std::fs::write(dir.join("started"), b"1").expect("marker");
        }
    }
    std::fs::write(dir.join("finished"), b"1").expect("marker");
}

#[test]
fn killed_mid_ingest_leaves_a_consistent_store() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let exe = std::env::current_exe().expect("exe");
    let mut kills = 0;
    for round in 0..6u64 {
        let _ = std::fs::remove_file(dir.path().join("started"));
        let mut proc = Command::new(&exe)
            .args(["--exact", "killed_mid_ingest_leaves_a_consistent_store", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn child");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !dir.path().join("started").exists() && Instant::now() < deadline {
            if proc.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Let it get into the middle of a later batch, at a different point each round.
        std::thread::sleep(Duration::from_millis(40 + round * 37));
        if proc.try_wait().expect("wait").is_none() {
            proc.kill().expect("kill");
            kills += 1;
        }
        proc.wait().expect("reap");

        let mut store = Store::open(&dir.path().join("m.sqlite3")).expect("reopen after kill");
        let problems = store.check().expect("check");
        assert!(problems.is_clean(), "round {round}: {problems:?}");
        let n = store.op_count().expect("count") as usize;
        assert_eq!(n % BATCH, 0, "round {round}: {n} ops stored, not a whole number of batches");
        if dir.path().join("finished").exists() {
            break;
        }
    }
    assert!(kills > 0, "the child was never killed mid-run");
}
