//! Character classes of the formal syntax (RFC 9051 §9, RFC 3501 §9).

/// CTL: %x00-1F / %x7F.
pub(crate) fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// ATOM-CHAR: any CHAR except atom-specials
/// (`(` `)` `{` SP CTL list-wildcards quoted-specials resp-specials).
pub(crate) fn is_atom_char(b: u8) -> bool {
    b.is_ascii()
        && !is_ctl(b)
        && !matches!(
            b,
            b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']'
        )
}

/// ASTRING-CHAR: ATOM-CHAR / resp-specials.
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// list-char: ATOM-CHAR / list-wildcards / resp-specials.
pub(crate) fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || b == b'%' || b == b'*'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let cases: &[(u8, bool, bool, bool)] = &[
            // byte, atom, astring, list
            (b'a', true, true, true),
            (b'[', true, true, true),
            (b']', false, true, true),
            (b'*', false, false, true),
            (b'%', false, false, true),
            (b'(', false, false, false),
            (b'{', false, false, false),
            (b' ', false, false, false),
            (b'"', false, false, false),
            (b'\\', false, false, false),
            (0x7f, false, false, false),
            (0xc3, false, false, false),
        ];
        for &(b, atom, astring, list) in cases {
            assert_eq!(is_atom_char(b), atom, "atom {b:#x}");
            assert_eq!(is_astring_char(b), astring, "astring {b:#x}");
            assert_eq!(is_list_char(b), list, "list {b:#x}");
        }
    }
}
