//! Programme queries, changes since the last look, upgrades of old stores and pages.

use super::*;

#[test]
fn programme_queries() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let main = w.venue("Main Stage");
    let tent = w.venue("Tent");
    let a = w.add(&owner, event("Opening", T0, Some(main)));
    let b = w.add(&owner, event("Talk about bees", T0 + 1800, Some(tent)));
    // 02:30 Berlin on the 11th belongs to the 10th (day change 04:00).
    let late = w.add(&owner, event("Late set", T0 + 12 * 3600 + 1800, Some(tent)));
    w.add(
        &owner,
        edit(
            b,
            EventPatch {
                track: Some("Talks".into()),
                tags: Some(vec!["bees".into(), "nature".into()]),
                ..Default::default()
            },
        ),
    );
    let day = |d| ProgrammeFilter { day: Some(d), ..Default::default() };
    let ids = |v: Vec<EventView>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(w.store.programme(&w.f, &day(date(2026, 7, 10))).expect("p")), vec![a, b, late]);
    assert!(w.store.programme(&w.f, &day(date(2026, 7, 11))).expect("p").is_empty());
    let by_venue = ProgrammeFilter { venue: Some(tent), ..Default::default() };
    assert_eq!(ids(w.store.programme(&w.f, &by_venue).expect("p")), vec![b, late]);
    let by_track = ProgrammeFilter { track: Some("talks".into()), ..Default::default() };
    assert_eq!(ids(w.store.programme(&w.f, &by_track).expect("p")), vec![b]);
    let by_tag = ProgrammeFilter { tag: Some("nature".into()), ..Default::default() };
    assert_eq!(ids(w.store.programme(&w.f, &by_tag).expect("p")), vec![b]);
    assert_eq!(w.get(&a).venue_name, "Main Stage");
    assert_eq!(w.store.days(&w.f).expect("days"), vec![FestivalDay { date: "2026-07-10".to_owned(), events: 3 }]);
    // Search: prefix, diacritics-insensitive, people and tags.
    assert_eq!(ids(w.store.search(&w.f, "bee", 10).expect("s")), vec![b]);
    assert_eq!(w.store.search(&w.f, "lovelace", 10).expect("s").len(), 3);
    assert_eq!(ids(w.store.search(&w.f, "nature", 10).expect("s")), vec![b]);
    assert!(w.store.search(&w.f, "\"*)(", 10).expect("s").is_empty());
    assert!(w.store.search(&w.f, "zebra", 10).expect("s").is_empty());
    // Now and next.
    let nn = w.store.now_next(&w.f, T0 + 600).expect("nn");
    let main_nn = nn.iter().find(|n| n.venue == Some(main)).expect("main");
    assert_eq!(main_nn.now.as_ref().map(|e| e.id), Some(a));
    let tent_nn = nn.iter().find(|n| n.venue == Some(tent)).expect("tent");
    assert_eq!(tent_nn.now, None);
    assert_eq!(tent_nn.next.as_ref().map(|e| e.id), Some(b));
    // Favourites, clashes, reminders.
    for id in [a, b, late] {
        w.store.set_favourite(&w.f, &id, true).expect("fav");
    }
    let clashes = w.store.clashes(&w.f).expect("clashes");
    assert_eq!(clashes.len(), 1);
    assert_eq!((clashes[0].first.id, clashes[0].second.id), (a, b));
    assert_eq!(ids(w.store.favourites_starting_within(&w.f, T0 + 60, 30).expect("soon")), vec![b]);
    // The timetable: reminders a quarter of an hour ahead, the free time, who clashes with whom.
    let agenda = w.store.agenda(&w.f, 900).expect("agenda");
    let row = |e: &crate::view::AgendaEntry| (e.event.id, e.gap_before, e.clashes_with.clone(), e.remind_at);
    assert_eq!(
        agenda.iter().map(row).collect::<Vec<_>>(),
        vec![
            (a, None, vec![b], Some(T0 - 900)),
            (b, None, vec![a], Some(T0 + 900)),
            (late, Some(T0 + 12 * 3600 + 1800 - (T0 + 1800 + 3600)), vec![], Some(T0 + 12 * 3600 + 900)),
        ]
    );
    w.add(&owner, edit(b, EventPatch { cancelled: Some(true), ..Default::default() }));
    let agenda = w.store.agenda(&w.f, 900).expect("agenda");
    assert_eq!(
        agenda.iter().map(row).collect::<Vec<_>>()[..2],
        [(a, None, vec![], Some(T0 - 900)), (b, None, vec![], None)]
    );
    assert_eq!(
        agenda[2].gap_before,
        Some(T0 + 12 * 3600 + 1800 - (T0 + 3600)),
        "a cancelled favourite leaves its time free"
    );
    w.add(&owner, edit(b, EventPatch { cancelled: Some(false), ..Default::default() }));
    let facets = w.store.facets(&w.f).expect("facets");
    assert_eq!(facets.venues.iter().map(|v| v.id).collect::<Vec<_>>(), vec![main, tent]);
    assert_eq!(facets.tracks, vec!["Music", "Talks"]);
    assert_eq!(facets.tags, vec!["bees", "folk", "nature"]);
    assert!(w.store.favourites(&w.f).expect("f").iter().all(|e| e.favourite));
    w.store.set_favourite(&w.f, &a, false).expect("unfav");
    assert_eq!(w.store.favourites(&w.f).expect("f").len(), 2);
    assert!(w.store.set_favourite(&w.f, &OpId([0; 32]), true).is_err());
    // Id prefixes.
    assert_eq!(w.store.resolve_event(&w.f, &a.to_hex()[..10]).expect("resolve"), a);
    assert!(w.store.resolve_event(&w.f, "xyz").is_err());
}

