//! Joins in `topology!` chains: a key join's other side (its first argument) is checked before
//! the DSL method takes it — a table for `.join`, `.left_join`, `.outer_join`, a stream for
//! `.join_stream` and its kin, with the key type of the chain's stream or table — by a
//! `__private` function whose call spans the user's argument, so a mismatch is reported there,
//! once, and names the problem (and the DSL method raises no follow-on error).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use super::dsl::method_call;
use super::parse::OpCall;
use crate::crate_path::respan;

/// The DSL's joins on a key both sides share: with a table (a stream's or a table's), and with a
/// stream within a time window. Not the foreign-key joins, whose other side has keys of its own.
const TABLE_JOINS: &[&str] = &["join", "left_join", "outer_join"];
const STREAM_JOINS: &[&str] = &["join_stream", "left_join_stream", "outer_join_stream"];

/// A key join's check (the `__private` function checking its other side), its other side and
/// the rest of its arguments.
fn join_args(op: &OpCall) -> Option<(Ident, &syn::Expr, Vec<&syn::Expr>)> {
    let method = op.method.to_string();
    let base = method.strip_suffix("_with").unwrap_or(&method);
    let check = if TABLE_JOINS.contains(&base) {
        "join_table"
    } else if STREAM_JOINS.contains(&base) {
        "join_stream"
    } else {
        return None;
    };
    let mut args = op.args.iter();
    let other = args.next()?;
    Some((Ident::new(check, Span::call_site()), other, args.collect()))
}

/// `stream.method(check(&stream, other), rest..)` for a key join; `None` for other operations.
pub(super) fn join_call(p: &TokenStream, stream: &TokenStream, op: &OpCall) -> Option<TokenStream> {
    let (check, other, rest) = join_args(op)?;
    let method = &op.method;
    // The check's call spans the argument exactly, from its first token to its last: rustc
    // reports an unmet bound of the check and the normalization of its result at one span, once.
    let (first, last) = first_last_span(other);
    let check = respan(quote!(#p::#check), first);
    let left = respan(quote!(&#stream), method.span());
    let mut check_args =
        proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#left, #other));
    check_args.set_span(last);
    Some(method_call(
        stream,
        method,
        quote!(#check #check_args, #(#rest),*),
    ))
}

/// The spans of an expression's first and last tokens.
fn first_last_span(expr: &syn::Expr) -> (Span, Span) {
    let mut tokens = quote!(#expr).into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    (first, last)
}
