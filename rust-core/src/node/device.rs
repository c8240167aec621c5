//! What this device tells its person, decided here for every front end: each emergency once
//! (restarts included), reminders at the device's lead before a favourite starts.

use super::*;
use crate::view::{AgendaEntry, AnnouncementView};

/// How long before a favourite starts its reminder fires, unless the person chose otherwise.
pub const DEFAULT_REMINDER_LEAD_MINUTES: u32 = 15;
/// Setting: the reminder lead this device's person chose, in minutes.
const REMINDER_LEAD: &str = "reminders.lead_minutes";
/// Longest reminder lead: a day.
const MAX_REMINDER_LEAD_MINUTES: u32 = 24 * 60;

impl Node {
    /// Emergencies current at `now` that this device has not told its person of yet, newest
    /// first; they count as told from here on.
    pub fn emergencies_to_notify(
        &mut self,
        festival: &FestivalId,
        now: i64,
    ) -> Result<Vec<AnnouncementView>, NodeError> {
        Ok(self.store.emergencies_to_notify(festival, now)?)
    }

    /// How many minutes before a favourite starts its reminder fires on this device.
    pub fn reminder_lead(&self) -> Result<u32, NodeError> {
        Ok(self
            .setting(REMINDER_LEAD)?
            .and_then(|m| m.parse::<u32>().ok())
            .map_or(DEFAULT_REMINDER_LEAD_MINUTES, |m| m.min(MAX_REMINDER_LEAD_MINUTES)))
    }

    /// Sets the reminder lead, in minutes (at most a day).
    pub fn set_reminder_lead(&mut self, minutes: u32) -> Result<(), NodeError> {
        if minutes > MAX_REMINDER_LEAD_MINUTES {
            return Err(NodeError::Invalid(format!("a reminder lead of {minutes} minutes is more than a day")));
        }
        self.set_setting(REMINDER_LEAD, &minutes.to_string())
    }

    /// The favourites as a timetable with reminders at this device's lead.
    pub fn agenda_now(&self, festival: &FestivalId) -> Result<Vec<AgendaEntry>, NodeError> {
        self.agenda(festival, i64::from(self.reminder_lead()?))
    }

    /// The favourites whose reminder is due at `now`: those starting within the lead (a minute
    /// of slack, as alarms fire within one).
    pub fn reminders_due(&self, festival: &FestivalId, now: i64) -> Result<Vec<EventView>, NodeError> {
        self.favourites_starting_within(festival, now, i64::from(self.reminder_lead()?) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{Announcement, Priority};

    fn emergency(text: &str) -> Announcement {
        Announcement { text: text.into(), priority: Priority::Emergency, expires: None }
    }

    #[test]
    fn an_emergency_is_told_once_even_after_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let festival = {
            let mut n = Node::open(dir.path()).expect("node");
            let (f, _) = crate::demo::create_demo(&mut n, Date::constant(2026, 7, 10)).expect("demo");
            n.announce(f, emergency("Storm: leave the field")).expect("announce");
            n.announce(f, Announcement { priority: Priority::Normal, ..emergency("Bar opens") }).expect("announce");
            let now = now_ms() as i64 / 1000;
            let told = n.emergencies_to_notify(&f, now).expect("told");
            assert_eq!(told.iter().map(|a| a.text.as_str()).collect::<Vec<_>>(), ["Storm: leave the field"]);
            assert!(n.emergencies_to_notify(&f, now).expect("again").is_empty());
            f
        };
        let mut n = Node::open(dir.path()).expect("reopened");
        let now = now_ms() as i64 / 1000;
        assert!(n.emergencies_to_notify(&festival, now).expect("after restart").is_empty());
        n.announce(festival, emergency("Lightning: to the cars")).expect("announce");
        assert_eq!(n.emergencies_to_notify(&festival, now).expect("new").len(), 1);
    }

    #[test]
    fn a_demo_made_here_is_not_news_to_this_device() {
        let mut n = Node::in_memory(Identity::from_seed(5)).expect("node");
        let (f, _) = crate::demo::create_demo(&mut n, Date::constant(2026, 7, 10)).expect("demo");
        let first_look = n.changes_since_last_look(&f, false).expect("changes");
        assert!(first_look.events.is_empty() && first_look.announcements.is_empty(), "{first_look:?}");
        let e = n.programme(&f, &Default::default()).expect("programme")[0].id;
        n.cancel_event(f, e, true).expect("cancel");
        assert_eq!(n.changes_since_last_look(&f, false).expect("changes").events.len(), 1, "later changes count");
    }

    #[test]
    fn the_reminder_lead_is_the_devices_and_bounded() {
        let mut n = Node::in_memory(Identity::from_seed(4)).expect("node");
        assert_eq!(n.reminder_lead().expect("lead"), DEFAULT_REMINDER_LEAD_MINUTES);
        n.set_reminder_lead(30).expect("set");
        assert_eq!(n.reminder_lead().expect("lead"), 30);
        assert!(n.set_reminder_lead(24 * 60 + 1).is_err());
        assert_eq!(n.reminder_lead().expect("lead"), 30, "a refused lead changes nothing");
    }
}
