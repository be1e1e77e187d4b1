//! The foreign-key table-table join (KIP-213) — Kafka Streams' `SubscriptionSendProcessorSupplier`,
//! `SubscriptionReceiveProcessorSupplier`, `SubscriptionJoinProcessorSupplier`,
//! `ForeignTableJoinProcessorSupplier` and `ResponseJoinProcessorSupplier`, with their wire
//! formats, so the internal topics and the subscription store read as Kafka Streams' do.
//!
//! A left row subscribes to its foreign key through the subscription topic (partitioned by
//! the foreign key, so the subscription lands with the right table's row); the right side
//! answers through the response topic (back to the left row's partition) with the right value
//! and the hash of the left value it answers; the left side joins the answer only if its row
//! still hashes the same, so stale answers are dropped.

use std::sync::Arc;

use crate::codec::{Codec, CodecError};
use crate::dsl::Change;
use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::state::{TimestampedKeyValueStore, ValueAndTimestamp};
use crate::topology::StreamPartitioner;

use super::Types;
use super::aggregate::{initialized, skip_null};

/// Kafka Streams' `Murmur3.hash128` (x64, 128 bits) with its default seed: the hash of a left
/// row's value a subscription carries.
pub(crate) fn murmur3_128(data: &[u8]) -> [i64; 2] {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    const SEED: u64 = 104_729;
    fn fmix(mut h: u64) -> u64 {
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    let (mut h1, mut h2) = (SEED, SEED);
    let blocks = data.chunks_exact(16);
    let tail = blocks.remainder();
    for block in blocks {
        let mut k1 = u64::from_le_bytes(block[..8].try_into().unwrap_or_default());
        let mut k2 = u64::from_le_bytes(block[8..].try_into().unwrap_or_default());
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, &b) in tail.iter().enumerate().rev() {
        if i >= 8 {
            k2 ^= u64::from(b) << ((i - 8) * 8);
        } else {
            k1 ^= u64::from(b) << (i * 8);
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    [h1 as i64, h2 as i64]
}

/// What the right side does with a subscription (Kafka Streams' `SubscriptionWrapper.Instruction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Instruction {
    /// Unsubscribe; no answer.
    DeleteKeyNoPropagate = 0,
    /// Unsubscribe; answer "no right value" (the left row was deleted).
    DeleteKeyAndPropagate = 1,
    /// Subscribe; answer even if there is no right value (the result must be unset).
    PropagateNullIfNoFkValAvailable = 2,
    /// Subscribe; answer only if there is a right value.
    PropagateOnlyIfFkValAvailable = 3,
}

impl Instruction {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Instruction::DeleteKeyNoPropagate,
            1 => Instruction::DeleteKeyAndPropagate,
            2 => Instruction::PropagateNullIfNoFkValAvailable,
            3 => Instruction::PropagateOnlyIfFkValAvailable,
            _ => return None,
        })
    }
}

/// A left row's subscription to a foreign key (Kafka Streams' `SubscriptionWrapper`, version 1).
#[derive(Clone, Debug)]
pub(crate) struct Subscription<K> {
    pub(crate) hash: Option<[i64; 2]>,
    pub(crate) instruction: Instruction,
    pub(crate) primary_key: K,
    pub(crate) primary_partition: i32,
}

const SUBSCRIPTION_VERSION: u8 = 1;

fn corrupt(what: &str) -> CodecError {
    CodecError::Custom(format!("corrupt foreign-key join {what}").into())
}

/// `{1 bit: hash is null}{7 bits: version}{instruction}{16-byte hash, if any}{primary key}
/// {4-byte primary partition}` (Kafka Streams' `SubscriptionWrapperSerde`, version 1).
#[derive(Clone)]
pub(crate) struct SubscriptionCodec<KC>(pub(crate) KC);

