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

    /// An event as its form shows it: its festival day, its times as clocks on that day, its
    /// venue, track and description. What a form loads, and later saves against.
    pub fn event_form(&self, festival: &FestivalId, event: &OpId) -> Result<crate::view::EventForm, NodeError> {
        let f = self.festival(festival)?;
        let d = self
            .store
            .event_detail(festival, event)?
            .ok_or_else(|| NodeError::NotFound(format!("event {}", event.short())))?;
        let tz = festival_tz(&f);
        Ok(crate::view::EventForm {
            title: d.event.title,
            day: crate::model::festival_day(&tz, f.day_change_minutes, d.event.start),
            start: format_clock(&tz, d.event.start),
            end: format_clock(&tz, d.event.end),
            venue: d.event.venue,
            track: d.event.track,
            description: d.description,
        })
    }

    /// Saves an event form: a new event (`event` none) is added; an existing one changes only in
    /// the fields where `form` differs from `loaded`, the form as it was loaded (the event as it
    /// is now, if none), so that saving never undoes what someone else changed meanwhile in a
    /// field this form left alone. Times are clocks on the form's day (one before the day change
    /// falls on the night after it). Returns the event's id; a wrong time is refused at its field.
    pub fn save_event_form(
        &mut self,
        festival: FestivalId,
        event: Option<OpId>,
        form: crate::view::EventForm,
        loaded: Option<crate::view::EventForm>,
    ) -> Result<OpId, NodeError> {
        let at = |n: &Node, clock: &str, field: &'static str| {
            n.time_on_day(&festival, form.day, clock).map_err(|e| match e {
                NodeError::Invalid(reason) => NodeError::Field { field, reason },
                other => other,
            })
        };
        let (start, end) = (at(self, &form.start, "start")?, at(self, &form.end, "end")?);
        let Some(event) = event else {
            let patch = EventPatch {
                title: Some(form.title),
                start: Some(start),
                end: Some(end),
                venue: Some(form.venue),
                track: Some(form.track),
                description: Some(form.description),
                ..Default::default()
            };
            return self.add_event(festival, patch);
        };
        let base = match loaded {
            Some(l) => l,
            None => self.event_form(&festival, &event)?,
        };
        let day_moved = form.day != base.day;
        let changed = |new: &str, old: &str| (new != old).then(|| new.to_owned());
        let patch = EventPatch {
            title: changed(&form.title, &base.title),
            start: (day_moved || form.start.trim() != base.start).then_some(start),
            end: (day_moved || form.end.trim() != base.end).then_some(end),
            venue: (form.venue != base.venue).then_some(form.venue),
            track: changed(&form.track, &base.track),
            description: changed(&form.description, &base.description),
            ..Default::default()
        };
        if patch != EventPatch::default() {
            self.edit_event(festival, event, patch)?;
        }
        Ok(event)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::EventForm;

    #[test]
    fn a_saved_form_adds_then_changes_only_what_it_changed() {
        let mut n = Node::in_memory(Identity::from_seed(8)).expect("node");
        let (f, _) = crate::demo::create_demo(&mut n, Date::constant(2026, 7, 10)).expect("demo");
        let day = Date::constant(2026, 7, 10);
        let form = |title: &str, start: &str, end: &str| EventForm {
            title: title.into(),
            day,
            start: start.into(),
            end: end.into(),
            venue: None,
            track: "Late".into(),
            description: "Bring a torch".into(),
        };
        let id = n.save_event_form(f, None, form("Night walk", "23:30", "01:30"), None).expect("add");
        let e = n.event_detail(&f, &id).expect("read").expect("held");
        assert_eq!(e.event.end - e.event.start, 2 * 3600, "01:30 is the night after the day");
        let loaded = n.event_form(&f, &id).expect("form");
        assert_eq!(loaded, form("Night walk", "23:30", "01:30"), "the form loads as it was saved");
        // Someone else changes the description meanwhile; this form changes only the title.
        n.edit_event(f, id, EventPatch { description: Some("Torches provided".into()), ..Default::default() })
            .expect("other");
        let before = n.op_count().expect("count");
        let edited = EventForm { title: "Night walk (moved)".into(), ..loaded.clone() };
        n.save_event_form(f, Some(id), edited.clone(), Some(loaded)).expect("edit");
        let e = n.event_detail(&f, &id).expect("read").expect("held");
        assert_eq!(e.event.title, "Night walk (moved)");
        assert_eq!(e.description, "Torches provided", "the other change stands");
        assert_eq!(n.op_count().expect("count"), before + 1);
        // Saving a form unchanged writes nothing.
        n.save_event_form(f, Some(id), edited.clone(), Some(edited)).expect("same");
        assert_eq!(n.op_count().expect("count"), before + 1);
        // A time that is no time is refused at its field.
        match n.save_event_form(f, Some(id), form("x", "25:99", "01:30"), None) {
            Err(NodeError::Field { field, .. }) => assert_eq!(field, "start"),
            other => panic!("{other:?}"),
        }
    }
}
