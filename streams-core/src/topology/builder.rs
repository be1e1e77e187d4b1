use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;

use crate::codec::Codec;
use crate::processor::node::{SinkTopic, StreamPartitioner, TopicNameExtractor};
use crate::processor::{Processor, ProcessorSupplier};
use crate::state::{StoreBuilder, StoreKind};
use crate::timestamp::{InvalidTimestampPolicy, RecordTimestamp, TimestampExtractor};

use super::error::{TopologyError, TopologyErrors};
use super::factory::{NodeFactory, ProcessorFactory, SinkFactory, SourceFactory, TypePair};
use super::{GlobalStoreDef, InternalTopic, NodeDef, NodeKind, SinkTarget, StoreDef, Topology};

/// A source as declared: name, topics, codecs, and how record time is chosen.
///
/// ```
/// use streams_core::codec::Utf8;
/// use streams_core::timestamp::InvalidTimestampPolicy;
/// use streams_core::topology::{SourceSpec, TopologyBuilder};
/// let mut builder = TopologyBuilder::new();
/// builder.add_source_spec(
///     SourceSpec::new("clicks", ["clicks"], Utf8, Utf8)
///         .timestamp_extractor(|_k: &String, v: &String, record_ts: i64, _pt: i64| {
///             v.split(',').next().and_then(|t| t.parse().ok()).unwrap_or(record_ts)
///         })
///         .on_invalid_timestamp(InvalidTimestampPolicy::LogAndSkip),
/// );
/// ```
pub struct SourceSpec<K, V, KC, VC, TE = RecordTimestamp> {
    name: String,
    topics: Vec<String>,
    key_codec: KC,
    value_codec: VC,
    extractor: TE,
    policy: InvalidTimestampPolicy,
    skip_nulls: bool,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC, VC> SourceSpec<K, V, KC, VC>
where
    KC: Codec<K>,
    VC: Codec<V>,
{
    /// A source reading `topics` with the record timestamp as record time.
    pub fn new<T: Into<String>>(
        name: impl Into<String>,
        topics: impl IntoIterator<Item = T>,
        key_codec: KC,
        value_codec: VC,
    ) -> Self {
        SourceSpec {
            name: name.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            key_codec,
            value_codec,
            extractor: RecordTimestamp,
            policy: InvalidTimestampPolicy::default(),
            skip_nulls: false,
            types: PhantomData,
        }
    }
}

impl<K, V, KC, VC, TE> SourceSpec<K, V, KC, VC, TE> {
    /// Takes record time from the record instead (event time).
    pub fn timestamp_extractor<TE2: TimestampExtractor<K, V>>(
        self,
        extractor: TE2,
    ) -> SourceSpec<K, V, KC, VC, TE2> {
        SourceSpec {
            name: self.name,
            topics: self.topics,
            key_codec: self.key_codec,
            value_codec: self.value_codec,
            extractor,
            policy: self.policy,
            skip_nulls: self.skip_nulls,
            types: PhantomData,
        }
    }

