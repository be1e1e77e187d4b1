//! `describe()`: the topology as Kafka Streams prints its `TopologyDescription`.

mod java_order;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use java_order::{JavaTreeSet, copy_capacity, default_capacity, hash_order, java_cmp, java_hash};

use super::{GlobalStoreDef, Group, NodeDef, NodeKind, SinkTarget, Topology};

/// What kind of node, and its details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKindDescription {
    /// A source and the topics it reads.
    Source {
        /// Topics, as declared.
        topics: Vec<String>,
    },
    /// A processor and its stores.
    Processor {
        /// Connected stores, sorted.
        stores: Vec<String>,
    },
    /// A sink writing to one topic.
    Sink {
        /// The topic.
        topic: String,
    },
    /// A sink choosing topics with an extractor.
    SinkWithExtractor {
        /// The extractor's type name.
        extractor: String,
    },
}

/// One node in a [`TopologyDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node name.
    pub name: String,
    /// Kind and details.
    pub kind: NodeKindDescription,
    /// Parent names, in print order.
    pub predecessors: Vec<String>,
    /// Child names, in print order.
    pub successors: Vec<String>,
}

/// One sub-topology: nodes connected by edges or shared stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtopologyDescription {
    /// Its id, as in task ids (`<id>_<partition>`).
    pub id: u32,
    /// Its nodes, in print order.
    pub nodes: Vec<NodeDescription>,
}

/// A global store: the source reading its topic and the processor writing it, a sub-topology
/// of its own that makes no tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalStoreDescription {
    /// Its id, in the numbering of all sub-topologies.
    pub id: u32,
    /// The source (one topic).
    pub source: NodeDescription,
    /// The processor (one store: the global store).
    pub processor: NodeDescription,
}

/// A topology's structure; its `Display` is Kafka Streams' `TopologyDescription` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyDescription {
    subtopologies: Vec<SubtopologyDescription>,
    global_stores: Vec<GlobalStoreDescription>,
}

impl TopologyDescription {
    /// The sub-topologies that make tasks, by id.
    pub fn subtopologies(&self) -> &[SubtopologyDescription] {
        &self.subtopologies
    }

    /// The global stores, by id.
    pub fn global_stores(&self) -> &[GlobalStoreDescription] {
        &self.global_stores
    }
}

impl Topology {
    /// The topology's structure, printable in Kafka Streams' layout:
    ///
    /// ```text
    /// Topologies:
    ///    Sub-topology: 0
    ///     Source: Source (topics: [input])
    ///       --> Upper
    ///     Processor: Upper (stores: [])
    ///       --> Sink
    ///       <-- Source
    ///     Sink: Sink (topic: output)
    ///       <-- Upper
    /// ```
    pub fn describe(&self) -> TopologyDescription {
        let nodes = self.nodes();
        let subtopologies = self
            .groups()
            .iter()
            .map(|group| describe_group(nodes, group))
            .collect();
        let global_stores = self
            .global_groups()
            .iter()
            .filter_map(|group| {
                let def = self
                    .global_stores()
                    .iter()
                    .find(|d| group.nodes.contains(&d.source))?;
                Some(describe_global_store(nodes, group.id, def))
            })
            .collect();
        TopologyDescription {
            subtopologies,
            global_stores,
        }
    }
}

/// A global store as Kafka Streams describes it: its source with its one topic, its processor
/// with the one store, linked to each other only.
fn describe_global_store(
    nodes: &[NodeDef],
    id: u32,
    def: &GlobalStoreDef,
) -> GlobalStoreDescription {
    let (source, processor) = (&nodes[def.source], &nodes[def.processor]);
    let topics = match &source.kind {
        NodeKind::Source { topics } => topics.iter().take(1).cloned().collect(),
        _ => Vec::new(),
    };
    GlobalStoreDescription {
        id,
        source: NodeDescription {
            name: source.name.to_string(),
            kind: NodeKindDescription::Source { topics },
            predecessors: Vec::new(),
            successors: vec![processor.name.to_string()],
        },
        processor: NodeDescription {
            name: processor.name.to_string(),
            kind: NodeKindDescription::Processor {
                stores: vec![def.store.clone()],
            },
            predecessors: vec![source.name.to_string()],
            successors: Vec::new(),
        },
    }
}

