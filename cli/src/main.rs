//! `meadow`: the Meadow node and admin tool for laptops and Raspberry Pis.

/// Prints a line to stdout; a closed pipe (`meadow programme | head`) ends the program quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod args;
mod ble;
mod crew;
mod net;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use args::*;
use clap::Parser;
use jiff::civil::Date;
use meadow_core::exchange::{Format, MAX_FILE_BYTES};
use meadow_core::identity::PublicKey;
use meadow_core::node::{IcsSelection, ImportOptions, NewFestival, Node, now_ms};
use meadow_core::op::{Announcement, EventPatch, FestivalPatch, GeoPoint, HideTarget, Link, Priority, VenuePatch};
use meadow_core::view::ProgrammeFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEADOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour only for a person at a terminal: logs piped to a file or a journal stay plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn data_dir(cli: &Cli) -> PathBuf {
    cli.data_dir
        .clone()
        .unwrap_or_else(|| dirs::data_dir().map(|d| d.join("meadow")).unwrap_or_else(|| PathBuf::from(".meadow")))
}

fn festival_id(node: &Node, cli_festival: &Option<String>) -> Result<meadow_core::op::FestivalId> {
    match cli_festival {
        Some(key) => Ok(node.find_festival(key)?.id),
        None => Ok(node.require_festival()?),
    }
}

fn parse_date(s: &str, what: &str) -> Result<Date> {
    s.trim().parse::<Date>().map_err(|_| anyhow!("cannot read {what} {s:?}: use YYYY-MM-DD"))
}

pub(crate) fn parse_key(s: &str) -> Result<PublicKey> {
    PublicKey::from_hex(s).map_err(|e| anyhow!("{s:?}: {e}"))
}

fn parse_priority(s: &str) -> Result<Priority> {
    match s.to_ascii_lowercase().as_str() {
        "normal" => Ok(Priority::Normal),
        "high" => Ok(Priority::High),
        "emergency" => Ok(Priority::Emergency),
        _ => bail!("unknown priority {s:?}: use normal, high or emergency"),
    }
}

fn event_patch(node: &Node, f: &meadow_core::op::FestivalId, x: EventFields) -> Result<EventPatch> {
    let time = |s: &Option<String>| -> Result<Option<i64>> {
        s.as_deref().map(|t| node.parse_time(f, t)).transpose().map_err(Into::into)
    };
    let venue = match &x.venue {
        Some(name) => Some(Some(node.find_venue(f, name)?.id)),
        None => None,
    };
    fn list<T>(v: Vec<T>) -> Option<Vec<T>> {
        if v.is_empty() { None } else { Some(v) }
    }
    Ok(EventPatch {
        title: x.title,
        subtitle: x.subtitle,
        description: x.description,
        start: time(&x.start)?,
        end: time(&x.end)?,
        venue,
        track: x.track,
        kind: x.kind,
        tags: list(x.tags),
        people: list(x.people),
        language: x.language,
        links: list(x.links.into_iter().map(|url| Link { url, title: String::new() }).collect()),
        cancelled: None,
        ..Default::default()
    })
}

/// Tells an organiser whose log in `festival` fills up, long before it is full.
fn warn_log(node: &Node, festival: &meadow_core::op::FestivalId) -> Result<()> {
    if let Some(w) = node.log_usage(festival)?.warning() {
        out!("warning: {w}");
    }
    Ok(())
}

/// The device-local setting naming the demo festival `meadow demo` made here.
const DEMO_FESTIVAL: &str = "cli.demo_festival";

