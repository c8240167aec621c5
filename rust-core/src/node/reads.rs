//! What front ends read: the programme, venues, favourites, announcements and the device's
//! bookkeeping, each a read of the store through the node.

use super::*;
use crate::view::{
    AgendaEntry, AnnouncementView, Clash, EventDetail, Facets, FestivalDay, NowNext, ProgrammeFilter, ProgrammePage,
};

/// What this identity is in a festival, which decides what its app offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Standing {
    /// Created it.
    Owner,
    /// Named an organiser: posts official events and announcements.
    Organiser,
    /// Everyone else: posts community events.
    Attendee,
}

impl Node {
    /// Resolves a hex id prefix (at least 4 digits) to the one visible event it names.
    pub fn resolve_event(&self, festival: &FestivalId, prefix: &str) -> Result<OpId, NodeError> {
        Ok(self.store.resolve_event(festival, prefix)?)
    }

    /// The venues of a festival, by name.
    pub fn venues(&self, festival: &FestivalId) -> Result<Vec<VenueView>, NodeError> {
        Ok(self.store.venues(festival)?)
    }

    /// One page of the programme: up to `limit` events from `offset`, and how many there are.
    pub fn programme_page(
        &self,
        festival: &FestivalId,
        filter: &ProgrammeFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ProgrammePage, NodeError> {
        let (events, total) = self.store.programme_page(festival, &filter.normalized(), offset, limit)?;
        Ok(ProgrammePage { events, offset: offset.try_into().unwrap_or(u32::MAX), total: total as u32 })
    }

    /// A page of the programme as a phone's day screen shows it: venues and tracks once, each
    /// event's grid lane (see [`crate::view::DayView`]).
    pub fn day_view(
        &self,
        festival: &FestivalId,
        filter: &ProgrammeFilter,
        offset: usize,
        limit: usize,
    ) -> Result<crate::view::DayView, NodeError> {
        let (events, total) = self.store.programme_page(festival, &filter.normalized(), offset, limit)?;
        Ok(crate::view::DayView::new(events, offset as u32, total as u32, &self.store.venues(festival)?))
    }

    /// The programme, ordered by start, then venue name, then title.
    pub fn programme(&self, festival: &FestivalId, filter: &ProgrammeFilter) -> Result<Vec<EventView>, NodeError> {
        Ok(self.store.programme(festival, &filter.normalized())?)
    }

    /// Number of stored ops (all festivals).
    pub fn op_count(&self) -> Result<u64, NodeError> {
        Ok(self.store.op_count()?)
    }

    /// Every festival this device holds.
    pub fn festivals(&self) -> Result<Vec<FestivalView>, NodeError> {
        Ok(self.store.festivals()?)
    }

    /// Favourites (not cancelled) starting in `[now, now + minutes)`: what a reminder fires for.
    pub fn favourites_starting_within(
        &self,
        festival: &FestivalId,
        now: i64,
        minutes: i64,
    ) -> Result<Vec<EventView>, NodeError> {
        Ok(self.store.favourites_starting_within(festival, now, minutes)?)
    }

    /// This device's favourites, by start.
    pub fn favourites(&self, festival: &FestivalId) -> Result<Vec<EventView>, NodeError> {
        Ok(self.store.favourites(festival)?)
    }

    /// Everything about one event of a festival.
    pub fn event_detail(&self, festival: &FestivalId, id: &OpId) -> Result<Option<EventDetail>, NodeError> {
        let Some(mut d) = self.store.event_detail(festival, id)? else { return Ok(None) };
        d.editable = self.may_edit(festival, id)?;
        d.provenance = self.store.provenance(festival, id)?;
        if let Some(p) = d.provenance.as_mut() {
            let mut origins: Vec<&mut crate::view::OpOrigin> = vec![&mut p.created];
            origins.extend(p.last_change.as_mut());
            self.place_in_crews(festival, &mut origins)?;
        }
        d.hidden_here = self.store.hidden_here(festival)?.contains(id);
        for key in self.store.crew_going(festival, id)? {
            let name = self.display_name(festival, &key)?.filter(|n| !n.is_empty());
            d.crew_going.push(name.unwrap_or_else(|| key.fingerprint()));
        }
        Ok(Some(d))
    }

    /// The festival days that have events, with how many.
    pub fn days(&self, festival: &FestivalId) -> Result<Vec<FestivalDay>, NodeError> {
        Ok(self.store.days(festival)?)
    }

    /// Announcements not yet expired at `now`, newest (by Lamport clock) first.
    pub fn announcements(&self, festival: &FestivalId, now: i64) -> Result<Vec<AnnouncementView>, NodeError> {
        Ok(self.store.announcements(festival, now)?)
    }

    /// The unexpired emergency announcements of a festival, newest first.
    pub fn emergencies(&self, festival: &FestivalId, now: i64) -> Result<Vec<AnnouncementView>, NodeError> {
        Ok(self.store.emergencies(festival, now)?)
    }

    /// Number of parked ops waiting for predecessors.
    pub fn pending_count(&self) -> Result<u64, NodeError> {
        Ok(self.store.pending_count()?)
    }

    /// Per venue, what is on now and what starts next (events in the coming 24 hours).
    pub fn now_next(&self, festival: &FestivalId, now: i64) -> Result<Vec<NowNext>, NodeError> {
        Ok(self.store.now_next(festival, now)?)
    }

    /// Whether `key`'s next op in `festival` would count as official.
    pub fn is_official(&self, festival: &FestivalId, key: &PublicKey) -> Result<bool, NodeError> {
        Ok(self.store.is_official(festival, key)?)
    }

    /// Whether this device has ever marked the festival seen (before that, everything is new).
    pub fn has_looked(&self, festival: &FestivalId) -> Result<bool, NodeError> {
        Ok(self.store.has_looked(festival)?)
    }

    /// An author's display name in a festival, if they set one.
    pub fn display_name(&self, festival: &FestivalId, author: &PublicKey) -> Result<Option<String>, NodeError> {
        Ok(self.store.display_name(festival, author)?)
    }

    /// Community authors this device first saw before `before` (Unix seconds): whom to approve.
    pub fn community_authors_seen_before(
        &self,
        festival: &FestivalId,
        before: i64,
    ) -> Result<Vec<PublicKey>, NodeError> {
        Ok(self.store.community_authors_seen_before(festival, before)?)
    }

    /// This device's favourites as a timetable, with reminders `lead_minutes` ahead.
    pub fn agenda(&self, festival: &FestivalId, lead_minutes: i64) -> Result<Vec<AgendaEntry>, NodeError> {
        Ok(self.store.agenda(festival, lead_minutes.clamp(0, 24 * 60) * 60)?)
    }

    /// What the programme can be filtered by.
    pub fn facets(&self, festival: &FestivalId) -> Result<Facets, NodeError> {
        Ok(self.store.facets(festival)?)
    }

    /// Whether this identity may edit an event (its author, or an organiser).
    pub fn may_edit(&self, festival: &FestivalId, event: &OpId) -> Result<bool, NodeError> {
        match self.require_edit(festival, event) {
            Ok(()) => Ok(true),
            Err(NodeError::NotPermitted(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// This identity's role in a festival.
    pub fn standing(&self, festival: &FestivalId) -> Result<Standing, NodeError> {
        let f = self.festival(festival)?;
        let me = self.public_key();
        Ok(if f.owner == me {
            Standing::Owner
        } else if f.organisers.contains(&me) {
            Standing::Organiser
        } else {
            Standing::Attendee
        })
    }

    /// Pairs of favourites (not cancelled) that overlap in time.
    pub fn clashes(&self, festival: &FestivalId) -> Result<Vec<Clash>, NodeError> {
        Ok(self.store.clashes(festival)?)
    }
}
