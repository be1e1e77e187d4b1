//! Support for the code `#[processor]` and `topology!` generate. Not a public API: names here
//! change without notice.

use std::marker::PhantomData;

pub use crate::codec::{Bincode, Bytes, Codec, DefaultCodec, Json, Nullable, Utf8};
pub use crate::error::ProcessorError;
pub use crate::processor::{Processor, ProcessorContext, Punctuation, PunctuationType};
pub use crate::record::Record;
pub use crate::state::{
    KeyValueStore, SessionStore, StoreError, Stores, TimestampedKeyValueStore, ValueAndTimestamp,
    ValueAndTimestampCodec, WindowStore,
};
pub use crate::topology::{TopicHandle, Topology, TopologyBuilder, TopologyErrors};

/// A processor's node name (the function name, or `#[processor(name = "...")]`).
pub trait Named {
    /// The name.
    const NAME: &'static str;
}

/// The stores a `#[processor]` function takes, by parameter name, and their handle types.
pub trait ProcessorStores {
    /// Store names, in parameter order.
    const NAMES: &'static [&'static str];
    /// The handle types, as a tuple, in parameter order.
    type Handles;
}

/// A store handle a `#[processor]` function can take as a parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a state store a processor function can take",
    note = "store parameters are `&KeyValueStore<K, V>`, `&TimestampedKeyValueStore<K, V>`, `&WindowStore<K, V>` or `&SessionStore<K, V>`"
)]
pub trait StoreHandle: Sized + 'static {
    /// Fetches the store connected under `name`.
    fn fetch<K, V>(ctx: &ProcessorContext<'_, K, V>, name: &str) -> Result<Self, StoreError>;
}

impl<K: 'static, V: 'static> StoreHandle for KeyValueStore<K, V> {
    fn fetch<CK, CV>(ctx: &ProcessorContext<'_, CK, CV>, name: &str) -> Result<Self, StoreError> {
        ctx.key_value_store(name)
    }
}

impl<K: 'static, V: 'static> StoreHandle for WindowStore<K, V> {
    fn fetch<CK, CV>(ctx: &ProcessorContext<'_, CK, CV>, name: &str) -> Result<Self, StoreError> {
        ctx.window_store(name)
    }
}

impl<K: 'static, V: 'static> StoreHandle for SessionStore<K, V> {
    fn fetch<CK, CV>(ctx: &ProcessorContext<'_, CK, CV>, name: &str) -> Result<Self, StoreError> {
        ctx.session_store(name)
    }
}

/// Asserts a codec fits the declared type.
pub fn codec_for<T, C: Codec<T>>(codec: C) -> C {
    codec
}

/// Equality of the record types on both sides of an edge.
#[diagnostic::on_unimplemented(
    message = "mismatched types: the stage before `->` forwards `{Self}` (key, value), but the stage after it takes `{T}`",
    label = "this connection does not type-check",
    note = "each stage's input key and value types must equal the output types of the stage feeding it"
)]
pub trait Connects<T> {}

impl<T> Connects<T> for T {}

/// Something records flow out of.
pub trait Outputs {
    /// Output key type.
    type K;
    /// Output value type.
    type V;
}

/// Something records flow into.
pub trait Inputs {
    /// Input key type.
    type K;
    /// Input value type.
    type V;
}

/// A source or sink node of a declared topology, typed by its records.
pub struct TopicNode<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> TopicNode<K, V> {
    /// The node.
    pub const fn new() -> Self {
        TopicNode(PhantomData)
    }
}

impl<K, V> Default for TopicNode<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Outputs for TopicNode<K, V> {
    type K = K;
    type V = V;
}

impl<K, V> Inputs for TopicNode<K, V> {
    type K = K;
    type V = V;
}

impl<P: Processor> Outputs for P {
    type K = P::KOut;
    type V = P::VOut;
}

impl<P: Processor> Inputs for P {
    type K = P::KIn;
    type V = P::VIn;
}

