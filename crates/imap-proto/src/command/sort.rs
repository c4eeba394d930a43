//! SORT and THREAD (RFC 5256), SORT=DISPLAY (RFC 5957) and ESORT return
//! options (RFC 5267 §3).

use crate::command::search::{
    SearchKey, SearchReturn, encode_keys, encode_return_opts, parse_charset, parse_keys,
    parse_return_opts,
};
use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::types::atom::Atom;
use crate::types::nonempty::NonEmpty;

/// `sort-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    /// RFC 5957.
    DisplayFrom,
    DisplayTo,
}

impl SortKey {
    fn name(self) -> &'static str {
        match self {
            SortKey::Arrival => "ARRIVAL",
            SortKey::Cc => "CC",
            SortKey::Date => "DATE",
            SortKey::From => "FROM",
            SortKey::Size => "SIZE",
            SortKey::Subject => "SUBJECT",
            SortKey::To => "TO",
            SortKey::DisplayFrom => "DISPLAYFROM",
            SortKey::DisplayTo => "DISPLAYTO",
        }
    }
}

/// `sort-criterion = ["REVERSE" SP] sort-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// SORT / UID SORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub uid: bool,
    /// ESORT (RFC 5267): answer with ESEARCH.
    pub return_opts: Option<Vec<SearchReturn>>,
    pub criteria: NonEmpty<SortCriterion>,
    /// Mandatory in SORT (RFC 5256 §3).
    pub charset: String,
    pub search: NonEmpty<SearchKey>,
}

impl Sort {
    /// After `SORT`.
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        const KEYS: [SortKey; 9] = [
            SortKey::Arrival,
            SortKey::Cc,
            SortKey::Date,
            SortKey::From,
            SortKey::Size,
            SortKey::Subject,
            SortKey::To,
            SortKey::DisplayFrom,
            SortKey::DisplayTo,
        ];
        c.sp()?;
        let return_opts = parse_return_opts(c)?;
        let criteria = c.paren_list(false, |c| {
            let mut word = c.word()?;
            let reverse = word.eq_ignore_ascii_case("REVERSE");
            if reverse {
                c.sp()?;
                word = c.word()?;
            }
            match KEYS
                .into_iter()
                .find(|k| word.eq_ignore_ascii_case(k.name()))
            {
                Some(key) => Ok(SortCriterion { reverse, key }),
                None => c.syntax("sort key"),
            }
        })?;
        let Some(criteria) = NonEmpty::from_vec(criteria) else {
            return c.syntax("sort criterion");
        };
        c.sp()?;
        let charset = parse_charset(c)?;
        c.sp()?;
        let search = parse_keys(c)?;
        Ok(Sort {
            uid,
            return_opts,
            criteria,
            charset,
            search,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str(if self.uid { "UID SORT" } else { "SORT" });
        encode_return_opts(out, self.return_opts.as_deref());
        out.sp().list(&self.criteria, |o, c| {
            if c.reverse {
                o.str("REVERSE ");
            }
            o.str(c.key.name());
        });
        out.sp().astring(self.charset.as_bytes()).sp();
        encode_keys(out, &self.search);
    }
}

/// `thread-alg`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    /// `thread-alg-ext = atom`, e.g. REFS (RFC 5957 draft); the server
    /// answers BAD for algorithms it does not advertise.
    Other(Atom),
}

impl ThreadAlgorithm {
    pub fn name(&self) -> &str {
        match self {
            ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
            ThreadAlgorithm::References => "REFERENCES",
            ThreadAlgorithm::Other(atom) => atom.as_str(),
        }
    }
}

/// THREAD / UID THREAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub uid: bool,
    pub algorithm: ThreadAlgorithm,
    pub charset: String,
    pub search: NonEmpty<SearchKey>,
}

