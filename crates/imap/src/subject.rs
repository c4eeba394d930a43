//! RFC 5256 §2.1 base subject: what SORT SUBJECT and THREAD compare.

/// The subject without reply/forward markers, list tags and `(fwd)` trailers, lower-cased
/// (the i;unicode-casemap comparator folds case).
pub(crate) fn base_subject(subject: &str) -> String {
    let mut s = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let before = s.clone();
        // (2) trailers: "(fwd)" and whitespace.
        while let Some(stripped) = strip_suffix_ci(s.trim_end(), "(fwd)") {
            s = stripped.trim_end().to_string();
        }
        s = s.trim().to_string();
        // (3)-(5) leaders: "[blob]" tags, "re:", "fw:", "fwd:" (optionally "re[2]:").
        loop {
            let start = s.clone();
            if s.starts_with('[')
                && let Some(rest) = s.find(']').and_then(|end| s.get(end + 1..))
                && !rest.trim().is_empty()
            {
                s = rest.trim_start().to_string();
            }
            for marker in ["re", "fwd", "fw"] {
                if let Some(rest) = strip_prefix_ci(&s, marker) {
                    let rest = rest.trim_start();
                    let rest = match rest.strip_prefix('[') {
                        Some(r) => r.find(']').and_then(|e| r.get(e + 1..)).unwrap_or(rest),
                        None => rest,
                    };
                    if let Some(rest) = rest.strip_prefix(':') {
                        s = rest.trim_start().to_string();
                        break;
                    }
                }
            }
            if s == start {
                break;
            }
        }
        // (6) "[fwd: ... ]" wrappers.
        if let Some(inner) = strip_prefix_ci(&s, "[fwd:")
            && let Some(inner) = inner.strip_suffix(']')
        {
            s = inner.trim().to_string();
        }
        if s == before {
            break;
        }
    }
    s.to_lowercase()
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
            ("Hello", "hello"),
            ("Re: hello", "hello"),
            ("RE: Fwd: [list] Re[2]: Hello  world (fwd)", "hello world"),
            ("[fwd: Hello]", "hello"),
            ("[only]", "[only]"),
            ("", ""),
        ] {
            assert_eq!(base_subject(raw), base, "{raw}");
        }
        assert!(is_reply("Re: x") && !is_reply("x"));
    }
}
