//! Op bodies: one kind byte, then a TLV record of fields in increasing field number. Unknown field
//! numbers are skipped and unknown kinds are kept inert, so that a newer client's ops still chain
//! in an older client's logs.

use jiff::civil::Date;
use thiserror::Error;

use super::{FestivalId, OpId};
use crate::identity::PublicKey;
use crate::wire::{Fields, Reader, WireError, Writer, read_varint_exact, read_zigzag_exact};

/// Size limits on body fields, in bytes of UTF-8 unless stated.
pub mod limits {
    /// Festival, venue and profile names.
    pub const NAME: usize = 200;
    /// Event titles and subtitles.
    pub const TITLE: usize = 300;
    /// Descriptions and abstracts.
    pub const DESCRIPTION: usize = 8000;
    /// Short labels: track, kind, language, source id, time zone.
    pub const LABEL: usize = 128;
    /// Announcement text.
    pub const ANNOUNCEMENT: usize = 2000;
    /// Entries in a tag or people list.
    pub const LIST_ITEMS: usize = 64;
    /// Links per event.
    pub const LINKS: usize = 16;
    /// Authors approved by one moderation op.
    pub const APPROVALS: usize = 400;
    /// A URL.
    pub const URL: usize = 1000;
    /// Longest event: a year, in seconds (real programmes have multi-day installations).
    pub const MAX_EVENT_SECONDS: i64 = 366 * 24 * 3600;
    /// Earliest accepted timestamp (1970-01-01) and latest (year 9999), in Unix seconds.
    pub const TIME_RANGE: (i64, i64) = (0, 253_402_300_799);
}

/// Why a body does not follow its schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// The TLV structure itself is broken.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The body has no kind byte.
    #[error("empty body")]
    Empty,
    /// A field required by this kind is absent.
    #[error("missing required field {0}")]
    Missing(&'static str),
    /// A field's value is malformed or out of range.
    #[error("field {field}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An edit that changes nothing.
    #[error("an edit must change at least one field")]
    EmptyPatch,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid { field, reason: reason.into() }
}

/// Body kind bytes. Values not listed decode as [`Body::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BodyKind {
    /// [`Body::FestivalCreate`].
    FestivalCreate = 1,
    /// [`Body::FestivalEdit`].
    FestivalEdit = 2,
    /// [`Body::Venue`].
    Venue = 3,
    /// [`Body::Event`].
    Event = 4,
    /// [`Body::Delete`].
    Delete = 5,
    /// [`Body::Announcement`].
    Announcement = 6,
    /// [`Body::RoleGrant`].
    RoleGrant = 7,
    /// [`Body::RoleRevoke`].
    RoleRevoke = 8,
    /// [`Body::Profile`].
    Profile = 9,
    /// [`Body::Hide`].
    Hide = 10,
    /// [`Body::Moderation`].
    Moderation = 11,
}

/// A point on the map in units of 1e-7 degrees (as OpenStreetMap stores them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoPoint {
    /// Latitude, -900000000..=900000000.
    pub lat_e7: i32,
    /// Longitude, -1800000000..=1800000000.
    pub lon_e7: i32,
}

/// A link attached to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL.
    pub url: String,
    /// What the link is, for display.
    pub title: String,
}

/// Where a forked festival came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkRef {
    /// The festival forked.
    pub festival: FestivalId,
    /// The newest op of that festival the fork was taken at.
    pub op: OpId,
}

/// Festival fields; in a creation op name, time zone and dates are required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FestivalPatch {
    /// Display name.
    pub name: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// First day.
    pub start_date: Option<Date>,
    /// Last day.
    pub end_date: Option<Date>,
    /// Where it takes place.
    pub place: Option<String>,
    /// Minutes after local midnight at which one festival day turns into the next (events before
    /// it belong to the previous day's programme).
    pub day_change_minutes: Option<u16>,
}

/// Body of a festival-creation op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FestivalCreate {
    /// Random bytes that, with the creator's key, derive the festival id.
    pub nonce: [u8; 16],
    /// Initial fields.
    pub fields: FestivalPatch,
    /// The festival this one was forked from.
    pub forked_from: Option<ForkRef>,
}