#[test]
fn announcements_unexpired_newest_first() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    w.add(
        &owner,
        Body::Announcement(Announcement { text: "old".into(), priority: Priority::Normal, expires: Some(T0) }),
    );
    w.add(&owner, announcement("first"));
    w.add(&owner, announcement("second"));
    let texts = |now| w.store.announcements(&w.f, now).expect("a").into_iter().map(|a| a.text).collect::<Vec<_>>();
    assert_eq!(texts(T0 - 1), vec!["second", "first", "old"]);
    assert_eq!(texts(T0), vec!["second", "first"]);
}

#[test]
fn changes_since_the_last_look() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let main = w.venue("Main");
    let tent = w.venue("Tent");
    let moved = w.add(&owner, event("Moves", T0, Some(main)));
    let cancelled = w.add(&owner, event("Cancelled", T0, Some(main)));
    let edited = w.add(&owner, event("Edited", T0, Some(main)));
    let _same = w.add(&owner, event("Same", T0, Some(main)));
    w.store.set_favourite(&w.f, &moved, true).expect("fav");
    assert_eq!(w.store.changes(&w.f).expect("c").events.len(), 4);
    w.store.mark_seen(&w.f).expect("seen");
    assert!(w.store.changes(&w.f).expect("c").events.is_empty());

    w.add(&owner, edit(moved, EventPatch { start: Some(T0 + 3600), end: Some(T0 + 7200), ..Default::default() }));
    w.add(&owner, edit(moved, EventPatch { venue: Some(Some(tent)), ..Default::default() }));
    w.add(&owner, edit(cancelled, EventPatch { cancelled: Some(true), ..Default::default() }));
    w.add(&owner, edit(edited, EventPatch { description: Some("now with words".into()), ..Default::default() }));
    let added = w.add(&owner, event("Added", T0, Some(tent)));
    w.add(&owner, announcement("Stage B late"));
    let c = w.store.changes(&w.f).expect("c");
    let kinds: Vec<(OpId, ChangeKind)> = c.events.iter().map(|c| (c.event.id, c.kind.clone())).collect();
    // Favourites first; a move remembers where it was at the last look.
    assert_eq!(kinds[0], (moved, ChangeKind::Moved { from_start: T0, from_end: T0 + 3600, from_venue: "Main".into() }));
    assert!(kinds.contains(&(cancelled, ChangeKind::Cancelled)));
    assert!(kinds.contains(&(edited, ChangeKind::Updated)));
    assert!(kinds.contains(&(added, ChangeKind::New)));
    assert_eq!(kinds.len(), 4);
    assert_eq!(c.announcements.len(), 1);
    // A rebuild keeps the history.
    w.store.rebuild(&w.f).expect("rebuild");
    let again = w.store.changes(&w.f).expect("c");
    assert_eq!(again, c);
    w.store.mark_seen(&w.f).expect("seen");
    let c = w.store.changes(&w.f).expect("c");
    assert!(c.events.is_empty() && c.announcements.is_empty());
}