/// Checks (at compile time) that `to` takes what `from` forwards.
pub fn connect<A: Outputs, B: Inputs>()
where
    (A::K, A::V): Connects<(B::K, B::V)>,
{
}

/// Equality of a processor's store parameters and the stores connected to it.
#[diagnostic::on_unimplemented(
    message = "the stores connected to this processor are `{T}`, but its function takes `{Self}`",
    label = "connected stores do not match the processor's store parameters",
    note = "connect the stores the function takes, in parameter order, with the declared key and value types"
)]
pub trait StoresMatch<T> {}

impl<T> StoresMatch<T> for T {}

/// Checks the stores connected to a processor node against its store parameters.
pub fn connect_stores<P: ProcessorStores, Connected>()
where
    P::Handles: StoresMatch<Connected>,
{
}

/// Whether a processor's store names equal the connected names (for a const assertion).
pub const fn same_names(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        let (x, y) = (a[i].as_bytes(), b[i].as_bytes());
        if x.len() != y.len() {
            return false;
        }
        let mut j = 0;
        while j < x.len() {
            if x[j] != y[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// A `#[processor]` function's processor type for a given input key type: the processor itself,
/// or, for functions that never see the key, its instance for key type `K`.
pub trait Stage {
    /// The processor for input keys of type `K`.
    type Processor<K: Clone + 'static>: Processor + Named + ProcessorStores + Default;
    /// Whether the function makes new keys (a key-value map or flat map): a stage keeping state
    /// by key must not follow it in the same sub-topology.
    const CHANGES_KEY: bool = false;
}

/// The length of `prefix`, the names joined with `, `, and `suffix` (for a const message).
pub const fn message_len(prefix: &str, names: &[&str], suffix: &str) -> usize {
    let mut len = prefix.len() + suffix.len();
    let mut i = 0;
    while i < names.len() {
        if i > 0 {
            len += 2;
        }
        len += names[i].len();
        i += 1;
    }
    len
}

/// `prefix`, the names joined with `, `, and `suffix`, as bytes (for a const message).
pub const fn message<const N: usize>(prefix: &str, names: &[&str], suffix: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    at = copy_into(&mut out, at, prefix.as_bytes());
    let mut i = 0;
    while i < names.len() {
        if i > 0 {
            at = copy_into(&mut out, at, b", ");
        }
        at = copy_into(&mut out, at, names[i].as_bytes());
        i += 1;
    }
    copy_into(&mut out, at, suffix.as_bytes());
    out
}

const fn copy_into<const N: usize>(out: &mut [u8; N], mut at: usize, bytes: &[u8]) -> usize {
    let mut j = 0;
    while j < bytes.len() && at < N {
        out[at] = bytes[j];
        at += 1;
        j += 1;
    }
    at
}

/// A const message's text.
pub const fn message_str(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => "a store name is not UTF-8",
    }
}

/// The value of a `topology!` whose declaration has errors (reported at compile time; this is
/// never run): typed, so using its fields raises no further errors.
pub fn declared_topology_never<T>() -> Result<T, crate::topology::TopologyErrors> {
    unreachable!("topology! reported compile errors")
}

// ---- `topology!` with DSL operations: the chain runs on a `StreamsBuilder`.

pub use crate::dsl::{Consumed, KStream, KTable, Materialized, Produced, StreamsBuilder};

/// A DSL stream whose records a `#[processor]` stage takes.
#[diagnostic::on_unimplemented(
    message = "mismatched types: the stream before `->` is `{Self}`, but the processor after it takes other records",
    label = "this processor does not take the stream's records",
    note = "each stage's input key and value types must equal the key and value types of the stream feeding it"
)]
pub trait StageTakes<St> {
    /// The processor's output stream.
    type Output;
    /// Adds the stage: a processor node named `name`, else as the stage.
    fn stage(&self, name: Option<&str>, stores: &[&str]) -> Self::Output;
}