impl<K, KC: Codec<K>> Codec<Subscription<K>> for SubscriptionCodec<KC> {
    fn encode(&self, s: &Subscription<K>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match s.hash {
            Some(hash) => {
                buf.push(SUBSCRIPTION_VERSION);
                buf.push(s.instruction as u8);
                buf.extend_from_slice(&hash[0].to_be_bytes());
                buf.extend_from_slice(&hash[1].to_be_bytes());
            }
            None => {
                buf.push(SUBSCRIPTION_VERSION | 0x80);
                buf.push(s.instruction as u8);
            }
        }
        self.0.encode(&s.primary_key, buf)?;
        buf.extend_from_slice(&s.primary_partition.to_be_bytes());
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Subscription<K>, CodecError> {
        let (&first, rest) = bytes.split_first().ok_or_else(|| corrupt("subscription"))?;
        let version = first & 0x7f;
        let (&instruction, mut rest) = rest.split_first().ok_or_else(|| corrupt("subscription"))?;
        let instruction =
            Instruction::from_byte(instruction).ok_or_else(|| corrupt("instruction"))?;
        let hash = if first & 0x80 == 0 {
            let (hash, after) = read_hash(rest).ok_or_else(|| corrupt("subscription hash"))?;
            rest = after;
            Some(hash)
        } else {
            None
        };
        let (primary_key, primary_partition) = if version >= 1 {
            let at = rest
                .len()
                .checked_sub(4)
                .ok_or_else(|| corrupt("subscription"))?;
            let partition: [u8; 4] = rest[at..].try_into().map_err(|_| corrupt("subscription"))?;
            (&rest[..at], i32::from_be_bytes(partition))
        } else {
            (rest, -1)
        };
        Ok(Subscription {
            hash,
            instruction,
            primary_key: self.0.decode(primary_key)?,
            primary_partition,
        })
    }
}

fn read_hash(bytes: &[u8]) -> Option<([i64; 2], &[u8])> {
    let (a, rest) = bytes.split_first_chunk::<8>()?;
    let (b, rest) = rest.split_first_chunk::<8>()?;
    Some(([i64::from_be_bytes(*a), i64::from_be_bytes(*b)], rest))
}

/// The right side's answer to a subscription (Kafka Streams' `SubscriptionResponseWrapper`).
#[derive(Clone, Debug)]
pub(crate) struct Response<VO> {
    pub(crate) hash: Option<[i64; 2]>,
    pub(crate) foreign_value: Option<VO>,
    /// Where the answer goes: the left row's partition (not written to the topic).
    pub(crate) primary_partition: Option<i32>,
}

/// `{1 bit: hash is null}{7 bits: version 0}{16-byte hash, if any}{right value, if any}`
/// (Kafka Streams' `SubscriptionResponseWrapperSerde`).
#[derive(Clone)]
pub(crate) struct ResponseCodec<VC>(pub(crate) VC);

impl<VO, VC: Codec<VO>> Codec<Response<VO>> for ResponseCodec<VC> {
    fn encode(&self, r: &Response<VO>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match r.hash {
            Some(hash) => {
                buf.push(0);
                buf.extend_from_slice(&hash[0].to_be_bytes());
                buf.extend_from_slice(&hash[1].to_be_bytes());
            }
            None => buf.push(0x80),
        }
        if let Some(value) = &r.foreign_value {
            self.0.encode(value, buf)?;
        }
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Response<VO>, CodecError> {
        let (&first, mut rest) = bytes.split_first().ok_or_else(|| corrupt("response"))?;
        let hash = if first & 0x80 == 0 {
            let (hash, after) = read_hash(rest).ok_or_else(|| corrupt("response hash"))?;
            rest = after;
            Some(hash)
        } else {
            None
        };
        let foreign_value = if rest.is_empty() {
            None
        } else {
            Some(self.0.decode(rest)?)
        };
        Ok(Response {
            hash,
            foreign_value,
            primary_partition: None,
        })
    }
}

/// Sends each answer to the left row's partition.
pub(crate) struct ToPrimaryPartition;

impl<K, VO> StreamPartitioner<K, Response<VO>> for ToPrimaryPartition {
    fn partition(&self, _: &str, _: &K, value: &Response<VO>, _: i32) -> Option<i32> {
        value.primary_partition
    }
}

/// The subscription store's key: `{4-byte foreign key length}{foreign key}{primary key}`
/// (Kafka Streams' `CombinedKeySchema`), so one foreign key's subscriptions are one prefix.
fn foreign_key_prefix(fk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + fk.len());
    out.extend_from_slice(&(fk.len() as i32).to_be_bytes());
    out.extend_from_slice(fk);
    out
}

/// A foreign key extractor: the foreign key of a left row (`None`: it refers to nothing).
pub(crate) type Extractor<K, V, KO> = Arc<dyn Fn(&K, &V) -> Option<KO> + Send + Sync>;

/// On the left table's changes: subscribes rows to their foreign keys, and unsubscribes them
/// from old ones (`KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION`).
pub(crate) struct SubscriptionSend<K, V, KO, VC, OKC> {
    pub(crate) extractor: Extractor<K, V, KO>,
    pub(crate) left: bool,
    pub(crate) value_codec: VC,
    pub(crate) foreign_key_codec: OKC,
}

impl<K, V, KO, VC, OKC> SubscriptionSend<K, V, KO, VC, OKC>
where
    K: Clone + 'static,
    KO: Clone + 'static,
    VC: Codec<V>,
    OKC: Codec<KO>,
{
    fn changed(&self, new: &Option<KO>, old: &KO) -> Result<bool, CodecError> {
        let Some(new) = new else {
            return Ok(true);
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        self.foreign_key_codec.encode(new, &mut a)?;
        self.foreign_key_codec.encode(old, &mut b)?;
        Ok(a != b)
    }
}

impl<K, V, KO, VC, OKC> Processor for SubscriptionSend<K, V, KO, VC, OKC>
where
    K: Clone + 'static,
    V: 'static,
    KO: Clone + 'static,
    VC: Codec<V>,
    OKC: Codec<KO>,
{
    type KIn = K;
    type VIn = Change<V>;
    type KOut = Option<KO>;
    type VOut = Subscription<K>;

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
    ) -> Result<(), ProcessorError> {
        if !r.value.is_latest {
            // An out-of-order update of a versioned table (KIP-914): not the current row.
            skip_null(ctx, "version older than the table's current one");
            return Ok(());
        }
        let Change {
            new_value,
            old_value,
            ..
        } = &r.value;
        let hash = match new_value {
            Some(v) => {
                let mut bytes = Vec::new();
                self.value_codec.encode(v, &mut bytes)?;
                Some(murmur3_128(&bytes))
            }
            None => None,
        };
        // The left row's partition, where the answer must go back to: the task's (the
        // record's metadata is not there when a cache flush forwards the change).
        let partition = ctx.task_id().partition;
        let mut sends: Vec<(Option<KO>, Instruction)> = Vec::new();
        let old_fk = old_value.as_ref().and_then(|v| (self.extractor)(&r.key, v));
        if self.left {
            if old_value.is_none() && new_value.is_none() {
                return Ok(());
            }
            let new_fk = new_value.as_ref().and_then(|v| (self.extractor)(&r.key, v));
            if let Some(old_fk) = old_fk
                && self.changed(&new_fk, &old_fk)?
            {
                sends.push((Some(old_fk), Instruction::DeleteKeyNoPropagate));
            }
            // Every change gets an answer, for the left join always to have a result (with a
            // null foreign key the answer comes back without a right value).
            sends.push((new_fk, Instruction::PropagateNullIfNoFkValAvailable));
        } else {
            match new_value {
                Some(v) => match (self.extractor)(&r.key, v) {
                    None => {
                        skip_null(ctx, "null foreign key");
                        if let Some(old_fk) = old_fk {
                            sends.push((Some(old_fk), Instruction::DeleteKeyAndPropagate));
                        }
                    }
                    Some(new_fk) => match old_fk {
                        Some(old_fk) if self.changed(&Some(new_fk.clone()), &old_fk)? => {
                            sends.push((Some(old_fk), Instruction::DeleteKeyNoPropagate));
                            sends
                                .push((Some(new_fk), Instruction::PropagateNullIfNoFkValAvailable));
                        }
                        _ => sends.push((Some(new_fk), Instruction::PropagateOnlyIfFkValAvailable)),
                    },
                },
                None => {
                    if let Some(old_fk) = old_fk {
                        sends.push((Some(old_fk), Instruction::DeleteKeyAndPropagate));
                    }
                }
            }
        }
        for (fk, instruction) in sends {
            let subscription = Subscription {
                hash,
                instruction,
                primary_key: r.key.clone(),
                primary_partition: partition,
            };
            ctx.forward(
                Record::new(fk, subscription, r.timestamp).with_headers(r.headers.clone()),
            )?;
        }
        Ok(())
    }
}

/// On the right side, receives subscriptions and keeps them in the subscription store
/// (`KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR`, "subscription-receive").
pub(crate) struct SubscriptionReceive<K, KO, KC, OKC> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<TimestampedKeyValueStore<Vec<u8>, Subscription<K>>>,
    pub(crate) key_codec: KC,
    pub(crate) foreign_key_codec: OKC,
    pub(crate) types: Types<KO>,
}

