//! The processors the DSL's operations lower to.

pub(crate) mod aggregate;
pub(crate) mod cogroup;
pub(crate) mod foreign_key_join;
pub(crate) mod forward;
pub(crate) mod join_buffer;
pub(crate) mod session_aggregate;
pub(crate) mod stateless;
pub(crate) mod stream_global_join;
pub(crate) mod stream_stream_join;
pub(crate) mod stream_table_join;
pub(crate) mod suppress;
pub(crate) mod table;
pub(crate) mod table_table_join;
pub(crate) mod versioned_table;
pub(crate) mod window_aggregate;

/// The types a processor works on, marked without being owned (`fn() -> T` keeps the processor
/// `Send` and `Sync` whatever `T` is).
pub(crate) type Types<T> = std::marker::PhantomData<fn() -> T>;
