//! What the web page shows, read from the node and rendered by compile-time-checked templates
//! (askama escapes every value for HTML). Nothing here writes to the node.

use askama::Template;
use jiff::tz::TimeZone;
use meadow_core::node::{Node, NodeError, festival_tz, format_clock, now_ms};
use meadow_core::op::{FestivalId, OpId, Priority};
use meadow_core::view::{AnnouncementView, EventView, FestivalView, ProgrammeFilter, ProgrammePage, Slot};

/// Events on one page of a day, so that a page stays well under 100 KB on a 10,000-event
/// festival.
pub const PAGE_EVENTS: usize = 120;
/// Favourites one page lists at most.
pub const MAX_FAVOURITES: usize = 150;
/// Search hits shown.
pub const SEARCH_HITS: usize = 50;
/// Bytes the event rows of one page take at most: a list of events with hostile text is cut
/// short (and continues on the next page) rather than let a page grow past 100 KB.
pub const ROWS_BUDGET: usize = 80 * 1024;
/// People a list row names before "N more".
const LIST_PEOPLE: usize = 3;
/// People an event's page names before "N more".
const EVENT_PEOPLE: usize = 12;
/// Links an event's page shows, and how long a shown link may be: with the op's 16 KB body,
/// the page of an event whose every field is at its limit in escaped characters stays under 100 KB.
const EVENT_LINKS: usize = 8;
const LINK_CHARS: usize = 300;

/// One event row.
pub struct Row {
    id: String,
    title: String,
    time: String,
    venue: String,
    track: String,
    people: String,
    official: bool,
    cancelled: bool,
    moved: bool,
}

impl Row {
    /// The row as a list shows it: long texts cut, so that a page of rows made of hostile text
    /// (every field at its limit, every character one that HTML escapes) stays small.
    fn of(e: &EventView, tz: &TimeZone) -> Row {
        let mut people: Vec<String> = e.people.iter().take(LIST_PEOPLE).map(|p| clip(p, 60)).collect();
        if e.people.len() > LIST_PEOPLE {
            people.push(format!("{} more", e.people.len() - LIST_PEOPLE));
        }
        Row {
            title: clip(&e.title, 120),
            venue: clip(&Self::venue(e), 60),
            track: clip(&e.track, 60),
            people: people.join(", "),
            ..Self::whole(e, tz)
        }
    }

    /// The row with its texts whole, for the event's own page (a long cast is cut there too).
    fn whole(e: &EventView, tz: &TimeZone) -> Row {
        let mut people: Vec<&str> = e.people.iter().take(EVENT_PEOPLE).map(String::as_str).collect();
        let more = format!("{} more", e.people.len().saturating_sub(EVENT_PEOPLE));
        if e.people.len() > EVENT_PEOPLE {
            people.push(&more);
        }
        Row {
            id: e.id.to_hex(),
            title: e.title.clone(),
            time: format!("{}–{}", format_clock(tz, e.start), format_clock(tz, e.end)),
            venue: Self::venue(e),
            track: e.track.clone(),
            people: people.join(", "),
            official: e.official,
            cancelled: e.cancelled,
            moved: e.moved,
        }
    }

    fn venue(e: &EventView) -> String {
        if e.venue_name.is_empty() { "No venue".into() } else { e.venue_name.clone() }
    }

    /// At most how many bytes the row takes in a page: its texts escaped at worst, and markup.
    fn weight(&self) -> usize {
        let worst = |t: &str| t.chars().map(|c| if "<>&\"'".contains(c) { 6 } else { c.len_utf8() }).sum::<usize>();
        // The markup of a row with every tag, its id twice and the time.
        340 + [&self.title, &self.venue, &self.track, &self.people].into_iter().map(|t| worst(t)).sum::<usize>()
    }
}

/// The first `max` characters of `text`, with an ellipsis if it had more.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The longest prefix of `rows` within [`ROWS_BUDGET`] bytes (at least one row).
fn fit(rows: Vec<Row>) -> Vec<Row> {
    let mut used = 0;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        used += r.weight();
        if used > ROWS_BUDGET && !out.is_empty() {
            break;
        }
        out.push(r);
    }
    out
}

/// An announcement as shown.
pub struct Notice {
    class: &'static str,
    label: &'static str,
    text: String,
    when: String,
    author: String,
}

/// A day link.
pub struct DayLink {
    date: String,
    label: String,
    count: u64,
}

/// A venue choice.
pub struct VenueChoice {
    id: String,
    name: String,
    selected: bool,
}

/// A venue's now and next.
pub struct VenueNow {
    venue: String,
    now: Option<Row>,
    next: Option<Row>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
    now: String,
    now_next: Vec<VenueNow>,
    announcements: Vec<Notice>,
    days: Vec<DayLink>,
}

