//! Schema and migrations. `PRAGMA user_version` holds the number of migrations applied; each
//! migration runs once, in its own transaction.

use rusqlite::Connection;

use super::StoreError;

/// The migrations, oldest first. Never edit one that has shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the op log, the materialized programme, and local-only tables.
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('rev', 0);

-- Every op that passed validation, verbatim. The materialized tables below are derived from these
-- and can be rebuilt at any time; nothing else is authoritative.
CREATE TABLE ops (
  rowid INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  lamport INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  target BLOB,
  cap_day INTEGER,
  bytes BLOB NOT NULL,
  rev INTEGER NOT NULL,
  UNIQUE (festival, author, seq)
);
CREATE INDEX ops_order ON ops (festival, lamport);
CREATE INDEX ops_cap ON ops (festival, author, cap_day, seq) WHERE cap_day IS NOT NULL;
CREATE INDEX ops_roles ON ops (festival, kind) WHERE kind IN (1, 7, 8);

-- Edits and deletes applied before the entity they name existed here; replayed when it arrives.
CREATE TABLE orphans (
  target BLOB NOT NULL,
  op BLOB NOT NULL,
  festival BLOB NOT NULL,
  PRIMARY KEY (target, op)
) WITHOUT ROWID;

-- Signed ops whose predecessor has not arrived yet.
CREATE TABLE pending_ops (
  id BLOB PRIMARY KEY,
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  bytes BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_log ON pending_ops (festival, author, seq);

-- Equivocation evidence: the author signed `evidence` (or the op its backlink names) although
-- `kept` already holds that position. Ops of the author from `seq` on have no effect.
CREATE TABLE forks (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  kept BLOB NOT NULL,
  evidence BLOB NOT NULL,
  PRIMARY KEY (festival, author, seq)
) WITHOUT ROWID;

CREATE TABLE festivals (
  id BLOB PRIMARY KEY,
  owner BLOB NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  timezone TEXT NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NOT NULL,
  place TEXT NOT NULL,
  day_change INTEGER NOT NULL,
  forked_from BLOB,
  forked_from_op BLOB,
  stamps BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE roles (
  festival BLOB NOT NULL,
  member BLOB NOT NULL,
  organiser INTEGER NOT NULL,
  after_seq INTEGER,
  PRIMARY KEY (festival, member)
) WITHOUT ROWID;

CREATE TABLE venues (
  id BLOB PRIMARY KEY,
  festival BLOB NOT NULL,
  creator BLOB NOT NULL,
  official INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  lat INTEGER,
  lon INTEGER,
  source_id TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  stamps BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX venues_festival ON venues (festival, name);

-- Columns a programme list reads come first: SQLite walks a record front to back, and a long
-- description would otherwise sit in the way.
CREATE TABLE events (
  rowid INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  festival BLOB NOT NULL,
  day TEXT NOT NULL,
  start INTEGER NOT NULL,
  -- As last written: may be before start after a start-only edit; shown as start then.
  end INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  hidden INTEGER NOT NULL DEFAULT 0,
  summary BLOB NOT NULL,
  title TEXT NOT NULL,
  subtitle TEXT NOT NULL,
  venue BLOB,
  track TEXT NOT NULL,
  kind TEXT NOT NULL,
  tags TEXT NOT NULL,
  people TEXT NOT NULL,
  cancelled INTEGER NOT NULL,
  official INTEGER NOT NULL,
  creator BLOB NOT NULL,
  language TEXT NOT NULL,
  source_id TEXT NOT NULL,
  created_rev INTEGER NOT NULL,
  updated_rev INTEGER NOT NULL,
  moved_rev INTEGER NOT NULL DEFAULT 0,
  cancelled_rev INTEGER NOT NULL DEFAULT 0,
  prev_start INTEGER,
  prev_end INTEGER,
  prev_venue BLOB,
  stamps BLOB NOT NULL,
  links TEXT NOT NULL,
  description TEXT NOT NULL
);
-- Covers the day programme, the most frequent query, so it never touches the table.
CREATE INDEX events_day ON events (festival, day, start, deleted, hidden, summary);
CREATE INDEX events_start ON events (festival, start);
CREATE INDEX events_source ON events (festival, source_id) WHERE source_id != '';

CREATE VIRTUAL TABLE events_fts USING fts5(
  title, subtitle, description, people, track, tags,
  content = 'events', content_rowid = 'rowid', detail = 'column',
  tokenize = 'unicode61 remove_diacritics 2'
);
-- Merge index segments less eagerly than the default 4: cheaper commits during bulk ingest, for
-- a search cost that stays well inside its budget (docs/benchmarks.md).
INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 8);
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
  INSERT INTO events_fts (rowid, title, subtitle, description, people, track, tags)
  VALUES (new.rowid, new.title, new.subtitle, new.description, new.people, new.track, new.tags);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, title, subtitle, description, people, track, tags)
  VALUES ('delete', old.rowid, old.title, old.subtitle, old.description, old.people, old.track, old.tags);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF title, subtitle, description, people, track, tags ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, title, subtitle, description, people, track, tags)
  VALUES ('delete', old.rowid, old.title, old.subtitle, old.description, old.people, old.track, old.tags);
  INSERT INTO events_fts (rowid, title, subtitle, description, people, track, tags)
  VALUES (new.rowid, new.title, new.subtitle, new.description, new.people, new.track, new.tags);
