//! Festivals and their venues: creating (or forking) one, editing it, finding and adding venues.

use super::*;

impl Node {
    /// Creates a festival owned by this identity and selects it.
    pub fn create_festival(&mut self, f: NewFestival) -> Result<FestivalId, NodeError> {
        self.create_festival_from(f, None)
    }

    /// Creates a festival that records where it was forked from.
    pub fn create_festival_from(
        &mut self,
        f: NewFestival,
        forked_from: Option<ForkRef>,
    ) -> Result<FestivalId, NodeError> {
        let (id, body) = self.festival_creation(f, forked_from)?;
        self.write(id, body)?;
        self.use_festival(&id)?;
        Ok(id)
    }

    /// The id and body of a new festival of this key's, not yet signed or stored.
    pub(super) fn festival_creation(
        &self,
        f: NewFestival,
        forked_from: Option<ForkRef>,
    ) -> Result<(FestivalId, Body), NodeError> {
        if TimeZone::get(&f.timezone).is_err() {
            return Err(NodeError::Field {
                field: "timezone",
                reason: format!("unknown time zone {:?} (use an IANA name like Europe/Berlin)", f.timezone),
            });
        }

        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| IdentityError::Random(e.to_string()))?;
        let id = FestivalId::derive(&self.public_key(), &nonce);
        let body = Body::FestivalCreate(FestivalCreate { nonce, fields: f.into_patch(), forked_from });
        Ok((id, body))
    }

    /// Edits festival fields (owner and organisers).
    pub fn edit_festival(&mut self, festival: FestivalId, patch: FestivalPatch) -> Result<(), NodeError> {
        self.require_official(&festival, "edit the festival")?;
        if let Some(tz) = &patch.timezone
            && TimeZone::get(tz).is_err()
        {
            return Err(NodeError::Field { field: "timezone", reason: format!("unknown time zone {tz:?}") });
        }
        self.write(festival, Body::FestivalEdit(patch))?;
        Ok(())
    }

    /// Finds a venue by its name (ignoring case), the start of its name if only one venue's name
    /// starts so, or an id prefix.
    pub fn find_venue(&self, festival: &FestivalId, key: &str) -> Result<VenueView, NodeError> {
        let key = key.trim();
        let venues = self.store.venues(festival)?;
        if let Some(v) = venues.iter().find(|v| v.name.eq_ignore_ascii_case(key)) {
            return Ok(v.clone());
        }
        let lower = key.to_lowercase();
        let by_name: Vec<_> =
            venues.iter().filter(|v| !lower.is_empty() && v.name.to_lowercase().starts_with(&lower)).collect();
        let by_id: Vec<_> = venues.iter().filter(|v| lower.len() >= 4 && v.id.to_hex().starts_with(&lower)).collect();
        match (by_name.as_slice(), by_id.as_slice()) {
            ([v], _) | ([], [v]) => Ok((*v).clone()),
            (several, _) if several.len() > 1 => {
                let names: Vec<_> = several.iter().map(|v| v.name.as_str()).collect();
                Err(NodeError::Invalid(format!("venue {key:?} could be {}: give more of the name", names.join(" or "))))
            }
            _ => {
                let names: Vec<_> = venues.iter().map(|v| v.name.as_str()).collect();
                Err(NodeError::NotFound(format!("venue {key:?} (known venues: {})", names.join(", "))))
            }
        }
    }

    /// Adds a venue.
    pub fn add_venue(&mut self, festival: FestivalId, patch: VenuePatch) -> Result<OpId, NodeError> {
        self.festival(&festival)?;
        if let Some(name) = &patch.name
            && self.store.venues(&festival)?.iter().any(|v| v.name.eq_ignore_ascii_case(name))
        {
            return Err(NodeError::Field { field: "name", reason: format!("a venue named {name:?} already exists") });
        }
        self.write(festival, Body::Venue { target: None, patch })
    }
}