impl<K, KO, KC, OKC> Processor for SubscriptionReceive<K, KO, KC, OKC>
where
    K: Clone + 'static,
    KO: Clone + 'static,
    KC: Codec<K>,
    OKC: Codec<KO>,
{
    type KIn = Option<KO>;
    type VIn = Subscription<K>;
    type KOut = (Option<KO>, K);
    type VOut = Subscription<K>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, (Option<KO>, K), Subscription<K>>,
    ) -> Result<(), ProcessorError> {
        self.store = Some(ctx.timestamped_key_value_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<Option<KO>, Subscription<K>>,
        ctx: &mut ProcessorContext<'_, (Option<KO>, K), Subscription<K>>,
    ) -> Result<(), ProcessorError> {
        if let Some(fk) = &r.key {
            let mut key = Vec::new();
            self.foreign_key_codec.encode(fk, &mut key)?;
            let mut key = foreign_key_prefix(&key);
            self.key_codec.encode(&r.value.primary_key, &mut key)?;
            let store = initialized(&self.store)?;
            match r.value.instruction {
                Instruction::DeleteKeyAndPropagate | Instruction::DeleteKeyNoPropagate => {
                    store.delete(&key)?;
                }
                _ => store.put(&key, &ValueAndTimestamp::make(r.value.clone(), r.timestamp))?,
            }
        } else if r.value.instruction != Instruction::PropagateNullIfNoFkValAvailable {
            skip_null(ctx, "null foreign key");
            return Ok(());
        }
        let key = (r.key, r.value.primary_key.clone());
        ctx.forward(Record::new(key, r.value, r.timestamp).with_headers(r.headers))
    }
}

