#![doc = include_str!("../README.md")]

#[doc(inline)]
pub use streams_core::*;

#[doc(inline)]
pub use streams_macros::{processor, topology};