fn run(cli: Cli) -> Result<()> {
    let dir = data_dir(&cli);
    let mut node = Node::open(&dir).with_context(|| format!("opening data directory {}", dir.display()))?;
    match cli.command {
        Command::Id => {
            out!("public key   {}", node.public_key());
            out!("fingerprint  {}", node.public_key().fingerprint());
            out!("data dir     {}", dir.display());
        }
        Command::Festival(cmd) => match cmd {
            FestivalCmd::Create { name, start, end, timezone, place, description, day_change } => {
                let start_date = parse_date(&start, "--start")?;
                let end_date = parse_date(&end, "--end")?;
                if end_date < start_date {
                    bail!("--end {end_date} is before --start {start_date}");
                }
                let dc = parse_clock(&day_change)?;
                let id = node.create_festival(NewFestival {
                    name,
                    description,
                    timezone,
                    start_date,
                    end_date,
                    place,
                    day_change_minutes: dc,
                })?;
                out!("created festival {id}");
                out!("it is now the current festival");
            }
            FestivalCmd::Edit { on, name, description, place, timezone, day_change, start, end } => {
                let f = festival_id(&node, &on.festival)?;
                let patch = FestivalPatch {
                    name,
                    description,
                    place,
                    timezone,
                    day_change_minutes: day_change.as_deref().map(parse_clock).transpose()?,
                    start_date: start.as_deref().map(|d| parse_date(d, "--start")).transpose()?,
                    end_date: end.as_deref().map(|d| parse_date(d, "--end")).transpose()?,
                };
                if patch == FestivalPatch::default() {
                    bail!(
                        "nothing to change: give at least one of --name, --description, --place, --timezone, --day-change, --start, --end"
                    );
                }
                node.edit_festival(f, patch)?;
                out!("festival updated");
            }
            FestivalCmd::List { json } => {
                let current = node.current_festival()?;
                let list = node.festivals()?;
                output::festivals(&list, current, json);
            }
            FestivalCmd::Show { festival } => {
                let id = festival_id(&node, &festival)?;
                output::festival(&node, &node.festival(&id)?)?;
            }
            FestivalCmd::Fork { festival, name, start, events } => {
                let from = festival_id(&node, &festival)?;
                let start = start.map(|s| parse_date(&s, "--start")).transpose()?;
                let id = node.fork_festival(&from, name, start, events)?;
                let f = node.festival(&id)?;
                out!(
                    "forked into {:?} ({}), {} - {}; it is now the current festival",
                    f.name,
                    id,
                    f.start_date,
                    f.end_date
                );
            }
            FestivalCmd::Use { festival } => {
                let f = node.find_festival(&festival)?;
                node.use_festival(&f.id)?;
                out!("current festival: {} ({})", f.name, f.id.short());
            }
        },
        Command::Venue { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            match cmd {
                VenueCmd::Add { name, description, lat, lon } => {
                    let location = match (lat, lon) {
                        (Some(lat), Some(lon)) => {
                            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                                bail!("coordinates out of range: lat must be -90..90, lon -180..180");
                            }
                            Some(GeoPoint { lat_e7: (lat * 1e7).round() as i32, lon_e7: (lon * 1e7).round() as i32 })
                        }
                        _ => None,
                    };
                    let id = node.add_venue(
                        f,
                        VenuePatch {
                            name: Some(name.clone()),
                            description: Some(description),
                            location,
                            ..Default::default()
                        },
                    )?;
                    out!("added venue {name} ({})", id.short());
                }
                VenueCmd::List { json } => output::venues(&node.venues(&f)?, json),
            }
        }
        Command::Event { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            let writes = !matches!(cmd, EventCmd::Show { .. });
            match cmd {
                EventCmd::Add(fields) => {
                    if fields.title.is_none() {
                        bail!("--title is required");
                    }
                    if fields.start.is_none() || fields.end.is_none() {
                        bail!("--start and --end are required");
                    }
                    if fields.venue.is_none() {
                        bail!("--venue is required (see `meadow venue list`)");
                    }
                    let patch = event_patch(&node, &f, fields)?;
                    let id = node.add_event(f, patch)?;
                    let official = node.is_official(&f, &node.public_key())?;
                    out!("added {} event {}", if official { "official" } else { "community" }, id);
                }
                EventCmd::Edit { id, fields } => {
                    let eid = node.resolve_event(&f, &id)?;
                    let patch = event_patch(&node, &f, fields)?;
                    if patch == EventPatch::default() {
                        bail!("nothing to change: give at least one field, e.g. --title or --start");
                    }
                    node.edit_event(f, eid, patch)?;
                    out!("updated event {}", eid.short());
                }
                EventCmd::Cancel { id, restore } => {
                    let eid = node.resolve_event(&f, &id)?;
                    node.cancel_event(f, eid, !restore)?;
                    out!("{} event {}", if restore { "restored" } else { "cancelled" }, eid.short());
                }
                EventCmd::Delete { id } => {
                    let eid = node.resolve_event(&f, &id)?;
                    node.delete_event(f, eid)?;
                    out!("deleted event {}", eid.short());
                }
                EventCmd::Show { id, json } => {
                    let eid = node.resolve_event(&f, &id)?;
                    let e = node.event_detail(&f, &eid)?.ok_or_else(|| anyhow!("event {id} not found"))?;
                    let fest = node.festival(&f)?;
                    output::event_detail(&fest, &e, json);
                }
            }
            if writes {
                warn_log(&node, &f)?;
            }
        }
        Command::Announce { text, priority, expires, on } => {
            let f = festival_id(&node, &on.festival)?;
            let priority = parse_priority(&priority)?;
            let expires = expires.map(|t| node.parse_time(&f, &t)).transpose()?;
            let id = node.announce(f, Announcement { text, priority, expires })?;
            out!("posted announcement {}", id.short());
            warn_log(&node, &f)?;
        }
        Command::Announcements { json, on } => {
            let f = festival_id(&node, &on.festival)?;
            let list = node.announcements(&f, now_ms() as i64 / 1000)?;
            output::announcements(&node.festival(&f)?, &list, json);
        }
        Command::Organiser { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            match cmd {
                OrganiserCmd::Add { key } => {
                    let k = parse_key(&key)?;
                    node.add_organiser(f, k)?;
                    out!("named organiser {}", k.fingerprint());
                }
                OrganiserCmd::Remove { key } => {
                    let k = parse_key(&key)?;
                    node.remove_organiser(f, k)?;
                    out!("removed organiser {}", k.fingerprint());
                }
                OrganiserCmd::List => {
                    let fest = node.festival(&f)?;
                    let name = |k: &PublicKey| node.display_name(&f, k).ok().flatten().unwrap_or_default();
                    out!("owner      {}  {}  {}", fest.owner.fingerprint(), fest.owner, name(&fest.owner));
                    for o in &fest.organisers {
                        out!("organiser  {}  {}  {}", o.fingerprint(), o, name(o));
                    }
                }
            }
        }
        Command::Programme { day, venue, track, tag, json, on } => {
            let f = festival_id(&node, &on.festival)?;
            let fest = node.festival(&f)?;
            let filter = ProgrammeFilter {
                day: day.map(|d| parse_date(&d, "--day")).transpose()?,
                venue: venue.map(|v| node.find_venue(&f, &v).map(|v| v.id)).transpose()?,
                track,
                tag,
                official_only: false,
            };
            let events = node.programme(&f, &filter)?;
            if json {
                output::events_json(&fest, &events);
            } else {
                output::programme(&fest, &events);
            }
        }
        Command::Now { at, json, on } => {
            let f = festival_id(&node, &on.festival)?;
            let fest = node.festival(&f)?;
            let now = match at {
                Some(t) => node.parse_time(&f, &t)?,
                None => now_ms() as i64 / 1000,
            };
            output::now_next(&fest, &node.now_next(&f, now)?, now, json);
        }
        Command::Search { query, limit, json, on } => {
            let f = festival_id(&node, &on.festival)?;
            let fest = node.festival(&f)?;
            let query = query.join(" ");
            if !query.chars().any(char::is_alphanumeric) {
                bail!("give some words to search for, e.g. `meadow search folk night`");
            }
            let hits = node.search(&f, &query, Some(limit))?;
            if json {
                output::events_json(&fest, &hits);
            } else {
                output::ranked_list(&fest, &hits);
                if hits.is_empty() {
                    out!("no events match {query:?}");
                }
            }
        }
        Command::Fav { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            let fest = node.festival(&f)?;
            match cmd {
                FavCmd::Add { id } => {
                    let eid = node.resolve_event(&f, &id)?;
                    node.set_favourite(&f, &eid, true)?;
                    out!("added favourite {}", eid.short());
                }
                FavCmd::Remove { id } => {
                    let eid = node.resolve_event(&f, &id)?;
                    node.set_favourite(&f, &eid, false)?;
                    out!("removed favourite {}", eid.short());
                }
                FavCmd::List { json } => {
                    let favs = node.favourites(&f)?;
                    if json {
                        output::events_json(&fest, &favs);
                    } else {
                        output::event_list(&fest, &favs);
                        output::clashes(&fest, &node.clashes(&f)?);
                    }
                }
                FavCmd::Soon { minutes, at } => {
                    let now = match at {
                        Some(t) => node.parse_time(&f, &t)?,
                        None => now_ms() as i64 / 1000,
                    };
                    let soon = node.favourites_starting_within(&f, now, minutes)?;
                    if soon.is_empty() {
                        out!("no favourites start in the next {minutes} minutes");
                    }
                    output::event_list(&fest, &soon);
                }
            }
        }
        Command::Crew { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            crew::run(&mut node, f, cmd)?;
        }
        Command::Changes { keep, json, on } => {
            let f = festival_id(&node, &on.festival)?;
            let fest = node.festival(&f)?;
            let first_look = !node.has_looked(&f)?;
            let changes = node.changes_since_last_look(&f, !keep)?;
            output::changes(&fest, &changes, first_look, json);
        }
        Command::Profile { name, on } => {
            let f = festival_id(&node, &on.festival)?;
            node.set_display_name(f, &name)?;
            out!("display name set to {name:?}");
        }
        Command::Hide { event: Some(e), author: None, undo, here: true, on } => {
            let f = festival_id(&node, &on.festival)?;
            let id = node.resolve_event(&f, &e)?;
            node.set_hidden_here(&f, &id, !undo)?;
            out!("{}", if undo { "shown again in your programme" } else { "hidden from your programme" });
        }
        Command::Hide { here: true, .. } => bail!("--here hides one event: name its id"),
        Command::Hide { event, author, undo, here: false, on } => {
            let f = festival_id(&node, &on.festival)?;
            let target = match (event, author) {
                (Some(e), None) => HideTarget::Entity(node.resolve_event(&f, &e)?),
                (None, Some(a)) => HideTarget::Author(parse_key(&a)?),
                _ => bail!("name either an event id or --author KEY"),
            };
            node.hide(f, target, !undo)?;
            out!("{}", if undo { "shown again" } else { "hidden for everybody" });
        }
        Command::Moderate { community, approve_seen_before, approve, on } => {
            let f = festival_id(&node, &on.festival)?;
            let mode = community.as_deref().map(|c| {
                if c == "approved" {
                    meadow_core::op::CommunityMode::Approved
                } else {
                    meadow_core::op::CommunityMode::Open
                }
            });
            let mut keys = approve.iter().map(|k| parse_key(k)).collect::<Result<Vec<_>>>()?;
            if let Some(t) = approve_seen_before {
                let before = if t.trim() == "now" { now_ms() as i64 / 1000 } else { node.parse_time(&f, &t)? };
                keys.extend(node.community_authors_seen_before(&f, before)?);
            }
            let n = keys.len();
            let ops = node.moderate(f, mode, keys)?;
            if n > 0 {
                out!("approved {} ({})", output::count(n, "author", "authors"), output::count(ops, "op", "ops"));
            }
            match mode {
                Some(meadow_core::op::CommunityMode::Approved) => {
                    out!("community events are now shown from approved authors only")
                }
                Some(meadow_core::op::CommunityMode::Open) => out!("community events are shown from everybody again"),
                None => {}
            }
        }
        Command::Mute { author, undo, on } => {
            let f = festival_id(&node, &on.festival)?;
            let k = parse_key(&author)?;
            node.set_muted(&f, &k, !undo)?;
            out!("{} {} on this device", if undo { "unmuted" } else { "muted" }, k.fingerprint());
        }
        Command::Demo { start, again } => {
            let start = match start {
                Some(s) => parse_date(&s, "--start")?,
                None => jiff::ZonedDateTime::now().date(),
            };
            // Running the README's command again reuses the demo it made, rather than piling up
            // identical festivals (a demo made on another day starts on another day: a new one).
            let held = node
                .setting(DEMO_FESTIVAL)?
                .and_then(|hex| meadow_core::op::FestivalId::from_hex(&hex))
                .filter(|id| node.festival(id).is_ok_and(|f| f.start_date == start));
            if let (Some(id), false) = (held, again) {
                node.use_festival(&id)?;
                out!("the demo festival starting {start} is already here ({id}); it is now the current festival");
                out!("  `meadow demo --again` makes another");
                return Ok(());
            }
            let started = std::time::Instant::now();
            let (id, report) = meadow_core::demo::create_demo(&mut node, start)?;
            let fest = node.festival(&id)?;
            let days = node.days(&id)?;
            let events: u64 = days.iter().map(|d| d.events).sum();
            node.set_setting(DEMO_FESTIVAL, &id.to_hex())?;
            out!("created demo festival {:?} ({})", fest.name, id);
            out!(
                "  {} signed and stored in {} ms; {}, {} over {}, {}",
                output::count(report.stored, "op", "ops"),
                started.elapsed().as_millis(),
                output::count(node.venues(&id)?.len(), "venue", "venues"),
                output::count(events as usize, "event", "events"),
                output::count(days.len(), "day", "days"),
                output::count(fest.organisers.len(), "organiser", "organisers")
            );
            out!("  it is now the current festival; try: meadow programme --day {start}");
        }
        Command::Import { file, format, new, into, timezone } => {
            let format = format.as_deref().and_then(Format::from_name);
            let size = std::fs::metadata(&file).with_context(|| format!("reading {}", file.display()))?.len();
            if size > MAX_FILE_BYTES {
                bail!("{}: {} MB is over the {} MB limit", file.display(), size >> 20, MAX_FILE_BYTES >> 20);
            }
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let into = into.as_ref().map(|k| node.find_festival(k).map(|f| f.id)).transpose()?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ops")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message("importing");
            let options = ImportOptions { format, into, new, timezone };
            let outcome = node
                .import(&bytes, &options, &mut |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .with_context(|| format!("importing {}", file.display()))?;
            bar.finish_and_clear();
            output::imported(&node, &outcome)?;
            if let meadow_core::node::Imported::Schedule { festival, .. } = &outcome {
                warn_log(&node, festival)?;
            }
        }
        Command::Export { on, cmd } => {
            let f = festival_id(&node, &on.festival)?;
            match cmd {
                ExportCmd::Ics { favourites, event, output } => {
                    let selection = match (favourites, event) {
                        (true, _) => IcsSelection::Favourites,
                        (false, Some(e)) => IcsSelection::Event(node.resolve_event(&f, &e)?),
                        (false, None) => IcsSelection::All,
                    };
                    let text = node.export_ics(&f, selection)?;
                    match output {
                        Some(path) => {
                            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
                            out!("wrote {}", path.display());
                        }
                        None => {
                            use std::io::Write as _;
                            let _ = std::io::stdout().lock().write_all(text.as_bytes());
                        }
                    }
                }
                ExportCmd::Archive { file } => {
                    let bytes = node.export_archive(&f)?;
                    std::fs::write(&file, &bytes).with_context(|| format!("writing {}", file.display()))?;
                    out!("wrote {} ({} bytes)", file.display(), bytes.len());
                }
            }
        }
        Command::Serve { bind, no_mdns, ble, web } => net::serve(node, bind, !no_mdns, ble, web)?,
        Command::Invite { on } => {
            let f = festival_id(&node, &on.festival)?;
            net::invite(&node, f)?
        }
        Command::Join { ticket } => net::join(node, &ticket)?,
        Command::Sync { on } => {
            let f = festival_id(&node, &on.festival)?;
            net::sync(node, f)?
        }
        Command::Check { repair } => {
            let report = if repair { node.repair()? } else { node.check()? };
            for n in &report.notes {
                out!("note: {n}");
            }
            if report.is_clean() {
                out!(
                    "store ok: {}, {} waiting for predecessors",
                    output::count(node.op_count()? as usize, "op", "ops"),
                    node.pending_count()?
                );
            } else {
                for p in &report.problems {
                    out!("problem: {p}");
                }
                bail!(
                    "{} problem(s) found; `meadow check --repair` re-derives the programme from the signed ops",
                    report.problems.len()
                );
            }
        }
    }
    Ok(())
}

fn parse_clock(s: &str) -> Result<u16> {
    let (h, m) = s.split_once(':').ok_or_else(|| anyhow!("cannot read time of day {s:?}: use HH:MM"))?;
    let h: u16 = h.parse().map_err(|_| anyhow!("cannot read hour in {s:?}"))?;
    let m: u16 = m.parse().map_err(|_| anyhow!("cannot read minutes in {s:?}"))?;
    if h > 23 || m > 59 {
        bail!("time of day {s:?} out of range");
    }
    Ok(h * 60 + m)
}
