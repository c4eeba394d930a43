//! Pure IMAP protocol crate for Mailroom: bytes in, typed commands out;
//! typed responses in, bytes out. No sockets, no storage (habit 1).
//!
//! Grammar: RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1), plus the
//! extensions named beside each type.
//!
//! * [`Framer`] frames and parses commands from a growing byte buffer.
//! * [`lines`] reads AUTHENTICATE continuation lines and IDLE's `DONE`.
//! * [`command`] holds the typed commands; [`Command::to_bytes`] writes them.
//! * [`response`] holds typed responses and the writer.
//! * [`utf7`] converts mailbox names for IMAP4rev1 clients.
//!
//! ```
//! use mailroom_imap_proto::response::{Completion, Response, Text, WriteOptions};
//! use mailroom_imap_proto::{CommandBody, Framer, Limits, LiteralMode, Outcome};
//!
//! let mut framer = Framer::new(Limits::default());
//! let mut buf = b"a1 LOGIN {5}\r\n".to_vec();
//! // A synchronizing literal: the server answers "+ Ready" first.
//! assert!(matches!(framer.decode(&buf), Outcome::NeedLiteral { size: 5, mode: LiteralMode::Sync, .. }));
//! buf.extend_from_slice(b"alice secret\r\n");
//! let Outcome::Complete { command, consumed } = framer.decode(&buf) else { unreachable!() };
//! buf.drain(..consumed);
//! assert!(matches!(command.body, CommandBody::Login(_)));
//!
//! let ok = Response::tagged(command.tag, Completion::Ok, None, Text::sanitized("LOGIN completed"));
//! assert_eq!(ok.to_bytes(WriteOptions::default()).ok(), Some(b"a1 OK LOGIN completed\r\n".to_vec()));
//! ```

// Table-driven tests spell out their row types in full.
#![cfg_attr(test, allow(clippy::type_complexity))]

pub mod base64;
pub mod command;
mod cursor;
pub mod encode;
pub mod error;
pub mod framer;
pub mod limits;
pub mod lines;
pub mod response;
pub mod types;
pub mod utf7;

pub use command::{Command, CommandBody};
pub use encode::{Fragment, StreamedBody, flatten};
pub use error::{ParseError, ValueError};
pub use framer::{Framer, LiteralMode, Outcome};
pub use limits::Limits;
pub use lines::{AuthenticateResponse, LineOutcome, parse_authenticate_response, parse_idle_done};
pub use types::atom::{Atom, Capability, Tag};
pub use types::datetime::{Date, DateTime};
pub use types::flag::{FetchFlag, Flag, PermanentFlag};
pub use types::mailbox::Mailbox;
pub use types::nonempty::NonEmpty;
pub use types::objectid::ObjectId;
pub use types::secret::Secret;
pub use types::sequence::{SeqNumber, SeqRange, SequenceSet};
