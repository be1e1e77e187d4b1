//! The producer side of a stream thread: a [`RecordCollector`] over the thread's producer, and
//! the delivery reports that feed the production error handler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use tracing::{error, warn};

use crate::config::{
    ProductionErrorHandler, ProductionFailure, ProductionHandler, ProductionResponse,
    production_response,
};
use crate::error::StreamsError;
use crate::processor::task_state::{OutputRecord, RecordCollector};

use super::partitions::PartitionMap;

/// A thread's producer.
pub(crate) type Producer = BaseProducer<DeliveryReports>;

/// A record the producer could not deliver.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryFailure {
    pub(crate) topic: String,
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) error: KafkaError,
}

impl DeliveryFailure {
    /// The failure as the production exception handler sees it.
    pub(crate) fn view(&self) -> ProductionFailure<'_> {
        ProductionFailure {
            topic: &self.topic,
            partition: self.partition,
            key: self.key.as_deref(),
            value: self.value.as_deref(),
            error: &self.error,
        }
    }
}

/// The production exception handler: named, or code of the user's (which takes precedence).
#[derive(Clone)]
pub(crate) struct ProductionHandlers {
    pub(crate) named: ProductionHandler,
    pub(crate) user: Option<Arc<dyn ProductionErrorHandler>>,
}

impl ProductionHandlers {
    /// What to do about `failure`.
    pub(crate) fn respond(&self, failure: &ProductionFailure<'_>) -> ProductionResponse {
        production_response(self.named, self.user.as_deref(), failure)
    }
}

/// The delivery opaque of an output record.
pub(crate) const OUTPUT: usize = 0;
/// The delivery opaque of a changelog record: its offset is tracked for checkpoints.
pub(crate) const CHANGELOG: usize = 1;
/// The bit of the delivery opaque that tells its kind ([`OUTPUT`] or [`CHANGELOG`]); [`send`]
/// puts the record's epoch in the bits above it.
const KIND: usize = 1;

/// Records sent and not yet reported, by the epoch they were sent in. An at-least-once commit
/// starts a new epoch; its offsets may be committed once every record of the epochs before
/// was reported.
#[derive(Debug)]
struct Epochs {
    /// The epoch of `unreported[0]`.
    first: usize,
    /// Unreported records of each epoch from `first`; the last entry is the current epoch.
    unreported: std::collections::VecDeque<u64>,
}

impl Default for Epochs {
    fn default() -> Self {
        Epochs {
            first: 0,
            unreported: std::collections::VecDeque::from([0]),
        }
    }
}

impl Epochs {
    fn current(&self) -> usize {
        self.first + self.unreported.len() - 1
    }

    /// Drops the leading epochs that have nothing unreported, keeping the current one.
    fn trim(&mut self) {
        while self.unreported.len() > 1 && self.unreported.front() == Some(&0) {
            self.unreported.pop_front();
            self.first += 1;
        }
    }
}

/// Collects failed deliveries and the offsets of delivered changelog records (reported on
/// whichever thread polls the producer).
#[derive(Default)]
pub(crate) struct DeliveryReports {
    failures: Mutex<Vec<DeliveryFailure>>,
    /// A send the production handler answered `Retry` to: the thread's tasks must start again
    /// from their committed offsets.
    retry: Mutex<Option<DeliveryFailure>>,
    /// Highest delivered offset per changelog partition.
    changelog_offsets: Mutex<PartitionMap<i64>>,
    /// The producer is transactional (exactly-once): sends begin a transaction if none is open.
    transactional: bool,
    /// A transaction is open.
    in_transaction: std::sync::atomic::AtomicBool,
    /// Delivery reports served so far.
    served: AtomicU64,
    /// Records not yet reported, by epoch.
    epochs: Mutex<Epochs>,
}

impl DeliveryReports {
    /// The context of a transactional producer.
    pub(crate) fn transactional() -> Self {
        DeliveryReports {
            transactional: true,
            ..Self::default()
        }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.load(Ordering::Acquire)
    }

    /// Records that the open transaction ended (committed or aborted).
    pub(crate) fn transaction_ended(&self) {
        self.in_transaction.store(false, Ordering::Release);
    }

