//! THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §2.2-2.3) over facts loaded once.

use crate::subject::{base_subject, is_reply};
use mailroom_imap_proto::response::ThreadNode;
use std::collections::HashMap;
use std::num::NonZeroU32;

/// What threading needs of one message.
pub(crate) struct Item {
    /// Sequence number or UID, as the response reports it.
    pub id: u32,
    pub message_id: Option<String>,
    /// References, oldest first, then In-Reply-To when References is absent.
    pub references: Vec<String>,
    /// Sent date, else internal date (RFC 5256 §2.2).
    pub date: i64,
    pub subject: String,
}

/// Deeper reply chains are attached flat, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

fn node(id: u32, children: Vec<ThreadNode>) -> ThreadNode {
    ThreadNode {
        id: NonZeroU32::new(id),
        children,
    }
}

/// §2.1 ORDEREDSUBJECT: by base subject, threads ordered by their first message's date, each
/// thread's messages by date as children of the first.
pub(crate) fn ordered_subject(mut items: Vec<Item>) -> Vec<ThreadNode> {
    items.sort_by_key(|i| (i.date, i.id));
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    let mut by_subject: HashMap<String, usize> = HashMap::new();
    for item in &items {
        let base = base_subject(&item.subject);
        match by_subject.get(&base) {
            Some(&g) => {
                if let Some((_, ids)) = groups.get_mut(g) {
                    ids.push(item.id);
                }
            }
            None => {
                by_subject.insert(base.clone(), groups.len());
                groups.push((base, vec![item.id]));
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|(_, ids)| {
            let (first, rest) = ids.split_first()?;
            Some(node(
                *first,
                rest.iter().map(|&id| node(id, Vec::new())).collect(),
            ))
        })
        .collect()
}

#[derive(Default)]
struct Container {
    item: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Forest {
    c: Vec<Container>,
}

impl Forest {
    fn new_container(&mut self) -> usize {
        self.c.push(Container::default());
        self.c.len() - 1
    }

    /// True if `a` is `b` or one of its ancestors.
    fn is_ancestor(&self, a: usize, mut b: usize) -> bool {
        let mut steps = 0;
        loop {
            if a == b {
                return true;
            }
            match self.c.get(b).and_then(|x| x.parent) {
                Some(p) if steps < self.c.len() => {
                    b = p;
                    steps += 1;
                }
                _ => return false,
            }
        }
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.c.get(child).and_then(|x| x.parent) {
            if let Some(parent) = self.c.get_mut(p) {
                parent.children.retain(|&x| x != child);
            }
            if let Some(x) = self.c.get_mut(child) {
                x.parent = None;
            }
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        if self.is_ancestor(child, parent) {
            return;
        }
        self.unlink(child);
        if let Some(x) = self.c.get_mut(child) {
            x.parent = Some(parent);
        }
        if let Some(p) = self.c.get_mut(parent) {
            p.children.push(child);
        }
    }
}

/// §2.2 REFERENCES (the JWZ algorithm, without its optional steps).
pub(crate) fn references(items: Vec<Item>) -> Vec<ThreadNode> {
    let mut forest = Forest { c: Vec::new() };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        // (1A) the message's own container; a duplicate Message-ID gets a fresh one.
        let own = match item.message_id.as_ref().and_then(|id| by_id.get(id)) {
            Some(&c) if forest.c.get(c).is_some_and(|x| x.item.is_none()) => c,
            _ => {
                let c = forest.new_container();
                if let Some(id) = &item.message_id {
                    by_id.entry(id.clone()).or_insert(c);
                }
                c
            }
        };
        if let Some(x) = forest.c.get_mut(own) {
            x.item = Some(index);
        }
        // (1B) link the references in order, never over an existing parent.
        let mut previous: Option<usize> = None;
        for reference in &item.references {
            let c = match by_id.get(reference) {
                Some(&c) => c,
                None => {
                    let c = forest.new_container();
                    by_id.insert(reference.clone(), c);
                    c
                }
            };
            if let Some(p) = previous
                && forest.c.get(c).is_some_and(|x| x.parent.is_none())
            {
                forest.link(p, c);
            }
            previous = Some(c);
        }
        // (1C) the last reference is the parent: an existing parent link (most likely from a
        // truncated References field) is broken first, then the new one made unless it would
        // make a loop.
        forest.unlink(own);
        if let Some(p) = previous
            && p != own
        {
            forest.link(p, own);
        }
    }
    // (2)-(4) root set, pruned of empty containers.
    let roots: Vec<usize> = (0..forest.c.len())
        .filter(|&i| forest.c.get(i).is_some_and(|x| x.parent.is_none()))
        .collect();
    let mut pruned = Vec::new();
    for r in roots {
        prune(&forest, r, true, &mut pruned);
    }
    // Trees of (item or None, children) keyed for sorting.
    let date = |t: &Tree| tree_date(t, &items);
    // (5) gather roots with the same base subject.
    let mut trees: Vec<Tree> = pruned;
    let mut merged: Vec<Tree> = Vec::new();
    let mut by_subject: HashMap<String, usize> = HashMap::new();
    trees.sort_by_key(|t| date(t));
    for tree in trees {
        let subject = tree_subject(&tree, &items);
        let Some(subject) = subject.filter(|s| !s.0.is_empty()) else {
            merged.push(tree);
            continue;
        };
        match by_subject.get(&subject.0).copied() {
            None => {
                by_subject.insert(subject.0, merged.len());
                merged.push(tree);
            }
            Some(at) => {
                let Some(holder) = merged.get_mut(at) else {
                    continue;
                };
                let holder_reply = tree_subject(holder, &items).is_some_and(|s| s.1);
                // §2.2 step 5: under a dummy, or a reply under its original.
                if holder.item.is_none() || (!holder_reply && subject.1) {
                    holder.children.push(tree);
                } else {
                    let old = std::mem::replace(
                        holder,
                        Tree {
                            item: None,
                            children: Vec::new(),
                        },
                    );
                    holder.children = vec![old, tree];
                }
            }
        }
    }
    // (6) sort siblings by date, then write.
    let mut out: Vec<(i64, ThreadNode)> = merged
        .into_iter()
        .map(|t| (date(&t), to_node(t, &items, 0)))
        .collect();
    out.sort_by_key(|(d, _)| *d);
    out.into_iter().map(|(_, n)| n).collect()
}

struct Tree {
    item: Option<usize>,
    children: Vec<Tree>,
}

/// Step 4: empty containers vanish, their children moving up (at the root only when there is
/// a single child).
fn prune(forest: &Forest, c: usize, at_root: bool, out: &mut Vec<Tree>) {
    let Some(container) = forest.c.get(c) else {
        return;
    };
    let mut children = Vec::new();
    for &child in &container.children {
        prune(forest, child, false, &mut children);
    }
    match container.item {
        Some(item) => out.push(Tree {
            item: Some(item),
            children,
        }),
        None if children.is_empty() => {}
        None if at_root && children.len() > 1 => out.push(Tree {
            item: None,
            children,
        }),
        None => out.extend(children),
    }
}

fn tree_date(t: &Tree, items: &[Item]) -> i64 {
    match t.item.and_then(|i| items.get(i)) {
        Some(item) => item.date,
        None => t
            .children
            .iter()
            .map(|c| tree_date(c, items))
            .min()
            .unwrap_or(0),
    }
}

/// (base subject, whether it was a reply) of a tree's message or first child.
fn tree_subject(t: &Tree, items: &[Item]) -> Option<(String, bool)> {
    match t.item.and_then(|i| items.get(i)) {
        Some(item) => Some((base_subject(&item.subject), is_reply(&item.subject))),
        None => t.children.first().and_then(|c| tree_subject(c, items)),
    }
}

fn to_node(t: Tree, items: &[Item], depth: usize) -> ThreadNode {
    let mut children: Vec<(i64, Tree)> = t
        .children
        .into_iter()
        .map(|c| (tree_date(&c, items), c))
        .collect();
    children.sort_by_key(|(d, _)| *d);
    let id = t.item.and_then(|i| items.get(i)).map(|i| i.id).unwrap_or(0);
    let nodes = if depth >= MAX_DEPTH {
        children
            .into_iter()
            .map(|(_, c)| {
                node(
                    c.item.and_then(|i| items.get(i)).map_or(0, |i| i.id),
                    Vec::new(),
                )
            })
            .collect()
    } else {
        children
            .into_iter()
            .map(|(_, c)| to_node(c, items, depth + 1))
            .collect()
    };
    node(id, nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u32, mid: &str, refs: &[&str], date: i64, subject: &str) -> Item {
        Item {
            id,
            message_id: Some(mid.to_string()),
            references: refs.iter().map(|r| r.to_string()).collect(),
            date,
            subject: subject.to_string(),
        }
    }

    fn show(nodes: &[ThreadNode]) -> String {
        fn one(n: &ThreadNode) -> String {
            let id = n.id.map_or("-".into(), |i| i.to_string());
            if n.children.is_empty() {
                id
            } else {
                let kids: Vec<String> = n.children.iter().map(one).collect();
                format!("{id}[{}]", kids.join(","))
            }
        }
        nodes.iter().map(one).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn references_threads() {
        let items = vec![
            item(1, "a", &[], 10, "Plan"),
            item(2, "b", &["a"], 20, "Re: Plan"),
            item(3, "c", &["a", "b"], 30, "Re: Plan"),
            item(4, "d", &["a"], 25, "Re: Plan"),
            item(5, "e", &[], 5, "Other"),
            item(6, "f", &["missing"], 40, "Plan"),
        ];
        // RFC 5256 §2.2 step 5C: two non-replies with one subject get a dummy parent.
        assert_eq!(show(&references(items)), "5 -[1[2[3],4],6]");
    }

    #[test]
    fn ordered_subject_threads() {
        let items = vec![
            item(1, "a", &[], 10, "Plan"),
            item(2, "b", &[], 20, "Re: plan"),
            item(3, "c", &[], 5, "Other"),
        ];
        assert_eq!(show(&ordered_subject(items)), "3 1[2]");
    }

    #[test]
    fn reference_loops_are_ignored() {
        let items = vec![item(1, "a", &["b"], 10, "x"), item(2, "b", &["a"], 20, "y")];
        let out = show(&references(items));
        assert!(out == "1[2]" || out == "2[1]" || out == "1 2", "{out}");
    }
}
