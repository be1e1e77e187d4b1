//! The harness's own Kafka clients: topic admin, the pre-loader, the rate-limited load producer
//! and the measuring consumer on the output topic. Every wait here is bounded.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_executor::block_on;
use hdrhistogram::Histogram;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message, Timestamp};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::scenario;

/// Wall-clock now in microseconds since the epoch.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Wall-clock now in milliseconds since the epoch (a Kafka record timestamp).
pub(crate) fn now_ms() -> i64 {
    (now_us() / 1000) as i64
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Topic admin for the harness.
pub(crate) struct Admin {
    client: AdminClient<DefaultClientContext>,
    bootstrap: String,
}

impl Admin {
    /// Connects and checks that the broker answers (within 15 s).
    pub(crate) fn connect(bootstrap: &str) -> Result<Admin, String> {
        let client: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("client.id", "e2e-harness-admin")
            .create()
            .map_err(|e| format!("creating the admin client for `{bootstrap}`: {e}"))?;
        client
            .inner()
            .fetch_metadata(None, Duration::from_secs(15))
            .map_err(|e| {
                format!("broker `{bootstrap}` did not answer a metadata request within 15 s: {e}")
            })?;
        Ok(Admin {
            client,
            bootstrap: bootstrap.to_string(),
        })
    }

    /// Creates fresh topics (each `partitions` partitions, replication 1) and waits until
    /// the broker's metadata shows them.
    pub(crate) fn create_topics(&self, names: &[&str], partitions: i32) -> Result<(), String> {
        self.create_topics_with(names, partitions, &[])
    }

    /// [`create_topics`](Self::create_topics) with topic configs.
    pub(crate) fn create_topics_with(
        &self,
        names: &[&str],
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<(), String> {
        let topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|n| {
                configs.iter().fold(
                    NewTopic::new(n, partitions, TopicReplication::Fixed(1)),
                    |t, (k, v)| t.set(k, v),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(ADMIN_TIMEOUT))
            .request_timeout(Some(ADMIN_TIMEOUT));
        let results = block_on(self.client.create_topics(&topics, &options))
            .map_err(|e| format!("creating topics {names:?}: {e}"))?;
        for r in results {
            if let Err((topic, code)) = r
                && code != RDKafkaErrorCode::TopicAlreadyExists
            {
                return Err(format!("creating topic `{topic}`: {code}"));
            }
        }
        let deadline = Instant::now() + ADMIN_TIMEOUT;
        loop {
            let md = self
                .client
                .inner()
                .fetch_metadata(None, Duration::from_secs(5))
                .map_err(|e| format!("reading metadata from `{}`: {e}", self.bootstrap))?;
            let ready = names.iter().all(|n| {
                md.topics().iter().any(|t| {
                    t.name() == *n
                        && t.error().is_none()
                        && t.partitions().len() == partitions as usize
                        && t.partitions().iter().all(|p| p.leader() >= 0)
                })
            });
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "topics {names:?} not visible after {ADMIN_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Deletes topics whose name starts with `prefix` (best effort; frees the broker's disk).
    pub(crate) fn delete_prefixed(&self, prefix: &str) {
        let Ok(md) = self
            .client
            .inner()
            .fetch_metadata(None, Duration::from_secs(10))
        else {
            return;
        };
        let names: Vec<String> = md
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|n| n.starts_with(prefix))
            .collect();
        if names.is_empty() {
            return;
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(ADMIN_TIMEOUT))
            .request_timeout(Some(ADMIN_TIMEOUT));
        let _ = block_on(self.client.delete_topics(&refs, &options));
    }
}

/// A producer for the harness's own input records.
fn harness_producer(bootstrap: &str, linger_ms: &str) -> Result<BaseProducer, String> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "e2e-harness-producer")
        .set("partitioner", "murmur2_random")
        .set("acks", "all")
        .set("linger.ms", linger_ms)
        .set("batch.size", "1000000")
        .set("compression.type", "none")
        .set("queue.buffering.max.messages", "1000000")
        .set("message.timeout.ms", "60000")
        .create()
        .map_err(|e| format!("creating the harness producer: {e}"))
}

/// Sends one record, waiting (bounded by the producer's message timeout) while its queue is
/// full.
fn send(
    producer: &BaseProducer,
    topic: &str,
    key: &[u8],
    value: &[u8],
    ts: i64,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record = BaseRecord::to(topic).key(key).payload(value).timestamp(ts);
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                if Instant::now() > deadline {
                    return Err(format!("producer queue to `{topic}` stayed full for 60 s"));
                }
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(format!("producing to `{topic}`: {e}")),
        }
    }
}

fn flush(producer: &BaseProducer, topic: &str) -> Result<(), String> {
    producer
        .flush(Duration::from_secs(120))
        .map_err(|e| format!("flushing records to `{topic}`: {e}"))?;
    // Deliveries that failed after being queued (e.g. the broker went away).
    Ok(())
}

