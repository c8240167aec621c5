//! A realistic demo festival: four days, twelve venues, a few hundred official events, organisers,
//! community events, late-night sets past midnight, announcements, a move and a cancellation.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::identity::Identity;
use crate::node::{Node, NodeError};
use crate::op::{
    Announcement, Body, EventPatch, FestivalCreate, FestivalId, FestivalPatch, Link, LogPosition, LogWriter, Op, OpId,
    Priority, ProfilePatch, Role, VenuePatch,
};
use crate::store::IngestReport;

/// Deterministic pseudo-random numbers (SplitMix64), so the demo is the same on every device.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Bea", "Carlos", "Dana", "Emil", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kemal", "Lena", "Mika", "Noor",
    "Oskar", "Paula", "Quentin", "Rosa", "Sami", "Tove", "Uma", "Viktor", "Wen", "Yara", "Zoë",
];
const LAST: &[&str] = &[
    "Andersen",
    "Berger",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Schmidt",
    "Takács",
];
const ADJ: &[&str] = &[
    "Velvet",
    "Electric",
    "Silent",
    "Golden",
    "Wandering",
    "Paper",
    "Midnight",
    "Copper",
    "Wild",
    "Neon",
    "Hollow",
    "Crimson",
    "Lucky",
    "Salt",
    "Northern",
    "Glass",
];
const NOUN: &[&str] = &[
    "Foxes",
    "Orchard",
    "Lanterns",
    "Herons",
    "Machines",
    "Tides",
    "Meadows",
    "Comets",
    "Owls",
    "Rivers",
    "Satellites",
    "Bees",
    "Kites",
    "Harbours",
    "Moths",
    "Echoes",
];
const TOPICS: &[&str] = &[
    "Seed libraries",
    "Mesh networks",
    "Urban beekeeping",
    "Repair cafés",
    "Solar cooking",
    "Community radio",
    "Soil and carbon",
    "Open hardware",
    "Festival waste",
    "Night skies",
    "Folk songs of the Baltic",
    "Mushroom foraging",
    "Bicycle logistics",
    "Rewilding rivers",
    "Zines",
    "Local currencies",
];
const CRAFTS: &[&str] = &[
    "Spoon carving",
    "Screen printing",
    "Bread baking",
    "Juggling",
    "Knot tying",
    "Natural dyeing",
    "Circuit bending",
    "Basket weaving",
    "Kite building",
    "Bookbinding",
    "Lino cutting",
    "Beatboxing",
];

struct VenueSpec {
    name: &'static str,
    description: &'static str,
    track: &'static str,
    kind: &'static str,
    /// Opening and closing hour; closing past 24 runs after midnight.
    hours: (i8, i8),
    /// Slot length in minutes.
    slot: i64,
}

const VENUES: &[VenueSpec] = &[
    VenueSpec {
        name: "Main Stage",
        description: "The big one by the lake.",
        track: "Music",
        kind: "concert",
        hours: (14, 25),
        slot: 75,
    },
    VenueSpec {
        name: "Forest Stage",
        description: "Under the oaks, acoustic-friendly.",
        track: "Music",
        kind: "concert",
        hours: (13, 24),
        slot: 60,
    },
    VenueSpec {
        name: "Lakeside Tent",
        description: "Talks with a view.",
        track: "Talks",
        kind: "talk",
        hours: (10, 20),
        slot: 45,
    },
    VenueSpec {
        name: "The Barn",
        description: "Old barn, new ideas.",
        track: "Talks",
        kind: "talk",
        hours: (11, 21),
        slot: 60,
    },
    VenueSpec {
        name: "Workshop Dome",
        description: "Bring your hands.",
        track: "Workshops",
        kind: "workshop",
        hours: (10, 19),
        slot: 90,
    },
    VenueSpec {
        name: "Kids' Meadow",
        description: "For the small ones and their grown-ups.",
        track: "Family",
        kind: "workshop",
        hours: (9, 17),
        slot: 60,
    },
    VenueSpec {
        name: "Cinema Tent",
        description: "Shorts and features after dark.",
        track: "Film",
        kind: "screening",
        hours: (16, 26),
        slot: 100,
    },
    VenueSpec {
        name: "Dance Hall",
        description: "Until the sun comes up.",
        track: "Dance",
        kind: "dj set",
        hours: (20, 28),
        slot: 90,
    },
    VenueSpec {
        name: "Tea House",
        description: "Quiet corner with chai.",
        track: "Wellbeing",
        kind: "session",
        hours: (8, 18),
        slot: 60,
    },
    VenueSpec {
        name: "Poetry Corner",
        description: "Open mic and readings.",
        track: "Spoken word",
        kind: "reading",
        hours: (12, 22),
        slot: 40,
    },
    VenueSpec {
        name: "Circus Tent",
        description: "Acrobatics, clowns, fire.",
        track: "Circus",
        kind: "show",
        hours: (11, 23),
        slot: 55,
    },
    VenueSpec {
        name: "Sauna Garden",
        description: "Wood-fired, with a cold plunge.",
        track: "Wellbeing",
        kind: "session",
        hours: (9, 22),
        slot: 120,
    },
];

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
}

