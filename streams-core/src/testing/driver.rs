use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::Codec;
use crate::error::StreamsError;
use crate::processor::PunctuationType;
use crate::processor::TaskId;
use crate::processor::node::RawRecord;
use crate::processor::task_state::{NoSinks, OutputRecord, RecordCollector, TaskState, WallClock};
use crate::record::Headers;
use crate::state::global::{GlobalAccess, GlobalEngines};
use crate::state::{
    KeyValueStore, RecordCache, SessionStore, StoreContext, TempDir, TimestampedKeyValueStore,
    VersionedKeyValueStore, WindowStore,
};
use crate::topology::instance::{TaskGraph, global_store_views};
use crate::topology::{TopicHandle, Topology};

use super::captured::Captured;
use super::input::TestInputTopic;
use super::output::TestOutputTopic;

/// Where records written to a topic the topology reads go, as Kafka Streams' driver feeds them
/// back: into the task (a source input) or into the global stores (a global source input).
#[derive(Debug, Clone, Copy)]
enum Feed {
    Task(usize),
    Global(usize),
}

/// What sinks wrote, per topic, shared by the collector and the driver.
struct Written {
    /// The topics sources read, with where their records go: records written to them are fed
    /// back.
    sources: Vec<(Arc<str>, Feed)>,
    /// Per topic written to, in order of first write.
    outputs: Vec<Output>,
    /// Records not yet placed in `outputs`: once a record to a fed-back topic is written, the
    /// records after it wait until it has been processed (depth first, as in Kafka Streams'
    /// driver), so each topic's order is the order Kafka Streams' driver gives.
    deferred: Captured,
}

/// The records sinks wrote to one topic.
struct Output {
    topic: Arc<str>,
    /// Where records written to `topic` go, if the topology reads it.
    source: Option<Feed>,
    records: Captured,
}

impl Written {
    fn output_index(&mut self, topic: &str) -> usize {
        if let Some(i) = self.outputs.iter().position(|o| *o.topic == *topic) {
            return i;
        }
        let source = self
            .sources
            .iter()
            .find(|(t, _)| **t == *topic)
            .map(|(_, s)| *s);
        self.outputs.push(Output {
            topic: Arc::from(topic),
            source,
            records: Captured::default(),
        });
        self.outputs.len() - 1
    }
}

struct Collector {
    written: Rc<RefCell<Written>>,
    /// The output written last: usually the next record's too.
    last: usize,
}

impl RecordCollector for Collector {
    fn send(&mut self, record: OutputRecord<'_>) -> Result<(), StreamsError> {
        let mut written = self.written.borrow_mut();
        let i = match written.outputs.get(self.last) {
            Some(o) if *o.topic == *record.topic => self.last,
            _ => {
                self.last = written.output_index(record.topic);
                self.last
            }
        };
        let headers = record.headers.clone();
        let (key, value, timestamp) = (record.key, record.value, record.timestamp);
        if written.deferred.len() == 0 && written.outputs[i].source.is_none() {
            written.outputs[i]
                .records
                .push(key, value, timestamp, headers);
        } else {
            written.deferred.push_to(i, key, value, timestamp, headers);
        }
        Ok(())
    }

    /// The driver's topics have one partition.
    fn partition_count(&mut self, _topic: &str) -> Result<i32, StreamsError> {
        Ok(1)
    }
}

struct MockClock(Rc<Cell<i64>>);

impl WallClock for MockClock {
    fn now_ms(&self) -> i64 {
        self.0.get()
    }
}

