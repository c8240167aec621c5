//! The field numbers of every body kind: the one table the encoder and the decoder both use, as
//! docs/protocol.md lists them. A number, once given, is never reused for another meaning.

/// Festival fields, as offsets from where a kind places them ([`create::FIELDS`], [`edit::FIELDS`]).
pub(super) mod festival {
    pub const NAME: u64 = 0;
    pub const DESCRIPTION: u64 = 1;
    pub const TIMEZONE: u64 = 2;
    pub const START_DATE: u64 = 3;
    pub const END_DATE: u64 = 4;
    pub const PLACE: u64 = 5;
    pub const DAY_CHANGE_MINUTES: u64 = 6;
}

/// Kind 1, festival creation.
pub(super) mod create {
    pub const NONCE: u64 = 1;
    /// The festival fields start here (2 to 8).
    pub const FIELDS: u64 = 2;
    pub const FORKED_FROM: u64 = 9;
    pub const FORKED_FROM_OP: u64 = 10;
}

/// Kind 2, festival edit.
pub(super) mod edit {
    /// The festival fields start here (2 to 8), as in a creation.
    pub const FIELDS: u64 = 2;
}

/// Kind 3, venue.
pub(super) mod venue {
    pub const TARGET: u64 = 1;
    pub const NAME: u64 = 2;
    pub const DESCRIPTION: u64 = 3;
    pub const LOCATION: u64 = 4;
    pub const SOURCE_ID: u64 = 5;
    pub const POSITION: u64 = 6;
}

/// Kind 4, event.
pub(super) mod event {
    pub const TARGET: u64 = 1;
    pub const TITLE: u64 = 2;
    pub const SUBTITLE: u64 = 3;
    pub const DESCRIPTION: u64 = 4;
    pub const START: u64 = 5;
    pub const END: u64 = 6;
    pub const VENUE: u64 = 7;
    pub const TRACK: u64 = 8;
    pub const KIND: u64 = 9;
    pub const TAGS: u64 = 10;
    pub const PEOPLE: u64 = 11;
    pub const LANGUAGE: u64 = 12;
    pub const LINKS: u64 = 13;
    pub const CANCELLED: u64 = 14;
    pub const SOURCE_ID: u64 = 15;
    pub const URL: u64 = 16;
    pub const SOURCE_NUMBER: u64 = 17;
    pub const DO_NOT_RECORD: u64 = 18;
    pub const RECORDING_LICENSE: u64 = 19;
}

/// Kind 5, delete.
pub(super) mod delete {
    pub const TARGET: u64 = 1;
}

/// Kind 6, announcement.
pub(super) mod announcement {
    pub const TEXT: u64 = 1;
    pub const PRIORITY: u64 = 2;
    pub const EXPIRES: u64 = 3;
}

/// Kinds 7 and 8, role grant and revoke.
pub(super) mod role {
    pub const MEMBER: u64 = 1;
    pub const ROLE: u64 = 2;
    /// Revoke only.
    pub const AFTER_SEQ: u64 = 3;
}

/// Kind 9, profile.
pub(super) mod profile {
    pub const DISPLAY_NAME: u64 = 1;
    pub const ABOUT: u64 = 2;
}

/// Kind 10, hide.
pub(super) mod hide {
    pub const ENTITY: u64 = 1;
    pub const AUTHOR: u64 = 2;
    pub const HIDDEN: u64 = 3;
}

/// Kind 11, moderation.
pub(super) mod moderation {
    pub const COMMUNITY: u64 = 1;
    pub const APPROVE: u64 = 2;
}
