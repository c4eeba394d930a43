//! `mailroom backup run|list|verify|restore`, and the nightly backup the server takes.

use crate::cli::BackupCommand;
use crate::commands::{human, open_existing_store};
use crate::config::Config;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mailroom_store::{
    AccountUpdate, Directory, Flags, MailDate, MailboxName, Mailboxes, Messages, NewAccount,
    NewMessage, Pop3Policy, Protocols, SpecialUse, derived_pop3_uidl,
};
use mailroom_store_sqlite::{
    BackupReader, MailboxSnapshot, Manifest, SqliteStore, list_backups, prune_backups,
    restore_whole, verify_backup,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

/// `id` if it names a backup in `root`, or an error that says where none was found.
fn known_backup(root: &Path, id: String) -> anyhow::Result<String> {
    let known = match list_backups(root) {
        Ok(backups) => backups.iter().any(|m| m.id == id),
        Err(_) => false,
    };
    anyhow::ensure!(
        known,
        "no backup {id} in {} (`mailroom backup list` shows them)",
        root.display()
    );
    Ok(id)
}

/// Messages per APPEND batch when restoring: one commit each.
const RESTORE_BATCH: usize = 200;

pub async fn run(config: &Config, cmd: BackupCommand) -> anyhow::Result<ExitCode> {
    let root = config.backup_dir();
    match cmd {
        BackupCommand::Run => {
            let store = open_existing_store(config)?;
            let manifest = take_backup(&store, &root, config.backup.keep, true).await?;
            print_manifest(&manifest)?;
        }
        BackupCommand::List => {
            let backups = list_backups(&root)?;
            say!(
                "{:<18} {:>9} {:>10} {:>11} {:>11}",
                "ID",
                "ACCOUNTS",
                "MESSAGES",
                "DATA",
                "NEW"
            );
            for m in &backups {
                say!(
                    "{:<18} {:>9} {:>10} {:>11} {:>11}",
                    m.id,
                    m.accounts,
                    m.messages,
                    human(m.db_bytes + m.blob_bytes),
                    human(m.db_bytes + m.new_blob_bytes)
                );
            }
            say!("{} backup(s) in {}", backups.len(), root.display());
        }
        BackupCommand::Verify { id } => {
            let id = match id {
                Some(id) => known_backup(&root, id)?,
                None => list_backups(&root)?
                    .last()
                    .map(|m| m.id.clone())
                    .context("no backups yet")?,
            };
            let bar = Bar::new(true);
            let root2 = root.clone();
            let id2 = id.clone();
            let problems = tokio::task::spawn_blocking(move || {
                verify_backup(&root2, &id2, &|what, done, total| {
                    bar.update(what, done, total)
                })
            })
            .await??;
            if problems.is_empty() {
                say!("backup {id} ok");
            } else {
                for p in &problems {
                    say!("{p}");
                }
                say!("backup {id}: {} problem(s)", problems.len());
                return Ok(ExitCode::FAILURE);
            }
        }
        BackupCommand::Restore {
            id, account: None, ..
        } => {
            // The whole server: only while it is stopped.
            let _lock = crate::commands::serve::lock_data_dir(&config.data_dir)
                .context("stop the server before restoring the whole store")?;
            let id = known_backup(&root, id)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let aside = restore_whole(&root, &id, &config.data_dir, now)?;
            say!(
                "store replaced by backup {id}; the previous database is in {}",
                aside.display()
            );
        }
        BackupCommand::Restore {
            id,
            account: Some(address),
            folder,
        } => {
            let id = known_backup(&root, id)?;
            let store = open_existing_store(config)?;
            let reader = BackupReader::open(&root, &id)?;
            let restored = restore_account(&store, &reader, &address, folder.as_deref()).await?;
            say!("restored {restored} message(s) of {address} from backup {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Takes a backup and prunes the set to `keep`.
pub async fn take_backup(
    store: &SqliteStore,
    root: &Path,
    keep: usize,
    show_progress: bool,
) -> anyhow::Result<Manifest> {
    let (store, root2) = (store.clone(), root.to_path_buf());
    let manifest = tokio::task::spawn_blocking(move || {
        let bar = Bar::new(show_progress);
        store.backup_into(&root2, &|what, done, total| bar.update(what, done, total))
    })
    .await??;
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || prune_backups(&root, keep.max(1))).await??;
    Ok(manifest)
}

fn print_manifest(m: &Manifest) -> Result<(), super::OutputError> {
    say!(
        "backup {}: {} accounts, {} messages, {} blobs ({}); copied {} new blobs ({}) and {} of metadata",
        m.id,
        m.accounts,
        m.messages,
        m.blobs,
        human(m.blob_bytes),
        m.new_blobs,
        human(m.new_blob_bytes),
        human(m.db_bytes)
    );
    Ok(())
}

/// Brings an account (or one folder) back from a backup into the live store. A folder that
/// is gone or empty gets its messages back in place; one that has mail now gets them in
/// "Restored YYYY-MM-DD/<folder>", so nothing current is touched. An account that is gone is
/// recreated with its password, quota and settings.
pub(crate) async fn restore_account(
    store: &SqliteStore,
    reader: &BackupReader,
    address: &str,
    folder: Option<&str>,
) -> anyhow::Result<usize> {
    let snapshot = reader
        .account(address)?
        .with_context(|| format!("backup has no account {address}"))?;
    let account = match store.account_by_address(address).await? {
        Some(a) => a,
        None => {
            let domain = address.rsplit('@').next().unwrap_or_default();
            if store.domain(domain).await?.is_none() {
                store.add_domain(domain).await?;
            }
            let mut new = NewAccount::new(address, snapshot.password_hash.clone());
            new.scram_sha256 = snapshot.scram_sha256.clone();
            new.quota_bytes = snapshot.quota_bytes;
            new.quota_messages = snapshot.quota_messages;
            new.protocols = Protocols(snapshot.protocols);
            new.pop3_policy = snapshot
                .pop3_policy
                .as_deref()
                .and_then(|p| p.parse::<Pop3Policy>().ok());
            store.create_account(new).await?
        }
    };
    // The quota must not stop a restore; it is put back afterwards.
    let unlimited = AccountUpdate {
        quota_bytes: Some(None),
        quota_messages: Some(None),
        ..Default::default()
    };
    store.update_account(account.id, unlimited).await?;
    let result = restore_mailboxes(
        store,
        reader,
        account.id,
        &snapshot.mailboxes,
        folder,
        &reader.manifest.id,
    )
    .await;
    let limits = AccountUpdate {
        quota_bytes: Some(account.quota_bytes),
        quota_messages: Some(account.quota_messages),
        ..Default::default()
    };
    store.update_account(account.id, limits).await?;
    result
}

async fn restore_mailboxes(
    store: &SqliteStore,
    reader: &BackupReader,
    account: mailroom_store::AccountId,
    mailboxes: &[MailboxSnapshot],
    folder: Option<&str>,
    id: &str,
) -> anyhow::Result<usize> {
    let day = id
        .get(..8)
        .map(|d| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
        .unwrap_or_default();
    let chosen: Vec<&MailboxSnapshot> = mailboxes
        .iter()
        .filter(|m| folder.is_none_or(|f| m.name == f || m.name.starts_with(&format!("{f}/"))))
        .collect();
    if chosen.is_empty() {
        bail!("the backup has no folder {}", folder.unwrap_or_default());
    }
    let mut restored = 0;
    for mailbox in chosen {
        // A folder saved under older rules comes back under the nearest name of today's.
        let name = MailboxName::repaired(&mailbox.name);
        let live = store.mailbox(account, &name).await?;
        let target = match live {
            Some(mb) if store.mailbox_status(mb.id).await?.messages == 0 => mb,
            Some(_) => {
                let elsewhere = MailboxName::repaired(&format!("Restored {day}/{name}"));
                match store.mailbox(account, &elsewhere).await? {
                    Some(mb) => mb,
                    None => store.create_mailbox(account, &elsewhere, None).await?,
                }
            }
            None => {
                let special = mailbox
                    .special_use
                    .as_deref()
                    .and_then(|s| s.parse::<SpecialUse>().ok());
                store.create_mailbox(account, &name, special).await?
            }
        };
        if mailbox.subscribed {
            store.set_subscribed(account, &target.name, true).await?;
        }
        for chunk in mailbox.messages.chunks(RESTORE_BATCH) {
            let mut batch = Vec::with_capacity(chunk.len());
            for m in chunk {
                let mut message = NewMessage::new(reader.read_blob(&m.blob)?);
                message.flags = Flags::from_stored(m.flags, m.keywords.as_deref());
                message.internal_date = Some(MailDate {
                    seconds: m.internal_date,
                    offset_minutes: m.internal_tz,
                });
                // The UIDL POP3 showed for it before, so POP3 clients don't fetch it again.
                message.pop3_uidl = Some(
                    m.pop3_uidl
                        .clone()
                        .unwrap_or_else(|| derived_pop3_uidl(m.uid, m.uid_validity)),
                );
                batch.push(message);
            }
            restored += store.append_batch(target.id, batch).await?.len();
        }
    }
    Ok(restored)
}

/// A progress bar on a terminal, nothing otherwise.
struct Bar {
    bar: Option<Mutex<(ProgressBar, String)>>,
}

impl Bar {
    fn new(show: bool) -> Self {
        let visible = show && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Bar {
            bar: visible.then(|| Mutex::new((ProgressBar::new(0), String::new()))),
        }
    }

    fn update(&self, what: &str, done: u64, total: u64) {
        let Some(bar) = &self.bar else { return };
        let mut guard = bar.lock().unwrap_or_else(|e| e.into_inner());
        let (bar, current) = &mut *guard;
        if current != what {
            bar.finish();
            *bar = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.to_string());
            *current = what.to_string();
        }
        bar.set_position(done);
        if done >= total {
            bar.finish();
        }
    }
}
