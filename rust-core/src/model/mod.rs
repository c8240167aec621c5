//! The festival model and the rules by which ops fold into it. Everything here is pure: the store
//! persists these states and calls these rules, so that every device folds the same ops the same
//! way whatever order they arrived in.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::identity::PublicKey;
use crate::op::{EventPatch, FestivalPatch, GeoPoint, Link, Op, OpId, Role, VenuePatch};

mod roles;

pub use roles::{MemberStatus, RoleOp, Roles, is_organiser, may_edit};

/// How many community events one author may create per (UTC) day of event start in a festival;
/// creations past the cap, counted in the author's log order, have no effect.
pub const COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY: u64 = 20;
/// How many community events one author may create in a festival in all, counted the same way:
/// since an author may move their own events, this is what bounds how many can pile up on one
/// day.
pub const COMMUNITY_EVENTS_PER_AUTHOR: u64 = 40;

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

    /// Decodes [`FieldStamps::encode`]; `None` if the bytes were not written by it. Stamps
    /// written when the entity had fewer fields decode with the newer fields unset.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let n = *b.first()? as usize;
        let stamps_end = 1 + n * 40;
        if b.len() < stamps_end || b.len() - stamps_end > N {
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

/// A festival's own fields, as its creator sets them and its organisers edit them: the one list
/// that the fold's state, a new festival and the festival as shown all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FestivalFields {
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
}

impl FestivalFields {
    /// A festival with a name, a zone and its days, everything else as a new festival starts:
    /// no description or place, days changing at midnight (all editable later).
    pub fn new(name: String, timezone: String, start_date: Date, end_date: Date) -> Self {
        FestivalFields {
            name,
            description: String::new(),
            timezone,
            start_date,
            end_date,
            place: String::new(),
            day_change_minutes: 0,
        }
    }

    /// Every field as a patch that sets it, as a festival's creation op carries them.
    pub fn into_patch(self) -> FestivalPatch {
        FestivalPatch {
            name: Some(self.name),
            description: Some(self.description),
            timezone: Some(self.timezone),
            start_date: Some(self.start_date),
            end_date: Some(self.end_date),
            place: Some(self.place),
            day_change_minutes: Some(self.day_change_minutes),
        }
    }

    /// The festival's time zone; UTC when the name is unknown to this device's tz database.
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC)
    }
}

/// Festival state: its fields and when each was last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FestivalState {
    /// The fields.
    pub fields: FestivalFields,
    /// Field stamps.
    pub stamps: FieldStamps<7>,
}

impl FestivalState {
    /// The state before a creation op set anything (its stamps lose to every write).
    pub fn empty() -> Self {
        let epoch = Date::constant(1970, 1, 1);
        FestivalState {
            fields: FestivalFields::new(String::new(), "UTC".into(), epoch, epoch),
            stamps: FieldStamps::default(),
        }
    }

    /// Merges a patch stamped `s`; returns whether any write won (the state must be stored).
    pub fn apply(&mut self, s: Stamp, p: &FestivalPatch) -> bool {
        let before = self.stamps.clone();
        let (st, f) = (&mut self.stamps, &mut self.fields);
        st.merge(0, s, &p.name, &mut f.name);
        st.merge(1, s, &p.description, &mut f.description);
        st.merge(2, s, &p.timezone, &mut f.timezone);
        st.merge(3, s, &p.start_date, &mut f.start_date);
        st.merge(4, s, &p.end_date, &mut f.end_date);
        st.merge(5, s, &p.place, &mut f.place);
        st.merge(6, s, &p.day_change_minutes, &mut f.day_change_minutes);
        self.stamps != before
    }

    /// The festival's time zone; UTC when the name is unknown to this device's tz database.
    pub fn tz(&self) -> TimeZone {
        self.fields.tz()
    }
}

/// A festival's moderation as far as what shows needs it: whether only approved authors'
/// community ops show, who is approved, who is hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderation {
    /// Only approved authors' community ops show.
    pub approved_only: bool,
    /// Approved authors (read only when `approved_only`).
    pub approved: HashSet<PublicKey>,
    /// Hidden authors.
    pub hidden: HashSet<PublicKey>,
}

impl Moderation {
    /// Whether the festival shows community content by `author` at all.
    pub fn shows(&self, author: &PublicKey) -> bool {
        !self.hidden.contains(author) && (!self.approved_only || self.approved.contains(author))
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
    /// Place in the schedule's room order.
    pub position: Option<u32>,
    /// Field stamps.
    pub stamps: FieldStamps<5>,
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
        st.merge(4, s, &p.position.map(Some), &mut self.position);
        self.stamps != before
    }
}

