//! What `StreamsBuilder::build` reports for programs Kafka Streams refuses while they are built
//! (it throws `IllegalArgumentException` or `TopologyException`): one test per error, with the
//! message a user sees.

use std::time::Duration;

use crate::codec::{I64, Utf8};
use crate::state::Windowed;
use crate::topology::{MinimumRetention, TopologyError, TopologyErrors};

use super::{
    BufferConfig, Consumed, Joined, KGroupedStream, Materialized, SessionWindows, SlidingWindows,
    StreamsBuilder, Suppressed, TimeWindowedCodec, TimeWindows,
};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn grouped(builder: &StreamsBuilder) -> KGroupedStream<String, String, Utf8, Utf8> {
    builder
        .stream_with::<String, String, _, _>("input", Consumed::with(Utf8, Utf8))
        .group_by_key()
}

/// The errors of the program `build` writes.
fn errors(build: impl FnOnce(&StreamsBuilder)) -> TopologyErrors {
    let builder = StreamsBuilder::new();
    build(&builder);
    match builder.build() {
        Ok(topology) => panic!("built:\n{}", topology.describe()),
        Err(errors) => errors,
    }
}

#[test]
fn windows_of_size_zero() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(TimeWindows::of_size_with_no_grace(Duration::ZERO))
            .count();
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::WindowSizeZero {
            node: "KSTREAM-AGGREGATE-0000000002".into()
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: windowed aggregation `KSTREAM-AGGREGATE-0000000002`: the window size \
         is 0 ms; it must be larger than zero"
    );
}

#[test]
fn windows_advancing_by_more_than_their_size() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(TimeWindows::of_size_with_no_grace(secs(1)).advance_by(secs(2)))
            .named("per-second")
            .reduce(|a, v| a + &v);
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::InvalidWindowAdvance {
            node: "per-second".into(),
            size_ms: 1_000,
            advance_ms: 2_000,
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: windowed aggregation `per-second`: the windows advance by 2000 ms; the \
         advance must be more than zero and at most the window size (1000 ms)"
    );
}

#[test]
fn windows_advancing_by_zero() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(TimeWindows::of_size_with_no_grace(secs(1)).advance_by(Duration::ZERO))
            .count();
    });
    assert!(
        matches!(
            errors.errors(),
            [TopologyError::InvalidWindowAdvance {
                size_ms: 1_000,
                advance_ms: 0,
                ..
            }]
        ),
        "{errors}"
    );
}

#[test]
fn a_window_store_retention_shorter_than_the_windows() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(TimeWindows::of_size_and_grace(secs(10), secs(5)))
            .count_with(Materialized::named("short").with_retention(secs(12)));
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::RetentionTooShort {
            store: "short".into(),
            retention_ms: 12_000,
            minimum: MinimumRetention::TimeWindows {
                size_ms: 10_000,
                grace_ms: 5_000
            },
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: the retention period of store `short` is 12000 ms; it must be no \
         smaller than the window size plus the grace period (10000 ms + 5000 ms = 15000 ms)"
    );
}

#[test]
fn a_sliding_window_store_retention_shorter_than_the_windows() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(SlidingWindows::of_time_difference_and_grace(
                secs(10),
                secs(5),
            ))
            .count_with(Materialized::with(Utf8, I64).with_retention(secs(12)));
    });
    assert_eq!(
        errors.to_string(),
        "invalid topology: the retention period of store `KSTREAM-AGGREGATE-STATE-STORE-0000000001` \
         is 12000 ms; it must be no smaller than 2 × the time difference plus the grace period \
         (2 × 10000 ms + 5000 ms = 25000 ms)"
    );
}

#[test]
fn a_session_store_retention_shorter_than_the_sessions() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
                secs(10),
                secs(5),
            ))
            .count_with(Materialized::named("sessions").with_retention(secs(12)));
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::RetentionTooShort {
            store: "sessions".into(),
            retention_ms: 12_000,
            minimum: MinimumRetention::SessionWindows {
                gap_ms: 10_000,
                grace_ms: 5_000
            },
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: the retention period of store `sessions` is 12000 ms; it must be no \
         smaller than the inactivity gap plus the grace period (10000 ms + 5000 ms = 15000 ms)"
    );
}