    /// How many delivery reports were served so far.
    pub(crate) fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// The failures reported since the last call.
    pub(crate) fn take_failures(&self) -> Vec<DeliveryFailure> {
        std::mem::take(&mut *self.failures.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Asks for the thread's tasks to start again from their committed offsets.
    pub(crate) fn request_retry(&self, failure: DeliveryFailure) {
        let mut retry = self.retry.lock().unwrap_or_else(|p| p.into_inner());
        retry.get_or_insert(failure);
    }

    /// The retry asked for since the last call, if any.
    pub(crate) fn take_retry(&self) -> Option<DeliveryFailure> {
        self.retry.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Starts a new epoch (an at-least-once commit point) and returns it: once
    /// [`reported_before`](Self::reported_before) it, every record sent until now was reported.
    pub(crate) fn next_epoch(&self) -> usize {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        epochs.unreported.push_back(0);
        epochs.trim();
        epochs.current()
    }

    /// Whether every record sent before `epoch` began was reported (delivered or failed).
    pub(crate) fn reported_before(&self, epoch: usize) -> bool {
        let epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        epochs.first >= epoch
    }

    /// Counts a record handed to the producer; returns its delivery opaque (`kind` with the
    /// current epoch).
    fn sent(&self, kind: usize) -> usize {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = epochs.unreported.back_mut() {
            *last += 1;
        }
        (epochs.current() << 1) | (kind & KIND)
    }

    /// Takes back [`sent`](Self::sent) for a record the producer refused.
    fn unsent(&self, opaque: usize) {
        self.reported(opaque);
    }

    /// Counts the report of the record sent with `opaque`.
    fn reported(&self, opaque: usize) {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        let index = (opaque >> 1).wrapping_sub(epochs.first);
        if let Some(n) = epochs.unreported.get_mut(index) {
            *n = n.saturating_sub(1);
        }
        epochs.trim();
    }

    /// The offset of the last changelog record delivered to (topic, partition), if any.
    pub(crate) fn changelog_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let offsets = self
            .changelog_offsets
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        offsets.get(topic, partition).copied()
    }
}

impl ClientContext for DeliveryReports {}

impl ProducerContext for DeliveryReports {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.reported(opaque);
        if opaque & KIND == CHANGELOG
            && let Ok(message) = result
        {
            let mut offsets = self
                .changelog_offsets
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = offsets.slot(message.topic(), message.partition()) {
                *slot = Some(slot.map_or(message.offset(), |o| o.max(message.offset())));
            }
        }
        if let Err((e, message)) = result {
            let failure = DeliveryFailure {
                topic: message.topic().to_string(),
                partition: Some(message.partition()),
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().map(<[u8]>::to_vec),
                error: e.clone(),
            };
            self.failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(failure);
        }
    }
}

/// Waits until every record sent is acknowledged or failed (serving delivery reports), for at
/// most `timeout`.
///
/// rust-rdkafka's `BaseProducer::poll(d)` waits in whole milliseconds and runs to its deadline,
/// so its last (sub-millisecond) stretch is a busy loop, and `flush` polls in 100 ms slices: a
/// flush in `poll` slices either stalls the stream thread or spins, taking the CPU the broker
/// threads (and, on a small machine, the broker) need to acknowledge what it waits for. This
/// serves the reports that arrived without waiting, and naps [`NAP`] when none had; every
/// millisecond it wakes the broker threads again to send what lingers (`rd_kafka_flush`).
pub(crate) fn flush(producer: &Producer, timeout: Duration) -> Result<(), KafkaError> {
    let deadline = Instant::now() + timeout;
    let mut woken = Instant::now();
    if producer_flush_now(producer, deadline)? {
        return Ok(());
    }
    loop {
        let served = serve_reports(producer);
        if producer.in_flight_count() == 0 || Instant::now() >= woken + Duration::from_millis(1) {
            if producer_flush_now(producer, deadline)? {
                return Ok(());
            }
            woken = Instant::now();
        } else if !served {
            std::thread::sleep(NAP);
        }
    }
}

/// How long a wait for delivery reports naps when none was waiting.
const NAP: Duration = Duration::from_micros(100);

/// Serves the delivery reports that arrived, without waiting; whether there were any.
fn serve_reports(producer: &Producer) -> bool {
    let before = producer.context().served();
    producer.poll(Duration::ZERO);
    producer.context().served() != before
}

/// `rd_kafka_flush` without waiting: `true` when nothing is in flight; otherwise wakes the
/// broker threads to send what is queued without waiting for `linger.ms`. Past `deadline`, the
/// records still in flight are a timeout.
pub(crate) fn producer_flush_now(
    producer: &Producer,
    deadline: Instant,
) -> Result<bool, KafkaError> {
    match producer.flush(Duration::ZERO) {
        Ok(()) => Ok(true),
        Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut))
            if Instant::now() < deadline =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// How long a send waits for room in a full producer queue before giving up.
const QUEUE_FULL_WAIT: Duration = Duration::from_secs(60);

/// Begins a transaction unless one is open (transactional producers only): Kafka Streams
/// begins them lazily, at the first record of a commit interval.
pub(crate) fn ensure_transaction(producer: &Producer) -> Result<(), KafkaError> {
    let context = producer.context();
    if context.transactional && !context.in_transaction() {
        producer.begin_transaction()?;
        context.in_transaction.store(true, Ordering::Release);
    }
    Ok(())
}

/// Sends a record (its delivery opaque [`OUTPUT`] or [`CHANGELOG`]) in the current epoch;
/// while the producer's queue is full, serves delivery reports to make room and retries, for
/// at most [`QUEUE_FULL_WAIT`].
pub(crate) fn send(
    producer: &Producer,
    mut record: BaseRecord<'_, [u8], [u8], usize>,
) -> Result<(), KafkaError> {
    ensure_transaction(producer)?;
    let mut deadline = None;
    loop {
        record.delivery_opaque = producer.context().sent(record.delivery_opaque);
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                if *deadline.get_or_insert_with(|| Instant::now() + QUEUE_FULL_WAIT)
                    > Instant::now() =>
            {
                // Room is made by serving delivery reports (see `flush` on why not by polling
                // with a timeout).
                producer.context().unsent(back.delivery_opaque);
                if !serve_reports(producer) {
                    std::thread::sleep(NAP);
                }
                record = back;
            }
            Err((e, back)) => {
                producer.context().unsent(back.delivery_opaque);
                return Err(e);
            }
        }
    }
}

