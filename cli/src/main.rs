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

mod ble;
mod net;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use jiff::civil::Date;
use meadow_core::exchange::{Format, MAX_FILE_BYTES};
use meadow_core::identity::PublicKey;
use meadow_core::node::{IcsSelection, ImportOptions, NewFestival, Node, now_ms};
use meadow_core::op::{Announcement, EventPatch, FestivalPatch, GeoPoint, HideTarget, Link, Priority, VenuePatch};
use meadow_core::store::ProgrammeFilter;

/// Meadow: an offline-first, peer-to-peer festival programme.
#[derive(Debug, Parser)]
#[command(name = "meadow", version, about, long_about = None)]
struct Cli {
    /// Data directory (identity and store). Default: $MEADOW_DATA_DIR, else the platform data dir.
    #[arg(long, global = true, env = "MEADOW_DATA_DIR", value_name = "DIR", help_heading = "Global options")]
    data_dir: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Which festival a command acts on.
#[derive(Debug, Args, Default)]
struct On {
    /// Festival to act on (id, id prefix or name) instead of the current one.
    #[arg(long, global = true, value_name = "ID|NAME")]
    festival: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show this device's identity.
    Id,
    /// Create, list, show and select festivals.
    #[command(subcommand)]
    Festival(FestivalCmd),
    /// Add and list venues.
    Venue {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: VenueCmd,
    },
    /// Add, edit, cancel and delete events.
    Event {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: EventCmd,
    },
    /// Post an announcement (organisers).
    Announce {
        /// What to say.
        text: String,
        /// How loudly.
        #[arg(long, default_value = "normal", value_parser = ["normal", "high", "emergency"])]
        priority: String,
        /// When it stops being shown (festival time or RFC 3339).
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        on: On,
    },
    /// List current announcements.
    Announcements {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: On,
    },
    /// Name or remove organisers.
    Organiser {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: OrganiserCmd,
    },
    /// Show the programme, per day and venue.
    Programme {
        /// Only this festival day (YYYY-MM-DD).
        #[arg(long)]
        day: Option<String>,
        /// Only this venue (its name or the start of it).
        #[arg(long)]
        venue: Option<String>,
        /// Only this track.
        #[arg(long)]
        track: Option<String>,
        /// Only events with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Print a JSON array of events.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: On,
    },
    /// What is on now and next, per venue.
    Now {
        /// Pretend it is this time (festival time or RFC 3339).
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: On,
    },
    /// Search events, best matches first.
    Search {
        /// Words to look for (any order; each may be the start of a word).
        #[arg(required = true, num_args = 1.., value_name = "WORDS")]
        query: Vec<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: On,
    },
    /// Favourites (kept on this device only).
    Fav {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: FavCmd,
    },
    /// What changed since you last looked (then marks it seen).
    Changes {
        /// Do not mark the changes as seen.
        #[arg(long)]
        keep: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        on: On,
    },
    /// Set your display name in the festival.
    Profile {
        /// Name to show.
        name: String,
        #[command(flatten)]
        on: On,
    },
    /// Hide a community event or every community event of an author (organisers).
    Hide {
        /// Event id (prefix).
        event: Option<String>,
        /// Hide this author's community events instead.
        #[arg(long)]
        author: Option<String>,
        /// Show again.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        on: On,
    },
    /// Moderate community content for everybody (organisers): when a flood of fresh keys hits,
    /// show only approved authors, approving everyone seen before it in the same step.
    Moderate {
        /// Show community events from approved authors only, or from everybody again.
        #[arg(long, value_parser = ["approved", "open"])]
        community: Option<String>,
        /// Approve every community author this device saw before this time (festival time,
        /// RFC 3339, or `now`).
        #[arg(long)]
        approve_seen_before: Option<String>,
        /// Approve an author by public key (repeatable).
        #[arg(long = "approve")]
        approve: Vec<String>,
        #[command(flatten)]
        on: On,
    },
    /// Mute an author on this device only.
    Mute {
        /// Author public key.
        author: String,
        /// Unmute.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        on: On,
    },
    /// Create a realistic demo festival and make it current.
    Demo {
        /// First day [default: today].
        #[arg(long)]
        start: Option<String>,
        /// Make another demo festival even when this device already holds one for these dates.
        #[arg(long)]
        again: bool,
    },
    /// Check the store: SQLite integrity and programme consistent with the signed ops.
    Check {
        /// Re-derive whatever is found damaged from the signed ops (which are never changed).
        #[arg(long)]
        repair: bool,
    },
    /// Import a schedule (frab XML, pretalx/frab JSON, C3VOC schedule 2, iCalendar) or a
    /// festival archive.
    Import {
        /// The file.
        file: PathBuf,
        /// Force the format [default: detected from the content].
        #[arg(long, value_parser = ["frab", "json", "ics", "archive"])]
        format: Option<String>,
        /// Import into a new festival made from the schedule's conference.
        #[arg(long, conflicts_with = "into")]
        new: bool,
        /// Import into this festival (id, id prefix or name), even if the dates do not overlap.
        #[arg(long, value_name = "ID|NAME")]
        into: Option<String>,
        /// Read the schedule's times in this IANA time zone (and give a new festival this zone),
        /// whatever the schedule says.
        #[arg(long, value_name = "ZONE")]
        timezone: Option<String>,
    },
    /// Export the programme as iCalendar, or the festival as an archive.
    Export {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: ExportCmd,
    },
    /// Run the node: serve every festival held here to peers (LAN, internet), push live updates,
    /// keep in touch with known peers. Prints the invite for the current festival.
    Serve {
        /// Address to listen on [default: all interfaces, on the port used last time].
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// Do not announce or look for peers on the local network (mDNS).
        #[arg(long)]
        no_mdns: bool,
        /// Also swap with phones nearby over Bluetooth LE (BlueZ): scan and dial them, and
        /// advertise and serve the Meadow GATT service so that they find this node.
        #[arg(long)]
        ble: bool,
        /// Also serve the programme on the web (pages for any browser, schedule.xml/json and
        /// iCalendar feeds for schedule apps), read-only, at ADDR [default: 0.0.0.0:8080].
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "0.0.0.0:8080")]
        web: Option<std::net::SocketAddr>,
    },
    /// Print the invite (text, link and QR code) for the current festival.
    Invite {
        #[command(flatten)]
        on: On,
    },
    /// Join a festival from an invite (text or meadow:// link): fetch it, then exit.
    Join {
        /// The invite.
        ticket: String,
    },
    /// Sync the current festival once with the peers it was joined from.
    Sync {
        #[command(flatten)]
        on: On,
    },
}

