//! The canonical encoding of bodies: one kind byte, then fields in increasing number, and its
//! strict decoder. Field numbers come from the one table in `fields`.

use super::*;

pub(super) struct FieldWriter(Writer);

impl FieldWriter {
    pub(super) fn text(&mut self, no: u64, v: &Option<String>) {
        if let Some(s) = v {
            self.0.field(no, s.as_bytes());
        }
    }
    pub(super) fn uint(&mut self, no: u64, v: Option<u64>) {
        if let Some(v) = v {
            self.0.field(no, &crate::wire::varint_bytes(v));
        }
    }
    pub(super) fn int(&mut self, no: u64, v: Option<i64>) {
        if let Some(v) = v {
            self.0.field(no, &crate::wire::zigzag_bytes(v));
        }
    }
    pub(super) fn raw(&mut self, no: u64, v: Option<&[u8]>) {
        if let Some(v) = v {
            self.0.field(no, v);
        }
    }
    pub(super) fn list(&mut self, no: u64, v: &Option<Vec<String>>) {
        if let Some(items) = v {
            let mut inner = Writer::new();
            for item in items {
                inner.bytes(item.as_bytes());
            }
            self.0.field(no, inner.as_slice());
        }
    }
}

pub(super) fn date_code(d: Date) -> u64 {
    // YYYYMMDD keeps test vectors readable; validity is checked on decode.
    (d.year() as u64) * 10000 + (d.month() as u64) * 100 + d.day() as u64
}

pub(super) fn date_from_code(field: &'static str, v: &[u8]) -> Result<Date, SchemaError> {
    let code = read_varint_exact(v)?;
    let (y, m, d) = (code / 10000, (code / 100) % 100, code % 100);
    if !(1..=9999).contains(&y) {
        return Err(invalid(field, "year out of range"));
    }
    Date::new(y as i16, m as i8, d as i8).map_err(|_| invalid(field, format!("no such date {code}")))
}

pub(super) fn text(field: &'static str, v: &[u8], max: usize, multiline: bool) -> Result<String, SchemaError> {
    let s = std::str::from_utf8(v).map_err(|_| invalid(field, "not UTF-8"))?;
    check_text(field, s, max, multiline)?;
    Ok(s.to_owned())
}

pub(super) fn id32(field: &'static str, v: &[u8]) -> Result<[u8; 32], SchemaError> {
    v.try_into().map_err(|_| invalid(field, "expected 32 bytes"))
}

pub(super) fn flag(field: &'static str, v: &[u8]) -> Result<bool, SchemaError> {
    match read_varint_exact(v)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(invalid(field, "expected 0 or 1")),
    }
}

/// A varint field that must lie in `range`.
pub(super) fn number(field: &'static str, v: &[u8], range: std::ops::RangeInclusive<u32>) -> Result<u32, SchemaError> {
    u32::try_from(read_varint_exact(v)?)
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| invalid(field, "out of range"))
}

pub(super) fn time(field: &'static str, v: &[u8]) -> Result<i64, SchemaError> {
    let t = read_zigzag_exact(v)?;
    check_time(field, t)?;
    Ok(t)
}

pub(super) fn string_list(field: &'static str, v: &[u8], max_item: usize) -> Result<Vec<String>, SchemaError> {
    let mut r = Reader::new(v);
    let mut out = Vec::new();
    while !r.is_at_end() {
        if out.len() == limits::LIST_ITEMS {
            return Err(invalid(field, format!("more than {} items", limits::LIST_ITEMS)));
        }
        out.push(text(field, r.bytes()?, max_item, false)?);
    }
    Ok(out)
}

impl FestivalPatch {
    pub(super) fn encode_into(&self, w: &mut FieldWriter, base: u64) {
        w.text(base + festival::NAME, &self.name);
        w.text(base + festival::DESCRIPTION, &self.description);
        w.text(base + festival::TIMEZONE, &self.timezone);
        w.uint(base + festival::START_DATE, self.start_date.map(date_code));
        w.uint(base + festival::END_DATE, self.end_date.map(date_code));
        w.text(base + festival::PLACE, &self.place);
        w.uint(base + festival::DAY_CHANGE_MINUTES, self.day_change_minutes.map(u64::from));
    }