    /// What to do with negative timestamps (fail by default).
    pub fn on_invalid_timestamp(mut self, policy: InvalidTimestampPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Drops (with a warning and the `dropped-records` metric) a record whose null key or value
    /// the codecs cannot represent, instead of failing with a deserialization error. The DSL's
    /// sources do this: declare the type as `Option<_>` to receive nulls instead.
    pub fn skip_unrepresentable_nulls(mut self) -> Self {
        self.skip_nulls = true;
        self
    }
}

/// Declares a topology node by node, then checks it whole — the builder side of Kafka
/// Streams' `Topology`.
///
/// Nodes can be added in any order (a parent may be added after its child); [`build`](Self::build)
/// checks names, parents, types, cycles and stores and reports every problem at once.
///
/// ```
/// use streams_core::codec::Utf8;
/// use streams_core::error::ProcessorError;
/// use streams_core::processor::{Processor, ProcessorContext};
/// use streams_core::record::Record;
/// use streams_core::topology::TopologyBuilder;
///
/// struct Upper;
/// impl Processor for Upper {
///     type KIn = String;
///     type VIn = String;
///     type KOut = String;
///     type VOut = String;
///     fn process(&mut self, r: Record<String, String>, ctx: &mut ProcessorContext<'_, String, String>)
///         -> Result<(), ProcessorError> {
///         ctx.forward(r.map_value(|v| v.to_uppercase()))
///     }
/// }
///
/// let mut builder = TopologyBuilder::new();
/// builder
///     .add_source("Source", ["input"], Utf8, Utf8)
///     .add_processor("Upper", || Upper, ["Source"])
///     .add_sink("Sink", "output", Utf8, Utf8, ["Upper"]);
/// let topology = builder.build().expect("valid topology");
/// assert_eq!(topology.describe().subtopologies().len(), 1);
/// ```
#[derive(Default)]
pub struct TopologyBuilder {
    nodes: Vec<PendingNode>,
    stores: Vec<Arc<dyn StoreBuilder>>,
    /// (processor, store) connections, in the order made.
    store_links: Vec<(String, String)>,
    internal_topics: Vec<InternalTopic>,
    copartition_groups: Vec<Vec<String>>,
    /// Problems found while the DSL wrote its operations, reported by [`build`](Self::build).
    reported: Vec<TopologyError>,
    /// (source, processor, store) of each global store.
    global_stores: Vec<(String, String, String)>,
}

struct PendingNode {
    name: String,
    kind: NodeKind,
    parents: Vec<String>,
    input: Option<TypePair>,
    output: Option<TypePair>,
    factory: Arc<dyn NodeFactory>,
}

fn parent_names<P>(parents: P) -> Vec<String>
where
    P: IntoIterator,
    P::Item: AsRef<str>,
{
    parents
        .into_iter()
        .map(|p| p.as_ref().to_string())
        .collect()
}

impl TopologyBuilder {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source reading `topics`, with the record timestamp as record time.
    pub fn add_source<K, V, KC, VC, T>(
        &mut self,
        name: impl Into<String>,
        topics: impl IntoIterator<Item = T>,
        key_codec: KC,
        value_codec: VC,
    ) -> &mut Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        T: Into<String>,
    {
        self.add_source_spec(SourceSpec::new(name, topics, key_codec, value_codec))
    }

    /// Adds a source declared with a [`SourceSpec`] (custom timestamp extraction).
    pub fn add_source_spec<K, V, KC, VC, TE>(
        &mut self,
        spec: SourceSpec<K, V, KC, VC, TE>,
    ) -> &mut Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        TE: TimestampExtractor<K, V>,
    {
        self.nodes.push(PendingNode {
            name: spec.name,
            kind: NodeKind::Source {
                topics: spec.topics,
            },
            parents: Vec::new(),
            input: None,
            output: Some(TypePair::of::<K, V>()),
            factory: Arc::new(SourceFactory::<K, V, KC, VC, TE> {
                key_codec: spec.key_codec,
                value_codec: spec.value_codec,
                extractor: Arc::new(spec.extractor),
                policy: spec.policy,
                skip_nulls: spec.skip_nulls,
                types: PhantomData,
            }),
        });
        self
    }

    /// Adds a processor made by `supplier` (e.g. `|| MyProcessor::new()`) for each task,
    /// fed by `parents`.
    pub fn add_processor<S, P>(
        &mut self,
        name: impl Into<String>,
        supplier: S,
        parents: P,
    ) -> &mut Self
    where
        S: ProcessorSupplier,
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        type Pr<S> = <S as ProcessorSupplier>::Processor;
        self.nodes.push(PendingNode {
            name: name.into(),
            kind: NodeKind::Processor,
            parents: parent_names(parents),
            input: Some(TypePair::of::<
                <Pr<S> as Processor>::KIn,
                <Pr<S> as Processor>::VIn,
            >()),
            output: Some(TypePair::of::<
                <Pr<S> as Processor>::KOut,
                <Pr<S> as Processor>::VOut,
            >()),
            factory: Arc::new(ProcessorFactory(supplier)),
        });
        self
    }

    /// Adds a sink writing to `topic`, fed by `parents`.
    ///
    /// **Repartition topics.** A topic that the topology both writes (a sink) and reads (a
    /// source) and whose name ends in `-repartition` is internal: `KafkaStreams` creates it at
    /// start, with the partition count of the writing sub-topology's inputs. Any other topic must
    /// exist. The name is used as given (prefix it with the application id yourself, as
    /// Kafka Streams' `<application.id>-<name>-repartition` does, when several applications
    /// share a cluster).
    pub fn add_sink<K, V, KC, VC, P>(
        &mut self,
        name: impl Into<String>,
        topic: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
        parents: P,
    ) -> &mut Self
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        let topic: String = topic.into();
        let target = SinkTopic::Fixed(Arc::from(topic.as_str()));
        self.push_sink(
            name.into(),
            SinkTarget::Topic(topic),
            target,
            None,
            key_codec,
            value_codec,
            parents,
        )
    }