#[test]
fn an_event_is_marked_moved_only_while_away_from_its_first_slot() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let main = w.venue("Main");
    let tent = w.venue("Tent");
    let e = w.add(&owner, event("Moves", T0, Some(main)));
    let placed = w.add(&owner, event("Placed later", T0, None));
    let moved = |w: &World, id| w.get(id).moved;
    w.add(&owner, edit(e, EventPatch { title: Some("Renamed".into()), cancelled: Some(true), ..Default::default() }));
    assert!(!moved(&w, &e), "a new title or a cancellation is no move");
    // Being given a first venue is no move either; changing it later is.
    w.add(&owner, edit(placed, EventPatch { venue: Some(Some(tent)), ..Default::default() }));
    assert!(!moved(&w, &placed));
    w.add(&owner, edit(e, EventPatch { start: Some(T0 + 1800), ..Default::default() }));
    assert!(moved(&w, &e), "a later start");
    let d = w.store.event_detail(&w.f, &e).expect("detail").expect("exists");
    assert_eq!(d.moved_from, Some(Slot { start: T0, end: T0 + 3600, venue: Some(main), venue_name: "Main".into() }));
    w.add(&owner, edit(e, EventPatch { start: Some(T0), venue: Some(Some(tent)), ..Default::default() }));
    assert!(moved(&w, &e), "another venue");
    w.add(&owner, edit(e, EventPatch { venue: Some(Some(main)), ..Default::default() }));
    assert!(!moved(&w, &e), "back where it was first announced");
    assert_eq!(w.store.event_detail(&w.f, &e).expect("detail").expect("exists").moved_from, None);
    w.add(&owner, edit(e, EventPatch { end: Some(T0 + 7200), ..Default::default() }));
    assert!(moved(&w, &e), "a later end");
    // Lists, rebuilds and a store that got the ops in another order agree.
    assert!(w.all().iter().any(|v| v.id == e && v.moved));
    w.store.rebuild(&w.f).expect("rebuild");
    assert!(moved(&w, &e) && !moved(&w, &placed));
    assert!(w.store.check().expect("check").is_clean());
    let mut ops = w.store.ops(&w.f).expect("ops");
    ops.reverse();
    let mut other = Store::open_in_memory().expect("store");
    other.ingest(ops).expect("ingest");
    assert_eq!(other.state_digest(&w.f).expect("digest"), w.store.state_digest(&w.f).expect("digest"));
    assert!(other.event(&w.f, &e).expect("query").expect("event").moved);
}

