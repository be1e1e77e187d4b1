//! `#[processor]`: parse the function's shape, then generate the processor type.

mod expand;
mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Entry point: on error, the function is still emitted so the rest of the crate keeps
/// type-checking and IDEs keep working.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match parse::parse(args, &func).map(|p| expand::expand(&p)) {
        Ok(tokens) => tokens,
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(func.into_token_stream());
            out
        }
    }
}