/// How many fields an event's state stamps.
pub const EVENT_FIELDS: usize = 18;

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
    /// The event's own web page.
    pub url: String,
    /// Numeric id in an imported schedule.
    pub source_number: Option<u32>,
    /// Not to be recorded.
    pub do_not_record: bool,
    /// Licence of recordings.
    pub recording_license: String,
    /// Field stamps.
    pub stamps: FieldStamps<EVENT_FIELDS>,
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
            st.merge(14, s, &p.url, &mut self.url),
            st.merge(15, s, &p.source_number.map(Some), &mut self.source_number),
            st.merge(16, s, &p.do_not_record, &mut self.do_not_record),
            st.merge(17, s, &p.recording_license, &mut self.recording_license),
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

    /// A role op by `issuer` at position `seq` of its log, with clock `lamport`.
    fn role_op(lamport: u64, issuer: u64, seq: u64, member: u64, revoke: Option<Option<u64>>) -> RoleOp {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&lamport.to_be_bytes());
        id[8..16].copy_from_slice(&issuer.to_be_bytes());
        id[16..24].copy_from_slice(&seq.to_be_bytes());
        RoleOp {
            stamp: Stamp { lamport, author: key(issuer) },
            id: OpId(id),
            issuer: key(issuer),
            seq,
            member: key(member),
            revoke,
        }
    }

    fn grant(lamport: u64, issuer: u64, seq: u64, member: u64) -> RoleOp {
        role_op(lamport, issuer, seq, member, None)
    }

    fn revoke(lamport: u64, issuer: u64, seq: u64, member: u64, after: Option<u64>) -> RoleOp {
        role_op(lamport, issuer, seq, member, Some(after))
    }

    #[test]
    fn stamps_round_trip() {
        let mut s = FieldStamps::<5>::default();
        s.take(0, Stamp { lamport: 3, author: key(1) });
        s.take(2, Stamp { lamport: 3, author: key(1) });
        s.take(4, Stamp { lamport: 9, author: key(2) });
        assert_eq!(FieldStamps::<5>::decode(&s.encode()), Some(s.clone()));
        assert_eq!(FieldStamps::<4>::decode(&s.encode()), None);
        // Stamps stored before an entity gained fields read with the new fields unset.
        let wider = FieldStamps::<7>::decode(&s.encode()).expect("fewer fields decode");
        assert_eq!(wider.0[..5], s.0[..]);
        assert_eq!(wider.0[5..], [None, None]);
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
    fn revocation_keeps_ops_up_to_its_cut_and_nobody_revokes_the_owner() {
        let owner = key(0);
        let r = Roles::compute(Some(owner), vec![grant(1, 0, 1, 2), revoke(4, 0, 2, 2, Some(7))]);
        assert!(r.is_official(&key(2), 7));
        assert!(!r.is_official(&key(2), 8));
        assert!(!r.has_authority(&key(2)));
        let r = Roles::compute(Some(owner), vec![grant(1, 0, 1, 2), revoke(2, 2, 0, 0, None)]);
        assert!(r.is_official(&owner, 100));
        assert!(r.has_authority(&key(2)));
        // Without a known owner nobody has authority.
        assert!(!Roles::compute(None, vec![grant(1, 0, 1, 2)]).is_official(&key(2), 0));
    }

    #[test]
    fn a_grant_counts_for_the_members_whole_log() {
        // Like any op of a member, a grant made before its issuer was named counts once they are.
        let r = Roles::compute(Some(key(0)), vec![grant(1, 2, 0, 3), grant(2, 0, 1, 2)]);
        assert!(r.is_official(&key(3), 0));
    }

    #[test]
    fn a_revoked_organiser_cannot_name_anybody_by_backdating() {
        // The owner names 2 and removes them after their op 1; 2 then signs (as op 2) a grant to
        // a sock puppet 9 with a clock far below the revocation's.
        let ops = vec![grant(10, 0, 1, 2), revoke(50, 0, 2, 2, Some(1)), grant(11, 2, 2, 9)];
        let r = Roles::compute(Some(key(0)), ops);
        assert!(!r.is_official(&key(9), 0), "{r:?}");
        assert!(!r.has_authority(&key(2)));
        // The same grant made before the cut (op 1) stands: it was made with authority.
        let ops = vec![grant(10, 0, 1, 2), grant(11, 2, 1, 9), revoke(50, 0, 2, 2, Some(1))];
        assert!(Roles::compute(Some(key(0)), ops).has_authority(&key(9)));
    }

    #[test]
    fn a_removed_organiser_cannot_remove_a_bystander() {
        // Owner names 2, 3 and 4. Organiser 3 removes 2 (cut after 2's op 0). 2 then signs, as
        // op 1, a revocation of 4 with a clock far below that of its own removal.
        let ops = vec![
            grant(1, 0, 1, 2),
            grant(2, 0, 2, 3),
            grant(3, 0, 3, 4),
            revoke(40, 3, 0, 2, Some(0)),
            revoke(5, 2, 1, 4, None),
        ];
        let r = Roles::compute(Some(key(0)), ops);
        assert!(r.has_authority(&key(4)), "a bystander keeps the role: {r:?}");
        assert!(r.has_authority(&key(3)) && !r.has_authority(&key(2)), "{r:?}");
    }

    #[test]
    fn hundreds_of_revocations_that_cut_each_other_settle_in_linear_memory() {
        // Organisers 2 and 3 each sign the most revocations a log may hold, all of the other.
        let n = crate::op::rules::MAX_REVOCATIONS_PER_LOG;
        let mut ops = vec![grant(1, 0, 0, 2), grant(2, 0, 1, 3), grant(3, 0, 2, 4)];
        for i in 0..n {
            ops.push(revoke(10 + 2 * i, 2, i, 3, None));
            ops.push(revoke(11 + 2 * i, 3, i, 2, None));
        }
        let r = Roles::compute(Some(key(0)), ops);
        assert!(!r.has_authority(&key(2)) && !r.has_authority(&key(3)), "{r:?}");
        assert!(r.has_authority(&key(4)), "a bystander keeps the role");
    }

    #[test]
    fn revocations_in_a_ring_stand_unless_a_standing_one_cuts_into_it() {
        // 2 revokes 3, 3 revokes 4, 4 revokes 2, each past the others' cuts: concurrent, all
        // three stand.
        let names = vec![grant(1, 0, 1, 2), grant(2, 0, 2, 3), grant(3, 0, 3, 4), grant(4, 0, 4, 5)];
        let ring = vec![revoke(10, 2, 1, 3, Some(0)), revoke(11, 3, 1, 4, Some(0)), revoke(12, 4, 1, 2, Some(0))];
        let r = Roles::compute(Some(key(0)), [names.clone(), ring.clone()].concat());
        assert!(!r.has_authority(&key(2)) && !r.has_authority(&key(3)) && !r.has_authority(&key(4)), "{r:?}");
        // 5 removes 2 before 2's revocation, and nobody cuts 5: 2's revocation falls, so 3's
        // stands and 4's (which does not cut 3) falls.
        let r = Roles::compute(Some(key(0)), [names, ring, vec![revoke(13, 5, 0, 2, Some(0))]].concat());
        assert!(r.has_authority(&key(3)) && r.has_authority(&key(5)), "{r:?}");
        assert!(!r.has_authority(&key(2)) && !r.has_authority(&key(4)), "{r:?}");
    }

    #[test]
    fn a_removed_organiser_striking_back_at_the_remover_takes_both_down() {
        // Owner names 2 and 3. Organiser 3 removes 2 (cut after 2's op 0). 2 answers with a
        // backdated revocation of 3 signed after the cut, naming a cut before 3's revocation: the
        // two cannot be told apart from revocations made concurrently.
        let base = vec![grant(1, 0, 1, 2), grant(2, 0, 2, 3), revoke(40, 3, 0, 2, Some(0))];
        let mut ops = base.clone();
        ops.push(revoke(5, 2, 1, 3, None));
        let r = Roles::compute(Some(key(0)), ops.clone());
        assert!(!r.has_authority(&key(2)), "the removed organiser must not keep the role: {r:?}");
        // Both revocations were judged together (strong removal): 3 loses the role too, until the
        // owner names them again.
        assert!(!r.has_authority(&key(3)));
        ops.push(grant(60, 0, 3, 3));
        let r = Roles::compute(Some(key(0)), ops);
        assert!(r.has_authority(&key(3)) && !r.has_authority(&key(2)));
        // Through a helper instead: 2 names 9 after the cut, and 9 revokes 3. The helper's grant
        // never counts, so 3 keeps the role.
        let mut ops = base;
        ops.push(grant(6, 2, 1, 9));
        ops.push(revoke(7, 9, 0, 3, None));
        let r = Roles::compute(Some(key(0)), ops);
        assert!(r.has_authority(&key(3)) && !r.has_authority(&key(2)) && !r.has_authority(&key(9)), "{r:?}");
    }

    #[test]
    fn an_organiser_closer_to_the_owner_prevails_and_results_ignore_order() {
        // 3 was named by the owner, 4 by 3; they revoke each other concurrently.
        let ops = vec![grant(1, 0, 1, 3), grant(2, 3, 0, 4), revoke(9, 3, 1, 4, Some(0)), revoke(8, 4, 1, 3, Some(0))];
        let r = Roles::compute(Some(key(0)), ops.clone());
        assert!(r.has_authority(&key(3)) && !r.has_authority(&key(4)), "{r:?}");
        let mut rev = ops;
        rev.reverse();
        assert_eq!(Roles::compute(Some(key(0)), rev), r);
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
