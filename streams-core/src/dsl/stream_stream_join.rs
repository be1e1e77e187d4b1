//! Joining two streams within a time window: `KStream::join_stream`, `left_join_stream`,
//! `outer_join_stream` and their `_with` forms (Kafka Streams' `KStream#join(KStream, ..,
//! JoinWindows)`, `leftJoin`, `outerJoin`).

use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Bytes, Codec, Inferred};
use crate::state::Stores;
use crate::topology::TopologyBuilder;

use super::graph::add_repartition;
use super::kstream::KStream;
use super::names;
use super::options::StreamJoined;
use super::processors::stateless::PassThrough;
use super::processors::stream_stream_join::{
    JoinWindowed, StreamJoinSide, StreamJoiner, TimeTrackers,
};
use super::windows::JoinWindows;

/// Inner, left or outer: whether the left (this) and right (other) sides keep records without
/// partner.
#[derive(Clone, Copy)]
struct Outer {
    left: bool,
    right: bool,
}

impl<K, V, KC, VC> KStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K> + Clone + 'static,
    VC: Codec<V> + Clone + 'static,
{
    /// Joins each record with the records of `other` with the same key within `windows` (an
    /// inner join): one result per pair, with the later of the two timestamps. Both streams'
    /// records are kept in window stores for the window plus its grace period. If an upstream
    /// operation changed a side's key, that side is repartitioned first.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::{JoinWindows, StreamsBuilder};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let views = builder.stream::<String, String>("ad-views");
    /// let clicks = builder.stream::<String, String>("ad-clicks");
    /// clicks
    ///     .join_stream(
    ///         &views,
    ///         |click, view| format!("{click} after {view}"),
    ///         JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60)),
    ///     )
    ///     .to("clicked-views");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let v = driver.create_input_topic("ad-views", Utf8, Utf8);
    /// let c = driver.create_input_topic("ad-clicks", Utf8, Utf8);
    /// v.pipe_input_at("ad-1".into(), "view".into(), 1_000).unwrap();
    /// c.pipe_input_at("ad-1".into(), "click".into(), 30_000).unwrap();
    /// c.pipe_input_at("ad-1".into(), "late click".into(), 90_000).unwrap(); // 89 s after
    /// let out = driver.create_output_topic("clicked-views", Utf8, Utf8);
    /// assert_eq!(out.read_values_to_list().unwrap(), ["click after view"]);
    /// ```
    pub fn join_stream<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
    {
        self.join_stream_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`join_stream`](Self::join_stream) with names and stores as `joined` says.
    pub fn join_stream_with<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
        joined: StreamJoined,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(V, VO) -> VR + Send + Sync + 'static,
    {
        let joiner = Arc::new(joiner);
        let reversed = Arc::clone(&joiner);
        self.stream_join(
            other,
            Outer {
                left: false,
                right: false,
            },
            Arc::new(move |v, o| Some(joiner(v?, o?))),
            Arc::new(move |o, v| Some(reversed(v?, o?))),
            windows,
            joined,
        )
    }

    /// Joins each record with the records of `other` within `windows`, and emits a record
    /// that found none, once its window closed, joined with `None` (a left join).
    pub fn left_join_stream<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
    {
        self.left_join_stream_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`left_join_stream`](Self::left_join_stream) with names and stores as `joined` says.
    pub fn left_join_stream_with<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
        joined: StreamJoined,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(V, Option<VO>) -> VR + Send + Sync + 'static,
    {
        let joiner = Arc::new(joiner);
        let reversed = Arc::clone(&joiner);
        self.stream_join(
            other,
            Outer {
                left: true,
                right: false,
            },
            Arc::new(move |v, o| Some(joiner(v?, o))),
            Arc::new(move |o, v| Some(reversed(v?, o))),
            windows,
            joined,
        )
    }

    /// Joins each record with the records of `other` within `windows`, and emits a record of
    /// either side that found none, once its window closed, joined with `None` (an outer join).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::{JoinWindows, StreamsBuilder};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let a = builder.stream::<String, String>("a");
    /// let b = builder.stream::<String, String>("b");
    /// a.outer_join_stream(
    ///     &b,
    ///     |x: Option<String>, y: Option<String>| format!("{x:?}/{y:?}"),
    ///     JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(10)),
    /// )
    /// .to("ab");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let a = driver.create_input_topic("a", Utf8, Utf8);
    /// a.pipe_input_at("k".into(), "x".into(), 0).unwrap();
    /// a.pipe_input_at("k2".into(), "later".into(), 20_000).unwrap(); // closes k's window
    /// let out = driver.create_output_topic("ab", Utf8, Utf8);
    /// assert_eq!(out.read_values_to_list().unwrap(), ["Some(\"x\")/None"]);
    /// ```
    pub fn outer_join_stream<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(Option<V>, Option<VO>) -> VR + Send + Sync + 'static,
    {
        self.outer_join_stream_with(other, joiner, windows, StreamJoined::new())
    }

    /// [`outer_join_stream`](Self::outer_join_stream) with names and stores as `joined` says.
    pub fn outer_join_stream_with<VO, VR, OKC, OVC, F>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        joiner: F,
        windows: JoinWindows,
        joined: StreamJoined,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
        F: Fn(Option<V>, Option<VO>) -> VR + Send + Sync + 'static,
    {
        let joiner = Arc::new(joiner);
        let reversed = Arc::clone(&joiner);
        self.stream_join(
            other,
            Outer {
                left: true,
                right: true,
            },
            Arc::new(move |v, o| Some(joiner(v, o))),
            Arc::new(move |o, v| Some(reversed(v, o))),
            windows,
            joined,
        )
    }

    /// Writes a stream-stream join: Kafka Streams' `KStreamImpl#doJoin` and
    /// `KStreamImplJoin#join` (their names, in their order).
    #[allow(clippy::too_many_lines)]
    fn stream_join<VO, VR, OKC, OVC>(
        &self,
        other: &KStream<K, VO, OKC, OVC>,
        outer: Outer,
        this_joiner: StreamJoiner<V, VO, VR>,
        other_joiner: StreamJoiner<VO, V, VR>,
        windows: JoinWindows,
        joined: StreamJoined,
    ) -> KStream<K, VR, KC, Inferred>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
        OKC: Codec<K> + Clone + 'static,
        OVC: Codec<VO> + Clone + 'static,
    {
        let mut graph = self.graph.borrow_mut();
        let name = joined.name.clone().or_else(|| self.next_name.clone());
        let (kc, vc) = (self.key_codec.clone(), self.value_codec.clone());
        let (okc, ovc) = (other.key_codec.clone(), other.value_codec.clone());
        let this_parent = if self.repartition_required {
            let prefix = name
                .as_ref()
                .map_or(self.node.clone(), |n| format!("{n}-left"));
            add_repartition::<K, V, _, _>(
                &mut graph,
                self.node.clone(),
                &prefix,
                kc.clone(),
                vc.clone(),
                None,
            )
        } else {
            self.node.clone()
        };
        let other_parent = if other.repartition_required {
            let prefix = name
                .as_ref()
                .map_or(other.node.clone(), |n| format!("{n}-right"));
            add_repartition::<K, VO, _, _>(
                &mut graph,
                other.node.clone(),
                &prefix,
                okc,
                ovc.clone(),
                None,
            )
        } else {
            other.node.clone()
        };
        let named = name.as_deref();
        let this_windowed = graph.suffixed_or(named, "-this-windowed", names::WINDOWED);
        let other_windowed = graph.suffixed_or(named, "-other-windowed", names::WINDOWED);
        let (this_prefix, this_suffix) = if outer.right {
            (names::OUTER_THIS, "-outer-this-join")
        } else {
            (names::JOIN_THIS, "-this-join")
        };
        let (other_prefix, other_suffix) = if outer.left {
            (names::OUTER_OTHER, "-outer-other-join")
        } else {
            (names::JOIN_OTHER, "-other-join")
        };
        let this_generated = graph.processor_name(this_prefix);
        let other_generated = graph.processor_name(other_prefix);
        let this_join = named.map_or(this_generated.clone(), |n| format!("{n}{this_suffix}"));
        let other_join = named.map_or(other_generated.clone(), |n| format!("{n}{other_suffix}"));
        let merge = graph.suffixed_or(named, "-merge", names::MERGE);

        let store_name = joined.store_name.as_deref();
        let this_store = joined.this_store_in_memory.clone().unwrap_or_else(|| {
            store_name.map_or(format!("{this_generated}-store"), |s| {
                format!("{s}{this_suffix}-store")
            })
        });
        let other_store = joined.other_store_in_memory.clone().unwrap_or_else(|| {
            store_name.map_or(format!("{other_generated}-store"), |s| {
                format!("{s}{other_suffix}-store")
            })
        });
        let outer_store = outer.left.then(|| {
            let suffix = if outer.right {
                "-outer-shared-join"
            } else {
                "-left-shared-join"
            };
            let base = match (&joined.this_store_in_memory, store_name) {
                (Some(supplied), _) => format!("{supplied}{suffix}"),
                (None, Some(s)) => format!("{s}{suffix}"),
                (None, None) => format!(
                    "{}{}",
                    names::OUTER_SHARED,
                    &this_generated[this_prefix.len()..]
                ),
            };
            format!("{base}-store")
        });
        let logging = joined.logging.unwrap_or(true);
        let trackers = TimeTrackers::default();
        let side = |is_left: bool| {
            let (before, after) = if is_left {
                (windows.before_ms(), windows.after_ms())
            } else {
                (windows.after_ms(), windows.before_ms())
            };
            (before, after)
        };
        let ((this_before, this_after), (other_before, other_after)) = (side(true), side(false));
        let retention = Duration::from_millis(
            u64::try_from(windows.size_ms().saturating_add(windows.grace_ms())).unwrap_or(0),
        );
        let size = Duration::from_millis(u64::try_from(windows.size_ms()).unwrap_or(0));
        let (this_memory, other_memory) = (
            joined.this_store_in_memory.is_some(),
            joined.other_store_in_memory.is_some(),
        );
        let merge_node = merge.clone();
        graph.step(move |b| {
            b.add_processor(
                this_windowed.clone(),
                {
                    let (store, kc) = (Arc::<str>::from(this_store.as_str()), kc.clone());
                    move || JoinWindowed::<K, V, KC> {
                        store_name: Arc::clone(&store),
                        store: None,
                        key_codec: kc.clone(),
                    }
                },
                [this_parent],
            );
            add_join_store::<K, V, _, _>(
                b,
                &this_store,
                (retention, size),
                (kc.clone(), vc.clone()),
                (this_memory, logging),
                &this_windowed,
            );
            b.add_processor(
                other_windowed.clone(),
                {
                    let (store, kc) = (Arc::<str>::from(other_store.as_str()), kc.clone());
                    move || JoinWindowed::<K, VO, KC> {
                        store_name: Arc::clone(&store),
                        store: None,
                        key_codec: kc.clone(),
                    }
                },
                [other_parent],
            );
            add_join_store::<K, VO, _, _>(
                b,
                &other_store,
                (retention, size),
                (kc.clone(), ovc.clone()),
                (other_memory, logging),
                &other_windowed,
            );
            let grace = windows.grace_ms();
            let (windows_before, windows_after) = (windows.before_ms(), windows.after_ms());
            b.add_processor(
                this_join.clone(),
                {
                    let store = Arc::<str>::from(other_store.as_str());
                    let shared = outer_store.as_deref().map(Arc::<str>::from);
                    let (trackers, kc, vc, ovc) =
                        (Arc::clone(&trackers), kc.clone(), vc.clone(), ovc.clone());
                    move || StreamJoinSide {
                        joiner: Arc::clone(&this_joiner),
                        is_left: true,
                        outer: outer.left,
                        join_before_ms: this_before,
                        join_after_ms: this_after,
                        windows_before_ms: windows_before,
                        windows_after_ms: windows_after,
                        grace_ms: grace,
                        other_store_name: Arc::clone(&store),
                        other_store: None,
                        outer_store_name: shared.clone(),
                        outer_store: None,
                        trackers: Arc::clone(&trackers),
                        tracker: None,
                        key_codec: kc.clone(),
                        this_codec: vc.clone(),
                        other_codec: ovc.clone(),
                        types: Default::default(),
                        partners: Vec::new(),
                    }
                },
                [this_windowed.clone()],
            );
            b.add_processor(
                other_join.clone(),
                {
                    let store = Arc::<str>::from(this_store.as_str());
                    let shared = outer_store.as_deref().map(Arc::<str>::from);
                    let (trackers, kc) = (Arc::clone(&trackers), kc.clone());
                    move || StreamJoinSide {
                        joiner: Arc::clone(&other_joiner),
                        is_left: false,
                        outer: outer.right,
                        join_before_ms: other_before,
                        join_after_ms: other_after,
                        windows_before_ms: windows_before,
                        windows_after_ms: windows_after,
                        grace_ms: grace,
                        other_store_name: Arc::clone(&store),
                        other_store: None,
                        outer_store_name: shared.clone(),
                        outer_store: None,
                        trackers: Arc::clone(&trackers),
                        tracker: None,
                        key_codec: kc.clone(),
                        this_codec: ovc.clone(),
                        other_codec: vc.clone(),
                        types: Default::default(),
                        partners: Vec::new(),
                    }
                },
                [other_windowed.clone()],
            );
            b.add_processor(
                merge_node,
                PassThrough::<K, VR>::new,
                [this_join.clone(), other_join.clone()],
            );
            b.copartition([this_windowed, other_windowed]);
            b.connect_processor_and_state_stores(&other_join, [this_store]);
            b.connect_processor_and_state_stores(&this_join, [other_store]);
            if let Some(shared) = outer_store {
                let store = if this_memory {
                    Stores::in_memory_key_value::<Vec<u8>, Vec<u8>, _, _>(&shared, Bytes, Bytes)
                } else {
                    persistent_kv(&shared)
                };
                let store = if logging {
                    store.with_logging_enabled()
                } else {
                    store.with_logging_disabled()
                };
                b.add_state_store(store, [this_join, other_join]);
            }
        });
        drop(graph);
        self.derive(merge, self.key_codec.clone(), Inferred, false)
    }
}

