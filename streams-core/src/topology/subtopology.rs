//! Splitting a topology into sub-topologies: the parts connected by parent edges or by a
//! shared state store. Parts that only meet through a topic (one writes, another reads) stay
//! apart, so each can be scaled by its own input partitions.
//!
//! Numbering follows Kafka Streams' `InternalTopologyBuilder.makeNodeGroups`: ids go 0, 1, 2, …
//! in the order each group's first node was added.

use std::collections::HashMap;

use super::NodeDef;

/// One sub-topology: its id and its nodes' indices (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) id: u32,
    pub(crate) nodes: Vec<usize>,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn unite(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.0[rb] = ra;
        }
    }
}

pub(crate) fn group(nodes: &[NodeDef]) -> Vec<Group> {
    let mut uf = UnionFind((0..nodes.len()).collect());
    let mut store_users: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        for &p in &node.parents {
            uf.unite(p, i);
        }
        for store in &node.stores {
            if let Some(&other) = store_users.get(store.as_str()) {
                uf.unite(other, i);
            } else {
                store_users.insert(store, i);
            }
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut by_root: HashMap<usize, usize> = HashMap::new();
    for i in 0..nodes.len() {
        let root = uf.root(i);
        let g = *by_root.entry(root).or_insert_with(|| {
            groups.push(Group {
                id: groups.len() as u32,
                nodes: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].nodes.push(i);
    }
    for g in &mut groups {
        g.nodes.sort_unstable();
    }
    groups
}
