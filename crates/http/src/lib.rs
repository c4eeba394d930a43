//! The web side of Mailroom, on one listener (`[http]`): client autoconfiguration
//! (Mozilla autoconfig, Microsoft Autodiscover, Apple profiles), the admin API (`/api/v1`),
//! the web admin (`/admin`), users' self-service (`/account`), `/healthz` and `/metrics`.
//! Everything a mail program is told comes from the listeners that are really open
//! (`mailroom_admin::ClientEndpoints`); every change goes through `mailroom_admin::Admin`.

mod api;
pub mod autoconfig;
mod metrics;
mod pages;
mod routes;
mod server;
mod session;
mod state;

pub use server::HttpServer;
pub use state::{BackupInfo, Backups, Client, HttpConfig};
