//! The DSL: Kafka Streams' `StreamsBuilder`, `KStream`, `KTable` and their grouped forms, typed,
//! lowered onto [`Topology`](crate::topology::Topology) and the Processor API.
//!
//! ```
//! use streams_core::dsl::{Materialized, StreamsBuilder};
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream::<String, String>("text-input")
//!     .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
//!     .group_by(|_key, word| word.clone())
//!     .count_with(Materialized::named("counts-store"))
//!     .to_stream()
//!     .to("wordcount-output");
//! let topology = builder.build().unwrap();
//! assert!(topology.describe().to_string().contains("KSTREAM-FLATMAPVALUES-0000000001"));
//! ```
//!
//! | Kafka Streams (Java) | here |
//! |---|---|
//! | `builder.stream("t")` | `builder.stream::<K, V>("t")` |
//! | `builder.stream("t", Consumed.with(ks, vs))` | `builder.stream_with("t", Consumed::with(kc, vc))` |
//! | `builder.table("t", Materialized.as("s"))` | `builder.table_with("t", Consumed::new(), Materialized::named("s"))` |
//! | `stream.filter(p, Named.as("n"))` | `stream.named("n").filter(p)` |
//! | `mapValues`, `flatMapValues`, `selectKey`, `flatMap`, `peek`, `foreach`, `merge` | `map_values`, `flat_map_values`, `select_key`, `flat_map`, `peek`, `foreach`, `merge` |
//! | `map((k, v) -> KeyValue.pair(..))` | `map(\|k, v\| (.., ..))` |
//! | `split().branch(p, Branched.as("a")).defaultBranch()` | `split().branch_with(p, Branched::named("a")).default_branch()` |
//! | `to("t", Produced.with(ks, vs))` | `to_with("t", Produced::with(kc, vc))` |
//! | `groupByKey(Grouped.as("g")).count(Materialized.as("s"))` | `group_by_key_with(Grouped::named("g")).count_with(Materialized::named("s"))` |
//! | `reduce(r)`, `aggregate(init, agg)` | `reduce(r)`, `aggregate(init, agg)` |
//! | `Materialized.as("s").withLoggingEnabled(Map.of("min.insync.replicas", "2"))` | `Materialized::named("s").with_changelog_config("min.insync.replicas", "2")` |
//! | `builder.globalTable("t", Materialized.as("s"))` | `builder.global_table_with("t", Consumed::new(), Materialized::named("s"))` (or `global_table::<K, V>("t")`) |
//! | `builder.addGlobalStore(storeBuilder, "t", Consumed.with(ks, vs), supplier)` | `builder.add_global_store(store, "t", Consumed::with(kc, vc), supplier)` |
//! | `stream.join(globalTable, (k, v) -> fk, joiner)`, `leftJoin(.., Named.as("n"))` | `stream.join_global(&global, \|k, v\| fk, joiner)`, `left_join_global_with(&global, .., .., "n")` |
//! | `table.toStream()` | `table.to_stream()` (values are `Option<V>`: `None` for a delete) |
//! | `table.groupBy(kv).reduce(add, sub)` | `table.group_by(kv).reduce(add, sub)` |
//! | `windowedBy(TimeWindows.ofSizeAndGrace(s, g).advanceBy(a))`, `SlidingWindows`, `SessionWindows` | `windowed_by(TimeWindows::of_size_and_grace(s, g).advance_by(a))`, … (one `windowed_by` for all three) |
//! | `.emitStrategy(EmitStrategy.onWindowClose())` | `.emit_strategy(EmitStrategy::OnWindowClose)` |
//! | `sessionWindowed.aggregate(init, agg, merger)` | `aggregate(init, agg, merger)` |
//! | `g1.cogroup(agg1).cogroup(g2, agg2).aggregate(init, Named.as("n"), Materialized.as("s"))` | `g1.cogroup(agg1).cogroup(&g2, agg2).named("n").aggregate_with(init, Materialized::named("s"))` (also `.windowed_by(TimeWindows/SlidingWindows/SessionWindows)` before `aggregate`) |
//! | `suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))` | `suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))` (windowed tables only: a compile error otherwise) |
//! | `stream.join(table, j, Joined.as("n"))`, `leftJoin` | `stream.join_with(&table, j, Joined::named("n"))`, `left_join` (joiner gets `Option<VT>`) |
//! | `stream.join(other, j, JoinWindows.ofTimeDifferenceAndGrace(d, g), StreamJoined.as("s"))`, `leftJoin`, `outerJoin` | `join_stream_with(&other, j, JoinWindows::of_time_difference_and_grace(d, g), StreamJoined::new().with_store_name("s"))`, `left_join_stream`, `outer_join_stream` |
//! | `table.join(other, j)`, `leftJoin`, `outerJoin` | `join(&other, j)`, `left_join`, `outer_join`; `*_with(.., Materialized)` |
//! | `table.join(other, fkExtractor, j, TableJoined.as("n"), Materialized.as("s"))`, `leftJoin` | `join_foreign_key_with(&other, extractor, j, TableJoined::named("n"), Materialized::named("s"))`, `left_join_foreign_key` |
//! | `WindowedSerdes.timeWindowedSerdeFrom(String.class, size)` | `TimeWindowedCodec::new(Utf8, size)` (a windowed table's default key codec) |
//!
//! Codecs are chosen by the types: each operation inherits the stream's codecs (those it was read
//! with) until it makes new keys or values, which then use their type's default codec
//! ([`Inferred`](crate::codec::Inferred)); option objects override either. A codec that does not
//! fit is a compile error, not a `ClassCastException` at run time.
//!
//! Internal topics (repartition, changelog) appear in `describe()` as Kafka Streams shows them and
//! are named `<application.id>-<name>` at run time, so an application can take over a Kafka
//! Streams application's topics.