#[test]
fn a_store_from_before_first_slots_is_rederived_when_opened() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("old.db");
    let owner = Identity::from_seed(1);
    let nonce = [1u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let e = {
        let mut store = Store::open(&path).expect("store");
        store.append(&owner, f, create_body(nonce), 0).expect("create");
        let e = store.append(&owner, f, event("Moves", T0, None), 0).expect("event").id();
        store.append(&owner, f, edit(e, EventPatch { start: Some(T0 + 600), ..Default::default() }), 0).expect("edit");
        // What schema version 2 had: no first slot, and summaries without the moved flag.
        let conn = store.conn();
        drop_schema_4(conn);
        for col in ["orig_start", "orig_end", "orig_venue"] {
            conn.execute(&format!("ALTER TABLE events DROP COLUMN {col}"), []).expect("drop");
        }
        conn.pragma_update(None, "user_version", 2).expect("version");
        e
    };
    let mut store = Store::open(&path).expect("reopen");
    assert!(store.event(&f, &e).expect("query").expect("event").moved);
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn a_store_from_before_lean_rows_keeps_everything_it_held() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v8.db");
    let owner = Identity::from_seed(1);
    let guest = Identity::from_seed(7);
    let nonce = [1u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let sorted = |mut v: Vec<(u64, OpId)>| {
        v.sort();
        v
    };
    let (digest, items, rows, e) = {
        let mut store = Store::open(&path).expect("store");
        store.append(&owner, f, create_body(nonce), 0).expect("create");
        let e = store.append(&owner, f, event("Beekeeping at dawn", T0, None), 0).expect("event").id();
        store.append(&guest, f, event("Community picnic", T0 + 3600, None), 0).expect("guest event");
        let patch = EventPatch { subtitle: Some("Bring gloves".into()), ..Default::default() };
        store.append(&owner, f, edit(e, patch), 0).expect("edit");
        let held = (
            store.state_digest(&f).expect("digest"),
            sorted(store.op_items(&f, &[]).expect("items")),
            store.log_rows(&f).expect("rows"),
            e,
        );
        undo_schema_9(store.conn());
        store.conn().pragma_update(None, "user_version", 8).expect("version");
        held
    };
    let free =
        |store: &Store| -> i64 { store.conn().query_row("PRAGMA freelist_count", [], |r| r.get(0)).expect("freelist") };
    let mut store = Store::open(&path).expect("reopen");
    // The migration rewrote the op log and the events; the pages of the old rows went back.
    assert_eq!(free(&store), 0);
    let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, SCHEMA_VERSION as i64);
    assert_eq!(store.state_digest(&f).expect("digest"), digest);
    assert_eq!(sorted(store.op_items(&f, &[]).expect("items")), items);
    let mut now_rows = store.log_rows(&f).expect("rows");
    let mut then_rows = rows;
    now_rows.sort();
    then_rows.sort();
    assert_eq!(now_rows, then_rows);
    let keys: i64 = store.conn().query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0)).expect("keys");
    assert_eq!(keys, 3, "the festival and its two authors, once each");
    let found =
        |store: &Store, q: &str| store.search(&f, q, 10).expect("search").into_iter().map(|v| v.id).collect::<Vec<_>>();
    assert_eq!(found(&store, "gloves"), vec![e]);
    // Writes after the migration go to the lean rows, and the search index follows them.
    let patch = EventPatch { title: Some("Honey tasting".into()), ..Default::default() };
    store.append(&owner, f, edit(e, patch), 0).expect("edit after");
    let newcomer = Identity::from_seed(9);
    let n = store.append(&newcomer, f, event("Late swim", T0 + 7200, None), 0).expect("newcomer").id();
    assert_eq!(found(&store, "honey"), vec![e]);
    assert!(found(&store, "beekeeping").is_empty());
    assert_eq!(found(&store, "swim"), vec![n]);
    store
        .conn()
        .execute("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)", [])
        .expect("search index matches the events");
    assert!(store.check().expect("check").is_clean());
}

/// Takes a store back to before migration 9: ops and events name their festival (and ops their
/// author) with the 32-byte keys again, in the column order the earlier migrations left.
fn undo_schema_9(conn: &rusqlite::Connection) {
    // Migration 9's indexes and triggers, made again on the wide tables below.
    let made: Vec<String> = conn
        .prepare(
            "SELECT sql FROM sqlite_master
             WHERE tbl_name IN ('ops', 'events') AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("schema");
    conn.execute_batch(
        "CREATE TABLE ops_wide (
           rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, festival BLOB NOT NULL, author BLOB NOT NULL,
           seq INTEGER NOT NULL, lamport INTEGER NOT NULL, kind INTEGER NOT NULL, target BLOB, cap_day INTEGER,
           bytes BLOB NOT NULL, rev INTEGER NOT NULL, UNIQUE (festival, author, seq));
         INSERT INTO ops_wide SELECT o.rowid, o.id, f.key, a.key, o.seq, o.lamport, o.kind, o.target, o.cap_day,
           o.bytes, o.rev FROM ops o JOIN keys f ON f.n = o.festival JOIN keys a ON a.n = o.author;
         DROP TABLE ops;
         ALTER TABLE ops_wide RENAME TO ops;
         CREATE TABLE events_wide (
           rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, festival BLOB NOT NULL, day TEXT NOT NULL,
           start INTEGER NOT NULL, end INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
           hidden INTEGER NOT NULL DEFAULT 0, summary BLOB NOT NULL, title TEXT NOT NULL, subtitle TEXT NOT NULL,
           venue BLOB, track TEXT NOT NULL, kind TEXT NOT NULL, tags TEXT NOT NULL, people TEXT NOT NULL,
           cancelled INTEGER NOT NULL, official INTEGER NOT NULL, creator BLOB NOT NULL, language TEXT NOT NULL,
           source_id TEXT NOT NULL, created_rev INTEGER NOT NULL, updated_rev INTEGER NOT NULL,
           moved_rev INTEGER NOT NULL DEFAULT 0, cancelled_rev INTEGER NOT NULL DEFAULT 0, prev_start INTEGER,
           prev_end INTEGER, prev_venue BLOB, stamps BLOB NOT NULL, links TEXT NOT NULL, description TEXT NOT NULL,
           orig_start INTEGER NOT NULL DEFAULT 0, orig_end INTEGER NOT NULL DEFAULT 0, orig_venue BLOB,
           url TEXT NOT NULL DEFAULT '', source_number INTEGER, do_not_record INTEGER NOT NULL DEFAULT 0,
           recording_license TEXT NOT NULL DEFAULT '');
         INSERT INTO events_wide SELECT e.rowid, e.id, f.key, e.day, e.start, e.end, e.deleted, e.hidden, e.summary,
           e.title, e.subtitle, e.venue, e.track, e.kind, e.tags, e.people, e.cancelled, e.official, e.creator,
           e.language, e.source_id, e.created_rev, e.updated_rev, e.moved_rev, e.cancelled_rev, e.prev_start,
           e.prev_end, e.prev_venue, e.stamps, e.links, e.description, e.orig_start, e.orig_end, e.orig_venue, e.url,
           e.source_number, e.do_not_record, e.recording_license FROM events e JOIN keys f ON f.n = e.festival;
         DROP TABLE events;
         ALTER TABLE events_wide RENAME TO events;
         DROP TABLE keys;",
    )
    .expect("undo migration 9");
    for sql in made {
        conn.execute_batch(&sql).expect("index or trigger");
    }
}

