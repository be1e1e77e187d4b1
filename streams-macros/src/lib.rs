//! The macros of [`streams`](https://docs.rs/streams): `#[processor]` turns a plain function
//! into a Processor, `topology!` declares how sources, processors, stores and sinks connect —
//! and the compiler rejects wiring that cannot work, pointing at your own tokens.
//!
//! Use them through the `streams` crate, which documents them with examples.

mod crate_path;
mod processor;
mod topology;

use proc_macro::TokenStream;

/// Turns a plain function into a type implementing `Processor`, named like the function.
///
/// See the `streams` crate's documentation of `processor` for every supported shape.
#[proc_macro_attribute]
pub fn processor(args: TokenStream, item: TokenStream) -> TokenStream {
    processor::expand(args.into(), item.into()).into()
}

/// Declares a topology: sources, sinks, stores, processors and the chains that connect them.
///
/// See the `streams` crate's documentation of `topology` for the syntax.
#[proc_macro]
pub fn topology(input: TokenStream) -> TokenStream {
    topology::expand(input.into()).into()
}
