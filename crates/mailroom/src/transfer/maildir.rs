//! Maildir, as Dovecot, mbsync and mutt write it. Export uses one directory per folder under
//! the root ("fs" layout: `Work/2026/{cur,new,tmp}`); import also reads Maildir++ (`.Work.2026`
//! beside the INBOX's own cur/new/tmp). Flags are the standard letters of the file name's
//! `:2,` suffix; keywords are the letters a–z listed in `dovecot-keywords`; POP3 UIDLs and
//! UIDs are in `dovecot-uidlist`, in Dovecot's format, so mail moved from Dovecot keeps them.

use super::{FileFolder, FileMessage, valid_uidl};
use anyhow::{Context, Result};
use mailroom_store::{Flags, SystemFlags};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LETTERS: [(char, SystemFlags); 5] = [
    ('D', SystemFlags::DRAFT),
    ('F', SystemFlags::FLAGGED),
    ('R', SystemFlags::ANSWERED),
    ('S', SystemFlags::SEEN),
    ('T', SystemFlags::DELETED),
];

/// Writes one folder into `root` (fs layout). `uid_validity` and the messages' UIDs go into
/// dovecot-uidlist beside the POP3 UIDLs.
pub fn write_folder(
    root: &Path,
    folder: &FileFolder,
    uids: &[u32],
    uid_validity: u32,
) -> Result<()> {
    let dir = root.join(&folder.name);
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    let mut keywords: Vec<String> = Vec::new();
    let mut uidlist = String::new();
    let next_uid = uids.iter().max().map_or(1, |u| u + 1);
    uidlist.push_str(&format!("3 V{uid_validity} N{next_uid}\n"));
    for (m, uid) in folder.messages.iter().zip(uids) {
        let mut letters: Vec<char> = LETTERS
            .iter()
            .filter(|(_, f)| m.flags.system.contains(*f))
            .map(|(c, _)| *c)
            .collect();
        for k in m.flags.keywords() {
            let index = match keywords.iter().position(|x| x.eq_ignore_ascii_case(k)) {
                Some(i) => i,
                None => {
                    keywords.push(k.clone());
                    keywords.len() - 1
                }
            };
            // Maildir has 26 keyword letters; further keywords can't be carried.
            if let Some(c) = u8::try_from(index)
                .ok()
                .filter(|i| *i < 26)
                .map(|i| char::from(b'a' + i))
            {
                letters.push(c);
            }
        }
        letters.sort_unstable();
        let base = format!("{}.M{uid}P{}.mailroom", m.internal_date, std::process::id());
        let name = format!("{base}:2,{}", letters.iter().collect::<String>());
        let path = dir.join("cur").join(&name);
        fs::write(&path, &m.content)?;
        let mtime = UNIX_EPOCH + Duration::from_secs(m.internal_date.max(0) as u64);
        fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(mtime)?;
        match &m.pop3_uidl {
            Some(uidl) => uidlist.push_str(&format!("{uid} P{uidl} :{base}\n")),
            None => uidlist.push_str(&format!("{uid} :{base}\n")),
        }
    }
    let keyword_file: String = keywords
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{i} {k}\n"))
        .collect();
    fs::write(dir.join("dovecot-keywords"), keyword_file)?;
    fs::write(dir.join("dovecot-uidlist"), uidlist)?;
    Ok(())
}

/// Reads every folder under `root`, in either layout.
pub fn read_tree(root: &Path) -> Result<Vec<FileFolder>> {
    let mut folders = Vec::new();
    if is_maildir(root) {
        // Maildir++: the root is INBOX, subfolders are ".Name.Sub".
        folders.push(read_folder(root, "INBOX")?);
        for entry in fs::read_dir(root)? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file_name.strip_prefix('.')
                && is_maildir(&entry.path())
                && !name.is_empty()
            {
                folders.push(read_folder(&entry.path(), &name.replace('.', "/"))?);
            }
        }
    } else {
        for dir in folder_dirs(root)? {
            let name = dir
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            folders.push(read_folder(&dir, &name)?);
        }
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(folders)
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

/// Every directory below `root` that is a maildir (fs layout).
fn folder_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            let last = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ["cur", "new", "tmp"].contains(&last.as_str()) {
                continue;
            }
            if is_maildir(&path) {
                out.push(path.clone());
            }
            stack.push(path);
        }
    }
    Ok(out)
}