/// Answers a subscription with the right table's current value
/// (`KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR`, "subscription-join-foreign").
pub(crate) struct SubscriptionJoinForeign<K, KO, VO> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<TimestampedKeyValueStore<KO, VO>>,
    pub(crate) types: Types<K>,
}

impl<K, KO, VO> Processor for SubscriptionJoinForeign<K, KO, VO>
where
    K: Clone + 'static,
    KO: Clone + 'static,
    VO: Clone + 'static,
{
    type KIn = (Option<KO>, K);
    type VIn = Subscription<K>;
    type KOut = K;
    type VOut = Response<VO>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), ProcessorError> {
        self.store = Some(ctx.timestamped_key_value_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<(Option<KO>, K), Subscription<K>>,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), ProcessorError> {
        let ((fk, pk), subscription) = (r.key, r.value);
        let foreign = match &fk {
            Some(fk) => initialized(&self.store)?.get(fk)?,
            None => None,
        };
        let timestamp = foreign
            .as_ref()
            .map_or(r.timestamp, |f| r.timestamp.max(f.timestamp));
        let foreign_value = match subscription.instruction {
            Instruction::DeleteKeyNoPropagate => return Ok(()),
            Instruction::DeleteKeyAndPropagate => None,
            Instruction::PropagateNullIfNoFkValAvailable => foreign.map(|f| f.value),
            Instruction::PropagateOnlyIfFkValAvailable => match foreign {
                Some(f) => Some(f.value),
                None => return Ok(()),
            },
        };
        let response = Response {
            hash: subscription.hash,
            foreign_value,
            primary_partition: Some(subscription.primary_partition),
        };
        ctx.forward(Record::new(pk, response, timestamp).with_headers(r.headers))
    }
}

/// On the right table's changes: answers every subscription to the changed key
/// (`KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR`, "foreign-join-subscription").
pub(crate) struct ForeignJoinSubscription<K, KO, VO, KC, OKC> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<TimestampedKeyValueStore<Vec<u8>, Subscription<K>>>,
    pub(crate) key_codec: KC,
    pub(crate) foreign_key_codec: OKC,
    pub(crate) types: Types<(KO, VO)>,
}

impl<K, KO, VO, KC, OKC> Processor for ForeignJoinSubscription<K, KO, VO, KC, OKC>
where
    K: Clone + 'static,
    KO: Clone + 'static,
    VO: Clone + 'static,
    KC: Codec<K>,
    OKC: Codec<KO>,
{
    type KIn = KO;
    type VIn = Change<VO>;
    type KOut = K;
    type VOut = Response<VO>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), ProcessorError> {
        self.store = Some(ctx.timestamped_key_value_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<KO, Change<VO>>,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), ProcessorError> {
        if self.foreign_key_codec.is_null(&r.key) {
            skip_null(ctx, "null key");
            return Ok(());
        }
        if !r.value.is_latest {
            skip_null(ctx, "version older than the table's current one");
            return Ok(());
        }
        let mut fk = Vec::new();
        self.foreign_key_codec.encode(&r.key, &mut fk)?;
        let prefix = foreign_key_prefix(&fk);
        let subscriptions: Vec<(Vec<u8>, ValueAndTimestamp<Subscription<K>>)> =
            initialized(&self.store)?
                .prefix_scan_bytes(&prefix)
                .collect::<Result<_, _>>()?;
        for (key, subscription) in subscriptions {
            let pk = self.key_codec.decode(&key[prefix.len()..])?;
            let response = Response {
                hash: subscription.value.hash,
                foreign_value: r.value.new_value.clone(),
                primary_partition: Some(subscription.value.primary_partition),
            };
            ctx.forward(Record::new(pk, response, r.timestamp).with_headers(r.headers.clone()))?;
        }
        Ok(())
    }
}

