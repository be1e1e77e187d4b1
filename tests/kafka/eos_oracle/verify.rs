//! The verifier — Kafka's `EosTestDriver.verify`, with counts: reads `data` and every output
//! (`read_committed`, as exactly-once output must be read) and checks each output against what
//! the application must have made of the input.
//!
//! Two checks per output:
//! - **Record for record** (Kafka's check, what exactly-once promises): per partition for the
//!   outputs that keep the input's partition (`echo`, the repartition topic, `min`, `sum`), per
//!   key for those after the repartition (`max`, `cnt`), output `i` is input `i` (copies) or the
//!   running aggregate of the inputs up to `i` (aggregates). Differences are `mismatched`.
//! - **Counts** (what at-least-once promises, and the numbers reported under both): `lost` —
//!   inputs without an output (copies: a record absent from the output; aggregates: fewer
//!   outputs than inputs for a key, or a final aggregate that misses a record — a sum or count
//!   below the inputs' total, a min or max other than the inputs'); `duplicated` — outputs
//!   beyond one per input; `reapplied` — aggregates showing a record applied twice (a count
//!   above its inputs' number: each extra one; a sum above its inputs' total: at least one per
//!   key); `wrong` — outputs no run can make (a copy of no input, a min or max of no input
//!   value, a key in another partition than its input's, undecodable bytes).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::super::support::unique;

/// A record as read.
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub(super) offset: i64,
    pub(super) key: Vec<u8>,
    pub(super) value: Vec<u8>,
    pub(super) timestamp: i64,
}

/// An input record of `data`, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Input {
    pub(super) key: String,
    pub(super) value: i32,
    pub(super) timestamp: i64,
}

fn consumer(bootstrap: &str, read_committed: bool, eof: bool) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("eos-verifier"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", eof.to_string())
        .set(
            "isolation.level",
            if read_committed {
                "read_committed"
            } else {
                "read_uncommitted"
            },
        )
        .create()
        .expect("verifier consumer")
}

pub(super) fn partitions(bootstrap: &str, topic: &str) -> i32 {
    super::super::support::partition_count(bootstrap, topic) as i32
}

/// The end offset of each partition: the high watermark, or with `read_committed` the last
/// stable offset (librdkafka answers a read_committed handle with it).
pub(super) fn end_offsets(bootstrap: &str, topic: &str, read_committed: bool) -> Vec<i64> {
    let c = consumer(bootstrap, read_committed, false);
    (0..partitions(bootstrap, topic))
        .map(|p| {
            c.fetch_watermarks(topic, p, Duration::from_secs(30))
                .expect("watermarks")
                .1
        })
        .collect()
}

/// The partitions of `topic` with a transaction still open: (partition, last stable offset,
/// high watermark).
pub(super) fn open_transactions(bootstrap: &str, topic: &str) -> Vec<(i32, i64, i64)> {
    let stable = end_offsets(bootstrap, topic, true);
    let high = end_offsets(bootstrap, topic, false);
    (0..stable.len())
        .filter(|&p| stable[p] != high[p])
        .map(|p| (p as i32, stable[p], high[p]))
        .collect()
}

/// The group's committed offset per partition of `topic` (`None` where it has none).
pub(super) fn committed(bootstrap: &str, group: &str, topic: &str) -> Vec<Option<i64>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let n = partitions(bootstrap, topic);
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        tpl.add_partition(topic, p);
    }
    // Right after the broker started or restarted the group's coordinator may still move or
    // load (`NotCoordinator`, `CoordinatorLoadInProgress`): ask again until it answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let offsets = loop {
        match c.committed_offsets(tpl.clone(), Duration::from_secs(30)) {
            Ok(offsets) => break offsets,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => panic!("committed offsets: {e}"),
        }
    };
    (0..n)
        .map(
            |p| match offsets.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => Some(o),
                _ => None,
            },
        )
        .collect()
}