/// Sends a task's sink records to the thread's producer, with the record's timestamp; the
/// partition comes from the producer's partitioner (`murmur2_random`).
pub(crate) struct KafkaCollector {
    pub(crate) producer: Arc<Producer>,
    /// Partition counts of the topics sinks with a partitioner wrote to.
    pub(crate) partition_counts: HashMap<String, i32>,
    pub(crate) handlers: ProductionHandlers,
    /// Records dropped by a `continue` handler, shared with the thread's metrics.
    pub(crate) dropped: Arc<AtomicU64>,
}

impl RecordCollector for KafkaCollector {
    fn send(&mut self, record: OutputRecord<'_>) -> Result<(), StreamsError> {
        let headers = (!record.headers.is_empty()).then(|| {
            record.headers.iter().fold(
                OwnedHeaders::new_with_capacity(record.headers.len()),
                |h, header| {
                    h.insert(Header {
                        key: &header.key,
                        value: header.value.as_deref(),
                    })
                },
            )
        });
        let mut base: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(record.topic, OUTPUT).timestamp(record.timestamp);
        if let Some(partition) = record.partition {
            base = base.partition(partition);
        }
        if let Some(key) = record.key {
            base = base.key(key);
        }
        if let Some(value) = record.value {
            base = base.payload(value);
        }
        if let Some(headers) = headers {
            base = base.headers(headers);
        }
        let Err(error) = send(&self.producer, base) else {
            return Ok(());
        };
        let failure = DeliveryFailure {
            topic: record.topic.to_string(),
            partition: record.partition,
            key: record.key.map(<[u8]>::to_vec),
            value: record.value.map(<[u8]>::to_vec),
            error,
        };
        match self.handlers.respond(&failure.view()) {
            ProductionResponse::Continue => {
                error!(topic = record.topic, error = %failure.error,
                    "dropping a record the producer refused (the production handler says continue)");
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            ProductionResponse::Retry => {
                warn!(topic = record.topic, error = %failure.error,
                    "the producer refused a record; the tasks start again from their committed \
                     offsets to produce it again (the production handler says retry)");
                self.producer.context().request_retry(failure);
                Ok(())
            }
            _ => Err(StreamsError::Production {
                topic: failure.topic,
                source: Box::new(failure.error),
            }),
        }
    }

    fn partition_count(&mut self, topic: &str) -> Result<i32, StreamsError> {
        if let Some(&n) = self.partition_counts.get(topic) {
            return Ok(n);
        }
        let error =
            |source: Box<dyn std::error::Error + Send + Sync>| StreamsError::PartitionCount {
                topic: topic.to_string(),
                source,
            };
        let metadata = self
            .producer
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(30))
            .map_err(|e| error(Box::new(e)))?;
        let n = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
            .filter(|&n| n > 0)
            .ok_or_else(|| error(format!("topic `{topic}` is unknown to the cluster").into()))?;
        let n = i32::try_from(n).map_err(|e| error(Box::new(e)))?;
        self.partition_counts.insert(topic.to_string(), n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_is_reported_once_every_record_sent_before_it_is() {
        let reports = DeliveryReports::default();
        let a = reports.sent(OUTPUT);
        let b = reports.sent(CHANGELOG);
        assert_eq!(b & KIND, CHANGELOG);
        let first = reports.next_epoch();
        assert!(!reports.reported_before(first));
        let c = reports.sent(OUTPUT);
        let second = reports.next_epoch();
        // A record of the later epoch reported first does not complete the earlier one.
        reports.reported(c);
        reports.reported(a);
        assert!(!reports.reported_before(first));
        assert!(!reports.reported_before(second));
        reports.reported(b);
        assert!(reports.reported_before(first));
        assert!(reports.reported_before(second));
    }

    #[test]
    fn a_refused_send_is_not_waited_for() {
        let reports = DeliveryReports::default();
        let a = reports.sent(OUTPUT);
        let epoch = reports.next_epoch();
        reports.unsent(a);
        assert!(reports.reported_before(epoch));
        // Nothing sent since: the next epoch is complete at once.
        assert!(reports.reported_before(reports.next_epoch()));
    }
}
