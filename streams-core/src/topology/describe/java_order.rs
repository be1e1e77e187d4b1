//! The orders Kafka Streams' `describe()` prints in, which come from Java collection internals:
//! `HashMap`/`HashSet` iteration (bucket of `String.hashCode`, then insertion order) and
//! `TreeSet` (a red-black tree) filled while the comparator's keys still change. Reproducing
//! them is what makes our text byte-identical to Kafka Streams' for the same topology.

use std::cmp::Ordering;

/// Java's `String.hashCode`: `31 * h + c` over UTF-16 code units, wrapping.
pub(super) fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Java's `String.compareTo`: by UTF-16 code units.
pub(super) fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & (capacity - 1)
}

/// Table size of a default `new HashMap<>()` after `n` puts (load factor 0.75).
pub(super) fn default_capacity(n: usize) -> usize {
    let mut cap = 16;
    while n > cap * 3 / 4 {
        cap *= 2;
    }
    cap
}

/// Table size of `new HashSet<>(collection)` of `n` elements.
pub(super) fn copy_capacity(n: usize) -> usize {
    let wanted = ((n as f32 / 0.75) as usize + 1).max(16);
    wanted.next_power_of_two()
}

/// Sorts `items` (in insertion order) into the iteration order of a Java hash set of them whose
/// table size is `capacity(len)`; `hash` gives each item's Java hash code.
pub(super) fn hash_order<T>(
    items: &mut [T],
    capacity: fn(usize) -> usize,
    hash: impl Fn(&T) -> i32,
) {
    let cap = capacity(items.len());
    items.sort_by_key(|s| bucket(hash(s), cap));
}

#[derive(Clone, Copy, PartialEq)]
enum Color {
    Red,
    Black,
}

struct Entry {
    key: usize,
    left: Option<usize>,
    right: Option<usize>,
    parent: Option<usize>,
    color: Color,
}

/// Java's `TreeSet` (`TreeMap.put` + `fixAfterInsertion`) over node indices, in an arena.
/// The comparator is given at each insertion, so keys whose order changes later stay where
/// they were put, as in Java.
#[derive(Default)]
pub(super) struct JavaTreeSet {
    entries: Vec<Entry>,
    root: Option<usize>,
}

impl JavaTreeSet {
    pub(super) fn insert(&mut self, key: usize, cmp: impl Fn(usize, usize) -> Ordering) {
        let Some(mut t) = self.root else {
            self.entries.push(Entry {
                key,
                left: None,
                right: None,
                parent: None,
                color: Color::Black,
            });
            self.root = Some(0);
            return;
        };
        let (parent, less) = loop {
            let parent = t;
            let c = cmp(key, self.entries[t].key);
            let next = match c {
                Ordering::Less => self.entries[t].left,
                Ordering::Greater => self.entries[t].right,
                Ordering::Equal => return,
            };
            match next {
                Some(n) => t = n,
                None => break (parent, c == Ordering::Less),
            }
        };
        let e = self.entries.len();
        self.entries.push(Entry {
            key,
            left: None,
            right: None,
            parent: Some(parent),
            color: Color::Black,
        });
        if less {
            self.entries[parent].left = Some(e);
        } else {
            self.entries[parent].right = Some(e);
        }
        self.fix_after_insertion(e);
    }

    /// Keys in tree order.
    pub(super) fn iter(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.entries.len());
        let mut stack = Vec::new();
        let mut n = self.root;
        while n.is_some() || !stack.is_empty() {
            while let Some(i) = n {
                stack.push(i);
                n = self.entries[i].left;
            }
            if let Some(i) = stack.pop() {
                out.push(self.entries[i].key);
                n = self.entries[i].right;
            }
        }
        out
    }

    fn color(&self, p: Option<usize>) -> Color {
        p.map_or(Color::Black, |i| self.entries[i].color)
    }

    fn parent(&self, p: Option<usize>) -> Option<usize> {
        p.and_then(|i| self.entries[i].parent)
    }

    fn left(&self, p: Option<usize>) -> Option<usize> {
        p.and_then(|i| self.entries[i].left)
    }

    fn right(&self, p: Option<usize>) -> Option<usize> {
        p.and_then(|i| self.entries[i].right)
    }

    fn set_color(&mut self, p: Option<usize>, c: Color) {
        if let Some(i) = p {
            self.entries[i].color = c;
        }
    }

    fn rotate_left(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(r) = self.entries[p].right else {
            return;
        };
        self.entries[p].right = self.entries[r].left;
        if let Some(rl) = self.entries[r].left {
            self.entries[rl].parent = Some(p);
        }
        self.entries[r].parent = self.entries[p].parent;
        match self.entries[p].parent {
            None => self.root = Some(r),
            Some(pp) if self.entries[pp].left == Some(p) => self.entries[pp].left = Some(r),
            Some(pp) => self.entries[pp].right = Some(r),
        }
        self.entries[r].left = Some(p);
        self.entries[p].parent = Some(r);
    }

    fn rotate_right(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(l) = self.entries[p].left else {
            return;
        };
        self.entries[p].left = self.entries[l].right;
        if let Some(lr) = self.entries[l].right {
            self.entries[lr].parent = Some(p);
        }
        self.entries[l].parent = self.entries[p].parent;
        match self.entries[p].parent {
            None => self.root = Some(l),
            Some(pp) if self.entries[pp].right == Some(p) => self.entries[pp].right = Some(l),
            Some(pp) => self.entries[pp].left = Some(l),
        }
        self.entries[l].right = Some(p);
        self.entries[p].parent = Some(l);
    }

    fn fix_after_insertion(&mut self, x: usize) {
        let mut x = Some(x);
        self.set_color(x, Color::Red);
        while x.is_some() && x != self.root && self.color(self.parent(x)) == Color::Red {
            let grandparent = self.parent(self.parent(x));
            if self.parent(x) == self.left(grandparent) {
                let y = self.right(grandparent);
                if self.color(y) == Color::Red {
                    self.set_color(self.parent(x), Color::Black);
                    self.set_color(y, Color::Black);
                    self.set_color(grandparent, Color::Red);
                    x = grandparent;
                } else {
                    if x == self.right(self.parent(x)) {
                        x = self.parent(x);
                        self.rotate_left(x);
                    }
                    self.set_color(self.parent(x), Color::Black);
                    self.set_color(self.parent(self.parent(x)), Color::Red);
                    self.rotate_right(self.parent(self.parent(x)));
                }
            } else {
                let y = self.left(grandparent);
                if self.color(y) == Color::Red {
                    self.set_color(self.parent(x), Color::Black);
                    self.set_color(y, Color::Black);
                    self.set_color(grandparent, Color::Red);
                    x = grandparent;
                } else {
                    if x == self.left(self.parent(x)) {
                        x = self.parent(x);
                        self.rotate_right(x);
                    }
                    self.set_color(self.parent(x), Color::Black);
                    self.set_color(self.parent(self.parent(x)), Color::Red);
                    self.rotate_left(self.parent(self.parent(x)));
                }
            }
        }
        self.set_color(self.root, Color::Black);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_java() {
        // "hello".hashCode() == 99162322 and "Topic-10".hashCode() in Java.
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn tree_set_with_stable_keys_is_sorted() {
        let mut set = JavaTreeSet::default();
        for k in [5, 3, 9, 1, 4, 8, 2, 7, 6, 0] {
            set.insert(k, |a, b| a.cmp(&b));
        }
        assert_eq!(set.iter(), (0..10).collect::<Vec<_>>());
    }
}
