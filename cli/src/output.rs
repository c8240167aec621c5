//! Human-readable tables and JSON for the CLI's read commands.

use anyhow::Result;
use jiff::tz::TimeZone;
use meadow_core::node::{Imported, Node, festival_tz, format_clock, format_time};
use meadow_core::op::FestivalId;
use meadow_core::view::{
    AnnouncementView, ChangeKind, Changes, Clash, EventDetail, EventView, FestivalView, NowNext, OpOrigin, VenueView,
};
use serde_json::{Value, json};

/// "1 event", "2 events".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn rfc3339(tz: &TimeZone, secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        Err(_) => secs.to_string(),
    }
}

/// One event as JSON, with times in the festival's zone and explicit offsets.
pub fn event_json(tz: &TimeZone, e: &EventView) -> Value {
    json!({
        "id": e.id.to_hex(),
        "title": e.title,
        "subtitle": e.subtitle,
        "start": rfc3339(tz, e.start),
        "end": rfc3339(tz, e.end),
        "day": e.day,
        "venue": e.venue_name,
        "venue_id": e.venue.map(|v| v.to_hex()),
        "track": e.track,
        "kind": e.kind,
        "tags": e.tags,
        "people": e.people,
        "official": e.official,
        "cancelled": e.cancelled,
        "moved": e.moved,
        "favourite": e.favourite,
        "crew": e.crew,
        "author": e.creator.to_hex(),
    })
}

/// One event with its description and links.
pub fn detail_json(tz: &TimeZone, d: &EventDetail) -> Value {
    let mut v = event_json(tz, &d.event);
    v["description"] = json!(d.description);
    v["language"] = json!(d.language);
    v["links"] = json!(d.links.iter().map(|l| json!({"url": l.url, "title": l.title})).collect::<Vec<_>>());
    v["source_id"] = json!(d.source_id);
    v["moved_from"] = match &d.moved_from {
        Some(m) => json!({"start": rfc3339(tz, m.start), "end": rfc3339(tz, m.end), "venue": m.venue_name}),
        None => Value::Null,
    };
    v["provenance"] = match &d.provenance {
        Some(p) => json!({
            "created": origin_json(tz, &p.created),
            "last_change": p.last_change.as_ref().map(|o| origin_json(tz, o)),
        }),
        None => Value::Null,
    };
    v["crew_going"] = json!(d.crew_going);
    v["hidden_here"] = json!(d.hidden_here);
    v
}

fn origin_json(tz: &TimeZone, o: &OpOrigin) -> Value {
    json!({
        "op": o.op.to_hex(),
        "author": o.author.to_hex(),
        "author_name": o.author_name,
        "fingerprint": o.fingerprint,
        "official": o.official,
        "written_at": rfc3339(tz, o.written_at),
        "clock_ahead": o.clock_ahead,
        "received_at": o.received_at.map(|t| rfc3339(tz, t)),
        "via": o.via.map(|v| v.as_str()),
        "peer": o.peer,
        "verified_here": o.verified_here,
        "crew": o.crew,
        "own_device": o.own_device,
    })
}

/// One line on who signed an op and how it reached this device.
fn origin_line(tz: &TimeZone, o: &OpOrigin) -> String {
    let who = if o.author_name.is_empty() { String::new() } else { format!("{} ", o.author_name) };
    let role = if o.official { "organiser" } else { "community" };
    let role = if o.own_device {
        format!("{role}, you or one of your devices")
    } else if !o.crew.is_empty() {
        format!("{role}, in your crew {}", o.crew)
    } else {
        role.to_owned()
    };
    let ahead = if o.clock_ahead { " (their clock is ahead of ours)" } else { "" };
    let arrived = match (o.received_at, o.via) {
        (Some(at), Some(via)) => {
            let from = o.peer.as_deref().map(|p| format!(" from {}", truncate(p, 12))).unwrap_or_default();
            format!("; here since {} ({}{from})", format_time(tz, at), via.as_str())
        }
        _ => "; here since before arrivals were recorded".into(),
    };
    format!(
        "{who}{} ({role}), written {}{ahead}{arrived}; signature checked here",
        o.fingerprint,
        format_time(tz, o.written_at)
    )
}

