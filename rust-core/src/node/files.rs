//! Files in and out: schedule and archive import, iCalendar and archive export, forks.

use super::*;

/// What `Node::import` did.
#[derive(Debug, Clone)]
pub enum Imported {
    /// A schedule became ops in a festival.
    Schedule {
        /// The festival.
        festival: FestivalId,
        /// Whether the festival was created from the schedule's conference.
        created: bool,
        /// What changed.
        summary: ImportSummary,
        /// For a festival made from the schedule, the time zone it got and why.
        zone: Option<ZoneChoice>,
    },
    /// A festival archive was verified and stored.
    Archive {
        /// The festival.
        festival: FestivalId,
        /// Ops newly stored.
        stored: usize,
        /// Ops already held.
        duplicates: usize,
    },
}

/// How to import a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format, when not detected from the content.
    pub format: Option<Format>,
    /// The festival to import into, named explicitly (no check that the dates overlap).
    pub into: Option<FestivalId>,
    /// Make a new festival from the schedule's conference.
    pub new: bool,
    /// The time zone to read the schedule's local times in, and to give a new festival,
    /// overriding what the schedule says.
    pub timezone: Option<String>,
}

/// Which events an iCalendar export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsSelection {
    /// The whole programme.
    All,
    /// This device's favourites.
    Favourites,
    /// The official programme (what organisers vouch for), cancelled events marked so.
    Official,
    /// One event.
    Event(OpId),
}

