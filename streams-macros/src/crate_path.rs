//! Where generated code finds the library: `::streams` unless overridden with `crate = path`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

/// The path generated code uses for the library.
pub(crate) fn private(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::streams::__private),
    }
}

/// Gives every token `span`, so a compiler error anywhere in `tokens` points at that span (the
/// user's token the generated check is about) instead of at the whole macro call.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