/// Whether the group has processed `topic` to its end: no transaction open on it, and nothing
/// a read_committed consumer could read after the group's committed offsets (so control
/// records of transactions do not count as lag).
pub(super) fn caught_up(bootstrap: &str, group: &str, topic: &str) -> bool {
    if !open_transactions(bootstrap, topic).is_empty() {
        return false;
    }
    let committed = committed(bootstrap, group, topic);
    let c = consumer(bootstrap, true, true);
    let mut tpl = TopicPartitionList::new();
    for (p, offset) in committed.iter().enumerate() {
        let Some(offset) = offset else {
            return false;
        };
        tpl.add_partition_offset(topic, p as i32, Offset::Offset(*offset))
            .expect("partition");
    }
    c.assign(&tpl).expect("assign");
    let mut at_end = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_end.len() < committed.len() && Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(_)) => return false,
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            _ => {}
        }
    }
    at_end.len() == committed.len()
}

/// Every record of `topic`, per partition, up to the end (read_committed or not).
pub(super) fn read_topic(bootstrap: &str, topic: &str, read_committed: bool) -> Vec<Vec<Rec>> {
    let n = partitions(bootstrap, topic);
    let c = consumer(bootstrap, read_committed, true);
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    c.assign(&tpl).expect("assign");
    let mut records: Vec<Vec<Rec>> = vec![Vec::new(); n as usize];
    let mut at_end = BTreeSet::new();
    // Two minutes without a record nor an end of partition is a failure.
    let mut deadline = Instant::now() + Duration::from_secs(120);
    while at_end.len() < n as usize {
        assert!(
            Instant::now() < deadline,
            "reading `{topic}`: stuck; at the end of partitions {at_end:?}, read {:?} records",
            records.iter().map(Vec::len).collect::<Vec<_>>()
        );
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                deadline = Instant::now() + Duration::from_secs(120);
                records[m.partition() as usize].push(Rec {
                    offset: m.offset(),
                    key: m.key().unwrap_or_default().to_vec(),
                    value: m.payload().unwrap_or_default().to_vec(),
                    timestamp: m.timestamp().to_millis().unwrap_or(-1),
                });
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                deadline = Instant::now() + Duration::from_secs(120);
                at_end.insert(p);
            }
            Some(Err(e)) => panic!("reading `{topic}`: {e}"),
            None => {}
        }
    }
    records
}

/// `data` decoded, per partition, up to `ends` (the group's committed offsets).
pub(super) fn inputs(records: Vec<Vec<Rec>>, ends: &[i64]) -> Vec<Vec<Input>> {
    records
        .into_iter()
        .enumerate()
        .map(|(p, records)| {
            records
                .into_iter()
                .filter(|r| r.offset < ends[p])
                .map(|r| Input {
                    key: String::from_utf8(r.key).expect("a driver's key"),
                    value: i32::from_be_bytes(r.value.try_into().expect("a driver's value")),
                    timestamp: r.timestamp,
                })
                .collect()
        })
        .collect()
}

/// What one output showed.
#[derive(Debug, Default, Clone)]
pub(super) struct Tally {
    pub(super) stream: String,
    pub(super) inputs: usize,
    pub(super) outputs: usize,
    pub(super) lost: usize,
    pub(super) duplicated: usize,
    pub(super) reapplied: usize,
    pub(super) wrong: usize,
    pub(super) mismatched: usize,
    /// The first record-for-record difference, and the first lost or wrong record.
    pub(super) first_mismatch: Option<String>,
    pub(super) first_problem: Option<String>,
}

impl Tally {
    fn new(stream: &str) -> Tally {
        Tally {
            stream: stream.to_string(),
            ..Tally::default()
        }
    }

    fn mismatch(&mut self, n: usize, what: impl FnOnce() -> String) {
        if n > 0 {
            self.mismatched += n;
            self.first_mismatch.get_or_insert_with(what);
        }
    }