fn print_json(v: &Value) {
    out!("{}", serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into()));
}

/// A JSON array of events.
pub fn events_json(f: &FestivalView, events: &[EventView]) {
    let tz = festival_tz(f);
    print_json(&Value::Array(events.iter().map(|e| event_json(&tz, e)).collect()));
}

fn marks(e: &EventView) -> String {
    let mut m = Vec::new();
    // A clock range cannot show that an installation runs into the next day.
    let long = (e.end - e.start >= 12 * 3600).then(|| format!("({}h)", (e.end - e.start) / 3600));
    if let Some(l) = &long {
        m.push(l.as_str());
    }
    if e.favourite {
        m.push("★");
    }
    let crew = (e.crew > 0).then(|| format!("({} of your crew)", e.crew));
    if let Some(c) = &crew {
        m.push(c.as_str());
    }
    if e.cancelled {
        m.push("CANCELLED");
    } else if e.moved {
        m.push("MOVED");
    }
    if !e.official {
        m.push("community");
    }
    m.join(" ")
}

fn line(tz: &TimeZone, e: &EventView, with_venue: bool) -> String {
    let venue = if with_venue { format!("{:<16} ", truncate(&e.venue_name, 16)) } else { String::new() };
    format!(
        "  {}-{}  {venue}{:<44} {:<12} {} {}",
        format_clock(tz, e.start),
        format_clock(tz, e.end),
        truncate(&e.title, 44),
        truncate(&e.track, 12),
        e.id.short(),
        marks(e)
    )
    .trim_end()
    .to_owned()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn weekday(day: &str) -> String {
    day.parse::<jiff::civil::Date>().map(|d| d.strftime("%A").to_string()).unwrap_or_default()
}

/// The programme grouped by day, then venue.
pub fn programme(f: &FestivalView, events: &[EventView]) {
    let tz = festival_tz(f);
    if events.is_empty() {
        out!("no events");
        return;
    }
    let mut days: Vec<&str> = events.iter().map(|e| e.day.as_str()).collect();
    days.dedup();
    days.sort_unstable();
    days.dedup();
    for day in days {
        out!("== {} {} ==", weekday(day), day);
        let mut venues: Vec<&str> = events.iter().filter(|e| e.day == day).map(|e| e.venue_name.as_str()).collect();
        venues.sort_unstable_by_key(|v| v.to_lowercase());
        venues.dedup();
        for v in venues {
            out!("-- {} --", if v.is_empty() { "(no venue)" } else { v });
            for e in events.iter().filter(|e| e.day == day && e.venue_name == v) {
                out!("{}", line(&tz, e, false));
            }
        }
        out!();
    }
    out!("{}", count(events.len(), "event", "events"));
}

/// Events in the order given (search results, best first): each with its day, no day headers.
pub fn ranked_list(f: &FestivalView, events: &[EventView]) {
    let tz = festival_tz(f);
    for e in events {
        let day = e.day.parse::<jiff::civil::Date>().map(|d| d.strftime("%a %d %b").to_string()).unwrap_or_default();
        out!("  {day}{}", line(&tz, e, true));
    }
}

/// A flat list of events with their venue.
pub fn event_list(f: &FestivalView, events: &[EventView]) {
    let tz = festival_tz(f);
    let mut day = "";
    for e in events {
        if e.day != day {
            day = &e.day;
            out!("== {} {} ==", weekday(day), day);
        }
        out!("{}", line(&tz, e, true));
    }
}

/// Clashing favourites.
pub fn clashes(f: &FestivalView, clashes: &[Clash]) {
    let tz = festival_tz(f);
    for c in clashes {
        out!(
            "clash: {} ({}-{}) overlaps {} ({}-{})",
            c.first.title,
            format_clock(&tz, c.first.start),
            format_clock(&tz, c.first.end),
            c.second.title,
            format_clock(&tz, c.second.start),
            format_clock(&tz, c.second.end)
        );
    }
}

/// One event in full.
pub fn event_detail(f: &FestivalView, d: &EventDetail, json: bool) {
    let tz = festival_tz(f);
    if json {
        print_json(&detail_json(&tz, d));
        return;
    }
    let e = &d.event;
    out!("{}", e.title);
    if !e.subtitle.is_empty() {
        out!("{}", e.subtitle);
    }
    out!(
        "when      {} - {} ({})",
        format_time(&tz, e.start),
        format_clock(&tz, e.end),
        meadow_core::exchange::schedule::zone_label(&f.timezone)
    );
    out!("where     {}", if e.venue_name.is_empty() { "-" } else { &e.venue_name });
    if !e.track.is_empty() {
        out!("track     {}", e.track);
    }
    if !e.people.is_empty() {
        out!("with      {}", e.people.join(", "));
    }
    if !e.tags.is_empty() {
        out!("tags      {}", e.tags.join(", "));
    }
    if !d.language.is_empty() {
        out!("language  {}", d.language);
    }
    out!(
        "status    {}",
        if e.cancelled {
            "CANCELLED"
        } else if e.moved {
            "moved"
        } else {
            "scheduled"
        }
    );
    if let Some(m) = &d.moved_from {
        let at = if m.venue_name.is_empty() { String::new() } else { format!(" at {}", m.venue_name) };
        out!(
            "was       {} {}-{}{at}",
            rfc3339(&tz, m.start).get(..10).unwrap_or(""),
            format_clock(&tz, m.start),
            format_clock(&tz, m.end)
        );
    }
    match &d.provenance {
        Some(p) => {
            out!("signed by {}", origin_line(&tz, &p.created));
            if let Some(c) = &p.last_change {
                out!("changed   {}", origin_line(&tz, c));
            }
        }
        None => out!("posted by {} ({})", if e.official { "organisers" } else { "community" }, e.creator.fingerprint()),
    }
    if !d.crew_going.is_empty() {
        out!("your crew {} ({} of your crew)", d.crew_going.join(", "), d.crew_going.len());
    }
    if d.hidden_here {
        out!("hidden    from your programme (`meadow hide --here --undo {}` shows it again)", e.id.short());
    }
    for l in &d.links {
        out!("link      {} {}", l.url, l.title);
    }
    out!("id        {}", e.id);
    if !d.description.is_empty() {
        out!("\n{}", d.description);
    }
}

/// The festival list.
pub fn festivals(list: &[FestivalView], current: Option<FestivalId>, json: bool) {
    if json {
        print_json(&Value::Array(
            list.iter()
                .map(|f| {
                    json!({"id": f.id.to_hex(), "name": f.name, "start_date": f.start_date.to_string(),
                    "end_date": f.end_date.to_string(), "timezone": f.timezone, "current": Some(f.id) == current})
                })
                .collect(),
        ));
        return;
    }
    if list.is_empty() {
        out!("no festivals yet: `meadow festival create` or `meadow demo`");
    }
    for f in list {
        let mark = if Some(f.id) == current { "*" } else { " " };
        out!("{mark} {}  {:<32} {} - {}  {}", f.id.short(), f.name, f.start_date, f.end_date, f.timezone);
    }
}

/// One festival.
pub fn festival(node: &Node, f: &FestivalView) -> Result<()> {
    out!("{}", f.name);
    out!("id          {}", f.id);
    out!(
        "dates       {} - {} ({})",
        f.start_date,
        f.end_date,
        meadow_core::exchange::schedule::zone_label(&f.timezone)
    );
    if !f.place.is_empty() {
        out!("place       {}", f.place);
    }
    out!("day change  {:02}:{:02}", f.day_change_minutes / 60, f.day_change_minutes % 60);
    out!("owner       {}", f.owner.fingerprint());
    for o in &f.organisers {
        out!("organiser   {}", o.fingerprint());
    }
    if let Some(fork) = &f.forked_from {
        out!("forked from {} at op {}", fork.festival.short(), fork.op.short());
    }
    let days = node.days(&f.id)?;
    let n: u64 = days.iter().map(|d| d.events).sum();
    out!("venues      {}", node.venues(&f.id)?.len());
    out!("events      {} over {}", n, count(days.len(), "day", "days"));
    if !f.description.is_empty() {
        out!("\n{}", f.description);
    }
    Ok(())
}

/// Venues.
pub fn venues(list: &[VenueView], json: bool) {
    if json {
        print_json(&Value::Array(
            list.iter()
                .map(|v| json!({"id": v.id.to_hex(), "name": v.name, "description": v.description,
                    "lat": v.location.map(|p| f64::from(p.lat_e7) / 1e7), "lon": v.location.map(|p| f64::from(p.lon_e7) / 1e7),
                    "official": v.official}))
                .collect(),
        ));
        return;
    }
    for v in list {
        out!("{}  {:<24} {}", v.id.short(), v.name, v.description);
    }
}

/// Announcements.
pub fn announcements(f: &FestivalView, list: &[AnnouncementView], json: bool) {
    let tz = festival_tz(f);
    if json {
        print_json(&Value::Array(
            list.iter()
                .map(|a| json!({"id": a.id.to_hex(), "text": a.text, "priority": a.priority.as_str(),
                    "expires": a.expires.map(|e| rfc3339(&tz, e)), "author": a.author.to_hex(), "author_name": a.author_name,
                    "posted": a.posted_at.map(|t| rfc3339(&tz, t))}))
                .collect(),
        ));
        return;
    }
    if list.is_empty() {
        out!("no announcements");
    }
    for a in list {
        let who = if a.author_name.is_empty() { a.author.fingerprint() } else { a.author_name.clone() };
        let when = match a.posted_at {
            Some(t) => format_time(&tz, t),
            None => "posting time unknown: the author's clock is far ahead".into(),
        };
        out!("[{}] {} ({}, {})", a.priority.as_str().to_uppercase(), a.text, who, when);
    }
}

/// Now and next per venue.
pub fn now_next(f: &FestivalView, list: &[NowNext], now: i64, json: bool) {
    let tz = festival_tz(f);
    if json {
        print_json(&Value::Array(
            list.iter()
                .map(|n| {
                    json!({"venue": n.venue_name, "now": n.now.as_ref().map(|e| event_json(&tz, e)),
                    "next": n.next.as_ref().map(|e| event_json(&tz, e))})
                })
                .collect(),
        ));
        return;
    }
    out!("at {}", format_time(&tz, now));
    if list.is_empty() {
        out!("nothing on in the next 24 hours");
    }
    let today = jiff::Timestamp::from_second(now).map(|t| t.to_zoned_datetime(tz.clone()).date()).ok();
    for n in list {
        out!("-- {} --", if n.venue_name.is_empty() { "(no venue)" } else { &n.venue_name });
        if let Some(e) = &n.now {
            out!("  now   {}", line(&tz, e, false).trim_start());
        }
        if let Some(e) = &n.next {
            // A next event on another day says which.
            let on = jiff::Timestamp::from_second(e.start).map(|t| t.to_zoned_datetime(tz.clone()).date()).ok();
            let day = if on != today {
                on.map(|d| format!("{} ", d.strftime("%a %d %b"))).unwrap_or_default()
            } else {
                String::new()
            };
            out!("  next  {day}{}", line(&tz, e, false).trim_start());
        }
    }
}

/// Changes since the last look. The first look at a festival (a schedule imported here, or a
/// festival first synced) is a line about the whole programme, not a list of it.
pub fn changes(f: &FestivalView, c: &Changes, first_look: bool, json: bool) {
    let tz = festival_tz(f);
    if json {
        let events: Vec<Value> = c
            .events
            .iter()
            .map(|ch| {
                let mut v = json!({"change": kind_name(&ch.kind), "event": event_json(&tz, &ch.event)});
                if let ChangeKind::Moved { from_start, from_end, from_venue } = &ch.kind {
                    v["from"] = json!({"start": rfc3339(&tz, *from_start), "end": rfc3339(&tz, *from_end), "venue": from_venue});
                }
                v
            })
            .collect();
        let anns: Vec<Value> = c
            .announcements
            .iter()
            .map(|a| json!({"id": a.id.to_hex(), "text": a.text, "priority": a.priority.as_str()}))
            .collect();
        print_json(&json!({"first_look": first_look, "events": events, "announcements": anns}));
        return;
    }
    if c.events.is_empty() && c.announcements.is_empty() {
        out!("nothing changed since you last looked");
        return;
    }
    for a in &c.announcements {
        out!("announcement [{}]: {}", a.priority.as_str(), a.text);
    }
    if first_look {
        let live = c.events.iter().filter(|e| !matches!(e.kind, ChangeKind::Deleted)).count();
        out!(
            "{}, new to you: browse them with `meadow programme`; from now on this lists what changes",
            count(live, "event", "events")
        );
        return;
    }
    let n = |k: &str| c.events.iter().filter(|e| kind_name(&e.kind) == k).count();
    let named = n("new") + n("moved") + n("cancelled") + n("restored");
    out!(
        "{} new, {} moved, {} cancelled, {} restored, {}",
        n("new"),
        n("moved"),
        n("cancelled"),
        n("restored"),
        count(c.events.len() - named, "other change", "other changes")
    );
    for ch in &c.events {
        let e = &ch.event;
        let fav = if e.favourite { "★ " } else { "" };
        match &ch.kind {
            ChangeKind::Moved { from_start, from_end, from_venue } => {
                // Say what moved: the time, the place, or both.
                let mut what = Vec::new();
                if (*from_start, *from_end) != (e.start, e.end) {
                    what.push(format!(
                        "{}-{} -> {}-{}",
                        format_time(&tz, *from_start),
                        format_clock(&tz, *from_end),
                        format_time(&tz, e.start),
                        format_clock(&tz, e.end)
                    ));
                }
                if *from_venue != e.venue_name {
                    let v = |s: &str| if s.is_empty() { "(no venue)".to_owned() } else { s.to_owned() };
                    what.push(format!("{} -> {}", v(from_venue), v(&e.venue_name)));
                }
                out!("{fav}moved      {} ({}): {}", e.title, e.id.short(), what.join(", "));
            }
            k => out!(
                "{fav}{:<10} {} ({}) {} {}",
                kind_name(k),
                e.title,
                e.id.short(),
                format_time(&tz, e.start),
                e.venue_name
            ),
        }
    }
}

fn kind_name(k: &ChangeKind) -> &'static str {
    match k {
        ChangeKind::New => "new",
        ChangeKind::Moved { .. } => "moved",
        ChangeKind::Cancelled => "cancelled",
        ChangeKind::Restored => "restored",
        ChangeKind::Updated => "updated",
        ChangeKind::Deleted => "deleted",
    }
}