/// Takes a store back to before migration 4 (the imported schedule's facts), stamps included:
/// events then had 14 stamped fields and venues 4.
fn drop_schema_4(conn: &rusqlite::Connection) {
    undo_schema_9(conn);
    // And before migrations 5 to 8 (emergencies told, arrivals, crews, crews here), which came
    // after it.
    conn.execute_batch(
        "DROP TABLE notified; DROP TABLE arrivals; DROP TABLE crew_invites; DROP INDEX ops_crew;
         DROP TABLE crew_going; DROP TABLE crew_opened; DROP TABLE hidden_here",
    )
    .expect("drop");
    for col in ["url", "source_number", "do_not_record", "recording_license"] {
        conn.execute(&format!("ALTER TABLE events DROP COLUMN {col}"), []).expect("drop");
    }
    conn.execute("ALTER TABLE venues DROP COLUMN position", []).expect("drop");
    // The encoding ends with one index byte per field: the fields added since are cut off.
    conn.execute("UPDATE events SET stamps = substr(stamps, 1, length(stamps) - 4)", []).expect("stamps");
    conn.execute("UPDATE venues SET stamps = substr(stamps, 1, length(stamps) - 1)", []).expect("stamps");
}

#[test]
fn a_store_from_before_the_schedule_facts_opens_and_rederives_them() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("v3.db");
    let owner = Identity::from_seed(1);
    let nonce = [1u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let patch = EventPatch {
        url: Some("https://fest.example/1".into()),
        source_number: Some(17),
        do_not_record: Some(true),
        ..Default::default()
    };
    let e = {
        let mut store = Store::open(&path).expect("store");
        store.append(&owner, f, create_body(nonce), 0).expect("create");
        let e = store.append(&owner, f, event("Imported", T0, None), 0).expect("event").id();
        store.append(&owner, f, edit(e, patch), 0).expect("edit");
        drop_schema_4(store.conn());
        store.conn().pragma_update(None, "user_version", 3).expect("version");
        e
    };
    let mut store = Store::open(&path).expect("reopen");
    let d = store.event_detail(&f, &e).expect("query").expect("event");
    assert_eq!((d.url.as_str(), d.source_number, d.do_not_record), ("https://fest.example/1", Some(17), true));
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn check_detects_tampering_with_materialized_tables() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    w.add(&owner, event("Real", T0, None));
    assert!(w.store.check().expect("check").is_clean());
    w.store.conn().execute("UPDATE events SET title = 'Fake'", []).expect("tamper");
    assert_eq!(w.store.check().expect("check").problems.len(), 1);
    w.store.rebuild(&w.f).expect("rebuild");
    assert!(w.store.check().expect("check").is_clean());
    assert_eq!(w.all()[0].title, "Real");
}