/// Venue fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenuePatch {
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Position.
    pub location: Option<GeoPoint>,
    /// The id the venue has in an imported schedule.
    pub source_id: Option<String>,
}

/// Event fields. `venue: Some(None)` removes the venue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPatch {
    /// Title.
    pub title: Option<String>,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Start, Unix seconds.
    pub start: Option<i64>,
    /// End, Unix seconds.
    pub end: Option<i64>,
    /// The venue entity.
    pub venue: Option<Option<OpId>>,
    /// Track.
    pub track: Option<String>,
    /// Kind of event (talk, concert, workshop...).
    pub kind: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// People (speakers, artists, hosts).
    pub people: Option<Vec<String>>,
    /// Language code.
    pub language: Option<String>,
    /// Links.
    pub links: Option<Vec<Link>>,
    /// Cancelled or not.
    pub cancelled: Option<bool>,
    /// The guid the event has in an imported schedule.
    pub source_id: Option<String>,
}

/// How loudly an announcement should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// A normal notice.
    Normal = 0,
    /// Worth a notification.
    High = 1,
    /// Safety: show at once, everywhere.
    Emergency = 2,
}

impl Priority {
    /// The priority for a wire value.
    pub fn from_u64(v: u64) -> Option<Self> {
        match v {
            0 => Some(Priority::Normal),
            1 => Some(Priority::High),
            2 => Some(Priority::Emergency),
            _ => None,
        }
    }

    /// A lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Emergency => "emergency",
        }
    }
}

/// An announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// What it says.
    pub text: String,
    /// How loudly.
    pub priority: Priority,
    /// When it stops being shown, Unix seconds.
    pub expires: Option<i64>,
}

/// A role in a festival that can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// May post official events and announcements, name organisers and hide spam.
    Organiser = 1,
}

/// Profile fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    /// Name to show next to this author's ops.
    pub display_name: Option<String>,
    /// A line about them.
    pub about: Option<String>,
}

/// What a hide op hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HideTarget {
    /// One entity (event, venue, announcement).
    Entity(OpId),
    /// Every community entity by one author.
    Author(PublicKey),
}

/// Whose community events a festival shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityMode {
    /// Everybody's, unless hidden (the default).
    Open = 0,
    /// Only those of approved authors: what organisers switch to when a flood of fresh keys hits.
    Approved = 1,
}

/// An organisers' rule about community content, in one op however many authors it concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderation {
    /// Switches the festival's community mode.
    pub community: Option<CommunityMode>,
    /// Authors whose community content is approved from now on, in increasing key order.
    pub approve: Vec<PublicKey>,
}

/// A typed op body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Creates a festival; the first op of the owner's log.
    FestivalCreate(FestivalCreate),
    /// Edits festival fields.
    FestivalEdit(FestivalPatch),
    /// Creates a venue (`target: None`) or edits one.
    Venue {
        /// The venue edited, or `None` to create one.
        target: Option<OpId>,
        /// Fields set.
        patch: VenuePatch,
    },
    /// Creates an event (`target: None`) or edits one.
    Event {
        /// The event edited, or `None` to create one.
        target: Option<OpId>,
        /// Fields set.
        patch: EventPatch,
    },
    /// Deletes an entity for good.
    Delete {
        /// The entity.
        target: OpId,
    },
    /// Posts an announcement.
    Announcement(Announcement),
    /// Grants a role.
    RoleGrant {
        /// Who receives it.
        member: PublicKey,
        /// Which role.
        role: Role,
    },
    /// Revokes a role.
    RoleRevoke {
        /// Who loses it.
        member: PublicKey,
        /// Which role.
        role: Role,
        /// The member's ops up to this sequence number stay official; later ones do not.
        after_seq: Option<u64>,
    },
    /// Sets profile fields.
    Profile(ProfilePatch),
    /// Hides or unhides community content.
    Hide {
        /// What.
        target: HideTarget,
        /// Hidden (true) or shown again (false).
        hidden: bool,
    },
    /// Sets the community mode or approves authors.
    Moderation(Moderation),
    /// A kind this version does not know: stored and passed on, but without effect.
    Unknown {
        /// The kind byte.
        kind: u8,
    },
}