END;

CREATE TABLE announcements (
  id BLOB PRIMARY KEY,
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  text TEXT NOT NULL,
  priority INTEGER NOT NULL,
  expires INTEGER,
  lamport INTEGER NOT NULL,
  wall_time_ms INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX announcements_festival ON announcements (festival, lamport);

CREATE TABLE profiles (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  display_name TEXT NOT NULL,
  about TEXT NOT NULL,
  stamps BLOB NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;

CREATE TABLE hides (
  festival BLOB NOT NULL,
  target BLOB NOT NULL,
  hidden INTEGER NOT NULL,
  lamport INTEGER NOT NULL,
  author BLOB NOT NULL,
  PRIMARY KEY (festival, target)
) WITHOUT ROWID;

-- Local to this device, never synced.
CREATE TABLE favourites (
  festival BLOB NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (festival, event)
) WITHOUT ROWID;
CREATE TABLE mutes (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;
CREATE TABLE seen (
  festival BLOB PRIMARY KEY,
  rev INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // 2: signatures with a context, bounded clocks and logs, evidence that syncs, moderation rules,
    // parked ops that expire. Ops signed under the pre-release rule (no signing context) no longer
    // verify anywhere: they are kept, inert and never synced, in legacy_ops, and the programme
    // tables start over.
    r#"
CREATE TABLE legacy_ops (
  id BLOB PRIMARY KEY,
  festival BLOB NOT NULL,
  bytes BLOB NOT NULL,
  reason TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO legacy_ops SELECT id, festival, bytes, 'signed without a signing context' FROM ops;
INSERT OR IGNORE INTO legacy_ops SELECT id, festival, bytes, 'parked; signed without a signing context' FROM pending_ops;
INSERT INTO events_fts (events_fts) VALUES ('delete-all');
DELETE FROM events;
DELETE FROM ops;
DELETE FROM pending_ops;
DELETE FROM orphans;
DELETE FROM festivals;
DELETE FROM roles;
DELETE FROM venues;
DELETE FROM announcements;
DELETE FROM profiles;
DELETE FROM hides;
DROP TABLE forks;

-- Equivocation evidence: `evidence` (id `evidence_id`, at position `ev_seq` of the author's log)
-- conflicts with `kept`, which holds position `seq` here: the author forked at `seq`. Evidence takes
-- part in sync, so every device learns of a fork.
CREATE TABLE forks (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  evidence_id BLOB NOT NULL,
  ev_seq INTEGER NOT NULL,
  lamport INTEGER NOT NULL,
  kept BLOB NOT NULL,
  evidence BLOB NOT NULL,
  PRIMARY KEY (festival, author, evidence_id)
) WITHOUT ROWID;
CREATE INDEX forks_evidence ON forks (evidence_id);

-- Each log's head and what it has cost, for the per-log limits of docs/protocol.md.
CREATE TABLE logs (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  head BLOB NOT NULL,
  lamport INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  ext_bytes INTEGER NOT NULL,
  profiles INTEGER NOT NULL,
  revocations INTEGER NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;

ALTER TABLE pending_ops ADD COLUMN parked_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pending_age ON pending_ops (parked_at);

-- The community mode (docs/protocol.md, "Moderation") and the stamp of the rule that set it.
ALTER TABLE festivals ADD COLUMN community INTEGER NOT NULL DEFAULT 0;
ALTER TABLE festivals ADD COLUMN community_stamp BLOB;
CREATE TABLE approvals (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;

-- Local to this device: when it first stored an op of an author, which is what an organiser's
-- "approve everybody seen before the flood" rule is made from.
CREATE TABLE authors_seen (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;

-- Every key a stored role grant names, whoever signed it: a role op by a key outside this table
-- (and not a member or the owner) cannot change the roles, so storing it recomputes nothing.
CREATE TABLE role_named (
  festival BLOB NOT NULL,
  member BLOB NOT NULL,
  PRIMARY KEY (festival, member)
) WITHOUT ROWID;

-- Logs that cannot grow here past `seq`: the author's validly signed op there broke a rule of
-- docs/protocol.md ("Rules of a log"), so no later op of the log can ever chain on this device and
-- none is parked. A release that relaxes a rule clears this table in its migration.
CREATE TABLE closed_logs (
  festival BLOB NOT NULL,
  author BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (festival, author)
) WITHOUT ROWID;
"#,
    // 3: where and when each event was first announced, so that a moved one can be marked. The
    // values come from the creating op; the store rebuilds its programme after this migration
    // (see REBUILT_BY), and until then they are the current ones.
    r#"
ALTER TABLE events ADD COLUMN orig_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN orig_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN orig_venue BLOB;
UPDATE events SET orig_start = start, orig_end = max(start, end), orig_venue = venue;
"#,
    // 4: what an imported schedule said of an event beyond its programme (its page, its numeric
    // id, the recording flags) and of a room (its place in the room order), kept so that the
    // feeds give it back. Filled by the rebuild after this migration (see REBUILT_BY).
    r#"
ALTER TABLE events ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN source_number INTEGER;
ALTER TABLE events ADD COLUMN do_not_record INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN recording_license TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN position INTEGER;
"#,
    // 5: the emergencies this device already notified its person of, so that a restart does not
    // notify them again. Device-local, like favourites.
    r#"
CREATE TABLE notified (
  festival BLOB NOT NULL,
  announcement BLOB NOT NULL,
  PRIMARY KEY (festival, announcement)
) WITHOUT ROWID;
"#,
    // 6: how each op reached this device, recorded in the transaction that stores it and never
    // sent to peers: when (Unix seconds), which way (`view::Via::code`) and from which peer. One
    // row per op stored since, so bounded as the ops are; ops stored before have none.
    r#"
CREATE TABLE arrivals (
  op BLOB PRIMARY KEY,
  at INTEGER NOT NULL,
  via INTEGER NOT NULL,
  peer TEXT
) WITHOUT ROWID;
"#,
    // 7: crews. Their ops (kinds 12 to 15) are read together, by festival; the invites this
    // device gave out as a crew's admin are device-local: each admits one joiner, until it expires.
    // Extension kinds may take 1 MiB of a log now (64 KiB before): logs closed under the old
    // rule open again, and sync brings what they were refused.
    r#"
DELETE FROM closed_logs;
CREATE INDEX ops_crew ON ops (festival, kind) WHERE kind BETWEEN 12 AND 15;
CREATE TABLE crew_invites (
  festival BLOB NOT NULL,
  secret BLOB NOT NULL,
  crew BLOB NOT NULL,
  expires INTEGER NOT NULL,
  used_by BLOB,
  PRIMARY KEY (festival, secret)
) WITHOUT ROWID;
"#,
    // 8: device-local and derived: which members of this identity's crews (never its own devices)
    // favour or head to an event, refreshed from the crew fold when crew ops arrive, so that a
    // programme row reads "2 of your crew" without decrypting anything; and the events this
    // person hid from its own programme (its devices share them through their crew); and what
    // this device's crew key opened in each epoch and join op (a grant, a request, or nothing),
    // so that every sealed op is tried once, however many a flood brings.
    r#"
CREATE TABLE crew_going (
  festival BLOB NOT NULL,
  event BLOB NOT NULL,
  member BLOB NOT NULL,
  PRIMARY KEY (festival, event, member)
) WITHOUT ROWID;
CREATE TABLE crew_opened (
  festival BLOB NOT NULL,
  op BLOB NOT NULL,
  plain BLOB,
  PRIMARY KEY (festival, op)
) WITHOUT ROWID;
CREATE TABLE hidden_here (
  festival BLOB NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (festival, event)
) WITHOUT ROWID;
"#,
    // 9: lean rows. Festival ids and author keys are numbered once, in `keys`, and the op log and
    // the programme carry the number instead of the 32 bytes in every row and index entry (SQLite
    // does not share key prefixes between index entries). Order is still by the keys themselves:
    // a query that orders by author joins `keys`. Rows keep their rowids, so the search index
    // stays valid. Summaries now name a festival's venues by number too, and an event's end by its
    // length: the programme is re-derived after this migration (see REBUILT_BY).
    r#"
CREATE TABLE keys (n INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE);
INSERT INTO keys (key) SELECT festival FROM ops UNION SELECT author FROM ops UNION SELECT festival FROM events;

CREATE TABLE ops_lean (
  rowid INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  festival INTEGER NOT NULL,
  author INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  lamport INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  target BLOB,
  cap_day INTEGER,
  rev INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  UNIQUE (festival, author, seq)
);
INSERT INTO ops_lean (rowid, id, festival, author, seq, lamport, kind, target, cap_day, rev, bytes)
  SELECT o.rowid, o.id, f.n, a.n, o.seq, o.lamport, o.kind, o.target, o.cap_day, o.rev, o.bytes
  FROM ops o JOIN keys f ON f.key = o.festival JOIN keys a ON a.key = o.author;
DROP TABLE ops;
ALTER TABLE ops_lean RENAME TO ops;
CREATE INDEX ops_order ON ops (festival, lamport);
CREATE INDEX ops_cap ON ops (festival, author, cap_day, seq) WHERE cap_day IS NOT NULL;
CREATE INDEX ops_roles ON ops (festival, kind) WHERE kind IN (1, 7, 8);
CREATE INDEX ops_crew ON ops (festival, kind) WHERE kind BETWEEN 12 AND 15;

CREATE TABLE events_lean (
  rowid INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  festival INTEGER NOT NULL,
  day TEXT NOT NULL,
  start INTEGER NOT NULL,
  -- As last written: may be before start after a start-only edit; shown as start then.
  end INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  hidden INTEGER NOT NULL DEFAULT 0,
  summary BLOB NOT NULL,
  title TEXT NOT NULL,
  subtitle TEXT NOT NULL,
  venue BLOB,
  track TEXT NOT NULL,
  kind TEXT NOT NULL,
  tags TEXT NOT NULL,
  people TEXT NOT NULL,
  cancelled INTEGER NOT NULL,
  official INTEGER NOT NULL,
  creator BLOB NOT NULL,
  language TEXT NOT NULL,
  source_id TEXT NOT NULL,
  created_rev INTEGER NOT NULL,
  updated_rev INTEGER NOT NULL,
  moved_rev INTEGER NOT NULL DEFAULT 0,
  cancelled_rev INTEGER NOT NULL DEFAULT 0,
  prev_start INTEGER,
  prev_end INTEGER,
  prev_venue BLOB,
  stamps BLOB NOT NULL,
  links TEXT NOT NULL,
  orig_start INTEGER NOT NULL DEFAULT 0,
  orig_end INTEGER NOT NULL DEFAULT 0,
  orig_venue BLOB,
  url TEXT NOT NULL DEFAULT '',
  source_number INTEGER,
  do_not_record INTEGER NOT NULL DEFAULT 0,
  recording_license TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL
);
INSERT INTO events_lean (rowid, id, festival, day, start, end, deleted, hidden, summary, title, subtitle, venue,
    track, kind, tags, people, cancelled, official, creator, language, source_id, created_rev, updated_rev,
    moved_rev, cancelled_rev, prev_start, prev_end, prev_venue, stamps, links, orig_start, orig_end, orig_venue,
    url, source_number, do_not_record, recording_license, description)
  SELECT e.rowid, e.id, f.n, e.day, e.start, e.end, e.deleted, e.hidden, e.summary, e.title, e.subtitle, e.venue,
    e.track, e.kind, e.tags, e.people, e.cancelled, e.official, e.creator, e.language, e.source_id, e.created_rev,
    e.updated_rev, e.moved_rev, e.cancelled_rev, e.prev_start, e.prev_end, e.prev_venue, e.stamps, e.links,
    e.orig_start, e.orig_end, e.orig_venue, e.url, e.source_number, e.do_not_record, e.recording_license,
    e.description
  FROM events e JOIN keys f ON f.key = e.festival;
DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
CREATE INDEX events_day ON events (festival, day, start, deleted, hidden, summary);
CREATE INDEX events_start ON events (festival, start);
CREATE INDEX events_source ON events (festival, source_id) WHERE source_id != '';
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
  INSERT INTO events_fts (rowid, title, subtitle, description, people, track, tags)
  VALUES (new.rowid, new.title, new.subtitle, new.description, new.people, new.track, new.tags);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, title, subtitle, description, people, track, tags)
  VALUES ('delete', old.rowid, old.title, old.subtitle, old.description, old.people, old.track, old.tags);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF title, subtitle, description, people, track, tags ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, title, subtitle, description, people, track, tags)
  VALUES ('delete', old.rowid, old.title, old.subtitle, old.description, old.people, old.track, old.tags);
  INSERT INTO events_fts (rowid, title, subtitle, description, people, track, tags)
  VALUES (new.rowid, new.title, new.subtitle, new.description, new.people, new.track, new.tags);
END;
"#,
];

/// The newest migration that changes what a fold derives from ops: a store migrated from before
/// it re-derives every festival's programme once, at open.
pub const REBUILT_BY: usize = 9;

/// The newest migration that rewrites the largest tables: a store migrated from before it is
/// vacuumed once, at open, so that the pages the old rows held go back to the file system.
pub const VACUUMED_BY: usize = 9;

/// The schema version a fully migrated store has.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`SCHEMA_VERSION`]; returns the version it found.
pub fn migrate(conn: &mut Connection) -> Result<usize, StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found: current, supported: SCHEMA_VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied store migration");
    }
    Ok(current)
}