/// The summary of an import.
pub fn imported(node: &Node, outcome: &Imported) -> Result<()> {
    match outcome {
        Imported::Archive { festival, stored, duplicates } => {
            let f = node.festival(festival)?;
            out!("imported archive of {:?}: {} stored, {duplicates} already here", f.name, count(*stored, "op", "ops"));
        }
        Imported::Schedule { festival, created, summary: s, zone } => {
            let f = node.festival(festival)?;
            if *created {
                out!("created festival {:?} ({}) from the schedule", f.name, festival.short());
            }
            if let Some(z) = zone {
                out!("time zone: {} ({})", meadow_core::exchange::schedule::zone_label(&z.name), z.reason);
            }
            out!(
                "{} added, {} moved, {} changed, {} cancelled, {} restored, {} unchanged, {}, {} renamed",
                s.added,
                s.moved,
                s.changed,
                s.cancelled,
                s.restored,
                s.unchanged,
                count(s.venues_added, "new venue", "new venues"),
                s.renamed
            );
            for w in &s.warnings {
                out!("warning: {w}");
            }
            if !s.skipped.is_empty() {
                out!("{} skipped:", count(s.skipped.len(), "event", "events"));
                for (what, why) in &s.skipped {
                    out!("  {what}: {why}");
                }
            }
            if !s.truncated.is_empty() {
                out!("{} shortened to fit:", count(s.truncated.len(), "field", "fields"));
                for t in s.truncated.iter().take(20) {
                    out!("  {t}");
                }
            }
        }
    }
    Ok(())
}
