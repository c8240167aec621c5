//! Events: adding, editing, cancelling and deleting, with the checks people need to hear about.

use super::*;

impl Node {
    /// Adds an event; official if this identity is an organiser, else a community event.
    pub fn add_event(&mut self, festival: FestivalId, patch: EventPatch) -> Result<OpId, NodeError> {
        let f = self.festival(&festival)?;
        self.check_venue(&festival, &patch)?;
        if let (Some(start), Some(end)) = (patch.start, patch.end) {
            check_event_times(&f, start, end)?;
        }
        self.write(festival, Body::Event { target: None, patch })
    }

    fn check_venue(&self, festival: &FestivalId, patch: &EventPatch) -> Result<(), NodeError> {
        if let Some(Some(v)) = &patch.venue
            && !self.store.venues(festival)?.iter().any(|x| x.id == *v)
        {
            return Err(NodeError::Field {
                field: "venue",
                reason: format!("no venue {} in this festival", v.short()),
            });
        }
        Ok(())
    }

    pub(super) fn require_edit(&self, festival: &FestivalId, event: &OpId) -> Result<(), NodeError> {
        let e = self
            .store
            .event(festival, event)?
            .ok_or_else(|| NodeError::NotFound(format!("event {}", event.short())))?;
        let f = self.festival(festival)?;
        let me = self.public_key();
        let official = f.owner == me || f.organisers.contains(&me);
        let roles = crate::model::Roles { owner: Some(f.owner), members: Default::default() };
        if official || may_edit(&roles, &e.creator, &me, 0) {
            Ok(())
        } else {
            Err(NodeError::NotPermitted("only its author and organisers can change this event".into()))
        }
    }

    /// Edits an event.
    pub fn edit_event(&mut self, festival: FestivalId, event: OpId, patch: EventPatch) -> Result<(), NodeError> {
        self.require_edit(&festival, &event)?;
        self.check_venue(&festival, &patch)?;
        if let Some(current) = self.store.event(&festival, &event)?
            && (patch.start.is_some() || patch.end.is_some())
        {
            // Catch an edit that would leave the event ending before it starts, or move it away.
            let start = patch.start.unwrap_or(current.start);
            let end = patch.end.unwrap_or(current.end);
            check_event_times(&self.festival(&festival)?, start, end)?;
        }
        self.write(festival, Body::Event { target: Some(event), patch })?;
        Ok(())
    }

    /// Cancels (or restores) an event.
    pub fn cancel_event(&mut self, festival: FestivalId, event: OpId, cancelled: bool) -> Result<(), NodeError> {
        self.edit_event(festival, event, EventPatch { cancelled: Some(cancelled), ..Default::default() })
    }

    /// Deletes an event for good (cancelling is usually what people want).
    pub fn delete_event(&mut self, festival: FestivalId, event: OpId) -> Result<(), NodeError> {
        self.require_edit(&festival, &event)?;
        self.write(festival, Body::Delete { target: event })?;
        Ok(())
    }
}

/// What people typing an event's times get told: an end before (or at) the start, and a start
/// outside the festival's days, are mistakes far more often than intentions.
fn check_event_times(f: &FestivalView, start: i64, end: i64) -> Result<(), NodeError> {
    if end < start {
        return Err(NodeError::Field { field: "end", reason: "the event ends before it starts".into() });
    }
    if end == start {
        return Err(NodeError::Field {
            field: "end",
            reason: "the event ends when it starts: give an end after the start".into(),
        });
    }
    let (from, to) = festival_window(f);
    if start < from || start >= to {
        let tz = festival_tz(f);
        return Err(NodeError::Field {
            field: "start",
            reason: format!(
                "{} is outside the festival ({} to {}); change the festival's dates first",
                format_time(&tz, start),
                f.start_date,
                f.end_date
            ),
        });
    }
    Ok(())
}
