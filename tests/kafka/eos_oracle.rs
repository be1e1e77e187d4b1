//! The exactly-once oracle: Kafka's `streams_eos_test` (`EosTestDriver`, `EosTestClient`,
//! `streams_eos_test.py`'s failure-and-recovery run, complex variant) re-implemented against
//! our public API, on a broker of the test's own.
//!
//! - **Driver** ([`driver`]): writes `data` (5 partitions) for the whole run: random keys below
//!   20 000, values below 10 000, every record acknowledged.
//! - **Application** ([`app`]): 3 instances of one application, each a child process with a
//!   state directory of its own: `data` -> `echo`, running `min` and `sum` per key, and through
//!   a repartition topic running `max` and `cnt` per key; no cache, `commit.interval.ms=5000`.
//! - **Chaos**: [`KILL_CYCLES`] times an instance is killed with SIGKILL and started again —
//!   alternately on its old state directory and on an empty one — and halfway the broker is
//!   killed with SIGKILL and restarted on the same port and data.
//! - **Verifier** ([`verify`]): once the driver stopped, the instances caught up (nothing left
//!   after the group's committed offsets) and closed cleanly, reads `data` up to the committed
//!   offsets and the outputs `read_committed`, and counts lost, duplicated, re-applied and wrong
//!   records, and the outputs that differ record for record from the exact result.
//!
//! Under at-least-once nothing may be lost (duplicates are counted and printed); under
//! exactly-once neither lost nor duplicated, and every output equals the exact result record for
//! record.

mod app;
mod driver;
mod verify;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::app::{Instance, Launch};
use self::driver::{Driver, SplitMix64};
use self::verify::{Aggregate, HEADER, Tally};
use super::support::{Broker, create_topics, eventually, unique};

const DATA: &str = "data";
const ECHO: &str = "echo";
const MIN: &str = "min";
const SUM: &str = "sum";
const MAX: &str = "max";
const CNT: &str = "cnt";
const PARTITIONS: i32 = 5;

/// Instances of the application.
const INSTANCES: usize = 3;
/// `kill -9` cycles: kill an instance, start it again.
const KILL_CYCLES: usize = 12;
/// Records per second the driver writes.
const RATE: u64 = 1500;

/// Exactly-once v2: nothing lost, nothing duplicated, every output the exact result record for
/// record, over the kill cycles and the broker restart.
#[test]
fn exactly_once_v2() {
    oracle("exactly_once_v2");
}

/// At-least-once: nothing lost; the duplicates are counted.
#[test]
fn at_least_once() {
    oracle("at_least_once");
}

