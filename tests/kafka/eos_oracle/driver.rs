//! The driver — Kafka's `EosTestDriver.generate`: writes `data` at a steady rate for as long as
//! the run lasts, random keys below 20 000 (as strings, Java's `StringSerializer`) and values
//! below 10 000 (4 bytes big-endian, Java's `IntegerSerializer`) with the record's timestamp,
//! through an idempotent producer, and counts what the broker acknowledged.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};

use super::DATA;

const MAX_KEY: u64 = 20_000;
const MAX_VALUE: u64 = 10_000;

/// What the driver wrote.
#[derive(Debug)]
pub(super) struct Written {
    pub(super) sent: u64,
    pub(super) acked: u64,
    pub(super) failed: u64,
    pub(super) first_failure: Option<String>,
    pub(super) elapsed: Duration,
}

/// The driver's thread, stopped by [`Driver::stop`] or when dropped.
pub(super) struct Driver {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Written>>,
}

impl Driver {
    /// Starts writing `rate` records per second to `data`; `seed` seeds the random keys and
    /// values.
    pub(super) fn start(bootstrap: &str, rate: u64, seed: u64) -> Driver {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let bootstrap = bootstrap.to_string();
        let thread = std::thread::spawn(move || generate(&bootstrap, rate, seed, &stopped));
        Driver {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops writing, waits until every record is acknowledged (or failed), and says what was
    /// written.
    pub(super) fn stop(mut self) -> Written {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .expect("driver thread")
            .join()
            .expect("driver thread panicked")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Counts the broker's acknowledgements.
#[derive(Default)]
struct Acks {
    acked: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_failure
                    .lock()
                    .expect("lock")
                    .get_or_insert_with(|| error.to_string());
            }
        }
    }
}

fn generate(bootstrap: &str, rate: u64, seed: u64, stop: &AtomicBool) -> Written {
    let producer: BaseProducer<Acks> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "EosTest-driver")
        .set("partitioner", "murmur2_random")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // The broker's hard restart is waited out, however long the machine takes.
        .set("message.timeout.ms", "600000")
        .create_with_context(Acks::default())
        .expect("driver producer");
    let mut random = SplitMix64(seed);
    let started = Instant::now();
    let mut sent = 0u64;
    let mut failed_sends = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let due = started.elapsed().as_millis() as u64 * rate / 1000;
        while sent < due && !stop.load(Ordering::SeqCst) {
            let key = (random.next() % MAX_KEY).to_string();
            let value = ((random.next() % MAX_VALUE) as i32).to_be_bytes();
            let mut record = BaseRecord::to(DATA)
                .key(key.as_str())
                .payload(&value[..])
                .timestamp(now_ms());
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        producer.poll(Duration::from_millis(10));
                        record = back;
                    }
                    Err((error, _)) => {
                        failed_sends += 1;
                        producer
                            .context()
                            .first_failure
                            .lock()
                            .expect("lock")
                            .get_or_insert_with(|| format!("send: {error}"));
                        break;
                    }
                }
            }
            sent += 1;
        }
        producer.poll(Duration::from_millis(10));
    }
    let flushed = producer.flush(Duration::from_secs(600));
    let acks = producer.context();
    let mut first_failure = acks.first_failure.lock().expect("lock").clone();
    if let Err(error) = flushed {
        first_failure.get_or_insert_with(|| format!("flush: {error}"));
    }
    Written {
        sent,
        acked: acks.acked.load(Ordering::Relaxed),
        failed: acks.failed.load(Ordering::Relaxed) + failed_sends,
        first_failure,
        elapsed: started.elapsed(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A small seeded random generator (SplitMix64): the run's random choices without a dependency.
pub(super) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration in `[low, high)` milliseconds.
    pub(super) fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low))
    }
}
