//! The option objects of DSL operations — Kafka Streams' `Consumed`, `Produced`, `Grouped`,
//! `Materialized`, `Repartitioned` — with codecs in place of serdes.
//!
//! An option object's codecs are either *inherited* ([`Inherit`], the default: the codec the
//! stream already carries, or the type's default codec) or named with `with_codecs`,
//! `with_key_codec` or `with_value_codec` ([`Explicit`]). Which codec ends up used is decided by
//! the types, so a codec that does not fit the data is a compile error.

use std::time::Duration;

use crate::codec::Codec;

/// "Use the codec the stream already has" — the default codec choice of every option object.
///
/// ```
/// use streams_core::codec::Utf8;
/// use streams_core::dsl::{CodecChoice, Inherit};
/// // Inheriting keeps the stream's codec.
/// let codec: Utf8 = <Inherit as CodecChoice<String, Utf8>>::choose(Inherit, Utf8);
/// # let _ = codec;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inherit;

/// A codec named explicitly in an option object.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::dsl::{Explicit, Produced};
/// // `with_codecs` makes both choices explicit: they override the stream's codecs.
/// let produced: Produced<Explicit<Utf8>, Explicit<I64>> = Produced::with(Utf8, I64);
/// # let _ = produced;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Explicit<C>(pub C);

/// A codec choice for values of type `T`, given the codec `I` that would be inherited: the
/// inherited one ([`Inherit`]) or an explicit one ([`Explicit`]). A choice that cannot encode
/// `T` does not compile.
///
/// ```
/// use streams_core::codec::{Codec, I64, Utf8};
/// use streams_core::dsl::{CodecChoice, Explicit, Inherit};
/// fn chosen<C: CodecChoice<i64, I64>>(choice: C) -> C::Codec {
///     choice.choose(I64)
/// }
/// let mut buf = Vec::new();
/// chosen(Inherit).encode(&7, &mut buf).unwrap();
/// chosen(Explicit(I64)).encode(&7, &mut buf).unwrap();
/// assert_eq!(buf.len(), 16);
/// # let _ = Utf8;
/// ```
pub trait CodecChoice<T, I> {
    /// The codec chosen.
    type Codec: Codec<T>;
    /// Resolves the choice.
    fn choose(self, inherited: I) -> Self::Codec;
}

impl<T, I: Codec<T>> CodecChoice<T, I> for Inherit {
    type Codec = I;
    fn choose(self, inherited: I) -> I {
        inherited
    }
}

impl<T, I, C: Codec<T>> CodecChoice<T, I> for Explicit<C> {
    type Codec = C;
    fn choose(self, _inherited: I) -> C {
        self.0
    }
}