impl Node {
    /// Imports a schedule (frab XML, schedule JSON, iCalendar) or a festival archive. Schedules go
    /// into `options.into`, else the current festival, else (or with `options.new`) a festival made
    /// from the schedule's conference. `progress` hears (done, total) as ops are stored.
    pub fn import(
        &mut self,
        bytes: &[u8],
        options: &ImportOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Imported, NodeError> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(NodeError::Invalid(format!(
                "file of {} MB is over the {} MB limit",
                bytes.len() >> 20,
                MAX_FILE_BYTES >> 20
            )));
        }
        let format = match options.format {
            Some(f) => f,
            None => Format::detect(bytes)?,
        };
        if format == Format::Archive {
            let archive = archive::read(bytes)?;
            let id = archive.festival;
            let total = archive.ops.len();
            let report = archive::import(&mut self.store, archive)?;
            progress(total, total);
            if self.store.festival(&id)?.is_some() {
                self.use_festival(&id)?;
            }
            return Ok(Imported::Archive { festival: id, stored: report.stored, duplicates: report.duplicates });
        }
        let override_tz = match &options.timezone {
            Some(name) => Some((
                name.clone(),
                TimeZone::get(name).map_err(|_| {
                    NodeError::Invalid(format!("unknown time zone {name:?} (use an IANA name like Europe/Berlin)"))
                })?,
            )),
            None => None,
        };
        let target = if options.new { None } else { options.into.or(self.current_festival()?) };
        let target_view = target.map(|f| self.festival(&f)).transpose()?;
        let read = |zone: Option<&TimeZone>| -> Result<Schedule, NodeError> {
            Ok(match format {
                Format::FrabXml => frab::parse_in(bytes, zone)?,
                Format::ScheduleJson => json::parse_in(bytes, zone)?,
                Format::ICalendar => {
                    let fallback =
                        zone.cloned().or_else(|| target_view.as_ref().map(festival_tz)).unwrap_or(TimeZone::UTC);
                    ical::parse(bytes, &fallback)?
                }
                Format::Archive => return Err(NodeError::Invalid("unreachable: archive handled above".into())),
            })
        };
        let mut schedule = read(override_tz.as_ref().map(|(_, tz)| tz))?;
        if schedule.events.is_empty() {
            return Err(NodeError::Invalid(format!(
                "no events could be read from this file (it looks like a {}); nothing was imported",
                if schedule.format.is_empty() { "schedule" } else { schedule.format }
            )));
        }
        // The zone the schedule's own times speak for, unless the user named one.
        let choice = match &override_tz {
            Some((name, _)) => ZoneChoice { name: name.clone(), reason: "given with --timezone".into(), warning: None },
            None => choose_zone(&schedule),
        };
        let chosen_tz = TimeZone::get(&choice.name).unwrap_or(TimeZone::UTC);
        // Local times were read in the zone the file declares: read them again in the chosen one.
        if override_tz.is_none()
            && schedule.events.iter().any(|e| e.local)
            && schedule.conference.timezone.as_deref() != Some(choice.name.as_str())
        {
            schedule = read(Some(&chosen_tz))?;
        }
        let mut warnings: Vec<String> = choice.warning.iter().cloned().collect();
        warnings.extend(schedule.notes.iter().cloned());
        if let (Some(f), None) = (&target_view, options.into) {
            // Adding a programme to a festival it has nothing to do with is a mistake worth a stop.
            if let Some((first, last)) = schedule_dates(&schedule, &chosen_tz)
                && (last < f.start_date || first > f.end_date)
            {
                return Err(NodeError::Invalid(format!(
                    "this schedule ({first} to {last}) does not overlap the current festival {:?} ({} to {}): \
                     use --new to make a festival of it, or --into {} to add it to that festival anyway",
                    f.name,
                    f.start_date,
                    f.end_date,
                    f.id.short()
                )));
            }
        }
        // A new festival's creation is signed here and stored with the programme, all or
        // nothing: an import that cannot be stored whole leaves no festival behind.
        let (festival, creation) = match target {
            Some(f) => (f, None),
            None => {
                let (id, body) = self.festival_creation(festival_for(&schedule, &choice)?, None)?;
                let mut w = crate::op::LogWriter::new(id, self.store.next_position(&id, &self.public_key())?);
                let op = w.sign(&self.identity, w.next.lamport, self.now_ms(), body)?;
                (id, Some((op, w.next)))
            }
        };
        let created = creation.is_some();
        let fview = match &creation {
            None => self.festival(&festival)?,
            Some(_) => festival_view_of(festival, self.public_key(), festival_for(&schedule, &choice)?),
        };
        if !created && (options.timezone.is_some() || schedule.events.iter().any(|e| e.offset.is_some())) {
            let ftz = festival_tz(&fview);
            let mut observed: Vec<(i64, i32)> =
                schedule.events.iter().filter_map(|e| e.offset.map(|o| (e.start, o))).collect();
            observed.sort_unstable();
            if !crate::exchange::schedule::zone_agrees(&ftz, &observed) {
                warnings.push(format!(
                    "the festival shows times in {}, but this schedule's times point to {} ({}); to change it: \
                     meadow festival edit --timezone {}",
                    zone_label(&fview.timezone),
                    zone_label(&choice.name),
                    choice.reason,
                    choice.name
                ));
            }
        }
        if !created {
            self.require_official(&festival, "import a programme")?;
        }
        let start = creation.as_ref().map(|(_, next)| *next);
        let (planned, mut summary) =
            import::plan(&self.store, &self.identity, &festival, &schedule, self.now_ms(), start)?;
        let mut ops: Vec<crate::op::Op> = creation.into_iter().map(|(op, _)| op).collect();
        ops.extend(planned);
        summary.warnings.extend(warnings);
        let window = festival_window(&fview);
        let outside = schedule.events.iter().filter(|e| e.start < window.0 || e.start >= window.1).count();
        if outside > 0 {
            summary.warnings.push(format!(
                "{outside} event{} outside the festival's dates ({} to {})",
                if outside == 1 { " starts" } else { "s start" },
                fview.start_date,
                fview.end_date
            ));
        }
        // Sized before anything is stored: a programme that does not fit the log's budget is
        // refused whole. Then stored in one transaction: whole or not at all.
        self.log_usage(&festival)?.check(&ops)?;
        let total = ops.len();
        progress(0, total);
        if let Err(r) = self.store.ingest_all(ops, &crate::view::Arrival::by(crate::view::Via::Import))? {
            return Err(NodeError::Invalid(format!("import op rejected: {} (nothing was stored)", r.reason)));
        }
        progress(total, total);
        if created {
            self.use_festival(&festival)?;
        }
        Ok(Imported::Schedule { festival, created, summary, zone: created.then_some(choice) })
    }

    /// Exports events as iCalendar text.
    pub fn export_ics(&self, festival: &FestivalId, selection: IcsSelection) -> Result<String, NodeError> {
        let (f, events) = self.ics_events(festival, selection)?;
        Ok(ical::export(&f, &events, self.now_ms() as i64 / 1000)?)
    }

    /// The festival and the events [`Node::export_ics`] writes, read but not formatted: a server
    /// formats them without holding the node.
    pub fn ics_events(
        &self,
        festival: &FestivalId,
        selection: IcsSelection,
    ) -> Result<(FestivalView, Vec<crate::view::EventDetail>), NodeError> {
        let f = self.festival(festival)?;
        let mut events = self.store.event_details(festival, true)?;
        match selection {
            IcsSelection::All => {}
            IcsSelection::Favourites => events.retain(|e| e.event.favourite),
            IcsSelection::Official => events.retain(|e| e.event.official),
            IcsSelection::Event(id) => {
                events.retain(|e| e.event.id == id);
                if events.is_empty() {
                    return Err(NodeError::NotFound(format!("event {}", id.short())));
                }
            }
        }
        Ok((f, events))
    }

    /// The live programme laid out for the schedule feeds (`schedule.xml`, `schedule.json`):
    /// official events that are not cancelled.
    pub fn publish(&self, festival: &FestivalId) -> Result<crate::exchange::publish::Published, NodeError> {
        let f = self.festival(festival)?;
        let venues = self.store.venues(festival)?;
        let events = self.store.event_details(festival, true)?;
        Ok(crate::exchange::publish::layout(&f, &venues, events, self.store.revision()?)?)
    }

    /// The store's revision: it moves whenever anything is stored, so it names a version of
    /// every read (web caches and ETags key on it).
    pub fn revision(&self) -> Result<i64, NodeError> {
        Ok(self.store.revision()?)
    }

    /// A festival's whole signed history as one file.
    pub fn export_archive(&self, festival: &FestivalId) -> Result<Vec<u8>, NodeError> {
        Ok(archive::export(&self.store, festival)?)
    }

    /// Starts a new festival from an old one: its venues, and with `copy_events` its official
    /// programme moved to the new dates, all signed by this identity. The creation op names the
    /// festival and op it was forked from.
    pub fn fork_festival(
        &mut self,
        from: &FestivalId,
        name: Option<String>,
        start: Option<Date>,
        copy_events: bool,
    ) -> Result<FestivalId, NodeError> {
        let old = self.festival(from)?;
        let head =
            self.store.head_op(from)?.ok_or_else(|| NodeError::NotFound(format!("festival {}", from.short())))?;
        let shift_days = match start {
            Some(s) => old.start_date.until(s).map_err(|e| NodeError::Invalid(e.to_string()))?.get_days(),
            None => 0,
        };
        let shift =
            |d: Date| d.checked_add(jiff::Span::new().days(shift_days)).map_err(|e| NodeError::Invalid(e.to_string()));
        let fork_ref = ForkRef { festival: *from, op: head };
        let new = NewFestival {
            name: name.unwrap_or_else(|| format!("{} (fork)", old.name)),
            description: old.description.clone(),
            timezone: old.timezone.clone(),
            start_date: shift(old.start_date)?,
            end_date: shift(old.end_date)?,
            place: old.place.clone(),
            day_change_minutes: old.day_change_minutes,
        };
        let id = self.create_festival_from(new, Some(fork_ref))?;
        let tz = festival_tz(&old);
        let mut writer = crate::op::LogWriter::new(id, self.store.next_position(&id, &self.public_key())?);
        let wall = self.now_ms();
        let mut ops = Vec::new();
        let mut venue_map = std::collections::HashMap::new();
        for v in self.store.venues(from)? {
            let lamport = writer.next.lamport;
            let op = writer.sign(
                &self.identity,
                lamport,
                wall,
                Body::Venue {
                    target: None,
                    patch: VenuePatch {
                        name: Some(v.name.clone()),
                        description: Some(v.description.clone()),
                        location: v.location,
                        source_id: (!v.source_id.is_empty()).then(|| v.source_id.clone()),
                        position: v.position,
                    },
                },
            )?;
            venue_map.insert(v.id, op.id());
            ops.push(op);
        }
        if copy_events {
            let move_time = |secs: i64| -> Result<i64, NodeError> {
                let ts = jiff::Timestamp::from_second(secs).map_err(|e| NodeError::Invalid(e.to_string()))?;
                // Shift the local wall time by whole days, so 20:00 stays 20:00 across DST.
                let z = ts.to_zoned_datetime(tz.clone()).checked_add(jiff::Span::new().days(shift_days));
                z.map(|z| z.timestamp().as_second()).map_err(|e| NodeError::Invalid(e.to_string()))
            };
            for d in self.store.event_details(from, true)? {
                let e = &d.event;
                if !e.official || e.cancelled {
                    continue;
                }
                let lamport = writer.next.lamport;
                ops.push(writer.sign(
                    &self.identity,
                    lamport,
                    wall,
                    Body::Event {
                        target: None,
                        patch: EventPatch {
                            title: Some(e.title.clone()),
                            subtitle: Some(e.subtitle.clone()),
                            description: Some(d.description.clone()),
                            start: Some(move_time(e.start)?),
                            end: Some(move_time(e.end)?),
                            venue: Some(e.venue.and_then(|v| venue_map.get(&v).copied())),
                            track: Some(e.track.clone()),
                            kind: Some(e.kind.clone()),
                            tags: Some(e.tags.clone()),
                            people: Some(e.people.clone()),
                            language: Some(d.language.clone()),
                            links: Some(d.links.clone()),
                            cancelled: None,
                            source_id: (!d.source_id.is_empty()).then(|| d.source_id.clone()),
                            url: (!d.url.is_empty()).then(|| d.url.clone()),
                            source_number: d.source_number,
                            do_not_record: d.do_not_record.then_some(true),
                            recording_license: (!d.recording_license.is_empty()).then(|| d.recording_license.clone()),
                        },
                    },
                )?);
            }
        }
        let report = self.store_batch(ops, Some(&crate::view::Arrival::here()))?;
        if let Some(r) = report.rejected.first() {
            return Err(NodeError::Invalid(format!("fork op rejected: {}", r.reason)));
        }
        Ok(id)
    }
}

