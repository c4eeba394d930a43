//! IMAP4rev1 / IMAP4rev2 server sessions for Mailroom.
//!
//! The crate runs sessions against `Arc<dyn Store>` only; it never knows which backend runs.
//! [`ImapServer::serve`] accepts connections; each runs the driver in `conn.rs`, which frames
//! bytes with `mailroom-imap-proto` and hands typed commands to the [`session`] core. One match
//! in `session.rs` decides which command is legal in which state; each command lives in its own
//! file under `cmd/`.
//!
//! ```no_run
//! use mailroom_auth::Authenticator;
//! use mailroom_imap::{ImapConfig, ImapServer};
//! use mailroom_store::Store;
//! use std::sync::Arc;
//!
//! # async fn run(store: Arc<dyn Store>, auth: Authenticator) -> std::io::Result<()> {
//! let server = ImapServer::new(store, auth, None, ImapConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:143").await?;
//! // Serves until the future completes, then sends `* BYE` to every session.
//! server.serve(listener, false, async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

mod binary;
mod caps;
mod catenate;
mod cmd;
mod config;
mod conn;
mod error;
mod facts;
mod names;
mod search;
mod section;
mod server;
mod session;
mod subject;
mod thread;
mod view;
mod virtual_folder;

pub use config::ImapConfig;
pub use server::ImapServer;
