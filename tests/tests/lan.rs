//! LAN discovery for real: two `meadow serve` processes in two network namespaces joined by a
//! veth pair (made here, torn down after) find each other by mDNS, with no invite, and converge.
//! Fails where namespaces cannot be made (no root, no `ip`) unless MEADOW_SKIP_SYSTEM_TESTS is set.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meadow_tests::hostile::meadow_bin;

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Two namespaces and the veth pair between them; removed on drop, whatever the test did.
struct Lan {
    names: [String; 2],
}

impl Lan {
    fn make() -> Option<Lan> {
        // Unique per test as well as per process: the tests of this file run side by side.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = (std::process::id() % 10_000) * 10 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 10;
        let names = [format!("mdw-a-{id}"), format!("mdw-b-{id}")];
        if !ip(&["netns", "add", &names[0]]) {
            return None;
        }
        let lan = Lan { names };
        let (va, vb) = (format!("mva{id}"), format!("mvb{id}"));
        let [a, b] = &lan.names;
        let ok = ip(&["netns", "add", b])
            && ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])
            && ip(&["link", "set", &va, "netns", a])
            && ip(&["link", "set", &vb, "netns", b])
            && [(a, &va, "10.77.0.1/24"), (b, &vb, "10.77.0.2/24")].iter().all(|(ns, dev, addr)| {
                ip(&["-n", ns, "addr", "add", addr, "dev", dev])
                    && ip(&["-n", ns, "link", "set", dev, "up", "multicast", "on"])
                    && ip(&["-n", ns, "link", "set", "lo", "up"])
                    && ip(&["-n", ns, "route", "add", "224.0.0.0/4", "dev", dev])
            });
        ok.then_some(lan)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for n in &self.names {
            ip(&["netns", "del", n]);
        }
    }
}

fn meadow(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(meadow_bin()).arg("--data-dir").arg(dir).args(args).output().expect("meadow runs");
    assert!(out.status.success(), "meadow {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills the process on drop.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(ns: &str, dir: &Path) -> Serving {
    let child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(meadow_bin())
        .arg("--data-dir")
        .arg(dir)
        .args(["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("meadow serve starts");
    Serving(child)
}

/// A node run through the bindings only, as a phone runs it: `start_networking(0, lan: true)`.
fn phone(ns: &str, dir: &Path) -> Serving {
    let child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(env!("CARGO_BIN_EXE_meadow-ffi-node"))
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("meadow serve starts");
    Serving(child)
}

/// Waits until what `meadow <list> --json` prints for `dir` (read beside the running node: SQLite
/// lets both at the store) mentions `text`.
fn wait_for(dir: &Path, list: &str, text: &str, who: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = Command::new(meadow_bin()).arg("--data-dir").arg(dir).args([list, "--json"]).output();
        if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(text)) {
            return;
        }
        assert!(Instant::now() < deadline, "{who} never received {text:?} over the LAN");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Two namespaces and two data directories holding the same demo festival (B imported A's
/// archive); `None` where namespaces cannot be made (the test is then skipped, or fails, as
/// `skip_for_missing` decides).
fn two_holders() -> Option<(Lan, tempfile::TempDir, tempfile::TempDir)> {
    let Some(lan) = Lan::make() else {
        meadow_tests::support::skip_for_missing("network namespaces cannot be made here (needs root and iproute2)");
        return None;
    };
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    meadow(a.path(), &["demo"]);
    let archive = a.path().join("festival.meadow");
    meadow(a.path(), &["export", "archive", archive.to_str().expect("utf-8 path")]);
    meadow(b.path(), &["import", archive.to_str().expect("utf-8 path")]);
    Some((lan, a, b))
}

#[test]
fn two_phones_started_through_the_bindings_find_each_other_and_sync_both_ways() {
    let Some((lan, a, b)) = two_holders() else { return };
    // Each phone has something the other lacks; neither has an invite or a known peer.
    meadow(a.path(), &["announce", "Water at the north gate", "--priority", "high"]);
    // The demo starts today (the machine's date) and its days change in the early morning: the
    // afternoon of its second day is inside it whatever the time now.
    let day = jiff::ZonedDateTime::now().date().tomorrow().expect("tomorrow");
    let (start, end) = (format!("{day} 14:00"), format!("{day} 15:00"));
    meadow(
        b.path(),
        &["event", "add", "--title", "Drum circle", "--venue", "Forest Stage", "--start", &start, "--end", &end],
    );
    let _pa = phone(&lan.names[0], a.path());
    let _pb = phone(&lan.names[1], b.path());
    wait_for(b.path(), "announcements", "north gate", "phone B");
    wait_for(a.path(), "programme", "Drum circle", "phone A");
}

#[test]
fn two_nodes_on_a_lan_find_each_other_by_mdns_and_converge() {
    let Some((lan, a, b)) = two_holders() else { return };
    // B holds the festival as it was; A posts something new. No invite, no known peer.
    meadow(a.path(), &["announce", "The lake stage opens an hour late", "--priority", "high"]);
    assert!(!meadow(b.path(), &["announcements", "--json"]).contains("lake stage"));
    let _sa = serve(&lan.names[0], a.path());
    let _sb = serve(&lan.names[1], b.path());
    wait_for(b.path(), "announcements", "lake stage", "B");
}