macro_rules! codec_options {
    ($(#[$doc:meta])* $ty:ident, $more:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default)]
        pub struct $ty<KC = Inherit, VC = Inherit> {
            pub(crate) name: Option<String>,
            pub(crate) key_codec: KC,
            pub(crate) value_codec: VC,
            pub(crate) more: $more,
        }

        impl $ty {
            /// Options with inherited codecs and a generated name.
            pub fn new() -> Self {
                Self::default()
            }

            /// Options with the name `name` and inherited codecs.
            pub fn named(name: impl Into<String>) -> Self {
                Self::default().with_name(name)
            }

            /// Options with both codecs named.
            pub fn with<KC2, VC2>(key_codec: KC2, value_codec: VC2) -> $ty<Explicit<KC2>, Explicit<VC2>> {
                Self::default().with_codecs(key_codec, value_codec)
            }
        }

        impl<KC, VC> $ty<KC, VC> {
            /// Names the operation (and what is derived from the name).
            pub fn with_name(mut self, name: impl Into<String>) -> Self {
                self.name = Some(name.into());
                self
            }

            /// Uses `key_codec` for keys and `value_codec` for values.
            pub fn with_codecs<KC2, VC2>(
                self,
                key_codec: KC2,
                value_codec: VC2,
            ) -> $ty<Explicit<KC2>, Explicit<VC2>> {
                $ty {
                    name: self.name,
                    key_codec: Explicit(key_codec),
                    value_codec: Explicit(value_codec),
                    more: self.more,
                }
            }

            /// Uses `key_codec` for keys.
            pub fn with_key_codec<C>(self, key_codec: C) -> $ty<Explicit<C>, VC> {
                $ty {
                    name: self.name,
                    key_codec: Explicit(key_codec),
                    value_codec: self.value_codec,
                    more: self.more,
                }
            }

            /// Uses `value_codec` for values.
            pub fn with_value_codec<C>(self, value_codec: C) -> $ty<KC, Explicit<C>> {
                $ty {
                    name: self.name,
                    key_codec: self.key_codec,
                    value_codec: Explicit(value_codec),
                    more: self.more,
                }
            }
        }
    };
}

codec_options!(
    /// How a stream is written to a topic — Kafka Streams' `Produced`: the codecs and the sink
    /// node's name.
    ///
    /// ```
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::dsl::{Produced, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// let counts = builder.stream::<String, i64>("counts");
    /// counts.to_with("counts-out", Produced::with(Utf8, I64).with_name("counts-sink"));
    /// ```
    Produced,
    ()
);

codec_options!(
    /// How a stream is grouped — Kafka Streams' `Grouped`: the codecs of the repartition topic
    /// (when one is needed) and the name, which also names that topic
    /// (`<name>-repartition`) and the key-selecting node of `group_by`.
    ///
    /// ```
    /// use streams_core::codec::{I64, Utf8};
    /// use streams_core::dsl::{Grouped, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, i64>("amounts")
    ///     .group_by_with(|_id, amount| amount % 10, Grouped::with(I64, I64).with_name("by-digit"))
    ///     .count();
    /// let described = builder.build().unwrap().describe().to_string();
    /// assert!(described.contains("by-digit-repartition"));
    /// # let _ = Utf8;
    /// ```
    Grouped,
    ()
);

codec_options!(
    /// How a stream is joined with a table — Kafka Streams' `Joined`: the name of the join node
    /// (which also names the repartition topic, `<name>-repartition`, when the stream's key
    /// changed before the join), the codecs of that repartition topic (and of the grace-period
    /// buffer), and the grace period ([`with_grace_period`](Self::with_grace_period), for a
    /// join with a versioned table).
    ///
    /// ```
    /// use streams_core::dsl::{Joined, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// let customers = builder.table::<String, String>("customers");
    /// builder
    ///     .stream::<String, String>("orders")
    ///     .select_key(|_id, order| order.split(',').next().unwrap_or_default().to_string())
    ///     .join_with(&customers, |order, customer| format!("{order} by {customer}"), Joined::named("enrich"))
    ///     .to("enriched-orders");
    /// let described = builder.build().unwrap().describe().to_string();
    /// assert!(described.contains("(topic: enrich-repartition)"));
    /// ```
    Joined,
    JoinedOptions
);

codec_options!(
    /// An explicit repartition — Kafka Streams' `Repartitioned`: the topic's name
    /// (`<name>-repartition`), codecs and partition count.
    ///
    /// ```
    /// use streams_core::dsl::{Repartitioned, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .repartition_with(Repartitioned::named("clicks-by-user").with_partitions(12))
    ///     .to("clicks-out");
    /// let described = builder.build().unwrap().describe().to_string();
    /// assert!(described.contains("(topic: clicks-by-user-repartition)"));
    /// ```
    Repartitioned,
    RepartitionOptions
);

codec_options!(
    /// How a table or an aggregate keeps its state — Kafka Streams' `Materialized`: the store's
    /// name (which makes it queryable and names its changelog topic), the codecs, the store type,
    /// changelog logging and the changelog topic's configs, the record cache and (for windows)
    /// the retention.
    ///
    /// ```
    /// use streams_core::dsl::Materialized;
    /// let counts = Materialized::named("counts").in_memory().with_caching_disabled();
    /// # let _ = counts;
    /// ```
    Materialized,
    StoreOptions
);

/// The grace period of a stream-table join.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JoinedOptions {
    pub(crate) grace: Option<Duration>,
}

impl<KC, VC> Joined<KC, VC> {
    /// Waits `grace` for out-of-order table updates before joining — Kafka Streams'
    /// `Joined.withGracePeriod` (KIP-923), for a join with a *versioned* table
    /// ([`Materialized::versioned`]; with another table, building the topology fails with
    /// [`TopologyError::GraceWithoutVersionedTable`](crate::topology::TopologyError::GraceWithoutVersionedTable)).
    ///
    /// Stream records wait in a buffer (a store named `<join name>-Buffer`, with a changelog)
    /// until the join's stream time — the largest timestamp of the stream records buffered so
    /// far — has passed their timestamp by `grace`; then they are joined in timestamp order, each
    /// with the table's version as of its own timestamp, so table updates that arrived meanwhile,
    /// even out of order, are seen. A record already older than stream time minus `grace` is
    /// joined at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::{Consumed, Joined, Materialized, StreamsBuilder};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let prices = builder.table_with::<String, String, _, _, _, _>(
    ///     "prices",
    ///     Consumed::new(),
    ///     Materialized::named("prices").versioned(Duration::from_secs(60)),
    /// );
    /// builder
    ///     .stream::<String, String>("orders")
    ///     .join_with(&prices, |order, price| format!("{order} at {price}"),
    ///         Joined::named("priced").with_grace_period(Duration::from_secs(5)))
    ///     .to("priced-orders");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let (orders, prices) = (
    ///     driver.create_input_topic("orders", Utf8, Utf8),
    ///     driver.create_input_topic("prices", Utf8, Utf8),
    /// );
    /// let pen = || "pen".to_string();
    /// orders.pipe_input_at(pen(), "order 1".to_string(), 2_000).unwrap(); // waits
    /// prices.pipe_input_at(pen(), "2 EUR".to_string(), 1_000).unwrap(); // late, still in time
    /// orders.pipe_input_at(pen(), "order 2".to_string(), 7_000).unwrap(); // releases order 1
    /// let out = driver.create_output_topic("priced-orders", Utf8, Utf8);
    /// assert_eq!(out.read_values_to_list().unwrap(), ["order 1 at 2 EUR"]);
    /// ```
    pub fn with_grace_period(mut self, grace: Duration) -> Self {
        self.more.grace = Some(grace);
        self
    }
}

/// The partition count of an explicit repartition topic.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RepartitionOptions {
    pub(crate) partitions: Option<u32>,
}