    /// Adds a sink writing to `topic` in the partition `partitioner` chooses per record (Kafka
    /// Streams' `addSink(.., StreamPartitioner, ..)`), fed by `parents`.
    pub fn add_sink_with_partitioner<K, V, KC, VC, SP, P>(
        &mut self,
        name: impl Into<String>,
        topic: impl Into<String>,
        key_codec: KC,
        value_codec: VC,
        partitioner: SP,
        parents: P,
    ) -> &mut Self
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        SP: StreamPartitioner<K, V>,
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        let topic: String = topic.into();
        let target = SinkTopic::Fixed(Arc::from(topic.as_str()));
        self.push_sink(
            name.into(),
            SinkTarget::Topic(topic),
            target,
            Some(Arc::new(partitioner)),
            key_codec,
            value_codec,
            parents,
        )
    }

    /// Adds a sink that picks each record's topic with `extractor`, fed by `parents`.
    pub fn add_sink_with_extractor<K, V, KC, VC, E, P>(
        &mut self,
        name: impl Into<String>,
        extractor: E,
        key_codec: KC,
        value_codec: VC,
        parents: P,
    ) -> &mut Self
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        E: TopicNameExtractor<K, V>,
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        let described = SinkTarget::Extractor(short_type_name::<E>());
        let target = SinkTopic::Extractor(Arc::new(extractor));
        self.push_sink(
            name.into(),
            described,
            target,
            None,
            key_codec,
            value_codec,
            parents,
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one sink declaration: name, target as described and as run, partitioner, codecs, parents"
    )]
    fn push_sink<K, V, KC, VC, P>(
        &mut self,
        name: String,
        described: SinkTarget,
        topic: SinkTopic<K, V>,
        partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
        key_codec: KC,
        value_codec: VC,
        parents: P,
    ) -> &mut Self
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        self.nodes.push(PendingNode {
            name,
            kind: NodeKind::Sink { target: described },
            parents: parent_names(parents),
            input: Some(TypePair::of::<K, V>()),
            output: None,
            factory: Arc::new(SinkFactory {
                topic,
                partitioner,
                key_codec,
                value_codec,
            }),
        });
        self
    }

    /// Adds a state store and connects it to `processors` (which may be empty, to connect later
    /// with [`connect_processor_and_state_stores`](Self::connect_processor_and_state_stores)).
    pub fn add_state_store<P>(&mut self, store: impl StoreBuilder, processors: P) -> &mut Self
    where
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        let name = store.name().to_string();
        for processor in processors {
            self.store_links
                .push((processor.as_ref().to_string(), name.clone()));
        }
        self.stores.push(Arc::new(store));
        self
    }

    /// Adds a global store — Kafka Streams' `Topology#addGlobalStore`: `store`, filled from
    /// the one topic of `source` by the processor `processor_name` that `supplier` makes.
    ///
    /// Every instance of the application keeps a full copy: its global stream thread reads
    /// every partition of the topic (outside the consumer group, from the store's checkpoint
    /// or the beginning), restores the store up to the topic's end before any task processes,
    /// then keeps it up to date. Every processor of every task can read it by name through its
    /// context without being connected to it (it is read-only for them; a write fails with
    /// [`StoreError::ReadOnly`](crate::state::StoreError::ReadOnly)), and interactive queries
    /// read it on every instance. The topic is its changelog, so the store must have logging
    /// disabled; only key-value stores can be global. The source and the processor form a
    /// sub-topology of their own that makes no tasks (`describe()` shows it as
    /// `Sub-topology: N for global store (will not generate tasks)`).
    ///
    /// ```
    /// use streams_core::codec::Utf8;
    /// use streams_core::error::ProcessorError;
    /// use streams_core::processor::{Processor, ProcessorContext};
    /// use streams_core::record::Record;
    /// use streams_core::state::{KeyValueStore, StoreBuilder, Stores};
    /// use streams_core::testing::TopologyTestDriver;
    /// use streams_core::topology::{SourceSpec, TopologyBuilder};
    ///
    /// /// Writes every record of the global topic into the store.
    /// #[derive(Default)]
    /// struct Load(Option<KeyValueStore<String, String>>);
    /// impl Processor for Load {
    ///     type KIn = String;
    ///     type VIn = String;
    ///     type KOut = String;
    ///     type VOut = String;
    ///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), ProcessorError> {
    ///         self.0 = Some(ctx.key_value_store("countries")?);
    ///         Ok(())
    ///     }
    ///     fn process(&mut self, r: Record<String, String>, _: &mut ProcessorContext<'_, String, String>)
    ///         -> Result<(), ProcessorError> {
    ///         self.0.as_ref().expect("init").put(&r.key, &r.value)?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// /// Looks every order's country up in the global store.
    /// #[derive(Default)]
    /// struct Enrich(Option<KeyValueStore<String, String>>);
    /// impl Processor for Enrich {
    ///     type KIn = String;
    ///     type VIn = String;
    ///     type KOut = String;
    ///     type VOut = String;
    ///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), ProcessorError> {
    ///         self.0 = Some(ctx.key_value_store("countries")?); // not connected: it is global
    ///         Ok(())
    ///     }
    ///     fn process(&mut self, r: Record<String, String>, ctx: &mut ProcessorContext<'_, String, String>)
    ///         -> Result<(), ProcessorError> {
    ///         let country = self.0.as_ref().expect("init").get(&r.value)?.unwrap_or_default();
    ///         ctx.forward(r.map_value(|code| format!("{code}={country}")))
    ///     }
    /// }
    ///
    /// let mut builder = TopologyBuilder::new();
    /// builder
    ///     .add_global_store(
    ///         Stores::in_memory_key_value("countries", Utf8, Utf8).with_logging_disabled(),
    ///         SourceSpec::new("countries-source", ["countries"], Utf8, Utf8),
    ///         "countries-loader",
    ///         Load::default,
    ///     )
    ///     .add_source("orders", ["orders"], Utf8, Utf8)
    ///     .add_processor("enrich", Enrich::default, ["orders"])
    ///     .add_sink("out", "enriched", Utf8, Utf8, ["enrich"]);
    /// let topology = builder.build().unwrap();
    /// assert!(topology.describe().to_string().contains(
    ///     "Sub-topology: 0 for global store (will not generate tasks)"
    /// ));
    ///
    /// let driver = TopologyTestDriver::new(topology).unwrap();
    /// let countries = driver.create_input_topic("countries", Utf8, Utf8);
    /// countries.pipe_input("fr".to_string(), "France".to_string()).unwrap();
    /// let orders = driver.create_input_topic("orders", Utf8, Utf8);
    /// orders.pipe_input("o1".to_string(), "fr".to_string()).unwrap();
    /// let out = driver.create_output_topic("enriched", Utf8, Utf8);
    /// assert_eq!(out.read_value().unwrap(), "fr=France");
    /// ```
    pub fn add_global_store<K, V, KC, VC, TE, S>(
        &mut self,
        store: impl StoreBuilder,
        source: SourceSpec<K, V, KC, VC, TE>,
        processor_name: impl Into<String>,
        supplier: S,
    ) -> &mut Self
    where
        K: Clone + 'static,
        V: Clone + 'static,
        KC: Codec<K>,
        VC: Codec<V>,
        TE: TimestampExtractor<K, V>,
        S: ProcessorSupplier,
    {
        let source_name = source.name.clone();
        let processor_name = processor_name.into();
        let store_name = store.name().to_string();
        self.add_source_spec(source);
        self.add_processor(processor_name.clone(), supplier, [source_name.clone()]);
        self.add_state_store(store, [processor_name.clone()]);
        self.global_stores
            .push((source_name, processor_name, store_name));
        self
    }

    /// Connects a processor to stores already (or later) added.
    pub fn connect_processor_and_state_stores<S>(&mut self, processor: &str, stores: S) -> &mut Self
    where
        S: IntoIterator,
        S::Item: AsRef<str>,
    {
        for store in stores {
            self.store_links
                .push((processor.to_string(), store.as_ref().to_string()));
        }
        self
    }

    /// Declares `topic` internal (see [`InternalTopic`]).
    pub(crate) fn add_internal_topic(&mut self, topic: &str, partitions: Option<u32>) -> &mut Self {
        self.internal_topics.push(InternalTopic {
            name: topic.to_string(),
            partitions,
        });
        self
    }

    /// Declares that the input topics of `nodes` (found through their ancestors) must be
    /// co-partitioned — the two sides of a join (Kafka Streams' `copartitionSources`): at start
    /// their partition counts must be equal, and an internal topic among them gets the count
    /// of the others.
    pub(crate) fn copartition<I, S>(&mut self, nodes: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.copartition_groups
            .push(nodes.into_iter().map(Into::into).collect());
        self
    }

    /// Records a problem found while writing an operation into the builder; [`build`](Self::build)
    /// reports it with its own checks.
    pub(crate) fn report(&mut self, error: TopologyError) {
        self.reported.push(error);
    }

    /// Checks the topology and returns it, or every problem found.
    pub fn build(mut self) -> Result<Topology, TopologyErrors> {
        let mut errors = std::mem::take(&mut self.reported);
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if node.name.is_empty() {
                errors.push(TopologyError::EmptyName);
            } else if index.insert(&node.name, i).is_some() {
                errors.push(TopologyError::DuplicateName {
                    name: node.name.clone(),
                });
            }
        }
        self.check_topics(&mut errors);

        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if !matches!(node.kind, NodeKind::Source { .. }) && node.parents.is_empty() {
                errors.push(TopologyError::NoParent {
                    node: node.name.clone(),
                });
            }
            for parent_name in &node.parents {
                let Some(&p) = index.get(parent_name.as_str()) else {
                    errors.push(TopologyError::UnknownParent {
                        node: node.name.clone(),
                        parent: parent_name.clone(),
                    });
                    continue;
                };
                let parent = &self.nodes[p];
                if parents[i].contains(&p) {
                    errors.push(TopologyError::DuplicateParent {
                        node: node.name.clone(),
                        parent: parent_name.clone(),
                    });
                    continue;
                }
                match (parent.output, node.input) {
                    (None, _) => errors.push(TopologyError::SinkAsParent {
                        node: node.name.clone(),
                        parent: parent_name.clone(),
                    }),
                    (Some(out), Some(input)) if !out.same(&input) => {
                        errors.push(TopologyError::TypeMismatch {
                            parent: parent_name.clone(),
                            child: node.name.clone(),
                            parent_key: out.key_name,
                            parent_value: out.value_name,
                            child_key: input.key_name,
                            child_value: input.value_name,
                        })
                    }
                    _ => {}
                }
                parents[i].push(p);
            }
        }
        if !self
            .nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::Source { .. }))
        {
            errors.push(TopologyError::NoSource);
        }
        if let Some(cycle) = find_cycle(&parents) {
            errors.push(TopologyError::Cycle {
                nodes: cycle.iter().map(|&i| self.nodes[i].name.clone()).collect(),
            });
        }
        let node_stores = self.check_stores(&index, &mut errors);
        let global_stores = self.check_global_stores(&index, &parents, &mut errors);
        if !errors.is_empty() {
            return Err(TopologyErrors(errors));
        }

        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (child, ps) in parents.iter().enumerate() {
            for &p in ps {
                children[p].push(child);
            }
        }
        let nodes: Vec<NodeDef> = self
            .nodes
            .into_iter()
            .zip(parents)
            .zip(children)
            .zip(node_stores)
            .map(|(((pending, parents), children), stores)| NodeDef {
                name: Arc::from(pending.name.as_str()),
                kind: pending.kind,
                parents,
                children,
                stores,
                factory: pending.factory,
            })
            .collect();
        let stores = self
            .stores
            .into_iter()
            .map(|builder| StoreDef { builder })
            .collect();
        Ok(Topology::new(
            nodes,
            stores,
            self.internal_topics,
            global_stores,
            self.copartition_groups,
        ))
    }

    /// Checks the global stores (Kafka Streams' `addGlobalStore` rules): one topic, logging
    /// off, a key-value store, connected to its own processor only, and nothing downstream of
    /// the source and the processor.
    fn check_global_stores(
        &self,
        index: &HashMap<&str, usize>,
        parents: &[Vec<usize>],
        errors: &mut Vec<TopologyError>,
    ) -> Vec<GlobalStoreDef> {
        let mut defs = Vec::new();
        for (source, processor, store) in &self.global_stores {
            let (Some(&s), Some(&p)) = (index.get(source.as_str()), index.get(processor.as_str()))
            else {
                continue;
            };
            if let NodeKind::Source { topics } = &self.nodes[s].kind
                && topics.len() != 1
            {
                errors.push(TopologyError::GlobalSourceTopics {
                    source_name: source.clone(),
                    topics: topics.clone(),
                });
            }
            if let Some(builder) = self.stores.iter().find(|b| b.name() == store) {
                if builder.logging() {
                    errors.push(TopologyError::GlobalStoreLogging {
                        store: store.clone(),
                    });
                }
                if !matches!(
                    builder.kind(),
                    StoreKind::KeyValue | StoreKind::TimestampedKeyValue
                ) {
                    errors.push(TopologyError::GlobalStoreKind {
                        store: store.clone(),
                        kind: builder.kind(),
                    });
                }
            }
            for (user, used) in &self.store_links {
                if used == store && user != processor {
                    errors.push(TopologyError::GlobalStoreConnected {
                        store: store.clone(),
                        processor: user.clone(),
                    });
                }
            }
            for (child, ps) in parents.iter().enumerate() {
                for &parent in ps {
                    let allowed = parent == s && child == p;
                    if (parent == s || parent == p) && !allowed {
                        errors.push(TopologyError::GlobalNodeAsParent {
                            node: self.nodes[child].name.clone(),
                            parent: self.nodes[parent].name.clone(),
                        });
                    }
                }
            }
            defs.push(GlobalStoreDef {
                source: s,
                processor: p,
                store: store.clone(),
            });
        }
        defs
    }

    fn check_topics(&self, errors: &mut Vec<TopologyError>) {
        let mut readers: HashMap<&str, &str> = HashMap::new();
        for node in &self.nodes {
            let topics: Vec<&str> = match &node.kind {
                NodeKind::Source { topics } => {
                    if topics.is_empty() {
                        errors.push(TopologyError::NoTopics {
                            source_name: node.name.clone(),
                        });
                    }
                    topics.iter().map(String::as_str).collect()
                }
                NodeKind::Sink {
                    target: SinkTarget::Topic(topic),
                } => vec![topic.as_str()],
                _ => Vec::new(),
            };
            for topic in &topics {
                if !valid_topic_name(topic) {
                    errors.push(TopologyError::InvalidTopicName {
                        node: node.name.clone(),
                        topic: topic.to_string(),
                    });
                }
            }
            if let NodeKind::Source { .. } = node.kind {
                for topic in topics {
                    if let Some(first) = readers.insert(topic, &node.name) {
                        errors.push(TopologyError::TopicReadTwice {
                            topic: topic.to_string(),
                            first: first.to_string(),
                            second: node.name.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Checks store declarations and returns each node's connected store names, in the order
    /// connected.
    fn check_stores(
        &self,
        index: &HashMap<&str, usize>,
        errors: &mut Vec<TopologyError>,
    ) -> Vec<Vec<String>> {
        let mut node_stores: Vec<Vec<String>> = vec![Vec::new(); self.nodes.len()];
        let mut seen = HashSet::new();
        for store in &self.stores {
            if !seen.insert(store.name()) {
                errors.push(TopologyError::DuplicateStore {
                    store: store.name().to_string(),
                });
            }
        }
        for (processor, store) in &self.store_links {
            let (processor, store) = (processor.as_str(), store.as_str());
            if !seen.contains(store) {
                errors.push(TopologyError::UnknownStore {
                    processor: processor.to_string(),
                    store: store.to_string(),
                });
                continue;
            }
            match index.get(processor) {
                Some(&i) if matches!(self.nodes[i].kind, NodeKind::Processor) => {
                    if !node_stores[i].iter().any(|s| s == store) {
                        node_stores[i].push(store.to_string());
                    }
                }
                _ => errors.push(TopologyError::StoreOnNonProcessor {
                    store: store.to_string(),
                    node: processor.to_string(),
                }),
            }
        }
        node_stores
    }
}

/// A type's name without its path or generic arguments, as Java's simple class name.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path).to_string()
}

/// Kafka's rule for topic names.
pub(crate) fn valid_topic_name(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// A cycle in the parent graph, as node indices in forward order, if there is one.
fn find_cycle(parents: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; parents.len()];
    for start in 0..parents.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS along parent edges; `path` holds the active chain.
        let mut path = vec![(start, 0usize)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if let Some(&p) = parents[node].get(*next) {
                *next += 1;
                match marks[p] {
                    Mark::New => {
                        marks[p] = Mark::Active;
                        path.push((p, 0));
                    }
                    Mark::Active => {
                        let at = path.iter().position(|&(n, _)| n == p).unwrap_or(0);
                        // `path` runs child → parent; a cycle reads parent → child.
                        let mut cycle: Vec<usize> = path[at..].iter().map(|&(n, _)| n).collect();
                        cycle.reverse();
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                path.pop();
            }
        }
    }
    None
}