    fn problem(&mut self, what: impl FnOnce() -> String) {
        self.first_problem.get_or_insert_with(what);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<12} {:>8} {:>8} {:>6} {:>10} {:>9} {:>6} {:>10}",
            self.stream,
            self.inputs,
            self.outputs,
            self.lost,
            self.duplicated,
            self.reapplied,
            self.wrong,
            self.mismatched
        )
    }
}

pub(super) const HEADER: &str =
    "stream         inputs  outputs   lost duplicated reapplied  wrong mismatched";

/// A copy of `data`, partition for partition (`echo`, the repartition topic): the same keys,
/// values and timestamps in the same order.
pub(super) fn copies(stream: &str, inputs: &[Vec<Input>], outputs: &[Vec<Rec>]) -> Tally {
    let mut t = Tally::new(stream);
    for (p, input) in inputs.iter().enumerate() {
        let output = outputs.get(p).map_or(&[][..], Vec::as_slice);
        t.inputs += input.len();
        t.outputs += output.len();
        let decoded: Vec<Option<Input>> = output
            .iter()
            .map(|r| {
                Some(Input {
                    key: String::from_utf8(r.key.clone()).ok()?,
                    value: i32::from_be_bytes(r.value.clone().try_into().ok()?),
                    timestamp: r.timestamp,
                })
            })
            .collect();
        // Record for record.
        let differ = input
            .iter()
            .zip(&decoded)
            .filter(|(i, o)| o.as_ref() != Some(*i))
            .count()
            + input.len().abs_diff(decoded.len());
        t.mismatch(differ, || {
            let at = input
                .iter()
                .zip(&decoded)
                .position(|(i, o)| o.as_ref() != Some(i))
                .unwrap_or(input.len().min(decoded.len()));
            format!(
                "partition {p}, record {at}: input {:?}, output {:?} ({} inputs, {} outputs)",
                input.get(at),
                decoded.get(at),
                input.len(),
                decoded.len()
            )
        });
        // Counts: the output as a multiset of the inputs.
        let mut count: HashMap<&Input, (usize, usize)> = HashMap::new();
        for i in input {
            count.entry(i).or_default().0 += 1;
        }
        for (o, r) in decoded.iter().zip(output) {
            match o.as_ref().and_then(|o| count.get_mut(o)) {
                Some(c) => c.1 += 1,
                None => {
                    t.wrong += 1;
                    t.problem(|| format!("partition {p}: output {r:?} is a copy of no input"));
                }
            }
        }
        for (i, (ins, outs)) in count {
            if outs < ins {
                t.lost += ins - outs;
                t.problem(|| format!("partition {p}: input {i:?} is not in the output"));
            }
            t.duplicated += outs.saturating_sub(ins);
        }
    }
    t
}

/// A running aggregate per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Aggregate {
    Min,
    Sum,
    Max,
    Count,
}

impl Aggregate {
    fn first(self, value: i32) -> i64 {
        match self {
            Aggregate::Count => 1,
            _ => i64::from(value),
        }
    }

    fn apply(self, aggregate: i64, value: i32) -> i64 {
        let value = i64::from(value);
        match self {
            Aggregate::Min => aggregate.min(value),
            Aggregate::Max => aggregate.max(value),
            Aggregate::Sum => aggregate + value,
            Aggregate::Count => aggregate + 1,
        }
    }

    fn decode(self, bytes: &[u8]) -> Option<i64> {
        match self {
            Aggregate::Min | Aggregate::Max => {
                Some(i64::from(i32::from_be_bytes(bytes.try_into().ok()?)))
            }
            Aggregate::Sum | Aggregate::Count => Some(i64::from_be_bytes(bytes.try_into().ok()?)),
        }
    }
}

/// One key's inputs (its partition, values in order) and outputs (partitions, values in order).
#[derive(Default)]
struct KeyRecords {
    partition: Option<usize>,
    values: Vec<i32>,
    out_partitions: BTreeSet<usize>,
    outputs: Vec<i64>,
}