impl Thread {
    /// After `THREAD`: `SP thread-alg SP search-criteria`.
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        c.sp()?;
        let name = c.atom()?;
        let algorithm = if name.eq_ignore_ascii_case("ORDEREDSUBJECT") {
            ThreadAlgorithm::OrderedSubject
        } else if name.eq_ignore_ascii_case("REFERENCES") {
            ThreadAlgorithm::References
        } else {
            match Atom::new(name.to_ascii_uppercase()) {
                Ok(atom) => ThreadAlgorithm::Other(atom),
                Err(_) => return c.syntax("thread algorithm"),
            }
        };
        c.sp()?;
        let charset = parse_charset(c)?;
        c.sp()?;
        let search = parse_keys(c)?;
        Ok(Thread {
            uid,
            algorithm,
            charset,
            search,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str(if self.uid { "UID THREAD " } else { "THREAD " })
            .str(self.algorithm.name())
            .sp()
            .astring(self.charset.as_bytes())
            .sp();
        encode_keys(out, &self.search);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;
    use crate::types::datetime::Date;

    fn sort(input: &str) -> PResult<Sort> {
        Sort::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()), false)
    }

    fn crit(reverse: bool, key: SortKey) -> SortCriterion {
        SortCriterion { reverse, key }
    }

    #[test]
    fn sort_table() {
        let cases: Vec<(&str, Sort)> = vec![
            (
                "(SUBJECT) UTF-8 SINCE 1-Feb-1994",
                Sort {
                    uid: false,
                    return_opts: None,
                    criteria: NonEmpty::new(crit(false, SortKey::Subject)),
                    charset: "UTF-8".into(),
                    search: NonEmpty::new(SearchKey::Since(Date::new(1994, 2, 1).unwrap())),
                },
            ),
            (
                "(SUBJECT REVERSE DATE) UTF-8 ALL",
                Sort {
                    uid: false,
                    return_opts: None,
                    criteria: NonEmpty::from_vec(vec![
                        crit(false, SortKey::Subject),
                        crit(true, SortKey::Date),
                    ])
                    .unwrap(),
                    charset: "UTF-8".into(),
                    search: NonEmpty::new(SearchKey::All),
                },
            ),
            (
                "RETURN (MIN MAX) (reverse arrival DISPLAYFROM DISPLAYTO CC FROM SIZE TO) \"US-ASCII\" UNDELETED UNKEYWORD $Junk",
                Sort {
                    uid: false,
                    return_opts: Some(vec![SearchReturn::Min, SearchReturn::Max]),
                    criteria: NonEmpty::from_vec(vec![
                        crit(true, SortKey::Arrival),
                        crit(false, SortKey::DisplayFrom),
                        crit(false, SortKey::DisplayTo),
                        crit(false, SortKey::Cc),
                        crit(false, SortKey::From),
                        crit(false, SortKey::Size),
                        crit(false, SortKey::To),
                    ])
                    .unwrap(),
                    charset: "US-ASCII".into(),
                    search: NonEmpty::from_vec(vec![
                        SearchKey::Undeleted,
                        SearchKey::Unkeyword(Atom::new("$Junk").unwrap()),
                    ])
                    .unwrap(),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(sort(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let text = String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap();
            assert_eq!(
                sort(text.trim_start_matches("SORT ")),
                Ok(expected),
                "{text}"
            );
        }
        for bad in [
            "() UTF-8 ALL",
            "(SUBJECT) ALL",
            "(SUBJECT)",
            "(REVERSE) UTF-8 ALL",
            "(FOO) UTF-8 ALL",
            "SUBJECT UTF-8 ALL",
        ] {
            assert!(
                matches!(sort(bad), Err(PErr::Fail(_))),
                "{bad}: {:?}",
                sort(bad)
            );
        }
    }

    #[test]
    fn thread_table() {
        let thread =
            |input: &str| Thread::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()), true);
        let cases: Vec<(&str, ThreadAlgorithm)> = vec![
            (
                "ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000",
                ThreadAlgorithm::OrderedSubject,
            ),
            ("references US-ASCII ALL", ThreadAlgorithm::References),
            (
                "refs UTF-8 ALL",
                ThreadAlgorithm::Other(Atom::new("REFS").unwrap()),
            ),
        ];
        for (input, algorithm) in cases {
            let got = thread(input).unwrap();
            assert_eq!(got.algorithm, algorithm, "{input}");
            let mut out = Out::new(false);
            got.encode(&mut out);
            let text = String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap();
            assert_eq!(thread(text.trim_start_matches("UID THREAD ")), Ok(got));
        }
        assert!(matches!(thread("REFERENCES"), Err(PErr::Fail(_))));
        assert!(matches!(thread("REFERENCES UTF-8"), Err(PErr::Fail(_))));
    }
}