#[test]
fn summaries_name_held_venues_by_number_and_others_by_id() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let main = w.venue("Main Stage");
    let a = w.add(&owner, event("Held venue", T0, Some(main)));
    // A venue this device does not hold: the summary keeps its id.
    let elsewhere = OpId([9; 32]);
    let b = w.add(&owner, event("Away venue", T0 + 600, Some(elsewhere)));
    let size = |w: &World, id: &OpId| -> i64 {
        w.store
            .conn()
            .query_row("SELECT length(summary) FROM events WHERE id = ?", [&id.0[..]], |r| r.get(0))
            .expect("size")
    };
    assert_eq!(size(&w, &b) - size(&w, &a), 31, "a byte of venue number against 32 of id");
    let shown = |w: &World| {
        let day = ProgrammeFilter { day: Some(date(2026, 7, 10)), ..Default::default() };
        w.store.programme(&w.f, &day).expect("p").into_iter().map(|e| (e.id, e.venue, e.venue_name)).collect::<Vec<_>>()
    };
    let want = vec![(a, Some(main), "Main Stage".to_owned()), (b, Some(elsewhere), String::new())];
    assert_eq!(shown(&w), want);
    assert_eq!(w.store.event_detail(&w.f, &a).expect("d").expect("a").event.venue_name, "Main Stage");
    assert_eq!(w.store.search(&w.f, "held", 10).expect("s")[0].venue, Some(main));
    // Re-derived from the ops, the venue comes back with its number, before the event.
    w.store.rebuild(&w.f).expect("rebuild");
    assert_eq!(shown(&w), want);
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn check_finds_a_damaged_search_index_and_repair_rebuilds_it() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    w.add(&owner, event("Glassblowing", T0, None));
    let found = |w: &World| w.store.search(&w.f, "glassblowing", 10).expect("search").len();
    assert_eq!(found(&w), 1);
    // The index loses the event's entry: the event no longer turns up in search.
    w.store
        .conn()
        .execute(
            "INSERT INTO events_fts (events_fts, rowid, title, subtitle, description, people, track, tags)
             SELECT 'delete', rowid, title, subtitle, description, people, track, tags FROM events",
            [],
        )
        .expect("damage");
    assert_eq!(found(&w), 0);
    let report = w.store.check().expect("check");
    assert!(report.problems.iter().any(|p| p.contains("search index")), "{report:?}");
    assert!(w.store.repair().expect("repair").is_clean());
    assert_eq!(found(&w), 1);
}

#[test]
fn a_same_value_write_keeps_its_stamp_across_batches() {
    // Two devices: on each, a winning write that repeats the current value must still beat a
    // concurrent lower-stamped write that arrives in a later batch.
    let mut w = world();
    let owner = Identity::from_seed(1);
    let olga = Identity::from_seed(5);
    w.add(&owner, Body::RoleGrant { member: olga.public(), role: Role::Organiser });
    let e = w.add(&owner, event("A", T0, None));
    let base = w.store.ops(&w.f).expect("ops");
    let mut ow = LogWriter::new(w.f, w.store.next_position(&w.f, &owner.public()).expect("pos"));
    let mut lw = LogWriter::new(w.f, w.store.next_position(&w.f, &olga.public()).expect("pos"));
    let same =
        lw.sign(&olga, 100, 0, edit(e, EventPatch { title: Some("A".into()), ..Default::default() })).expect("op");
    let lower =
        ow.sign(&owner, 50, 0, edit(e, EventPatch { title: Some("B".into()), ..Default::default() })).expect("op");
    for order in [[same.clone(), lower.clone()], [lower, same]] {
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(base.clone()).expect("ingest");
        for op in order {
            s.ingest(vec![op]).expect("ingest");
        }
        assert_eq!(s.event(&w.f, &e).expect("q").expect("e").title, "A");
        assert!(s.check().expect("check").is_clean());
    }
}

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("m.sqlite3");
    drop(Store::open(&path).expect("create"));
    let version = |p: &std::path::Path| -> i64 {
        rusqlite::Connection::open(p)
            .expect("open")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };
    assert_eq!(version(&path), SCHEMA_VERSION as i64);
    drop(Store::open(&path).expect("reopen migrates nothing"));
    assert_eq!(version(&path), SCHEMA_VERSION as i64);
    rusqlite::Connection::open(&path)
        .expect("open")
        .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
        .expect("bump");
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { .. })));
}