impl<KC, VC> Repartitioned<KC, VC> {
    /// Creates the topic with `partitions` partitions instead of the upstream topics' count.
    pub fn with_partitions(mut self, partitions: u32) -> Self {
        self.more.partitions = Some(partitions);
        self
    }
}

/// Where a materialized store keeps its data.
///
/// ```
/// use streams_core::dsl::Materialized;
/// // StoreType::InMemory: the counts live in memory and are restored from the changelog.
/// let in_memory = Materialized::named("counts").in_memory();
/// // StoreType::RocksDb (the default): the counts live in RocksDB on local disk.
/// let on_disk = Materialized::named("counts").persistent();
/// # let _ = (in_memory, on_disk);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    /// RocksDB on local disk (Kafka Streams' default; needs the `rocksdb` feature, else the
    /// store is kept in memory).
    RocksDb,
    /// A sorted map in memory, restored from the changelog after a restart.
    InMemory,
}

#[derive(Debug, Clone)]
pub(crate) struct StoreOptions {
    pub(crate) store_type: StoreType,
    pub(crate) logging: bool,
    /// Configs of the changelog topic, in the order set, one per key.
    pub(crate) changelog_configs: Vec<(String, String)>,
    pub(crate) caching: bool,
    pub(crate) retention: Option<Duration>,
    /// A versioned store keeping old versions this long.
    pub(crate) versioned: Option<Duration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            store_type: StoreType::RocksDb,
            logging: true,
            changelog_configs: Vec::new(),
            caching: true,
            retention: None,
            versioned: None,
        }
    }
}