/// The first and last festival day a schedule covers: its conference dates, else its events'.
fn schedule_dates(s: &Schedule, tz: &TimeZone) -> Option<(Date, Date)> {
    let day = |secs: i64| jiff::Timestamp::from_second(secs).ok().map(|t| t.to_zoned_datetime(tz.clone()).date());
    let first = s.conference.start.or_else(|| s.events.iter().map(|e| e.start).min().and_then(day))?;
    let last = s.conference.end.or_else(|| s.events.iter().map(|e| e.start).max().and_then(day))?;
    Some((first, last.max(first)))
}

/// How a festival about to be created will read, before it is stored.
fn festival_view_of(id: FestivalId, owner: PublicKey, f: NewFestival) -> FestivalView {
    FestivalView { id, fields: f, owner, organisers: Vec::new(), forked_from: None }
}

/// The festival a schedule describes, for an import into a new festival, in the zone chosen for
/// it.
fn festival_for(s: &Schedule, zone: &ZoneChoice) -> Result<NewFestival, NodeError> {
    let c = &s.conference;
    let tz = TimeZone::get(&zone.name).unwrap_or(TimeZone::UTC);
    let Some((start_date, end_date)) = schedule_dates(s, &tz) else {
        return Err(NodeError::Invalid("the schedule has no dates and no events to take them from".into()));
    };
    let name = [c.title.trim(), c.acronym.trim()].into_iter().find(|n| !n.is_empty()).unwrap_or("Imported schedule");
    Ok(NewFestival {
        name: crate::exchange::schedule::fit(name, crate::op::limits::NAME, false).0,
        description: String::new(),
        timezone: zone.name.clone(),
        start_date,
        end_date,
        place: String::new(),
        day_change_minutes: c.day_change_minutes.unwrap_or(0),
    })
}
