//! The CLI tried as a new user would (issue 10): search, now and next, joining, what changed,
//! help, and logs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;
use common::{fails, meadow, ok};

fn demo(dir: &Path) {
    ok(dir, &["demo", "--start", "2026-07-10"]);
}

#[test]
fn search_takes_words_without_quotes_and_lists_by_relevance_without_repeated_headers() {
    let d = tempfile::tempdir().expect("dir");
    demo(d.path());
    let out = ok(d.path(), &["search", "sauna", "ritual"]);
    assert!(!out.contains("=="), "no day headers in a relevance list: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.contains("Sauna") || l.contains("sauna") || l.contains("ritual")),
        "{out}"
    );
    // Each line says its day.
    assert!(lines.iter().all(|l| ["Fri", "Sat", "Sun", "Mon"].iter().any(|d| l.trim_start().starts_with(d))), "{out}");
    let err = fails(d.path(), &["search", " "]);
    assert!(err.contains("give some words"), "{err}");
    let err = fails(d.path(), &["search"]);
    assert!(err.contains("WORDS"), "{err}");
}

#[test]
fn now_says_which_day_a_next_event_is_on() {
    let d = tempfile::tempdir().expect("dir");
    demo(d.path());
    // Late at night, most venues' next event is tomorrow.
    let out = ok(d.path(), &["now", "--at", "2026-07-10 23:50"]);
    let next: Vec<&str> = out.lines().filter(|l| l.trim_start().starts_with("next")).collect();
    assert!(!next.is_empty(), "{out}");
    assert!(next.iter().any(|l| l.contains("Sat 11 Jul")), "{out}");
    // An event later today shows no date.
    let out = ok(d.path(), &["now", "--at", "2026-07-10 14:00"]);
    assert!(out.lines().filter(|l| l.contains("next")).all(|l| !l.contains("Fri 10 Jul")), "{out}");
}

/// A running `meadow serve`: the process, its invite, its stdout lines and everything it wrote to
/// stderr (read all the time, so the server never blocks on a full pipe).
type Served = (Child, String, mpsc::Receiver<String>, std::sync::Arc<std::sync::Mutex<String>>);

fn serve(dir: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meadow"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--bind", "127.0.0.1:0", "--no-mdns"])
        .env_remove("MEADOW_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = errors.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
    let link = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("serve prints its invite");
        if let Some(l) = line.strip_prefix("invite: ") {
            break l.to_owned();
        }
    };
    (child, link, rx, errors)
}

#[test]
fn join_explains_a_bad_ticket_a_festival_the_peer_lacks_and_an_unreachable_peer() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    demo(da.path());
    let err = fails(db.path(), &["join", "meadow://join/this-is-no-ticket"]);
    assert!(err.contains("not a Meadow invite") && !err.contains("base32") && !err.contains("Decoding"), "{err}");

    let (mut server, link, _lines, _errors) = serve(da.path());
    // A valid ticket to the right peer for a festival it does not hold.
    let mut invite = meadow_core::net::Invite::parse(&link).expect("invite");
    invite.festival = meadow_core::op::FestivalId([7; 32]);
    let err = fails(db.path(), &["join", &invite.to_link()]);
    assert!(err.contains("does not hold this festival"), "{err}");
    let _ = server.kill();
    let _ = server.wait();

    // The peer is gone: a clear answer within a few seconds.
    let started = Instant::now();
    let err = fails(db.path(), &["join", &link]);
    assert!(err.contains("unreachable"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(12), "took {:?}", started.elapsed());
}

#[test]
fn changes_summarise_the_first_look_and_say_what_moved() {
    // A published schedule imported here is new to its reader: the first look is one line.
    let imported = tempfile::tempdir().expect("dir");
    let schedule = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wiese-v1.xml");
    ok(imported.path(), &["import", schedule.to_str().expect("path")]);
    let first = ok(imported.path(), &["changes"]);
    let first_lines: Vec<&str> = first.lines().filter(|l| !l.starts_with("announcement")).collect();
    assert_eq!(first_lines.len(), 1, "one line, not the whole programme: {first}");
    assert!(first_lines[0].contains("8 events, new to you"), "{first}");
    // The demo this device made is not news to it, on any front end.
    let d = tempfile::tempdir().expect("dir");
    demo(d.path());
    assert!(ok(d.path(), &["changes"]).contains("nothing changed"));
    // Now: one event moves only in time, one only in place, one is cancelled and restored.
    let programme: Vec<serde_json::Value> =
        serde_json::from_str(&ok(d.path(), &["programme", "--json", "--day", "2026-07-11"])).expect("json");
    let official: Vec<&serde_json::Value> = programme.iter().filter(|e| e["official"] == true).collect();
    let id = |i: usize| official[i]["id"].as_str().expect("id")[..12].to_owned();
    let start = official[0]["start"].as_str().expect("start");
    let later = format!("{} 23:00", &start[..10]);
    let end = format!("{} 23:30", &start[..10]);
    ok(d.path(), &["event", "edit", &id(0), "--start", &later, "--end", &end]);
    let venue = if official[1]["venue"] == "Tea House" { "Poetry Corner" } else { "Tea House" };
    ok(d.path(), &["event", "edit", &id(1), "--venue", venue]);
    ok(d.path(), &["event", "cancel", &id(2)]);
    ok(d.path(), &["event", "cancel", &id(2), "--restore"]);
    let out = ok(d.path(), &["changes"]);
    assert!(out.contains("0 new, 2 moved, 0 cancelled, 1 restored"), "{out}");
    let moved: Vec<&str> = out.lines().filter(|l| l.contains("moved ")).collect();
    assert!(moved.iter().any(|l| l.contains("23:00") && !l.contains("(no venue)")), "{out}");
    assert!(moved.iter().any(|l| l.contains(" -> ") && l.contains(venue)), "{out}");
}

