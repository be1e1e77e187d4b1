//! A table update: the new value and (when downstream needs it) the value it replaced.

use crate::codec::{Codec, CodecError};

/// An update of one key of a table — Kafka Streams' `Change<V>`: the new value (`None` for a
/// delete) and, when a downstream operation asked for it, the old one.
///
/// Tables forward `Change`s between their nodes; a grouped table's repartition topic carries
/// them, in Kafka Streams' byte layout ([`ChangeCodec`]).
///
/// ```
/// use streams_core::codec::{Codec, Utf8};
/// use streams_core::dsl::{Change, ChangeCodec};
/// // A row that moved from "old" to "new", as a grouped table's repartition topic holds it.
/// let change = Change::new(Some("new".to_string()), Some("old".to_string()));
/// let mut bytes = Vec::new();
/// ChangeCodec(Utf8).encode(&change, &mut bytes).unwrap();
/// assert_eq!(bytes, b"\x06newold\x02");
/// assert_eq!(ChangeCodec(Utf8).decode(&bytes).unwrap(), change);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<V> {
    /// The value after the update; `None` when the key was deleted.
    pub new_value: Option<V>,
    /// The value before the update, if it was asked for and there was one.
    pub old_value: Option<V>,
    /// Whether the update is the key's newest by timestamp (KIP-914). Only a versioned table
    /// forwards updates that are not: an out-of-order update goes into its history, and
    /// table-table joins and `group_by` skip it, as Kafka Streams' do.
    pub is_latest: bool,
}

impl<V> Change<V> {
    /// A change from `old_value` to `new_value`, the key's newest.
    pub fn new(new_value: Option<V>, old_value: Option<V>) -> Self {
        Change {
            new_value,
            old_value,
            is_latest: true,
        }
    }

    /// The change, marked as the key's newest update or not.
    ///
    /// ```
    /// use streams_core::dsl::Change;
    /// let late = Change::new(Some(1), None).with_latest(false);
    /// assert!(!late.is_latest);
    /// ```
    pub fn with_latest(mut self, is_latest: bool) -> Self {
        self.is_latest = is_latest;
        self
    }
}

/// Encodes a [`Change`] as Kafka Streams' `ChangedSerializer` does: the value bytes followed by a
/// flag byte (`1` new only, `0` old only, `2` both, with the new value's length as a zig-zag
/// varint in front). Decodes flags `3`–`5` (with an is-latest byte) as well.
///
/// ```
/// use streams_core::codec::{Codec, I64};
/// use streams_core::dsl::{Change, ChangeCodec};
/// let mut bytes = Vec::new();
/// ChangeCodec(I64).encode(&Change::new(None, Some(3)), &mut bytes).unwrap();
/// assert_eq!(bytes, [0, 0, 0, 0, 0, 0, 0, 3, 0]); // the old value, then flag 0
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeCodec<C>(pub C);

impl<V, C: Codec<V>> Codec<Change<V>> for ChangeCodec<C> {
    fn encode(&self, change: &Change<V>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match (&change.new_value, &change.old_value) {
            (Some(new), Some(old)) => {
                let mut new_bytes = Vec::new();
                self.0.encode(new, &mut new_bytes)?;
                write_varint(new_bytes.len() as i32, buf);
                buf.extend_from_slice(&new_bytes);
                self.0.encode(old, buf)?;
                buf.push(2);
            }
            (Some(new), None) => {
                self.0.encode(new, buf)?;
                buf.push(1);
            }
            (None, Some(old)) => {
                self.0.encode(old, buf)?;
                buf.push(0);
            }
            (None, None) => {
                return Err(CodecError::Malformed {
                    type_name: std::any::type_name::<Change<V>>(),
                    problem: "a change with neither a new nor an old value",
                });
            }
        }
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Change<V>, CodecError> {
        let invalid = |problem: &'static str| CodecError::Malformed {
            type_name: std::any::type_name::<Change<V>>(),
            problem,
        };
        let Some((&flag, body)) = bytes.split_last() else {
            return Err(invalid("no flag byte"));
        };
        let (body, flag, is_latest) = match flag {
            0..=2 => (body, flag, true),
            3..=5 => match body.split_last() {
                Some((&0, rest)) => (rest, flag - 3, false),
                Some((&1, rest)) => (rest, flag - 3, true),
                Some(_) => return Err(invalid("an is-latest byte other than 0 or 1")),
                None => return Err(invalid("no is-latest byte")),
            },
            _ => return Err(invalid("unknown flag byte")),
        };
        let change = match flag {
            0 => Change::new(None, Some(self.0.decode(body)?)),
            1 => Change::new(Some(self.0.decode(body)?), None),
            _ => {
                let (len, used) = read_varint(body).ok_or_else(|| invalid("bad length varint"))?;
                let rest = &body[used..];
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= rest.len())
                    .ok_or_else(|| invalid("length past the end"))?;
                Change::new(
                    Some(self.0.decode(&rest[..len])?),
                    Some(self.0.decode(&rest[len..])?),
                )
            }
        };
        Ok(change.with_latest(is_latest))
    }
}

/// Kafka's zig-zag varint (`ByteUtils.writeVarint`).
fn write_varint(value: i32, buf: &mut Vec<u8>) {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    while v & !0x7f != 0 {
        buf.push(((v & 0x7f) | 0x80) as u8);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(i32, usize)> {
    let mut value: u32 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((((value >> 1) as i32) ^ -((value & 1) as i32), i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Utf8;

    #[test]
    fn layouts_match_kafka_streams() {
        let codec = ChangeCodec(Utf8);
        let mut buf = Vec::new();
        let both = Change::new(Some("ab".to_string()), Some("c".to_string()));
        codec.encode(&both, &mut buf).unwrap();
        assert_eq!(buf, [4, b'a', b'b', b'c', 2]);
        assert_eq!(codec.decode(&buf).unwrap(), both);

        for change in [
            Change::new(Some("n".to_string()), None),
            Change::new(None, Some("o".to_string())),
        ] {
            buf.clear();
            codec.encode(&change, &mut buf).unwrap();
            assert_eq!(codec.decode(&buf).unwrap(), change);
        }
        assert_eq!(buf, [b'o', 0]);
        // Flags 3-5 carry an is-latest byte before the flag.
        let late = codec.decode(&[b'n', 0, 4]).unwrap();
        assert_eq!(
            late,
            Change::new(Some("n".to_string()), None).with_latest(false)
        );
        assert!(codec.decode(&[b'n', 1, 4]).unwrap().is_latest);
        assert!(codec.decode(&[b'n', 7, 4]).is_err());
        assert!(codec.decode(&[9]).is_err());
        assert!(codec.decode(&[]).is_err());
    }

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, -1, 63, 64, 300, i32::MAX, i32::MIN] {
            let mut buf = Vec::new();
            write_varint(v, &mut buf);
            assert_eq!(read_varint(&buf), Some((v, buf.len())));
        }
    }
}
