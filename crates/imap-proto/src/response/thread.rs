//! THREAD response trees (RFC 5256 §4).

use std::num::NonZeroU32;

use crate::encode::Out;

/// A thread tree node; `id: None` is a placeholder parent for siblings
/// whose common ancestor is missing (RFC 5256 §4, "((3)(5))").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadNode {
    pub id: Option<NonZeroU32>,
    pub children: Vec<ThreadNode>,
}

impl ThreadNode {
    /// `"(" ... ")"` for one thread or sub-thread.
    pub(crate) fn encode(&self, out: &mut Out) {
        out.raw(b"(");
        // A chain of single children is written flat and iteratively, so
        // a long reply chain (attacker-controlled) cannot exhaust the stack.
        let mut node = self;
        let mut wrote = false;
        loop {
            if let Some(id) = node.id {
                if wrote {
                    out.sp();
                }
                out.display(id);
                wrote = true;
            }
            match node.children.as_slice() {
                [] => break,
                [only] => node = only,
                many => {
                    if wrote {
                        out.sp();
                    }
                    for child in many {
                        child.encode(out);
                    }
                    break;
                }
            }
        }
        out.raw(b")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::data::Data;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn chain(ids: &[u32], tail: Vec<ThreadNode>) -> ThreadNode {
        let mut node = ThreadNode {
            id: ids.last().map(|&n| nz(n)),
            children: tail,
        };
        for &id in ids.iter().rev().skip(1) {
            node = ThreadNode {
                id: Some(nz(id)),
                children: vec![node],
            };
        }
        node
    }

    #[test]
    fn long_thread_chain_is_iterative() {
        // Deep enough to overflow a recursive writer on a small stack, small
        // enough that dropping the (recursive) test tree stays cheap.
        let ids: Vec<u32> = (1..=5_000).collect();
        let mut out = Out::new(false);
        Data::Thread(vec![chain(&ids, vec![])]).encode(&mut out);
        let bytes = crate::encode::flatten(out.finish()).unwrap();
        assert!(bytes.starts_with(b"THREAD (1 2 3 "));
        assert!(bytes.ends_with(b" 4999 5000)"));
    }
}
