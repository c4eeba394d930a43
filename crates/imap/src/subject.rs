//! RFC 5256 §2.1 base subject: what SORT SUBJECT and THREAD compare.

/// The subject without reply/forward markers, list tags and `(fwd)` trailers, case-folded
/// for comparison, by the steps of RFC 5256 §2.1 (the grammar is in its §5). Folding is to
/// upper case, as the i;unicode-casemap comparator's titlecase does for sorting: `[` and `_`
/// sort after the letters.
pub(crate) fn base_subject(subject: &str) -> String {
    // (1) Whitespace runs become one space (decoding happened when the facts were stored).
    let mut s = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        // (2) subj-trailer = "(fwd)" / WSP, repeatedly.
        loop {
            let trimmed = s.trim_end();
            match strip_suffix_ci(trimmed, "(fwd)") {
                Some(rest) => s = rest.to_string(),
                None => {
                    s = trimmed.to_string();
                    break;
                }
            }
        }
        // (3)-(5) subj-leader, and a subj-blob when something is left after it.
        loop {
            let before = s.len();
            s = s.trim_start().to_string();
            if let Some(rest) = strip_leader(&s) {
                s = rest.to_string();
            }
            if let Some(rest) = strip_blob(&s)
                && !rest.trim().is_empty()
            {
                s = rest.to_string();
            }
            if s.len() == before {
                break;
            }
        }
        // (6) "[fwd:" subject "]": unwrap and start over.
        match strip_prefix_ci(&s, "[fwd:").and_then(|inner| inner.strip_suffix(']')) {
            Some(inner) => s = inner.to_string(),
            None => break,
        }
    }
    s.to_uppercase()
}

/// subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR being anything but `[` and `]`.
fn strip_blob(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(']')?;
    if inner[..end].contains('[') {
        return None;
    }
    Some(inner[end + 1..].trim_start())
}

/// subj-leader = *subj-blob subj-refwd, where subj-refwd = ("re" / "fw" ["d"]) *WSP
/// [subj-blob] ":".
fn strip_leader(s: &str) -> Option<&str> {
    let mut rest = s;
    while let Some(after) = strip_blob(rest) {
        rest = after;
    }
    let after_word = ["re", "fwd", "fw"]
        .iter()
        .find_map(|word| strip_prefix_ci(rest, word))?
        .trim_start();
    let after_blob = strip_blob(after_word).unwrap_or(after_word);
    after_blob.strip_prefix(':')
}

/// Whether the subject had reply or forward markers (THREAD=REFERENCES step 5).
pub(crate) fn is_reply(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    lower.starts_with("re:") || lower.starts_with("fw:") || lower.starts_with("fwd:")
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix)
        .then(|| s.get(..cut))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        for (raw, base) in [
            ("Hello", "HELLO"),
            ("Re: hello", "HELLO"),
            ("RE: Fwd: [list] Re[2]: Hello  world (fwd)", "HELLO WORLD"),
            ("[fwd: Hello]", "HELLO"),
            ("[only]", "[ONLY]"),
            ("", ""),
            // A blob holds no brackets: the outer "[fwd: ...]" is unwrapped instead.
            ("re: [fwd: [fwd: re: [fwd: babylon]]]", "BABYLON"),
            ("[xyz] Re: [abc] fwd: test", "TEST"),
            ("Re: (fwd) (fwd)", ""),
            ("_", "_"),
        ] {
            assert_eq!(base_subject(raw), base, "{raw}");
        }
        assert!(is_reply("Re: x") && !is_reply("x"));
    }
}
