//! End-to-end tests: each module starts the real `mailroom` binary and drives it with real
//! clients. One test binary rather than one per file: each links the whole server, and
//! fifteen copies cost CI minutes of linking and gigabytes of disk.

mod support;

mod acme;
mod app_passwords;
mod backup;
mod brute_force;
mod cli;
mod crash_mixed;
mod crash_safety;
mod disk_full;
mod dns_check;
mod fairness;
mod first_hour;
mod imap_clients;
mod log_hygiene;
mod pop3_clients;
mod quota;
mod recovery;
mod smtp_clients;
mod submission_clients;
mod tls_reload;
mod transfer;
mod web_browser;