impl<St, K, V, KC, VC> StageTakes<St> for KStream<K, V, KC, VC>
where
    St: Stage,
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Clone + 'static,
    VC: Clone + 'static,
    St::Processor<K>: Processor<KIn = K, VIn = V>,
    <St::Processor<K> as Processor>::KOut: Clone,
    <St::Processor<K> as Processor>::VOut: Clone,
{
    type Output =
        KStream<<St::Processor<K> as Processor>::KOut, <St::Processor<K> as Processor>::VOut>;

    fn stage(&self, name: Option<&str>, stores: &[&str]) -> Self::Output {
        self.named(name.unwrap_or(<St::Processor<K> as Named>::NAME))
            .process(<St::Processor<K> as Default>::default, stores)
    }
}

/// A `#[processor]` stage on a DSL stream: a processor node named as the stage.
pub fn dsl_stage<St, S: StageTakes<St>>(
    stream: &S,
    name: Option<&str>,
    stores: &[&str],
) -> S::Output {
    stream.stage(name, stores)
}

/// A DSL stream carrying records of `(K, V)`, as a sink declared `<K, V>` takes them.
#[diagnostic::on_unimplemented(
    message = "mismatched types: the stream before `->` is `{Self}`, but the sink after it takes `({K}, {V})` (key, value)",
    label = "this sink does not take the stream's records",
    note = "a sink takes a `KStream` whose key and value types are the sink's (a table goes through `.to_stream()` first, and its values are `Option<_>`)"
)]
pub trait SinkTakes<K, V> {
    /// The stream's key codec.
    type KC;
    /// The stream's value codec.
    type VC;
    /// The stream, typed as the sink takes it.
    fn stream(&self) -> &KStream<K, V, Self::KC, Self::VC>;
}

impl<K, V, KC, VC> SinkTakes<K, V> for KStream<K, V, KC, VC> {
    type KC = KC;
    type VC = VC;
    fn stream(&self) -> &Self {
        self
    }
}

/// A declared sink at the end of a DSL chain: the stream must carry the sink's types.
pub fn dsl_sink<K, V, S, SKC, SVC>(
    stream: &S,
    name: &str,
    topic: &str,
    key_codec: SKC,
    value_codec: SVC,
) where
    K: Clone + 'static,
    V: Clone + 'static,
    S: SinkTakes<K, V>,
    S::KC: Clone + 'static,
    S::VC: Clone + 'static,
    SKC: Codec<K>,
    SVC: Codec<V>,
{
    stream.stream().to_with(
        topic,
        Produced::with(key_codec, value_codec).with_name(name),
    );
}

/// Windowing in a `topology!` chain, with an error that says what to do on an ungrouped stream.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be windowed",
    label = "windowing needs a grouped stream",
    note = "group the stream first: `-> .group_by_key() -> .windowed_by(..)` or `-> .group_by(..) -> .windowed_by(..)`"
)]
pub trait DslWindowedBy<W> {
    /// The windowed stream.
    type Output;
    /// `windowed_by(windows)`.
    fn dsl_windowed_by(&self, windows: W) -> Self::Output;
}

impl<K, V, KC, VC, W> DslWindowedBy<W> for crate::dsl::KGroupedStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Codec<K>,
    VC: Codec<V>,
    W: crate::dsl::WindowedBy<K, V, KC, VC>,
{
    type Output = W::Stream;
    fn dsl_windowed_by(&self, windows: W) -> W::Stream {
        self.windowed_by(windows)
    }
}

/// What a `topology!` chain carries (a stream, a table, a grouped or windowed stream), by its key
/// type: the left side of a join. Grouped and windowed streams have keys too, so a join on one
/// fails with rustc's plain "no method named `join`" alone.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be joined: a join's left side is a stream or a table",
    label = "the chain here is a `{Self}`",
    note = "a chain joins a `KStream` or a `KTable` (a grouped or windowed stream is aggregated first, e.g. `-> .count()`)"
)]
pub trait JoinSide {
    /// The key type.
    type Key;
}

macro_rules! join_side {
    ($($ty:ident<$($p:ident),*>),* $(,)?) => {
        $(impl<$($p),*> JoinSide for crate::dsl::$ty<$($p),*> {
            type Key = K;
        })*
    };
}

