use std::fmt;

/// One problem found while building a topology. [`TopologyBuilder::build`](super::TopologyBuilder::build)
/// reports every problem at once, as [`TopologyErrors`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// Two nodes share a name.
    #[error("node name `{name}` is used twice; node names must be unique")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A node's name is empty.
    #[error("a node has an empty name")]
    EmptyName,
    /// A node names a parent that does not exist.
    #[error("node `{node}` names parent `{parent}`, which is not a node of this topology")]
    UnknownParent {
        /// The node.
        node: String,
        /// The missing parent.
        parent: String,
    },
    /// A processor or sink has no parent, so nothing can reach it.
    #[error("node `{node}` has no parent; processors and sinks need at least one")]
    NoParent {
        /// The node.
        node: String,
    },
    /// A sink is named as a parent; sinks have no children.
    #[error("node `{node}` names sink `{parent}` as parent; a sink cannot have children")]
    SinkAsParent {
        /// The node.
        node: String,
        /// The sink.
        parent: String,
    },
    /// A node lists the same parent twice.
    #[error("node `{node}` names parent `{parent}` twice")]
    DuplicateParent {
        /// The node.
        node: String,
        /// The parent.
        parent: String,
    },
    /// The processors form a cycle.
    #[error("the processors {} form a cycle", quoted(.nodes))]
    Cycle {
        /// The nodes on the cycle, in order.
        nodes: Vec<String>,
    },
    /// The topology has no source.
    #[error("the topology has no source; add one with `add_source`")]
    NoSource,
    /// A source reads no topic.
    #[error("source `{source_name}` reads no topic")]
    NoTopics {
        /// The source.
        source_name: String,
    },
    /// A topic name Kafka would reject.
    #[error(
        "node `{node}` names topic `{topic}`, which is not a valid Kafka topic name \
         (1 to 249 characters of a-z, A-Z, 0-9, '.', '_', '-'; not '.' or '..')"
    )]
    InvalidTopicName {
        /// The node.
        node: String,
        /// The topic.
        topic: String,
    },
    /// Two sources read the same topic.
    #[error(
        "topic `{topic}` is read by both source `{first}` and source `{second}`; a topic can have one source"
    )]
    TopicReadTwice {
        /// The topic.
        topic: String,
        /// The first source.
        first: String,
        /// The second source.
        second: String,
    },
    /// A parent's output types differ from a child's input types.
    #[error(
        "`{parent}` forwards ({parent_key}, {parent_value}) but `{child}` takes ({child_key}, {child_value})"
    )]
    TypeMismatch {
        /// The parent node.
        parent: String,
        /// The child node.
        child: String,
        /// The parent's output key type.
        parent_key: &'static str,
        /// The parent's output value type.
        parent_value: &'static str,
        /// The child's input key type.
        child_key: &'static str,
        /// The child's input value type.
        child_value: &'static str,
    },
    /// Two state stores share a name.
    #[error("state store `{store}` is added twice")]
    DuplicateStore {
        /// The store.
        store: String,
    },
    /// A processor is connected to a store that was never added.
    #[error("processor `{processor}` is connected to state store `{store}`, which was never added")]
    UnknownStore {
        /// The processor.
        processor: String,
        /// The store.
        store: String,
    },
    /// A store is connected to a node that does not exist or is not a processor.
    #[error(
        "state store `{store}` is connected to `{node}`, which is not a processor of this topology"
    )]
    StoreOnNonProcessor {
        /// The store.
        store: String,
        /// The node.
        node: String,
    },
    /// A windowed aggregation's windows have size zero (Kafka Streams' `TimeWindows` throws
    /// `IllegalArgumentException`).
    #[error("windowed aggregation `{node}`: the window size is 0 ms; it must be larger than zero")]
    WindowSizeZero {
        /// The aggregation's node.
        node: String,
    },
    /// A windowed aggregation's hopping windows advance by zero or by more than their size
    /// (Kafka Streams' `TimeWindows.advanceBy` throws `IllegalArgumentException`).
    #[error(
        "windowed aggregation `{node}`: the windows advance by {advance_ms} ms; the advance must \
         be more than zero and at most the window size ({size_ms} ms)"
    )]
    InvalidWindowAdvance {
        /// The aggregation's node.
        node: String,
        /// The window size (ms).
        size_ms: i64,
        /// The advance (ms).
        advance_ms: i64,
    },
    /// A window or session store is given a retention period shorter than its windows need
    /// (Kafka Streams throws `IllegalArgumentException`).
    #[error(
        "the retention period of store `{store}` is {retention_ms} ms; it must be no smaller \
         than {minimum}"
    )]
    RetentionTooShort {
        /// The store.
        store: String,
        /// The retention period given (ms).
        retention_ms: i64,
        /// What the windows need.
        minimum: MinimumRetention,
    },
    /// A window or session store would keep its windows for 0 ms: windows of no length (a
    /// session gap or sliding time difference of 0) with no grace period and no retention
    /// given. Kafka Streams accepts this, but what such a store shows then depends on its
    /// record cache; this implementation keeps windowed stores for at least 1 ms.
    #[error(
        "the retention period of store `{store}` is 0 ms (windows of no length and no grace \
         period); a windowed store keeps its windows for at least 1 ms: give the windows a grace \
         period or the store a retention (`Materialized::with_retention`)"
    )]
    RetentionZero {
        /// The store.
        store: String,
    },
    /// A suppression waits for windows to close (`Suppressed::until_window_closes`) on a table
    /// that no windowed aggregation made, e.g. a windowed table read from a topic: there is no
    /// grace period to wait for (Kafka Streams throws `TopologyException`).
    #[error(
        "suppression `{node}` waits for windows to close, but table `{table}` comes from no \
         windowed aggregation; window close time is only defined for windowed computations"
    )]
    WindowCloseUndefined {
        /// The suppression's node.
        node: String,
        /// The table it suppresses.
        table: String,
    },
    /// A cogroup combines grouped streams made by different
    /// [`StreamsBuilder`](crate::dsl::StreamsBuilder)s: every stream of one program must come
    /// from its one builder.
    #[error(
        "cogroup `{node}` combines grouped streams of different StreamsBuilders; every input of \
         a cogroup must come from the builder of its first one"
    )]
    CogroupAcrossBuilders {
        /// The cogroup's merge node.
        node: String,
    },
    /// A join looks rows up in a table that keeps none of its own: an unmaterialized `filter`
    /// or `map_values` of another table.
    #[error(
        "join `{join}` looks rows up in table `{table}`, which keeps no rows of its own; \
         materialize it (e.g. `filter_with(.., Materialized::named(..))`)"
    )]
    JoinTableNotMaterialized {
        /// The join's node.
        join: String,
        /// The table's node.
        table: String,
    },
    /// A stream-table join has a grace period (`Joined::with_grace_period`) but its table is not
    /// versioned: only a versioned table can answer as of an older time (Kafka Streams throws
    /// `IllegalArgumentException: KTable must be versioned to use a grace period in a stream
    /// table join`).
    #[error(
        "join `{join}` has a grace period, but table `{table}` is not versioned; a grace period \
         needs a versioned table (`Materialized::versioned`)"
    )]
    GraceWithoutVersionedTable {
        /// The join's node.
        join: String,
        /// The table's node.
        table: String,
    },
    /// An operation was asked to keep its state in a versioned store
    /// (`Materialized::versioned`), which only tables read from a topic (`table_with`,
    /// `to_table_with`) support here.
    #[error(
        "store `{store}` of {operation} is asked to be versioned; versioned stores are supported \
         for tables read from a topic (`StreamsBuilder::table_with`, `KStream::to_table_with`)"
    )]
    VersionedStoreNotSupported {
        /// The store.
        store: String,
        /// The operation (e.g. `"an aggregation"`).
        operation: String,
    },
    /// A global store's source reads other than exactly one topic.
    #[error(
        "global store source `{source_name}` reads {}; a global store is read from exactly one topic",
        if .topics.is_empty() { "no topic".to_string() } else { listed(.topics) }
    )]
    GlobalSourceTopics {
        /// The source.
        source_name: String,
        /// The topics it reads.
        topics: Vec<String>,
    },
    /// A global store has logging enabled: its source topic is its changelog.
    #[error(
        "global store `{store}` has logging enabled; its source topic is its changelog, so build \
         it with `with_logging_disabled()`"
    )]
    GlobalStoreLogging {
        /// The store.
        store: String,
    },
    /// A global store that is not a key-value store.
    #[error("global store `{store}` is a {kind:?} store; only key-value stores can be global")]
    GlobalStoreKind {
        /// The store.
        store: String,
        /// Its kind.
        kind: crate::state::StoreKind,
    },
    /// A global store is connected to another processor than the one that writes it.
    #[error(
        "global store `{store}` is connected to processor `{processor}`; every processor can \
         read a global store without being connected to it, and only its own processor writes it"
    )]
    GlobalStoreConnected {
        /// The store.
        store: String,
        /// The processor connected to it.
        processor: String,
    },
    /// A node is a child of a global store's source or processor: nothing runs downstream of
    /// a global store.
    #[error(
        "node `{node}` names `{parent}` as parent, which is the source or processor of a global \
         store; nothing can be downstream of a global store"
    )]
    GlobalNodeAsParent {
        /// The node.
        node: String,
        /// The global store's node.
        parent: String,
    },
}

