//! The record-at-a-time DSL operations as processors: each holds the user's function (shared by
//! every task) and forwards what it returns.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::ProcessorError;
use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;

use super::Types;
use crate::dsl::Change;

type Ctx<'a, K, V> = ProcessorContext<'a, K, V>;

macro_rules! processor {
    (
        $(#[$doc:meta])*
        $name:ident<$($g:ident),*> where F: $bound:path;
        in ($kin:ty, $vin:ty) out ($kout:ty, $vout:ty);
        |$self_:ident, $r:ident, $ctx:ident| $body:block
    ) => {
        $(#[$doc])*
        pub(crate) struct $name<$($g,)* F> {
            pub(crate) f: Arc<F>,
            types: PhantomData<fn() -> ($($g,)*)>,
        }

        impl<$($g,)* F> $name<$($g,)* F> {
            pub(crate) fn new(f: Arc<F>) -> Self {
                $name { f, types: PhantomData }
            }
        }

        impl<$($g: Clone + 'static,)* F: $bound + 'static> Processor for $name<$($g,)* F> {
            type KIn = $kin;
            type VIn = $vin;
            type KOut = $kout;
            type VOut = $vout;

            #[inline]
            fn process(
                &mut $self_,
                $r: Record<$kin, $vin>,
                $ctx: &mut Ctx<'_, $kout, $vout>,
            ) -> Result<(), ProcessorError> $body
        }
    };
}

/// Predicate over a key and a value.
pub(crate) trait Predicate<K, V>: Fn(&K, &V) -> bool + Send + Sync {}
impl<K, V, F: Fn(&K, &V) -> bool + Send + Sync> Predicate<K, V> for F {}

processor! {
    /// `filter`: forwards the records the predicate accepts.
    Filter<K, V> where F: Predicate<K, V>;
    in (K, V) out (K, V);
    |self, r, ctx| {
        if (self.f)(&r.key, &r.value) { ctx.forward(r) } else { Ok(()) }
    }
}

processor! {
    /// `filter_not`: forwards the records the predicate rejects.
    FilterNot<K, V> where F: Predicate<K, V>;
    in (K, V) out (K, V);
    |self, r, ctx| {
        if (self.f)(&r.key, &r.value) { Ok(()) } else { ctx.forward(r) }
    }
}

/// A function of the key and value making a new key and value.
pub(crate) trait KeyValueMapper<K, V, KR, VR>: Fn(K, V) -> (KR, VR) + Send + Sync {}
impl<K, V, KR, VR, F: Fn(K, V) -> (KR, VR) + Send + Sync> KeyValueMapper<K, V, KR, VR> for F {}

processor! {
    /// `map`: a new key and value per record.
    Map<K, V, KR, VR> where F: KeyValueMapper<K, V, KR, VR>;
    in (K, V) out (KR, VR);
    |self, r, ctx| {
        let (key, value) = (self.f)(r.key, r.value);
        ctx.forward(Record { key, value, timestamp: r.timestamp, headers: r.headers })
    }
}

/// A function of the key and value making a new key.
pub(crate) trait KeySelector<K, V, KR>: Fn(&K, &V) -> KR + Send + Sync {}
impl<K, V, KR, F: Fn(&K, &V) -> KR + Send + Sync> KeySelector<K, V, KR> for F {}

processor! {
    /// `select_key` (and the key selection of `group_by`): a new key per record.
    SelectKey<K, V, KR> where F: KeySelector<K, V, KR>;
    in (K, V) out (KR, V);
    |self, r, ctx| {
        let key = (self.f)(&r.key, &r.value);
        ctx.forward(r.with_key(key))
    }
}

/// A function of the key and value making a new value.
pub(crate) trait ValueMapperWithKey<K, V, VR>: Fn(&K, V) -> VR + Send + Sync {}
impl<K, V, VR, F: Fn(&K, V) -> VR + Send + Sync> ValueMapperWithKey<K, V, VR> for F {}

processor! {
    /// `map_values`: a new value per record.
    MapValues<K, V, VR> where F: ValueMapperWithKey<K, V, VR>;
    in (K, V) out (K, VR);
    |self, r, ctx| {
        let value = (self.f)(&r.key, r.value);
        ctx.forward(Record { key: r.key, value, timestamp: r.timestamp, headers: r.headers })
    }
}

/// A function of the key and value making any number of records.
pub(crate) trait FlatMapper<K, V, I>: Fn(K, V) -> I + Send + Sync {}
impl<K, V, I, F: Fn(K, V) -> I + Send + Sync> FlatMapper<K, V, I> for F {}

/// `flat_map`: any number of records per record.
pub(crate) struct FlatMap<K, V, KR, VR, I, F> {
    pub(crate) f: Arc<F>,
    types: Types<(K, V, KR, VR, I)>,
}

impl<K, V, KR, VR, I, F> FlatMap<K, V, KR, VR, I, F> {
    pub(crate) fn new(f: Arc<F>) -> Self {
        FlatMap {
            f,
            types: PhantomData,
        }
    }
}

impl<K, V, KR, VR, I, F> Processor for FlatMap<K, V, KR, VR, I, F>
where
    K: 'static,
    V: 'static,
    KR: Clone + 'static,
    VR: Clone + 'static,
    I: IntoIterator<Item = (KR, VR)> + 'static,
    F: FlatMapper<K, V, I> + 'static,
{
    type KIn = K;
    type VIn = V;
    type KOut = KR;
    type VOut = VR;

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut Ctx<'_, KR, VR>,
    ) -> Result<(), ProcessorError> {
        for (key, value) in (self.f)(r.key, r.value) {
            ctx.forward(Record {
                key,
                value,
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// `flat_map_values`: any number of values per record, under the same key.
pub(crate) struct FlatMapValues<K, V, VR, I, F> {
    pub(crate) f: Arc<F>,
    types: Types<(K, V, VR, I)>,
}

impl<K, V, VR, I, F> FlatMapValues<K, V, VR, I, F> {
    pub(crate) fn new(f: Arc<F>) -> Self {
        FlatMapValues {
            f,
            types: PhantomData,
        }
    }
}

impl<K, V, VR, I, F> Processor for FlatMapValues<K, V, VR, I, F>
where
    K: Clone + 'static,
    V: 'static,
    VR: Clone + 'static,
    I: IntoIterator<Item = VR> + 'static,
    F: Fn(&K, V) -> I + Send + Sync + 'static,
{
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = VR;

    fn process(&mut self, r: Record<K, V>, ctx: &mut Ctx<'_, K, VR>) -> Result<(), ProcessorError> {
        for value in (self.f)(&r.key, r.value) {
            ctx.forward(Record {
                key: r.key.clone(),
                value,
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// An action on a key and a value.
pub(crate) trait ForeachAction<K, V>: Fn(&K, &V) + Send + Sync {}
impl<K, V, F: Fn(&K, &V) + Send + Sync> ForeachAction<K, V> for F {}

processor! {
    /// `peek`: calls the action, then forwards the record unchanged.
    Peek<K, V> where F: ForeachAction<K, V>;
    in (K, V) out (K, V);
    |self, r, ctx| {
        (self.f)(&r.key, &r.value);
        ctx.forward(r)
    }
}

processor! {
    /// `foreach`: calls the action; a terminal node.
    Foreach<K, V> where F: ForeachAction<K, V>;
    in (K, V) out (K, V);
    |self, r, _ctx| {
        (self.f)(&r.key, &r.value);
        Ok(())
    }
}

/// `merge` and the branches of `split`: forwards every record.
pub(crate) struct PassThrough<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> PassThrough<K, V> {
    pub(crate) fn new() -> Self {
        PassThrough(PhantomData)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Processor for PassThrough<K, V> {
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = V;

    #[inline]
    fn process(&mut self, r: Record<K, V>, ctx: &mut Ctx<'_, K, V>) -> Result<(), ProcessorError> {
        ctx.forward(r)
    }
}

/// A shared, type-erased predicate (the branches of a `split`).
pub(crate) type DynPredicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// `split`: sends each record to the first branch whose predicate accepts it, else to the
/// default branch (if there is one).
pub(crate) struct Branch<K, V> {
    pub(crate) predicates: Arc<[DynPredicate<K, V>]>,
    /// One child name per predicate, then the default branch's.
    pub(crate) children: Arc<[String]>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor for Branch<K, V> {
    type KIn = K;
    type VIn = V;
    type KOut = K;
    type VOut = V;

    fn process(&mut self, r: Record<K, V>, ctx: &mut Ctx<'_, K, V>) -> Result<(), ProcessorError> {
        let chosen = self
            .predicates
            .iter()
            .position(|p| p(&r.key, &r.value))
            .or_else(|| {
                (self.children.len() > self.predicates.len()).then_some(self.predicates.len())
            });
        match chosen {
            Some(i) => ctx.forward_to(&self.children[i], r),
            None => Ok(()),
        }
    }
}

/// `KTable::to_stream`: each update's new value (`None` for a delete).
pub(crate) struct ToStream<K, V>(PhantomData<fn() -> (K, V)>);

impl<K, V> ToStream<K, V> {
    pub(crate) fn new() -> Self {
        ToStream(PhantomData)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Processor for ToStream<K, V> {
    type KIn = K;
    type VIn = Change<V>;
    type KOut = K;
    type VOut = Option<V>;

    #[inline]
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut Ctx<'_, K, Option<V>>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(r.map_value(|change| change.new_value))
    }
}