struct FieldWriter(Writer);

impl FieldWriter {
    fn text(&mut self, no: u64, v: &Option<String>) {
        if let Some(s) = v {
            self.0.field(no, s.as_bytes());
        }
    }
    fn uint(&mut self, no: u64, v: Option<u64>) {
        if let Some(v) = v {
            self.0.field(no, &crate::wire::varint_bytes(v));
        }
    }
    fn int(&mut self, no: u64, v: Option<i64>) {
        if let Some(v) = v {
            self.0.field(no, &crate::wire::zigzag_bytes(v));
        }
    }
    fn raw(&mut self, no: u64, v: Option<&[u8]>) {
        if let Some(v) = v {
            self.0.field(no, v);
        }
    }
    fn list(&mut self, no: u64, v: &Option<Vec<String>>) {
        if let Some(items) = v {
            let mut inner = Writer::new();
            for item in items {
                inner.bytes(item.as_bytes());
            }
            self.0.field(no, inner.as_slice());
        }
    }
}

fn date_code(d: Date) -> u64 {
    // YYYYMMDD keeps test vectors readable; validity is checked on decode.
    (d.year() as u64) * 10000 + (d.month() as u64) * 100 + d.day() as u64
}

fn date_from_code(field: &'static str, v: &[u8]) -> Result<Date, SchemaError> {
    let code = read_varint_exact(v)?;
    let (y, m, d) = (code / 10000, (code / 100) % 100, code % 100);
    if !(1..=9999).contains(&y) {
        return Err(invalid(field, "year out of range"));
    }
    Date::new(y as i16, m as i8, d as i8).map_err(|_| invalid(field, format!("no such date {code}")))
}

fn text(field: &'static str, v: &[u8], max: usize, multiline: bool) -> Result<String, SchemaError> {
    let s = std::str::from_utf8(v).map_err(|_| invalid(field, "not UTF-8"))?;
    check_text(field, s, max, multiline)?;
    Ok(s.to_owned())
}

