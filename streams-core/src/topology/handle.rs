use std::marker::PhantomData;

use crate::codec::Codec;

/// A topic as a topology declares it — name, key/value types and codecs — so tests pipe and
/// read it without repeating the codecs. The `topology!` macro returns one per declared
/// source and sink.
///
/// ```
/// use streams_core::codec::{I64, Utf8};
/// use streams_core::topology::TopicHandle;
/// let counts = TopicHandle::new(["word-counts"], Utf8, I64);
/// assert_eq!(counts.topic(), "word-counts");
/// ```
#[derive(Debug, Clone)]
pub struct TopicHandle<K, V, KC, VC> {
    topics: Vec<String>,
    key_codec: KC,
    value_codec: VC,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, KC, VC> TopicHandle<K, V, KC, VC> {
    /// A handle on `topics` (the first is the one
    /// [`TopologyTestDriver::input`](crate::testing::TopologyTestDriver::input) and
    /// [`output`](crate::testing::TopologyTestDriver::output) use).
    pub fn new<T: Into<String>>(
        topics: impl IntoIterator<Item = T>,
        key_codec: KC,
        value_codec: VC,
    ) -> Self {
        TopicHandle {
            topics: topics.into_iter().map(Into::into).collect(),
            key_codec,
            value_codec,
            types: PhantomData,
        }
    }
}

impl<K: 'static, V: 'static, KC: Codec<K>, VC: Codec<V>> TopicHandle<K, V, KC, VC> {
    /// The (first) topic name.
    pub fn topic(&self) -> &str {
        self.topics.first().map_or("", String::as_str)
    }

    /// Every topic of the handle (a source may read several).
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The key codec.
    pub fn key_codec(&self) -> &KC {
        &self.key_codec
    }

    /// The value codec.
    pub fn value_codec(&self) -> &VC {
        &self.value_codec
    }
}
