//! A topology instantiated for one task: live nodes wired parent → child, the task's stores,
//! and the entry points the driver or a stream thread calls.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::StreamsError;
use crate::processor::PunctuationType;
use crate::processor::node::{NodeInfo, NodeLifecycle, RawInput, RawRecord};
use crate::processor::task_state::TaskState;
use crate::state::{StoreContext, StoreError, StoreRegistry};

use super::Topology;
use super::factory::NodeInstance;

type SourceInput = (Arc<str>, Rc<RefCell<dyn RawInput>>);

/// One task's instance of a sub-topology: its live source, processor and sink nodes, wired as
/// the topology says. A record enters at the source of its topic and goes depth-first through
/// the children.
pub(crate) struct TaskGraph {
    /// Live nodes by topology node index, in index (= declaration) order.
    nodes: Vec<(usize, Rc<RefCell<dyn NodeLifecycle>>)>,
    /// Positions in `nodes` of the processors: the only nodes with work on commit.
    processors: Vec<usize>,
    /// (topic, source reading it); few entries, so a linear scan beats hashing.
    sources: Vec<SourceInput>,
}

impl TaskGraph {
    /// Instantiates the nodes `members` (one sub-topology, or all nodes for the test driver)
    /// and builds the stores they use in `stores` (the task's id, state directory, RocksDB
    /// budget, record cache and changelog sink).
    pub(crate) fn with_stores(
        topology: &Topology,
        members: &[usize],
        stores: &StoreContext,
    ) -> Result<(Self, StoreRegistry), String> {
        let defs = topology.nodes();
        let in_members: Vec<bool> = {
            let mut v = vec![false; defs.len()];
            for &m in members {
                v[m] = true;
            }
            v
        };
        // Children before parents: post-order over child edges.
        let mut order = Vec::with_capacity(members.len());
        let mut visited = vec![false; defs.len()];
        fn visit(i: usize, defs: &[super::NodeDef], visited: &mut [bool], order: &mut Vec<usize>) {
            if visited[i] {
                return;
            }
            visited[i] = true;
            for &c in &defs[i].children {
                visit(c, defs, visited, order);
            }
            order.push(i);
        }
        for &m in members {
            visit(m, defs, &mut visited, &mut order);
        }
        let mut instances: HashMap<usize, NodeInstance> = HashMap::new();
        for i in order {
            if !in_members[i] {
                return Err(format!(
                    "node `{}` feeds `{}`, which is outside the task's sub-topology",
                    defs[i].name,
                    defs[i].children.first().map_or("?", |&c| &*defs[c].name)
                ));
            }
            let def = &defs[i];
            let children = def
                .children
                .iter()
                .map(|c| {
                    instances
                        .get(c)
                        .and_then(|inst| inst.as_child.as_deref())
                        .ok_or_else(|| {
                            format!(
                                "child `{}` of `{}` is not a processor or sink",
                                defs[*c].name, def.name
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let info = NodeInfo {
                name: Arc::clone(&def.name),
                index: i,
                stores: def.stores.clone(),
            };
            let instance = def
                .factory
                .instantiate(info, &children)
                .map_err(|e| format!("node `{}`: {e}", def.name))?;
            instances.insert(i, instance);
        }

        let mut sources = Vec::new();
        let mut nodes = Vec::with_capacity(members.len());
        let mut processors = Vec::new();
        let mut sorted: Vec<usize> = members.to_vec();
        sorted.sort_unstable();
        let mut store_names: Vec<&str> = Vec::new();
        for i in sorted {
            let Some(instance) = instances.remove(&i) else {
                continue;
            };
            if let (Some(raw), super::NodeKind::Source { topics }) = (instance.raw, &defs[i].kind) {
                for topic in topics {
                    sources.push((Arc::from(topic.as_str()), Rc::clone(&raw)));
                }
            }
            store_names.extend(defs[i].stores.iter().map(String::as_str));
            if matches!(defs[i].kind, super::NodeKind::Processor) {
                processors.push(nodes.len());
            }
            nodes.push((i, instance.lifecycle));
        }
        let mut registry = StoreRegistry::default();
        for store in topology.stores() {
            if store_names.contains(&store.builder.name()) {
                let built = store.builder.build(stores).map_err(|e| e.to_string())?;
                registry.insert(store.builder.name().to_string(), built);
            }
        }
        Ok((
            TaskGraph {
                nodes,
                processors,
                sources,
            },
            registry,
        ))
    }

    /// Instantiates the global stores' sub-topologies (their sources and the processors that
    /// write them) with the stores built in `stores`, a global context whose engines this
    /// instance's global thread (or test driver) writes.
    pub(crate) fn with_global_stores(
        topology: &Topology,
        stores: &StoreContext,
    ) -> Result<(Self, StoreRegistry), String> {
        let built = Self::with_stores(topology, &topology.global_nodes(), stores)?;
        check_shared(topology, stores).map_err(|e| e.to_string())?;
        Ok(built)
    }

    /// The index of the source input for `topic`, if one of the task's sources reads it.
    pub(crate) fn source_index(&self, topic: &str) -> Option<usize> {
        self.sources.iter().position(|(t, _)| **t == *topic)
    }

    /// The extracted timestamp of a raw record of source input `source` (see
    /// [`RawInput::extract_timestamp`]).
    #[cfg_attr(
        not(feature = "kafka"),
        expect(dead_code, reason = "used by the runtime")
    )]
    pub(crate) fn extract_timestamp(
        &self,
        source: usize,
        partition: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> i64 {
        let (topic, node) = &self.sources[source];
        node.borrow_mut()
            .extract_timestamp(topic, partition, key, value, timestamp)
    }

    /// The topic of a source input.
    pub(crate) fn source_topic(&self, index: usize) -> &Arc<str> {
        &self.sources[index].0
    }

    /// How many (topic, source) inputs the task has.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Calls `init` on every node, in declaration order.
    pub(crate) fn init(&self, task: &mut TaskState) -> Result<(), StreamsError> {
        for (_, node) in &self.nodes {
            node.borrow_mut().init(task)?;
        }
        Ok(())
    }

    /// Processes one consumed record through source input `source` (see
    /// [`source_index`](Self::source_index)).
    pub(crate) fn process(
        &self,
        source: usize,
        raw: RawRecord<'_>,
        task: &mut TaskState,
    ) -> Result<(), StreamsError> {
        let result = self.sources[source].1.borrow_mut().process_raw(raw, task);
        task.clear_metadata();
        result
    }

    /// Fires every punctuation of `kind` due at `now`; returns how many fired.
    pub(crate) fn punctuate(
        &self,
        kind: PunctuationType,
        now: i64,
        task: &mut TaskState,
    ) -> Result<usize, StreamsError> {
        let mut fired = 0;
        while let Some((node, punctuation)) = task.punctuations.pop_due(kind, now) {
            let Some((_, live)) = self.nodes.iter().find(|(i, _)| *i == node) else {
                continue;
            };
            task.clear_metadata();
            live.borrow_mut().punctuate(punctuation, task)?;
            fired += 1;
        }
        Ok(fired)
    }

    /// Commits: flushes the task's record caches, lets every processor forward what they
    /// flushed ([`Processor::on_commit`](crate::processor::Processor::on_commit)), then flushes
    /// the caches again for the writes that caused downstream.
    pub(crate) fn commit(&self, task: &mut TaskState) -> Result<(), StreamsError> {
        task.stores.flush_caches()?;
        for &p in &self.processors {
            task.clear_metadata();
            self.nodes[p].1.borrow_mut().commit(task)?;
        }
        task.stores.flush_caches()?;
        Ok(())
    }

    /// Closes every node and drops its punctuations.
    pub(crate) fn close(&self, task: &mut TaskState) {
        for (i, node) in &self.nodes {
            node.borrow_mut().close();
            task.punctuations.cancel_node(*i);
        }
    }
}

/// The global stores as tasks read them: a read-only handle on each, over the instance's
/// engines (`stores` is a global context; the engines are opened there if the global thread has
/// not yet).
pub(crate) fn global_store_views(
    topology: &Topology,
    stores: &StoreContext,
) -> Result<StoreRegistry, StoreError> {
    let mut registry = StoreRegistry::default();
    for store in topology.stores() {
        let name = store.builder.name();
        if topology.is_global_store(name) {
            registry.insert(name.to_string(), store.builder.build(stores)?);
        }
    }
    check_shared(topology, stores)?;
    Ok(registry)
}

/// Every global store was built on the shared engines: a store builder of the user's own that
/// makes stores of its own on each thread cannot be a global store.
fn check_shared(topology: &Topology, stores: &StoreContext) -> Result<(), StoreError> {
    let shared = |name: &str| {
        stores
            .global_access()
            .is_some_and(|access| access.engines.contains(name))
    };
    match topology.global_store_names().find(|name| !shared(name)) {
        Some(name) => Err(StoreError::NotGlobal {
            store: name.to_string(),
            reason: "its builder does not build it on the instance's shared engine (use a \
                     builder from `Stores`)"
                .to_string(),
        }),
        None => Ok(()),
    }
}