fn oracle(guarantee: &str) {
    let exactly_once = guarantee == "exactly_once_v2";
    let started = Instant::now();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut random = SplitMix64(seed);
    let broker = Broker::start();
    let kafka = broker.bootstrap.clone();
    let app_id = unique("EosTest");
    let work_dir = std::env::temp_dir().join(unique("eos-oracle"));
    std::fs::create_dir_all(&work_dir).expect("work dir");
    println!(
        "eos oracle ({guarantee}): broker {kafka} up after {:?}, seed {seed}, work dir {}",
        started.elapsed(),
        work_dir.display()
    );
    let topics: Vec<(&str, i32)> = [DATA, ECHO, MIN, SUM, MAX, CNT]
        .iter()
        .map(|t| (*t, PARTITIONS))
        .collect();
    create_topics(&kafka, &topics);

    let launch = Launch {
        app: &app_id,
        bootstrap: &kafka,
        guarantee,
        complex: true,
        work_dir: &work_dir,
    };
    let driver = Driver::start(&kafka, RATE, random.next());
    let mut instances: Vec<Instance> = (0..INSTANCES)
        .map(|slot| Instance::new(slot, &work_dir))
        .collect();
    for instance in &mut instances {
        instance.start(&launch, true);
    }
    let processing = eventually(Duration::from_secs(240), || {
        verify::committed(&kafka, &app_id, DATA)
            .iter()
            .all(Option::is_some)
    });
    assert!(
        processing,
        "no offsets committed after 240 s\n{}",
        tails(&instances)
    );
    let repartition = app::repartition_topic(&app_id);
    assert_eq!(
        verify::partitions(&kafka, &repartition),
        PARTITIONS,
        "the application created `{repartition}`"
    );
    println!(
        "eos oracle: {INSTANCES} instances processing after {:?}",
        started.elapsed()
    );

    // Chaos: kill -9 and restart, alternately on the old state and on an empty one; halfway a
    // hard broker restart.
    let mut broker_restart = Duration::ZERO;
    for cycle in 0..KILL_CYCLES {
        // Anywhere in a 5 s commit interval.
        std::thread::sleep(random.millis(4_000, 10_000));
        for instance in &mut instances {
            if let Err(exited) = instance.alive() {
                panic!("{exited}\n{}", tails(&instances));
            }
        }
        if cycle == KILL_CYCLES / 2 {
            let t = Instant::now();
            broker.script(&["restart", "--hard"]);
            broker_restart = t.elapsed();
            println!("eos oracle: broker killed and restarted in {broker_restart:?}");
        }
        let victim = (random.next() % INSTANCES as u64) as usize;
        let empty_state = cycle % 2 == 1;
        instances[victim].kill();
        std::thread::sleep(random.millis(0, 4_000));
        instances[victim].start(&launch, empty_state);
        println!(
            "eos oracle: cycle {cycle} at {:?}: {} killed and restarted on {} state",
            started.elapsed(),
            instances[victim].name,
            if empty_state { "empty" } else { "its old" }
        );
    }
    std::thread::sleep(Duration::from_secs(5));
    let written = driver.stop();
    println!(
        "eos oracle: driver stopped at {:?}: {written:?}",
        started.elapsed()
    );
    assert_eq!(
        (written.failed, written.acked),
        (0, written.sent),
        "the driver's records are all acknowledged; first failure: {:?}",
        written.first_failure
    );

    // The application finishes: nothing left after its committed offsets, then a clean close.
    let done = eventually(Duration::from_secs(300), || {
        verify::caught_up(&kafka, &app_id, DATA) && verify::caught_up(&kafka, &app_id, &repartition)
    });
    assert!(
        done,
        "not caught up 300 s after the driver stopped: committed {:?} of {:?}, open transactions \
         {:?}\n{}",
        verify::committed(&kafka, &app_id, DATA),
        verify::end_offsets(&kafka, DATA, false),
        verify::open_transactions(&kafka, &repartition),
        tails(&instances)
    );
    println!("eos oracle: caught up at {:?}", started.elapsed());
    let closed: Vec<Result<_, String>> = instances
        .iter_mut()
        .map(|i| i.stop(Duration::from_secs(180)))
        .collect();
    let unclean: Vec<String> = closed
        .iter()
        .zip(&instances)
        .filter(|(c, _)| !matches!(c, Ok(s) if s.success()))
        .map(|(c, i)| format!("{}: {c:?}", i.name))
        .collect();
    assert!(
        unclean.is_empty(),
        "instances did not close cleanly: {unclean:?}\n{}",
        tails(&instances)
    );
    let client_failures: usize = instances.iter().map(Instance::client_failures).sum();

    // Verify.
    let outputs = [ECHO, MIN, SUM, repartition.as_str(), MAX, CNT];
    // Kafka's verifier first waits for every transaction to end (one a killed instance left
    // open ends when the transaction times out, or when its transactional id is used again).
    let open = || -> Vec<(&str, (i32, i64, i64))> {
        outputs
            .iter()
            .flat_map(|t| {
                verify::open_transactions(&kafka, t)
                    .into_iter()
                    .map(move |o| (*t, o))
            })
            .collect()
    };
    eventually(Duration::from_secs(120), || open().is_empty());
    let still_open = open();
    let committed: Vec<i64> = verify::committed(&kafka, &app_id, DATA)
        .into_iter()
        .map(|c| c.unwrap_or(0))
        .collect();
    let data_end = verify::end_offsets(&kafka, DATA, false);
    assert_eq!(
        committed, data_end,
        "the group committed every input record"
    );
    assert_eq!(
        data_end.iter().sum::<i64>() as u64,
        written.acked,
        "`data` holds what the driver wrote"
    );
    let inputs = verify::inputs(verify::read_topic(&kafka, DATA, true), &committed);
    let read = |topic: &str| verify::read_topic(&kafka, topic, true);
    let echo = read(ECHO);
    // Records in `echo` that only a read_uncommitted consumer sees: the aborted transactions'
    // (under exactly-once, kills that landed inside open transactions; 0 under at-least-once).
    let aborted = verify::read_topic(&kafka, ECHO, false)
        .iter()
        .map(Vec::len)
        .sum::<usize>()
        - echo.iter().map(Vec::len).sum::<usize>();
    let tallies: Vec<Tally> = vec![
        verify::copies(ECHO, &inputs, &echo),
        verify::copies("repartition", &inputs, &read(&repartition)),
        verify::aggregate(MIN, Aggregate::Min, true, &inputs, &read(MIN)),
        verify::aggregate(SUM, Aggregate::Sum, true, &inputs, &read(SUM)),
        verify::aggregate(MAX, Aggregate::Max, false, &inputs, &read(MAX)),
        verify::aggregate(CNT, Aggregate::Count, false, &inputs, &read(CNT)),
    ];
    let total = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    let (lost, duplicated, reapplied, wrong, mismatched) = (
        total(|t| t.lost),
        total(|t| t.duplicated),
        total(|t| t.reapplied),
        total(|t| t.wrong),
        total(|t| t.mismatched),
    );
    let table: Vec<String> = tallies.iter().map(ToString::to_string).collect();
    let firsts: Vec<String> = tallies
        .iter()
        .flat_map(|t| {
            let problem = t
                .first_problem
                .as_ref()
                .map(|p| format!("{}: {p}", t.stream));
            let mismatch = t
                .first_mismatch
                .as_ref()
                .map(|m| format!("{}: first difference: {m}", t.stream));
            problem.into_iter().chain(mismatch)
        })
        .collect();
    println!(
        "eos oracle ({guarantee}): {} input records in {PARTITIONS} partitions over {:?}, \
         {KILL_CYCLES} kill -9 cycles ({} on an empty state directory), 1 broker restart \
         ({broker_restart:?}), {INSTANCES} instances, {client_failures} failed clients replaced; \
         run {:?}\n{HEADER}\n{}\n\
         LOST {lost}, DUPLICATED {} ({duplicated} outputs beyond one per input, {reapplied} \
         aggregates with a record applied twice), wrong {wrong}, record-for-record \
         differences {mismatched}; open transactions after the close {still_open:?}; {aborted} \
         aborted records in `echo`\n{}",
        committed.iter().sum::<i64>(),
        written.elapsed,
        KILL_CYCLES / 2,
        started.elapsed(),
        table.join("\n"),
        duplicated + reapplied,
        firsts.join("\n"),
    );
    assert_eq!(lost, 0, "records lost ({guarantee})");
    assert_eq!(wrong, 0, "wrong records ({guarantee})");
    if exactly_once {
        assert_eq!(
            still_open,
            vec![],
            "transactions still open after the close"
        );
        assert_eq!(
            (duplicated, reapplied, mismatched),
            (0, 0, 0),
            "exactly-once: no duplicate, every output as the exact result"
        );
    }
    let _ = std::fs::remove_dir_all(&work_dir);
}

/// The last lines of every instance's log.
fn tails(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| i.log_tail(30))
        .collect::<Vec<_>>()
        .join("\n")
}
