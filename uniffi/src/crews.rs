//! Crews for the apps: create, invite, join, leave, remove, share, read.

use meadow_core::crew::invite::CrewInvite;
use meadow_core::crew::ops::Heading;
use meadow_core::node::INVITE_SECONDS;
use meadow_core::view::{CrewClash, CrewView};

use crate::MeadowNode;
use crate::error::{MeadowError, festival_id, op_id, public_key};

#[uniffi::export]
impl MeadowNode {
    /// Starts a crew in a festival with this device as its admin; returns its id (hex).
    pub async fn create_crew(&self, festival: String, name: String) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.create_crew(f, &name)).await
    }

    /// Starts the crew of this person's own devices (one at most per festival); its other
    /// devices join by invite and then follow its favourites, hides, mutes and seen marks.
    pub async fn create_devices_crew(&self, festival: String, name: String) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.create_devices_crew(f, &name)).await
    }

    /// An invite link to one of this device's crews, for one person, good for a day.
    pub async fn crew_invite(&self, festival: String, crew: String) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.crew_invite(f, &crew, INVITE_SECONDS)).await.map(|i| i.to_link())
    }

    /// Asks to join the crew an invite link names (its festival must be held here); the admin's
    /// device lets this one in when the request reaches it.
    pub async fn join_crew(&self, link: String) -> Result<(), MeadowError> {
        let invite = CrewInvite::parse(&link).map_err(|e| MeadowError::invalid(e.to_string()))?;
        self.run(move |n| n.join_crew(&invite)).await
    }

    /// Leaves a crew.
    pub async fn leave_crew(&self, festival: String, crew: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.leave_crew(f, &crew)).await
    }

    /// Removes a member (admin only).
    pub async fn remove_from_crew(&self, festival: String, crew: String, member: String) -> Result<(), MeadowError> {
        let (f, m) = (festival_id(&festival)?, public_key(&member)?);
        self.run(move |n| n.remove_from_crew(f, &crew, &m)).await
    }

    /// Tells the crews favourite changes held back to save the log's budget (call it when the
    /// app goes to the background).
    pub async fn flush_crew_shares(&self, festival: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.flush_crew_shares(f)).await
    }

    /// The crews this device is in.
    pub async fn crews(&self, festival: String) -> Result<Vec<CrewView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.crews(&f)).await
    }

    /// Where members of a crew will be apart: their favourites that overlap in time.
    pub async fn crew_clashes(&self, festival: String, crew: CrewView) -> Result<Vec<CrewClash>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.crew_clashes(&f, &crew)).await
    }

    /// Tells this device's crews a note (`None` keeps it) and where it is heading (`event` none
    /// clears it when `set_heading`).
    pub async fn share_with_crews(
        &self,
        festival: String,
        note: Option<String>,
        set_heading: bool,
        heading: Heading,
        event: Option<String>,
    ) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        let target = match (set_heading, event) {
            (false, _) => None,
            (true, None) => Some(None),
            (true, Some(e)) => Some(Some((heading, op_id(&e)?))),
        };
        self.run(move |n| n.share_with_crews(f, note, target)).await
    }
}