impl StoreOptions {
    /// Adds `store` configured by these options (see [`configure`](Self::configure)), connected
    /// to `processor`. These stores are never versioned: asking for one is reported.
    pub(crate) fn add_configured<B: ConfigurableStore + crate::state::StoreBuilder>(
        &self,
        builder: &mut crate::topology::TopologyBuilder,
        store: B,
        caching: bool,
        processor: &str,
    ) {
        if self.versioned.is_some() {
            builder.report(crate::topology::TopologyError::VersionedStoreNotSupported {
                store: store.name().to_string(),
                operation: format!("processor `{processor}`"),
            });
        }
        builder.add_state_store(self.configure(store, caching), [processor]);
    }

    /// Applies the logging and caching options to a store builder (`caching`: whether the store
    /// is cached, which windowed aggregations decide with more than the option).
    pub(crate) fn configure<B: ConfigurableStore>(&self, store: B, caching: bool) -> B {
        let store = if self.logging {
            self.changelog_configs
                .iter()
                .fold(store.with_logging_enabled(), |store, (key, value)| {
                    store.with_changelog_config(key, value)
                })
        } else {
            store.with_logging_disabled()
        };
        if caching {
            store.with_caching_enabled()
        } else {
            store.with_caching_disabled()
        }
    }
}

/// The logging and caching options of the store builders the DSL materializes into.
pub(crate) trait ConfigurableStore: Sized {
    fn with_logging_enabled(self) -> Self;
    fn with_logging_disabled(self) -> Self;
    fn with_changelog_config(self, key: &str, value: &str) -> Self;
    fn with_caching_enabled(self) -> Self;
    fn with_caching_disabled(self) -> Self;
}

macro_rules! configurable_store {
    ($($builder:ident),*) => {$(
        impl<K, V, KC, VC> ConfigurableStore for crate::state::$builder<K, V, KC, VC> {
            fn with_logging_enabled(self) -> Self {
                self.with_logging_enabled()
            }
            fn with_logging_disabled(self) -> Self {
                self.with_logging_disabled()
            }
            fn with_changelog_config(self, key: &str, value: &str) -> Self {
                self.with_changelog_config(key, value)
            }
            fn with_caching_enabled(self) -> Self {
                self.with_caching_enabled()
            }
            fn with_caching_disabled(self) -> Self {
                self.with_caching_disabled()
            }
        }
    )*};
}

configurable_store!(
    KeyValueStoreBuilder,
    WindowStoreBuilder,
    SessionStoreBuilder
);

impl<KC, VC> Materialized<KC, VC> {
    /// Keeps the store in memory.
    pub fn in_memory(mut self) -> Self {
        self.more.store_type = StoreType::InMemory;
        self
    }

    /// Keeps the store in RocksDB (the default).
    pub fn persistent(mut self) -> Self {
        self.more.store_type = StoreType::RocksDb;
        self
    }

    /// Logs every write to the changelog topic `<application.id>-<store>-changelog` (the
    /// default).
    pub fn with_logging_enabled(mut self) -> Self {
        self.more.logging = true;
        self
    }

    /// Keeps no changelog: the store is not restored after a failure or move. Forgets the
    /// changelog configs set so far (as Kafka Streams does).
    pub fn with_logging_disabled(mut self) -> Self {
        self.more.logging = false;
        self.more.changelog_configs.clear();
        self
    }

    /// Sets the changelog topic config `key` to `value` (replacing an earlier value of the same
    /// key) and turns logging on — Kafka Streams' `withLoggingEnabled(Map.of(key, value))`, one
    /// config at a time.
    ///
    /// The runtime creates `<application.id>-<store>-changelog` with these configs over its
    /// defaults: `cleanup.policy` (`compact`; `compact,delete` for window and session stores)
    /// and, for window and session stores, `retention.ms` (the store's retention plus one day;
    /// a `retention.ms` set here is used as is). A topic that already exists keeps its configs.
    ///
    /// ```
    /// use streams_core::dsl::{Materialized, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .group_by_key()
    ///     .count_with(
    ///         Materialized::named("click-counts")
    ///             .with_changelog_config("min.insync.replicas", "2")
    ///             .with_changelog_config("segment.bytes", "104857600"),
    ///     );
    /// # builder.build().unwrap();
    /// ```
    pub fn with_changelog_config(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.more.logging = true;
        crate::state::set_config(&mut self.more.changelog_configs, key.into(), value.into());
        self
    }