#[derive(Template)]
#[template(path = "days.html")]
struct Days {
    c: Chrome,
    days: Vec<DayLink>,
    venues: Vec<String>,
}

#[derive(Template)]
#[template(path = "list.html")]
struct List {
    c: Chrome,
    heading: String,
    path: String,
    venues: Vec<VenueChoice>,
    summary: String,
    events: Vec<Row>,
    prev_page: String,
    next_page: String,
}

#[derive(Template)]
#[template(path = "event.html")]
struct Detail {
    c: Chrome,
    e: Row,
    subtitle: String,
    day: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
    /// When and where it was first announced, empty unless it has moved.
    moved_from: String,
    /// Who signed it: display name (cut) and key fingerprint. The info point shows the signer
    /// and whether it is an organiser, never how the op reached it.
    signer: String,
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    c: Chrome,
    link: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message {
    c: Chrome,
    heading: String,
    text: String,
}

/// A page's content read from the node, not yet formatted: made under the node's lock, rendered
/// after it is let go, so that formatting HTML never holds up sync or other pages.
pub struct Prepared {
    status: u16,
    view: View,
}

enum View {
    Home(Home),
    Days(Days),
    List(List, Rows),
    Detail(Detail),
    Invite(InvitePage),
    Message(Message),
}

impl Prepared {
    fn ok(view: View) -> Prepared {
        Prepared { status: 200, view }
    }

