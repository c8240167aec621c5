//! Shared helpers for Meadow's workspace integration tests and the benchmark: generators of
//! realistic and adversarial op sets.

pub mod crewbench;
pub mod crowd;
pub mod crowd_nodes;
pub mod hostile;
pub mod radio;
pub mod simnet;
pub mod support;
pub mod webclient;

use jiff::civil::date;
use meadow_core::demo::Rng;
use meadow_core::identity::Identity;
use meadow_core::op::{
    Announcement, Body, EventPatch, FestivalCreate, FestivalId, FestivalPatch, HideTarget, LogPosition, LogWriter, Op,
    OpId, Priority, ProfilePatch, Role, VenuePatch,
};

/// A generated festival: its id and every op, in a valid causal order.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The festival.
    pub festival: FestivalId,
    /// All ops, in the order they were made.
    pub ops: Vec<Op>,
}

/// First second of the generated festival (2026-07-10 10:00 UTC).
pub const FESTIVAL_START: i64 = 1_783_677_600;

struct Author {
    id: Identity,
    log: LogWriter,
}

/// Builds ops for many authors of one festival with a shared Lamport clock.
pub struct Builder {
    /// The festival.
    pub festival: FestivalId,
    authors: Vec<Author>,
    lamport: u64,
    /// Ops made so far.
    pub ops: Vec<Op>,
}

impl Builder {
    /// A festival owned by author 0 (seed `seed`), with `authors` authors in all.
    pub fn new(seed: u64, authors: usize) -> Self {
        let ids: Vec<Identity> =
            (0..authors.max(1) as u64).map(|i| Identity::from_seed(seed * 1_000_003 + i)).collect();
        let nonce = seed.to_le_bytes().repeat(2).try_into().unwrap_or([0; 16]);
        let festival = FestivalId::derive(&ids[0].public(), &nonce);
        let start = LogPosition { seq: 0, backlink: None, lamport: 0 };
        let authors = ids.into_iter().map(|id| Author { id, log: LogWriter::new(festival, start) }).collect();
        let mut b = Builder { festival, authors, lamport: 0, ops: Vec::new() };
        b.push(
            0,
            None,
            Body::FestivalCreate(FestivalCreate {
                nonce,
                fields: FestivalPatch {
                    name: Some(format!("Generated festival {seed}")),
                    timezone: Some("Europe/Berlin".into()),
                    start_date: Some(date(2026, 7, 10)),
                    end_date: Some(date(2026, 7, 14)),
                    day_change_minutes: Some(240),
                    ..Default::default()
                },
                forked_from: None,
            }),
        );
        b
    }

    /// The identity of author `i`.
    pub fn identity(&self, i: usize) -> &Identity {
        &self.authors[i].id
    }

    /// Number of authors.
    pub fn author_count(&self) -> usize {
        self.authors.len()
    }

    /// Signs `body` as author `i`'s next op; `lamport` overrides the shared clock (for
    /// concurrent writers), otherwise it ticks.
    pub fn push(&mut self, i: usize, lamport: Option<u64>, body: Body) -> OpId {
        let l = match lamport {
            Some(l) => l,
            None => {
                self.lamport += 1;
                self.lamport
            }
        };
        let a = &mut self.authors[i];
        let op = a.log.sign(&a.id, l, 1_783_000_000_000, body).expect("generated op is valid");
        self.lamport = self.lamport.max(op.lamport());
        let id = op.id();
        self.ops.push(op);
        id
    }

    /// Finishes.
    pub fn build(self) -> Scenario {
        Scenario { festival: self.festival, ops: self.ops }
    }
}