    /// Puts the record cache in front of the store (the default): updates are folded per key
    /// and forwarded on commit or eviction.
    pub fn with_caching_enabled(mut self) -> Self {
        self.more.caching = true;
        self
    }

    /// Forwards every update at once.
    pub fn with_caching_disabled(mut self) -> Self {
        self.more.caching = false;
        self
    }

    /// How long a window store keeps windows (at least window size plus grace).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.more.retention = Some(retention);
        self
    }

    /// Keeps a table's rows in a versioned store (KIP-889) that keeps old versions for
    /// `history_retention` — Kafka Streams'
    /// `Materialized.as(Stores.persistentVersionedKeyValueStore(name, historyRetention))`
    /// (RocksDB; with [`in_memory`](Self::in_memory), a versioned store in memory). For
    /// [`StreamsBuilder::table_with`](super::StreamsBuilder::table_with) and
    /// [`KStream::to_table_with`](super::KStream::to_table_with); other operations report
    /// [`TopologyError::VersionedStoreNotSupported`](crate::topology::TopologyError::VersionedStoreNotSupported).
    ///
    /// A stream joined with a versioned table is joined with the row as of each stream
    /// record's timestamp, not the latest row; with
    /// [`Joined::with_grace_period`] it also waits for late table updates. The table takes
    /// updates out of order into its history and forwards them marked as not the newest
    /// ([`Change::is_latest`](super::Change::is_latest)): table-table joins and `group_by` skip
    /// those, as Kafka Streams' do (KIP-914); a table-table join reads the other side's newest
    /// row. Updates older than stream time minus the history retention are dropped (not
    /// forwarded either). Versioned stores have no record cache, so every update is forwarded at
    /// once (as in Kafka Streams).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::codec::Utf8;
    /// use streams_core::dsl::{Consumed, Materialized, StreamsBuilder};
    /// use streams_core::testing::TopologyTestDriver;
    ///
    /// let builder = StreamsBuilder::new();
    /// let rates = builder.table_with::<String, String, _, _, _, _>(
    ///     "rates",
    ///     Consumed::new(),
    ///     Materialized::named("rates").versioned(Duration::from_secs(3_600)),
    /// );
    /// builder
    ///     .stream::<String, String>("payments")
    ///     .left_join(&rates, |amount, rate: Option<String>| format!("{amount} @ {}", rate.unwrap_or_default()))
    ///     .to("converted");
    /// let driver = TopologyTestDriver::new(builder.build().unwrap()).unwrap();
    /// let (rates, payments) = (
    ///     driver.create_input_topic("rates", Utf8, Utf8),
    ///     driver.create_input_topic("payments", Utf8, Utf8),
    /// );
    /// let usd = || "USD".to_string();
    /// rates.pipe_input_at(usd(), "0.90".to_string(), 1_000).unwrap();
    /// rates.pipe_input_at(usd(), "0.95".to_string(), 5_000).unwrap();
    /// payments.pipe_input_at(usd(), "10".to_string(), 3_000).unwrap(); // the rate at 3 s
    /// let out = driver.create_output_topic("converted", Utf8, Utf8);
    /// assert_eq!(out.read_values_to_list().unwrap(), ["10 @ 0.90"]);
    /// let store = driver.versioned_key_value_store::<String, String>("rates").unwrap();
    /// assert_eq!(store.get(&usd()).unwrap().unwrap().value, "0.95");
    /// ```
    pub fn versioned(mut self, history_retention: Duration) -> Self {
        self.more.versioned = Some(history_retention);
        self
    }
}

/// How a source reads its topic — Kafka Streams' `Consumed`: the codecs and the source node's
/// name.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::dsl::{Consumed, StreamsBuilder};
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream_with::<String, i64, _, _>("clicks", Consumed::with(Utf8, I64).with_name("clicks-source"));
/// # let _ = clicks;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Consumed<KC = crate::codec::Inferred, VC = crate::codec::Inferred> {
    pub(crate) name: Option<String>,
    pub(crate) key_codec: KC,
    pub(crate) value_codec: VC,
}

