//! IMAP sessions against a real store over loopback, one module per area. One test binary:
//! each binary links the server and the store, and a dozen copies cost CI link time and disk.

mod common;

mod changes;
mod compress;
mod conformance;
mod fetch;
mod limits;
mod mailboxes;
mod messages;
mod qresync;
mod quota;
mod recently_deleted;
mod scram;
mod search;
mod session;
mod sort;
mod tls;