/// Options for [`TopologyTestDriver::with_options`].
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// The application id processors see (default `"test-driver"`).
    pub application_id: String,
    /// The mock wall clock's start, in ms since the epoch (default 0).
    pub wall_clock_start_ms: i64,
    /// The record cache's size, `statestore.cache.max.bytes` (default 10 MiB; 0 makes every
    /// cached store write through at once).
    pub cache_max_bytes: usize,
    /// How often (mock wall-clock ms) a left or outer stream-stream join emits records whose
    /// window closed (default 0, as Kafka Streams' driver; a running application uses
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`, 1000 by default).
    pub outer_join_emit_interval_ms: i64,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            application_id: "test-driver".to_string(),
            wall_clock_start_ms: 0,
            cache_max_bytes: RecordCache::DEFAULT_MAX_BYTES,
            outer_join_emit_interval_ms: 0,
        }
    }
}

/// The global stores' task — Kafka Streams' `GlobalStateUpdateTask`: the global sources and
/// the processors writing the global stores, with a stream time of their own.
struct GlobalTask {
    graph: TaskGraph,
    task: TaskState,
    /// Next offset per source input of the graph.
    offsets: Vec<i64>,
}

pub(crate) struct Inner {
    graph: TaskGraph,
    task: TaskState,
    /// The global stores' task, if the topology has global stores.
    global: Option<GlobalTask>,
    clock: Rc<Cell<i64>>,
    written: Rc<RefCell<Written>>,
    /// An empty buffer with capacity, swapped with the deferred records on each capture.
    spare: Captured,
    /// Next offset per source input of the graph.
    offsets: Vec<i64>,
    /// The global stores' engines (kept until every task's stores are gone).
    #[expect(
        dead_code,
        reason = "owned here so the engines outlive every store layer over them"
    )]
    engines: GlobalEngines,
    /// The temporary state directory, removed last.
    _dir: TempDir,
}

/// Runs a topology in-process, record by record, with a mock wall clock. See the
/// [module docs](super).
pub struct TopologyTestDriver {
    inner: RefCell<Inner>,
}

impl std::fmt::Debug for TopologyTestDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopologyTestDriver").finish_non_exhaustive()
    }
}

impl TopologyTestDriver {
    /// A driver with default options; calls every processor's `init`.
    pub fn new(topology: Topology) -> Result<Self, StreamsError> {
        Self::with_options(topology, DriverOptions::default())
    }

    /// A driver with an application id and a wall-clock start.
    pub fn with_options(topology: Topology, options: DriverOptions) -> Result<Self, StreamsError> {
        let id = TaskId {
            subtopology: 0,
            partition: 0,
        };
        let topology = topology.for_application(&options.application_id);
        let global_nodes = topology.global_nodes();
        let members: Vec<usize> = (0..topology.nodes().len())
            .filter(|i| !global_nodes.contains(i))
            .collect();
        let instantiate = |reason: String| StreamsError::Instantiate { task: id, reason };
        // Stores live in a temporary state directory, removed when the driver drops; caching
        // stores share one record cache, flushed after every input record as Kafka Streams'
        // driver commits after each.
        let dir = TempDir::new("streams-driver").map_err(|e| instantiate(e.to_string()))?;
        let clock = Rc::new(Cell::new(options.wall_clock_start_ms));
        let application_id: Arc<str> = Arc::from(options.application_id.as_str());
        let engines = GlobalEngines::default();

        // The global stores first: tasks read them from `init` on.
        let (global, globals) = if global_nodes.is_empty() {
            (None, None)
        } else {
            let instantiate = |reason: String| StreamsError::Instantiate {
                task: TaskId::GLOBAL,
                reason,
            };
            let access = |writable| GlobalAccess {
                engines: engines.clone(),
                writable,
            };
            let context =
                StoreContext::global(Arc::clone(&application_id), dir.path(), access(true));
            let (graph, stores) =
                TaskGraph::with_global_stores(&topology, &context).map_err(instantiate)?;
            let mut task = TaskState::new(
                TaskId::GLOBAL,
                Arc::clone(&application_id),
                Box::new(MockClock(Rc::clone(&clock))),
                Box::new(NoSinks),
                stores,
            );
            graph.init(&mut task)?;
            let readers =
                StoreContext::global(Arc::clone(&application_id), dir.path(), access(false));
            let views =
                global_store_views(&topology, &readers).map_err(|e| instantiate(e.to_string()))?;
            let offsets = vec![0; graph.source_count()];
            (
                Some(GlobalTask {
                    graph,
                    task,
                    offsets,
                }),
                Some(Rc::new(views)),
            )
        };

        let store_context = StoreContext::new(id, Arc::clone(&application_id), dir.path())
            .with_record_cache(RecordCache::new(options.cache_max_bytes));
        let (graph, stores) =
            TaskGraph::with_stores(&topology, &members, &store_context).map_err(instantiate)?;
        let global_sources = global.iter().flat_map(|g| {
            (0..g.graph.source_count())
                .map(|i| (Arc::clone(g.graph.source_topic(i)), Feed::Global(i)))
        });
        let written = Rc::new(RefCell::new(Written {
            sources: (0..graph.source_count())
                .map(|i| (Arc::clone(graph.source_topic(i)), Feed::Task(i)))
                .chain(global_sources)
                .collect(),
            outputs: Vec::new(),
            deferred: Captured::default(),
        }));
        let collector = Collector {
            written: Rc::clone(&written),
            last: 0,
        };
        let mut task = TaskState::new(
            id,
            application_id,
            Box::new(MockClock(Rc::clone(&clock))),
            Box::new(collector),
            stores,
        );
        task.globals = globals;
        task.outer_join_emit_interval_ms = options.outer_join_emit_interval_ms;
        graph.init(&mut task)?;
        let mut inner = Inner {
            task,
            global,
            clock,
            written,
            spare: Captured::default(),
            offsets: vec![0; graph.source_count()],
            graph,
            engines,
            _dir: dir,
        };
        inner.capture_and_reprocess()?;
        Ok(TopologyTestDriver {
            inner: RefCell::new(inner),
        })
    }

    /// A typed handle to pipe records into `topic`, starting at timestamp 0 without
    /// auto-advance.
    pub fn create_input_topic<K, V, KC, VC>(
        &self,
        topic: &str,
        key_codec: KC,
        value_codec: VC,
    ) -> TestInputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        TestInputTopic::new(self, topic, key_codec, value_codec, 0, Duration::ZERO)
    }

    /// An input topic whose records get timestamps from `start_ms`, advancing by
    /// `auto_advance` after each record, as Kafka Streams' `createInputTopic` with a start
    /// instant and auto-advance.
    pub fn create_input_topic_with_time<K, V, KC, VC>(
        &self,
        topic: &str,
        key_codec: KC,
        value_codec: VC,
        start_ms: i64,
        auto_advance: Duration,
    ) -> TestInputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        TestInputTopic::new(self, topic, key_codec, value_codec, start_ms, auto_advance)
    }

    /// A typed handle to read what sinks wrote to `topic`.
    pub fn create_output_topic<K, V, KC, VC>(
        &self,
        topic: &str,
        key_codec: KC,
        value_codec: VC,
    ) -> TestOutputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        TestOutputTopic::new(self, topic, key_codec, value_codec)
    }

    /// A test input topic on the (first) topic of `handle` (what `topology!` returns for a
    /// source), with its codecs.
    pub fn input<K, V, KC, VC>(
        &self,
        handle: &TopicHandle<K, V, KC, VC>,
    ) -> TestInputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.create_input_topic(
            handle.topic(),
            handle.key_codec().clone(),
            handle.value_codec().clone(),
        )
    }

    /// A test input topic on `handle`'s topic whose records get timestamps from `start_ms`,
    /// auto-advancing.
    pub fn input_with_time<K, V, KC, VC>(
        &self,
        handle: &TopicHandle<K, V, KC, VC>,
        start_ms: i64,
        auto_advance: Duration,
    ) -> TestInputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.create_input_topic_with_time(
            handle.topic(),
            handle.key_codec().clone(),
            handle.value_codec().clone(),
            start_ms,
            auto_advance,
        )
    }

    /// A test output topic on the (first) topic of `handle` (what `topology!` returns for a
    /// sink), with its codecs.
    pub fn output<K, V, KC, VC>(
        &self,
        handle: &TopicHandle<K, V, KC, VC>,
    ) -> TestOutputTopic<'_, K, V>
    where
        K: 'static,
        V: 'static,
        KC: Codec<K>,
        VC: Codec<V>,
    {
        self.create_output_topic(
            handle.topic(),
            handle.key_codec().clone(),
            handle.value_codec().clone(),
        )
    }

    /// Moves the mock wall clock forward and fires due wall-clock punctuations (each at most
    /// once, with the new time).
    pub fn advance_wall_clock_time(&self, by: Duration) -> Result<(), StreamsError> {
        let mut inner = self.inner.borrow_mut();
        let now = inner
            .clock
            .get()
            .saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        inner.clock.set(now);
        let Inner { graph, task, .. } = &mut *inner;
        graph.punctuate(PunctuationType::WallClockTime, now, task)?;
        graph.commit(task)?;
        inner.capture_and_reprocess()
    }

    /// The mock wall clock, in ms.
    pub fn wall_clock_ms(&self) -> i64 {
        self.inner.borrow().clock.get()
    }

    /// The task's stream time (-1 before the first record).
    pub fn stream_time(&self) -> i64 {
        self.inner.borrow().task.stream_time
    }

    /// How many records processors dropped on purpose so far (Kafka Streams' `dropped-records`):
    /// null keys at aggregations, nulls a DSL source's types cannot hold, late records.
    pub fn dropped_records(&self) -> u64 {
        self.inner.borrow().task.dropped_records
    }

    /// The topics sinks have written to so far, sorted.
    pub fn produced_topic_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .borrow()
            .written
            .borrow()
            .outputs
            .iter()
            .map(|o| o.topic.to_string())
            .collect();
        names.sort();
        names
    }

    /// A key-value store of the topology, to inspect or seed it; `None` if no such store with
    /// these types exists.
    pub fn key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Option<KeyValueStore<K, V>> {
        self.store_handle(name)
    }

    /// A timestamped key-value store of the topology; `None` if no such store with these types
    /// exists.
    pub fn timestamped_key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Option<TimestampedKeyValueStore<K, V>> {
        self.store_handle(name)
    }

    /// A window store of the topology; `None` if no such store with these types exists.
    pub fn window_store<K: 'static, V: 'static>(&self, name: &str) -> Option<WindowStore<K, V>> {
        self.store_handle(name)
    }

    /// A session store of the topology; `None` if no such store with these types exists.
    pub fn session_store<K: 'static, V: 'static>(&self, name: &str) -> Option<SessionStore<K, V>> {
        self.store_handle(name)
    }

    /// A versioned key-value store of the topology (e.g. a table
    /// [`Materialized::versioned`](crate::dsl::Materialized::versioned)); `None` if no such store
    /// with these types exists.
    pub fn versioned_key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Option<VersionedKeyValueStore<K, V>> {
        self.store_handle(name)
    }

    fn store_handle<H: Clone + 'static>(&self, name: &str) -> Option<H> {
        let inner = self.inner.borrow();
        inner
            .task
            .stores
            .get(name)
            .or_else(|| inner.global.as_ref()?.task.stores.get(name))
            .and_then(|s| s.downcast_ref::<H>())
            .cloned()
    }

    pub(crate) fn pipe(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        self.inner
            .borrow_mut()
            .process(topic, key, value, timestamp, headers)
    }

    pub(crate) fn with_output<R>(&self, topic: &str, f: impl FnOnce(&mut Captured) -> R) -> R {
        let inner = self.inner.borrow();
        let mut written = inner.written.borrow_mut();
        match written.outputs.iter_mut().find(|o| *o.topic == *topic) {
            Some(output) => f(&mut output.records),
            None => f(&mut Captured::default()),
        }
    }
}

impl Drop for TopologyTestDriver {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        inner.graph.close(&mut inner.task);
        if let Some(global) = &mut inner.global {
            global.graph.close(&mut global.task);
        }
        // The fields drop in order: the tasks' stores (their layers over the global engines
        // among them), the engines, then the directory they all live in.
    }
}

impl GlobalTask {
    /// Applies a record of a global store's topic to the store at once, as Kafka Streams'
    /// driver does: no output, no punctuation, the stream tasks' time untouched.
    fn process(
        &mut self,
        source: usize,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        let offset = self.offsets[source];
        self.offsets[source] += 1;
        let raw = RawRecord {
            topic: self.graph.source_topic(source),
            partition: 0,
            offset,
            timestamp,
            key,
            value,
            headers,
        };
        self.graph.process(source, raw, &mut self.task)?;
        self.graph.commit(&mut self.task)
    }
}

impl Inner {
    fn process(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        if let Some(source) = self.graph.source_index(topic) {
            return self.process_source(source, key, value, timestamp, headers);
        }
        if let Some(global) = &mut self.global
            && let Some(source) = global.graph.source_index(topic)
        {
            return global.process(source, key, value, timestamp, headers);
        }
        Err(StreamsError::UnknownTopic {
            topic: topic.to_string(),
            reason: "no source of the topology reads it",
        })
    }

    fn process_source(
        &mut self,
        source: usize,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        let offset = self.offsets[source];
        self.offsets[source] += 1;
        let raw = RawRecord {
            topic: self.graph.source_topic(source),
            partition: 0,
            offset,
            timestamp,
            key,
            value,
            headers,
        };
        self.graph.process(source, raw, &mut self.task)?;
        let stream_time = self.task.stream_time;
        self.graph
            .punctuate(PunctuationType::StreamTime, stream_time, &mut self.task)?;
        self.task.commit_requested = false;
        self.graph.commit(&mut self.task)?;
        self.capture_and_reprocess()
    }

    /// Moves what sinks wrote into the output topics, and feeds records written to topics the
    /// topology reads back into it, depth first, as Kafka Streams' driver does.
    ///
    /// If processing a fed-back record fails, the records written before the failure are all
    /// still captured; the error is returned after them.
    fn capture_and_reprocess(&mut self) -> Result<(), StreamsError> {
        if self.written.borrow().deferred.len() == 0 {
            // Every record is in its topic's output already.
            return Ok(());
        }
        // Swap in the spare buffer so the sinks' next writes reuse its capacity.
        let mut records = std::mem::take(&mut self.spare);
        std::mem::swap(&mut records, &mut self.written.borrow_mut().deferred);
        let mut result = Ok(());
        records.drain_with(|r| {
            let again = {
                let mut written = self.written.borrow_mut();
                let output = &mut written.outputs[r.topic];
                let again = output
                    .source
                    .filter(|_| result.is_ok())
                    .map(|source| (source, r.headers.clone()));
                output.records.push(r.key, r.value, r.timestamp, r.headers);
                again
            };
            if let Some((source, headers)) = again {
                result = match (source, &mut self.global) {
                    (Feed::Task(source), _) => {
                        self.process_source(source, r.key, r.value, r.timestamp, headers)
                    }
                    (Feed::Global(source), Some(global)) => {
                        global.process(source, r.key, r.value, r.timestamp, headers)
                    }
                    (Feed::Global(_), None) => Ok(()),
                };
            }
        });
        self.spare = records;
        result
    }
}
