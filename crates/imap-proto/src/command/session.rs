//! Session-level commands: AUTHENTICATE with SASL-IR (RFC 9051 §6.2.2,
//! RFC 4959), LOGIN (§6.2.3), ENABLE (§6.3.1, RFC 5161), ID (RFC 2971),
//! COMPRESS (RFC 4978).

use std::fmt;

use crate::base64;
use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::types::atom::{Atom, Capability};
use crate::types::nonempty::NonEmpty;
use crate::types::secret::Secret;

/// AUTHENTICATE mechanism [initial-response].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// Upper-cased SASL mechanism name (`auth-type = atom`).
    pub mechanism: Atom,
    /// SASL-IR (RFC 4959): decoded initial response; `Some(empty)` for `=`.
    pub initial_response: Option<Secret<Vec<u8>>>,
}

impl Authenticate {
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        let name = c.atom()?.to_ascii_uppercase();
        let Ok(mechanism) = Atom::new(name) else {
            return c.syntax("auth-type");
        };
        let initial_response = if c.eat(b' ')? {
            let start = c.pos();
            while c.peek()? != b'\r' {
                c.next()?;
            }
            let text = c.rest_from(start);
            let data = if text == b"=" {
                Some(Vec::new())
            } else {
                base64::decode(text)
            };
            match data {
                // RFC 4959 §3: an empty initial response is sent as "=".
                Some(data) if !data.is_empty() || text == b"=" => Some(Secret::new(data)),
                _ => return Err(ParseError::InvalidBase64.into()),
            }
        } else {
            None
        };
        Ok(Authenticate {
            mechanism,
            initial_response,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str("AUTHENTICATE ").display(&self.mechanism);
        if let Some(ir) = &self.initial_response {
            let data = ir.expose();
            if data.is_empty() {
                out.str(" =");
            } else {
                out.sp().str(&base64::encode(data));
            }
        }
    }
}

/// LOGIN userid password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: Vec<u8>,
    pub password: Secret<Vec<u8>>,
}

impl Login {
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        let username = c.astring()?;
        c.sp()?;
        let password = Secret::new(c.astring()?);
        Ok(Login { username, password })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str("LOGIN ")
            .astring(&self.username)
            .sp()
            .astring(self.password.expose());
    }
}

/// After `ENABLE`: `1*(SP capability)`.
pub(crate) fn parse_enable(c: &mut Cursor) -> PResult<NonEmpty<Capability>> {
    let mut caps = Vec::new();
    while c.eat(b' ')? {
        let atom = c.atom()?;
        match Capability::new(atom) {
            Ok(cap) => caps.push(cap),
            Err(_) => return c.syntax("capability"),
        }
    }
    match NonEmpty::from_vec(caps) {
        Some(caps) => Ok(caps),
        None => c.syntax("capability"),
    }
}

/// `id-params-list`: `None` for NIL, else field/value pairs.
pub type IdParams = Option<Vec<(Vec<u8>, Option<Vec<u8>>)>>;

/// After `ID`: `SP id-params-list`.
pub(crate) fn parse_id(c: &mut Cursor) -> PResult<IdParams> {
    c.sp()?;
    if c.eat_nil()? {
        return Ok(None);
    }
    c.expect(b'(', "( or NIL")?;
    let mut params = Vec::new();
    if c.eat(b')')? {
        return Ok(Some(params));
    }
    loop {
        let key = c.string()?;
        c.sp()?;
        params.push((key, c.nstring()?));
        if c.eat(b')')? {
            return Ok(Some(params));
        }
        c.sp()?;
    }
}

pub(crate) fn encode_id_params(out: &mut Out, params: &IdParams) {
    match params {
        None => {
            out.str("NIL");
        }
        Some(params) => {
            out.list(params, |o, (key, value)| {
                o.string(key).sp().nstring(value.as_deref());
            });
        }
    }
}

/// COMPRESS algorithm (RFC 4978 §3); only DEFLATE is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompressAlgorithm {
    Deflate,
    /// Unknown: the server answers NO (RFC 4978 §3).
    Other(Atom),
}