/// A joiner of the left row (`None`: deleted) with the right value (`None`: none); `None` for
/// no result (a delete).
pub(crate) type RowsJoiner<V, VO, VR> =
    Arc<dyn Fn(Option<V>, Option<VO>) -> Option<VR> + Send + Sync>;

/// On the left side: joins an answer with the left row, if the row still hashes as the answer
/// says (`KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR`).
pub(crate) struct ResponseResolver<K, V, VO, VR, VC> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<TimestampedKeyValueStore<K, V>>,
    pub(crate) value_codec: VC,
    pub(crate) joiner: RowsJoiner<V, VO, VR>,
    pub(crate) left: bool,
}

impl<K, V, VO, VR, VC> Processor for ResponseResolver<K, V, VO, VR, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VO: Clone + 'static,
    VR: Clone + 'static,
    VC: Codec<V>,
{
    type KIn = K;
    type VIn = Response<VO>;
    type KOut = K;
    type VOut = Option<VR>;

    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Option<VR>>,
    ) -> Result<(), ProcessorError> {
        self.store = Some(ctx.timestamped_key_value_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Response<VO>>,
        ctx: &mut ProcessorContext<'_, K, Option<VR>>,
    ) -> Result<(), ProcessorError> {
        let current = initialized(&self.store)?.get(&r.key)?.map(|c| c.value);
        let current_hash = match &current {
            Some(v) => {
                let mut bytes = Vec::new();
                self.value_codec.encode(v, &mut bytes)?;
                Some(murmur3_128(&bytes))
            }
            None => None,
        };
        if current_hash != r.value.hash {
            // A stale answer: the left row changed since it subscribed.
            ctx.record_dropped();
            return Ok(());
        }
        let result = if r.value.foreign_value.is_none() && (!self.left || current.is_none()) {
            None
        } else {
            (self.joiner)(current, r.value.foreign_value)
        };
        ctx.forward(Record::new(r.key, result, r.timestamp).with_headers(r.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_kafka_streams() {
        // What Kafka Streams' `Murmur3.hash128` returns for these UTF-8 strings (run on the
        // 4.4.0 jar): a tail of 5 and of 3 bytes, one block, no bytes, one byte.
        for (input, expected) in [
            ("hello", [3512725192710940516, 6227047293690958278]),
            (
                "0123456789abcdefXYZ",
                [-4957902349534487282, 3628389848199853365],
            ),
            (
                "0123456789abcdef",
                [1904622552327088487, -2893518741649893711],
            ),
            ("", [-7122613646888064702, -8341524471658347240]),
            ("a", [3702349557448790408, -1601067453332442517]),
        ] {
            assert_eq!(murmur3_128(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn subscriptions_and_responses_round_trip_in_kafka_streams_layout() {
        use crate::codec::Utf8;
        let codec = SubscriptionCodec(Utf8);
        let s = Subscription {
            hash: Some([1, -2]),
            instruction: Instruction::PropagateOnlyIfFkValAvailable,
            primary_key: "pk".to_string(),
            primary_partition: 3,
        };
        let mut bytes = Vec::new();
        codec.encode(&s, &mut bytes).unwrap();
        assert_eq!(&bytes[..2], [1, 3]);
        assert_eq!(bytes.len(), 2 + 16 + 2 + 4);
        let back = codec.decode(&bytes).unwrap();
        assert_eq!(
            (back.hash, back.primary_key, back.primary_partition),
            (Some([1, -2]), "pk".into(), 3)
        );
        let no_hash = Subscription { hash: None, ..s };
        bytes.clear();
        codec.encode(&no_hash, &mut bytes).unwrap();
        assert_eq!(bytes[0], 0x81);
        assert_eq!(codec.decode(&bytes).unwrap().hash, None);

        let codec = ResponseCodec(Utf8);
        let r = Response {
            hash: None,
            foreign_value: Some("v".to_string()),
            primary_partition: Some(1),
        };
        bytes.clear();
        codec.encode(&r, &mut bytes).unwrap();
        assert_eq!(bytes, [0x80, b'v']);
        let back = codec.decode(&bytes).unwrap();
        assert_eq!(
            (back.hash, back.foreign_value),
            (None, Some("v".to_string()))
        );
    }
}
