//! Reading a `#[processor]` function: its options and which shape it has.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{
    Error, Expr, FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, Path, PathArguments,
    ReturnType, Token, Type, TypeParamBound,
};

/// `#[processor(...)]` options.
#[derive(Default)]
pub(super) struct Args {
    pub(super) name: Option<LitStr>,
    pub(super) krate: Option<Path>,
    pub(super) punctuate: Option<Punctuate>,
}

/// `punctuate(every = <Duration expr>, clock = stream_time | wall_clock, call = <fn>)`.
pub(super) struct Punctuate {
    pub(super) every: Expr,
    pub(super) wall_clock: bool,
    pub(super) call: Path,
}

/// What the function does with a record.
pub(super) enum Shape {
    /// `fn(V) -> V2` or `fn(K, V) -> (K2, V2)`.
    Map,
    /// `fn(&V) -> bool` or `fn(&K, &V) -> bool`.
    Filter,
    /// `-> impl IntoIterator<Item = V2>` or `<Item = (K2, V2)>`.
    FlatMap,
    /// `fn(Record<K, V>, &mut ProcessorContext<K2, V2>, stores...)`.
    Full { stores: Vec<(Ident, Type)> },
}

/// A parsed `#[processor]` function.
pub(super) struct ProcessorFn<'a> {
    pub(super) func: &'a ItemFn,
    pub(super) args: Args,
    pub(super) shape: Shape,
    /// Input key type; `None` means any key (the generated type is generic over it).
    pub(super) key_in: Option<Type>,
    pub(super) value_in: Type,
    /// Output key type; `None` means the input key passes through.
    pub(super) key_out: Option<Type>,
    pub(super) value_out: Type,
    /// Whether the function returns `Result<_, E>`.
    pub(super) fallible: bool,
}

fn parse_args(input: ParseStream<'_>) -> syn::Result<Args> {
    let mut args = Args::default();
    let mut errors: Option<Error> = None;
    while !input.is_empty() {
        let key: Ident = if input.peek(Token![crate]) {
            let token: Token![crate] = input.parse()?;
            Ident::new("crate", token.span)
        } else {
            input.parse()?
        };
        match key.to_string().as_str() {
            "name" => {
                input.parse::<Token![=]>()?;
                let name: LitStr = input.parse()?;
                if name.value().is_empty() {
                    return Err(Error::new(name.span(), "a processor name cannot be empty"));
                }
                args.name = Some(name);
            }
            "crate" => {
                input.parse::<Token![=]>()?;
                args.krate = Some(input.parse()?);
            }
            "punctuate" => {
                let content;
                syn::parenthesized!(content in input);
                args.punctuate = Some(parse_punctuate(&content, key.span())?);
            }
            other => {
                let e = Error::new(
                    key.span(),
                    format!(
                        "unknown `#[processor]` option `{other}`; expected `name = \"...\"`, `crate = path` or `punctuate(...)`"
                    ),
                );
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
                // Skip the option's value so later options are still read.
                while !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<proc_macro2::TokenTree>()?;
                }
            }
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(args),
    }
}

fn parse_punctuate(input: ParseStream<'_>, span: Span) -> syn::Result<Punctuate> {
    let (mut every, mut clock, mut call) = (None, None, None);
    while !input.is_empty() {
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "every" => every = Some(input.parse::<Expr>()?),
            "clock" => {
                let c: Ident = input.parse()?;
                clock = Some(match c.to_string().as_str() {
                    "stream_time" => false,
                    "wall_clock" => true,
                    _ => {
                        return Err(Error::new(
                            c.span(),
                            "`clock` is `stream_time` or `wall_clock`",
                        ));
                    }
                });
            }
            "call" => call = Some(input.parse::<Path>()?),
            other => {
                return Err(Error::new(
                    key.span(),
                    format!(
                        "unknown `punctuate` option `{other}`; expected `every`, `clock` or `call`"
                    ),
                ));
            }
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    match (every, call) {
        (Some(every), Some(call)) => Ok(Punctuate {
            every,
            wall_clock: clock.unwrap_or(false),
            call,
        }),
        _ => Err(Error::new(
            span,
            "`punctuate` needs `every = <Duration>` and `call = <function>` (and optionally `clock = stream_time | wall_clock`)",
        )),
    }
}

/// The last segment of a type path, if the type is a path.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// The generic type arguments of a path type's last segment.
fn type_args(ty: &Type) -> Vec<&Type> {
    match last_segment(ty).map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(a)) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn is_named(ty: &Type, names: &[&str]) -> bool {
    last_segment(ty).is_some_and(|s| names.iter().any(|n| s.ident == n))
}

/// `Result<T, E>` → `T`.
fn unwrap_result(ty: &Type) -> Option<&Type> {
    if is_named(ty, &["Result"]) {
        type_args(ty).first().copied()
    } else {
        None
    }
}

/// `impl IntoIterator<Item = X>` → `X`.
fn into_iter_item(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(imp) = ty else {
        return None;
    };
    imp.bounds.iter().find_map(|b| match b {
        TypeParamBound::Trait(t) => {
            let seg = t.path.segments.last()?;
            if seg.ident != "IntoIterator" && seg.ident != "Iterator" {
                return None;
            }
            match &seg.arguments {
                PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                    GenericArgument::AssocType(at) if at.ident == "Item" => Some(&at.ty),
                    _ => None,
                }),
                _ => None,
            }
        }
        _ => None,
    })
}

