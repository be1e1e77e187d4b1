use std::marker::PhantomData;
use std::time::Duration;

use crate::codec::Codec;
use crate::testing::{TestInputTopic, TestOutputTopic, TopologyTestDriver};

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
    /// A handle on `topics` (the first is the one [`input`](Self::input) and
    /// [`output`](Self::output) use).
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

    /// A test input topic on the (first) topic, with this handle's codecs.
    pub fn input<'d>(&self, driver: &'d TopologyTestDriver) -> TestInputTopic<'d, K, V> {
        driver.create_input_topic(
            self.topic(),
            self.key_codec.clone(),
            self.value_codec.clone(),
        )
    }

    /// A test input topic whose records get timestamps from `start_ms`, auto-advancing.
    pub fn input_with_time<'d>(
        &self,
        driver: &'d TopologyTestDriver,
        start_ms: i64,
        auto_advance: Duration,
    ) -> TestInputTopic<'d, K, V> {
        driver.create_input_topic_with_time(
            self.topic(),
            self.key_codec.clone(),
            self.value_codec.clone(),
            start_ms,
            auto_advance,
        )
    }

    /// A test output topic on the (first) topic, with this handle's codecs.
    pub fn output<'d>(&self, driver: &'d TopologyTestDriver) -> TestOutputTopic<'d, K, V> {
        driver.create_output_topic(
            self.topic(),
            self.key_codec.clone(),
            self.value_codec.clone(),
        )
    }
}
