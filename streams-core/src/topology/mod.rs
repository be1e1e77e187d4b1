//! Topologies: the graph of sources, processors, sinks and state stores an application runs.
//!
//! Build one with [`TopologyBuilder`] (or the `topology!` macro, which expands to it). A built
//! [`Topology`] is immutable and cheap to clone; [`Topology::describe`] prints it in Kafka
//! Streams' `TopologyDescription` layout, and [`Topology::to_mermaid`] / [`Topology::to_dot`]
//! draw it.

mod builder;
mod describe;
mod error;
pub(crate) mod factory;
mod handle;
pub(crate) mod instance;
mod render;
mod subtopology;

use std::sync::Arc;

pub use crate::processor::node::{RecordContext, StreamPartitioner, TopicNameExtractor};
#[cfg(feature = "kafka")]
pub(crate) use builder::valid_topic_name;
pub use builder::{SourceSpec, TopologyBuilder};
pub use describe::{
    GlobalStoreDescription, NodeDescription, NodeKindDescription, SubtopologyDescription,
    TopologyDescription,
};
pub use error::{MinimumRetention, TopologyError, TopologyErrors};
pub use handle::TopicHandle;

use crate::state::StoreBuilder;
use factory::NodeFactory;
pub(crate) use subtopology::Group;

/// Where a sink writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SinkTarget {
    Topic(String),
    /// A topic-name extractor, by type name.
    Extractor(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Source { topics: Vec<String> },
    Processor,
    Sink { target: SinkTarget },
}

pub(crate) struct NodeDef {
    pub(crate) name: Arc<str>,
    pub(crate) kind: NodeKind,
    /// Indices of parents, in the order declared.
    pub(crate) parents: Vec<usize>,
    /// Indices of children, in the order the children were added.
    pub(crate) children: Vec<usize>,
    /// Names of connected stores.
    pub(crate) stores: Vec<String>,
    pub(crate) factory: Arc<dyn NodeFactory>,
}

pub(crate) struct StoreDef {
    pub(crate) builder: Arc<dyn StoreBuilder>,
}

/// A topic the topology owns (the DSL's repartition topics): shown by `describe()` without the
/// application id, named `<application.id>-<name>` at run time and created at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InternalTopic {
    pub(crate) name: String,
    /// A fixed partition count (`Repartitioned::with_partitions`); else the writers' inputs'.
    pub(crate) partitions: Option<u32>,
}

/// A global store as declared: its source (reading one topic), the processor that writes it,
/// and the store (node indices and the store's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlobalStoreDef {
    pub(crate) source: usize,
    pub(crate) processor: usize,
    pub(crate) store: String,
}

struct Inner {
    nodes: Vec<NodeDef>,
    stores: Vec<StoreDef>,
    /// The sub-topologies that make tasks.
    subtopologies: Vec<Group>,
    /// The sub-topologies of global stores (Kafka Streams numbers them with the others).
    global_groups: Vec<Group>,
    global_stores: Vec<GlobalStoreDef>,
    internal_topics: Vec<InternalTopic>,
    /// Nodes whose input topics must be co-partitioned (the two sides of a join): Kafka
    /// Streams' co-partition groups.
    copartition_groups: Vec<Vec<String>>,
}

/// A checked, immutable topology, shared by every task that runs it.
#[derive(Clone)]
pub struct Topology {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.describe(), f)
    }
}

impl Topology {
    /// A new [`TopologyBuilder`].
    pub fn builder() -> TopologyBuilder {
        TopologyBuilder::new()
    }

    /// A topology of checked nodes: split into sub-topologies, those of global stores apart.
    pub(crate) fn new(
        nodes: Vec<NodeDef>,
        stores: Vec<StoreDef>,
        internal_topics: Vec<InternalTopic>,
        global_stores: Vec<GlobalStoreDef>,
        copartition_groups: Vec<Vec<String>>,
    ) -> Self {
        let (global_groups, subtopologies) =
            subtopology::group(&nodes).into_iter().partition(|g| {
                g.nodes
                    .iter()
                    .any(|&i| global_stores.iter().any(|s| s.source == i))
            });
        Topology {
            inner: Arc::new(Inner {
                nodes,
                stores,
                subtopologies,
                global_groups,
                global_stores,
                internal_topics,
                copartition_groups,
            }),
        }
    }

