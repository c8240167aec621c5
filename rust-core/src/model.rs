//! The festival model and the rules by which ops fold into it. Everything here is pure: the store
//! persists these states and calls these rules, so that every device folds the same ops the same
//! way whatever order they arrived in.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::identity::PublicKey;
use crate::op::{EventPatch, FestivalPatch, GeoPoint, Link, Op, OpId, Role, VenuePatch};

/// How many community events one author may create per (UTC) day of event start in a festival;
/// creations past the cap, counted in the author's log order, have no effect.
pub const COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY: u64 = 20;

/// The stamp of a write, by which concurrent writes to one field are ordered: Lamport clock, then
/// author key. Wall clocks never take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Lamport clock of the op.
    pub lamport: u64,
    /// Its author.
    pub author: PublicKey,
}

impl Stamp {
    /// The stamp of `op`.
    pub fn of(op: &Op) -> Self {
        Stamp { lamport: op.lamport(), author: op.author() }
    }
}

/// Per-field last-writer-wins stamps for an entity with `N` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldStamps<const N: usize>(pub [Option<Stamp>; N]);

impl<const N: usize> Default for FieldStamps<N> {
    fn default() -> Self {
        Self([None; N])
    }
}

impl<const N: usize> FieldStamps<N> {
    /// Whether a write stamped `s` to field `i` wins, and if so records it.
    pub fn take(&mut self, i: usize, s: Stamp) -> bool {
        match self.0[i] {
            Some(cur) if cur >= s => false,
            _ => {
                self.0[i] = Some(s);
                true
            }
        }
    }

    /// Writes `value` (if given) into `field` when a write stamped `s` to field `i` wins; returns
    /// whether the field's value changed.
    pub fn merge<T: PartialEq + Clone>(&mut self, i: usize, s: Stamp, value: &Option<T>, field: &mut T) -> bool {
        match value {
            Some(v) if self.take(i, s) && field != v => {
                *field = v.clone();
                true
            }
            _ => false,
        }
    }

    /// Compact internal encoding: distinct stamps, then one index byte per field (0xff = unset).
    pub fn encode(&self) -> Vec<u8> {
        let mut distinct: Vec<Stamp> = Vec::new();
        let mut idx = Vec::with_capacity(N);
        for s in &self.0 {
            match s {
                None => idx.push(0xff),
                Some(s) => {
                    let i = distinct.iter().position(|d| d == s).unwrap_or_else(|| {
                        distinct.push(*s);
                        distinct.len() - 1
                    });
                    idx.push(i as u8);
                }
            }
        }
        let mut out = Vec::with_capacity(1 + distinct.len() * 40 + N);
        out.push(distinct.len() as u8);
        for d in &distinct {
            out.extend_from_slice(&d.lamport.to_le_bytes());
            out.extend_from_slice(d.author.as_bytes());
        }
        out.extend_from_slice(&idx);
        out
    }

    /// Decodes [`FieldStamps::encode`]; `None` if the bytes were not written by it.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let n = *b.first()? as usize;
        let stamps_end = 1 + n * 40;
        if b.len() != stamps_end + N {
            return None;
        }
        let mut distinct = Vec::with_capacity(n);
        for c in b[1..stamps_end].chunks_exact(40) {
            let lamport = u64::from_le_bytes(c[..8].try_into().ok()?);
            let author = PublicKey(c[8..].try_into().ok()?);
            distinct.push(Stamp { lamport, author });
        }
        let mut out = Self::default();
        for (i, &ix) in b[stamps_end..].iter().enumerate() {
            if ix != 0xff {
                out.0[i] = Some(*distinct.get(ix as usize)?);
            }
        }
        Some(out)
    }
}

/// A member's standing in a festival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// An organiser: their ops are official.
    Organiser,
    /// A former organiser: their ops up to `after_seq` stay official.
    Revoked {
        /// Last sequence number that stays official.
        after_seq: Option<u64>,
    },
}

