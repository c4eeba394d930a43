//! Backups of the embedded store: a consistent snapshot of `mail.db` (SQLite's online backup
//! API, so the server keeps running) plus the blobs it references. Blobs are named by their
//! SHA-256 and never change, so every backup in a set shares one blob folder: a backup copies
//! only blobs the set doesn't have yet (incremental), and the name is the checksum.
//!
//! ```text
//! BACKUPS/blobs/ab/<sha256>          shared by all backups
//! BACKUPS/<id>/mail.db               the metadata snapshot
//! BACKUPS/<id>/blobs.txt             "<sha256> <size>" for every blob the snapshot references
//! BACKUPS/<id>/manifest.json         written last: a backup without it is incomplete
//! ```

use crate::SqliteStore;
use crate::rows::blob_hash;
use crate::schema::db;
use mailroom_store::{BlobHash, Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub id: String,
    pub created_at: i64,
    pub db_sha256: String,
    pub db_bytes: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Blobs this backup had to copy (the rest were already in the set).
    pub new_blobs: u64,
    pub new_blob_bytes: u64,
    pub accounts: u64,
    pub messages: u64,
}

/// Progress of a long run: (done, total) in units the caller names.
pub type Progress<'a> = &'a dyn Fn(&str, u64, u64);

impl SqliteStore {
    /// Takes a backup into the set at `root`. Blocking; run it on a blocking thread.
    pub fn backup_into(&self, root: &Path, progress: Progress<'_>) -> Result<Manifest> {
        let now = self.now();
        // Two backups in one second (an on-demand one right after another) get a suffix.
        let base = backup_id(now);
        let id = (1..100)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|id| !root.join(id).exists())
            .ok_or(StoreError::AlreadyExists("backup"))?;
        let dir = root.join(&id);
        fs::create_dir_all(root.join("blobs"))?;
        let partial = root.join(format!(".{id}.partial"));
        let _ = fs::remove_dir_all(&partial);
        fs::create_dir_all(&partial)?;