fn read_folder(dir: &Path, name: &str) -> Result<FileFolder> {
    let keywords = read_keywords(dir);
    let uidls = read_uidlist(dir);
    let mut messages = Vec::new();
    for sub in ["new", "cur"] {
        let mut entries: Vec<_> = fs::read_dir(dir.join(sub))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let (base, info) = match file_name
                .split_once(":2,")
                .or_else(|| file_name.split_once("!2,"))
            {
                Some((b, i)) => (b.to_string(), i.to_string()),
                None => (file_name.clone(), String::new()),
            };
            let mut system = SystemFlags::default();
            let mut words = Vec::new();
            for c in info.chars() {
                if let Some((_, f)) = LETTERS.iter().find(|(l, _)| *l == c) {
                    system = system.union(*f);
                } else if let Some(k) = c.is_ascii_lowercase().then(|| keywords.get(&c)).flatten() {
                    words.push(k.clone());
                }
            }
            let metadata = entry.metadata()?;
            let internal_date = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64);
            messages.push(FileMessage {
                content: fs::read(entry.path())?,
                flags: Flags::new(system, words),
                internal_date,
                pop3_uidl: uidls.get(&base).cloned(),
            });
        }
    }
    Ok(FileFolder {
        name: name.to_string(),
        messages,
    })
}

/// dovecot-keywords: "<index> <keyword>" per line; index 0 is the letter a.
fn read_keywords(dir: &Path) -> HashMap<char, String> {
    let text = fs::read_to_string(dir.join("dovecot-keywords")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (i, k) = l.split_once(' ')?;
            let i: u8 = i.parse().ok().filter(|i| *i < 26)?;
            Some((char::from(b'a' + i), k.trim().to_string()))
        })
        .collect()
}

/// dovecot-uidlist (version 3): "<uid> [<key><value> ...] :<base name>"; the key P holds a
/// POP3 UIDL.
fn read_uidlist(dir: &Path) -> HashMap<String, String> {
    let text = fs::read_to_string(dir.join("dovecot-uidlist")).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let Some((fields, base)) = line.split_once(" :") else {
            continue;
        };
        if let Some(uidl) = fields.split(' ').find_map(|f| f.strip_prefix('P'))
            && valid_uidl(uidl)
        {
            out.insert(base.to_string(), uidl.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_flags_keywords_dates_and_uidls() {
        let dir = tempfile::tempdir().unwrap();
        let folder = FileFolder {
            name: "Work/2026".into(),
            messages: vec![
                FileMessage {
                    content: b"Subject: a\r\n\r\nx\r\n".to_vec(),
                    flags: Flags::from_names(["\\Seen", "\\Flagged", "$Label1"]),
                    internal_date: 1_700_000_000,
                    pop3_uidl: Some("UIDL-1".into()),
                },
                FileMessage {
                    content: b"Subject: b\r\n\r\ny\r\n".to_vec(),
                    flags: Flags::default(),
                    internal_date: 1_700_000_100,
                    pop3_uidl: None,
                },
            ],
        };
        write_folder(dir.path(), &folder, &[3, 9], 77).unwrap();
        let read = read_tree(dir.path()).unwrap();
        assert_eq!(read, vec![folder]);
    }

    #[test]
    fn reads_a_dovecot_maildir_plus_plus_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in [
            "cur",
            "new",
            "tmp",
            ".Lists.Rust/cur",
            ".Lists.Rust/new",
            ".Lists.Rust/tmp",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("cur/1.M1.host:2,RSb"), "Subject: 1\r\n\r\n").unwrap();
        fs::write(root.join("new/2.M2.host"), "Subject: 2\r\n\r\n").unwrap();
        fs::write(root.join("dovecot-keywords"), "0 $Junk\n1 Work\n").unwrap();
        fs::write(
            root.join("dovecot-uidlist"),
            "3 V1 N3\n1 P0000000100000001 :1.M1.host\n2 :2.M2.host\n",
        )
        .unwrap();
        fs::write(
            root.join(".Lists.Rust/cur/3.M3.host:2,"),
            "Subject: 3\r\n\r\n",
        )
        .unwrap();
        let folders = read_tree(root).unwrap();
        let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["INBOX", "Lists/Rust"]);
        let inbox = &folders[0];
        assert_eq!(inbox.messages.len(), 2);
        let first = inbox
            .messages
            .iter()
            .find(|m| m.content.starts_with(b"Subject: 1"))
            .unwrap();
        assert_eq!(
            first.flags,
            Flags::from_names(["\\Seen", "\\Answered", "Work"])
        );
        assert_eq!(first.pop3_uidl.as_deref(), Some("0000000100000001"));
    }
}