/// A role op as the role fold needs it.
#[derive(Debug, Clone)]
pub struct RoleOp {
    /// Order key of the op.
    pub stamp: Stamp,
    /// Op id, the last tie-breaker.
    pub id: OpId,
    /// Who issued it.
    pub issuer: PublicKey,
    /// Whom it concerns.
    pub member: PublicKey,
    /// Grant (`None`) or revoke with the member's last official seq.
    pub revoke: Option<Option<u64>>,
}

/// Who holds which role in a festival, derived from its creation op and every role op.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// The creator, once its creation op is known.
    pub owner: Option<PublicKey>,
    /// Organisers and former organisers.
    pub members: BTreeMap<PublicKey, MemberStatus>,
}

impl Roles {
    /// Folds role ops in their total order; each op counts only if its issuer held authority at
    /// that point in the order, which makes the result independent of arrival order.
    pub fn compute(owner: Option<PublicKey>, mut ops: Vec<RoleOp>) -> Roles {
        ops.sort_by_key(|o| (o.stamp, o.id));
        let mut roles = Roles { owner, members: BTreeMap::new() };
        for o in ops {
            if !roles.has_authority(&o.issuer) || Some(o.member) == roles.owner {
                continue;
            }
            let status = match o.revoke {
                None => MemberStatus::Organiser,
                Some(after_seq) => MemberStatus::Revoked { after_seq },
            };
            roles.members.insert(o.member, status);
        }
        roles
    }

    /// Whether `key` may currently name or remove organisers and hide content.
    pub fn has_authority(&self, key: &PublicKey) -> bool {
        Some(*key) == self.owner || matches!(self.members.get(key), Some(MemberStatus::Organiser))
    }

    /// Whether the op at `seq` of `author`'s log counts as official.
    pub fn is_official(&self, author: &PublicKey, seq: u64) -> bool {
        if Some(*author) == self.owner {
            return true;
        }
        match self.members.get(author) {
            Some(MemberStatus::Organiser) => true,
            Some(MemberStatus::Revoked { after_seq: Some(last) }) => seq <= *last,
            _ => false,
        }
    }

    /// Current organisers (owner excluded).
    pub fn organisers(&self) -> Vec<PublicKey> {
        self.members.iter().filter(|(_, s)| matches!(s, MemberStatus::Organiser)).map(|(k, _)| *k).collect()
    }
}

/// Whether `editor` (at `seq` in its log) may change or delete an entity made by `creator`:
/// creators edit their own, official authors edit anything.
pub fn may_edit(roles: &Roles, creator: &PublicKey, editor: &PublicKey, seq: u64) -> bool {
    creator == editor || roles.is_official(editor, seq)
}

/// Whether a role op is about the organiser role (the only one so far).
pub fn is_organiser(role: Role) -> bool {
    role == Role::Organiser
}

/// Festival state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FestivalState {
    /// Festival name.
    pub name: String,
    /// Description.
    pub description: String,
    /// IANA time zone name.
    pub timezone: String,
    /// First day.
    pub start_date: Date,
    /// Last day.
    pub end_date: Date,
    /// Place.
    pub place: String,
    /// Minutes after midnight at which the festival day changes.
    pub day_change_minutes: u16,
    /// Field stamps.
    pub stamps: FieldStamps<7>,
}

impl FestivalState {
    /// Merges a patch stamped `s`; returns whether any write won (the state must be stored).
    pub fn apply(&mut self, s: Stamp, p: &FestivalPatch) -> bool {
        let before = self.stamps.clone();
        let st = &mut self.stamps;
        st.merge(0, s, &p.name, &mut self.name);
        st.merge(1, s, &p.description, &mut self.description);
        st.merge(2, s, &p.timezone, &mut self.timezone);
        st.merge(3, s, &p.start_date, &mut self.start_date);
        st.merge(4, s, &p.end_date, &mut self.end_date);
        st.merge(5, s, &p.place, &mut self.place);
        st.merge(6, s, &p.day_change_minutes, &mut self.day_change_minutes);
        self.stamps != before
    }