/// Pre-loads `records` input records into `topic` as fast as possible, with a progress line
/// on stderr. Record `i`'s timestamp is the start time plus `i` /
/// [`scenario::EVENT_RECORDS_PER_MS`] ms: the input's event time does not depend on how fast
/// this machine loaded it, so what the windowed scenarios compute (how many records share a
/// window, how many pairs a join finds) is the same in every run.
pub(crate) fn preload(
    bootstrap: &str,
    topic: &str,
    records: u64,
    keys: u64,
    value_size: usize,
) -> Result<Duration, String> {
    let producer = harness_producer(bootstrap, "5")?;
    let start = Instant::now();
    let first_ms = now_ms();
    let mut value = Vec::with_capacity(value_size);
    let mut last_report = Instant::now();
    let mut err = std::io::stderr();
    for i in 0..records {
        let key = scenario::key(i, keys);
        scenario::value(i, value_size, &mut value);
        let ts = first_ms + (i / scenario::EVENT_RECORDS_PER_MS) as i64;
        send(&producer, topic, key.as_bytes(), &value, ts)?;
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
            if last_report.elapsed() >= Duration::from_millis(250) {
                last_report = Instant::now();
                progress(&mut err, "pre-loading", topic, i, records, start.elapsed());
            }
        }
    }
    flush(&producer, topic)?;
    progress(
        &mut err,
        "pre-loaded",
        topic,
        records,
        records,
        start.elapsed(),
    );
    let _ = writeln!(err);
    Ok(start.elapsed())
}

fn progress(
    err: &mut std::io::Stderr,
    what: &str,
    topic: &str,
    done: u64,
    total: u64,
    elapsed: Duration,
) {
    let width = 30usize;
    let filled = (done as f64 / total.max(1) as f64 * width as f64) as usize;
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    let _ = write!(
        err,
        "\r  {what} {topic} [{}{}] {done}/{total} ({:.0}k rec/s)   ",
        "#".repeat(filled.min(width)),
        "-".repeat(width - filled.min(width)),
        rate / 1000.0,
    );
    let _ = err.flush();
}

/// Pre-loads the join scenario's table: one row per key.
pub(crate) fn preload_table(bootstrap: &str, topic: &str, keys: u64) -> Result<(), String> {
    let producer = harness_producer(bootstrap, "5")?;
    for k in 0..keys {
        let key = scenario::key(k, keys);
        let value = scenario::table_value(k);
        send(&producer, topic, key.as_bytes(), value.as_bytes(), now_ms())?;
        if k % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    flush(&producer, topic)
}

/// What the rate-limited load producer achieved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadStats {
    pub(crate) sent: u64,
    pub(crate) achieved_rate: f64,
}

/// Produces input records to `topic` at `rate` records/s (timestamps = send time) for
/// `duration`, in a thread. Stops early when `stop` is set.
pub(crate) fn spawn_load(
    bootstrap: String,
    topic: String,
    duration: Duration,
    rate: f64,
    keys: u64,
    value_size: usize,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Result<LoadStats, String>> {
    std::thread::spawn(move || {
        // linger 1 ms: adds at most ~1 ms to the measured latency, while keeping the broker's
        // request rate bounded (linger 0 sends tiny requests as fast as it can, which on a
        // small machine loads the broker more than the contender does).
        let producer = harness_producer(&bootstrap, "1")?;
        let start = Instant::now();
        let mut value = Vec::with_capacity(value_size);
        let mut sent = 0u64;
        let total = (rate * duration.as_secs_f64()).ceil() as u64;
        while sent < total && start.elapsed() < duration && !stop.load(Ordering::Relaxed) {
            let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
            if sent >= due {
                producer.poll(Duration::ZERO);
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            while sent < due {
                let key = scenario::key(sent, keys);
                scenario::value(sent, value_size, &mut value);
                send(&producer, &topic, key.as_bytes(), &value, now_ms())?;
                sent += 1;
            }
            producer.poll(Duration::ZERO);
        }
        let elapsed = start.elapsed().as_secs_f64().max(1e-9);
        flush(&producer, &topic)?;
        Ok(LoadStats {
            sent,
            achieved_rate: sent as f64 / elapsed,
        })
    })
}

/// What the measuring consumer saw on an output topic.
pub(crate) struct Measurement {
    pub(crate) count: u64,
    pub(crate) bytes: u64,
    pub(crate) first_us: Option<u64>,
    pub(crate) last_us: Option<u64>,
    /// First and last broker append time (ms) of output records on a `LogAppendTime` topic.
    pub(crate) append_ms: Option<(i64, i64)>,
    /// End-to-end latency (µs) of records whose input was sent after the warm-up cut.
    pub(crate) latency: Histogram<u64>,
    /// Whether it read up to the output's end after the contender stopped.
    pub(crate) drained: bool,
}

/// A consumer reading an output topic from the beginning (no group), recording arrival times.
pub(crate) struct Measurer {
    handle: JoinHandle<Result<Measurement, String>>,
    done: Arc<AtomicBool>,
    /// Records whose (input) timestamp is at least this (ms) go into the latency histogram.
    pub(crate) latency_cut_ms: Arc<AtomicU64>,
}

impl Measurer {
    pub(crate) fn start(
        bootstrap: &str,
        topic: &str,
        partitions: i32,
        deadline: Instant,
    ) -> Result<Measurer, String> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("client.id", "e2e-harness-measurer")
            .set("group.id", format!("e2e-measurer-{topic}"))
            .set("enable.auto.commit", "false")
            // Committed output only: what an exactly-once contender's readers see (the same
            // as read_uncommitted for non-transactional output).
            .set("isolation.level", "read_committed")
            .set("fetch.wait.max.ms", "10")
            .set("fetch.min.bytes", "1")
            .create()
            .map_err(|e| format!("creating the measuring consumer: {e}"))?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(|e| format!("assigning {topic}/{p}: {e}"))?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| format!("assigning `{topic}` to the measuring consumer: {e}"))?;
        let done = Arc::new(AtomicBool::new(false));
        let latency_cut_ms = Arc::new(AtomicU64::new(u64::MAX));
        let topic = topic.to_string();
        let handle = {
            let done = Arc::clone(&done);
            let cut = Arc::clone(&latency_cut_ms);
            std::thread::spawn(move || {
                measure(&consumer, &topic, partitions, &done, &cut, deadline)
            })
        };
        Ok(Measurer {
            handle,
            done,
            latency_cut_ms,
        })
    }

    /// Tells the measurer the contender has stopped: read to the output's current end (at
    /// most 30 s more) and return.
    pub(crate) fn finish(self) -> Result<Measurement, String> {
        self.done.store(true, Ordering::Release);
        self.handle
            .join()
            .map_err(|_| "the measuring consumer panicked".to_string())?
    }
}