#[test]
fn help_keeps_global_options_apart_shows_defaults_once_and_offers_only_what_works() {
    let d = tempfile::tempdir().expect("dir");
    let help = ok(d.path(), &["programme", "--help"]);
    assert!(help.contains("Global options:") && help.contains("--festival"), "{help}");
    let global = &help[help.find("Global options:").expect("heading")..];
    assert!(global.contains("--data-dir") && !global.contains("--festival"), "{help}");
    for cmd in [&["id", "--help"][..], &["demo", "--help"], &["serve", "--help"], &["festival", "create", "--help"]] {
        let h = ok(d.path(), cmd);
        assert!(!h.contains("--festival"), "{cmd:?} offers --festival where it has no effect: {h}");
    }
    for cmd in
        [&["festival", "create", "--help"][..], &["announce", "--help"], &["import", "--help"], &["demo", "--help"]]
    {
        let h = ok(d.path(), cmd);
        for line in h.lines() {
            let defaults = line.matches("default").count();
            assert!(defaults <= 1, "{cmd:?}: default shown twice in {line:?}");
        }
    }
    assert!(fails(d.path(), &["id", "--festival", "x"]).contains("unexpected argument"));
}

#[test]
fn venues_by_prefix_plurals_and_cancelled_events_without_markup() {
    let d = tempfile::tempdir().expect("dir");
    ok(d.path(), &["festival", "create", "--name", "Tiny", "--start", "2026-07-10", "--end", "2026-07-10"]);
    ok(d.path(), &["venue", "add", "Lakeside Stage"]);
    ok(d.path(), &["venue", "add", "Lake Tent"]);
    let err = fails(
        d.path(),
        &[
            "event",
            "add",
            "--title",
            "Swim",
            "--start",
            "2026-07-10 10:00",
            "--end",
            "2026-07-10 11:00",
            "--venue",
            "lake",
        ],
    );
    assert!(err.contains("Lakeside Stage") && err.contains("Lake Tent") && err.contains("more of the name"), "{err}");
    let out = ok(
        d.path(),
        &[
            "event",
            "add",
            "--title",
            "Swim",
            "--start",
            "2026-07-10 10:00",
            "--end",
            "2026-07-10 11:00",
            "--venue",
            "lakes",
        ],
    );
    let id = out.trim().rsplit(' ').next().expect("id")[..12].to_owned();
    let programme = ok(d.path(), &["programme"]);
    assert!(programme.contains("Lakeside Stage") && programme.trim_end().ends_with("1 event"), "{programme}");
    ok(d.path(), &["event", "cancel", &id]);
    let programme = ok(d.path(), &["programme"]);
    assert!(programme.contains("CANCELLED") && !programme.contains("~~"), "{programme}");
    assert!(ok(d.path(), &["festival", "show"]).contains("over 1 day"));
}

#[test]
fn the_readme_demo_keeps_its_private_key_out_of_git() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let dir = readme
        .split("--data-dir ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the README's command names a data directory");
    let key = format!("{dir}/identity.key");
    let ignored =
        Command::new("git").arg("-C").arg(root).args(["check-ignore", "-q", &key]).status().expect("git runs");
    assert!(ignored.success(), "{key} would be committable: add it to .gitignore");
}