/// A borrowed parameter type as the record holds it: `&str` → `String`, `&[T]` → `Vec<T>`.
fn owned(ty: &Type) -> Type {
    match ty {
        Type::Path(p) if p.path.is_ident("str") => syn::parse_quote!(::std::string::String),
        Type::Slice(s) => {
            let elem = &s.elem;
            syn::parse_quote!(::std::vec::Vec<#elem>)
        }
        other => other.clone(),
    }
}

/// A `(K, V)` tuple type's parts.
fn pair(ty: &Type) -> Option<(Type, Type)> {
    match ty {
        Type::Tuple(t) if t.elems.len() == 2 => Some((t.elems[0].clone(), t.elems[1].clone())),
        _ => None,
    }
}

fn param_name(arg: &syn::PatType) -> Option<Ident> {
    match &*arg.pat {
        Pat::Ident(i) => Some(i.ident.clone()),
        _ => None,
    }
}

pub(super) fn parse(args: TokenStream, func: &ItemFn) -> syn::Result<ProcessorFn<'_>> {
    let args = parse_args.parse2(args)?;
    let sig = &func.sig;
    if let Some(a) = &sig.asyncness {
        return Err(Error::new(
            a.span(),
            "a processor function cannot be `async`: processing is synchronous, one record at a time",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &sig.generics,
            "a processor function cannot be generic; write one function per key/value type",
        ));
    }
    let mut params: Vec<&syn::PatType> = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Typed(t) => params.push(t),
            FnArg::Receiver(r) => {
                return Err(Error::new_spanned(
                    r,
                    "a processor function cannot take `self`",
                ));
            }
        }
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => Some(&**ty),
        ReturnType::Default => None,
    };

    // Full control: `fn(Record<K, V>, &mut ProcessorContext<K2, V2>, stores...)`.
    if let Some(first) = params.first()
        && is_named(&first.ty, &["Record"])
    {
        return parse_full(func, args, &params, ret);
    }

    let shape_help = "expected one of: `fn(V) -> V2`, `fn(K, V) -> (K2, V2)`, `fn(&V) -> bool`, `fn(&K, &V) -> bool`, `fn(V) -> impl IntoIterator<Item = V2>`, `fn(K, V) -> impl IntoIterator<Item = (K2, V2)>`, any of those returning `Result<_, E>`, or `fn(Record<K, V>, &mut ProcessorContext<K2, V2>, stores...)`";
    if params.is_empty() || params.len() > 2 {
        return Err(Error::new_spanned(
            &sig.inputs,
            format!("a processor function takes the value, or the key and the value; {shape_help}"),
        ));
    }
    let Some(ret) = ret else {
        return Err(Error::new_spanned(
            sig,
            format!("a processor function must return something; {shape_help}"),
        ));
    };
    let (ret, fallible) = match unwrap_result(ret) {
        Some(ok) => (ok, true),
        None => (ret, false),
    };
    let refs: Vec<Option<&Type>> = params
        .iter()
        .map(|p| match &*p.ty {
            Type::Reference(r) if r.mutability.is_none() => Some(&*r.elem),
            _ => None,
        })
        .collect();
    let keyed = params.len() == 2;

    // Filters take references and return bool.
    if refs.iter().all(Option::is_some) {
        if !is_named(ret, &["bool"]) {
            return Err(Error::new_spanned(
                ret,
                "a processor function that borrows its inputs is a filter and returns `bool` (or `Result<bool, E>`); take the inputs by value to map them",
            ));
        }
        let inputs: Vec<Type> = refs.iter().flatten().map(|t| owned(t)).collect();
        let (key_in, value_in) = if keyed {
            (Some(inputs[0].clone()), inputs[1].clone())
        } else {
            (None, inputs[0].clone())
        };
        return Ok(ProcessorFn {
            func,
            args,
            shape: Shape::Filter,
            key_out: key_in.clone(),
            key_in,
            value_out: value_in.clone(),
            value_in,
            fallible,
        });
    }
    if let Some(p) = params.iter().zip(&refs).find(|(_, r)| r.is_some()) {
        return Err(Error::new_spanned(
            &p.0.ty,
            "take every input by value (a map) or every input by reference (a filter), not a mix",
        ));
    }
    let key_in = keyed.then(|| (*params[0].ty).clone());
    let value_in = (*params[params.len() - 1].ty).clone();
    let (shape, out) = match into_iter_item(ret) {
        Some(item) => (Shape::FlatMap, item),
        None => (Shape::Map, ret),
    };
    let (key_out, value_out) = if keyed {
        match pair(out) {
            Some((k, v)) => (Some(k), v),
            None => {
                return Err(Error::new_spanned(
                    out,
                    "a processor function taking a key and a value returns the new `(key, value)`; take only the value to map values",
                ));
            }
        }
    } else {
        (None, out.clone())
    };
    Ok(ProcessorFn {
        func,
        args,
        shape,
        key_in,
        value_in,
        key_out,
        value_out,
        fallible,
    })
}

