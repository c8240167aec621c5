//! The `meadow` binary as people use it: real processes on a temporary data directory.

use std::path::Path;
use std::process::Command;

mod common;
use common::ok;

fn fails(dir: &Path, args: &[&str], needle: &str) {
    let err = common::fails(dir, args);
    assert!(err.contains(needle), "meadow {args:?}: expected {needle:?} in {err:?}");
}

fn programme_json(dir: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(dir, &["programme", "--json"])).expect("json")
}

#[test]
fn organiser_workflow() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    let id = ok(dir, &["id"]);
    assert!(id.contains("fingerprint"));
    ok(
        dir,
        &[
            "festival",
            "create",
            "--name",
            "Wiese",
            "--start",
            "2026-07-10",
            "--end",
            "2026-07-12",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    assert!(ok(dir, &["festival", "list"]).contains("Wiese"));
    ok(dir, &["venue", "add", "Main Stage", "--lat", "52.52", "--lon", "13.405"]);
    ok(dir, &["venue", "add", "Tent"]);
    let added = ok(
        dir,
        &[
            "event",
            "add",
            "--title",
            "Opening",
            "--start",
            "2026-07-10 18:00",
            "--end",
            "2026-07-10 19:00",
            "--venue",
            "main stage",
            "--track",
            "Music",
            "--tag",
            "folk",
            "--person",
            "Zoë",
        ],
    );
    assert!(added.contains("official"));
    ok(
        dir,
        &[
            "event",
            "add",
            "--title",
            "Late",
            "--start",
            "2026-07-10T23:30:00+02:00",
            "--end",
            "2026-07-11 00:30",
            "--venue",
            "Tent",
        ],
    );
    let events = programme_json(dir);
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(e["title"], "Opening");
    assert_eq!(e["start"], "2026-07-10T18:00:00+02:00");
    assert_eq!(e["end"], "2026-07-10T19:00:00+02:00");
    assert_eq!(e["venue"], "Main Stage");
    assert_eq!(e["official"], true);
    assert_eq!(e["cancelled"], false);
    let id = e["id"].as_str().expect("id").to_owned();
    let table = ok(dir, &["programme", "--day", "2026-07-10"]);
    assert!(
        table.contains("== Friday 2026-07-10 ==")
            && table.contains("-- Main Stage --")
            && table.contains("18:00-19:00"),
        "{table}"
    );
    assert!(ok(dir, &["search", "zoe"]).contains("Opening"));
    ok(dir, &["changes"]);
    ok(dir, &["event", "edit", &id[..8], "--start", "2026-07-10 20:00", "--end", "2026-07-10 21:00"]);
    ok(dir, &["event", "cancel", &id[..8]]);
    let changes = ok(dir, &["changes"]);
    assert!(changes.contains("cancelled") && changes.contains("Opening"), "{changes}");
    assert!(ok(dir, &["changes"]).contains("nothing changed"));
    ok(dir, &["fav", "add", &id[..8]]);
    assert!(ok(dir, &["fav", "list"]).contains("Opening"));
    ok(dir, &["announce", "Gates open at 10", "--priority", "high"]);
    assert!(ok(dir, &["announcements"]).contains("[HIGH] Gates open at 10"));
    assert!(ok(dir, &["check"]).contains("store ok"));
}

#[test]
fn bad_input_names_the_problem_and_stores_nothing() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    fails(dir, &["programme"], "no current festival");
    ok(
        dir,
        &[
            "festival",
            "create",
            "--name",
            "F",
            "--start",
            "2026-07-10",
            "--end",
            "2026-07-11",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    fails(dir, &["festival", "create", "--name", "G", "--start", "2026-07-10", "--end", "2026-07-01"], "before");
    fails(
        dir,
        &[
            "festival",
            "create",
            "--name",
            "G",
            "--start",
            "2026-07-10",
            "--end",
            "2026-07-11",
            "--timezone",
            "Mars/Olympus",
        ],
        "time zone",
    );
    ok(dir, &["venue", "add", "Main"]);
    let add = |title: &str, start: &str, end: &str, venue: &str| -> Vec<String> {
        ["event", "add", "--title", title, "--start", start, "--end", end, "--venue", venue]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>, needle: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(dir, &refs, needle);
    };
    run(add("", "2026-07-10 18:00", "2026-07-10 19:00", "Main"), "title");
    run(add("   ", "2026-07-10 18:00", "2026-07-10 19:00", "Main"), "must not be empty");
    run(add("X", "yesterday", "2026-07-10 19:00", "Main"), "cannot read time \"yesterday\"");
    run(add("X", "2026-07-10 18:00", "2026-07-10 17:00", "Main"), "ends before it starts");
    run(add("X", "2026-07-10 18:00", "2026-07-10 19:00", "Nowhere"), "venue \"Nowhere\"");
    fails(dir, &["event", "edit", "deadbeef", "--title", "Y"], "not found");
    fails(dir, &["organiser", "add", "not-a-key"], "not a public key");
    fails(dir, &["announce", "x", "--priority", "loud"], "invalid value 'loud'");
    assert!(programme_json(dir).is_empty());
    assert!(ok(dir, &["check"]).contains("store ok: 2 ops"));
}

#[test]
fn community_members_cannot_announce_and_demo_is_realistic() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    let out = ok(dir, &["demo", "--start", "2026-07-10"]);
    assert!(out.contains("12 venues"), "{out}");
    let events = programme_json(dir);
    assert!(events.len() >= 300, "{} events", events.len());
    assert!(events.iter().any(|e| e["official"] == false), "has community events");
    assert!(events.iter().any(|e| e["cancelled"] == true), "has a cancellation");
    let days: std::collections::BTreeSet<&str> = events.iter().filter_map(|e| e["day"].as_str()).collect();
    assert_eq!(days.len(), 4);
    // An event after midnight belongs to the previous festival day (day change 04:00).
    assert!(
        events
            .iter()
            .any(|e| e["start"].as_str().is_some_and(|s| s.starts_with("2026-07-11T01:")) && e["day"] == "2026-07-10")
    );
    let fest = ok(dir, &["festival", "list", "--json"]);
    let fest: serde_json::Value = serde_json::from_str(&fest).expect("json");
    let fid = fest[0]["id"].as_str().expect("id").to_owned();

    // Another device with the same data but its own key is a community member.
    let d2 = tempfile::tempdir().expect("dir");
    std::fs::copy(dir.join("meadow.sqlite3"), d2.path().join("meadow.sqlite3")).expect("copy");
    ok(d2.path(), &["festival", "use", &fid[..8]]);
    fails(d2.path(), &["announce", "free beer"], "only the owner and organisers");
    let added = ok(
        d2.path(),
        &[
            "event",
            "add",
            "--title",
            "Jam",
            "--start",
            "2026-07-11 12:00",
            "--end",
            "2026-07-11 13:00",
            "--venue",
            "Tea House",
        ],
    );
    assert!(added.contains("community"));
    let id = events.iter().find(|e| e["official"] == true).and_then(|e| e["id"].as_str()).expect("official");
    fails(d2.path(), &["event", "cancel", &id[..10]], "only its author and organisers");
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

#[test]
fn import_export_and_fork_from_the_command_line() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    let v1 = fixture("wiese-v1.xml");
    let out = ok(dir, &["import", v1.to_str().expect("path")]);
    assert!(out.contains("created festival \"Wiese & Wald 2026\"") && out.contains("8 added"), "{out}");
    let again = ok(dir, &["import", v1.to_str().expect("path")]);
    assert!(again.contains("0 added, 0 moved, 0 changed, 0 cancelled, 0 restored, 8 unchanged"), "{again}");
    ok(dir, &["changes"]);
    let v2 = ok(dir, &["import", fixture("wiese-v2.xml").to_str().expect("path")]);
    assert!(v2.contains("1 added, 1 moved, 0 changed, 1 cancelled"), "{v2}");
    let changes = ok(dir, &["changes"]);
    assert!(changes.contains("1 new, 1 moved, 1 cancelled, 0 restored, 0 other changes"), "{changes}");

    let ics = ok(dir, &["export", "ics"]);
    assert!(ics.starts_with("BEGIN:VCALENDAR") && ics.matches("BEGIN:VEVENT").count() == 9, "{ics}");
    let archive = dir.join("wiese.meadow");
    ok(dir, &["export", "archive", archive.to_str().expect("path")]);

    // Another data directory takes the archive and ends up with the same programme.
    let d2 = tempfile::tempdir().expect("dir");
    let out = ok(d2.path(), &["import", archive.to_str().expect("path")]);
    assert!(out.contains("imported archive of \"Wiese & Wald 2026\""), "{out}");
    assert_eq!(programme_json(d2.path()), programme_json(dir));

    let out = ok(dir, &["festival", "fork", "--name", "Wiese 2027", "--start", "2027-07-09", "--events"]);
    assert!(out.contains("forked into \"Wiese 2027\""), "{out}");
    assert_eq!(programme_json(dir).len(), 8, "official, not cancelled events are copied");
    assert!(ok(dir, &["festival", "show"]).contains("forked from"));
}

#[test]
fn hostile_imports_fail_with_the_place_and_store_nothing() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    ok(dir, &["import", fixture("camp-pretalx.json").to_str().expect("path")]);
    let before = ok(dir, &["check"]);
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<schedule><conference><title>Unclosed</conference></schedule>").expect("write");
    fails(dir, &["import", bad.to_str().expect("path")], "line 1");
    // A huge file is refused before it is read (sparse, so the test costs no disk).
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge).and_then(|f| f.set_len(1 << 30)).expect("sparse file");
    fails(dir, &["import", huge.to_str().expect("path")], "over the 256 MB limit");
    fails(dir, &["import", "/nonexistent/schedule.xml"], "reading /nonexistent/schedule.xml");
    fails(dir, &["import", bad.to_str().expect("path"), "--format", "pdf"], "invalid value 'pdf'");
    assert_eq!(ok(dir, &["check"]), before);
}

