//! `mailroom export` and `mailroom import`.

use crate::cli::MailFormat;
use crate::commands::find_account;
use crate::transfer::tree::open_root;
use crate::transfer::{FileFolder, FileMessage, maildir, mbox};
use anyhow::bail;
use mailroom_store::{MailDate, MailboxName, Mailboxes, Messages, NewMessage, StoreError};
use mailroom_store_sqlite::SqliteStore;
use std::path::PathBuf;
use std::process::ExitCode;

/// Messages per APPEND batch on import: one commit each.
const IMPORT_BATCH: usize = 200;

pub async fn export(
    store: SqliteStore,
    address: String,
    format: MailFormat,
    dir: PathBuf,
) -> anyhow::Result<ExitCode> {
    let account = find_account(&store, &address).await?;
    let root = std::sync::Arc::new(open_root(&dir, true)?);
    let (mut folders, mut messages) = (0, 0);
    for mailbox in store.list_mailboxes(account.id).await? {
        let entries = store.message_entries(mailbox.id).await?;
        let uids: Vec<u32> = entries.iter().map(|e| e.uid).collect();
        let mut folder = FileFolder {
            name: mailbox.name.to_string(),
            messages: Vec::with_capacity(entries.len()),
        };
        for (entry, meta) in entries
            .iter()
            .zip(store.message_meta(mailbox.id, &uids).await?)
        {
            folder.messages.push(FileMessage {
                content: Vec::from(store.read_blob(&meta.blob).await?),
                flags: meta.flags.clone(),
                internal_date: meta.internal_date.seconds,
                // The UIDL POP3 shows now, so the next server can show the same.
                pop3_uidl: Some(entry.pop3_uidl(mailbox.uid_validity)),
            });
        }
        messages += folder.messages.len();
        folders += 1;
        let target = root.clone();
        let validity = mailbox.uid_validity;
        tokio::task::spawn_blocking(move || match format {
            MailFormat::Maildir => maildir::write_folder(&target, &folder, &uids, validity),
            MailFormat::Mbox => mbox::write_folder(&target, &folder),
        })
        .await??;
    }
    say!(
        "exported {messages} messages in {folders} folders of {address} to {}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn import(
    store: SqliteStore,
    address: String,
    dir: PathBuf,
    format: Option<MailFormat>,
) -> anyhow::Result<ExitCode> {
    let account = find_account(&store, &address).await?;
    let source = open_root(&dir, false)?;
    let folders = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<FileFolder>> {
        match format {
            Some(MailFormat::Maildir) => maildir::read_tree(&source),
            Some(MailFormat::Mbox) => mbox::read_tree(&source),
            None => {
                let found = maildir::read_tree(&source)?;
                if found.is_empty() {
                    mbox::read_tree(&source)
                } else {
                    Ok(found)
                }
            }
        }
    })
    .await??;
    if folders.is_empty() {
        bail!(
            "{} holds no Maildir folders and no .mbox files",
            dir.display()
        );
    }
    let mut total = 0;
    for folder in folders {
        let name = match MailboxName::new(&folder.name) {
            Ok(name) => name,
            Err(e) => {
                let repaired = MailboxName::repaired(&folder.name);
                say!(
                    "folder {:?} is imported as {:?} ({e})",
                    folder.name,
                    repaired.as_str()
                );
                repaired
            }
        };
        let mailbox = match store.mailbox(account.id, &name).await? {
            Some(mb) => mb,
            None => store.create_mailbox(account.id, &name, None).await?,
        };
        let count = folder.messages.len();
        for chunk in folder.messages.chunks(IMPORT_BATCH) {
            let batch: Vec<NewMessage> = chunk
                .iter()
                .map(|m| NewMessage {
                    content: mailroom_store::normalize_crlf(&m.content)
                        .into_owned()
                        .into(),
                    flags: m.flags.clone(),
                    internal_date: Some(MailDate::utc(m.internal_date)),
                    pop3_uidl: m.pop3_uidl.clone(),
                })
                .collect();
            match store.append_batch(mailbox.id, batch).await {
                Ok(done) => total += done.len(),
                Err(StoreError::OverQuota) => {
                    bail!(
                        "{address} is over quota after {total} messages; raise it with `mailroom quota set` and import again"
                    )
                }
                Err(e) => return Err(e.into()),
            }
        }
        say!("{}: {count} messages", folder.name);
    }
    say!("imported {total} messages into {address}");
    Ok(ExitCode::SUCCESS)
}
