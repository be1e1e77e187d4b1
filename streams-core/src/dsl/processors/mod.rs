//! The processors the DSL's operations lower to.

pub(crate) mod aggregate;
pub(crate) mod forward;
pub(crate) mod stateless;
pub(crate) mod table;