#[test]
fn waiting_for_windows_to_close_on_a_table_read_from_a_topic() {
    let errors = errors(|b| {
        b.table_with::<Windowed<String>, String, _, _, _, _>(
            "windowed-input",
            Consumed::with(TimeWindowedCodec::new(Utf8, 10_000), Utf8),
            Materialized::new(),
        )
        .filter(|_k, v| !v.is_empty())
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
        .to_stream()
        .to("output");
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::WindowCloseUndefined {
            node: "KTABLE-SUPPRESS-0000000004".into(),
            table: "KTABLE-FILTER-0000000003".into(),
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: suppression `KTABLE-SUPPRESS-0000000004` waits for windows to close, \
         but table `KTABLE-FILTER-0000000003` comes from no windowed aggregation; window close \
         time is only defined for windowed computations"
    );
}

#[test]
fn operation_errors_come_first_then_the_topology_checks() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(TimeWindows::of_size_with_no_grace(Duration::ZERO))
            .named("agg")
            .count();
        b.stream::<String, String>("input2")
            .named("agg")
            .filter(|_k, _v| true);
    });
    assert_eq!(
        errors.errors(),
        [
            TopologyError::WindowSizeZero { node: "agg".into() },
            TopologyError::DuplicateName { name: "agg".into() },
        ]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology (2 problems):\n  \
         - windowed aggregation `agg`: the window size is 0 ms; it must be larger than zero\n  \
         - node name `agg` is used twice; node names must be unique"
    );
}

#[test]
fn a_session_gap_of_zero_with_a_grace_period_is_valid_as_in_kafka_streams_4() {
    let builder = StreamsBuilder::new();
    grouped(&builder)
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            Duration::ZERO,
            secs(1),
        ))
        .count();
    assert!(builder.build().is_ok());
    let builder = StreamsBuilder::new();
    grouped(&builder)
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
            Duration::ZERO,
        ))
        .count_with(Materialized::named("sessions").with_retention(secs(1)));
    assert!(builder.build().is_ok());
}

#[test]
fn a_session_gap_of_zero_without_grace_or_retention() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
                Duration::ZERO,
            ))
            .count_with(Materialized::named("sessions"));
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::RetentionZero {
            store: "sessions".into()
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: the retention period of store `sessions` is 0 ms (windows of no length \
         and no grace period); a windowed store keeps its windows for at least 1 ms: give the \
         windows a grace period or the store a retention (`Materialized::with_retention`)"
    );
}

#[test]
fn sliding_windows_of_no_length_without_grace_or_retention() {
    let errors = errors(|b| {
        grouped(b)
            .windowed_by(SlidingWindows::of_time_difference_with_no_grace(
                Duration::ZERO,
            ))
            .count();
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::RetentionZero {
            store: "KSTREAM-AGGREGATE-STATE-STORE-0000000001".into()
        }]
    );
}

#[test]
fn a_grace_period_on_a_join_with_a_table_that_is_not_versioned() {
    let errors = errors(|b| {
        let table = b.table_with::<String, String, _, _, _, _>(
            "table",
            Consumed::with(Utf8, Utf8),
            Materialized::named("rows"),
        );
        b.stream_with::<String, String, _, _>("input", Consumed::with(Utf8, Utf8))
            .join_with(
                &table,
                |l, r| format!("{l}+{r}"),
                Joined::named("j").with_grace_period(secs(5)),
            )
            .to("output");
    });
    assert_eq!(
        errors.errors(),
        [TopologyError::GraceWithoutVersionedTable {
            join: "j".into(),
            table: "KTABLE-SOURCE-0000000001".into(),
        }]
    );
    assert_eq!(
        errors.to_string(),
        "invalid topology: join `j` has a grace period, but table `KTABLE-SOURCE-0000000001` is \
         not versioned; a grace period needs a versioned table (`Materialized::versioned`)"
    );
}

#[test]
fn a_versioned_store_for_an_aggregation() {
    let errors = errors(|b| {
        let grouped = grouped(b);
        grouped.count_with(Materialized::named("counts").versioned(secs(60)));
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(secs(10)))
            .count_with(Materialized::named("windowed").versioned(secs(60)));
    });
    assert_eq!(
        errors.errors(),
        [
            TopologyError::VersionedStoreNotSupported {
                store: "counts".into(),
                operation: "processor `KSTREAM-AGGREGATE-0000000001`".into(),
            },
            TopologyError::VersionedStoreNotSupported {
                store: "windowed".into(),
                operation: "processor `KSTREAM-AGGREGATE-0000000002`".into(),
            }
        ]
    );
    assert_eq!(
        errors.errors()[0].to_string(),
        "store `counts` of processor `KSTREAM-AGGREGATE-0000000001` is asked to be versioned; \
         versioned stores are supported for tables read from a topic \
         (`StreamsBuilder::table_with`, `KStream::to_table_with`)"
    );
}