fn title_for(rng: &mut Rng, v: &VenueSpec) -> (String, String, Vec<String>) {
    match v.track {
        "Music" | "Dance" => {
            let t = format!("The {} {}", rng.pick(ADJ), rng.pick(NOUN));
            let genre = *rng.pick(&["folk", "dub", "jazz", "indie", "techno", "cumbia", "afrobeat", "ambient"]);
            (t, String::new(), vec![genre.to_owned()])
        }
        "Talks" => {
            let topic = *rng.pick(TOPICS);
            let sub =
                *rng.pick(&["what we learned", "a practical introduction", "stories from the field", "open questions"]);
            (topic.to_owned(), sub.to_owned(), vec!["discussion".to_owned()])
        }
        "Workshops" | "Family" => {
            let craft = *rng.pick(CRAFTS);
            let t = if v.track == "Family" { format!("{craft} for kids") } else { craft.to_owned() };
            (t, String::new(), vec!["hands-on".to_owned()])
        }
        "Film" => (format!("{} {} (short films)", rng.pick(ADJ), rng.pick(NOUN)), String::new(), vec!["film".into()]),
        "Spoken word" => {
            (format!("Readings: {} {}", rng.pick(ADJ), rng.pick(NOUN)), String::new(), vec!["poetry".into()])
        }
        "Circus" => (format!("Cirque {}", rng.pick(NOUN)), String::new(), vec!["family".into()]),
        _ => {
            let t =
                *rng.pick(&["Morning yoga", "Breathwork", "Sauna ritual", "Tea ceremony", "Sound bath", "Stretching"]);
            (t.to_owned(), String::new(), vec!["calm".into()])
        }
    }
}