    /// Sets the field numbered `no - base`; returns false for numbers it does not own.
    pub(super) fn decode_field(&mut self, no: u64, base: u64, v: &[u8]) -> Result<bool, SchemaError> {
        match no.wrapping_sub(base) {
            festival::NAME => self.name = Some(text("name", v, limits::NAME, false)?),
            festival::DESCRIPTION => self.description = Some(text("description", v, limits::DESCRIPTION, true)?),
            festival::TIMEZONE => self.timezone = Some(text("timezone", v, limits::LABEL, false)?),
            festival::START_DATE => self.start_date = Some(date_from_code("start_date", v)?),
            festival::END_DATE => self.end_date = Some(date_from_code("end_date", v)?),
            festival::PLACE => self.place = Some(text("place", v, limits::NAME, false)?),
            festival::DAY_CHANGE_MINUTES => {
                let m = read_varint_exact(v)?;
                if m >= 24 * 60 {
                    return Err(invalid("day_change_minutes", "must be under 1440"));
                }
                self.day_change_minutes = Some(m as u16);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Body {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = FieldWriter(Writer::with_capacity(128));
        w.0.u8(self.kind_byte());
        match self {
            Body::FestivalCreate(c) => {
                w.raw(create::NONCE, Some(&c.nonce));
                c.fields.encode_into(&mut w, create::FIELDS);
                if let Some(f) = &c.forked_from {
                    w.raw(create::FORKED_FROM, Some(f.festival.as_bytes()));
                    w.raw(create::FORKED_FROM_OP, Some(f.op.as_bytes()));
                }
            }
            Body::FestivalEdit(p) => p.encode_into(&mut w, edit::FIELDS),
            Body::Venue { target, patch } => {
                w.raw(venue::TARGET, target.as_ref().map(|t| &t.0[..]));
                w.text(venue::NAME, &patch.name);
                w.text(venue::DESCRIPTION, &patch.description);
                if let Some(p) = patch.location {
                    let mut inner = Writer::new();
                    inner.zigzag(i64::from(p.lat_e7));
                    inner.zigzag(i64::from(p.lon_e7));
                    w.raw(venue::LOCATION, Some(inner.as_slice()));
                }
                w.text(venue::SOURCE_ID, &patch.source_id);
                w.uint(venue::POSITION, patch.position.map(u64::from));
            }
            Body::Event { target, patch: p } => {
                w.raw(event::TARGET, target.as_ref().map(|t| &t.0[..]));
                w.text(event::TITLE, &p.title);
                w.text(event::SUBTITLE, &p.subtitle);
                w.text(event::DESCRIPTION, &p.description);
                w.int(event::START, p.start);
                w.int(event::END, p.end);
                if let Some(v) = &p.venue {
                    w.raw(event::VENUE, Some(v.as_ref().map(|v| &v.0[..]).unwrap_or(&[])));
                }
                w.text(event::TRACK, &p.track);
                w.text(event::KIND, &p.kind);
                w.list(event::TAGS, &p.tags);
                w.list(event::PEOPLE, &p.people);
                w.text(event::LANGUAGE, &p.language);
                if let Some(links) = &p.links {
                    let mut inner = Writer::new();
                    for l in links {
                        inner.bytes(l.url.as_bytes());
                        inner.bytes(l.title.as_bytes());
                    }
                    w.raw(event::LINKS, Some(inner.as_slice()));
                }
                w.uint(event::CANCELLED, p.cancelled.map(u64::from));
                w.text(event::SOURCE_ID, &p.source_id);
                w.text(event::URL, &p.url);
                w.uint(event::SOURCE_NUMBER, p.source_number.map(u64::from));
                w.uint(event::DO_NOT_RECORD, p.do_not_record.map(u64::from));
                w.text(event::RECORDING_LICENSE, &p.recording_license);
            }
            Body::Delete { target } => w.raw(delete::TARGET, Some(target.as_bytes())),
            Body::Announcement(a) => {
                w.text(announcement::TEXT, &Some(a.text.clone()));
                w.uint(announcement::PRIORITY, Some(a.priority as u64));
                w.int(announcement::EXPIRES, a.expires);
            }
            Body::RoleGrant { member, role } => {
                w.raw(role::MEMBER, Some(member.as_bytes()));
                w.uint(role::ROLE, Some(*role as u64));
            }
            Body::RoleRevoke { member, role, after_seq } => {
                w.raw(role::MEMBER, Some(member.as_bytes()));
                w.uint(role::ROLE, Some(*role as u64));
                w.uint(role::AFTER_SEQ, *after_seq);
            }
            Body::Profile(p) => {
                w.text(profile::DISPLAY_NAME, &p.display_name);
                w.text(profile::ABOUT, &p.about);
            }
            Body::Hide { target, hidden } => {
                match target {
                    HideTarget::Entity(id) => w.raw(hide::ENTITY, Some(id.as_bytes())),
                    HideTarget::Author(k) => w.raw(hide::AUTHOR, Some(k.as_bytes())),
                }
                w.uint(hide::HIDDEN, Some(u64::from(*hidden)));
            }
            Body::Moderation(m) => {
                w.uint(moderation::COMMUNITY, m.community.map(|c| c as u64));
                if !m.approve.is_empty() {
                    let keys: Vec<u8> = m.approve.iter().flat_map(|k| k.0).collect();
                    w.raw(moderation::APPROVE, Some(&keys));
                }
            }
            Body::Crew(c) => c.encode_fields(&mut w.0),
            Body::Unknown { .. } => {}
        }
        w.0.into_vec()
    }

    /// Decodes and schema-checks a body.
    pub fn decode(bytes: &[u8]) -> Result<Body, SchemaError> {
        let (&kind, rest) = bytes.split_first().ok_or(SchemaError::Empty)?;
        let mut fields = Fields::new(rest);
        let body = match kind {
            1 => {
                let mut nonce = None;
                let mut patch = FestivalPatch::default();
                let (mut fork_festival, mut fork_op) = (None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        create::NONCE => nonce = Some(v.try_into().map_err(|_| invalid("nonce", "expected 16 bytes"))?),
                        create::FORKED_FROM => fork_festival = Some(FestivalId(id32("forked_from", v)?)),
                        create::FORKED_FROM_OP => fork_op = Some(OpId(id32("forked_from_op", v)?)),
                        _ => {
                            patch.decode_field(no, create::FIELDS, v)?;
                        }
                    }
                }
                let forked_from = match (fork_festival, fork_op) {
                    (Some(festival), Some(op)) => Some(ForkRef { festival, op }),
                    (None, None) => None,
                    _ => return Err(invalid("forked_from", "needs both festival and op")),
                };
                Body::FestivalCreate(FestivalCreate {
                    nonce: nonce.ok_or(SchemaError::Missing("nonce"))?,
                    fields: patch,
                    forked_from,
                })
            }
            2 => {
                let mut patch = FestivalPatch::default();
                while let Some((no, v)) = fields.next_field()? {
                    patch.decode_field(no, edit::FIELDS, v)?;
                }
                Body::FestivalEdit(patch)
            }
            3 => {
                let (mut target, mut patch) = (None, VenuePatch::default());
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        venue::TARGET => target = Some(OpId(id32("target", v)?)),
                        venue::NAME => patch.name = Some(text("name", v, limits::NAME, false)?),
                        venue::DESCRIPTION => {
                            patch.description = Some(text("description", v, limits::DESCRIPTION, true)?)
                        }
                        venue::LOCATION => {
                            let mut r = Reader::new(v);
                            let lat = r.zigzag()?;
                            let lon = r.zigzag()?;
                            r.finish()?;
                            let p = GeoPoint {
                                lat_e7: i32::try_from(lat).map_err(|_| invalid("location", "latitude out of range"))?,
                                lon_e7: i32::try_from(lon)
                                    .map_err(|_| invalid("location", "longitude out of range"))?,
                            };
                            patch.location = Some(p);
                        }
                        venue::SOURCE_ID => patch.source_id = Some(text("source_id", v, limits::LABEL, false)?),
                        venue::POSITION => patch.position = Some(number("position", v, 0..=limits::MAX_POSITION)?),
                        _ => {}
                    }
                }
                Body::Venue { target, patch }
            }
            4 => {
                let (mut target, mut p) = (None, EventPatch::default());
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        event::TARGET => target = Some(OpId(id32("target", v)?)),
                        event::TITLE => p.title = Some(text("title", v, limits::TITLE, false)?),
                        event::SUBTITLE => p.subtitle = Some(text("subtitle", v, limits::TITLE, false)?),
                        event::DESCRIPTION => p.description = Some(text("description", v, limits::DESCRIPTION, true)?),
                        event::START => p.start = Some(time("start", v)?),
                        event::END => p.end = Some(time("end", v)?),
                        event::VENUE => p.venue = Some(if v.is_empty() { None } else { Some(OpId(id32("venue", v)?)) }),
                        event::TRACK => p.track = Some(text("track", v, limits::LABEL, false)?),
                        event::KIND => p.kind = Some(text("kind", v, limits::LABEL, false)?),
                        event::TAGS => p.tags = Some(string_list("tags", v, limits::LABEL)?),
                        event::PEOPLE => p.people = Some(string_list("people", v, limits::NAME)?),
                        event::LANGUAGE => p.language = Some(text("language", v, limits::LABEL, false)?),
                        event::LINKS => {
                            let mut r = Reader::new(v);
                            let mut links = Vec::new();
                            while !r.is_at_end() {
                                if links.len() == limits::LINKS {
                                    return Err(invalid("links", format!("more than {}", limits::LINKS)));
                                }
                                let url = text("links", r.bytes()?, limits::URL, false)?;
                                let title = text("links", r.bytes()?, limits::NAME, false)?;
                                links.push(Link { url, title });
                            }
                            p.links = Some(links);
                        }
                        event::CANCELLED => p.cancelled = Some(flag("cancelled", v)?),
                        event::SOURCE_ID => p.source_id = Some(text("source_id", v, limits::LABEL, false)?),
                        event::URL => p.url = Some(text("url", v, limits::URL, false)?),
                        event::SOURCE_NUMBER => {
                            p.source_number = Some(number("source_number", v, 1..=limits::MAX_SOURCE_NUMBER)?)
                        }
                        event::DO_NOT_RECORD => p.do_not_record = Some(flag("do_not_record", v)?),
                        event::RECORDING_LICENSE => {
                            p.recording_license = Some(text("recording_license", v, limits::NAME, false)?)
                        }
                        _ => {}
                    }
                }
                Body::Event { target, patch: p }
            }
            5 => {
                let mut target = None;
                while let Some((no, v)) = fields.next_field()? {
                    if no == delete::TARGET {
                        target = Some(OpId(id32("target", v)?));
                    }
                }
                Body::Delete { target: target.ok_or(SchemaError::Missing("target"))? }
            }
            6 => {
                let (mut t, mut pr, mut ex) = (None, Priority::Normal, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        announcement::TEXT => t = Some(text("text", v, limits::ANNOUNCEMENT, true)?),
                        announcement::PRIORITY => {
                            pr = Priority::from_u64(read_varint_exact(v)?)
                                .ok_or_else(|| invalid("priority", "unknown priority"))?
                        }
                        announcement::EXPIRES => ex = Some(time("expires", v)?),
                        _ => {}
                    }
                }
                Body::Announcement(Announcement {
                    text: t.ok_or(SchemaError::Missing("text"))?,
                    priority: pr,
                    expires: ex,
                })
            }
            7 | 8 => {
                let (mut member, mut role, mut after_seq) = (None, None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        role::MEMBER => member = Some(PublicKey(id32("member", v)?)),
                        role::ROLE => match read_varint_exact(v)? {
                            1 => role = Some(Role::Organiser),
                            _ => return Err(invalid("role", "unknown role")),
                        },
                        role::AFTER_SEQ if kind == 8 => after_seq = Some(read_varint_exact(v)?),
                        _ => {}
                    }
                }
                let member = member.ok_or(SchemaError::Missing("member"))?;
                let role = role.ok_or(SchemaError::Missing("role"))?;
                if kind == 7 { Body::RoleGrant { member, role } } else { Body::RoleRevoke { member, role, after_seq } }
            }
            9 => {
                let mut p = ProfilePatch::default();
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        profile::DISPLAY_NAME => p.display_name = Some(text("display_name", v, limits::NAME, false)?),
                        profile::ABOUT => p.about = Some(text("about", v, limits::DESCRIPTION, true)?),
                        _ => {}
                    }
                }
                Body::Profile(p)
            }
            10 => {
                let (mut target, mut hidden) = (None, None);
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        hide::ENTITY | hide::AUTHOR if target.is_some() => {
                            return Err(invalid("target", "names both an entity and an author"));
                        }
                        hide::ENTITY => target = Some(HideTarget::Entity(OpId(id32("target", v)?))),
                        hide::AUTHOR => target = Some(HideTarget::Author(PublicKey(id32("author", v)?))),
                        hide::HIDDEN => hidden = Some(flag("hidden", v)?),
                        _ => {}
                    }
                }
                Body::Hide {
                    target: target.ok_or(SchemaError::Missing("target"))?,
                    hidden: hidden.ok_or(SchemaError::Missing("hidden"))?,
                }
            }
            11 => {
                let mut m = Moderation::default();
                while let Some((no, v)) = fields.next_field()? {
                    match no {
                        moderation::COMMUNITY => {
                            m.community = Some(match read_varint_exact(v)? {
                                0 => CommunityMode::Open,
                                1 => CommunityMode::Approved,
                                _ => return Err(invalid("community", "unknown community mode")),
                            })
                        }
                        moderation::APPROVE => {
                            if v.len() % 32 != 0 || v.len() / 32 > limits::APPROVALS {
                                return Err(invalid("approve", "expected up to 400 keys of 32 bytes"));
                            }
                            m.approve = v
                                .chunks_exact(32)
                                .map(|c| id32("approve", c).map(PublicKey))
                                .collect::<Result<_, _>>()?;
                        }
                        _ => {}
                    }
                }
                Body::Moderation(m)
            }
            0 => return Err(invalid("kind", "kind 0 is reserved")),
            other => {
                // Walk the record anyway so that malformed unknown bodies are still rejected.
                while fields.next_field()?.is_some() {}
                // A crew body that is not of a crew shape stays inert rather than refused: every
                // device, knowing crews or not, accepts the same extension ops.
                match crate::crew::ops::CrewBody::decode(other, rest) {
                    Some(c) => Body::Crew(c),
                    None => Body::Unknown { kind: other },
                }
            }
        };
        body.validate()?;
        Ok(body)
    }
}