join_side!(
    KStream<K, V, KC, VC>,
    KTable<K, V, KC, VC>,
    KGroupedStream<K, V, KC, VC>,
    KGroupedTable<K, V, KC, VC>,
    TimeWindowedKStream<K, V, KC, VC>,
    SessionWindowedKStream<K, V, KC, VC>,
    CogroupedKStream<K, VA, KC>,
    TimeWindowedCogroupedKStream<K, VA, KC>,
    SessionWindowedCogroupedKStream<K, VA, KC>,
    BranchedKStream<K, V, KC, VC>,
);

/// The other side of `.join`, `.left_join` or `.outer_join` (and their `_with` forms): a table.
#[diagnostic::on_unimplemented(
    message = "this join takes a table, but `{Self}` is not one",
    label = "not a table",
    note = "`.join`, `.left_join` and `.outer_join` join a table (a `table` of this `topology!`); two streams join within a time window with `.join_stream(&other, joiner, JoinWindows::..)`, `.left_join_stream` or `.outer_join_stream`"
)]
pub trait TableSide {
    /// The table's key type.
    type Key;
}

impl<K, V, KC, VC> TableSide for KTable<K, V, KC, VC> {
    type Key = K;
}

/// The other side of `.join_stream`, `.left_join_stream` or `.outer_join_stream` (and their
/// `_with` forms): a stream.
#[diagnostic::on_unimplemented(
    message = "this join takes a stream, but `{Self}` is not one",
    label = "not a stream",
    note = "`.join_stream`, `.left_join_stream` and `.outer_join_stream` join two streams within a time window; a stream joins a table with `.join(&table, joiner)` or `.left_join(&table, joiner)`"
)]
pub trait StreamSide {
    /// The stream's key type.
    type Key;
}

impl<K, V, KC, VC> StreamSide for KStream<K, V, KC, VC> {
    type Key = K;
}

/// Equality of the key types of a join's two sides (`Self` is the other side's key type, `K`
/// the key type of the stream or table the chain joins it to).
#[diagnostic::on_unimplemented(
    message = "the two sides of this join have different key types: `{K}` and `{Self}`",
    label = "the keys of this side are `{Self}`, but the stream or table it is joined to has keys `{K}`",
    note = "a join matches records with equal keys, so both sides need the same key type: re-key a stream first (`.select_key(..)`, `.map(..)`), or join a table on a key taken from its values with `.join_foreign_key(..)`"
)]
pub trait JoinKeys<K> {
    /// The other side, once its keys are known to be `K`.
    type Side<S>;
    /// `side`, typed as [`Side`](Self::Side).
    fn side<S>(side: &S) -> &Self::Side<S>;
}

impl<K> JoinKeys<K> for K {
    type Side<S> = S;
    fn side<S>(side: &S) -> &S {
        side
    }
}

/// The table a `topology!` chain joins with `.join`, `.left_join` or `.outer_join`, checked at
/// compile time to be a table with the key type of `left`. On a mismatch the error names the
/// problem at the user's argument, and the join call itself raises none (its argument's type is
/// left to inference).
pub fn join_table<'a, L, R>(
    _left: &L,
    other: &'a R,
) -> &'a <<R as TableSide>::Key as JoinKeys<<L as JoinSide>::Key>>::Side<R>
where
    L: JoinSide,
    R: TableSide,
    R::Key: JoinKeys<L::Key>,
{
    <R::Key as JoinKeys<L::Key>>::side(other)
}

/// The stream a `topology!` chain joins with `.join_stream`, `.left_join_stream` or
/// `.outer_join_stream`, checked as [`join_table`] checks a table.
pub fn join_stream<'a, L, R>(
    _left: &L,
    other: &'a R,
) -> &'a <<R as StreamSide>::Key as JoinKeys<<L as JoinSide>::Key>>::Side<R>
where
    L: JoinSide,
    R: StreamSide,
    R::Key: JoinKeys<L::Key>,
{
    <R::Key as JoinKeys<L::Key>>::side(other)
}