fn parse_full<'a>(
    func: &'a ItemFn,
    args: Args,
    params: &[&syn::PatType],
    ret: Option<&Type>,
) -> syn::Result<ProcessorFn<'a>> {
    let record = &params[0].ty;
    let [key_in, value_in] = type_args(record)[..] else {
        return Err(Error::new_spanned(
            record,
            "the record parameter is `Record<K, V>`",
        ));
    };
    let ctx_help =
        "the second parameter of a full-control processor is `&mut ProcessorContext<'_, K2, V2>`";
    let Some(ctx) = params.get(1) else {
        return Err(Error::new_spanned(&func.sig.inputs, ctx_help));
    };
    let ctx_ty = match &*ctx.ty {
        Type::Reference(r)
            if r.mutability.is_some() && is_named(&r.elem, &["ProcessorContext", "Context"]) =>
        {
            &*r.elem
        }
        other => return Err(Error::new_spanned(other, ctx_help)),
    };
    let [key_out, value_out] = type_args(ctx_ty)[..] else {
        return Err(Error::new_spanned(ctx_ty, ctx_help));
    };
    let mut stores = Vec::new();
    for p in &params[2..] {
        let Type::Reference(r) = &*p.ty else {
            return Err(Error::new_spanned(
                &p.ty,
                "a store parameter is a shared reference, e.g. `counts: &KeyValueStore<String, i64>`",
            ));
        };
        let Some(name) = param_name(p) else {
            return Err(Error::new_spanned(
                &p.pat,
                "a store parameter needs a plain name: the name of the store",
            ));
        };
        stores.push((name, (*r.elem).clone()));
    }
    let fallible = match ret {
        None => false,
        Some(Type::Tuple(tt)) if tt.elems.is_empty() => false,
        Some(t)
            if unwrap_result(t)
                .is_some_and(|ok| matches!(ok, Type::Tuple(tt) if tt.elems.is_empty())) =>
        {
            true
        }
        Some(t) => {
            return Err(Error::new_spanned(
                t,
                "a full-control processor returns `()` or `Result<(), E>`; forward records with `ctx.forward(...)`",
            ));
        }
    };
    Ok(ProcessorFn {
        func,
        args,
        shape: Shape::Full { stores },
        key_in: Some(key_in.clone()),
        value_in: value_in.clone(),
        key_out: Some(key_out.clone()),
        value_out: value_out.clone(),
        fallible,
    })
}