/// A running aggregate of `data` per key. With `same_partition`, checked record for record per
/// partition (the output keeps the input's partition); else record for record per key.
pub(super) fn aggregate(
    stream: &str,
    kind: Aggregate,
    same_partition: bool,
    inputs: &[Vec<Input>],
    outputs: &[Vec<Rec>],
) -> Tally {
    let mut t = Tally::new(stream);
    let mut keys: BTreeMap<String, KeyRecords> = BTreeMap::new();
    for (p, input) in inputs.iter().enumerate() {
        t.inputs += input.len();
        for i in input {
            let k = keys.entry(i.key.clone()).or_default();
            k.partition = Some(p);
            k.values.push(i.value);
        }
    }
    for (p, output) in outputs.iter().enumerate() {
        t.outputs += output.len();
        let mut running: HashMap<&str, i64> = HashMap::new();
        let mut differ = 0;
        for (at, r) in output.iter().enumerate() {
            let (Ok(key), Some(value)) = (std::str::from_utf8(&r.key), kind.decode(&r.value))
            else {
                t.wrong += 1;
                t.problem(|| format!("partition {p}: undecodable output {r:?}"));
                continue;
            };
            let k = keys.entry(key.to_string()).or_default();
            k.out_partitions.insert(p);
            k.outputs.push(value);
            // Record for record against the partition's input.
            if same_partition {
                let expected = inputs.get(p).and_then(|i| i.get(at)).map(|i| {
                    let a = running
                        .get(i.key.as_str())
                        .map_or_else(|| kind.first(i.value), |&a| kind.apply(a, i.value));
                    running.insert(i.key.as_str(), a);
                    (i.key.as_str(), a)
                });
                if expected != Some((key, value)) {
                    differ += 1;
                    t.first_mismatch.get_or_insert_with(|| {
                        format!(
                            "partition {p}, record {at}: expected {expected:?}, output ({key:?}, \
                             {value})"
                        )
                    });
                }
            }
        }
        if same_partition {
            let input_len = inputs.get(p).map_or(0, Vec::len);
            differ += input_len.saturating_sub(output.len());
            t.mismatch(differ, || {
                format!(
                    "partition {p}: {input_len} inputs, {} outputs",
                    output.len()
                )
            });
        }
    }
    for (key, k) in &keys {
        let (n, m) = (k.values.len(), k.outputs.len());
        let Some(partition) = k.partition else {
            t.wrong += m;
            t.problem(|| format!("key {key:?}: {m} outputs of no input"));
            continue;
        };
        // Record for record per key.
        let exact: Vec<i64> = k
            .values
            .iter()
            .scan(None, |a: &mut Option<i64>, &v| {
                let next = a.map_or_else(|| kind.first(v), |a| kind.apply(a, v));
                *a = Some(next);
                Some(next)
            })
            .collect();
        if !same_partition && exact != k.outputs {
            let differ =
                exact.iter().zip(&k.outputs).filter(|(e, o)| e != o).count() + n.abs_diff(m);
            t.mismatch(differ, || {
                format!("key {key:?}: expected {exact:?}, output {:?}", k.outputs)
            });
        }
        // A key's outputs are in one partition: its input's, where the output keeps it.
        let elsewhere = if same_partition {
            k.out_partitions.iter().any(|&p| p != partition)
        } else {
            k.out_partitions.len() > 1
        };
        if elsewhere {
            t.wrong += m;
            t.problem(|| {
                format!(
                    "key {key:?} of input partition {partition}: outputs in partitions {:?}",
                    k.out_partitions
                )
            });
        }
        // Counts.
        let Some(&total) = exact.last() else { continue };
        let missing_outputs = n.saturating_sub(m);
        t.duplicated += m.saturating_sub(n);
        let (mut missing, mut reapplied) = (0, 0);
        match kind {
            Aggregate::Min | Aggregate::Max => {
                let values: BTreeSet<i64> = k.values.iter().map(|&v| i64::from(v)).collect();
                let impossible = k.outputs.iter().filter(|o| !values.contains(o)).count();
                if impossible > 0 {
                    t.wrong += impossible;
                    t.problem(|| {
                        format!(
                            "key {key:?}: {kind:?} {:?} of inputs {:?}",
                            k.outputs, k.values
                        )
                    });
                }
                let extreme = if kind == Aggregate::Min {
                    k.outputs.iter().min()
                } else {
                    k.outputs.iter().max()
                };
                if extreme != Some(&total) {
                    missing = 1;
                }
            }
            Aggregate::Sum | Aggregate::Count => {
                let top = k.outputs.iter().copied().max().unwrap_or(0);
                if top < total {
                    missing = if kind == Aggregate::Count {
                        (total - top) as usize
                    } else {
                        1
                    };
                } else if top > total {
                    reapplied = if kind == Aggregate::Count {
                        (top - total) as usize
                    } else {
                        1
                    };
                }
            }
        }
        let lost = missing_outputs.max(missing);
        if lost > 0 {
            t.lost += lost;
            t.problem(|| {
                format!(
                    "key {key:?}: {n} inputs {:?}, {m} outputs {:?}: {kind:?} {total} never \
                     reached",
                    k.values, k.outputs
                )
            });
        }
        t.reapplied += reapplied;
    }
    t
}