#[test]
fn logs_have_no_colour_codes_when_not_at_a_terminal() {
    let d = tempfile::tempdir().expect("dir");
    let out = meadow(d.path(), &["-v", "demo", "--start", "2026-07-10"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in piped logs: {err:?}");
}

#[test]
fn ctrl_c_shuts_serve_down_without_an_error_line() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    demo(da.path());
    let (mut a, link, _a_lines, _a_errors) = serve(da.path());
    ok(db.path(), &["join", &link]);
    // B serves too, keeping in touch with A: a live connection at shutdown.
    let (mut b, _, b_lines, b_errors) = serve(db.path());
    let _ = b_lines.recv_timeout(Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(2));
    let killed = Command::new("kill").args(["-INT", &b.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = b.try_wait().expect("wait") {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "serve did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(300));
    let stderr = b_errors.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("ERROR"), "{stderr}");
    let _ = a.kill();
    let _ = a.wait();
}

#[test]
fn the_day_change_can_be_edited_and_is_read_in_the_festivals_zone() {
    let d = tempfile::tempdir().expect("dir");
    ok(
        d.path(),
        &[
            "festival",
            "create",
            "--name",
            "Night",
            "--start",
            "2026-07-10",
            "--end",
            "2026-07-11",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    ok(d.path(), &["venue", "add", "Club"]);
    ok(
        d.path(),
        &[
            "event",
            "add",
            "--title",
            "Late set",
            "--start",
            "2026-07-11 01:30",
            "--end",
            "2026-07-11 03:00",
            "--venue",
            "Club",
        ],
    );
    let day = |d: &Path| -> String {
        let v: Vec<serde_json::Value> = serde_json::from_str(&ok(d, &["programme", "--json"])).expect("json");
        v[0]["day"].as_str().expect("day").to_owned()
    };
    assert_eq!(day(d.path()), "2026-07-11");
    // 01:30 in Berlin is 23:30 UTC the day before: the day change of 04:00 counts in Berlin.
    ok(d.path(), &["festival", "edit", "--day-change", "04:00"]);
    assert_eq!(day(d.path()), "2026-07-10");
    assert!(ok(d.path(), &["festival", "show"]).contains("day change  04:00"));
    assert!(fails(d.path(), &["festival", "edit", "--day-change", "25:00"]).contains("out of range"));
}

#[test]
fn event_show_says_who_signed_it_and_how_it_reached_this_device() {
    let d = tempfile::tempdir().expect("dir");
    let schedule = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wiese-v1.xml");
    ok(d.path(), &["import", schedule.to_str().expect("path")]);
    let programme: Vec<serde_json::Value> =
        serde_json::from_str(&ok(d.path(), &["programme", "--json"])).expect("json");
    let id = programme[0]["id"].as_str().expect("id")[..12].to_owned();
    let shown = ok(d.path(), &["event", "show", &id]);
    let signed = shown.lines().find(|l| l.starts_with("signed by")).unwrap_or_else(|| panic!("{shown}"));
    // The import was signed with this device's own key.
    assert!(signed.contains("(organiser, you or one of your devices)") && signed.contains("(import)"), "{signed}");
    assert!(signed.contains("signature checked here"), "{signed}");
    let json: serde_json::Value = serde_json::from_str(&ok(d.path(), &["event", "show", &id, "--json"])).expect("json");
    let created = &json["provenance"]["created"];
    assert_eq!(created["via"], "import", "{json}");
    assert_eq!(
        (&created["verified_here"], &created["own_device"], &created["crew"]),
        (&serde_json::json!(true), &serde_json::json!(true), &serde_json::json!(""))
    );
    assert_eq!(json["provenance"]["last_change"], serde_json::Value::Null);
}

#[test]
fn a_crew_is_made_joined_over_the_network_and_shares_a_note() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    demo(da.path());
    let created = ok(da.path(), &["crew", "create", "Camp Kettle"]);
    let id = created.split('(').nth(1).and_then(|r| r.get(..32)).unwrap_or_else(|| panic!("{created}")).to_owned();
    let crew_link = ok(da.path(), &["crew", "invite", &id[..8]]).lines().next().expect("a link").to_owned();
    assert!(crew_link.starts_with("meadow://crew/"), "{crew_link}");
    let (mut server, link, _lines, _errors) = serve(da.path());
    ok(db.path(), &["join", &link]);
    assert!(ok(db.path(), &["crew", "join", &crew_link]).contains("asked to join"));
    // The request reaches the admin's node, which admits it; the new key comes back.
    let mut listed = String::new();
    for _ in 0..30 {
        ok(db.path(), &["sync"]);
        listed = ok(db.path(), &["crew", "list"]);
        if listed.contains("2 members") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(listed.contains("Camp Kettle") && listed.contains("2 members"), "{listed}");
    ok(db.path(), &["crew", "share", "--note", "by the tea tent"]);
    let mut shown = serde_json::Value::Null;
    for _ in 0..30 {
        ok(db.path(), &["sync"]);
        shown = serde_json::from_str(&ok(da.path(), &["crew", "show", &id[..8], "--json"])).expect("json");
        if shown["members"].as_array().is_some_and(|m| m.iter().any(|m| m["note"] == "by the tea tent")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(shown["members"].as_array().is_some_and(|m| m.iter().any(|m| m["note"] == "by the tea tent")), "{shown}");
    // A second use of the same invite is refused by the admin's device: still two.
    let dc = tempfile::tempdir().expect("dir");
    ok(dc.path(), &["join", &link]);
    ok(dc.path(), &["crew", "join", &crew_link]);
    ok(dc.path(), &["sync"]);
    ok(dc.path(), &["sync"]);
    assert!(ok(dc.path(), &["crew", "list"]).contains("no crews"));
    let _ = server.kill();
    let _ = server.wait();
}