    /// Formats the page as HTML.
    pub fn render(self) -> Result<Page, PageError> {
        let html = match self.view {
            View::Home(p) => p.render()?,
            View::Days(p) => p.render()?,
            View::List(mut p, rows) => {
                p.events = fit(rows.events.iter().map(|e| Row::of(e, &rows.tz)).collect());
                let shown = p.events.len();
                (rows.then)(&mut p, shown);
                p.render()?
            }
            View::Detail(p) => p.render()?,
            View::Invite(p) => p.render()?,
            View::Message(p) => p.render()?,
        };
        Ok(Page { status: self.status, html })
    }
}

/// A list's events, made into rows when the page is formatted (after the node's lock is let
/// go), and what then completes the list once it is known how many rows fit.
struct Rows {
    events: Vec<EventView>,
    tz: TimeZone,
    then: Finish,
}

/// Completes a list given how many of its rows fit.
type Finish = Box<dyn FnOnce(&mut List, usize) + Send>;

/// A rendered page and its status.
pub struct Page {
    /// 200, 404...
    pub status: u16,
    /// The HTML.
    pub html: String,
}

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Reading the node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A template failed to render.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

/// What the page around the content shows: the festival's name, the search box and the
/// emergency banner.
struct Chrome {
    festival: String,
    festival_id: String,
    query: String,
    banner: Vec<Notice>,
}

/// What every page of a festival shares.
struct Frame {
    f: FestivalView,
    tz: TimeZone,
    banner: Vec<Notice>,
    query: String,
}

fn notice(a: &AnnouncementView, tz: &TimeZone) -> Notice {
    let (class, label) = match a.priority {
        Priority::Emergency => ("emergency", "Emergency:"),
        Priority::High => ("high", "Important:"),
        Priority::Normal => ("normal", ""),
    };
    Notice {
        class,
        label,
        text: a.text.clone(),
        when: a.posted_at.map(|t| format_clock(tz, t)).unwrap_or_default(),
        author: a.author_name.clone(),
    }
}

/// Safe links only: a `javascript:` URL in a community event must not become clickable.
fn safe_link(url: &str) -> bool {
    let l = url.trim().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// "Saturday 11 July, 14:00–15:00 at Main Stage".
fn slot_label(tz: &TimeZone, slot: &Slot) -> String {
    let day = jiff::Timestamp::from_second(slot.start)
        .map(|t| t.to_zoned_datetime(tz.clone()).strftime("%A %-d %B, ").to_string())
        .unwrap_or_default();
    let at = if slot.venue_name.is_empty() { String::new() } else { format!(" at {}", slot.venue_name) };
    format!("{day}{}–{}{at}", format_clock(tz, slot.start), format_clock(tz, slot.end))
}

fn day_label(date: &str) -> String {
    jiff::civil::Date::strptime("%Y-%m-%d", date).map(|d| d.strftime("%A %-d %B").to_string()).unwrap_or(date.into())
}

/// Reads a festival for pages: the current one.
pub struct Pages<'a> {
    node: &'a Node,
    festival: FestivalId,
    now: i64,
}

impl<'a> Pages<'a> {
    /// Pages of `festival` at the current time.
    pub fn new(node: &'a Node, festival: FestivalId) -> Pages<'a> {
        Pages { node, festival, now: now_ms() as i64 / 1000 }
    }

    /// What every page shows around its content: the festival, and its emergencies as a banner
    /// (only those are read, not every announcement).
    fn frame(&self, query: &str) -> Result<Frame, PageError> {
        let f = self.node.festival(&self.festival)?;
        let tz = festival_tz(&f);
        let banner = self.node.emergencies(&self.festival, self.now)?.iter().map(|a| notice(a, &tz)).collect();
        Ok(Frame { f, tz, banner, query: query.to_owned() })
    }

    fn chrome(&self, fr: Frame) -> Chrome {
        Chrome { festival: fr.f.fields.name, festival_id: self.festival.to_hex(), query: fr.query, banner: fr.banner }
    }

    fn days(&self) -> Result<Vec<DayLink>, PageError> {
        Ok(self
            .node
            .days(&self.festival)?
            .into_iter()
            .map(|d| DayLink { label: day_label(&d.date), date: d.date, count: d.events })
            .collect())
    }

    /// The start page: emergencies, now and next per venue, announcements, days.
    pub fn home(&self) -> Result<Prepared, PageError> {
        let fr = self.frame("")?;
        let mut all = self.node.announcements(&self.festival, self.now)?;
        // Emergencies first, then the newest.
        all.sort_by_key(|a| std::cmp::Reverse(a.priority as u8));
        let now_next = self
            .node
            .now_next(&self.festival, self.now)?
            .into_iter()
            .filter(|v| v.now.is_some() || v.next.is_some())
            .map(|v| VenueNow {
                venue: if v.venue_name.is_empty() { "No venue".into() } else { v.venue_name },
                now: v.now.as_ref().map(|e| Row::of(e, &fr.tz)),
                next: v.next.as_ref().map(|e| Row::of(e, &fr.tz)),
            })
            .collect();
        let page = Home {
            now: format!("{} ({})", meadow_core::node::format_time(&fr.tz, self.now), fr.f.timezone),
            announcements: all.iter().map(|a| notice(a, &fr.tz)).collect(),
            now_next,
            days: self.days()?,
            c: self.chrome(fr),
        };
        Ok(Prepared::ok(View::Home(page)))
    }

    /// Every day and venue.
    pub fn day_index(&self) -> Result<Prepared, PageError> {
        let fr = self.frame("")?;
        let venues = self.node.venues(&self.festival)?.into_iter().map(|v| v.name).collect();
        let page = Days { c: self.chrome(fr), days: self.days()?, venues };
        Ok(Prepared::ok(View::Days(page)))
    }

    fn list(&self, fr: Frame, heading: String, path: String, venues: Vec<VenueChoice>) -> List {
        List {
            c: self.chrome(fr),
            heading,
            path,
            venues,
            summary: String::new(),
            events: Vec::new(),
            prev_page: String::new(),
            next_page: String::new(),
        }
    }

    /// One day's events by start from the `from`th, a page at a time, optionally at one venue.
    pub fn day(&self, date: &str, venue: Option<&str>, from: usize) -> Result<Prepared, PageError> {
        let Ok(day) = jiff::civil::Date::strptime("%Y-%m-%d", date) else {
            return self.message(404, "Not found", "There is no such day.");
        };
        let fr = self.frame("")?;
        let all_venues = self.node.venues(&self.festival)?;
        let venue_id = venue.and_then(OpId::from_hex).filter(|v| all_venues.iter().any(|x| x.id == *v));
        let filter = ProgrammeFilter { day: Some(day), venue: venue_id, ..Default::default() };
        let ProgrammePage { events, total, .. } =
            self.node.programme_page(&self.festival, &filter, from, PAGE_EVENTS)?;
        let total = total as usize;
        let choices = all_venues
            .iter()
            .map(|v| VenueChoice { id: v.id.to_hex(), name: v.name.clone(), selected: Some(v.id) == venue_id })
            .collect();
        let path = format!("/day/{date}");
        let tz = fr.tz.clone();
        let l = self.list(fr, day_label(date), path.clone(), choices);
        let v = venue_id.map(|v| format!("venue={}&", v.to_hex())).unwrap_or_default();
        let then = move |l: &mut List, shown: usize| {
            l.summary = if total == 0 {
                "No events.".into()
            } else {
                format!("Events {}–{} of {total}", (from + 1).min(total), (from + shown).min(total))
            };
            if from > 0 {
                l.prev_page =
                    format!("{path}?{v}from={}", from.saturating_sub(PAGE_EVENTS).min(total.saturating_sub(1)));
            }
            if from + shown < total {
                l.next_page = format!("{path}?{v}from={}", from + shown);
            }
        };
        Ok(Prepared::ok(View::List(l, Rows { events, tz, then: Box::new(then) })))
    }

    /// Full-text search.
    pub fn search(&self, query: &str) -> Result<Prepared, PageError> {
        let fr = self.frame(query)?;
        let tz = fr.tz.clone();
        let q = query.trim();
        // One more than is shown, to know whether there are more.
        let mut hits =
            if q.is_empty() { Vec::new() } else { self.node.search(&self.festival, q, Some(SEARCH_HITS + 1))? };
        let more = hits.len() > SEARCH_HITS;
        hits.truncate(SEARCH_HITS);
        let l = self.list(fr, "Search".into(), "/search".into(), Vec::new());
        let (q, n) = (q.to_owned(), hits.len());
        let then = move |l: &mut List, shown: usize| {
            l.summary = match (q.is_empty(), n) {
                (true, _) => "Type a title, a name, a venue or a track.".into(),
                (false, 0) => format!("Nothing matches “{q}”."),
                (false, n) if more || shown < n => {
                    format!("The {shown} best of the events that match “{q}”; more words find fewer.")
                }
                (false, n) => format!("{n} events match “{q}”."),
            };
        };
        Ok(Prepared::ok(View::List(l, Rows { events: hits, tz, then: Box::new(then) })))
    }

    /// The events whose ids a visitor's browser keeps as favourites.
    pub fn favourites(&self, ids: &str) -> Result<Prepared, PageError> {
        let fr = self.frame("")?;
        let tz = fr.tz.clone();
        let mut rows: Vec<EventView> = Vec::new();
        for id in ids.split(',').filter_map(|s| OpId::from_hex(s.trim())).take(MAX_FAVOURITES) {
            if let Some(d) = self.node.event_detail(&self.festival, &id)?
                && !rows.iter().any(|r| r.id == d.event.id)
            {
                rows.push(d.event);
            }
        }
        rows.sort_by_key(|e| (e.start, e.venue_name.clone()));
        let mut l = self.list(fr, "Favourites".into(), "/favourites".into(), Vec::new());
        let n = rows.len();
        l.summary = if n == 0 {
            "Tap the star beside an event to keep it here. Favourites stay in this browser (they need JavaScript)."
                .into()
        } else {
            format!("{n} {}, kept in this browser.", if n == 1 { "favourite" } else { "favourites" })
        };
        let then = move |l: &mut List, shown: usize| {
            if shown < n {
                l.summary = format!("The first {shown} of your {n} favourites, kept in this browser.");
            }
        };
        Ok(Prepared::ok(View::List(l, Rows { events: rows, tz, then: Box::new(then) })))
    }

    /// One event's page.
    pub fn event(&self, id: &str) -> Result<Prepared, PageError> {
        let detail = match OpId::from_hex(id) {
            Some(id) => self.node.event_detail(&self.festival, &id)?,
            None => None,
        };
        let Some(d) = detail else {
            return self.message(404, "Not found", "There is no such event in this programme.");
        };
        let fr = self.frame("")?;
        let page = Detail {
            subtitle: d.event.subtitle.clone(),
            day: day_label(&d.event.day),
            paragraphs: d
                .description
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            links: d
                .links
                .iter()
                .filter(|l| safe_link(&l.url) && l.url.chars().count() <= LINK_CHARS)
                .take(EVENT_LINKS)
                .map(|l| (l.url.clone(), clip(if l.title.is_empty() { &l.url } else { &l.title }, 80)))
                .collect(),
            moved_from: d.moved_from.as_ref().map(|m| slot_label(&fr.tz, m)).unwrap_or_default(),
            signer: d
                .provenance
                .as_ref()
                .map(|p| match p.created.author_name.as_str() {
                    "" => p.created.fingerprint.clone(),
                    name => format!("{} ({})", clip(name, 60), p.created.fingerprint),
                })
                .unwrap_or_default(),
            e: Row::whole(&d.event, &fr.tz),
            c: self.chrome(fr),
        };
        Ok(Prepared::ok(View::Detail(page)))
    }

    /// The invite page.
    pub fn invite(&self, link: &str) -> Result<Prepared, PageError> {
        let fr = self.frame("")?;
        let page = InvitePage { c: self.chrome(fr), link: link.to_owned() };
        Ok(Prepared::ok(View::Invite(page)))
    }

    /// A short page with a status (not found, say).
    pub fn message(&self, status: u16, heading: &str, text: &str) -> Result<Prepared, PageError> {
        let fr = self.frame("")?;
        let page = Message { c: self.chrome(fr), heading: heading.into(), text: text.into() };
        Ok(Prepared { status, view: View::Message(page) })
    }
}

/// A page for a node that holds no festival yet.
pub fn no_festival() -> Result<Page, PageError> {
    let page = Message {
        c: Chrome { festival: "Meadow".into(), festival_id: String::new(), query: String::new(), banner: Vec::new() },
        heading: "No programme yet".into(),
        text: "This info point holds no festival yet. It will show the programme as soon as it has one.".into(),
    };
    Ok(Page { status: 503, html: page.render()? })
}