/// An event body starting `start` seconds into the festival.
pub fn event_body(rng: &mut Rng, n: usize, venue: Option<OpId>, offset: i64) -> Body {
    let start = FESTIVAL_START + offset;
    Body::Event {
        target: None,
        patch: EventPatch {
            title: Some(format!(
                "Event {n}: {} {}",
                WORDS[rng.below(WORDS.len() as u64) as usize],
                WORDS[n % WORDS.len()]
            )),
            description: Some(format!(
                "A generated description for event {n}, about {}.",
                WORDS[rng.below(WORDS.len() as u64) as usize]
            )),
            start: Some(start),
            end: Some(start + 1800 + rng.below(6) as i64 * 900),
            venue: Some(venue),
            track: Some(TRACKS[n % TRACKS.len()].into()),
            tags: Some(vec![WORDS[rng.below(WORDS.len() as u64) as usize].into()]),
            people: Some(vec![format!("Person {}", rng.below(500))]),
            language: Some("en".into()),
            ..Default::default()
        },
    }
}

const WORDS: &[&str] = &[
    "bees", "kites", "radio", "soil", "rivers", "bread", "folk", "techno", "circus", "poetry", "mesh", "solar",
    "repair", "zines", "owls", "lanterns", "tea", "sauna", "dance", "film",
];
const TRACKS: &[&str] = &["Music", "Talks", "Workshops", "Film", "Family"];

/// The benchmark's festival: `ops` ops by `authors` authors. The owner makes venues and names
/// organisers; organisers post most of the programme and announcements; everybody else adds
/// community events and edits, moves and cancels.
pub fn benchmark_festival(seed: u64, ops: usize, authors: usize) -> Scenario {
    let mut rng = Rng::new(seed);
    let mut b = Builder::new(seed, authors.max(3));
    let organisers = (authors / 50).clamp(1, 20);
    let mut venues = Vec::new();
    for v in 0..12 {
        venues.push(b.push(
            0,
            None,
            Body::Venue { target: None, patch: VenuePatch { name: Some(format!("Venue {v}")), ..Default::default() } },
        ));
    }
    for o in 1..=organisers {
        let member = b.identity(o).public();
        b.push(0, None, Body::RoleGrant { member, role: Role::Organiser });
    }
    let mut events: Vec<OpId> = Vec::new();
    let mut per_author_day = std::collections::HashMap::<(usize, i64), u32>::new();
    let mut n = 0usize;
    while b.ops.len() < ops {
        let roll = rng.below(100);
        let author = if roll < 40 {
            1 + rng.below(organisers as u64) as usize
        } else {
            rng.below(b.author_count() as u64) as usize
        };
        if events.len() < 10 || !roll.is_multiple_of(4) {
            let is_official = author <= organisers;
            // Community authors stay under the per-day cap by moving on to the next day.
            let mut day = rng.below(5) as i64;
            if !is_official {
                for _ in 0..5 {
                    if per_author_day.get(&(author, day)).copied().unwrap_or(0) < 15 {
                        break;
                    }
                    day = (day + 1) % 5;
                }
            }
            *per_author_day.entry((author, day)).or_default() += 1;
            let offset = day * 86_400 + rng.below(14 * 4) as i64 * 900;
            let venue = Some(venues[rng.below(venues.len() as u64) as usize]);
            let id = b.push(author, None, event_body(&mut rng, n, venue, offset));
            events.push(id);
            n += 1;
        } else {
            let target = events[rng.below(events.len() as u64) as usize];
            let patch = match rng.below(4) {
                0 => EventPatch { cancelled: Some(true), ..Default::default() },
                1 => EventPatch { venue: Some(Some(venues[rng.below(12) as usize])), ..Default::default() },
                2 => {
                    let s = FESTIVAL_START + rng.below(5 * 96) as i64 * 900;
                    EventPatch { start: Some(s), end: Some(s + 3600), ..Default::default() }
                }
                _ => EventPatch { title: Some(format!("Renamed {}", rng.below(1000))), ..Default::default() },
            };
            b.push(author, None, Body::Event { target: Some(target), patch });
        }
        if rng.below(200) == 0 {
            b.push(
                1,
                None,
                Body::Announcement(Announcement {
                    text: format!("Notice {}", b.ops.len()),
                    priority: Priority::High,
                    expires: None,
                }),
            );
        }
    }
    b.ops.truncate(ops.max(1));
    b.build()
}