/// One sub-topology, with Kafka Streams' orders (see `java_order`): nodes are wired in the hash
/// order of their names, each wiring adds the child's "size" (paths below it, itself included)
/// to its ancestors, and the successor/predecessor sets are tree sets keyed by (size desc, name)
/// at insertion time. Nodes print by final (size desc, name).
fn describe_group(nodes: &[NodeDef], group: &Group) -> SubtopologyDescription {
    let members = &group.nodes;
    let mut size: HashMap<usize, usize> = members.iter().map(|&m| (m, 1)).collect();
    let mut succ: HashMap<usize, JavaTreeSet> = HashMap::new();
    let mut pred: HashMap<usize, JavaTreeSet> = HashMap::new();
    let mut wiring: Vec<usize> = members.clone();
    hash_order(&mut wiring, default_capacity, |&i| {
        java_hash(&nodes[i].name)
    });

    fn cmp(nodes: &[NodeDef], size: &HashMap<usize, usize>, a: usize, b: usize) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        size[&b]
            .cmp(&size[&a])
            .then_with(|| java_cmp(&nodes[a].name, &nodes[b].name))
    }
    fn add_size(
        n: usize,
        delta: usize,
        size: &mut HashMap<usize, usize>,
        pred: &HashMap<usize, JavaTreeSet>,
    ) {
        *size.entry(n).or_insert(1) += delta;
        if let Some(parents) = pred.get(&n) {
            for p in parents.iter() {
                add_size(p, delta, size, pred);
            }
        }
    }
    for &n in &wiring {
        for &p in &nodes[n].parents {
            pred.entry(n)
                .or_default()
                .insert(p, |a, b| cmp(nodes, &size, a, b));
            succ.entry(p)
                .or_default()
                .insert(n, |a, b| cmp(nodes, &size, a, b));
            let delta = size[&n];
            add_size(p, delta, &mut size, &pred);
        }
    }
    let mut ordered = members.clone();
    ordered.sort_by(|&a, &b| {
        size[&b]
            .cmp(&size[&a])
            .then_with(|| java_cmp(&nodes[a].name, &nodes[b].name))
    });
    let names_of = |set: Option<&JavaTreeSet>| -> Vec<String> {
        set.map(|s| {
            s.iter()
                .into_iter()
                .map(|i| nodes[i].name.to_string())
                .collect()
        })
        .unwrap_or_default()
    };
    let described = ordered
        .into_iter()
        .map(|i| {
            let node = &nodes[i];
            let kind = match &node.kind {
                NodeKind::Source { topics } => {
                    let mut topics = topics.clone();
                    hash_order(&mut topics, copy_capacity, |t| java_hash(t));
                    NodeKindDescription::Source { topics }
                }
                NodeKind::Processor => {
                    let mut stores = node.stores.clone();
                    hash_order(&mut stores, default_capacity, |s| java_hash(s));
                    hash_order(&mut stores, copy_capacity, |s| java_hash(s));
                    NodeKindDescription::Processor { stores }
                }
                NodeKind::Sink {
                    target: SinkTarget::Topic(topic),
                } => NodeKindDescription::Sink {
                    topic: topic.clone(),
                },
                NodeKind::Sink {
                    target: SinkTarget::Extractor(extractor),
                } => NodeKindDescription::SinkWithExtractor {
                    extractor: extractor.clone(),
                },
            };
            NodeDescription {
                name: node.name.to_string(),
                kind,
                predecessors: names_of(pred.get(&i)),
                successors: names_of(succ.get(&i)),
            }
        })
        .collect();
    SubtopologyDescription {
        id: group.id,
        nodes: described,
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl fmt::Display for NodeDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeKindDescription::Source { topics } => {
                write!(f, "Source: {} (topics: [{}])", self.name, topics.join(", "))?;
                write!(f, "\n      --> {}", list(&self.successors))
            }
            NodeKindDescription::Processor { stores } => {
                write!(
                    f,
                    "Processor: {} (stores: [{}])",
                    self.name,
                    stores.join(", ")
                )?;
                write!(f, "\n      --> {}", list(&self.successors))?;
                write!(f, "\n      <-- {}", list(&self.predecessors))
            }
            NodeKindDescription::Sink { topic } => {
                write!(f, "Sink: {} (topic: {})", self.name, topic)?;
                write!(f, "\n      <-- {}", list(&self.predecessors))
            }
            NodeKindDescription::SinkWithExtractor { extractor } => {
                write!(f, "Sink: {} (extractor class: {})", self.name, extractor)?;
                write!(f, "\n      <-- {}", list(&self.predecessors))
            }
        }
    }
}

impl fmt::Display for SubtopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sub-topology: {}", self.id)?;
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        writeln!(f)
    }
}

impl fmt::Display for GlobalStoreDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Sub-topology: {} for global store (will not generate tasks)",
            self.id
        )?;
        writeln!(f, "    {}", self.source)?;
        writeln!(f, "    {}", self.processor)
    }
}

/// Byte-identical to Kafka Streams' `TopologyDescription.toString()`, including its quirks:
/// the first heading is indented by three spaces and later ones by two; a global store has no
/// blank line after it; sub-topologies and global stores are merged by walking the ids from 0,
/// printing the next sub-topology when its id is the one expected and the next global store
/// otherwise, then whatever is left of either.
impl fmt::Display for TopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Topologies:\n ")?;
        let (mut subs, mut globals) = (
            self.subtopologies.iter().peekable(),
            self.global_stores.iter().peekable(),
        );
        let mut expected = 0;
        while let (Some(sub), Some(global)) = (subs.peek(), globals.peek()) {
            if sub.id == expected {
                write!(f, "  {sub}")?;
                subs.next();
            } else {
                write!(f, "  {global}")?;
                globals.next();
            }
            expected += 1;
        }
        for sub in subs {
            write!(f, "  {sub}")?;
        }
        for global in globals {
            write!(f, "  {global}")?;
        }
        Ok(())
    }
}
