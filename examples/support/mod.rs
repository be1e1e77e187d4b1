//! What the examples share: the cluster (embedded or real), producing input, reading output
//! with a plain consumer, and stopping on SIGINT/SIGTERM.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use streams::kafka::EmbeddedKafka;

pub(crate) type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The command line: `[--bootstrap-servers HOST:PORT] [--lines N] [--threads N] [--app NAME]`.
#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) bootstrap_servers: Option<String>,
    pub(crate) lines: Option<usize>,
    pub(crate) threads: Option<usize>,
    /// `--app NAME`: the application id (examples that keep state reuse it across runs).
    pub(crate) app: Option<String>,
    /// `--dsl`: build the topology with the DSL instead of `topology!` (examples that show both).
    pub(crate) dsl: bool,
    /// `--processing-guarantee at_least_once|exactly_once_v2` (default `at_least_once`).
    pub(crate) processing_guarantee: Option<String>,
}

impl Args {
    /// `processing.guarantee` as given (default `at_least_once`).
    pub(crate) fn guarantee(&self) -> &str {
        self.processing_guarantee
            .as_deref()
            .unwrap_or("at_least_once")
    }
}

impl Args {
    pub(crate) fn parse() -> Result<Self> {
        let mut args = Args::default();
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--bootstrap-servers" => args.bootstrap_servers = Some(value()?),
                "--lines" => args.lines = Some(value()?.parse()?),
                "--threads" => args.threads = Some(value()?.parse()?),
                "--app" => args.app = Some(value()?),
                "--dsl" => args.dsl = true,
                "--processing-guarantee" => args.processing_guarantee = Some(value()?),
                other => {
                    return Err(format!(
                        "unknown argument `{other}`; usage: [--bootstrap-servers HOST:PORT] \
                         [--lines N] [--threads N] [--app NAME] [--dsl] \
                         [--processing-guarantee at_least_once|exactly_once_v2]"
                    )
                    .into());
                }
            }
        }
        Ok(args)
    }
}

/// Prints the library's logs (skipped records, missing topics, restoration progress, state
/// changes) on stderr: `RUST_LOG` if set (e.g. `RUST_LOG=streams_core=debug`), else warnings and
/// the library's own info lines. An application installs a `tracing` subscriber the same way.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,streams_core=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Where the example runs: an in-process broker, or a real cluster.
pub(crate) enum Cluster {
    Embedded(EmbeddedKafka),
    Real(String),
}

impl Cluster {
    pub(crate) fn connect(bootstrap_servers: Option<String>) -> Result<Self> {
        Ok(match bootstrap_servers {
            Some(servers) => Cluster::Real(servers),
            None => Cluster::Embedded(EmbeddedKafka::start()?),
        })
    }

    pub(crate) fn bootstrap_servers(&self) -> &str {
        match self {
            Cluster::Embedded(kafka) => kafka.bootstrap_servers(),
            Cluster::Real(servers) => servers,
        }
    }

    pub(crate) fn is_embedded(&self) -> bool {
        matches!(self, Cluster::Embedded(_))
    }

    /// Creates the topics (the admin client on a real cluster, the mock API when embedded).
    pub(crate) fn create_topics(&self, topics: &[(&str, i32)]) -> Result<()> {
        streams::kafka::create_topics(self.bootstrap_servers(), topics, Duration::from_secs(30))?;
        Ok(())
    }
}

/// A suffix that makes topic names and application ids unique per run.
pub(crate) fn run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}")
}

/// Set by SIGINT/SIGTERM.
pub(crate) fn stop_on_signal() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    Ok(stop)
}

/// Writes (key, value) records to `topic` and waits until all are acknowledged.
#[allow(
    dead_code,
    reason = "shared by the examples; one writes records with event timestamps itself"
)]
pub(crate) fn produce<'a>(
    bootstrap_servers: &str,
    topic: &str,
    records: impl IntoIterator<Item = (Option<&'a [u8]>, &'a [u8])>,
) -> Result<usize> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create()?;
    let mut n = 0;
    for (key, value) in records {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        while let Err((e, back)) = producer.send(record) {
            if !matches!(
                e.rdkafka_error_code(),
                Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
            ) {
                return Err(e.into());
            }
            producer.poll(Duration::from_millis(10));
            record = back;
        }
        n += 1;
    }
    producer.flush(Duration::from_secs(60))?;
    Ok(n)
}

/// How many records `topic` holds (the sum of its partitions' end offsets).
#[allow(dead_code)] // each example compiles this module; not all of them use this
pub(crate) fn record_count(bootstrap_servers: &str, topic: &str) -> Result<usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
    let mut total = 0;
    for t in metadata.topics() {
        for p in t.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(30))?;
            total += usize::try_from(high - low)?;
        }
    }
    Ok(total)
}

/// Reads `topic` from the beginning with a plain consumer until `expected` records arrived,
/// `stop` is set or `timeout` passes; calls `f(key, value)` for each record.
#[allow(
    dead_code,
    reason = "shared by the examples; not every one reads a fixed count"
)]
pub(crate) fn read(
    bootstrap_servers: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
    stop: &AtomicBool,
    mut f: impl FnMut(Option<&[u8]>, Option<&[u8]>),
) -> Result<usize> {
    let mut n = 0;
    read_until(bootstrap_servers, topic, timeout, stop, |key, value| {
        f(key, value);
        n += 1;
        n >= expected
    })
}

/// Reads `topic` from the beginning with a plain consumer until `f(key, value)` says it has
/// seen enough, `stop` is set or `timeout` passes; returns how many records it read.
pub(crate) fn read_until(
    bootstrap_servers: &str,
    topic: &str,
    timeout: Duration,
    stop: &AtomicBool,
    mut f: impl FnMut(Option<&[u8]>, Option<&[u8]>) -> bool,
) -> Result<usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .set("group.id", format!("reader-{}", run_id()))
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
    let mut tpl = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + timeout;
    let mut n = 0;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                n += 1;
                if f(m.key(), m.payload()) {
                    break;
                }
            }
            Some(Err(e)) => return Err(e.into()),
            None => {}
        }
    }
    Ok(n)
}
