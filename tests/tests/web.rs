//! The info point on the web (`meadow serve --web`): the feeds validate against the published
//! C3VOC schemas and read back through Meadow's importer to the same programme, the iCalendar
//! feeds parse with an independent parser, polls get 304s until something changes, the live
//! stream tells of changes, untrusted text is escaped, and hostile requests change nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use meadow_core::identity::Identity;
use meadow_core::node::{ImportOptions, Node};
use meadow_core::op::{EventPatch, FestivalId, Link};
use meadow_core::view::ProgrammeFilter;
use meadow_tests::webclient::{demo_node, get, get_with, import_new, raw, script, serve, serve_with, validate_feeds};

/// Title, start, end, venue, track, people and description of an event.
type Fields = (String, i64, i64, String, String, Vec<String>, String);

/// The programme as the feeds should carry it: official, not cancelled, comparable fields.
fn comparable(node: &Node, f: &FestivalId) -> Vec<Fields> {
    let mut out: Vec<_> = node
        .programme(f, &ProgrammeFilter::default())
        .expect("programme")
        .into_iter()
        .filter(|e| e.official && !e.cancelled)
        .map(|e| {
            let d = node.event_detail(f, &e.id).expect("detail").expect("event");
            (e.title, e.start, e.end, e.venue_name, e.track, e.people, d.description)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn feeds_validate_against_the_c3voc_schemas_and_read_back_to_the_same_programme() {
    let s = serve(1);
    let expected = comparable(&s.node.lock().expect("lock"), &s.festival);
    assert!(expected.len() > 100, "the demo has an official programme");

    let xml = get(s.addr(), "/schedule.xml");
    assert_eq!(xml.status, 200);
    assert_eq!(xml.header("content-type"), Some("application/xml; charset=utf-8"));
    let (n, f) = import_new(&xml.body);
    assert_eq!(comparable(&n, &f), expected, "schedule.xml reads back to the same programme");
    let venues: Vec<String> = n.venues(&f).expect("venues").into_iter().map(|v| v.name).collect();
    assert!(venues.len() >= 10, "{venues:?}");

    let json = get(s.addr(), "/schedule.json");
    assert_eq!(json.status, 200);
    validate_feeds(&xml.text(), &json.body);
    let (n, f) = import_new(&json.body);
    assert_eq!(comparable(&n, &f), expected, "schedule.json reads back to the same programme");
}

#[test]
fn icalendar_feeds_parse_with_an_independent_parser() {
    let s = serve(2);
    let dir = tempfile::tempdir().expect("dir");
    let (official, one) = {
        let n = s.node.lock().expect("lock");
        let all = n.programme(&s.festival, &ProgrammeFilter::default()).expect("programme");
        let official: Vec<_> = all.iter().filter(|e| e.official).map(|e| e.id).collect();
        let one = all.iter().find(|e| !e.official).map(|e| e.id).expect("a community event");
        (official, one)
    };
    let check = |path: &str, count: usize| {
        let r = get(s.addr(), path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("text/calendar; charset=utf-8"));
        let file = dir.path().join("feed.ics");
        std::fs::write(&file, &r.body).expect("write");
        let out = Command::new("python3").arg(script("ics_instants.py")).arg(&file).output().expect("python3");
        assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), count, "{path}");
    };
    check("/programme.ics", official.len());
    check(&format!("/event/{}.ics", one.to_hex()), 1);
    assert_eq!(get(s.addr(), "/event/00ff.ics").status, 404);
}

#[test]
fn polls_get_304_until_the_programme_changes_and_the_live_stream_tells_of_changes() {
    let s = serve(3);
    let first = get(s.addr(), "/schedule.xml");
    let etag = first.header("etag").expect("etag").to_owned();
    let modified = first.header("last-modified").expect("last-modified").to_owned();
    let again = get_with(s.addr(), "/schedule.xml", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let since = get_with(s.addr(), "/schedule.xml", &format!("If-Modified-Since: {modified}\r\n"));
    assert_eq!(since.status, 304);

    // A live stream is open while an organiser's announcement arrives.
    let mut live = TcpStream::connect(s.addr()).expect("connect");
    live.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    live.write_all(b"GET /live HTTP/1.1\r\nHost: meadow.test\r\nAccept: text/event-stream\r\n\r\n").expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("retry:") {
        let n = live.read(&mut buf).expect("the stream opens");
        assert!(n > 0, "stream closed");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).contains("text/event-stream"));
    {
        let mut n = s.node.lock().expect("lock");
        n.announce_text(s.festival, "Main stage opens at noon today".into(), true).expect("announce");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&seen).contains("event: change") {
        assert!(Instant::now() < deadline, "no change event: {}", String::from_utf8_lossy(&seen));
        let n = live.read(&mut buf).expect("a change event");
        assert!(n > 0, "stream closed");
        seen.extend_from_slice(&buf[..n]);
    }
    // The old validator no longer matches; the page shows the announcement.
    let changed = get_with(s.addr(), "/schedule.xml", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(changed.status, 200, "the feed was re-made after the change");
    let home = get(s.addr(), "/").text();
    assert!(home.contains("Main stage opens at noon today"), "{home}");
}

/// A second identity that holds the festival and posts a community event with hostile text.
fn post_hostile_community_event(node: &mut Node, f: FestivalId) -> String {
    let archive = node.export_archive(&f).expect("archive");
    let mut other = Node::in_memory(Identity::from_seed(92_222)).expect("node");
    other.import(&archive, &ImportOptions::default(), &mut |_, _| {}).expect("archive imports");
    let start = node.programme(&f, &ProgrammeFilter::default()).expect("programme")[0].start;
    let title = "<script>alert('title')</script> Zqxquiet & \"loud\" hour";
    let id = other
        .add_event(
            f,
            EventPatch {
                title: Some(title.into()),
                description: Some("<img src=x onerror=alert(1)> spilled".into()),
                start: Some(start),
                end: Some(start + 3600),
                links: Some(vec![Link { url: "javascript:alert(1)".into(), title: "click <me>".into() }]),
                ..Default::default()
            },
        )
        .expect("community event");
    let back = other.export_archive(&f).expect("archive");
    node.import(&back, &ImportOptions::default(), &mut |_, _| {}).expect("archive imports back");
    id.to_hex()
}

#[test]
fn untrusted_text_is_escaped_on_every_page_and_never_reaches_the_feeds_unescaped() {
    let (mut node, f) = demo_node(4);
    let id = post_hostile_community_event(&mut node, f);
    let s = serve_with(node, f, |_| {});
    let pages = [format!("/event/{id}"), "/search?q=Zqxquiet".into(), "/favourites?ids=".to_owned() + &id];
    for p in &pages {
        let r = get(s.addr(), p);
        assert_eq!(r.status, 200, "{p}");
        let html = r.text();
        assert!(html.contains("Zqxquiet"), "{p} shows the event: {html}");
        assert!(!html.contains("<script>alert"), "{p}: unescaped script");
        assert!(!html.contains("<img src=x"), "{p}: unescaped markup");
        assert!(!html.to_ascii_lowercase().contains("href=\"javascript:"), "{p}: a javascript: link");
        assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"), "{p}: escaped title");
        assert!(!html.contains("<script>") || html.matches("<script").count() == 1, "{p}: only our own script tag");
        assert!(html.contains("<script src=\"/static/app.js\" defer></script>"));
        let csp = r.header("content-security-policy").expect("CSP");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // Community events are not vouched for: the feeds carry the official programme only.
    let xml = get(s.addr(), "/schedule.xml").text();
    assert!(!xml.contains("Zqxquiet"), "a community event in schedule.xml");
    // An organiser's title with markup is escaped in the XML, which stays valid.
    {
        let mut n = s.node.lock().expect("lock");
        let start = n.programme(&f, &ProgrammeFilter::default()).expect("programme")[0].start;
        n.add_event(
            f,
            EventPatch {
                title: Some("Fire <b>show</b> & \"friends\"".into()),
                start: Some(start),
                end: Some(start + 600),
                ..Default::default()
            },
        )
        .expect("official event");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let xml = loop {
        let x = get(s.addr(), "/schedule.xml").text();
        if x.contains("Fire") || Instant::now() > deadline {
            break x;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(xml.contains("Fire &lt;b&gt;show&lt;/b&gt; &amp; &quot;friends&quot;"), "escaped in XML");
}

#[test]
fn pages_stay_small_and_work_without_javascript() {
    let s = serve(5);
    let home = get(s.addr(), "/");
    assert_eq!(home.status, 200);
    let html = home.text();
    let day = html.split("href=\"/day/").nth(1).and_then(|t| t.get(..10)).expect("a day link").to_owned();
    let first_event = {
        let n = s.node.lock().expect("lock");
        n.programme(&s.festival, &ProgrammeFilter::default()).expect("programme")[0].clone()
    };
    let word = first_event.title.split_whitespace().max_by_key(|w| w.len()).expect("a word").to_owned();
    for p in [
        "/".to_owned(),
        "/days".into(),
        format!("/day/{day}"),
        format!("/day/{day}?from=120"),
        format!("/event/{}", first_event.id.to_hex()),
        format!("/search?q={word}"),
        "/invite".into(),
        "/favourites".into(),
    ] {
        let r = get(s.addr(), &p);
        assert_eq!(r.status, 200, "{p}");
        assert!(r.body.len() < 100 * 1024, "{p} is {} bytes", r.body.len());
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"), "{p}");
    }
    // Search without JavaScript is the form's GET: the server renders the hits.
    let hits = get(s.addr(), &format!("/search?q={word}")).text();
    assert!(hits.contains(&format!("/event/{}", first_event.id.to_hex())), "the hit is listed");
    // The event's page names its signer and whether an organiser, never how it reached the node.
    let page = get(s.addr(), &format!("/event/{}", first_event.id.to_hex())).text();
    assert!(page.contains("Signed by ") && page.contains(&first_event.creator.fingerprint()), "{page}");
    assert!(!page.contains("Here since") && !page.contains("iroh") && !page.contains("import)"), "{page}");
    let svg = get(s.addr(), "/invite.svg");
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text().contains("<svg"));
}

#[test]
fn hostile_requests_get_clear_answers_change_nothing_and_the_server_stays_up() {
    let (node, f) = demo_node(6);
    let s = serve_with(node, f, |c| {
        c.header_timeout = Duration::from_millis(800);
        c.max_connections = 8;
    });
    let ops = s.node.lock().expect("lock").op_count().expect("count");
    let addr = s.addr();
    // Paths that try to leave the site.
    for p in [
        "/../etc/passwd",
        "/static/../../Cargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/",
        "/event/../x",
        "//etc/passwd",
    ] {
        let r = get(addr, p);
        assert_eq!(r.status, 404, "{p}");
        assert!(!r.text().contains("root:"), "{p}");
    }
    // Writes of any kind are refused.
    for m in ["POST", "PUT", "DELETE", "PATCH"] {
        let req =
            format!("{m} /schedule.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        let r = raw(addr, req.as_bytes()).expect("answer");
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    // Huge headers: refused (431) or the connection closed, never buffered without bound.
    let huge = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Fill: {}\r\nConnection: close\r\n\r\n", "a".repeat(1 << 20));
    if let Ok(r) = raw(addr, huge.as_bytes()) {
        assert_eq!(r.status, 431, "huge headers");
    }
    let many: String = (0..500).map(|i| format!("X-{i}: y\r\n")).collect();
    if let Ok(r) = raw(addr, format!("GET / HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n").as_bytes()) {
        assert!(r.status == 431 || r.status == 400, "many headers: {}", r.status);
    }
    // Garbage instead of HTTP.
    if let Ok(r) = raw(addr, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n") {
        assert_eq!(r.status, 400);
    }
    // Slow clients, more than the connection limit, each sending half a request line: cut off
    // after the header timeout, and the server answers again.
    let slow: Vec<TcpStream> = (0..12)
        .filter_map(|_| {
            let mut c = TcpStream::connect(addr).ok()?;
            c.write_all(b"GET / HT").ok()?;
            Some(c)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = get(addr, "/");
    assert_eq!(r.status, 200, "served once the slow clients were cut");
    assert!(started.elapsed() < Duration::from_secs(8), "slow clients held the server for {:?}", started.elapsed());
    for mut c in slow {
        c.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "a slow client was answered: {text}");
    }
    assert_eq!(s.node.lock().expect("lock").op_count().expect("count"), ops, "nothing was stored");
    assert_eq!(get(addr, "/schedule.xml").status, 200, "still up");
}

#[test]
fn cancelled_and_moved_events_are_marked_on_the_pages() {
    let s = serve(8);
    let (moved, cancelled) = {
        let n = s.node.lock().expect("lock");
        let all = n.programme(&s.festival, &ProgrammeFilter::default()).expect("programme");
        let moved = all.iter().find(|e| e.moved).expect("the demo moves an event").clone();
        let cancelled = all.iter().find(|e| e.cancelled).expect("the demo cancels an event").clone();
        assert!(all.iter().filter(|e| e.moved).count() < all.len() / 4, "most events stay where they were");
        (moved, cancelled)
    };
    let row = |day: &str, id: &str| {
        let html = get(s.addr(), &format!("/day/{day}")).text();
        let at = html.find(&format!("data-event=\"{id}\"")).unwrap_or_else(|| panic!("{id} listed on {day}"));
        html[at..].split("</li>").next().expect("the row").to_owned()
    };
    let m = row(&moved.day, &moved.id.to_hex());
    assert!(m.contains("<span class=\"tag moved\">Moved</span>"), "{m}");
    let c = row(&cancelled.day, &cancelled.id.to_hex());
    assert!(c.contains("<span class=\"tag cancel\">Cancelled</span>") && !c.contains("tag moved"), "{c}");
    // The event's page says where and when it was first announced.
    let was = {
        let n = s.node.lock().expect("lock");
        n.event_detail(&s.festival, &moved.id).expect("detail").expect("event").moved_from.expect("a first slot")
    };
    assert_ne!((was.start, was.venue), (moved.start, moved.venue));
    let page = get(s.addr(), &format!("/event/{}", moved.id.to_hex())).text();
    let line = page.split("<p class=\"moved-from\">").nth(1).expect("a moved-from line");
    assert!(line.contains("First announced for") && line.contains(&format!(" at {}", was.venue_name)), "{line}");
    let page = get(s.addr(), &format!("/event/{}", cancelled.id.to_hex())).text();
    assert!(!page.contains("moved-from"));
}

#[test]
fn every_page_of_a_ten_thousand_event_festival_stays_under_100_kb() {
    let scenario = meadow_tests::benchmark_festival(7, 10_000 * 4 / 3 + 100, 1000);
    let mut node = Node::in_memory(Identity::from_seed(90_777)).expect("node");
    for chunk in scenario.ops.chunks(2000) {
        node.ingest(chunk.to_vec()).expect("ingest");
    }
    node.use_festival(&scenario.festival).expect("use");
    let all = node.programme(&scenario.festival, &ProgrammeFilter::default()).expect("programme");
    assert!(all.len() >= 9_000, "{} events", all.len());
    let days = node.days(&scenario.festival).expect("days");
    let busiest_day = days.iter().max_by_key(|d| d.events).cloned().expect("days");
    let (busiest, most) = (busiest_day.date, busiest_day.events);
    let pages = (most as usize).div_ceil(meadow_web::pages::PAGE_EVENTS);
    let most_favourites = meadow_web::pages::MAX_FAVOURITES;
    let favourites: Vec<String> = all.iter().rev().take(most_favourites).map(|e| e.id.to_hex()).collect();
    let word = all[0].title.split_whitespace().max_by_key(|w| w.len()).expect("a word").to_owned();
    let s = serve_with(node, scenario.festival, |_| {});
    let mut paths = vec![
        "/".to_owned(),
        "/days".into(),
        format!("/day/{busiest}"),
        format!("/day/{busiest}?from={}", (pages - 1) * meadow_web::pages::PAGE_EVENTS),
        format!("/event/{}", all[0].id.to_hex()),
        format!("/search?q={word}"),
        format!("/favourites?ids={}", favourites.join(",")),
    ];
    paths.extend(days.iter().map(|d| format!("/day/{}", d.date)));
    for p in &paths {
        let r = get(s.addr(), p);
        assert_eq!(r.status, 200, "{p}");
        assert!(r.body.len() < 100 * 1024, "{p} is {} bytes", r.body.len());
        eprintln!("{} bytes: {}", r.body.len(), p.get(..60).unwrap_or(p));
        // A HEAD answer announces the length of the GET's body and sends none.
        let head = raw(s.addr(), format!("HEAD {p} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
            .expect("HEAD");
        assert_eq!(head.status, 200, "HEAD {p}");
        assert!(head.body.is_empty(), "HEAD {p} sent a body");
        assert_eq!(head.header("content-length"), Some(r.body.len().to_string().as_str()), "HEAD {p}");
    }
    // Every favourite the browser keeps is listed, up to the page's limit.
    let listed = get(s.addr(), &format!("/favourites?ids={}", favourites.join(","))).text();
    assert!(listed.contains(&format!("{most_favourites} favourites")), "{}", listed.get(..2000).unwrap_or(&listed));
    assert!(favourites.iter().all(|id| listed.contains(&format!("data-event=\"{id}\""))));
    // The last page of the busiest day links back, not on.
    let step = meadow_web::pages::PAGE_EVENTS;
    let last = get(s.addr(), &format!("/day/{busiest}?from={}", (pages - 1) * step)).text();
    assert!(last.contains(&format!("from={}\" rel=\"prev\"", (pages - 2) * step)), "a link to the page before");
    assert!(!last.contains("rel=\"next\""), "none on");
}

#[test]
fn a_flood_of_hostile_text_cannot_push_a_page_past_100_kb_and_every_event_stays_reachable() {
    let (mut node, f) = demo_node(9);
    let first = node.programme(&f, &ProgrammeFilter::default()).expect("programme")[0].clone();
    // Every field at its limit, made of the characters HTML escapes: the worst a row can be.
    let nasty = |n: usize| "<\"&'>".chars().cycle().take(n).collect::<String>();
    let mut flood = Vec::new();
    for author in 0..20 {
        let who = Identity::from_seed(93_000 + author);
        for i in 0..10 {
            let title = format!("Zqxflood {author}-{i} {}", nasty(280));
            let body = meadow_core::op::Body::Event {
                target: None,
                patch: EventPatch {
                    title: Some(title),
                    start: Some(first.start + i as i64 * 60),
                    end: Some(first.start + 3600),
                    track: Some(nasty(128)),
                    people: Some((0..64).map(|_| nasty(200)).collect()),
                    ..Default::default()
                },
            };
            let op = meadow_tests::support::append_as(&mut node, &who, f, body, 0).expect("a community event");
            flood.push(op.id().to_hex());
        }
    }
    // One event with every byte its op may carry spent on escaped text, in the fields its own
    // page shows whole.
    let who = Identity::from_seed(93_999);
    let heavy = meadow_core::op::Body::Event {
        target: None,
        patch: EventPatch {
            title: Some(nasty(300)),
            subtitle: Some(nasty(300)),
            description: Some(nasty(8000)),
            start: Some(first.start),
            end: Some(first.start + 600),
            people: Some((0..12).map(|_| nasty(200)).collect()),
            links: Some(
                (0..8)
                    .map(|i| Link { url: format!("https://x.test/{i}{}", "&".repeat(280)), title: nasty(200) })
                    .collect(),
            ),
            ..Default::default()
        },
    };
    let heavy = meadow_tests::support::append_as(&mut node, &who, f, heavy, 0).expect("a heavy event").id().to_hex();
    flood.push(heavy.clone());
    let s = serve_with(node, f, |_| {});
    let r = get(s.addr(), &format!("/event/{heavy}"));
    assert_eq!(r.status, 200);
    eprintln!("{} bytes: the heaviest event's page", r.body.len());
    assert!(r.body.len() < 100 * 1024, "the heaviest event's page is {} bytes", r.body.len());
    // Follow the day's pages from the first: each small, each event on exactly one of them.
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(format!("/day/{}", first.day));
    let mut pages = 0;
    while let Some(path) = next.take() {
        let r = get(s.addr(), &path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.len() < 100 * 1024, "{path} is {} bytes", r.body.len());
        eprintln!("{} bytes: {path}", r.body.len());
        let html = r.text();
        seen.extend(html.split("data-event=\"").skip(1).filter_map(|t| t.get(..64)).map(str::to_owned));
        next = html
            .split("<a href=\"")
            .filter_map(|t| t.split_once("\" rel=\"next\">"))
            .map(|(href, _)| href.replace("&amp;", "&"))
            .next();
        pages += 1;
        assert!(pages < 100, "the pages never end");
    }
    let total = get(s.addr(), &format!("/day/{}", first.day)).text();
    let of = total
        .split("id=\"summary\">Events ")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .and_then(|t| t.rsplit(" of ").next())
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(Some(seen.len()), of, "every event of the day once, across {pages} pages");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    assert!(flood.iter().all(|id| seen.contains(id)), "every flooded event can be reached");
    assert!(pages > 2, "the flood is cut into pages: {pages}");
    // Search and favourites are cut short the same way, and say so.
    for path in ["/search?q=Zqxflood".to_owned(), format!("/favourites?ids={}", flood.join(","))] {
        let r = get(s.addr(), &path);
        assert_eq!(r.status, 200);
        assert!(r.body.len() < 100 * 1024, "{} is {} bytes", path.get(..40).unwrap_or(&path), r.body.len());
        eprintln!("{} bytes: {}", r.body.len(), path.get(..40).unwrap_or(&path));
        let cut = if path.starts_with("/search") { "best of the events that match" } else { "The first " };
        assert!(r.text().contains(cut), "{}", path.get(..40).unwrap_or(&path));
    }
    // The event's own page shows everything, escaped.
    let page = get(s.addr(), &format!("/event/{}", flood[0])).text();
    assert!(page.contains(&"&#60;&#34;&#38;&#39;&#62;".repeat(3)), "{}", page.get(..3000).unwrap_or(&page));
    assert!(!page.contains("<\"&'>"));
}

#[test]
fn the_info_point_shows_nothing_of_its_crews() {
    let (mut node, f) = demo_node(61);
    let mut friend = Node::in_memory(Identity::from_seed(91_061)).expect("friend");
    let archive = node.export_archive(&f).expect("archive");
    friend.import(&archive, &ImportOptions::default(), &mut |_, _| {}).expect("friend holds it");
    let crew = node.create_crew(f, "Zqx Secret Camp").expect("crew");
    let invite = node.crew_invite(f, &crew, 3600).expect("invite");
    friend.join_crew(&invite).expect("join");
    let event = node.programme(&f, &ProgrammeFilter::default()).expect("programme")[0].id;
    friend.set_favourite(&f, &event, true).expect("fav");
    friend.share_with_crews(f, Some("Zqx note".into()), None).expect("share");
    for _ in 0..3 {
        node.ingest(friend.store().ops(&f).expect("ops")).expect("ingest");
        friend.ingest(node.store().ops(&f).expect("ops")).expect("ingest");
    }
    let row = node.programme(&f, &ProgrammeFilter::default()).expect("programme").into_iter().find(|e| e.id == event);
    assert_eq!(row.expect("row").crew, 1, "the node itself knows its crew");
    let s = serve_with(node, f, |_| {});
    for path in ["/".to_owned(), format!("/event/{}", event.to_hex()), "/schedule.json".into(), "/schedule.xml".into()]
    {
        let reply = get(s.addr(), &path);
        assert_eq!(reply.status, 200, "{path}");
        let body = reply.text();
        for secret in ["Zqx Secret Camp", "Zqx note", "of your crew", "\"crew\"", "crew_going"] {
            assert!(!body.contains(secret), "{path} shows {secret:?}");
        }
    }
}
