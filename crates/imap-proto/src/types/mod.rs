//! Value types shared by commands and responses.

pub mod atom;
pub(crate) mod chars;
pub mod datetime;
pub mod flag;
pub mod mailbox;
pub mod nonempty;
pub mod objectid;
pub mod secret;
pub mod sequence;
