//! The POP3 server: download-and-delete done right (RFC 1939), with the extensions real
//! clients use (RFC 2449 CAPA and response codes, RFC 5034 SASL, RFC 2595 STLS, RFC 6856
//! UTF8), over the storage API. POP3 shows the account's INBOX.

mod maildrop;
mod pace;
pub mod proto;
mod server;
mod session;

pub use server::{Pop3Config, Pop3Server};
