//! `mailroom deliver ADDRESS... < message`: local delivery with sysexits.h exit codes, so an
//! MTA knows whether to bounce (5xx-like codes) or retry (EX_TEMPFAIL).

use crate::commands::{
    EX_DATAERR, EX_NOUSER, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE, open_existing_store, store_path,
};
use crate::config::Config;
use mailroom_store::{Delivery, DeliveryOutcome, Directory, Messages, normalize_crlf};
use std::io::Read;
use std::process::ExitCode;

pub async fn run(config: &Config, recipients: Vec<String>) -> ExitCode {
    let limit = config.storage.max_message_size.as_u64();
    let mut message = Vec::new();
    // Read one byte past the limit to tell "exactly the limit" from "too large".
    let read = std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut message);
    if let Err(e) = read {
        eprintln!("mailroom deliver: reading the message: {e}");
        return ExitCode::from(EX_TEMPFAIL);
    }
    if message.len() as u64 > limit {
        eprintln!(
            "mailroom deliver: message larger than {}",
            config.storage.max_message_size
        );
        return ExitCode::from(EX_DATAERR);
    }
    if message.is_empty() {
        eprintln!("mailroom deliver: empty message");
        return ExitCode::from(EX_DATAERR);
    }
    let store = match open_existing_store(config) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("mailroom deliver: {}", crate::commands::render(&e));
            return ExitCode::from(EX_TEMPFAIL);
        }
    };
    let mut accounts = Vec::with_capacity(recipients.len());
    for rcpt in &recipients {
        match store.resolve_recipient(rcpt).await {
            Ok(Some(id)) if !accounts.contains(&id) => accounts.push(id),
            Ok(Some(_)) => {}
            Ok(None) => {
                eprintln!(
                    "mailroom deliver: {rcpt}: no such user in the store in {}",
                    store_path(config)
                );
                return ExitCode::from(EX_NOUSER);
            }
            Err(e) => {
                eprintln!("mailroom deliver: {rcpt}: {e}");
                return ExitCode::from(EX_TEMPFAIL);
            }
        }
    }
    if accounts.is_empty() {
        return ExitCode::from(EX_USAGE);
    }
    let content = normalize_crlf(&message).into_owned();
    let outcomes = match store
        .deliver(Delivery {
            recipients: accounts,
            content: content.into(),
        })
        .await
    {
        Ok(outcomes) => outcomes,
        Err(e) => {
            // A full disk is temporary too: the MTA keeps the message and retries.
            eprintln!("mailroom deliver: {e}");
            return ExitCode::from(EX_TEMPFAIL);
        }
    };
    let mut code = ExitCode::SUCCESS;
    for (rcpt, outcome) in recipients.iter().zip(outcomes) {
        match outcome {
            DeliveryOutcome::Delivered(a) => println!("{rcpt}: delivered as UID {}", a.uid),
            DeliveryOutcome::OverQuota => {
                eprintln!("mailroom deliver: {rcpt}: mailbox over quota");
                code = ExitCode::from(EX_TEMPFAIL);
            }
            DeliveryOutcome::NoSuchAccount => {
                eprintln!("mailroom deliver: {rcpt}: no such user");
                code = ExitCode::from(EX_NOUSER);
            }
            DeliveryOutcome::Failed(e) => {
                eprintln!("mailroom deliver: {rcpt}: {e}");
                code = ExitCode::from(EX_SOFTWARE);
            }
        }
    }
    code
}