fn measure(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: i32,
    done: &AtomicBool,
    cut: &AtomicU64,
    deadline: Instant,
) -> Result<Measurement, String> {
    let mut m = Measurement {
        count: 0,
        bytes: 0,
        first_us: None,
        last_us: None,
        append_ms: None,
        latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .map_err(|e| format!("histogram: {e}"))?,
        drained: false,
    };
    // Next offset to read per partition.
    let mut next = vec![0i64; partitions as usize];
    let mut ends: Option<Vec<i64>> = None;
    let mut drain_deadline = deadline;
    loop {
        if ends.is_none() && done.load(Ordering::Acquire) {
            let mut e = Vec::with_capacity(partitions as usize);
            for p in 0..partitions {
                let (_, high) = consumer
                    .fetch_watermarks(topic, p, Duration::from_secs(10))
                    .map_err(|err| format!("reading the end offsets of `{topic}`: {err}"))?;
                e.push(high);
            }
            ends = Some(e);
            drain_deadline = drain_deadline.min(Instant::now() + Duration::from_secs(30));
        }
        if let Some(e) = &ends
            && next.iter().zip(e).all(|(n, h)| n >= h)
        {
            m.drained = true;
            return Ok(m);
        }
        if Instant::now() > drain_deadline {
            return Ok(m);
        }
        match consumer.poll(Duration::from_millis(50)) {
            None => {
                // Idle: the position can be past the last record read (transaction markers of
                // an exactly-once contender's output take offsets too).
                if ends.is_some()
                    && let Ok(positions) = consumer.position()
                {
                    for (p, slot) in next.iter_mut().enumerate() {
                        if let Some(rdkafka::Offset::Offset(o)) = positions
                            .find_partition(topic, p as i32)
                            .map(|e| e.offset())
                        {
                            *slot = (*slot).max(o);
                        }
                    }
                }
            }
            Some(Err(e)) => {
                if matches!(
                    e.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic
                    )
                ) {
                    return Err(format!("measuring `{topic}`: {e}"));
                }
            }
            Some(Ok(msg)) => {
                let arrival = now_us();
                m.count += 1;
                m.bytes += (msg.key().map_or(0, <[u8]>::len) + msg.payload_len()) as u64;
                m.first_us.get_or_insert(arrival);
                m.last_us = Some(arrival);
                if let Some(slot) = next.get_mut(msg.partition() as usize) {
                    *slot = msg.offset() + 1;
                }
                if let Timestamp::LogAppendTime(t) = msg.timestamp() {
                    m.append_ms = Some(m.append_ms.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
                } else if let Some(ts) = msg.timestamp().to_millis()
                    && ts >= 0
                    && ts as u64 >= cut.load(Ordering::Relaxed)
                {
                    let latency = arrival.saturating_sub(ts as u64 * 1000).max(1);
                    let _ = m.latency.record(latency);
                }
            }
        }
    }
}
