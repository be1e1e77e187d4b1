//! How a declared node becomes a live node in a task: one factory per node, type-erased in the
//! topology and typed again when a task wires parents to children.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::codec::Codec;
use crate::processor::node::{
    Child, NodeInfo, NodeInput, NodeLifecycle, ProcessorNode, RawInput, SinkNode, SinkTopic,
    SourceNode, StreamPartitioner,
};
use crate::processor::{Processor, ProcessorSupplier};
use crate::timestamp::{InvalidTimestampPolicy, TimestampExtractor};

/// A key and value type, compared when connecting nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypePair {
    pub(crate) key: TypeId,
    pub(crate) value: TypeId,
    pub(crate) key_name: &'static str,
    pub(crate) value_name: &'static str,
}

impl TypePair {
    pub(crate) fn of<K: 'static, V: 'static>() -> Self {
        TypePair {
            key: TypeId::of::<K>(),
            value: TypeId::of::<V>(),
            key_name: std::any::type_name::<K>(),
            value_name: std::any::type_name::<V>(),
        }
    }

    pub(crate) fn same(&self, other: &TypePair) -> bool {
        self.key == other.key && self.value == other.value
    }
}

/// A node of one task.
pub(crate) struct NodeInstance {
    pub(crate) lifecycle: Rc<RefCell<dyn NodeLifecycle>>,
    /// A `Child<K, V>` for the node's parents to forward to (not for sources).
    pub(crate) as_child: Option<Box<dyn Any>>,
    /// The raw-record entry (sources only).
    pub(crate) raw: Option<Rc<RefCell<dyn RawInput>>>,
}

/// Makes a node for a task, given its children's `Child<K, V>` handles.
pub(crate) trait NodeFactory: Send + Sync {
    fn instantiate(&self, info: NodeInfo, children: &[&dyn Any]) -> Result<NodeInstance, String>;

    /// The same sink writing to `topic` instead (sinks to a fixed topic only).
    fn with_topic(&self, topic: &str) -> Option<Arc<dyn NodeFactory>> {
        let _ = topic;
        None
    }
}

fn typed_children<K: 'static, V: 'static>(
    children: &[&dyn Any],
) -> Result<Vec<Child<K, V>>, String> {
    children
        .iter()
        .map(|c| {
            c.downcast_ref::<Child<K, V>>().cloned().ok_or_else(|| {
                format!(
                    "a child does not take ({}, {})",
                    std::any::type_name::<K>(),
                    std::any::type_name::<V>()
                )
            })
        })
        .collect()
}

fn as_child<K: 'static, V: 'static, N: NodeInput<K, V> + 'static>(
    name: &Arc<str>,
    node: &Rc<RefCell<N>>,
) -> Box<dyn Any> {
    let node: Rc<RefCell<dyn NodeInput<K, V>>> = node.clone();
    Box::new(Child {
        name: Arc::clone(name),
        node,
    })
}

pub(crate) struct SourceFactory<K, V, KC, VC, TE> {
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
    pub(crate) extractor: Arc<TE>,
    pub(crate) policy: InvalidTimestampPolicy,
    pub(crate) skip_nulls: bool,
    pub(crate) types: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC, VC, TE> NodeFactory for SourceFactory<K, V, KC, VC, TE>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
    TE: TimestampExtractor<K, V>,
{
    fn instantiate(&self, info: NodeInfo, children: &[&dyn Any]) -> Result<NodeInstance, String> {
        let node = Rc::new(RefCell::new(SourceNode {
            info,
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            extractor: ArcExtractor(Arc::clone(&self.extractor)),
            policy: self.policy,
            skip_nulls: self.skip_nulls,
            children: typed_children::<K, V>(children)?,
            partition_time: Vec::new(),
        }));
        Ok(NodeInstance {
            lifecycle: node.clone(),
            as_child: None,
            raw: Some(node),
        })
    }
}

/// A shared extractor, called without dynamic dispatch.
pub(crate) struct ArcExtractor<TE>(Arc<TE>);

impl<K, V, TE: TimestampExtractor<K, V>> TimestampExtractor<K, V> for ArcExtractor<TE> {
    fn extract(&self, key: &K, value: &V, record_timestamp: i64, partition_time: i64) -> i64 {
        self.0.extract(key, value, record_timestamp, partition_time)
    }
}

pub(crate) struct ProcessorFactory<S>(pub(crate) S);

impl<S> NodeFactory for ProcessorFactory<S>
where
    S: ProcessorSupplier,
{
    fn instantiate(&self, info: NodeInfo, children: &[&dyn Any]) -> Result<NodeInstance, String> {
        type P<S> = <S as ProcessorSupplier>::Processor;
        let name = Arc::clone(&info.name);
        let node = Rc::new(RefCell::new(ProcessorNode {
            info,
            processor: self.0.get(),
            children: typed_children::<<P<S> as Processor>::KOut, <P<S> as Processor>::VOut>(
                children,
            )?,
        }));
        Ok(NodeInstance {
            as_child: Some(as_child::<
                <P<S> as Processor>::KIn,
                <P<S> as Processor>::VIn,
                _,
            >(&name, &node)),
            lifecycle: node,
            raw: None,
        })
    }
}

pub(crate) struct SinkFactory<K, V, KC, VC> {
    pub(crate) topic: SinkTopic<K, V>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
}

impl<K, V, KC, VC> NodeFactory for SinkFactory<K, V, KC, VC>
where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    fn with_topic(&self, topic: &str) -> Option<Arc<dyn NodeFactory>> {
        match self.topic {
            SinkTopic::Fixed(_) => Some(Arc::new(SinkFactory {
                topic: SinkTopic::<K, V>::Fixed(Arc::from(topic)),
                partitioner: self.partitioner.clone(),
                key_codec: self.key_codec.clone(),
                value_codec: self.value_codec.clone(),
            })),
            SinkTopic::Extractor(_) => None,
        }
    }

    fn instantiate(&self, info: NodeInfo, _children: &[&dyn Any]) -> Result<NodeInstance, String> {
        let name = Arc::clone(&info.name);
        let node = Rc::new(RefCell::new(SinkNode {
            info,
            topic: self.topic.clone(),
            partitioner: self.partitioner.clone(),
            key_codec: self.key_codec.clone(),
            value_codec: self.value_codec.clone(),
            key_buf: Vec::new(),
            value_buf: Vec::new(),
        }));
        Ok(NodeInstance {
            as_child: Some(as_child::<K, V, _>(&name, &node)),
            lifecycle: node,
            raw: None,
        })
    }
}