/// A small adversarial festival for convergence tests: concurrent writers with colliding Lamport
/// clocks, role changes (including by people without authority), hides, deletes, festival edits
/// that move every event's day, unknown kinds, and edits that arrive for events created later.
pub fn chaotic_festival(seed: u64, steps: usize) -> Scenario {
    let mut rng = Rng::new(seed);
    let authors = 6;
    let mut b = Builder::new(seed, authors);
    let mut events: Vec<OpId> = Vec::new();
    let mut venues: Vec<OpId> = Vec::new();
    let mut clocks = vec![0u64; authors];
    for step in 0..steps {
        let a = rng.below(authors as u64) as usize;
        // Concurrent writers: clocks drawn from a narrow window so they collide and interleave.
        let lamport = clocks[a].max(b.ops.len() as u64 / 2 + rng.below(4)) + 1;
        clocks[a] = lamport;
        let body = match rng.below(16) {
            0 => Body::RoleGrant {
                member: b.identity(rng.below(authors as u64) as usize).public(),
                role: Role::Organiser,
            },
            1 => Body::RoleRevoke {
                member: b.identity(rng.below(authors as u64) as usize).public(),
                role: Role::Organiser,
                after_seq: if rng.below(2) == 0 { None } else { Some(rng.below(5)) },
            },
            2 => Body::Announcement(Announcement {
                text: format!("announcement {step}"),
                priority: Priority::Normal,
                expires: None,
            }),
            3 => Body::Venue {
                target: None,
                patch: VenuePatch { name: Some(format!("Venue {step}")), ..Default::default() },
            },
            4 if !venues.is_empty() => Body::Venue {
                target: Some(venues[rng.below(venues.len() as u64) as usize]),
                patch: VenuePatch { name: Some(format!("Renamed venue {step}")), ..Default::default() },
            },
            5 if !events.is_empty() => Body::Delete { target: events[rng.below(events.len() as u64) as usize] },
            6 if !events.is_empty() => Body::Hide {
                target: if rng.below(2) == 0 {
                    HideTarget::Entity(events[rng.below(events.len() as u64) as usize])
                } else {
                    HideTarget::Author(b.identity(rng.below(authors as u64) as usize).public())
                },
                hidden: rng.below(3) != 0,
            },
            7 => Body::FestivalEdit(FestivalPatch {
                timezone: Some(
                    (*["Europe/Berlin", "America/New_York", "Asia/Tokyo"].get(rng.below(3) as usize).unwrap_or(&"UTC"))
                        .into(),
                ),
                day_change_minutes: Some(rng.below(6) as u16 * 60),
                ..Default::default()
            }),
            8 => Body::Profile(ProfilePatch { display_name: Some(format!("name {step}")), about: None }),
            9 => Body::Unknown { kind: 200 },
            10..=12 if !events.is_empty() => {
                let target = events[rng.below(events.len() as u64) as usize];
                let patch = match rng.below(5) {
                    0 => EventPatch { title: Some(format!("title {}", rng.below(3))), ..Default::default() },
                    1 => EventPatch { cancelled: Some(rng.below(2) == 0), ..Default::default() },
                    2 => {
                        EventPatch { start: Some(FESTIVAL_START + rng.below(200) as i64 * 1800), ..Default::default() }
                    }
                    3 => EventPatch {
                        venue: Some(if venues.is_empty() {
                            None
                        } else {
                            Some(venues[rng.below(venues.len() as u64) as usize])
                        }),
                        ..Default::default()
                    },
                    _ => EventPatch {
                        tags: Some(vec![format!("t{}", rng.below(3))]),
                        end: Some(FESTIVAL_START + 400 * 1800),
                        ..Default::default()
                    },
                };
                Body::Event { target: Some(target), patch }
            }
            _ => {
                let venue =
                    if venues.is_empty() { None } else { Some(venues[rng.below(venues.len() as u64) as usize]) };
                let offset = rng.below(100) as i64 * 3600;
                event_body(&mut rng, step, venue, offset)
            }
        };
        let is_event_create = matches!(body, Body::Event { target: None, .. });
        let is_venue_create = matches!(body, Body::Venue { target: None, .. });
        let id = b.push(a, Some(lamport), body);
        if is_event_create {
            events.push(id);
        }
        if is_venue_create {
            venues.push(id);
        }
    }
    b.build()
}