#[derive(Debug, Subcommand)]
enum ExportCmd {
    /// iCalendar of the whole programme, the favourites or one event.
    Ics {
        /// Only this device's favourites.
        #[arg(long, conflicts_with = "event")]
        favourites: bool,
        /// Only this event (id prefix).
        #[arg(long)]
        event: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// The festival's whole signed history, verifiable anywhere.
    Archive {
        /// The file to write.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum FestivalCmd {
    /// Create a festival you own, and make it current.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        start: String,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        end: String,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Where.
        #[arg(long, default_value = "")]
        place: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// When one festival day turns into the next (HH:MM): events before it belong to the
        /// previous day's programme.
        #[arg(long, default_value = "00:00")]
        day_change: String,
    },
    /// Edit the current festival (owner and organisers).
    Edit {
        #[command(flatten)]
        on: On,
        /// Name.
        #[arg(long)]
        name: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Place.
        #[arg(long)]
        place: Option<String>,
        /// IANA time zone.
        #[arg(long)]
        timezone: Option<String>,
        /// When one festival day turns into the next (HH:MM, in the festival's time zone).
        #[arg(long)]
        day_change: Option<String>,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        start: Option<String>,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        end: Option<String>,
    },
    /// List the festivals on this device.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a festival.
    Show {
        /// Festival [default: current].
        festival: Option<String>,
    },
    /// Make a festival current.
    Use {
        /// Festival id, id prefix or name.
        festival: String,
    },
    /// Start a new festival from an old one: its venues, and with --events its programme.
    Fork {
        /// Festival to fork [default: current].
        festival: Option<String>,
        /// Name of the new festival.
        #[arg(long)]
        name: Option<String>,
        /// First day of the new festival; events move by the same number of days.
        #[arg(long)]
        start: Option<String>,
        /// Copy the official events too.
        #[arg(long)]
        events: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VenueCmd {
    /// Add a venue.
    Add {
        /// Name.
        name: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// Latitude in degrees.
        #[arg(long, requires = "lon", allow_hyphen_values = true)]
        lat: Option<f64>,
        /// Longitude in degrees.
        #[arg(long, requires = "lat", allow_hyphen_values = true)]
        lon: Option<f64>,
    },
    /// List venues.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args, Default)]
struct EventFields {
    /// Title.
    #[arg(long)]
    title: Option<String>,
    /// Subtitle.
    #[arg(long)]
    subtitle: Option<String>,
    /// Start (festival time `YYYY-MM-DD HH:MM`, or RFC 3339).
    #[arg(long)]
    start: Option<String>,
    /// End (festival time `YYYY-MM-DD HH:MM`, or RFC 3339).
    #[arg(long)]
    end: Option<String>,
    /// Venue name.
    #[arg(long)]
    venue: Option<String>,
    /// Track.
    #[arg(long)]
    track: Option<String>,
    /// Kind of event (talk, concert, workshop...).
    #[arg(long)]
    kind: Option<String>,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Person (repeatable).
    #[arg(long = "person")]
    people: Vec<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Language code.
    #[arg(long)]
    language: Option<String>,
    /// Link URL (repeatable).
    #[arg(long = "link")]
    links: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum EventCmd {
    /// Add an event (official for organisers, else a community event).
    Add(EventFields),
    /// Change an event's fields.
    Edit {
        /// Event id (prefix).
        id: String,
        #[command(flatten)]
        fields: EventFields,
    },
    /// Cancel an event (or restore it with --restore).
    Cancel {
        /// Event id (prefix).
        id: String,
        /// Undo a cancellation.
        #[arg(long)]
        restore: bool,
    },
    /// Delete an event for good.
    Delete {
        /// Event id (prefix).
        id: String,
    },
    /// Show one event.
    Show {
        /// Event id (prefix).
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum OrganiserCmd {
    /// Name an organiser by public key.
    Add {
        /// Their public key (64 hex digits, from `meadow id`).
        key: String,
    },
    /// Remove an organiser.
    Remove {
        /// Their public key.
        key: String,
    },
    /// List the owner and organisers.
    List,
}

#[derive(Debug, Subcommand)]
enum FavCmd {
    /// Add a favourite.
    Add {
        /// Event id (prefix).
        id: String,
    },
    /// Remove a favourite.
    Remove {
        /// Event id (prefix).
        id: String,
    },
    /// List favourites and clashes between them.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Favourites starting within the next N minutes (what a reminder fires for).
    Soon {
        /// Minutes ahead.
        #[arg(long, default_value_t = 30)]
        minutes: i64,
        /// Pretend it is this time.
        #[arg(long)]
        at: Option<String>,
    },
}

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

fn parse_key(s: &str) -> Result<PublicKey> {
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
        Command::Hide { event, author, undo, on } => {
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
            let events: u64 = days.iter().map(|(_, n)| n).sum();
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
