//! Broker faults on a real Apache Kafka broker of each test's own (`support::Broker`: started,
//! killed, halted and resumed with `scripts/kafka-broker.sh` and a state file of its own, so
//! other tests' broker is untouched): the application rides them out without losing a record.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::support::{Broker, Reader, copy, create_topics, numbered, produce, seen, unique};
use streams::config::StreamsConfig;
use streams::runtime::{KafkaStreams, StreamsState};

fn config(app: &str, bootstrap: &str) -> StreamsConfig {
    StreamsConfig::builder()
        .application_id(app)
        .bootstrap_servers(bootstrap)
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(200))
        .build()
        .expect("valid config")
}

/// Runs `copy` over `n` records produced while `fault` happens to the broker, and checks that
/// every record is in the output (at-least-once: duplicates allowed, reported) and that the
/// application never went into an error state.
fn survives(name: &str, fault: impl FnOnce(&Broker)) {
    let broker = Broker::start();
    let kafka = broker.bootstrap.clone();
    let app = unique(name);
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 4), (&output, 4)]);
    let n = 20_000;
    let records = numbered(n);
    let (first, rest) = records.split_at(n / 2);

    let streams = KafkaStreams::new(copy(&input, &output), config(&app, &kafka)).unwrap();
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen_states = Arc::clone(&states);
    streams
        .set_state_listener(move |new, _| seen_states.lock().unwrap().push(new))
        .unwrap();
    streams.start().unwrap();
    produce(&kafka, &input, first);
    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    reader.read_until(&mut out, Duration::from_secs(120), |r| r.len() >= n / 4);

    let started = Instant::now();
    fault(&broker);
    println!("{name}: fault over after {:?}", started.elapsed());
    produce(&kafka, &input, rest);

    let done = reader.read_until(&mut out, Duration::from_secs(300), |r| seen(r).len() == n);
    let (state, error) = (streams.state(), streams.error());
    let uncommitted = streams.metrics().uncommitted_revocations();
    assert!(streams.close(Duration::from_secs(240)));
    assert!(
        done,
        "{} of {n} records in the output; state {state:?}, error {error:?}",
        seen(&out).len()
    );
    let states = states.lock().unwrap().clone();
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, StreamsState::Error | StreamsState::PendingError)),
        "states: {states:?}"
    );
    println!(
        "{name}: {n} records, {} duplicates (at-least-once), {uncommitted} revocations that \
         could not commit, states {states:?}",
        out.len() - n
    );
}

/// (a) The broker is killed (SIGKILL) and restarted while the application processes: it
/// reconnects by itself and finishes; every input is in the output.
#[test]
fn a_broker_killed_and_restarted_loses_nothing() {
    survives("broker-kill", |broker| {
        broker.script(&["restart", "--hard"]);
    });
}

/// (b) The broker is down for 30 s: the application stays up (never in an error state) and
/// catches up once it is back.
#[test]
fn a_broker_down_for_30_seconds_is_ridden_out() {
    survives("broker-halt", |broker| {
        broker.script(&["halt"]);
        std::thread::sleep(Duration::from_secs(30));
        broker.script(&["resume"]);
    });
}

/// The default production handler on the real broker: records the application produces while
/// the broker is down time out (`message.timeout.ms`, a retriable error); the thread's tasks
/// start again from their committed offsets, and once the broker is back every record arrives.
#[test]
fn records_that_time_out_while_the_broker_is_down_are_produced_again() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use streams::dsl::StreamsBuilder;

    let broker = Broker::start();
    let kafka = broker.bootstrap.clone();
    let app = unique("produce-retry");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 1), (&output, 1)]);
    // The thread waits at `k5` until the gate opens: the test halts the broker meanwhile, so
    // what it produces next cannot be delivered.
    let (waiting, gate) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let builder = StreamsBuilder::new();
    let (w, g) = (Arc::clone(&waiting), Arc::clone(&gate));
    builder
        .stream::<String, String>(&input)
        .peek(move |k, _| {
            if k == "k5" {
                w.store(true, Ordering::SeqCst);
                while !g.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        })
        .to(&output);
    let config = StreamsConfig::builder()
        .application_id(&app)
        .bootstrap_servers(&kafka)
        .commit_interval(Duration::from_millis(100))
        .set("producer.message.timeout.ms", "2000")
        .build()
        .unwrap();
    let streams = KafkaStreams::new(builder.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    produce(&kafka, &input, &numbered(20));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !waiting.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(waiting.load(Ordering::SeqCst), "the thread reached k5");
    broker.script(&["halt"]);
    gate.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(60);
    while streams.metrics().threads[0].production_retries == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let retries = streams.metrics().threads[0].production_retries;
    broker.script(&["resume"]);
    assert!(
        retries >= 1,
        "state {:?}, error {:?}",
        streams.state(),
        streams.error()
    );

    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    let done = reader.read_until(&mut out, Duration::from_secs(120), |r| seen(r).len() == 20);
    assert!(
        done,
        "{:?}; state {:?}, error {:?}",
        seen(&out),
        streams.state(),
        streams.error()
    );
    assert_eq!(streams.state(), StreamsState::Running);
    assert!(streams.close(Duration::from_secs(60)));
}
