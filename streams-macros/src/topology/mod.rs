//! `topology!`: parse the declaration, validate the whole graph (every error at once), then
//! expand to `TopologyBuilder` calls plus compile-time checks spanned on the user's tokens.

mod dsl;
mod dsl_joins;
mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let item_form = syn::parse::Parser::parse2(
        |input: syn::parse::ParseStream<'_>| {
            let item = parse::is_item_form(input);
            input.parse::<TokenStream>()?;
            Ok(item)
        },
        input.clone(),
    )
    .unwrap_or(false);
    let parsed: parse::Declaration = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return parse_errors(&e, item_form),
    };
    if dsl::is_dsl(&parsed) {
        return dsl::expand(&parsed);
    }
    match validate::validate(&parsed) {
        Ok(graph) => expand::expand(&parsed, &graph),
        Err(e) => expand::invalid(&parsed, &e),
    }
}

/// A declaration that does not parse: the errors, as items (item form) or as an expression of
/// type `!` (so no follow-on errors appear).
fn parse_errors(e: &syn::Error, item_form: bool) -> TokenStream {
    let errors = e.to_compile_error();
    if item_form {
        errors
    } else {
        quote::quote!({ #errors ::core::unreachable!() })
    }
}
