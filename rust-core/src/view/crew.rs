//! Crews as a member sees them: who is in each, and where they are going.

use crate::crew::ops::Heading;
use crate::identity::PublicKey;
use crate::op::OpId;

/// A crew this device is in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CrewView {
    /// Its id (hex), as invites and commands name it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its admin (its creator): the only key that adds and removes members.
    pub admin: PublicKey,
    /// This device's identity is the admin.
    pub is_admin: bool,
    /// One person's own devices, not a group of people.
    pub devices: bool,
    /// The newest epoch this device holds.
    pub epoch: u32,
    /// Its members, this device's identity among them.
    pub members: Vec<CrewMember>,
}

/// One member of a crew and what it shares.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CrewMember {
    /// Its key.
    pub key: PublicKey,
    /// Its display name in the festival, empty if none.
    pub name: String,
    /// Its key's fingerprint.
    pub fingerprint: String,
    /// This device's identity.
    pub is_me: bool,
    /// Its favourites, as events of the festival this device holds.
    pub favourites: Vec<OpId>,
    /// Where it says it is going, if anywhere.
    pub heading: Option<Heading>,
    /// The event it is heading to or at.
    pub heading_event: Option<OpId>,
    /// Its note.
    pub note: String,
    /// It has shared nothing yet under an epoch this device holds.
    pub silent: bool,
}

/// Two members whose favourites overlap in time: they will be apart then.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CrewClash {
    /// One member.
    pub first: PublicKey,
    /// Its event.
    pub first_event: OpId,
    /// The other member.
    pub second: PublicKey,
    /// Its event, overlapping the first.
    pub second_event: OpId,
}