    /// The festival's time zone; UTC when the name is unknown to this device's tz database.
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC)
    }
}

/// The festival day an instant belongs to, honouring the day-change time.
pub fn festival_day(tz: &TimeZone, day_change_minutes: u16, unix_seconds: i64) -> Date {
    let shifted = unix_seconds - i64::from(day_change_minutes) * 60;
    match jiff::Timestamp::from_second(shifted) {
        Ok(ts) => ts.to_zoned_datetime(tz.clone()).date(),
        Err(_) => Date::constant(1970, 1, 1),
    }
}

/// Venue state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueState {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Position.
    pub location: Option<GeoPoint>,
    /// Id in an imported schedule.
    pub source_id: String,
    /// Field stamps.
    pub stamps: FieldStamps<4>,
}

impl VenueState {
    /// Merges a patch stamped `s`; returns whether any write won (the state must be stored).
    pub fn apply(&mut self, s: Stamp, p: &VenuePatch) -> bool {
        let before = self.stamps.clone();
        let st = &mut self.stamps;
        st.merge(0, s, &p.name, &mut self.name);
        st.merge(1, s, &p.description, &mut self.description);
        st.merge(2, s, &p.location.map(Some), &mut self.location);
        st.merge(3, s, &p.source_id, &mut self.source_id);
        self.stamps != before
    }
}

/// Event state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventState {
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Description.
    pub description: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds (never before start once merged).
    pub end: i64,
    /// Venue.
    pub venue: Option<OpId>,
    /// Track.
    pub track: String,
    /// Kind.
    pub kind: String,
    /// Tags.
    pub tags: Vec<String>,
    /// People.
    pub people: Vec<String>,
    /// Language.
    pub language: String,
    /// Links.
    pub links: Vec<Link>,
    /// Cancelled.
    pub cancelled: bool,
    /// Id in an imported schedule.
    pub source_id: String,
    /// Field stamps.
    pub stamps: FieldStamps<14>,
}

/// What a merge changed in an event, for the "what changed" view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventChange {
    /// Start, end or venue changed.
    pub moved: bool,
    /// The cancelled flag changed.
    pub cancellation: bool,
    /// A searchable text field changed (title, subtitle, description, track, tags, people).
    pub text: bool,
    /// Anything changed.
    pub any: bool,
    /// Some write won, so the stamps changed and must be stored, even if no value did: a later
    /// write that loses to it must still lose after a restart.
    pub won: bool,
}

impl EventState {
    /// Merges a patch stamped `s`.
    pub fn apply(&mut self, s: Stamp, p: &EventPatch) -> EventChange {
        let before = self.stamps.clone();
        let st = &mut self.stamps;
        let text = [
            st.merge(0, s, &p.title, &mut self.title),
            st.merge(1, s, &p.subtitle, &mut self.subtitle),
            st.merge(2, s, &p.description, &mut self.description),
            st.merge(6, s, &p.track, &mut self.track),
            st.merge(8, s, &p.tags, &mut self.tags),
            st.merge(9, s, &p.people, &mut self.people),
        ];
        let moved = [
            st.merge(3, s, &p.start, &mut self.start),
            st.merge(4, s, &p.end, &mut self.end),
            st.merge(5, s, &p.venue, &mut self.venue),
        ];
        let cancellation = st.merge(12, s, &p.cancelled, &mut self.cancelled);
        let other = [
            st.merge(7, s, &p.kind, &mut self.kind),
            st.merge(10, s, &p.language, &mut self.language),
            st.merge(11, s, &p.links, &mut self.links),
            st.merge(13, s, &p.source_id, &mut self.source_id),
        ];
        let text = text.contains(&true);
        let moved = moved.contains(&true);
        let any = text || moved || cancellation || other.contains(&true);
        EventChange { moved, cancellation, text, any, won: self.stamps != before }
    }

    /// End as shown: a later edit of only the start may leave the stored end before it.
    pub fn effective_end(&self) -> i64 {
        self.end.max(self.start)
    }
}

