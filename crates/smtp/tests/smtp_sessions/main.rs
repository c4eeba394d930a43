//! SMTP, LMTP and submission sessions over loopback, one module per area. One test binary:
//! each binary links the server and the store, and separate copies cost CI link time and disk.

mod common;

mod dsn;
mod inbound_auth;
mod interop;
mod limits;
mod lmtp;
mod message_end;
mod mx;
mod submission;