#[test]
fn a_start_edit_past_the_end_does_not_lose_the_end() {
    // Two concurrent start edits; the lower-stamped one moves the start past the end. Whatever
    // the order, the end written by the creation op survives.
    let mut w = world();
    let owner = Identity::from_seed(1);
    let e = w.add(&owner, event("E", T0, None));
    let base = w.store.ops(&w.f).expect("ops");
    let mut ow = LogWriter::new(w.f, w.store.next_position(&w.f, &owner.public()).expect("pos"));
    let late =
        ow.sign(&owner, 50, 0, edit(e, EventPatch { start: Some(T0 + 7200), ..Default::default() })).expect("op");
    let olga = Identity::from_seed(5);
    let grant = ow.sign(&owner, 51, 0, Body::RoleGrant { member: olga.public(), role: Role::Organiser }).expect("op");
    let mut lw = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 0 });
    let back = lw.sign(&olga, 90, 0, edit(e, EventPatch { start: Some(T0 + 900), ..Default::default() })).expect("op");
    for order in [[late.clone(), back.clone()], [back, late]] {
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(base.clone()).expect("ingest");
        s.ingest(vec![grant.clone()]).expect("ingest");
        for op in order {
            s.ingest(vec![op]).expect("ingest");
        }
        let ev = s.event(&w.f, &e).expect("q").expect("e");
        assert_eq!((ev.start, ev.end), (T0 + 900, T0 + 3600));
        assert!(s.check().expect("check").is_clean());
    }
}

#[test]
fn pages_of_the_programme_are_cut_from_the_whole_order_even_across_shared_starts() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let venues: Vec<OpId> = ["Zelt", "Bühne", "Wiese"].iter().map(|n| w.venue(n)).collect();
    // Many events share a start, so a page boundary falls inside a group of equal starts.
    for i in 0..40i64 {
        let v = venues[(i % 3) as usize];
        w.add(&owner, event(&format!("Set {:02}", 39 - i), T0 + (i / 4) * 1800, Some(v)));
    }
    let all = w.all();
    let filter = ProgrammeFilter::default();
    for limit in [1usize, 3, 7, 50] {
        let mut paged = Vec::new();
        let mut offset = 0;
        loop {
            let (page, total) = w.store.programme_page(&w.f, &filter, offset, limit).expect("page");
            assert_eq!(total, all.len());
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= limit);
            offset += page.len();
            paged.extend(page);
        }
        assert_eq!(paged, all, "pages of {limit}");
    }
    let (page, total) = w.store.programme_page(&w.f, &filter, 1000, 10).expect("past the end");
    assert!(page.is_empty());
    assert_eq!(total, 40);
    let tagged = ProgrammeFilter { tag: Some("FOLK".into()), ..Default::default() };
    let (page, total) = w.store.programme_page(&w.f, &tagged, 5, 5).expect("tagged");
    assert_eq!((page.as_slice(), total), (&all[5..10], 40));

    // Pages share the listing's start times until the data changes: a new event, a deletion
    // and another connection's write each show on the next page asked for.
    let early = w.add(&owner, event("Early", T0 - 600, Some(venues[0])));
    let (page, total) = w.store.programme_page(&w.f, &filter, 0, 1).expect("page");
    assert_eq!((page[0].title.as_str(), total), ("Early", 41));
    let (page, _) = w.store.programme_page(&w.f, &filter, 40, 5).expect("last page");
    assert_eq!(page.len(), 1);
    let at_zelt = ProgrammeFilter { venue: Some(venues[0]), ..Default::default() };
    let zelt = w.store.programme_page(&w.f, &at_zelt, 0, 100).expect("venue").1;
    assert_eq!(zelt, 15);
    w.add(&owner, Body::Delete { target: early });
    assert_eq!(w.store.programme_page(&w.f, &filter, 0, 1).expect("page").1, 40);
    assert_eq!(w.store.programme_page(&w.f, &at_zelt, 0, 100).expect("venue").1, 14);
}

#[test]
fn pages_see_what_another_connection_wrote() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite3");
    let owner = Identity::from_seed(1);
    let nonce = [1u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let mut a = Store::open(&path).expect("store");
    a.append(&owner, f, create_body(nonce), 0).expect("create");
    a.append(&owner, f, event("One", T0, None), 0).expect("event");
    let filter = ProgrammeFilter::default();
    assert_eq!(a.programme_page(&f, &filter, 0, 10).expect("page").1, 1);
    let mut b = Store::open(&path).expect("second connection");
    b.append(&owner, f, event("Two", T0 + 60, None), 0).expect("event");
    assert_eq!(a.programme_page(&f, &filter, 0, 10).expect("page").1, 2);
}