/// Adds one side's window store: every record kept (duplicates too) for the window plus the
/// grace period — Kafka Streams' `StreamJoinedStoreFactory`.
fn add_join_store<K, V, KC, VC>(
    b: &mut TopologyBuilder,
    name: &str,
    (retention, size): (Duration, Duration),
    (key_codec, value_codec): (KC, VC),
    (in_memory, logging): (bool, bool),
    processor: &str,
) where
    K: 'static,
    V: 'static,
    KC: Codec<K>,
    VC: Codec<V>,
{
    #[cfg(feature = "rocksdb")]
    let store = if in_memory {
        Stores::in_memory_window_store::<K, V, _, _>(name, retention, size, key_codec, value_codec)
    } else {
        Stores::persistent_window_store::<K, V, _, _>(name, retention, size, key_codec, value_codec)
    };
    #[cfg(not(feature = "rocksdb"))]
    let store = {
        let _ = in_memory;
        Stores::in_memory_window_store::<K, V, _, _>(name, retention, size, key_codec, value_codec)
    };
    let store = store.with_retain_duplicates();
    let store = if logging {
        store.with_logging_enabled()
    } else {
        store.with_logging_disabled()
    };
    b.add_state_store(store, [processor]);
}

/// The shared store of a left or outer join, on RocksDB (in memory without the `rocksdb`
/// feature).
fn persistent_kv(name: &str) -> crate::state::KeyValueStoreBuilder<Vec<u8>, Vec<u8>, Bytes, Bytes> {
    #[cfg(feature = "rocksdb")]
    return Stores::persistent_key_value::<Vec<u8>, Vec<u8>, _, _>(name, Bytes, Bytes);
    #[cfg(not(feature = "rocksdb"))]
    return Stores::in_memory_key_value::<Vec<u8>, Vec<u8>, _, _>(name, Bytes, Bytes);
}