/// A frab `schedule.xml` with `events` events over five days and twelve rooms, as conference
/// tools publish it (for the import benchmark). `version` shifts a few events so that two versions
/// differ the way a real update does.
pub fn frab_schedule_xml(events: usize, version: u32) -> String {
    let mut rng = Rng::new(99);
    let mut out = String::with_capacity(events * 900);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<schedule>\n  <generator name=\"frab\" version=\"1.0\"/>\n",
    );
    out.push_str(&format!("  <version>{version}</version>\n  <conference>\n    <acronym>bench26</acronym>\n"));
    out.push_str(
        "    <title>Benchmark Festival 2026</title>\n    <start>2026-07-06</start>\n    <end>2026-07-10</end>\n",
    );
    out.push_str("    <days>5</days>\n    <timeslot_duration>00:15</timeslot_duration>\n");
    out.push_str("    <time_zone_name>Europe/Berlin</time_zone_name>\n  </conference>\n");
    let per_day = events.div_ceil(5);
    let mut n = 0;
    for day in 0..5 {
        let date = format!("2026-07-{:02}", 6 + day);
        out.push_str(&format!(
            "  <day index=\"{}\" date=\"{date}\" start=\"{date}T04:00:00+02:00\" end=\"{date}T23:59:00+02:00\">\n",
            day + 1
        ));
        for room in 0..12 {
            out.push_str(&format!("    <room name=\"Room {room}\" guid=\"00000000-0000-4000-8000-{room:012}\">\n"));
            let in_room = per_day.div_ceil(12);
            for slot in 0..in_room {
                if n >= events || n >= per_day * (day + 1) {
                    break;
                }
                let minutes = 8 * 60 + slot * 20 + if version > 1 && n % 97 == 0 { 15 } else { 0 };
                let (h, m) = (minutes / 60, minutes % 60);
                let word = WORDS[rng.below(WORDS.len() as u64) as usize];
                out.push_str(&format!(
                    "      <event guid=\"11111111-0000-4000-8000-{n:012}\" id=\"{n}\">\n        <date>{date}T{h:02}:{m:02}:00+02:00</date>\n        <start>{h:02}:{m:02}</start>\n        <duration>00:15</duration>\n        <room>Room {room}</room>\n        <slug>bench26-{n}</slug>\n        <url>https://bench.example/talk/{n}</url>\n        <title>Talk {n}: {word} &amp; more</title>\n        <subtitle/>\n        <track>{}</track>\n        <type>lecture</type>\n        <language>en</language>\n        <abstract>An abstract about {word}.</abstract>\n        <description>&lt;p&gt;A longer description of talk {n}, about {word} and how it changes festivals.&lt;/p&gt;</description>\n        <persons><person id=\"{n}\">Speaker {}</person></persons>\n        <links><link href=\"https://bench.example/{n}/slides\">Slides</link></links>\n      </event>\n",
                    TRACKS[n % TRACKS.len()],
                    rng.below(800)
                ));
                n += 1;
            }
            out.push_str("    </room>\n");
        }
        out.push_str("  </day>\n");
    }
    out.push_str("</schedule>\n");
    out
}