        // 1. A consistent snapshot of the metadata while writers go on.
        let source = Connection::open_with_flags(
            self.inner.dir.join(crate::DATABASE_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(db)?;
        let snapshot_path = partial.join(crate::DATABASE_FILE);
        {
            let mut target = Connection::open(&snapshot_path).map_err(db)?;
            let backup = rusqlite::backup::Backup::new(&source, &mut target).map_err(db)?;
            loop {
                use rusqlite::backup::StepResult;
                match backup.step(256).map_err(db)? {
                    StepResult::Done => break,
                    StepResult::More => {
                        let p = backup.progress();
                        progress(
                            "metadata pages",
                            (p.pagecount - p.remaining) as u64,
                            p.pagecount as u64,
                        );
                    }
                    // The writer holds a lock for a moment: try again shortly.
                    _ => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
            drop(backup);
            // A self-contained file: no WAL beside it.
            target
                .execute_batch("PRAGMA journal_mode = DELETE;")
                .map_err(db)?;
        }

        // 2. Every blob the snapshot references, copied unless the set has it.
        let snapshot =
            Connection::open_with_flags(&snapshot_path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(db)?;
        let referenced = referenced_blobs(&snapshot)?;
        let (accounts, messages): (u64, u64) = snapshot
            .query_row(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM messages)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(db)?;
        drop(snapshot);
        let mut list = String::with_capacity(referenced.len() * 80);
        let (mut new_blobs, mut new_blob_bytes, mut blob_bytes) = (0, 0, 0);
        let total = referenced.len() as u64;
        for (i, (hash, size)) in referenced.iter().enumerate() {
            blob_bytes += size;
            list.push_str(&format!("{} {size}\n", hash.to_hex()));
            let target = blob_path(root, hash);
            let present = fs::metadata(&target).is_ok_and(|m| m.len() == *size);
            if !present {
                copy_durably(&self.inner.blobs.path(hash), &target)?;
                new_blobs += 1;
                new_blob_bytes += size;
            }
            if i % 64 == 0 || i as u64 + 1 == total {
                progress("blobs", i as u64 + 1, total);
            }
        }
        write_durably(&partial.join("blobs.txt"), list.as_bytes())?;

        // 3. The manifest, then the rename that makes the backup exist.
        let (db_sha256, db_bytes) = sha256_file(&snapshot_path)?;
        let manifest = Manifest {
            id: id.clone(),
            created_at: now,
            db_sha256,
            db_bytes,
            blobs: total,
            blob_bytes,
            new_blobs,
            new_blob_bytes,
            accounts,
            messages,
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        write_durably(&partial.join("manifest.json"), &json)?;
        fs::rename(&partial, &dir)?;
        fs::File::open(root)?.sync_all()?;
        Ok(manifest)
    }
}

/// The backups in a set, oldest first (incomplete ones are skipped).
pub fn list_backups(root: &Path) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry?.path();
        if let Ok(bytes) = fs::read(path.join("manifest.json"))
            && let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes)
        {
            out.push(manifest);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Checks a backup: the metadata checksum and integrity, and every referenced blob present
/// with the right size and a content that hashes to its name. Returns the problems found.
pub fn verify_backup(root: &Path, id: &str, progress: Progress<'_>) -> Result<Vec<String>> {
    let dir = backup_dir(root, id)?;
    let manifest: Manifest = serde_json::from_slice(&fs::read(dir.join("manifest.json"))?)
        .map_err(|e| StoreError::Corrupt(format!("manifest of {id}: {e}")))?;
    let mut problems = Vec::new();
    let (sha, _) = sha256_file(&dir.join(crate::DATABASE_FILE))?;
    if sha != manifest.db_sha256 {
        problems.push(format!(
            "{id}/mail.db: checksum {sha}, manifest says {}",
            manifest.db_sha256
        ));
    } else {
        let conn = Connection::open_with_flags(
            dir.join(crate::DATABASE_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(db)?;
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(db)?;
        if verdict != "ok" {
            problems.push(format!("{id}/mail.db: {verdict}"));
        }
    }
    let list = BufReader::new(fs::File::open(dir.join("blobs.txt"))?);
    let lines: Vec<String> = list.lines().collect::<std::io::Result<_>>()?;
    let total = lines.len() as u64;
    for (i, line) in lines.iter().enumerate() {
        let Some((hex, size)) = line.split_once(' ') else {
            problems.push(format!("{id}/blobs.txt: malformed line {}", i + 1));
            continue;
        };
        let (Ok(hash), Ok(size)) = (hex.parse::<BlobHash>(), size.parse::<u64>()) else {
            problems.push(format!("{id}/blobs.txt: malformed line {}", i + 1));
            continue;
        };
        let path = blob_path(root, &hash);
        match sha256_file(&path) {
            Err(_) => problems.push(format!("blob {hex}: missing")),
            Ok((_, len)) if len != size => {
                problems.push(format!("blob {hex}: {len} bytes, expected {size}"))
            }
            Ok((actual, _)) if actual != hex => problems.push(format!(
                "blob {hex}: corrupted (content hashes to {actual})"
            )),
            Ok(_) => {}
        }
        if i % 64 == 0 || i as u64 + 1 == total {
            progress("blobs checked", i as u64 + 1, total);
        }
    }
    Ok(problems)
}

/// Keeps the newest `keep` backups, removes the rest and the blobs no kept backup references.
/// Returns (backups removed, blobs removed).
pub fn prune_backups(root: &Path, keep: usize) -> Result<(usize, usize)> {
    let backups = list_backups(root)?;
    let doomed = backups.len().saturating_sub(keep);
    for manifest in &backups[..doomed] {
        fs::remove_dir_all(root.join(&manifest.id))?;
    }
    let mut wanted = HashSet::new();
    for manifest in &backups[doomed..] {
        let list = BufReader::new(fs::File::open(root.join(&manifest.id).join("blobs.txt"))?);
        for line in list.lines() {
            if let Some((hex, _)) = line?.split_once(' ') {
                wanted.insert(hex.to_string());
            }
        }
    }
    let mut removed = 0;
    let blobs = root.join("blobs");
    if let Ok(fans) = fs::read_dir(&blobs) {
        for fan in fans {
            for entry in fs::read_dir(fan?.path())? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !wanted.contains(&name) {
                    fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
    }
    Ok((doomed, removed))
}

/// Read access to one backup, for restoring accounts or folders into a live store.
pub struct BackupReader {
    root: PathBuf,
    conn: Connection,
    pub manifest: Manifest,
}

/// An account as a backup holds it.
#[derive(Debug, Clone)]
pub struct AccountSnapshot {
    pub address: String,
    pub password_hash: String,
    /// None in backups taken before SCRAM keys existed (schema version 4 and older).
    pub scram_sha256: Option<String>,
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub protocols: u32,
    pub pop3_policy: Option<String>,
    pub mailboxes: Vec<MailboxSnapshot>,
}

#[derive(Debug, Clone)]
pub struct MailboxSnapshot {
    pub name: String,
    pub special_use: Option<String>,
    pub subscribed: bool,
    pub messages: Vec<MessageSnapshot>,
}

#[derive(Debug, Clone)]
pub struct MessageSnapshot {
    pub blob: BlobHash,
    pub flags: u8,
    pub keywords: Option<String>,
    pub internal_date: i64,
    pub internal_tz: i16,
    pub pop3_uidl: Option<String>,
    /// Derived UIDL the message had (UIDVALIDITY + UID), kept so POP3 clients recognise it.
    pub uid: u32,
    pub uid_validity: u32,
}

impl BackupReader {
    pub fn open(root: &Path, id: &str) -> Result<Self> {
        let dir = backup_dir(root, id)?;
        let manifest: Manifest = serde_json::from_slice(&fs::read(dir.join("manifest.json"))?)
            .map_err(|e| StoreError::Corrupt(format!("manifest of {id}: {e}")))?;
        let conn = Connection::open_with_flags(
            dir.join(crate::DATABASE_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(db)?;
        Ok(BackupReader {
            root: root.to_path_buf(),
            conn,
            manifest,
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(&self.manifest.id).join(crate::DATABASE_FILE)
    }

    pub fn blob_path(&self, hash: &BlobHash) -> PathBuf {
        blob_path(&self.root, hash)
    }

    pub fn read_blob(&self, hash: &BlobHash) -> Result<Vec<u8>> {
        Ok(fs::read(self.blob_path(hash))?)
    }

    pub fn account_addresses(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT address FROM accounts ORDER BY address")
            .map_err(db)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<String>>>().map_err(db)
    }

    /// The account with its mailboxes and messages; None if the backup doesn't have it.
    pub fn account(&self, address: &str) -> Result<Option<AccountSnapshot>> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        // The SCRAM column arrived with schema version 5; older snapshots lack it.
        let scram = if version >= 5 { "scram_sha256" } else { "NULL" };
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT id, address, password_hash, quota_bytes, quota_messages, protocols,
                         pop3_policy, {scram}
                     FROM accounts WHERE address = ?1"
                ),
                [address],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        AccountSnapshot {
                            address: r.get(1)?,
                            password_hash: r.get(2)?,
                            quota_bytes: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
                            quota_messages: r.get::<_, Option<i64>>(4)?.map(|v| v as u64),
                            protocols: r.get(5)?,
                            pop3_policy: r.get(6)?,
                            scram_sha256: r.get(7)?,
                            mailboxes: Vec::new(),
                        },
                    ))
                },
            )
            .optional_row()?;
        let Some((id, mut account)) = row else {
            return Ok(None);
        };
        let mut boxes = self
            .conn
            .prepare(
                "SELECT m.id, m.name, m.special_use, m.uid_validity,
                    EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name)
                 FROM mailboxes m WHERE m.account_id = ?1 ORDER BY m.name",
            )
            .map_err(db)?;
        let mailboxes = boxes
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        let mut msgs = self
            .conn
            .prepare(
                "SELECT b.hash, m.flags, m.keywords, m.internal_date, m.internal_tz, m.pop3_uidl, m.uid
                 FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ?1 ORDER BY m.uid",
            )
            .map_err(db)?;
        for (mailbox_id, name, special_use, uid_validity, subscribed) in mailboxes {
            let messages = msgs
                .query_map([mailbox_id], |r| {
                    Ok(MessageSnapshot {
                        blob: blob_hash(&r.get::<_, Vec<u8>>(0)?),
                        flags: r.get(1)?,
                        keywords: r.get(2)?,
                        internal_date: r.get(3)?,
                        internal_tz: r.get(4)?,
                        pop3_uidl: r.get(5)?,
                        uid: r.get(6)?,
                        uid_validity,
                    })
                })
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            account.mailboxes.push(MailboxSnapshot {
                name,
                special_use,
                subscribed,
                messages,
            });
        }
        Ok(Some(account))
    }
}

trait OptionalRow<T> {
    fn optional_row(self) -> Result<Option<T>>;
}

impl<T> OptionalRow<T> for rusqlite::Result<T> {
    fn optional_row(self) -> Result<Option<T>> {
        use rusqlite::OptionalExtension;
        self.optional().map_err(db)
    }
}

/// Replaces the store in `data_dir` with a backup, for a whole-server restore. The server must
/// be stopped. The current database is kept beside it; blobs are added, never removed; the
/// search index is rebuilt on the next start.
pub fn restore_whole(root: &Path, id: &str, data_dir: &Path, now: i64) -> Result<PathBuf> {
    let reader = BackupReader::open(root, id)?;
    let aside = data_dir.join(format!("pre-restore-{}", backup_id(now)));
    fs::create_dir_all(&aside)?;
    for name in [
        "mail.db",
        "mail.db-wal",
        "mail.db-shm",
        "search.db",
        "search.db-wal",
        "search.db-shm",
    ] {
        let path = data_dir.join(name);
        if path.exists() {
            fs::rename(&path, aside.join(name))?;
        }
    }
    let live_blobs = data_dir.join("blobs");
    let list = BufReader::new(fs::File::open(root.join(id).join("blobs.txt"))?);
    for line in list.lines() {
        let line = line?;
        let Some(hash) = line
            .split_once(' ')
            .and_then(|(hex, _)| hex.parse::<BlobHash>().ok())
        else {
            continue;
        };
        let hex = hash.to_hex();
        let target = live_blobs.join(&hex[..2]).join(&hex);
        if !target.exists() {
            copy_durably(&reader.blob_path(&hash), &target)?;
        }
    }
    copy_durably(&reader.db_path(), &data_dir.join(crate::DATABASE_FILE))?;
    Ok(aside)
}

fn referenced_blobs(conn: &Connection) -> Result<Vec<(BlobHash, u64)>> {
    let mut stmt = conn
        .prepare("SELECT hash, size FROM blobs WHERE refs > 0 ORDER BY id")
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                blob_hash(&r.get::<_, Vec<u8>>(0)?),
                r.get::<_, i64>(1)? as u64,
            ))
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

fn blob_path(root: &Path, hash: &BlobHash) -> PathBuf {
    let hex = hash.to_hex();
    root.join("blobs").join(&hex[..2]).join(hex)
}

/// e.g. 20261125T020000Z: sorts by time, readable, safe in paths.
/// The directory of backup `id`. An id is what `backup_id` makes (digits, `T`, `Z`, `-`), so a
/// typed id can never name a path outside the backup folder.
fn backup_dir(root: &Path, id: &str) -> Result<PathBuf> {
    let plain = !id.is_empty()
        && id.len() <= 32
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !plain {
        return Err(StoreError::invalid(
            "backup id",
            format!("{id:?} is not an id `mailroom backup list` shows"),
        ));
    }
    Ok(root.join(id))
}

fn backup_id(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's method;
/// written out here to keep the store free of a date crate for one function).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = to.with_extension("tmp");
    fs::copy(from, &tmp)?;
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, to)?;
    Ok(())
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_utc_timestamps() {
        assert_eq!(backup_id(0), "19700101T000000Z");
        assert_eq!(backup_id(1_795_572_000), "20261125T020000Z");
        assert_eq!(backup_id(951_782_400), "20000229T000000Z");
    }
}