fn check_text(field: &'static str, s: &str, max: usize, multiline: bool) -> Result<(), SchemaError> {
    if s.len() > max {
        return Err(invalid(field, format!("{} bytes, limit {max}", s.len())));
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t'));
    if s.chars().any(bad) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn id32(field: &'static str, v: &[u8]) -> Result<[u8; 32], SchemaError> {
    v.try_into().map_err(|_| invalid(field, "expected 32 bytes"))
}

fn flag(field: &'static str, v: &[u8]) -> Result<bool, SchemaError> {
    match read_varint_exact(v)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(invalid(field, "expected 0 or 1")),
    }
}

fn time(field: &'static str, v: &[u8]) -> Result<i64, SchemaError> {
    let t = read_zigzag_exact(v)?;
    check_time(field, t)?;
    Ok(t)
}

fn check_time(field: &'static str, t: i64) -> Result<(), SchemaError> {
    if !(limits::TIME_RANGE.0..=limits::TIME_RANGE.1).contains(&t) {
        return Err(invalid(field, "time out of range"));
    }
    Ok(())
}

fn string_list(field: &'static str, v: &[u8], max_item: usize) -> Result<Vec<String>, SchemaError> {
    let mut r = Reader::new(v);
    let mut out = Vec::new();
    while !r.is_at_end() {
        if out.len() == limits::LIST_ITEMS {
            return Err(invalid(field, format!("more than {} items", limits::LIST_ITEMS)));
        }
        out.push(text(field, r.bytes()?, max_item, false)?);
    }
    Ok(out)
}

fn check_list(field: &'static str, items: &[String], max_item: usize) -> Result<(), SchemaError> {
    if items.len() > limits::LIST_ITEMS {
        return Err(invalid(field, format!("more than {} items", limits::LIST_ITEMS)));
    }
    items.iter().try_for_each(|s| check_text(field, s, max_item, false))
}

fn timezone_ok(tz: &str) -> Result<(), SchemaError> {
    // Syntax only: whether a zone exists depends on the tz database version, and validity must
    // not differ between devices. Unknown zones display as UTC.
    let ok = !tz.is_empty()
        && tz.len() <= limits::LABEL
        && tz.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if ok { Ok(()) } else { Err(invalid("timezone", format!("not a time zone name: {tz:?}"))) }
}

impl FestivalPatch {
    fn encode_into(&self, w: &mut FieldWriter, base: u64) {
        w.text(base, &self.name);
        w.text(base + 1, &self.description);
        w.text(base + 2, &self.timezone);
        w.uint(base + 3, self.start_date.map(date_code));
        w.uint(base + 4, self.end_date.map(date_code));
        w.text(base + 5, &self.place);
        w.uint(base + 6, self.day_change_minutes.map(u64::from));
    }

    /// Sets the field numbered `no - base`; returns false for numbers it does not own.
    fn decode_field(&mut self, no: u64, base: u64, v: &[u8]) -> Result<bool, SchemaError> {
        match no.wrapping_sub(base) {
            0 => self.name = Some(text("name", v, limits::NAME, false)?),
            1 => self.description = Some(text("description", v, limits::DESCRIPTION, true)?),
            2 => self.timezone = Some(text("timezone", v, limits::LABEL, false)?),
            3 => self.start_date = Some(date_from_code("start_date", v)?),
            4 => self.end_date = Some(date_from_code("end_date", v)?),
            5 => self.place = Some(text("place", v, limits::NAME, false)?),
            6 => {
                let m = read_varint_exact(v)?;
                if m >= 24 * 60 {
                    return Err(invalid("day_change_minutes", "must be under 1440"));
                }
                self.day_change_minutes = Some(m as u16);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn validate(&self) -> Result<(), SchemaError> {
        if let Some(n) = &self.name {
            check_text("name", n, limits::NAME, false)?;
            if n.trim().is_empty() {
                return Err(invalid("name", "must not be empty"));
            }
        }
        if let Some(d) = &self.description {
            check_text("description", d, limits::DESCRIPTION, true)?;
        }
        if let Some(tz) = &self.timezone {
            timezone_ok(tz)?;
        }
        if let Some(p) = &self.place {
            check_text("place", p, limits::NAME, false)?;
        }
        if let (Some(s), Some(e)) = (self.start_date, self.end_date)
            && e < s
        {
            return Err(invalid("end_date", "before start_date"));
        }
        if let Some(m) = self.day_change_minutes
            && m >= 24 * 60
        {
            return Err(invalid("day_change_minutes", "must be under 1440"));
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        *self == FestivalPatch::default()
    }
}

impl EventPatch {
    fn validate(&self) -> Result<(), SchemaError> {
        if let Some(t) = &self.title {
            check_text("title", t, limits::TITLE, false)?;
            if t.trim().is_empty() {
                return Err(invalid("title", "must not be empty"));
            }
        }
        for (name, v, max, ml) in [
            ("subtitle", &self.subtitle, limits::TITLE, false),
            ("description", &self.description, limits::DESCRIPTION, true),
            ("track", &self.track, limits::LABEL, false),
            ("kind", &self.kind, limits::LABEL, false),
            ("language", &self.language, limits::LABEL, false),
            ("source_id", &self.source_id, limits::LABEL, false),
        ] {
            if let Some(s) = v {
                check_text(name, s, max, ml)?;
            }
        }
        if let Some(t) = self.start {
            check_time("start", t)?;
        }
        if let Some(t) = self.end {
            check_time("end", t)?;
        }
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if e < s {
                return Err(invalid("end", "before start"));
            }
            if e - s > limits::MAX_EVENT_SECONDS {
                return Err(invalid("end", "event longer than a year"));
            }
        }
        if let Some(tags) = &self.tags {
            check_list("tags", tags, limits::LABEL)?;
        }
        if let Some(people) = &self.people {
            check_list("people", people, limits::NAME)?;
        }
        if let Some(links) = &self.links {
            if links.len() > limits::LINKS {
                return Err(invalid("links", format!("more than {}", limits::LINKS)));
            }
            for l in links {
                check_text("links", &l.url, limits::URL, false)?;
                check_text("links", &l.title, limits::NAME, false)?;
            }
        }
        Ok(())
    }
}

impl VenuePatch {
    fn validate(&self) -> Result<(), SchemaError> {
        if let Some(n) = &self.name {
            check_text("name", n, limits::NAME, false)?;
            if n.trim().is_empty() {
                return Err(invalid("name", "must not be empty"));
            }
        }
        if let Some(d) = &self.description {
            check_text("description", d, limits::DESCRIPTION, true)?;
        }
        if let Some(s) = &self.source_id {
            check_text("source_id", s, limits::LABEL, false)?;
        }
        if let Some(p) = self.location {
            check_geo(p)?;
        }
        Ok(())
    }
}

fn check_geo(p: GeoPoint) -> Result<(), SchemaError> {
    if p.lat_e7.unsigned_abs() > 900_000_000 || p.lon_e7.unsigned_abs() > 1_800_000_000 {
        return Err(invalid("location", "coordinates out of range"));
    }
    Ok(())
}

impl Body {
    /// The kind byte.
    pub fn kind_byte(&self) -> u8 {
        match self {
            Body::FestivalCreate(_) => BodyKind::FestivalCreate as u8,
            Body::FestivalEdit(_) => BodyKind::FestivalEdit as u8,
            Body::Venue { .. } => BodyKind::Venue as u8,
            Body::Event { .. } => BodyKind::Event as u8,
            Body::Delete { .. } => BodyKind::Delete as u8,
            Body::Announcement(_) => BodyKind::Announcement as u8,
            Body::RoleGrant { .. } => BodyKind::RoleGrant as u8,
            Body::RoleRevoke { .. } => BodyKind::RoleRevoke as u8,
            Body::Profile(_) => BodyKind::Profile as u8,
            Body::Hide { .. } => BodyKind::Hide as u8,
            Body::Moderation(_) => BodyKind::Moderation as u8,
            Body::Unknown { kind } => *kind,
        }
    }

    /// The entity this op edits, deletes or hides, if any.
    pub fn target(&self) -> Option<OpId> {
        match self {
            Body::Venue { target, .. } | Body::Event { target, .. } => *target,
            Body::Delete { target } => Some(*target),
            Body::Hide { target: HideTarget::Entity(id), .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether this op affects who holds which role, which changes how every other op counts.
    pub fn is_role_op(&self) -> bool {
        matches!(self, Body::FestivalCreate(_) | Body::RoleGrant { .. } | Body::RoleRevoke { .. })
    }

    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = FieldWriter(Writer::with_capacity(128));
        w.0.u8(self.kind_byte());
        match self {
            Body::FestivalCreate(c) => {
                w.raw(1, Some(&c.nonce));
                c.fields.encode_into(&mut w, 2);
                if let Some(f) = &c.forked_from {
                    w.raw(9, Some(f.festival.as_bytes()));
                    w.raw(10, Some(f.op.as_bytes()));
                }
            }
            Body::FestivalEdit(p) => p.encode_into(&mut w, 2),
            Body::Venue { target, patch } => {
                w.raw(1, target.as_ref().map(|t| &t.0[..]));
                w.text(2, &patch.name);
                w.text(3, &patch.description);
                if let Some(p) = patch.location {
                    let mut inner = Writer::new();
                    inner.zigzag(i64::from(p.lat_e7));
                    inner.zigzag(i64::from(p.lon_e7));
                    w.raw(4, Some(inner.as_slice()));
                }
                w.text(5, &patch.source_id);
            }
            Body::Event { target, patch: p } => {
                w.raw(1, target.as_ref().map(|t| &t.0[..]));
                w.text(2, &p.title);
                w.text(3, &p.subtitle);
                w.text(4, &p.description);
                w.int(5, p.start);
                w.int(6, p.end);
                if let Some(v) = &p.venue {
                    w.raw(7, Some(v.as_ref().map(|v| &v.0[..]).unwrap_or(&[])));
                }
                w.text(8, &p.track);
                w.text(9, &p.kind);
                w.list(10, &p.tags);
                w.list(11, &p.people);
                w.text(12, &p.language);
                if let Some(links) = &p.links {
                    let mut inner = Writer::new();
                    for l in links {
                        inner.bytes(l.url.as_bytes());
                        inner.bytes(l.title.as_bytes());
                    }
                    w.raw(13, Some(inner.as_slice()));
                }
                w.uint(14, p.cancelled.map(u64::from));
                w.text(15, &p.source_id);
            }
            Body::Delete { target } => w.raw(1, Some(target.as_bytes())),
            Body::Announcement(a) => {
                w.text(1, &Some(a.text.clone()));
                w.uint(2, Some(a.priority as u64));
                w.int(3, a.expires);
            }
            Body::RoleGrant { member, role } => {
                w.raw(1, Some(member.as_bytes()));
                w.uint(2, Some(*role as u64));
            }
            Body::RoleRevoke { member, role, after_seq } => {
                w.raw(1, Some(member.as_bytes()));
                w.uint(2, Some(*role as u64));
                w.uint(3, *after_seq);
            }
            Body::Profile(p) => {
                w.text(1, &p.display_name);
                w.text(2, &p.about);
            }
            Body::Hide { target, hidden } => {
                match target {
                    HideTarget::Entity(id) => w.raw(1, Some(id.as_bytes())),
                    HideTarget::Author(k) => w.raw(2, Some(k.as_bytes())),
                }
                w.uint(3, Some(u64::from(*hidden)));
            }
            Body::Moderation(m) => {
                w.uint(1, m.community.map(|c| c as u64));
                if !m.approve.is_empty() {
                    let keys: Vec<u8> = m.approve.iter().flat_map(|k| k.0).collect();
                    w.raw(2, Some(&keys));
                }
            }
            Body::Unknown { .. } => {}
        }
        w.0.into_vec()
    }

    /// Decodes and schema-checks a body.
    pub fn decode(bytes: &[u8]) -> Result<Body, SchemaError> {
        let (&kind, rest) = bytes.split_first().ok_or(SchemaError::Empty)?;
        let mut fields = Fields::new(rest);
        let body = match kind {
            1 => {
                let mut nonce = None;
                let mut patch = FestivalPatch::default();
                let (mut fork_festival, mut fork_op) = (None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => nonce = Some(v.try_into().map_err(|_| invalid("nonce", "expected 16 bytes"))?),
                        9 => fork_festival = Some(FestivalId(id32("forked_from", v)?)),
                        10 => fork_op = Some(OpId(id32("forked_from_op", v)?)),
                        _ => {
                            patch.decode_field(no, 2, v)?;
                        }
                    }
                }
                let forked_from = match (fork_festival, fork_op) {
                    (Some(festival), Some(op)) => Some(ForkRef { festival, op }),
                    (None, None) => None,
                    _ => return Err(invalid("forked_from", "needs both festival and op")),
                };
                Body::FestivalCreate(FestivalCreate {
                    nonce: nonce.ok_or(SchemaError::Missing("nonce"))?,
                    fields: patch,
                    forked_from,
                })
            }
            2 => {
                let mut patch = FestivalPatch::default();
                while let Some((no, v)) = fields.next_field()? {
                    patch.decode_field(no, 2, v)?;
                }
                Body::FestivalEdit(patch)
            }
            3 => {
                let (mut target, mut patch) = (None, VenuePatch::default());
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => target = Some(OpId(id32("target", v)?)),
                        2 => patch.name = Some(text("name", v, limits::NAME, false)?),
                        3 => patch.description = Some(text("description", v, limits::DESCRIPTION, true)?),
                        4 => {
                            let mut r = Reader::new(v);
                            let lat = r.zigzag()?;
                            let lon = r.zigzag()?;
                            r.finish()?;
                            let p = GeoPoint {
                                lat_e7: i32::try_from(lat).map_err(|_| invalid("location", "latitude out of range"))?,
                                lon_e7: i32::try_from(lon)
                                    .map_err(|_| invalid("location", "longitude out of range"))?,
                            };
                            patch.location = Some(p);
                        }
                        5 => patch.source_id = Some(text("source_id", v, limits::LABEL, false)?),
                        _ => {}
                    }
                }
                Body::Venue { target, patch }
            }
            4 => {
                let (mut target, mut p) = (None, EventPatch::default());
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => target = Some(OpId(id32("target", v)?)),
                        2 => p.title = Some(text("title", v, limits::TITLE, false)?),
                        3 => p.subtitle = Some(text("subtitle", v, limits::TITLE, false)?),
                        4 => p.description = Some(text("description", v, limits::DESCRIPTION, true)?),
                        5 => p.start = Some(time("start", v)?),
                        6 => p.end = Some(time("end", v)?),
                        7 => p.venue = Some(if v.is_empty() { None } else { Some(OpId(id32("venue", v)?)) }),
                        8 => p.track = Some(text("track", v, limits::LABEL, false)?),
                        9 => p.kind = Some(text("kind", v, limits::LABEL, false)?),
                        10 => p.tags = Some(string_list("tags", v, limits::LABEL)?),
                        11 => p.people = Some(string_list("people", v, limits::NAME)?),
                        12 => p.language = Some(text("language", v, limits::LABEL, false)?),
                        13 => {
                            let mut r = Reader::new(v);
                            let mut links = Vec::new();
                            while !r.is_at_end() {
                                if links.len() == limits::LINKS {
                                    return Err(invalid("links", format!("more than {}", limits::LINKS)));
                                }
                                let url = text("links", r.bytes()?, limits::URL, false)?;
                                let title = text("links", r.bytes()?, limits::NAME, false)?;
                                links.push(Link { url, title });
                            }
                            p.links = Some(links);
                        }
                        14 => p.cancelled = Some(flag("cancelled", v)?),
                        15 => p.source_id = Some(text("source_id", v, limits::LABEL, false)?),
                        _ => {}
                    }
                }
                Body::Event { target, patch: p }
            }
            5 => {
                let mut target = None;
                while let Some((no, v)) = fields.next_field()? {
                    if no == 1 {
                        target = Some(OpId(id32("target", v)?));
                    }
                }
                Body::Delete { target: target.ok_or(SchemaError::Missing("target"))? }
            }
            6 => {
                let (mut t, mut pr, mut ex) = (None, Priority::Normal, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => t = Some(text("text", v, limits::ANNOUNCEMENT, true)?),
                        2 => {
                            pr = Priority::from_u64(read_varint_exact(v)?)
                                .ok_or_else(|| invalid("priority", "unknown priority"))?
                        }
                        3 => ex = Some(time("expires", v)?),
                        _ => {}
                    }
                }
                Body::Announcement(Announcement {
                    text: t.ok_or(SchemaError::Missing("text"))?,
                    priority: pr,
                    expires: ex,
                })
            }
            7 | 8 => {
                let (mut member, mut role, mut after_seq) = (None, None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => member = Some(PublicKey(id32("member", v)?)),
                        2 => match read_varint_exact(v)? {
                            1 => role = Some(Role::Organiser),
                            _ => return Err(invalid("role", "unknown role")),
                        },
                        3 if kind == 8 => after_seq = Some(read_varint_exact(v)?),
                        _ => {}
                    }
                }
                let member = member.ok_or(SchemaError::Missing("member"))?;
                let role = role.ok_or(SchemaError::Missing("role"))?;
                if kind == 7 { Body::RoleGrant { member, role } } else { Body::RoleRevoke { member, role, after_seq } }
            }
            9 => {
                let mut p = ProfilePatch::default();
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => p.display_name = Some(text("display_name", v, limits::NAME, false)?),
                        2 => p.about = Some(text("about", v, limits::DESCRIPTION, true)?),
                        _ => {}
                    }
                }
                Body::Profile(p)
            }
            10 => {
                let (mut target, mut hidden) = (None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 | 2 if target.is_some() => {
                            return Err(invalid("target", "names both an entity and an author"));
                        }
                        1 => target = Some(HideTarget::Entity(OpId(id32("target", v)?))),
                        2 => target = Some(HideTarget::Author(PublicKey(id32("author", v)?))),
                        3 => hidden = Some(flag("hidden", v)?),
                        _ => {}
                    }
                }
                Body::Hide {
                    target: target.ok_or(SchemaError::Missing("target"))?,
                    hidden: hidden.ok_or(SchemaError::Missing("hidden"))?,
                }
            }
            11 => {
                let mut m = Moderation::default();
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        1 => {
                            m.community = Some(match read_varint_exact(v)? {
                                0 => CommunityMode::Open,
                                1 => CommunityMode::Approved,
                                _ => return Err(invalid("community", "unknown community mode")),
                            })
                        }
                        2 => {
                            if v.len() % 32 != 0 || v.len() / 32 > limits::APPROVALS {
                                return Err(invalid("approve", "expected up to 400 keys of 32 bytes"));
                            }
                            m.approve = v
                                .chunks_exact(32)
                                .map(|c| id32("approve", c).map(PublicKey))
                                .collect::<Result<_, _>>()?;
                        }
                        _ => {}
                    }
                }
                Body::Moderation(m)
            }
            0 => return Err(invalid("kind", "kind 0 is reserved")),
            other => {
                // Walk the record anyway so that malformed unknown bodies are still rejected.
                while fields.next_field()?.is_some() {}
                Body::Unknown { kind: other }
            }
        };
        body.validate()?;
        Ok(body)
    }

    /// Checks the rules that both freshly made and received bodies must follow.
    pub fn validate(&self) -> Result<(), SchemaError> {
        match self {
            Body::FestivalCreate(c) => {
                c.fields.validate()?;
                let f = &c.fields;
                f.name.as_ref().ok_or(SchemaError::Missing("name"))?;
                f.timezone.as_ref().ok_or(SchemaError::Missing("timezone"))?;
                f.start_date.ok_or(SchemaError::Missing("start_date"))?;
                f.end_date.ok_or(SchemaError::Missing("end_date"))?;
            }
            Body::FestivalEdit(p) => {
                p.validate()?;
                if p.is_empty() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Venue { target, patch } => {
                patch.validate()?;
                if target.is_none() && patch.name.is_none() {
                    return Err(SchemaError::Missing("name"));
                }
                if target.is_some() && *patch == VenuePatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Event { target, patch } => {
                patch.validate()?;
                if target.is_none() {
                    patch.title.as_ref().ok_or(SchemaError::Missing("title"))?;
                    patch.start.ok_or(SchemaError::Missing("start"))?;
                    patch.end.ok_or(SchemaError::Missing("end"))?;
                } else if *patch == EventPatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Announcement(a) => {
                check_text("text", &a.text, limits::ANNOUNCEMENT, true)?;
                if a.text.trim().is_empty() {
                    return Err(invalid("text", "must not be empty"));
                }
                if let Some(e) = a.expires {
                    check_time("expires", e)?;
                }
            }
            Body::Profile(p) => {
                if let Some(n) = &p.display_name {
                    check_text("display_name", n, limits::NAME, false)?;
                }
                if let Some(a) = &p.about {
                    check_text("about", a, limits::DESCRIPTION, true)?;
                }
                if *p == ProfilePatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Moderation(m) => {
                if m.community.is_none() && m.approve.is_empty() {
                    return Err(SchemaError::EmptyPatch);
                }
                if m.approve.len() > limits::APPROVALS {
                    return Err(invalid("approve", format!("more than {} keys", limits::APPROVALS)));
                }
                // One canonical encoding per rule: keys strictly increasing.
                if m.approve.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(invalid("approve", "keys must be sorted and unique"));
                }
            }
            Body::Delete { .. }
            | Body::RoleGrant { .. }
            | Body::RoleRevoke { .. }
            | Body::Hide { .. }
            | Body::Unknown { .. } => {}
        }
        Ok(())
    }
}