/// The shortest retention period a windowed aggregation's store may have, and why — part of
/// [`TopologyError::RetentionTooShort`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MinimumRetention {
    /// Time windows (tumbling or hopping): the window size plus the grace period.
    TimeWindows {
        /// The window size (ms).
        size_ms: i64,
        /// The grace period (ms).
        grace_ms: i64,
    },
    /// Sliding windows: twice the time difference plus the grace period.
    SlidingWindows {
        /// The time difference (ms).
        time_difference_ms: i64,
        /// The grace period (ms).
        grace_ms: i64,
    },
    /// Session windows: the inactivity gap plus the grace period.
    SessionWindows {
        /// The inactivity gap (ms).
        gap_ms: i64,
        /// The grace period (ms).
        grace_ms: i64,
    },
}

impl MinimumRetention {
    /// The minimum (ms).
    pub fn ms(&self) -> i64 {
        match *self {
            MinimumRetention::TimeWindows { size_ms, grace_ms } => size_ms.saturating_add(grace_ms),
            MinimumRetention::SlidingWindows {
                time_difference_ms,
                grace_ms,
            } => time_difference_ms
                .saturating_mul(2)
                .saturating_add(grace_ms),
            MinimumRetention::SessionWindows { gap_ms, grace_ms } => {
                gap_ms.saturating_add(grace_ms)
            }
        }
    }
}

impl fmt::Display for MinimumRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.ms();
        match *self {
            MinimumRetention::TimeWindows { size_ms, grace_ms } => write!(
                f,
                "the window size plus the grace period ({size_ms} ms + {grace_ms} ms = {ms} ms)"
            ),
            MinimumRetention::SlidingWindows {
                time_difference_ms,
                grace_ms,
            } => write!(
                f,
                "2 × the time difference plus the grace period \
                 (2 × {time_difference_ms} ms + {grace_ms} ms = {ms} ms)"
            ),
            MinimumRetention::SessionWindows { gap_ms, grace_ms } => write!(
                f,
                "the inactivity gap plus the grace period ({gap_ms} ms + {grace_ms} ms = {ms} ms)"
            ),
        }
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn listed(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every problem found while building a topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyErrors(pub(crate) Vec<TopologyError>);

impl TopologyErrors {
    /// The problems, in the order found.
    pub fn errors(&self) -> &[TopologyError] {
        &self.0
    }
}

impl IntoIterator for TopologyErrors {
    type Item = TopologyError;
    type IntoIter = std::vec::IntoIter<TopologyError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for TopologyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "invalid topology: {one}"),
            many => {
                write!(f, "invalid topology ({} problems):", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for TopologyErrors {}