impl fmt::Display for CompressAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressAlgorithm::Deflate => f.write_str("DEFLATE"),
            CompressAlgorithm::Other(atom) => atom.fmt(f),
        }
    }
}

pub(crate) fn parse_compress(c: &mut Cursor) -> PResult<CompressAlgorithm> {
    c.sp()?;
    let name = c.atom()?;
    if name.eq_ignore_ascii_case("DEFLATE") {
        return Ok(CompressAlgorithm::Deflate);
    }
    match Atom::new(name) {
        Ok(atom) => Ok(CompressAlgorithm::Other(atom)),
        Err(_) => c.syntax("compression algorithm"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn run<T>(input: &str, f: impl FnOnce(&mut Cursor) -> PResult<T>) -> PResult<T> {
        f(&mut Cursor::new(format!("{input}\r\n").as_bytes()))
    }

    #[test]
    fn authenticate_table() {
        let cases: &[(&str, Option<(&str, Option<&[u8]>)>)] = &[
            (" PLAIN", Some(("PLAIN", None))),
            (
                " plain AHVzZXIAcGFzcw==",
                Some(("PLAIN", Some(b"\0user\0pass"))),
            ),
            (" EXTERNAL =", Some(("EXTERNAL", Some(b"")))),
            (
                " SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=",
                Some(("SCRAM-SHA-256", Some(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))),
            ),
            (" PLAIN !!!", None),
            (" PLAIN ", None),
            (" PLAIN AHVz ZXI=", None),
            ("", None),
        ];
        for &(input, expected) in cases {
            let got = run(input, Authenticate::parse);
            match expected {
                Some((mech, ir)) => {
                    let got = got.unwrap();
                    assert_eq!(got.mechanism.as_str(), mech, "{input}");
                    assert_eq!(
                        got.initial_response.as_ref().map(|s| s.expose().as_slice()),
                        ir,
                        "{input}"
                    );
                    let mut out = Out::new(false);
                    got.encode(&mut out);
                    let text =
                        String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap();
                    assert_eq!(
                        run(text.trim_start_matches("AUTHENTICATE"), Authenticate::parse),
                        Ok(got)
                    );
                }
                None => assert!(matches!(got, Err(PErr::Fail(_))), "{input}: {got:?}"),
            }
        }
    }

    #[test]
    fn login_and_enable() {
        let got = run(" SMITH {6}\r\nsesame", Login::parse).unwrap();
        assert_eq!(got.username, b"SMITH");
        assert_eq!(got.password.expose(), b"sesame");
        assert!(!format!("{got:?}").contains("sesame"));
        assert!(matches!(run(" SMITH", Login::parse), Err(PErr::Fail(_))));
        let caps = run(" CONDSTORE X-GOOD-IDEA", parse_enable).unwrap();
        assert_eq!(
            caps.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["CONDSTORE", "X-GOOD-IDEA"]
        );
        assert!(matches!(run("", parse_enable), Err(PErr::Fail(_))));
    }

    #[test]
    fn id_and_compress() {
        assert_eq!(run(" NIL", parse_id), Ok(None));
        assert_eq!(run(" ()", parse_id), Ok(Some(vec![])));
        assert_eq!(
            run(" (\"name\" \"sodr\" \"version\" NIL)", parse_id),
            Ok(Some(vec![
                (b"name".to_vec(), Some(b"sodr".to_vec())),
                (b"version".to_vec(), None)
            ]))
        );
        assert!(matches!(run(" (\"name\")", parse_id), Err(PErr::Fail(_))));
        assert!(matches!(run(" (name \"x\")", parse_id), Err(PErr::Fail(_))));
        assert_eq!(
            run(" deflate", parse_compress),
            Ok(CompressAlgorithm::Deflate)
        );
        assert_eq!(
            run(" LZ4", parse_compress),
            Ok(CompressAlgorithm::Other(Atom::new("LZ4").unwrap()))
        );
    }
}
