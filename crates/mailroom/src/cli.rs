//! The command line: `mailroom [--config FILE] COMMAND`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mailroom",
    version,
    about = "A hosted-email server in one binary"
)]
pub struct Cli {
    /// Configuration file (TOML); without one, the store lives in ./mailroom-data.
    #[arg(long, short, global = true, env = "MAILROOM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Create the demo account demo@example.test (password "demo") if it doesn't exist.
        #[arg(long)]
        demo: bool,
    },
    /// Manage the domains this server receives mail for.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage aliases (extra addresses that deliver to an account).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Deliver a message from standard input to local recipients (an MDA for Postfix or
    /// procmail set-ups). Exit codes follow sysexits.h.
    Deliver {
        /// Recipient addresses (accounts or aliases).
        #[arg(required = true)]
        recipients: Vec<String>,
    },
    /// Check the store's integrity: database, usage counters, blob files.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    Add {
        name: String,
    },
    List,
    /// Remove a domain that has no accounts left.
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account with INBOX, Sent, Drafts, Trash, Junk and Archive.
    Add {
        address: String,
        /// Read the password from the first line of standard input (otherwise one is generated
        /// and printed).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        settings: AccountSettings,
    },
    /// List accounts with their usage.
    List,
    /// Remove an account and all its mail.
    Remove { address: String },
    /// Set a new password.
    Password {
        address: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's quota, protocols, POP3 policy or state.
    Set {
        address: String,
        #[command(flatten)]
        settings: AccountSettings,
        /// Allow logins again.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Refuse logins (mail is still accepted).
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Debug, Args, Default)]
pub struct AccountSettings {
    /// Storage quota such as 500MiB or 25GB; "none" for no limit.
    #[arg(long)]
    pub quota: Option<String>,
    /// Maximum number of messages; "none" for no limit.
    #[arg(long)]
    pub max_messages: Option<String>,
    /// Protocols allowed to log in, e.g. imap,pop3,submission.
    #[arg(long)]
    pub protocols: Option<String>,
    /// What POP3 does with downloaded mail: keep (leave on server), delete, or default (the
    /// server's `[pop3] policy`).
    #[arg(long)]
    pub pop3_policy: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// Make ALIAS deliver to the account ADDRESS.
    Add {
        alias: String,
        address: String,
    },
    List,
    Remove {
        alias: String,
    },
}