impl Consumed {
    /// Default codecs of the types and a generated name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Default codecs and the source name `name`.
    pub fn named(name: impl Into<String>) -> Self {
        Self::default().with_name(name)
    }
}

impl<KC, VC> Consumed<KC, VC> {
    /// Reads keys with `key_codec` and values with `value_codec`.
    pub fn with(key_codec: KC, value_codec: VC) -> Self {
        Consumed {
            name: None,
            key_codec,
            value_codec,
        }
    }

    /// Names the source node.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// How a stream-stream join keeps its records and names its nodes — Kafka Streams'
/// `StreamJoined`: the processor names (`with_name`: `<name>-this-windowed`, `<name>-merge`,
/// …, and the repartition topics `<name>-left-repartition` / `<name>-right-repartition`), the
/// store names (`with_store_name`: `<store>-this-join-store`, …), in-memory stores instead of
/// RocksDB, and changelog logging.
///
/// ```
/// use std::time::Duration;
/// use streams_core::dsl::{JoinWindows, StreamJoined, StreamsBuilder};
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream::<String, String>("clicks");
/// let views = builder.stream::<String, String>("views");
/// clicks
///     .join_stream_with(
///         &views,
///         |click, view| format!("{click} after {view}"),
///         JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(60)),
///         StreamJoined::new().with_name("click-view").with_store_name("click-view-store"),
///     )
///     .to("clicks-after-views");
/// let described = builder.build().unwrap().describe().to_string();
/// assert!(described.contains("click-view-this-join (stores: [click-view-store-other-join-store])"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StreamJoined {
    pub(crate) name: Option<String>,
    pub(crate) store_name: Option<String>,
    pub(crate) this_store_in_memory: Option<String>,
    pub(crate) other_store_in_memory: Option<String>,
    pub(crate) logging: Option<bool>,
}

impl StreamJoined {
    /// Generated names, RocksDB stores, changelogs on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the join's processors (and repartition topics).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Names the join's stores after `store_name` (Kafka Streams' `StreamJoined.as`).
    pub fn with_store_name(mut self, store_name: impl Into<String>) -> Self {
        self.store_name = Some(store_name.into());
        self
    }

    /// Keeps this stream's records in an in-memory window store named `store` (Kafka Streams'
    /// `withThisStoreSupplier(Stores.inMemoryWindowStore(..))`); the shared store of a left or
    /// outer join is then in memory too, named after it.
    pub fn with_this_store_in_memory(mut self, store: impl Into<String>) -> Self {
        self.this_store_in_memory = Some(store.into());
        self
    }

    /// Keeps the other stream's records in an in-memory window store named `store`.
    pub fn with_other_store_in_memory(mut self, store: impl Into<String>) -> Self {
        self.other_store_in_memory = Some(store.into());
        self
    }

    /// No changelog topics for the join's stores (they are not restored after a failure).
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = Some(false);
        self
    }
}

/// How a foreign-key join names its nodes, topics and stores — Kafka Streams' `TableJoined`:
/// with a name `n`, the internal topics are `n-subscription-registration-topic` and
/// `n-subscription-response-topic`, the subscription store `n-subscription-store`, the result
/// node `n-result`.
///
/// ```
/// use streams_core::dsl::{StreamsBuilder, TableJoined};
/// let builder = StreamsBuilder::new();
/// let orders = builder.table::<String, String>("orders");
/// let products = builder.table::<String, String>("products");
/// orders
///     .join_foreign_key_with(
///         &products,
///         |_order_id, order| order.split(',').next().map(str::to_string),
///         |order, product| format!("{order} -> {product}"),
///         TableJoined::named("order-product"),
///         streams_core::dsl::Materialized::named("orders-with-products"),
///     )
///     .to_stream()
///     .to("enriched-orders");
/// let described = builder.build().unwrap().describe().to_string();
/// assert!(described.contains("order-product-subscription-registration-topic"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct TableJoined {
    pub(crate) name: Option<String>,
}

impl TableJoined {
    /// Generated names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the join's nodes, topics and stores after `name`.
    pub fn named(name: impl Into<String>) -> Self {
        TableJoined {
            name: Some(name.into()),
        }
    }
}