/// The verifier on made-up records: what it counts for an exact run, a replay, a loss and
/// impossible outputs (no broker).
mod tests {
    use super::*;

    fn input(key: &str, value: i32, timestamp: i64) -> Input {
        Input {
            key: key.to_string(),
            value,
            timestamp,
        }
    }

    /// Partition 0: a=5, b=3, a=2; partition 1: c=7.
    fn data() -> Vec<Vec<Input>> {
        vec![
            vec![input("a", 5, 1), input("b", 3, 2), input("a", 2, 3)],
            vec![input("c", 7, 4)],
        ]
    }

    fn copy(i: &Input) -> Rec {
        Rec {
            offset: 0,
            key: i.key.as_bytes().to_vec(),
            value: i.value.to_be_bytes().to_vec(),
            timestamp: i.timestamp,
        }
    }

    fn int(key: &str, value: i32) -> Rec {
        Rec {
            offset: 0,
            key: key.as_bytes().to_vec(),
            value: value.to_be_bytes().to_vec(),
            timestamp: 0,
        }
    }

    fn long(key: &str, value: i64) -> Rec {
        Rec {
            offset: 0,
            key: key.as_bytes().to_vec(),
            value: value.to_be_bytes().to_vec(),
            timestamp: 0,
        }
    }

    fn counts(t: &Tally) -> [usize; 5] {
        [t.lost, t.duplicated, t.reapplied, t.wrong, t.mismatched]
    }

    #[test]
    fn an_exact_run_counts_nothing() {
        let data = data();
        let echo: Vec<Vec<Rec>> = data.iter().map(|p| p.iter().map(copy).collect()).collect();
        assert_eq!(counts(&copies("echo", &data, &echo)), [0; 5]);
        let min = vec![
            vec![int("a", 5), int("b", 3), int("a", 2)],
            vec![int("c", 7)],
        ];
        assert_eq!(
            counts(&aggregate("min", Aggregate::Min, true, &data, &min)),
            [0; 5]
        );
        let sum = vec![
            vec![long("a", 5), long("b", 3), long("a", 7)],
            vec![long("c", 7)],
        ];
        assert_eq!(
            counts(&aggregate("sum", Aggregate::Sum, true, &data, &sum)),
            [0; 5]
        );
        // After a repartition the keys may sit in other partitions, one partition per key.
        let cnt = vec![
            vec![long("c", 1)],
            vec![long("a", 1), long("b", 1), long("a", 2)],
        ];
        assert_eq!(
            counts(&aggregate("cnt", Aggregate::Count, false, &data, &cnt)),
            [0; 5]
        );
    }

