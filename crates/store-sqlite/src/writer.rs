//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and each durable commit costs an fsync. Every write of
//! the store therefore runs as a job on one thread: jobs that arrive while a commit is being
//! synced queue up and are committed together in the next transaction, each inside its own
//! SAVEPOINT so one failing job doesn't undo the others. Under load many deliveries share one
//! fsync; alone, a job commits at once.

use crate::schema::db;
use mailroom_store::{ChangeBus, Clock, MailboxEvent, Result, StoreError};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// At most this many jobs share one commit, so one batch can't delay its first job for long.
const MAX_BATCH: usize = 256;

/// What a job sees: the connection inside the batch's transaction, the time, and a place to
/// record events that are published once the batch is durable.
pub struct WriteCtx<'a> {
    pub conn: &'a Connection,
    pub now: i64,
    pub events: Vec<MailboxEvent>,
}

type Completion = Box<dyn FnOnce(Result<(), CommitFailure>) + Send>;

/// Why a batch did not commit, handed to every job in it (so it must be `Clone`, which
/// `StoreError` is not). A full disk stays recognisable: protocols answer it differently.
#[derive(Clone, Debug)]
enum CommitFailure {
    StorageFull,
    Database(String),
}

impl From<rusqlite::Error> for CommitFailure {
    fn from(e: rusqlite::Error) -> Self {
        db(e).into()
    }
}

impl From<StoreError> for CommitFailure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::StorageFull => CommitFailure::StorageFull,
            other => CommitFailure::Database(other.to_string()),
        }
    }
}

impl From<CommitFailure> for StoreError {
    fn from(e: CommitFailure) -> Self {
        match e {
            CommitFailure::StorageFull => StoreError::StorageFull,
            CommitFailure::Database(e) => StoreError::Database(e),
        }
    }
}

impl std::fmt::Display for CommitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitFailure::StorageFull => f.write_str("the disk is full"),
            CommitFailure::Database(e) => f.write_str(e),
        }
    }
}
type Job = Box<dyn FnOnce(&mut WriteCtx<'_>) -> (bool, Completion) + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(
        conn: Connection,
        bus: Arc<ChangeBus>,
        clock: Arc<dyn Clock>,
        origin: i64,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, rx, &bus, clock.as_ref(), origin))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the store writer: {e}"));
        Writer { jobs: tx }
    }

    /// Runs `f` in a write transaction; returns its result once that transaction is durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            let result = f(ctx);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |commit| {
                let outcome = match commit {
                    Ok(()) => result,
                    Err(e) => Err(e.into()),
                };
                let _ = tx.send(outcome);
            });
            (ok, done)
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(
    conn: Connection,
    jobs: mpsc::Receiver<Job>,
    bus: &ChangeBus,
    clock: &dyn Clock,
    origin: i64,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, bus, clock, origin);
    }
}

fn run_batch(conn: &Connection, batch: Vec<Job>, bus: &ChangeBus, clock: &dyn Clock, origin: i64) {
    let mut completions = Vec::with_capacity(batch.len());
    let mut events = Vec::new();
    let commit = (|| -> Result<(), CommitFailure> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for job in batch {
            conn.execute_batch("SAVEPOINT job")?;
            let mut ctx = WriteCtx {
                conn,
                now: clock.now(),
                events: Vec::new(),
            };
            // A panicking job is a bug, but it must not take the store down with it.
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut ctx)));
            let ok = match outcome {
                Ok((ok, done)) => {
                    completions.push(done);
                    ok
                }
                Err(_) => {
                    tracing::error!("a store write job panicked; its changes are rolled back");
                    false
                }
            };
            if ok {
                events.append(&mut ctx.events);
                conn.execute_batch("RELEASE job")?;
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            }
        }
        // One event per mailbox, recorded for other processes and published to this one.
        events = dedupe(std::mem::take(&mut events));
        record_events(conn, &events, origin, clock.now())?;
        Ok(conn.execute_batch("COMMIT")?)
    })();
    match &commit {
        Ok(()) => {
            for event in events {
                bus.publish(event);
            }
        }
        Err(e) => {
            tracing::error!("store commit failed: {e}");
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
    for done in completions {
        done(commit.clone());
    }
}

/// Keeps one event per mailbox (the last, with the highest MODSEQ) in first-seen order.
fn dedupe(events: Vec<MailboxEvent>) -> Vec<MailboxEvent> {
    let mut out: Vec<MailboxEvent> = Vec::with_capacity(events.len());
    for event in events {
        match out.iter_mut().find(|e| same_subject(e, &event)) {
            Some(slot) => *slot = event,
            None => out.push(event),
        }
    }
    out
}

fn same_subject(a: &MailboxEvent, b: &MailboxEvent) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && a.account() == b.account()
        && a.mailbox() == b.mailbox()
}

/// Writes the batch's (deduplicated) events to the events table for sessions in other
/// processes.
fn record_events(conn: &Connection, events: &[MailboxEvent], origin: i64, now: i64) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO events (origin, account_id, mailbox_id, modseq, kind, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?;
    for &event in events {
        let (kind, modseq) = match event {
            MailboxEvent::Changed { modseq, .. } => (0, Some(modseq as i64)),
            MailboxEvent::Deleted { .. } => (1, None),
            MailboxEvent::ListChanged { .. } => (2, None),
        };
        stmt.execute(rusqlite::params![
            origin,
            event.account().0,
            event.mailbox().map(|m| m.0),
            modseq,
            kind,
            now
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Turns a row of the events table back into an event.
pub fn event_from_row(
    account: i64,
    mailbox: Option<i64>,
    modseq: Option<i64>,
    kind: i64,
) -> Option<MailboxEvent> {
    use mailroom_store::{AccountId, MailboxId};
    let account = AccountId(account);
    match (kind, mailbox) {
        (0, Some(m)) => Some(MailboxEvent::Changed {
            account,
            mailbox: MailboxId(m),
            modseq: modseq.unwrap_or(0) as u64,
        }),
        (1, Some(m)) => Some(MailboxEvent::Deleted {
            account,
            mailbox: MailboxId(m),
        }),
        (2, _) => Some(MailboxEvent::ListChanged { account }),
        _ => None,
    }
}
