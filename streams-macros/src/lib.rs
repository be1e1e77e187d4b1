//! The macros of [`streams`](https://docs.rs/streams): `#[processor]` turns a plain function
//! into a Processor, `topology!` declares how sources, processors, stores and sinks connect —
//! and the compiler rejects wiring that cannot work, pointing at your own tokens.
//!
//! Use them through the `streams` crate, which documents them with examples. To see what a
//! macro generated, build with `STREAMS_MACROS_DEBUG=1` in the environment (and `cargo build -vv`
//! to show the compiler's stderr).

mod crate_path;
mod processor;
mod topology;

use proc_macro::TokenStream;

#[doc = include_str!("../docs/processor.md")]
#[proc_macro_attribute]
pub fn processor(args: TokenStream, item: TokenStream) -> TokenStream {
    debug("processor", processor::expand(args.into(), item.into())).into()
}

#[doc = include_str!("../docs/topology.md")]
#[proc_macro]
pub fn topology(input: TokenStream) -> TokenStream {
    debug("topology", topology::expand(input.into())).into()
}

/// With `STREAMS_MACROS_DEBUG=1` in the build's environment, prints each expansion to stderr
/// (see it with `cargo build -vv`), to debug what a macro generated.
fn debug(macro_name: &str, expansion: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    if std::env::var_os("STREAMS_MACROS_DEBUG").is_some_and(|v| v == "1") {
        #[expect(clippy::print_stderr, reason = "the opt-in debug output of the macros")]
        {
            eprintln!("// {macro_name}! expansion\n{expansion}");
        }
    }
    expansion
}
