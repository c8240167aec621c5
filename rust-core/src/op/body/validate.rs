//! The schema rules every body must follow, freshly made or received: lengths, required fields,
//! ranges, one canonical form.

use super::*;

pub(super) fn check_text(field: &'static str, s: &str, max: usize, multiline: bool) -> Result<(), SchemaError> {
    if s.len() > max {
        return Err(invalid(field, format!("{} bytes, limit {max}", s.len())));
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t'));
    if s.chars().any(bad) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

pub(super) fn check_time(field: &'static str, t: i64) -> Result<(), SchemaError> {
    if !(limits::TIME_RANGE.0..=limits::TIME_RANGE.1).contains(&t) {
        return Err(invalid(field, "time out of range"));
    }
    Ok(())
}

pub(super) fn check_list(field: &'static str, items: &[String], max_item: usize) -> Result<(), SchemaError> {
    if items.len() > limits::LIST_ITEMS {
        return Err(invalid(field, format!("more than {} items", limits::LIST_ITEMS)));
    }
    items.iter().try_for_each(|s| check_text(field, s, max_item, false))
}

pub(super) fn timezone_ok(tz: &str) -> Result<(), SchemaError> {
    // Syntax only: whether a zone exists depends on the tz database version, and validity must
    // not differ between devices. Unknown zones display as UTC.
    let ok = !tz.is_empty()
        && tz.len() <= limits::LABEL
        && tz.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if ok { Ok(()) } else { Err(invalid("timezone", format!("not a time zone name: {tz:?}"))) }
}

impl FestivalPatch {
    pub(super) fn validate(&self) -> Result<(), SchemaError> {
        if let Some(n) = &self.name {
            check_text("name", n, limits::NAME, false)?;
            if n.trim().is_empty() {
                return Err(invalid("name", "must not be empty"));
            }
        }
        if let Some(d) = &self.description {
            check_text("description", d, limits::DESCRIPTION, true)?;
        }
        if let Some(tz) = &self.timezone {
            timezone_ok(tz)?;
        }
        if let Some(p) = &self.place {
            check_text("place", p, limits::NAME, false)?;
        }
        if let (Some(s), Some(e)) = (self.start_date, self.end_date)
            && e < s
        {
            return Err(invalid("end_date", "before start_date"));
        }
        if let Some(m) = self.day_change_minutes
            && m >= 24 * 60
        {
            return Err(invalid("day_change_minutes", "must be under 1440"));
        }
        Ok(())
    }

    pub(super) fn is_empty(&self) -> bool {
        *self == FestivalPatch::default()
    }
}

impl EventPatch {
    pub(super) fn validate(&self) -> Result<(), SchemaError> {
        if let Some(t) = &self.title {
            check_text("title", t, limits::TITLE, false)?;
            if t.trim().is_empty() {
                return Err(invalid("title", "must not be empty"));
            }
        }
        for (name, v, max, ml) in [
            ("subtitle", &self.subtitle, limits::TITLE, false),
            ("description", &self.description, limits::DESCRIPTION, true),
            ("track", &self.track, limits::LABEL, false),
            ("kind", &self.kind, limits::LABEL, false),
            ("language", &self.language, limits::LABEL, false),
            ("source_id", &self.source_id, limits::LABEL, false),
            ("url", &self.url, limits::URL, false),
            ("recording_license", &self.recording_license, limits::NAME, false),
        ] {
            if let Some(s) = v {
                check_text(name, s, max, ml)?;
            }
        }
        if let Some(t) = self.start {
            check_time("start", t)?;
        }
        if let Some(t) = self.end {
            check_time("end", t)?;
        }
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if e < s {
                return Err(invalid("end", "before start"));
            }
            if e - s > limits::MAX_EVENT_SECONDS {
                return Err(invalid("end", "event longer than a year"));
            }
        }
        if let Some(tags) = &self.tags {
            check_list("tags", tags, limits::LABEL)?;
        }
        if let Some(people) = &self.people {
            check_list("people", people, limits::NAME)?;
        }
        if let Some(n) = self.source_number
            && !(1..=limits::MAX_SOURCE_NUMBER).contains(&n)
        {
            return Err(invalid("source_number", "out of range"));
        }
        if let Some(links) = &self.links {
            if links.len() > limits::LINKS {
                return Err(invalid("links", format!("more than {}", limits::LINKS)));
            }
            for l in links {
                check_text("links", &l.url, limits::URL, false)?;
                check_text("links", &l.title, limits::NAME, false)?;
            }
        }
        Ok(())
    }
}

impl VenuePatch {
    pub(super) fn validate(&self) -> Result<(), SchemaError> {
        if let Some(n) = &self.name {
            check_text("name", n, limits::NAME, false)?;
            if n.trim().is_empty() {
                return Err(invalid("name", "must not be empty"));
            }
        }
        if let Some(d) = &self.description {
            check_text("description", d, limits::DESCRIPTION, true)?;
        }
        if let Some(s) = &self.source_id {
            check_text("source_id", s, limits::LABEL, false)?;
        }
        if let Some(p) = self.location {
            check_geo(p)?;
        }
        if self.position.is_some_and(|p| p > limits::MAX_POSITION) {
            return Err(invalid("position", "out of range"));
        }
        Ok(())
    }
}

pub(super) fn check_geo(p: GeoPoint) -> Result<(), SchemaError> {
    if p.lat_e7.unsigned_abs() > 900_000_000 || p.lon_e7.unsigned_abs() > 1_800_000_000 {
        return Err(invalid("location", "coordinates out of range"));
    }
    Ok(())
}

impl Body {
    /// Checks the rules that both freshly made and received bodies must follow.
    pub fn validate(&self) -> Result<(), SchemaError> {
        match self {
            Body::FestivalCreate(c) => {
                c.fields.validate()?;
                let f = &c.fields;
                f.name.as_ref().ok_or(SchemaError::Missing("name"))?;
                f.timezone.as_ref().ok_or(SchemaError::Missing("timezone"))?;
                f.start_date.ok_or(SchemaError::Missing("start_date"))?;
                f.end_date.ok_or(SchemaError::Missing("end_date"))?;
            }
            Body::FestivalEdit(p) => {
                p.validate()?;
                if p.is_empty() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Venue { target, patch } => {
                patch.validate()?;
                if target.is_none() && patch.name.is_none() {
                    return Err(SchemaError::Missing("name"));
                }
                if target.is_some() && *patch == VenuePatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Event { target, patch } => {
                patch.validate()?;
                if target.is_none() {
                    patch.title.as_ref().ok_or(SchemaError::Missing("title"))?;
                    patch.start.ok_or(SchemaError::Missing("start"))?;
                    patch.end.ok_or(SchemaError::Missing("end"))?;
                } else if *patch == EventPatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Announcement(a) => {
                check_text("text", &a.text, limits::ANNOUNCEMENT, true)?;
                if a.text.trim().is_empty() {
                    return Err(invalid("text", "must not be empty"));
                }
                if let Some(e) = a.expires {
                    check_time("expires", e)?;
                }
            }
            Body::Profile(p) => {
                if let Some(n) = &p.display_name {
                    check_text("display_name", n, limits::NAME, false)?;
                }
                if let Some(a) = &p.about {
                    check_text("about", a, limits::DESCRIPTION, true)?;
                }
                if *p == ProfilePatch::default() {
                    return Err(SchemaError::EmptyPatch);
                }
            }
            Body::Moderation(m) => {
                if m.community.is_none() && m.approve.is_empty() {
                    return Err(SchemaError::EmptyPatch);
                }
                if m.approve.len() > limits::APPROVALS {
                    return Err(invalid("approve", format!("more than {} keys", limits::APPROVALS)));
                }
                // One canonical encoding per rule: keys strictly increasing.
                if m.approve.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(invalid("approve", "keys must be sorted and unique"));
                }
            }
            Body::Delete { .. }
            | Body::RoleGrant { .. }
            | Body::RoleRevoke { .. }
            | Body::Hide { .. }
            | Body::Crew(_)
            | Body::Unknown { .. } => {}
        }
        Ok(())
    }
}
