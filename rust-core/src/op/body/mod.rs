//! Op bodies: one kind byte, then a TLV record of fields in increasing field number. Unknown field
//! numbers are skipped and unknown kinds are kept inert, so that a newer client's ops still chain
//! in an older client's logs.

use jiff::civil::Date;
use thiserror::Error;

use super::{FestivalId, OpId};
use crate::identity::PublicKey;
use crate::wire::{Fields, Reader, WireError, Writer, read_varint_exact, read_zigzag_exact};

mod codec;
mod fields;
mod validate;

use fields::*;
use validate::*;

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
    /// Largest source number of an event: what a signed 32-bit integer holds, as schedule apps
    /// read event ids.
    pub const MAX_SOURCE_NUMBER: u32 = i32::MAX as u32;
    /// Largest venue position (far more rooms than any schedule has).
    pub const MAX_POSITION: u32 = 1_000_000;
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct GeoPoint {
    /// Latitude, -900000000..=900000000.
    pub lat_e7: i32,
    /// Longitude, -1800000000..=1800000000.
    pub lon_e7: i32,
}

/// A link attached to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
// Apps know it as `EventLink`: their `Link` is a native radio link.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "EventLink"))]
pub struct Link {
    /// The URL.
    pub url: String,
    /// What the link is, for display.
    pub title: String,
}

/// Where a forked festival came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    /// Where the venue stands in its schedule's room order (imported rooms keep their source's
    /// order, so that schedule apps' columns do not move); venues without one follow, by name.
    pub position: Option<u32>,
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
    /// The event's own web page (a schedule's `<url>`), apart from its other links.
    pub url: Option<String>,
    /// The numeric id the event has in an imported schedule, `1..=MAX_SOURCE_NUMBER`: the feeds
    /// give it to apps again, so favourites made on the official feed keep working.
    pub source_number: Option<u32>,
    /// The people on stage asked not to be recorded.
    pub do_not_record: Option<bool>,
    /// The licence recordings are published under.
    pub recording_license: Option<String>,
}

/// How loudly an announcement should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
// An event body is twice the size of the next largest; most ops are events, so boxing it would
// add an allocation to most ops to save memory on the few others.
#[allow(clippy::large_enum_variant)]
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
    /// A crew op (extension kinds 12 to 15): inert in the programme, read by crew members only.
    Crew(crate::crew::ops::CrewBody),
    /// A kind this version does not know: stored and passed on, but without effect.
    Unknown {
        /// The kind byte.
        kind: u8,
    },
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
            Body::Crew(c) => c.kind(),
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
}