/// Starts `meadow --data-dir DIR serve ARGS...` with its standard output read line by line on a
/// thread (so the server never blocks on a full pipe) and its standard error dropped.
pub fn spawn_serve(dir: &Path, args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_meadow"))
        .arg("--data-dir")
        .arg(dir)
        .arg("serve")
        .args(args)
        .env_remove("MEADOW_DATA_DIR")
        .env_remove("MEADOW_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The rest of the first line from `lines` that starts with `prefix` (waiting up to 30 s).
pub fn line_after(lines: &std::sync::mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve prints a line starting {prefix:?}"));
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

#[test]
fn serve_invite_join_and_sync_over_loopback() {
    let da = tempfile::tempdir().expect("dir");
    let db = tempfile::tempdir().expect("dir");
    ok(da.path(), &["demo", "--start", "2026-07-10"]);
    fails(da.path(), &["invite"], "run `meadow serve` first");
    let (mut serve, lines) = spawn_serve(da.path(), &["--bind", "127.0.0.1:0", "--no-mdns"]);
    let link = line_after(&lines, "invite: ");
    assert!(link.starts_with("meadow://join/"));
    let joined = ok(db.path(), &["join", &link]);
    assert!(joined.contains("joined \"Meadow Summer Gathering\""), "{joined}");
    assert_eq!(programme_json(db.path()), programme_json(da.path()));
    // The invite command repeats what serve advertises.
    assert!(ok(da.path(), &["invite"]).contains(&link));
    // A change on the server, then a sync from the member.
    ok(da.path(), &["announce", "Gates open early", "--priority", "high"]);
    let synced = ok(db.path(), &["sync"]);
    assert!(synced.contains("1 op received"), "{synced}");
    assert!(ok(db.path(), &["announcements"]).contains("Gates open early"));
    fails(db.path(), &["join", "meadow://join/not-a-ticket"], "not a Meadow invite");
    let _ = serve.kill();
    let _ = serve.wait();
}

/// `serve --ble` where there is no Bluetooth: a clear error that names Bluetooth, and nothing
/// stored (serve would have saved its listening address, which `invite` needs).
#[test]
fn serve_with_ble_and_no_adapter_fails_clearly_and_changes_nothing() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    ok(dir, &["demo"]);
    let before = ok(dir, &["programme", "--json"]);
    let run = |bus: &str| {
        Command::new(env!("CARGO_BIN_EXE_meadow"))
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--ble", "--no-mdns"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
            .env_remove("MEADOW_LOG")
            .output()
            .expect("run meadow")
    };
    let mut buses = vec![(format!("unix:path={}", dir.join("no-such-bus").display()), None)];
    // A D-Bus system bus with no BlueZ on it, where dbus-daemon exists.
    let daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok();
    if let Some(mut child) = daemon {
        use std::io::BufRead;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        buses.push((line.trim().to_string(), Some(child)));
    } else {
        eprintln!("dbus-daemon not found: only the missing bus is tried");
    }
    for (bus, child) in &mut buses {
        let out = run(bus);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "serve --ble on {bus} should fail");
        assert!(err.contains("Bluetooth"), "{err}");
        if let Some(c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    assert!(common::fails(dir, &["invite"]).contains("run `meadow serve` first"), "serve stored nothing");
    assert_eq!(ok(dir, &["programme", "--json"]), before);
}

/// One HTTP/1.1 request over loopback; the status code and the whole answer.
fn http(addr: &str, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the web server");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

/// The README's main command, as written there: a demo festival, then a node serving it to peers
/// (an invite) and on the web (a URL beside the invite). Run twice, it reuses its demo. Only the
/// addresses change: the test listens on loopback, on ports the system picks.
#[test]
fn the_readmes_main_command_makes_the_demo_and_serves_it_to_peers_and_on_the_web() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let block = readme.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("a sh block");
    let command = block.trim();
    let steps: Vec<Vec<&str>> = command
        .split(" && ")
        .map(|step| {
            let args = step.strip_prefix("cargo run --release -p meadow -- ").expect("each step runs `meadow`");
            args.split_whitespace().collect()
        })
        .collect();
    assert_eq!(steps.len(), 2, "the main command: {command}");
    let d = tempfile::tempdir().expect("dir");
    // The data directory becomes the test's own; the rest is the README's.
    let in_tempdir = |args: &[&str]| -> Vec<String> {
        assert_eq!(args.get(..2), Some(&["--data-dir", "meadow-data"][..]), "{args:?}");
        args[2..].iter().map(|a| a.to_string()).collect()
    };
    let make = in_tempdir(&steps[0]);
    let make: Vec<&str> = make.iter().map(String::as_str).collect();
    assert!(ok(d.path(), &make).contains("created demo festival"));
    assert!(ok(d.path(), &make).contains("already here"), "the second run reuses the demo");
    assert_eq!(ok(d.path(), &["festival", "list", "--json"]).matches("\"id\"").count(), 1);
    let mut serve_args = in_tempdir(&steps[1]);
    assert_eq!(serve_args.first().map(String::as_str), Some("serve"), "{serve_args:?}");
    assert_eq!(serve_args.last().map(String::as_str), Some("--web"), "the main command serves the web page");
    serve_args.remove(0);
    serve_args.extend(["127.0.0.1:0", "--bind", "127.0.0.1:0", "--no-mdns"].map(String::from));
    let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let (mut serve, lines) = spawn_serve(d.path(), &serve_args);
    let invite = line_after(&lines, "invite: ");
    assert!(invite.starts_with("meadow://join/"), "{invite}");
    let addr = line_after(&lines, "web: the programme for any browser at http://")
        .split('/')
        .next()
        .expect("an address")
        .to_owned();
    let (status, home) = http(&addr, "GET / HTTP/1.1\r\nHost: info\r\nConnection: close\r\n\r\n");
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(status, 200, "{home}");
    assert!(home.contains("Meadow Summer Gathering"), "{home}");
}

/// `serve --web`: the page and the feeds from the node that syncs, nothing a visitor sends
/// stored, and a clear error for an address that is taken.
#[test]
fn serve_with_web_shows_the_programme_read_only() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    ok(dir, &["demo", "--start", "2026-07-10"]);
    let before = ok(dir, &["programme", "--json"]);
    let (mut serve, lines) = spawn_serve(dir, &["--bind", "127.0.0.1:0", "--no-mdns", "--web", "127.0.0.1:0"]);
    let addr = line_after(&lines, "web: the programme for any browser at http://")
        .split('/')
        .next()
        .expect("an address")
        .to_owned();
    let get = |path: &str| http(&addr, &format!("GET {path} HTTP/1.1\r\nHost: info\r\nConnection: close\r\n\r\n"));
    let (status, home) = get("/");
    assert_eq!(status, 200, "{home}");
    assert!(home.contains("Meadow Summer Gathering"), "{home}");
    assert!(home.to_ascii_lowercase().contains("content-security-policy:"));
    let (status, xml) = get("/schedule.xml");
    assert_eq!(status, 200);
    assert!(xml.contains("<schedule") && xml.contains("<conference>"), "{xml}");
    let (status, ics) = get("/programme.ics");
    assert_eq!(status, 200);
    assert!(ics.contains("BEGIN:VCALENDAR"));
    // A visitor cannot write: every other method is refused, and a path outside the site is none.
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let (status, _) = http(
            &addr,
            &format!(
                "{method} /schedule.json HTTP/1.1\r\nHost: info\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            ),
        );
        assert_eq!(status, 405, "{method}");
    }
    assert_eq!(get("/static/../../etc/passwd").0, 404);
    // Another server cannot take the address; it says which and stores nothing (not even the
    // node's own address, which `invite` needs).
    let other = tempfile::tempdir().expect("dir");
    ok(other.path(), &["demo"]);
    let taken = common::meadow(other.path(), &["serve", "--bind", "127.0.0.1:0", "--no-mdns", "--web", &addr]);
    assert!(!taken.status.success());
    let err = String::from_utf8_lossy(&taken.stderr);
    assert!(err.contains(&addr), "{err}");
    fails(other.path(), &["invite"], "run `meadow serve` first");
    fails(dir, &["serve", "--web", "not-an-address"], "invalid value 'not-an-address'");
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(ok(dir, &["programme", "--json"]), before, "the web server changed nothing");
}

/// A frab `schedule.xml` of `events` events over three days in two rooms, each with a description
/// of `text` bytes (long texts are what fill an organiser's log).
fn big_schedule(events: usize, text: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<schedule><version>1</version><conference>\
         <acronym>bigfest</acronym><title>Big Fest</title><start>2026-09-04</start><end>2026-09-06</end>\
         <time_zone_name>Europe/Berlin</time_zone_name></conference>\n",
    );
    let description = "Lorem ipsum dolor sit amet. ".repeat(text / 28 + 1)[..text].to_owned();
    for day in 0..3 {
        xml.push_str(&format!("<day index=\"{}\" date=\"2026-09-0{}\">", day + 1, day + 4));
        for room in ["Hall A", "Hall B"] {
            xml.push_str(&format!("<room name=\"{room}\">"));
            for i in (0..events).filter(|i| i % 6 == day * 2 + usize::from(room == "Hall B")) {
                xml.push_str(&format!(
                    "<event guid=\"00000000-0000-4000-8000-{i:012}\" id=\"{}\"><date>2026-09-0{}T{:02}:{:02}:00+02:00</date>\
                     <duration>00:30</duration><room>{room}</room><title>Talk {i}</title><type>talk</type>\
                     <description>{description}</description></event>",
                    i + 1,
                    day + 4,
                    8 + (i / 6) % 14,
                    (i / 84) % 60
                ));
            }
            xml.push_str("</room>");
        }
        xml.push_str("</day>\n");
    }
    xml.push_str("</schedule>\n");
    xml
}

/// An import whose programme does not fit an organiser's log is refused whole: no half a
/// festival, no new festival made current, nothing stored (the landed code stopped at "log limit
/// reached" with 5,439 ops of a new festival stored).
#[test]
fn an_import_too_large_for_one_log_stores_nothing_not_even_its_new_festival() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    let file = dir.join("big.xml");
    // 4,000 events of 5 KB: about 21 MB of ops, past the 15 MiB a log keeps for programme.
    std::fs::write(&file, big_schedule(4_000, 5_000)).expect("write");
    fails(dir, &["import", file.to_str().expect("path"), "--new"], "nothing was stored");
    assert_eq!(ok(dir, &["festival", "list", "--json"]).trim(), "[]", "no festival was made");
    // Into an existing festival: the same, and the festival is as it was.
    ok(dir, &["demo", "--start", "2026-09-04"]);
    let before = ok(dir, &["programme", "--json"]);
    fails(dir, &["import", file.to_str().expect("path")], "nothing was stored");
    assert_eq!(ok(dir, &["programme", "--json"]), before);
    assert!(ok(dir, &["check"]).contains("ok"));
}