/// Profile state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileState {
    /// Display name.
    pub display_name: String,
    /// About.
    pub about: String,
    /// Field stamps.
    pub stamps: FieldStamps<2>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    fn key(n: u64) -> PublicKey {
        Identity::from_seed(n).public()
    }

    fn role_op(lamport: u64, issuer: u64, member: u64, revoke: Option<Option<u64>>) -> RoleOp {
        RoleOp {
            stamp: Stamp { lamport, author: key(issuer) },
            id: OpId([lamport as u8; 32]),
            issuer: key(issuer),
            member: key(member),
            revoke,
        }
    }

    #[test]
    fn stamps_round_trip() {
        let mut s = FieldStamps::<5>::default();
        s.take(0, Stamp { lamport: 3, author: key(1) });
        s.take(2, Stamp { lamport: 3, author: key(1) });
        s.take(4, Stamp { lamport: 9, author: key(2) });
        assert_eq!(FieldStamps::<5>::decode(&s.encode()), Some(s.clone()));
        assert_eq!(FieldStamps::<4>::decode(&s.encode()), None);
    }

    #[test]
    fn later_stamp_wins_whatever_the_order() {
        let a = Stamp { lamport: 5, author: key(1) };
        let b = Stamp { lamport: 5, author: key(2) };
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let patch = |t: &str| EventPatch { title: Some(t.into()), ..Default::default() };
        let mut x = EventState::default();
        x.apply(hi, &patch("hi"));
        x.apply(lo, &patch("lo"));
        let mut y = EventState::default();
        y.apply(lo, &patch("lo"));
        y.apply(hi, &patch("hi"));
        assert_eq!(x, y);
        assert_eq!(x.title, "hi");
    }

    #[test]
    fn a_winning_write_of_the_same_value_still_advances_the_stamp() {
        let lo = Stamp { lamport: 7, author: key(1) };
        let hi = Stamp { lamport: 9, author: key(1) };
        let patch = |t: &str| EventPatch { title: Some(t.into()), ..Default::default() };
        let mut x = EventState { title: "A".into(), ..Default::default() };
        x.stamps.take(0, Stamp { lamport: 5, author: key(1) });
        let c = x.apply(hi, &patch("A"));
        assert!(c.won && !c.any);
        x.apply(lo, &patch("B"));
        assert_eq!(x.title, "A");
    }

    #[test]
    fn roles_need_authority_at_their_point_in_the_order() {
        let owner = key(0);
        // 2 grants 3 before 2 is an organiser: no effect. Owner grants 2 later.
        let ops = vec![role_op(1, 2, 3, None), role_op(2, 0, 2, None)];
        let r = Roles::compute(Some(owner), ops);
        assert!(r.is_official(&key(2), 0));
        assert!(!r.is_official(&key(3), 0));
        // Revocation keeps ops up to after_seq official.
        let ops = vec![role_op(1, 0, 2, None), role_op(4, 0, 2, Some(Some(7)))];
        let r = Roles::compute(Some(owner), ops);
        assert!(r.is_official(&key(2), 7));
        assert!(!r.is_official(&key(2), 8));
        assert!(!r.has_authority(&key(2)));
        // Nobody can revoke the owner.
        let r = Roles::compute(Some(owner), vec![role_op(1, 0, 2, None), role_op(2, 2, 0, Some(None))]);
        assert!(r.is_official(&owner, 100));
    }

    #[test]
    fn day_change_moves_late_events_to_the_previous_day() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        // 2026-07-11 01:30 in Berlin (UTC+2) is 2026-07-10 23:30 UTC.
        let t = jiff::civil::date(2026, 7, 11).at(1, 30, 0, 0).to_zoned_datetime(tz.clone()).expect("zoned");
        let secs = t.timestamp().as_second();
        assert_eq!(festival_day(&tz, 0, secs), Date::constant(2026, 7, 11));
        assert_eq!(festival_day(&tz, 240, secs), Date::constant(2026, 7, 10));
    }
}