    /// The co-partition groups, each as the source topics its nodes read (through their
    /// ancestors), sorted.
    #[cfg(feature = "kafka")]
    pub(crate) fn copartition_groups(&self) -> Vec<Vec<String>> {
        let nodes = &self.inner.nodes;
        let index: std::collections::HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (&*n.name, i))
            .collect();
        self.inner
            .copartition_groups
            .iter()
            .map(|group| {
                let mut topics = std::collections::BTreeSet::new();
                let mut todo: Vec<usize> = group
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).copied())
                    .collect();
                let mut seen = std::collections::HashSet::new();
                while let Some(i) = todo.pop() {
                    if !seen.insert(i) {
                        continue;
                    }
                    if let NodeKind::Source { topics: read } = &nodes[i].kind {
                        topics.extend(read.iter().cloned());
                    }
                    todo.extend(nodes[i].parents.iter().copied());
                }
                topics.into_iter().collect()
            })
            .collect()
    }

    /// The internal topics, by their run-time names once [`for_application`](Self::for_application)
    /// was applied.
    #[cfg(feature = "kafka")]
    pub(crate) fn internal_topics(&self) -> &[InternalTopic] {
        &self.inner.internal_topics
    }

    /// The topology as it runs for `application_id`: every internal topic renamed
    /// `<application_id>-<name>` in sources and sinks (Kafka Streams' naming).
    pub(crate) fn for_application(&self, application_id: &str) -> Topology {
        if self.inner.internal_topics.is_empty() {
            return self.clone();
        }
        let rename = |topic: &str| -> Option<String> {
            self.inner
                .internal_topics
                .iter()
                .any(|t| t.name == topic)
                .then(|| format!("{application_id}-{topic}"))
        };
        let nodes = self
            .inner
            .nodes
            .iter()
            .map(|n| {
                let (kind, factory) = match &n.kind {
                    NodeKind::Source { topics } => (
                        NodeKind::Source {
                            topics: topics
                                .iter()
                                .map(|t| rename(t).unwrap_or_else(|| t.clone()))
                                .collect(),
                        },
                        Arc::clone(&n.factory),
                    ),
                    NodeKind::Sink {
                        target: SinkTarget::Topic(topic),
                    } => match rename(topic) {
                        Some(renamed) => (
                            NodeKind::Sink {
                                target: SinkTarget::Topic(renamed.clone()),
                            },
                            n.factory
                                .with_topic(&renamed)
                                .unwrap_or_else(|| Arc::clone(&n.factory)),
                        ),
                        None => (n.kind.clone(), Arc::clone(&n.factory)),
                    },
                    other => (other.clone(), Arc::clone(&n.factory)),
                };
                NodeDef {
                    name: Arc::clone(&n.name),
                    kind,
                    parents: n.parents.clone(),
                    children: n.children.clone(),
                    stores: n.stores.clone(),
                    factory,
                }
            })
            .collect::<Vec<_>>();
        let stores = self
            .inner
            .stores
            .iter()
            .map(|s| StoreDef {
                builder: Arc::clone(&s.builder),
            })
            .collect();
        let internal_topics = self
            .inner
            .internal_topics
            .iter()
            .map(|t| InternalTopic {
                name: format!("{application_id}-{}", t.name),
                partitions: t.partitions,
            })
            .collect();
        Topology::new(
            nodes,
            stores,
            internal_topics,
            self.inner.global_stores.clone(),
            self.inner.copartition_groups.clone(),
        )
    }

    pub(crate) fn nodes(&self) -> &[NodeDef] {
        &self.inner.nodes
    }

    pub(crate) fn stores(&self) -> &[StoreDef] {
        &self.inner.stores
    }

    /// The sub-topologies that make tasks (not those of global stores).
    pub(crate) fn groups(&self) -> &[Group] {
        &self.inner.subtopologies
    }

    /// The sub-topologies of global stores (each a source and the processor writing the store).
    pub(crate) fn global_groups(&self) -> &[Group] {
        &self.inner.global_groups
    }

    /// The global stores as declared.
    pub(crate) fn global_stores(&self) -> &[GlobalStoreDef] {
        &self.inner.global_stores
    }

    /// The nodes of every global store's sub-topology, ascending.
    pub(crate) fn global_nodes(&self) -> Vec<usize> {
        let mut nodes: Vec<usize> = self
            .inner
            .global_groups
            .iter()
            .flat_map(|g| g.nodes.iter().copied())
            .collect();
        nodes.sort_unstable();
        nodes
    }

    /// The topics global stores are read from (each the changelog of its store), in
    /// declaration order.
    pub fn global_topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner
            .global_stores
            .iter()
            .flat_map(|g| match &self.inner.nodes[g.source].kind {
                NodeKind::Source { topics } => topics.first().map(String::as_str),
                _ => None,
            })
    }

    /// The names of the global stores (see
    /// [`TopologyBuilder::add_global_store`]), in declaration order.
    pub fn global_store_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.global_stores.iter().map(|g| g.store.as_str())
    }

    /// Whether store `name` is a global store.
    pub(crate) fn is_global_store(&self, name: &str) -> bool {
        self.inner.global_stores.iter().any(|g| g.store == name)
    }

    /// The topics this topology reads, in node order (global stores' topics included).
    pub fn source_topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.nodes.iter().flat_map(|n| match &n.kind {
            NodeKind::Source { topics } => topics.iter().map(String::as_str).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    /// The topics this topology's sinks write to by name (extractor sinks are not listed).
    pub fn sink_topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.nodes.iter().filter_map(|n| match &n.kind {
            NodeKind::Sink {
                target: SinkTarget::Topic(topic),
            } => Some(topic.as_str()),
            _ => None,
        })
    }

    /// The names of the state stores.
    pub fn store_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.stores.iter().map(|s| s.builder.name())
    }
}