/// An organiser whose programme imports filled their log hears of it early, and can always post
/// an emergency: the last MiB of every log is kept for announcements and role changes.
#[test]
fn an_organiser_whose_programme_filled_the_log_is_warned_early_and_can_still_warn_the_field() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    let file = dir.join("big.xml");
    // 2,700 events of 5 KB: about 14 of the 15 MiB kept for programme.
    std::fs::write(&file, big_schedule(2_700, 5_000)).expect("write");
    let out = ok(dir, &["import", file.to_str().expect("path"), "--new"]);
    assert!(out.contains("% full for programme changes") && out.contains("organiser add"), "{out}");
    // A bigger version no longer fits: refused whole, the programme as it was.
    let before = ok(dir, &["programme", "--json"]);
    std::fs::write(&file, big_schedule(3_300, 5_000)).expect("write");
    fails(dir, &["import", file.to_str().expect("path")], "kept for announcements");
    assert_eq!(ok(dir, &["programme", "--json"]), before);
    // Long event texts fill the rest of the programme budget, then are refused...
    let long = "x".repeat(7_900);
    let mut refused = None;
    for i in 0..200 {
        let title = format!("Extra {i}");
        let args = [
            "event",
            "add",
            "--title",
            &title,
            "--start",
            "2026-09-05 10:00",
            "--end",
            "2026-09-05 11:00",
            "--venue",
            "Hall A",
            "--description",
            &long,
        ];
        let out = common::meadow(dir, &args);
        if !out.status.success() {
            refused = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let refused = refused.expect("the programme budget runs out");
    assert!(refused.contains("kept for announcements") && refused.contains("organiser add"), "{refused}");
    // ...but an emergency still goes out, and shows.
    ok(dir, &["announce", "Storm: leave the field", "--priority", "emergency"]);
    assert!(ok(dir, &["announcements"]).contains("Storm: leave the field"));
}

#[test]
fn a_person_hides_an_event_from_their_own_programme_and_starts_their_devices_crew() {
    let d = tempfile::tempdir().expect("dir");
    let dir = d.path();
    ok(dir, &["demo", "--start", "2026-07-10"]);
    let first = programme_json(dir).into_iter().next().expect("an event");
    let id = first["id"].as_str().expect("id").to_owned();
    assert!(ok(dir, &["hide", "--here", &id[..12]]).contains("hidden from your programme"));
    assert!(!programme_json(dir).iter().any(|e| e["id"] == first["id"]), "gone from the programme");
    let shown = ok(dir, &["event", "show", &id[..12]]);
    assert!(shown.contains("hidden    from your programme"), "{shown}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(dir, &["event", "show", &id[..12], "--json"])).expect("json");
    assert_eq!(json["hidden_here"], true);
    ok(dir, &["hide", "--here", "--undo", &id[..12]]);
    assert!(programme_json(dir).iter().any(|e| e["id"] == first["id"]), "back");
    fails(dir, &["hide", "--here", "--author", "00"], "--here hides one event");
    let made = ok(dir, &["crew", "devices"]);
    assert!(made.contains("the crew of your own devices"), "{made}");
    fails(dir, &["crew", "devices"], "crew of its own devices already");
    assert!(ok(dir, &["crew", "list"]).contains("1 devices"));
}