    #[test]
    fn a_replay_counts_duplicates_and_reapplied_records_not_losses() {
        let data = data();
        // b=3 processed twice: once more in the copy, applied twice to the sum and the count.
        let echo = vec![
            vec![
                copy(&data[0][0]),
                copy(&data[0][1]),
                copy(&data[0][1]),
                copy(&data[0][2]),
            ],
            vec![copy(&data[1][0])],
        ];
        let t = copies("echo", &data, &echo);
        assert_eq!((t.lost, t.duplicated, t.wrong), (0, 1, 0));
        assert!(t.mismatched > 0, "not the exact output record for record");
        let sum = vec![
            vec![long("a", 5), long("b", 3), long("b", 6), long("a", 7)],
            vec![long("c", 7)],
        ];
        let t = aggregate("sum", Aggregate::Sum, true, &data, &sum);
        assert_eq!((t.lost, t.duplicated, t.reapplied, t.wrong), (0, 1, 1, 0));
        assert!(t.mismatched > 0);
        let cnt = vec![vec![
            long("a", 1),
            long("b", 1),
            long("b", 2),
            long("a", 2),
            long("c", 1),
        ]];
        let t = aggregate("cnt", Aggregate::Count, false, &data, &cnt);
        assert_eq!((t.lost, t.duplicated, t.reapplied, t.wrong), (0, 1, 1, 0));
        // A min replayed from an older state: a duplicate, the extreme still reached.
        let min = vec![
            vec![int("a", 5), int("b", 3), int("a", 2), int("a", 2)],
            vec![int("c", 7)],
        ];
        let t = aggregate("min", Aggregate::Min, true, &data, &min);
        assert_eq!((t.lost, t.duplicated, t.wrong), (0, 1, 0));
    }

    #[test]
    fn a_missing_record_is_lost() {
        let data = data();
        let echo = vec![
            vec![copy(&data[0][0]), copy(&data[0][1])],
            vec![copy(&data[1][0])],
        ];
        let t = copies("echo", &data, &echo);
        assert_eq!((t.lost, t.duplicated, t.mismatched), (1, 0, 1));
        let sum = vec![vec![long("a", 5), long("b", 3)], vec![long("c", 7)]];
        assert_eq!(aggregate("sum", Aggregate::Sum, true, &data, &sum).lost, 1);
        // As many outputs as inputs, but a=2 never applied (one of b's outputs doubled).
        let min = vec![
            vec![int("a", 5), int("b", 3), int("a", 5)],
            vec![int("c", 7)],
        ];
        let t = aggregate("min", Aggregate::Min, true, &data, &min);
        assert_eq!((t.lost, t.mismatched), (1, 1));
        // A count that stops one short while a replay makes up the number of outputs.
        let cnt = vec![vec![long("a", 1), long("a", 1), long("b", 1), long("c", 1)]];
        assert_eq!(
            aggregate("cnt", Aggregate::Count, false, &data, &cnt).lost,
            1
        );
    }

    #[test]
    fn impossible_outputs_are_wrong() {
        let data = data();
        let mut echo: Vec<Vec<Rec>> = data.iter().map(|p| p.iter().map(copy).collect()).collect();
        echo[1].push(int("c", 8));
        assert_eq!(copies("echo", &data, &echo).wrong, 1);
        // c's min in partition 0 instead of its input's partition 1.
        let min = vec![
            vec![int("a", 5), int("b", 3), int("a", 2), int("c", 7)],
            vec![],
        ];
        assert_eq!(aggregate("min", Aggregate::Min, true, &data, &min).wrong, 1);
        // A max that is none of the key's values.
        let max = vec![vec![int("a", 5), int("b", 4), int("a", 5), int("c", 7)]];
        assert_eq!(
            aggregate("max", Aggregate::Max, false, &data, &max).wrong,
            1
        );
        let undecodable = vec![vec![long("a", 5)], vec![]];
        assert!(aggregate("min", Aggregate::Min, true, &data, &undecodable).wrong > 0);
    }
}
