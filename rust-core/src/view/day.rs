//! A day of the programme as a phone's list and grid show it: venues and tracks named once, each
//! event's column and lane in the grid, and where the "now" line goes in the list.

use std::collections::HashMap;

use super::{EventView, VenueView};
use crate::op::OpId;

/// Shortest time an event takes in the grid: one without an end still gets a cell.
pub const MIN_CELL_SECONDS: i64 = 900;

/// One event of a [`DayView`]: what a list row or a grid cell shows, with its venue and track as
/// positions in the view's tables (a day names a dozen venues a thousand times).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DayRow {
    /// Id.
    pub id: OpId,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Position of its venue in [`DayView::venues`], if it has one.
    pub venue: Option<u32>,
    /// Position of its track in [`DayView::tracks`], if it has one.
    pub track: Option<u32>,
    /// Cancelled.
    pub cancelled: bool,
    /// Moved from the time or venue it was first announced with.
    pub moved: bool,
    /// Posted by organisers.
    pub official: bool,
    /// Favourite on this device.
    pub favourite: bool,
    /// How many of the viewer's crew favour it or head there.
    pub crew: u32,
    /// Its lane in its venue's grid column: events that overlap there sit side by side.
    pub lane: u32,
    /// How many lanes its group of overlapping events needs (the column's width is shared).
    pub lanes: u32,
}

/// A page of a day's programme: the venues and tracks once, then the rows in programme order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DayView {
    /// Venue names the rows point at, in the festival's venue order as far as rows use them.
    pub venues: Vec<String>,
    /// Tracks the rows point at.
    pub tracks: Vec<String>,
    /// The events of this page.
    pub rows: Vec<DayRow>,
    /// Where the page starts in the whole day.
    pub offset: u32,
    /// How many events the whole day holds.
    pub total: u32,
}

/// Position of `name` in `table`, adding it the first time; `None` for no name.
fn index(name: String, table: &mut Vec<String>, at: &mut HashMap<String, u32>) -> Option<u32> {
    if name.is_empty() {
        return None;
    }
    Some(*at.entry(name).or_insert_with_key(|n| {
        table.push(n.clone());
        table.len() as u32 - 1
    }))
}

impl DayView {
    /// The view of `events` (in programme order), a page from `offset` of `total`, its venues
    /// in the order of `order` (the festival's venues, as the store orders them).
    pub fn new(events: Vec<EventView>, offset: u32, total: u32, order: &[VenueView]) -> Self {
        let used: std::collections::HashSet<&str> = events.iter().map(|e| e.venue_name.as_str()).collect();
        let (mut venues, mut venue_at) = (Vec::new(), HashMap::new());
        for v in order.iter().filter(|v| used.contains(v.name.as_str())) {
            index(v.name.clone(), &mut venues, &mut venue_at);
        }
        let (mut tracks, mut track_at) = (Vec::new(), HashMap::new());
        let mut rows: Vec<DayRow> = events
            .into_iter()
            .map(|e| DayRow {
                id: e.id,
                title: e.title,
                subtitle: e.subtitle,
                start: e.start,
                end: e.end,
                venue: index(e.venue_name, &mut venues, &mut venue_at),
                track: index(e.track, &mut tracks, &mut track_at),
                cancelled: e.cancelled,
                moved: e.moved,
                official: e.official,
                favourite: e.favourite,
                crew: e.crew,
                lane: 0,
                lanes: 1,
            })
            .collect();
        // Events without a venue share one column after the venues'.
        let cells: Vec<(u32, i64, i64)> = rows
            .iter()
            .map(|r| (r.venue.unwrap_or(venues.len() as u32), r.start, r.end.max(r.start + MIN_CELL_SECONDS)))
            .collect();
        for (row, (lane, lanes)) in rows.iter_mut().zip(lanes(&cells)) {
            (row.lane, row.lanes) = (lane, lanes);
        }
        DayView { venues, tracks, rows, offset, total }
    }
}

/// For cells given as (column, start, end), each one's lane and how many lanes its group of
/// overlapping cells needs, so that no two overlapping cells of a column cover each other: a
/// cell takes the first lane free at its start, and a group ends where no cell runs on.
pub fn lanes(cells: &[(u32, i64, i64)]) -> Vec<(u32, u32)> {
    let mut out = vec![(0u32, 1u32); cells.len()];
    let mut columns: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        columns.entry(c.0).or_default().push(i);
    }
    for mut column in columns.into_values() {
        column.sort_by_key(|&i| (cells[i].1, cells[i].2, i));
        let (mut group, mut group_end, mut lane_ends): (Vec<usize>, i64, Vec<i64>) = (Vec::new(), i64::MIN, Vec::new());
        let close = |group: &mut Vec<usize>, lane_ends: &mut Vec<i64>, out: &mut Vec<(u32, u32)>| {
            let width = lane_ends.len().max(1) as u32;
            group.drain(..).for_each(|i| out[i].1 = width);
            lane_ends.clear();
        };
        for i in column {
            let (_, start, end) = cells[i];
            if start >= group_end {
                close(&mut group, &mut lane_ends, &mut out);
            }
            let lane = match lane_ends.iter().position(|&e| e <= start) {
                Some(l) => {
                    lane_ends[l] = end;
                    l
                }
                None => {
                    lane_ends.push(end);
                    lane_ends.len() - 1
                }
            };
            out[i].0 = lane as u32;
            group.push(i);
            group_end = group_end.max(end);
        }
        close(&mut group, &mut lane_ends, &mut out);
    }
    out
}

/// Where the "now" line goes in a list of (start, end) rows in programme order: before the first
/// row that has not started, while now lies within the rows' span; `None` on another day.
pub fn now_line(rows: &[(i64, i64)], now: i64) -> Option<usize> {
    let first = rows.first()?.0;
    let last = rows.iter().map(|&(s, e)| s.max(e)).max()?;
    if now < first || now > last {
        return None;
    }
    Some(rows.iter().position(|&(s, _)| s > now).unwrap_or(rows.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_cells_of_a_column_sit_side_by_side_and_others_keep_the_whole_width() {
        // Column 0: 10-12 and 11-13 overlap, 13-14 follows them alone; column 1 overlaps nothing.
        let cells = [(0, 10, 12), (0, 11, 13), (0, 13, 14), (1, 10, 20), (0, 11, 12)];
        let got = lanes(&cells);
        assert_eq!(got[0], (0, 3));
        assert_eq!(got[4], (1, 3), "the one ending first takes the next lane");
        assert_eq!(got[1], (2, 3), "a third overlapping cell takes a third lane");
        assert_eq!(got[2], (0, 1), "after the group ends, the whole column again");
        assert_eq!(got[3], (0, 1));
        // A lane freed at 12 is taken again by a cell starting then.
        let got = lanes(&[(0, 10, 12), (0, 10, 14), (0, 12, 13)]);
        assert_eq!(got, vec![(0, 2), (1, 2), (0, 2)]);
    }

    #[test]
    fn the_now_line_goes_before_what_has_not_started_on_the_day_that_holds_now() {
        let rows = [(100, 200), (150, 160), (300, 400)];
        assert_eq!(now_line(&rows, 50), None, "before the day");
        assert_eq!(now_line(&rows, 100), Some(1));
        assert_eq!(now_line(&rows, 170), Some(2));
        assert_eq!(now_line(&rows, 400), Some(3), "the last event still runs");
        assert_eq!(now_line(&rows, 401), None, "after the day");
        assert_eq!(now_line(&[], 100), None);
    }
}
