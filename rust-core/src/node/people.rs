//! People and what they post: announcements, organisers, display names, hiding and moderation.

use super::*;

impl Node {
    /// Posts an announcement (owner and organisers).
    pub fn announce(&mut self, festival: FestivalId, a: Announcement) -> Result<OpId, NodeError> {
        self.require_official(&festival, "post announcements")?;
        self.write(festival, Body::Announcement(a))
    }

    /// Posts an announcement as a phone's one-switch form does: urgent means an emergency (shown
    /// on top, as a banner, and alerting), otherwise normal; it does not expire.
    pub fn announce_text(&mut self, festival: FestivalId, text: String, urgent: bool) -> Result<OpId, NodeError> {
        let priority = if urgent { crate::op::Priority::Emergency } else { crate::op::Priority::Normal };
        self.announce(festival, Announcement { text, priority, expires: None })
    }

    /// Names an organiser.
    pub fn add_organiser(&mut self, festival: FestivalId, member: PublicKey) -> Result<(), NodeError> {
        self.require_official(&festival, "name organisers")?;
        self.write(festival, Body::RoleGrant { member, role: Role::Organiser })?;
        Ok(())
    }

    /// Removes an organiser; what they posted so far stays official.
    pub fn remove_organiser(&mut self, festival: FestivalId, member: PublicKey) -> Result<(), NodeError> {
        self.require_official(&festival, "remove organisers")?;
        let f = self.festival(&festival)?;
        if member == f.owner {
            return Err(NodeError::NotPermitted("the owner cannot be removed".into()));
        }
        if !f.organisers.contains(&member) {
            return Err(NodeError::NotFound(format!("organiser {}", member.fingerprint())));
        }
        let next = self.store.next_position(&festival, &member)?;
        let after_seq = next.seq.checked_sub(1);
        self.write(festival, Body::RoleRevoke { member, role: Role::Organiser, after_seq })?;
        Ok(())
    }

    /// Sets this identity's display name in a festival.
    pub fn set_display_name(&mut self, festival: FestivalId, name: &str) -> Result<(), NodeError> {
        self.write(festival, Body::Profile(ProfilePatch { display_name: Some(name.to_owned()), about: None }))?;
        Ok(())
    }

    /// Hides or shows community content for everybody (organisers).
    pub fn hide(&mut self, festival: FestivalId, target: HideTarget, hidden: bool) -> Result<(), NodeError> {
        self.require_official(&festival, "hide content")?;
        self.write(festival, Body::Hide { target, hidden })?;
        Ok(())
    }

    /// Sets the festival's community mode and approves authors (organisers): one op per
    /// [`crate::op::limits::APPROVALS`] authors, the mode switch riding on the last so that peers
    /// learn the approvals before they hide anything. Returns how many ops were written.
    pub fn moderate(
        &mut self,
        festival: FestivalId,
        community: Option<CommunityMode>,
        mut approve: Vec<PublicKey>,
    ) -> Result<usize, NodeError> {
        self.require_official(&festival, "moderate community content")?;
        approve.sort();
        approve.dedup();
        if community.is_none() && approve.is_empty() {
            return Err(NodeError::Invalid("nothing to do: give a community mode or authors to approve".into()));
        }
        let chunks: Vec<Vec<PublicKey>> = if approve.is_empty() {
            vec![Vec::new()]
        } else {
            approve.chunks(crate::op::limits::APPROVALS).map(<[_]>::to_vec).collect()
        };
        let last = chunks.len() - 1;
        for (i, keys) in chunks.into_iter().enumerate() {
            let rule = Moderation { community: if i == last { community } else { None }, approve: keys };
            self.write(festival, Body::Moderation(rule))?;
        }
        Ok(last + 1)
    }
}
