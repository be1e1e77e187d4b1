//! `topology!`: parse the declaration, validate the whole graph (every error at once), then
//! expand to `TopologyBuilder` calls plus compile-time checks spanned on the user's tokens.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let parsed: parse::Declaration = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return errors(&e),
    };
    match validate::validate(&parsed) {
        Ok(graph) => expand::expand(&parsed, &graph),
        Err(e) => errors(&e),
    }
}

/// The errors as an expression (of type `!`), so the macro call site stays well-formed and no
/// follow-on errors appear.
fn errors(e: &syn::Error) -> TokenStream {
    let errors = e.to_compile_error();
    quote::quote!({ #errors ::core::unreachable!() })
}
