//! The selected mailbox as this session sees it: sequence number ↔ UID, flags and MODSEQ,
//! kept in memory (RFC 9051 §2.3.1) and moved forward only at the moments the protocol allows.

use crate::error::ImapError;
use mailroom_imap_proto::{SeqNumber, SequenceSet};
use mailroom_store::{Flags, MessageSummary};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub(crate) struct View {
    /// Ascending by UID; index + 1 is the sequence number.
    pub messages: Vec<MessageSummary>,
    /// Every change up to this MODSEQ is reflected in `messages`.
    pub synced_modseq: u64,
    /// The keywords the client has been told of in FLAGS: a FETCH may only show those
    /// (RFC 9051 §7.3.5), so a new one is announced first.
    pub keywords: BTreeSet<String>,
    /// UIDs that are \Recent in this session (IMAP4rev1, RFC 3501 §2.3.2).
    pub recent: BTreeSet<u32>,
}

impl View {
    pub fn new(messages: Vec<MessageSummary>, synced_modseq: u64) -> Self {
        let keywords = messages
            .iter()
            .flat_map(|m| m.flags.keywords().iter().cloned())
            .collect();
        View {
            messages,
            synced_modseq,
            keywords,
            recent: BTreeSet::new(),
        }
    }

    /// Takes in the keywords of `flags`; true when one of them was new to the client.
    pub fn learn_keywords(&mut self, flags: &Flags) -> bool {
        let mut learnt = false;
        for keyword in flags.keywords() {
            learnt |= self.keywords.insert(keyword.clone());
        }
        learnt
    }

    pub fn len(&self) -> u32 {
        u32::try_from(self.messages.len()).unwrap_or(u32::MAX)
    }

    pub fn index_of(&self, uid: u32) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    pub fn max_uid(&self) -> u32 {
        self.messages.last().map_or(0, |m| m.uid)
    }

    /// Resolves a set to indices into `messages`, ascending and unique.
    ///
    /// RFC 9051 §6.4.9: UIDs that don't exist are ignored, and `*` is the largest UID in use.
    /// For sequence numbers a number beyond the mailbox is an error (§9 `seq-number`), except
    /// that `*` in an empty mailbox selects nothing. `$` is the saved SEARCH result (RFC 5182).
    pub fn resolve(
        &self,
        set: &SequenceSet,
        uid: bool,
        saved: Option<&[u32]>,
    ) -> Result<Vec<usize>, ImapError> {
        let ranges = match set {
            SequenceSet::Saved => {
                let saved = saved.unwrap_or_default();
                let mut out: Vec<usize> = saved.iter().filter_map(|u| self.index_of(*u)).collect();
                out.sort_unstable();
                out.dedup();
                return Ok(out);
            }
            SequenceSet::Ranges(ranges) => ranges,
        };
        if uid {
            let largest = self.max_uid();
            let bounds: Vec<(u32, u32)> = ranges.iter().map(|r| r.bounds(largest)).collect();
            return Ok(self
                .messages
                .iter()
                .enumerate()
                .filter(|(_, m)| bounds.iter().any(|(lo, hi)| (*lo..=*hi).contains(&m.uid)))
                .map(|(i, _)| i)
                .collect());
        }
        let len = self.len();
        let mut selected = vec![false; self.messages.len()];
        for range in ranges.iter() {
            let uses_last = range.start == SeqNumber::Last || range.end == SeqNumber::Last;
            if len == 0 && uses_last {
                continue;
            }
            let (low, high) = range.bounds(len);
            if high > len || low == 0 {
                return Err(ImapError::bad("invalid message sequence number"));
            }
            for slot in selected
                .iter_mut()
                .skip(low as usize - 1)
                .take((high - low + 1) as usize)
            {
                *slot = true;
            }
        }
        Ok(selected
            .iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| i)
            .collect())
    }

    /// The UIDs at the given indices.
    pub fn uids(&self, indices: &[usize]) -> Vec<u32> {
        indices
            .iter()
            .filter_map(|&i| self.messages.get(i).map(|m| m.uid))
            .collect()
    }
}

/// Compresses ascending numbers into a sequence set (`1:3,7`); `None` when empty.
/// The numbers as a set in the order given (SORT results): only ascending neighbours are
/// joined into ranges.
pub(crate) fn ordered_sequence_set(numbers: &[u32]) -> Option<SequenceSet> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &n in numbers.iter().filter(|n| **n > 0) {
        match ranges.last_mut() {
            Some((_, high)) if high.checked_add(1) == Some(n) => *high = n,
            _ => ranges.push((n, n)),
        }
    }
    SequenceSet::from_ranges(ranges)
}

pub(crate) fn to_sequence_set(numbers: &[u32]) -> Option<SequenceSet> {
    let mut sorted: Vec<u32> = numbers.iter().copied().filter(|n| *n > 0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for n in sorted {
        match ranges.last_mut() {
            Some((_, high)) if high.checked_add(1) == Some(n) => *high = n,
            _ => ranges.push((n, n)),
        }
    }
    SequenceSet::from_ranges(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::Flags;
    use std::num::NonZeroU32;

    fn view(uids: &[u32]) -> View {
        View::new(
            uids.iter()
                .map(|&uid| MessageSummary {
                    uid,
                    modseq: 1,
                    flags: Flags::default(),
                })
                .collect(),
            1,
        )
    }

    fn set(ranges: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::from_ranges(ranges.iter().copied()).unwrap()
    }

    fn star_range(low: u32) -> SequenceSet {
        SequenceSet::Ranges(mailroom_imap_proto::NonEmpty::new(
            mailroom_imap_proto::SeqRange {
                start: SeqNumber::Value(NonZeroU32::new(low).unwrap()),
                end: SeqNumber::Last,
            },
        ))
    }

    #[test]
    fn sequence_numbers() {
        let v = view(&[3, 5, 9, 10]);
        assert_eq!(v.resolve(&set(&[(2, 3)]), false, None).unwrap(), [1, 2]);
        assert_eq!(v.resolve(&star_range(3), false, None).unwrap(), [2, 3]);
        assert!(v.resolve(&set(&[(5, 5)]), false, None).is_err());
        assert_eq!(
            view(&[]).resolve(&star_range(1), false, None).unwrap(),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn uids_ignore_missing() {
        let v = view(&[3, 5, 9, 10]);
        assert_eq!(v.resolve(&set(&[(4, 9)]), true, None).unwrap(), [1, 2]);
        assert_eq!(v.resolve(&star_range(100), true, None).unwrap(), [3]);
        assert_eq!(
            v.resolve(&SequenceSet::Saved, true, Some(&[10, 3, 4]))
                .unwrap(),
            [0, 3]
        );
    }

    #[test]
    fn compress() {
        assert_eq!(to_sequence_set(&[7, 1, 2, 3]).unwrap().to_string(), "1:3,7");
        assert!(to_sequence_set(&[]).is_none());
    }
}
