//! The `summary` column: everything a programme list shows of an event, packed into one blob
//! when the event is written, so that list queries read one column per row from a covering index
//! instead of fourteen. Internal to this store; not a wire format.

use crate::identity::PublicKey;
use crate::model::EventState;
use crate::op::OpId;
use crate::wire::{Reader, WireError, Writer};

const CANCELLED: u8 = 1;
const OFFICIAL: u8 = 2;
/// The venue follows as its 32-byte id: one this festival did not hold when the event was written.
const VENUE_ID: u8 = 4;
const MOVED: u8 = 8;
/// The venue follows as its number in `keys`: a venue of this festival (most events), in a byte
/// or two instead of 32, twice over (the row and the index).
const VENUE_NUMBER: u8 = 16;

/// Where an event takes place, as its summary names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Venue {
    /// Nowhere in particular.
    None,
    /// A venue of the festival, by its number in `keys`.
    Number(i64),
    /// A venue by id.
    Id(OpId),
}

/// Packs an event's list fields; `venue` is how to name its venue (see [`Venue`]).
pub(crate) fn encode(
    id: &OpId,
    creator: &PublicKey,
    official: bool,
    moved: bool,
    venue: Venue,
    day: &str,
    s: &EventState,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(96 + s.title.len());
    w.raw(&id.0);
    w.raw(&creator.0);
    let mut flags = 0;
    if s.cancelled {
        flags |= CANCELLED;
    }
    if official {
        flags |= OFFICIAL;
    }
    match venue {
        Venue::None => {}
        Venue::Number(_) => flags |= VENUE_NUMBER,
        Venue::Id(_) => flags |= VENUE_ID,
    }
    if moved {
        flags |= MOVED;
    }
    w.u8(flags);
    match venue {
        Venue::None => {}
        Venue::Number(n) => w.varint(n as u64),
        Venue::Id(v) => w.raw(&v.0),
    }
    w.zigzag(s.start);
    // As the length from the start: a few bytes instead of a timestamp.
    w.zigzag(s.effective_end().wrapping_sub(s.start));
    for text in [day, &s.title, &s.subtitle, &s.track, &s.kind] {
        w.bytes(text.as_bytes());
    }
    for list in [&s.tags, &s.people] {
        w.varint(list.len() as u64);
        for item in list {
            w.bytes(item.as_bytes());
        }
    }
    w.into_vec()
}

/// The list fields of an event, unpacked.
pub(crate) struct Summary {
    pub id: OpId,
    pub creator: PublicKey,
    pub cancelled: bool,
    pub official: bool,
    pub moved: bool,
    pub venue: Venue,
    pub start: i64,
    pub end: i64,
    pub day: String,
    pub title: String,
    pub subtitle: String,
    pub track: String,
    pub kind: String,
    pub tags: Vec<String>,
    pub people: Vec<String>,
}

fn text(r: &mut Reader<'_>) -> Result<String, WireError> {
    let b = r.bytes()?;
    std::str::from_utf8(b).map(str::to_owned).map_err(|_| WireError::InvalidUtf8(0))
}

fn list(r: &mut Reader<'_>) -> Result<Vec<String>, WireError> {
    let n = r.varint()?;
    // Each item takes at least a byte, which bounds the allocation by the blob's size.
    let mut out = Vec::with_capacity((n as usize).min(r.remaining()));
    for _ in 0..n {
        out.push(text(r)?);
    }
    Ok(out)
}

/// Unpacks [`encode`].
pub(crate) fn decode(b: &[u8]) -> Result<Summary, WireError> {
    let mut r = Reader::new(b);
    let id = OpId(r.array()?);
    let creator = PublicKey(r.array()?);
    let flags = r.u8()?;
    let venue = if flags & VENUE_NUMBER != 0 {
        Venue::Number(r.varint()? as i64)
    } else if flags & VENUE_ID != 0 {
        Venue::Id(OpId(r.array()?))
    } else {
        Venue::None
    };
    let start = r.zigzag()?;
    let end = start.wrapping_add(r.zigzag()?);
    let summary = Summary {
        id,
        creator,
        cancelled: flags & CANCELLED != 0,
        official: flags & OFFICIAL != 0,
        moved: flags & MOVED != 0,
        venue,
        start,
        end,
        day: text(&mut r)?,
        title: text(&mut r)?,
        subtitle: text(&mut r)?,
        track: text(&mut r)?,
        kind: text(&mut r)?,
        tags: list(&mut r)?,
        people: list(&mut r)?,
    };
    r.finish()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = EventState {
            title: "Opening".into(),
            track: "Music".into(),
            tags: vec!["a".into(), "b".into()],
            people: vec!["Zoë".into()],
            start: 100,
            end: 50,
            venue: Some(OpId([4; 32])),
            cancelled: true,
            ..Default::default()
        };
        for venue in [Venue::Id(OpId([4; 32])), Venue::Number(300), Venue::None] {
            let b = encode(&OpId([1; 32]), &PublicKey([2; 32]), true, true, venue, "2026-07-10", &s);
            let d = decode(&b).expect("decodes");
            assert_eq!((d.id, d.creator, d.venue), (OpId([1; 32]), PublicKey([2; 32]), venue));
            assert_eq!((d.start, d.end, d.cancelled, d.official, d.moved), (100, 100, true, true, true));
            assert_eq!((d.day.as_str(), d.title.as_str(), d.track.as_str()), ("2026-07-10", "Opening", "Music"));
            assert_eq!(d.tags, vec!["a", "b"]);
            assert_eq!(d.people, vec!["Zoë"]);
            assert!(decode(&b[..b.len() - 1]).is_err());
        }
        let numbered = encode(&OpId([1; 32]), &PublicKey([2; 32]), true, true, Venue::Number(300), "d", &s);
        let by_id = encode(&OpId([1; 32]), &PublicKey([2; 32]), true, true, Venue::Id(OpId([4; 32])), "d", &s);
        assert_eq!(by_id.len() - numbered.len(), 30);
    }
}