mod builder;
mod change;
#[cfg(test)]
mod cogroup_tests;
mod cogrouped_stream;
mod cogrouped_windowed;
#[cfg(test)]
mod error_tests;
mod foreign_key_join;
mod global_table;
mod graph;
mod grouped_stream;
mod grouped_table;
mod kstream;
mod ktable;
mod names;
mod options;
mod processors;
mod session_stream;
mod split;
mod stream_stream_join;
mod stream_table_join;
mod suppress;
mod table_table_join;
#[cfg(test)]
mod versioned_tests;
mod windowed_codec;
mod windowed_stream;
#[cfg(test)]
mod windowed_tests;
mod windows;

pub use builder::StreamsBuilder;
pub use change::{Change, ChangeCodec};
pub use cogrouped_stream::CogroupedKStream;
pub use cogrouped_windowed::{SessionWindowedCogroupedKStream, TimeWindowedCogroupedKStream};
pub use global_table::GlobalKTable;
pub use grouped_stream::KGroupedStream;
pub use grouped_table::KGroupedTable;
pub use kstream::KStream;
pub use ktable::KTable;
pub use options::{
    CodecChoice, Consumed, Explicit, Grouped, Inherit, Joined, Materialized, Produced,
    Repartitioned, StoreType, StreamJoined, TableJoined,
};
pub use session_stream::SessionWindowedKStream;
pub use split::{Branched, BranchedKStream};
#[doc(hidden)]
pub use suppress::SuppressSpecs;
pub use suppress::{
    BufferConfig, EmitEarlyWhenFull, ShutDownWhenFull, Suppressed, Suppression, UntilTimeLimit,
    UntilWindowCloses, WhenFull,
};
pub use windowed_codec::{SessionWindowedCodec, TimeWindowedCodec};
pub use windowed_stream::TimeWindowedKStream;
pub use windows::{
    CogroupWindowedBy, EmitStrategy, JoinWindows, SessionWindows, SlidingWindows, TimeWindows,
    WindowedBy,
};

pub use crate::state::{Window, Windowed};