/// Creates the demo festival starting on `start_date`, owned by the node's identity, and makes it
/// current. Organisers and community members are extra demo identities signed on this device.
pub fn create_demo(node: &mut Node, start_date: Date) -> Result<(FestivalId, IngestReport), NodeError> {
    let days = 4i16;
    let end_date = start_date
        .checked_add(jiff::Span::new().days(i64::from(days - 1)))
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
    let tz_name = "Europe/Berlin";
    let tz = TimeZone::get(tz_name).map_err(|e| NodeError::Invalid(e.to_string()))?;
    let mut rng = Rng::new(0x6d65_6164_6f77);
    let wall = node.now_ms();

    // Fresh keys for the made-up organisers and attendees, used once here and then forgotten: keys
    // from fixed seeds would let anybody post official announcements into every served demo.
    let fresh = |n: usize| (0..n).map(|_| Identity::generate()).collect::<Result<Vec<_>, _>>();
    let organisers: Vec<Identity> = fresh(2)?;
    let community: Vec<Identity> = fresh(8)?;

    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| NodeError::Invalid(e.to_string()))?;
    let fid = FestivalId::derive(&node.public_key(), &nonce);
    let mut lamport = 0u64;
    let mut ops: Vec<Op> = Vec::new();
    let start = LogPosition { seq: 0, backlink: None, lamport: 0 };
    let mut own = LogWriter::new(fid, start);
    let mut orgw: Vec<LogWriter> = organisers.iter().map(|_| LogWriter::new(fid, start)).collect();
    let mut comw: Vec<LogWriter> = community.iter().map(|_| LogWriter::new(fid, start)).collect();
    let mut tick = || {
        lamport += 1;
        lamport
    };

    let me = node.identity();
    ops.push(
        own.sign(
            me,
            tick(),
            wall,
            Body::FestivalCreate(FestivalCreate {
                nonce,
                fields: FestivalPatch {
                    name: Some("Meadow Summer Gathering".into()),
                    description: Some(
                        "Four days of music, talks, workshops and sauna in a field by a lake. No signal, no problem."
                            .into(),
                    ),
                    timezone: Some(tz_name.into()),
                    start_date: Some(start_date),
                    end_date: Some(end_date),
                    place: Some("Lake Wiesensee, Brandenburg".into()),
                    day_change_minutes: Some(4 * 60),
                },
                forked_from: None,
            }),
        )?,
    );
    ops.push(own.sign(
        me,
        tick(),
        wall,
        Body::Profile(ProfilePatch { display_name: Some("Festival office".into()), about: None }),
    )?);
    for (i, o) in organisers.iter().enumerate() {
        ops.push(own.sign(me, tick(), wall, Body::RoleGrant { member: o.public(), role: Role::Organiser })?);
        let name = ["Stage crew", "Info point"][i];
        ops.push(orgw[i].sign(
            o,
            tick(),
            wall,
            Body::Profile(ProfilePatch { display_name: Some(name.into()), about: None }),
        )?);
    }
    let mut venue_ids = Vec::new();
    for (i, v) in VENUES.iter().enumerate() {
        let op = own.sign(
            me,
            tick(),
            wall,
            Body::Venue {
                target: None,
                patch: VenuePatch {
                    name: Some(v.name.into()),
                    description: Some(v.description.into()),
                    location: Some(crate::op::GeoPoint {
                        lat_e7: 532_500_000 + i as i32 * 7_000,
                        lon_e7: 132_100_000 + i as i32 * 9_000,
                    }),
                    source_id: None,
                    position: None,
                },
            },
        )?;
        venue_ids.push(op.id());
        ops.push(op);
    }
    let mut official_events: Vec<OpId> = Vec::new();
    for d in 0..days {
        let date = start_date
            .checked_add(jiff::Span::new().days(i64::from(d)))
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        for (vi, v) in VENUES.iter().enumerate() {
            let open = date
                .to_datetime(Time::midnight())
                .to_zoned_datetime(tz.clone())
                .map_err(|e| NodeError::Invalid(e.to_string()))?;
            let mut t = open.timestamp().as_second() + i64::from(v.hours.0) * 3600;
            let close = open.timestamp().as_second() + i64::from(v.hours.1) * 3600;
            while t + v.slot * 60 <= close {
                let (title, subtitle, tags) = title_for(&mut rng, v);
                let people: Vec<String> = (0..1 + rng.below(2)).map(|_| person(&mut rng)).collect();
                let w = rng.below(3) as usize;
                let signer = if w == 0 { me } else { &organisers[w - 1] };
                let writer = if w == 0 { &mut own } else { &mut orgw[w - 1] };
                let op = writer.sign(
                    signer,
                    tick(),
                    wall,
                    Body::Event {
                        target: None,
                        patch: EventPatch {
                            title: Some(title.clone()),
                            subtitle: Some(subtitle),
                            description: Some(format!("{title} at the {}. {}", v.name, v.description)),
                            start: Some(t),
                            end: Some(t + v.slot * 60),
                            venue: Some(Some(venue_ids[vi])),
                            track: Some(v.track.into()),
                            kind: Some(v.kind.into()),
                            tags: Some(tags),
                            people: Some(people),
                            language: Some((*rng.pick(&["en", "en", "de"])).into()),
                            links: Some(vec![Link {
                                url: format!("https://meadow.example/e/{}", official_events.len() + 1),
                                title: "Details".into(),
                            }]),
                            cancelled: None,
                            source_id: None,
                            ..Default::default()
                        },
                    },
                )?;
                official_events.push(op.id());
                ops.push(op);
                t += v.slot * 60 + 15 * 60;
            }
        }
    }
    // Community events: jam sessions and meetups, shown as such.
    let community_titles =
        ["Ukulele jam", "Chess under the tree", "Sunrise swim", "Clothes swap", "Board games", "Drum circle"];
    for (ci, c) in community.iter().enumerate() {
        ops.push(comw[ci].sign(
            c,
            tick(),
            wall,
            Body::Profile(ProfilePatch { display_name: Some(person(&mut rng)), about: None }),
        )?);
        for k in 0..3 {
            let date = start_date
                .checked_add(jiff::Span::new().days(((ci + k) % days as usize) as i64))
                .map_err(|e| NodeError::Invalid(e.to_string()))?;
            let hour = 9 + rng.below(10) as i8;
            let at =
                date.at(hour, 30, 0, 0).to_zoned_datetime(tz.clone()).map_err(|e| NodeError::Invalid(e.to_string()))?;
            let s = at.timestamp().as_second();
            ops.push(comw[ci].sign(
                c,
                tick(),
                wall,
                Body::Event {
                    target: None,
                    patch: EventPatch {
                        title: Some((*rng.pick(&community_titles)).into()),
                        description: Some("Everyone welcome, bring what you like.".into()),
                        start: Some(s),
                        end: Some(s + 3600),
                        venue: Some(Some(venue_ids[8 + rng.below(4) as usize])),
                        track: Some("Community".into()),
                        kind: Some("meetup".into()),
                        tags: Some(vec!["community".into()]),
                        ..Default::default()
                    },
                },
            )?);
        }
    }
    // A community member trying to post an announcement: stored, but without effect.
    ops.push(comw[0].sign(
        &community[0],
        tick(),
        wall,
        Body::Announcement(Announcement {
            text: "FREE BEER AT MY TENT".into(),
            priority: Priority::Emergency,
            expires: None,
        }),
    )?);
    let first_day = start_date
        .to_datetime(Time::midnight())
        .to_zoned_datetime(tz.clone())
        .map_err(|e| NodeError::Invalid(e.to_string()))?
        .timestamp()
        .as_second();
    let end_of_festival = first_day + i64::from(days) * 86_400 + 6 * 3600;
    ops.push(own.sign(me, tick(), wall, Body::Announcement(Announcement {
        text: "Welcome to the Meadow Summer Gathering! The info point is by the gate, water taps are marked on the map.".into(),
        priority: Priority::Normal,
        expires: Some(end_of_festival),
    }))?);
    ops.push(orgw[0].sign(
        &organisers[0],
        tick(),
        wall,
        Body::Announcement(Announcement {
            text: "Forest Stage starts 30 minutes late today: sound check overran.".into(),
            priority: Priority::High,
            expires: Some(end_of_festival),
        }),
    )?);
    ops.push(orgw[1].sign(
        &organisers[1],
        tick(),
        wall,
        Body::Announcement(Announcement {
            text: "Storm warning tonight from 22:00: tents down at the Circus Tent, follow the stewards.".into(),
            priority: Priority::Emergency,
            expires: Some(end_of_festival),
        }),
    )?);
    // Programme changes after publication, so `changes` has something to show.
    if let (Some(&moved), Some(&cancelled)) = (official_events.get(3), official_events.get(10)) {
        ops.push(own.sign(
            me,
            tick(),
            wall,
            Body::Event {
                target: Some(moved),
                patch: EventPatch { venue: Some(Some(venue_ids[1])), ..Default::default() },
            },
        )?);
        ops.push(orgw[0].sign(
            &organisers[0],
            tick(),
            wall,
            Body::Event { target: Some(cancelled), patch: EventPatch { cancelled: Some(true), ..Default::default() } },
        )?);
    }
    // Made on this device, though signed by the demo's made-up people too.
    let report = node.ingest_from(ops, &crate::view::Arrival::here())?;
    if let Some(r) = report.rejected.first() {
        return Err(NodeError::Invalid(format!("demo op rejected: {}", r.reason)));
    }
    node.use_festival(&fid)?;
    // A demo made here is not news to this device: "changes since the last look" start empty,
    // on every front end.
    node.mark_seen(&fid)?;
    Ok((fid, report))
}
