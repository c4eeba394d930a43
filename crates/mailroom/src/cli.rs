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
    /// Bearer tokens of the HTTP API: the administrators', or one account's own.
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
    /// An account's folders: list them, or rename one (also one whose name breaks today's
    /// rules, which `mailroom check` reports).
    #[command(subcommand)]
    Folder(FolderCommand),
    /// Deliver a message from standard input to local recipients (an MDA for Postfix or
    /// procmail set-ups). Exit codes follow sysexits.h.
    Deliver {
        /// Recipient addresses (accounts or aliases).
        #[arg(required = true)]
        recipients: Vec<String>,
    },
    /// Check the store's integrity: database, usage counters, blob files, folder names.
    Check {
        /// Also remove what nothing refers to: blob files without a message and leftovers of
        /// interrupted writes (`blobs/tmp`).
        #[arg(long)]
        repair: bool,
    },
    /// Deleted mail: list and restore what an account deleted in the last days.
    #[command(subcommand)]
    Recover(RecoverCommand),
    /// Storage quotas.
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Backups: the server takes one every night; these run, check and restore them.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The outbound queue: mail waiting to go to other servers.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Write an account's mail to DIR as Maildir or mbox (folders, flags, dates, POP3 UIDLs).
    Export {
        /// The account's address.
        address: String,
        /// maildir (one directory per folder, Maildir++ names) or mbox (one file per folder).
        #[arg(long, value_enum)]
        format: MailFormat,
        /// Where the files go; created if missing, nothing outside it is written.
        dir: std::path::PathBuf,
    },
    /// Read Maildir (also Dovecot's Maildir++) or mbox files from DIR into an account.
    Import {
        /// The account's address.
        address: String,
        /// The Maildir or the directory of mbox files to read.
        dir: std::path::PathBuf,
        /// What DIR holds; by default the kind of files found there.
        #[arg(long, value_enum)]
        format: Option<MailFormat>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FolderCommand {
    /// The account's folders with their message counts.
    List {
        /// The account's address.
        address: String,
    },
    /// Rename a folder and everything below it (mail, UIDs and flags stay).
    Rename {
        /// The account's address.
        address: String,
        /// The folder's name now, levels separated by "/".
        from: String,
        /// The new name; it must follow the rules of new folder names.
        to: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailFormat {
    /// Maildir: one directory per folder, one file per message.
    Maildir,
    /// mbox: one file per folder.
    Mbox,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Every queued message with each recipient's state and last answer.
    List,
    /// Try a queued message again now (every message without ID).
    Retry {
        /// The message's ID as `queue list` shows it.
        id: Option<i64>,
    },
    /// Drop a message from the queue without a bounce.
    Remove {
        /// The message's ID as `queue list` shows it.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a backup now (the server may keep running).
    Run,
    /// The backups there are.
    List,
    /// Check every checksum and that every message file is present (the newest without ID).
    Verify {
        /// The backup's ID as `backup list` shows it.
        id: Option<String>,
    },
    /// Restore an account (or one of its folders) into the running server, or with no
    /// --account the whole server (stop it first).
    Restore {
        /// The backup's ID as `backup list` shows it.
        id: String,
        /// Restore only this account's mail, beside what it has now.
        #[arg(long)]
        account: Option<String>,
        /// Restore only this folder of the account (levels separated by "/").
        #[arg(long, requires = "account")]
        folder: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecoverCommand {
    /// What the account deleted and can still get back.
    List {
        /// The account's address.
        address: String,
        /// Only what was deleted on or after this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only what was deleted from this folder.
        #[arg(long)]
        folder: Option<String>,
    },
    /// Put deleted messages back into their folders (recreated if gone), with their flags and
    /// dates.
    Restore {
        /// The account's address.
        address: String,
        /// Everything recoverable.
        #[arg(long, conflicts_with_all = ["id", "since"])]
        all: bool,
        /// Entries by the ID `recover list` shows.
        #[arg(long, num_args = 1..)]
        id: Vec<i64>,
        /// Everything deleted on or after this date (YYYY-MM-DD, UTC).
        #[arg(long, conflicts_with = "id")]
        since: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Set the storage limit, e.g. 1MiB or 25GB ("none" removes it).
    Set {
        /// The account's address.
        address: String,
        /// The limit, e.g. 1MiB or 25GB; "none" for no limit.
        size: String,
        /// Also limit the number of messages ("none" removes it).
        #[arg(long)]
        messages: Option<String>,
    },
    /// Usage against the limits.
    Show {
        /// The account's address.
        address: String,
    },
    /// Recount an account's usage from its messages (all accounts without an address).
    Recalc {
        /// The account's address.
        address: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Add a domain; it gets a DKIM signing key and the DNS records to publish are printed.
    Add {
        /// The domain, e.g. example.com.
        name: String,
    },
    /// The domains with the defaults their new accounts get.
    List,
    /// The DNS records the domain needs: MX, SPF, DKIM, DMARC and the SRV records of RFC 6186
    /// that let mail programs configure themselves.
    Dns {
        /// The domain, e.g. example.com.
        name: String,
    },
    /// Looks each of those records up in DNS and says which are published, missing or
    /// different; exits with status 1 while any needs attention.
    Check {
        /// The domain, e.g. example.com.
        name: String,
        /// Ask this name server (IP:PORT, e.g. the domain's own at 192.0.2.53:53) instead of
        /// the system's resolver, which may still hold old answers in its cache.
        #[arg(long, value_name = "IP:PORT")]
        resolver: Option<std::net::SocketAddr>,
    },
    /// Defaults for the domain: the quota new accounts get and how long deleted mail is kept.
    Set {
        /// The domain, e.g. example.com.
        name: String,
        /// Storage quota for new accounts, e.g. 2GiB; "none" for no limit.
        #[arg(long)]
        quota: Option<String>,
        /// Message limit for new accounts; "none" for no limit.
        #[arg(long)]
        max_messages: Option<String>,
        /// Days deleted mail stays recoverable here; "default" for the server's setting.
        #[arg(long)]
        recovery_days: Option<String>,
    },
    /// Remove a domain that has no accounts left.
    Remove {
        /// The domain, e.g. example.com.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account with INBOX, Sent, Drafts, Trash, Junk and Archive.
    Add {
        /// The new account's address (the domain must have been added).
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
    Remove {
        /// The account's address.
        address: String,
    },
    /// Set a new password (generated and printed unless --password-stdin).
    Password {
        /// The account's address.
        address: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// App passwords: one per device or program, each revocable on its own.
    #[command(subcommand)]
    AppPassword(AppPasswordCommand),
    /// Change an account's quota, protocols, POP3 policy or state.
    Set {
        /// The account's address.
        address: String,
        #[command(flatten)]
        settings: AccountSettings,
        /// Allow logins again.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Refuse logins (mail is still accepted).
        #[arg(long)]
        disable: bool,
        /// Let the account sign in to the web admin and manage the whole server.
        #[arg(long, conflicts_with = "no_admin")]
        admin: bool,
        /// Take the administrator's rights away again.
        #[arg(long)]
        no_admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiTokenCommand {
    /// Make a token; its secret is printed once and cannot be shown again.
    Add {
        /// What the token is for, e.g. provisioning.
        name: String,
        /// A token of this account only, for its own self-service (without: an
        /// administrators' token).
        #[arg(long)]
        account: Option<String>,
    },
    /// The tokens there are (names and owners, never secrets).
    List,
    /// Revoke a token: it stops working at once.
    Remove {
        /// The token's name as `api-token list` shows it.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppPasswordCommand {
    /// Create one named NAME; its secret is printed once and cannot be shown again.
    Add {
        /// The account's address.
        address: String,
        /// What the password is for, e.g. iPhone.
        name: String,
    },
    /// The account's app passwords (names and dates, never secrets).
    List {
        /// The account's address.
        address: String,
    },
    /// Revoke one: it stops working at once.
    Remove {
        /// The account's address.
        address: String,
        /// The app password's name as `app-password list` shows it.
        name: String,
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
        /// The extra address, in a domain of this server.
        alias: String,
        /// The account it delivers to.
        address: String,
    },
    /// Every alias with the account it delivers to.
    List,
    /// Remove an alias (the account stays).
    Remove {
        /// The alias address.
        alias: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// `mailroom help …` explains every command and every argument.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{path} <{}>", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }
}
