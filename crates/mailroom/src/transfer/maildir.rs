//! Maildir, as Dovecot, mbsync and mutt write it. Export uses one directory per folder under
//! the root ("fs" layout: `Work/2026/{cur,new,tmp}`, each level escaped by [`super::tree`]);
//! import also reads Maildir++ (`.Work.2026` beside the INBOX's own cur/new/tmp). Flags are the standard letters of the file name's
//! `:2,` suffix; keywords are the letters a–z listed in `dovecot-keywords`; POP3 UIDLs and
//! UIDs are in `dovecot-uidlist`, in Dovecot's format, so mail moved from Dovecot keeps them.

use super::tree::{Layout, folder_name, folder_path};
use super::{FileFolder, FileMessage, valid_uidl};
use anyhow::{Context, Result};
use cap_std::fs::Dir;
use mailroom_store::{Flags, SystemFlags};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

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
    root: &Dir,
    folder: &FileFolder,
    uids: &[u32],
    uid_validity: u32,
) -> Result<()> {
    let relative = folder_path(&folder.name, Layout::Maildir)?;
    root.create_dir_all(&relative)
        .with_context(|| format!("creating the directory of folder {:?}", folder.name))?;
    let dir = root.open_dir(&relative)?;
    for sub in ["cur", "new", "tmp"] {
        dir.create_dir_all(sub)?;
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
        let mut file = dir.create(Path::new("cur").join(&name))?.into_std();
        file.write_all(&m.content)?;
        file.set_modified(UNIX_EPOCH + Duration::from_secs(m.internal_date.max(0) as u64))?;
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
    dir.write("dovecot-keywords", keyword_file)?;
    dir.write("dovecot-uidlist", uidlist)?;
    Ok(())
}

/// Reads every folder under `root`, in either layout. Symbolic links are not followed: what
/// is read is what lies inside `root`.
pub fn read_tree(root: &Dir) -> Result<Vec<FileFolder>> {
    let mut folders = Vec::new();
    if is_maildir(root) {
        // Maildir++: the root is INBOX, subfolders are ".Name.Sub".
        folders.push(read_folder(root, "INBOX")?);
        for entry in root.entries()? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let Some(name) = file_name.strip_prefix('.') else {
                continue;
            };
            let dir = root.open_dir(&file_name)?;
            if is_maildir(&dir) && !name.is_empty() {
                folders.push(read_folder(&dir, &folder_name(name.split('.')))?);
            }
        }
    } else {
        let mut stack: Vec<(Dir, Vec<String>)> = vec![(root.try_clone()?, Vec::new())];
        while let Some((dir, components)) = stack.pop() {
            for entry in dir.entries()? {
                let entry = entry?;
                let file_name = entry.file_name().to_string_lossy().into_owned();
                if !entry.file_type()?.is_dir()
                    || ["cur", "new", "tmp"].contains(&file_name.as_str())
                {
                    continue;
                }
                let child = dir
                    .open_dir(&file_name)
                    .with_context(|| format!("reading {file_name}"))?;
                let mut path = components.clone();
                path.push(file_name);
                if is_maildir(&child) {
                    folders.push(read_folder(
                        &child,
                        &folder_name(path.iter().map(String::as_str)),
                    )?);
                }
                stack.push((child, path));
            }
        }
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(folders)
}

fn is_maildir(dir: &Dir) -> bool {
    dir.is_dir("cur") && dir.is_dir("new")
}

fn read_folder(dir: &Dir, name: &str) -> Result<FileFolder> {
    let keywords = read_keywords(dir);
    let uidls = read_uidlist(dir);
    let mut messages = Vec::new();
    for sub in ["new", "cur"] {
        let files = dir.open_dir(sub)?;
        let mut entries: Vec<_> = files
            .entries()?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
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
            let internal_date = entry
                .metadata()?
                .modified()
                .ok()
                .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64);
            messages.push(FileMessage {
                content: files.read(entry.file_name())?,
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
fn read_keywords(dir: &Dir) -> HashMap<char, String> {
    let text = dir.read_to_string("dovecot-keywords").unwrap_or_default();
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
fn read_uidlist(dir: &Dir) -> HashMap<String, String> {
    let text = dir.read_to_string("dovecot-uidlist").unwrap_or_default();
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
    use crate::transfer::tree::open_root;
    use std::fs;

    fn message(content: &[u8]) -> FileMessage {
        FileMessage {
            content: content.to_vec(),
            flags: Flags::default(),
            internal_date: 1_700_000_000,
            pop3_uidl: None,
        }
    }

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
        let root = open_root(dir.path(), false).unwrap();
        write_folder(&root, &folder, &[3, 9], 77).unwrap();
        let read = read_tree(&root).unwrap();
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
        let folders = read_tree(&open_root(root, false).unwrap()).unwrap();
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

    #[test]
    fn unsafe_folder_names_stay_inside_and_come_back() {
        let outer = tempfile::tempdir().unwrap();
        let target = outer.path().join("a/b/c");
        let root = open_root(&target, true).unwrap();
        let names = [
            "../../../escaped",
            "a/../../x",
            "~root",
            "Work/cur",
            ".hidden/.",
        ];
        for (i, name) in names.iter().enumerate() {
            let folder = FileFolder {
                name: name.to_string(),
                messages: vec![message(format!("Subject: {i}\r\n\r\n").as_bytes())],
            };
            write_folder(&root, &folder, &[1], 5).unwrap();
        }
        // Nothing outside the target: only "c" is in "b", only "b" in "a", only "a" outside.
        let listing = |p: &Path| -> Vec<String> {
            fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(listing(outer.path()), ["a"]);
        assert_eq!(listing(&outer.path().join("a")), ["b"]);
        assert_eq!(listing(&outer.path().join("a/b")), ["c"]);
        let mut read: Vec<String> = read_tree(&root)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        read.retain(|n| names.contains(&n.as_str()));
        read.sort();
        let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        want.sort();
        assert_eq!(read, want);
    }

    #[test]
    fn symbolic_links_out_of_the_target_are_refused_or_skipped() {
        let outer = tempfile::tempdir().unwrap();
        let target = outer.path().join("out");
        let elsewhere = outer.path().join("elsewhere");
        fs::create_dir_all(&target).unwrap();
        fs::create_dir_all(elsewhere.join("cur")).unwrap();
        fs::create_dir_all(elsewhere.join("new")).unwrap();
        fs::write(elsewhere.join("cur/1.M1.x:2,"), "Subject: secret\r\n\r\n").unwrap();
        std::os::unix::fs::symlink(&elsewhere, target.join("Work")).unwrap();
        let root = open_root(&target, false).unwrap();
        // Writing through the link fails instead of writing into `elsewhere`.
        let folder = FileFolder {
            name: "Work".into(),
            messages: vec![message(b"Subject: x\r\n\r\n")],
        };
        assert!(write_folder(&root, &folder, &[1], 1).is_err());
        assert!(!elsewhere.join("dovecot-uidlist").exists());
        // Reading does not follow it either.
        assert!(read_tree(&root).unwrap().is_empty());
    }
}
