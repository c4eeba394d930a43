//! Sequence sets (RFC 9051 §9 `sequence-set`, RFC 5182 `$`).

use std::fmt;
use std::num::NonZeroU32;

use crate::cursor::{Cursor, PResult};
use crate::types::nonempty::NonEmpty;

/// `seq-number = nz-number / "*"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqNumber {
    Value(NonZeroU32),
    /// `*`: the largest number in use (or the last message).
    Last,
}

impl SeqNumber {
    /// Resolves `*` against the largest number currently in use.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n.get(),
            SeqNumber::Last => largest,
        }
    }

    fn parse(c: &mut Cursor) -> PResult<Self> {
        if c.eat(b'*')? {
            Ok(SeqNumber::Last)
        } else {
            c.nz_number().map(SeqNumber::Value)
        }
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqNumber::Value(n) => write!(f, "{n}"),
            SeqNumber::Last => f.write_str("*"),
        }
    }
}

/// `seq-range = seq-number ":" seq-number`; a single number has
/// `start == end`. RFC 9051 §9: `2:4` and `4:2` mean the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    pub start: SeqNumber,
    pub end: SeqNumber,
}

impl SeqRange {
    pub fn single(n: SeqNumber) -> Self {
        SeqRange { start: n, end: n }
    }

    /// Inclusive bounds, low first, with `*` resolved.
    pub fn bounds(&self, largest: u32) -> (u32, u32) {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        (a.min(b), a.max(b))
    }
}

impl fmt::Display for SeqRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}:{}", self.start, self.end)
        }
    }
}

/// `sequence-set`, or `$` (RFC 5182 SEARCHRES: the saved search result).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    Saved,
    Ranges(NonEmpty<SeqRange>),
}

impl SequenceSet {
    pub fn single(n: NonZeroU32) -> Self {
        SequenceSet::Ranges(NonEmpty::new(SeqRange::single(SeqNumber::Value(n))))
    }

    /// Builds a set from inclusive `(low, high)` pairs of non-zero numbers;
    /// `None` when empty or a bound is 0.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u32, u32)>) -> Option<Self> {
        let mut out = Vec::new();
        for (low, high) in ranges {
            out.push(SeqRange {
                start: SeqNumber::Value(NonZeroU32::new(low)?),
                end: SeqNumber::Value(NonZeroU32::new(high)?),
            });
        }
        NonEmpty::from_vec(out).map(SequenceSet::Ranges)
    }

    /// Whether `n` is in the set; `None` for `$`, which the server resolves.
    pub fn contains(&self, n: u32, largest: u32) -> Option<bool> {
        match self {
            SequenceSet::Saved => None,
            SequenceSet::Ranges(ranges) => Some(ranges.iter().any(|r| {
                let (low, high) = r.bounds(largest);
                (low..=high).contains(&n)
            })),
        }
    }

    /// True if `*` appears (not allowed in e.g. APPENDUID / known-uids).
    pub fn uses_last(&self) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(ranges) => ranges
                .iter()
                .any(|r| r.start == SeqNumber::Last || r.end == SeqNumber::Last),
        }
    }

    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        if c.eat(b'$')? {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let start = SeqNumber::parse(c)?;
            let end = if c.eat(b':')? {
                SeqNumber::parse(c)?
            } else {
                start
            };
            ranges.push(SeqRange { start, end });
            if !c.eat(b',')? {
                break;
            }
        }
        match NonEmpty::from_vec(ranges) {
            Some(ranges) => Ok(SequenceSet::Ranges(ranges)),
            None => c.syntax("sequence-set"),
        }
    }
}

impl fmt::Display for SequenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceSet::Saved => f.write_str("$"),
            SequenceSet::Ranges(ranges) => {
                for (i, range) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{range}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn nz(n: u32) -> SeqNumber {
        SeqNumber::Value(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
    }

    fn parse(input: &str) -> PResult<SequenceSet> {
        SequenceSet::parse(&mut Cursor::new(input.as_bytes()))
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<Vec<(SeqNumber, SeqNumber)>>)] = &[
            ("1 ", Some(vec![(nz(1), nz(1))])),
            ("1:4 ", Some(vec![(nz(1), nz(4))])),
            ("4:1 ", Some(vec![(nz(4), nz(1))])),
            (
                "2,4:7,9,12:* ",
                Some(vec![
                    (nz(2), nz(2)),
                    (nz(4), nz(7)),
                    (nz(9), nz(9)),
                    (nz(12), SeqNumber::Last),
                ]),
            ),
            ("* ", Some(vec![(SeqNumber::Last, SeqNumber::Last)])),
            ("*:4 ", Some(vec![(SeqNumber::Last, nz(4))])),
            ("0 ", None),
            ("1:0 ", None),
            ("1, ", None),
            (",1 ", None),
            ("a ", None),
        ];
        for (input, expected) in cases {
            let got = parse(input);
            match expected {
                Some(ranges) => {
                    let want: Vec<SeqRange> = ranges
                        .iter()
                        .map(|&(start, end)| SeqRange { start, end })
                        .collect();
                    match got {
                        Ok(SequenceSet::Ranges(r)) => assert_eq!(r.to_vec(), want, "{input}"),
                        other => panic!("{input}: {other:?}"),
                    }
                    // Display round-trips.
                    let again = parse(&format!(
                        "{} ",
                        parse(input).map(|s| s.to_string()).unwrap_or_default()
                    ));
                    assert_eq!(again, parse(input), "{input}");
                }
                None => assert!(matches!(got, Err(PErr::Fail(_))), "{input}: {got:?}"),
            }
        }
        assert_eq!(parse("$ "), Ok(SequenceSet::Saved));
        assert_eq!(parse("1:"), Err(PErr::Incomplete));
    }

    #[test]
    fn membership() {
        let set = parse("2,4:7,12:* ").unwrap_or(SequenceSet::Saved);
        let cases = [
            (1, false),
            (2, true),
            (3, false),
            (5, true),
            (7, true),
            (11, false),
            (12, true),
            (20, true),
        ];
        for (n, inside) in cases {
            assert_eq!(set.contains(n, 20), Some(inside), "{n}");
        }
        assert!(set.uses_last());
        assert_eq!(SequenceSet::Saved.contains(1, 1), None);
        assert_eq!(
            SequenceSet::from_ranges([(1, 3), (5, 5)]).map(|s| s.to_string()),
            Some("1:3,5".into())
        );
        assert_eq!(SequenceSet::from_ranges([(0, 3)]), None);
    }
}
