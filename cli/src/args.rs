//! The command line as clap reads it: every command, its arguments and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Meadow: an offline-first, peer-to-peer festival programme.
#[derive(Debug, Parser)]
#[command(name = "meadow", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Data directory (identity and store). Default: $MEADOW_DATA_DIR, else the platform data dir.
    #[arg(long, global = true, env = "MEADOW_DATA_DIR", value_name = "DIR", help_heading = "Global options")]
    pub(crate) data_dir: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Which festival a command acts on.
#[derive(Debug, Args, Default)]
pub(crate) struct On {
    /// Festival to act on (id, id prefix or name) instead of the current one.
    #[arg(long, global = true, value_name = "ID|NAME")]
    pub(crate) festival: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Crews: small private groups that share favourites, end to end encrypted.
    Crew {
        #[command(flatten)]
        on: On,
        #[command(subcommand)]
        cmd: CrewCmd,
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
    /// Hide a community event or every community event of an author for everybody
    /// (organisers), or with --here any event from your own programme.
    Hide {
        /// Event id (prefix).
        event: Option<String>,
        /// Hide this author's community events instead.
        #[arg(long)]
        author: Option<String>,
        /// Only from your own programme (your own devices follow).
        #[arg(long)]
        here: bool,
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
pub(crate) enum ExportCmd {
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
pub(crate) enum FestivalCmd {
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
pub(crate) enum VenueCmd {
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
pub(crate) struct EventFields {
    /// Title.
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Subtitle.
    #[arg(long)]
    pub(crate) subtitle: Option<String>,
    /// Start (festival time `YYYY-MM-DD HH:MM`, or RFC 3339).
    #[arg(long)]
    pub(crate) start: Option<String>,
    /// End (festival time `YYYY-MM-DD HH:MM`, or RFC 3339).
    #[arg(long)]
    pub(crate) end: Option<String>,
    /// Venue name.
    #[arg(long)]
    pub(crate) venue: Option<String>,
    /// Track.
    #[arg(long)]
    pub(crate) track: Option<String>,
    /// Kind of event (talk, concert, workshop...).
    #[arg(long)]
    pub(crate) kind: Option<String>,
    /// Tag (repeatable).
    #[arg(long = "tag")]
    pub(crate) tags: Vec<String>,
    /// Person (repeatable).
    #[arg(long = "person")]
    pub(crate) people: Vec<String>,
    /// Description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Language code.
    #[arg(long)]
    pub(crate) language: Option<String>,
    /// Link URL (repeatable).
    #[arg(long = "link")]
    pub(crate) links: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CrewCmd {
    /// Start a crew, with you as its admin.
    Create {
        /// Its name.
        name: String,
    },
    /// Start the crew of your own devices: they follow each other's favourites, hidden events,
    /// mutes and what you have seen.
    Devices {
        /// Its name.
        #[arg(long, default_value = "My devices")]
        name: String,
    },
    /// An invite link for one person to join (admin only).
    Invite {
        /// Crew id (prefix).
        crew: String,
        /// Hours it stays good.
        #[arg(long, default_value_t = 24)]
        hours: i64,
    },
    /// Ask to join from an invite link; the admin's device lets you in when it sees the request.
    Join {
        /// The `meadow://crew/...` link.
        link: String,
    },
    /// Leave a crew.
    Leave {
        /// Crew id (prefix).
        crew: String,
    },
    /// Remove a member (admin only).
    Remove {
        /// Crew id (prefix).
        crew: String,
        /// The member's public key.
        member: String,
    },
    /// Your crews.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Who is in a crew, where they are going, and where their favourites clash.
    Show {
        /// Crew id (prefix).
        crew: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Tell your crews a note or where you are heading.
    Share {
        /// A short note (empty to clear it).
        #[arg(long)]
        note: Option<String>,
        /// Heading to this event (id prefix).
        #[arg(long, conflicts_with_all = ["here", "nowhere"])]
        heading: Option<String>,
        /// At this event now (id prefix).
        #[arg(long, conflicts_with = "nowhere")]
        here: Option<String>,
        /// Clear where you are heading.
        #[arg(long)]
        nowhere: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum EventCmd {
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
pub(crate) enum OrganiserCmd {
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
pub(crate) enum FavCmd {
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
