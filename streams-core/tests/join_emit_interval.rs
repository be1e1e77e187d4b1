//! The emit interval of left and outer stream-stream joins: records whose window closed are
//! looked for at most once per interval of wall-clock time (Kafka Streams'
//! `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`; its test driver and ours use
//! 0, a running application 1000 ms).

use std::time::Duration;

use streams_core::codec::Utf8;
use streams_core::dsl::{JoinWindows, StreamsBuilder};
use streams_core::testing::{DriverOptions, TopologyTestDriver};

#[test]
fn non_joined_records_wait_for_the_emit_interval() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.left_join_stream(
        &right,
        |l, r: Option<String>| format!("{l}+{}", r.unwrap_or_default()),
        JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(5)),
    )
    .to("out");
    let driver = TopologyTestDriver::with_options(
        builder.build().unwrap(),
        DriverOptions {
            outer_join_emit_interval_ms: 1_000,
            ..DriverOptions::default()
        },
    )
    .unwrap();
    let input = driver.create_input_topic("left", Utf8, Utf8);
    let out = driver.create_output_topic("out", Utf8, Utf8);
    let pipe = |k: &str, t: i64| input.pipe_input_at(k.into(), k.into(), t).unwrap();

    pipe("a", 0);
    // a's window closed: the first scan finds it.
    pipe("b", 10_000);
    assert_eq!(out.read_values_to_list().unwrap(), ["a+"]);
    // b's window closed, but the wall clock has not moved: no scan yet.
    pipe("c", 20_000);
    assert!(out.read_values_to_list().unwrap().is_empty());
    driver
        .advance_wall_clock_time(Duration::from_millis(1_000))
        .unwrap();
    pipe("d", 30_000);
    assert_eq!(out.read_values_to_list().unwrap(), ["b+", "c+"]);
}
