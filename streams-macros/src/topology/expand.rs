//! Expanding a validated `topology!` into `TopologyBuilder` calls, with compile-time checks
//! spanned at the user's tokens: the type of every connection (at its arrow), every codec (at
//! the codec), serde support of `json`/`bincode` types (at the type), and the stores each
//! processor takes (at the processor).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::parse::{Codec, Codecs, Declaration, StoreDecl, StoreKind};
use super::validate::{Graph, NodeKind};
use crate::crate_path::{private, respan};

/// A codec's type, the expression making it, and checks it needs.
pub(super) struct CodecParts {
    pub(super) ty: TokenStream,
    pub(super) expr: TokenStream,
    span: Span,
    checks: TokenStream,
}

pub(super) fn codec_parts(p: &TokenStream, codec: &Codec, ty: &Type) -> CodecParts {
    match codec {
        Codec::Keyword(kw) => {
            let span = kw.span();
            let (cty, expr, checks) = match kw.to_string().as_str() {
                "utf8" => (quote!(#p::Utf8), quote!(#p::Utf8), quote!()),
                "bytes" => (quote!(#p::Bytes), quote!(#p::Bytes), quote!()),
                "json" => (
                    quote!(#p::Json<#ty>),
                    quote!(#p::Json::<#ty>::new()),
                    quote!(),
                ),
                "bincode" => (
                    quote!(#p::Bincode<#ty>),
                    quote!(#p::Bincode::<#ty>::new()),
                    quote!(),
                ),
                _ => (
                    quote!(<#ty as #p::DefaultCodec>::Codec),
                    quote!(<#ty as #p::DefaultCodec>::codec()),
                    quote!(),
                ),
            };
            CodecParts {
                ty: cty,
                expr,
                span,
                checks,
            }
        }
        Codec::Type(t) => CodecParts {
            ty: quote!(#t),
            expr: quote!(<#t as ::core::default::Default>::default()),
            span: t.span(),
            checks: quote!(),
        },
    }
}

/// Binds `let #name: CT = codec_for::<T, CT>(expr);` spanned at the codec.
pub(super) fn bind_codec(
    p: &TokenStream,
    name: &Ident,
    parts: &CodecParts,
    ty: &Type,
) -> TokenStream {
    let (cty, expr, checks) = (&parts.ty, &parts.expr, &parts.checks);
    let check = respan(quote!(#p::codec_for::<#ty, #cty>), parts.span);
    quote! {
        #checks
        let #name: #cty = #check(#expr);
    }
}

pub(super) fn key_value_codecs(codecs: &Codecs) -> (&Codec, &Codec) {
    (&codecs.key, codecs.value.as_ref().unwrap_or(&codecs.key))
}

pub(super) fn expand(d: &Declaration, g: &Graph<'_>) -> TokenStream {
    let p = private(d.krate.as_ref());
    let alias = |i: usize| format_ident!("__Node{}", i);
    let mut types = TokenStream::new();
    let mut checks = TokenStream::new();
    let mut codecs = TokenStream::new();
    let mut build = TokenStream::new();
    let mut handles = TokenStream::new();
    let struct_name = struct_name(d);

    // The name each node has in the built topology.
    let node_name = |i: usize| -> TokenStream {
        let node = &g.nodes[i];
        if node.named_by_stage {
            let a = alias(i);
            quote!(<#a as #p::Named>::NAME)
        } else {
            let s = node.ident.to_string();
            quote!(#s)
        }
    };

    for &i in &g.order {
        let node = &g.nodes[i];
        let a = alias(i);
        let parents: Vec<TokenStream> = node.parents.iter().map(|&q| node_name(q)).collect();
        match &node.kind {
            NodeKind::Source(decl) | NodeKind::Sink(decl) => {
                let (k, v) = (&decl.types.key, &decl.types.value);
                types.extend(quote!(type #a = #p::TopicNode<#k, #v>;));
                let (kc, vc) = key_value_codecs(&decl.codecs);
                let (kp, vp) = (codec_parts(&p, kc, k), codec_parts(&p, vc, v));
                let (kn, vn) = (
                    format_ident!("__key_codec{}", i),
                    format_ident!("__value_codec{}", i),
                );
                codecs.extend(bind_codec(&p, &kn, &kp, k));
                codecs.extend(bind_codec(&p, &vn, &vp, v));
                let name = node.ident.to_string();
                let topics = &decl.topics;
                let field = &node.ident;
                let (kct, vct) = (&kp.ty, &vp.ty);
                handles.extend(quote! {
                    #field: #p::TopicHandle::<#k, #v, #kct, #vct>::new([#(#topics),*], ::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn)),
                });
                if let NodeKind::Source(_) = node.kind {
                    build.extend(quote! {
                        __builder.add_source::<#k, #v, #kct, #vct, _>(#name, [#(#topics),*], ::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn));
                    });
                } else {
                    let topic = &topics[0];
                    build.extend(quote! {
                        __builder.add_sink::<#k, #v, #kct, #vct, _>(#name, #topic, ::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn), [#(#parents),*]);
                    });
                }
            }
            NodeKind::Stage(path) => {
                let first = alias(node.parents[0]);
                types.extend(quote! {
                    type #a = <#path as #p::Stage>::Processor<<#first as #p::Outputs>::K>;
                });
                let name = node_name(i);
                build.extend(quote! {
                    __builder.add_processor(#name, <#a as ::core::default::Default>::default, [#(#parents),*]);
                });
                // The stores the function takes must be the ones connected here.
                let connected = node.stores.clone().unwrap_or_default();
                let names: Vec<String> = connected.iter().map(ToString::to_string).collect();
                let store_types: Vec<TokenStream> = connected
                    .iter()
                    .filter_map(|s| d.stores.iter().find(|st| st.name == *s))
                    .map(|st| store_handle(&p, st))
                    .collect();
                let span = node.ident.span();
                let prefix = format!(
                    "processor `{}` is connected to stores [{}], but its function takes stores [",
                    node.ident,
                    names.join(", ")
                );
                let suffix = "]: connect exactly the stores its store parameters name, in order";
                checks.extend(respan(
                    quote! {
                        #p::connect_stores::<#a, (#(#store_types,)*)>();
                        const _: () = {
                            const NAMES: &[&str] = <#a as #p::ProcessorStores>::NAMES;
                            const LEN: usize = #p::message_len(#prefix, NAMES, #suffix);
                            const MESSAGE: [u8; LEN] = #p::message::<LEN>(#prefix, NAMES, #suffix);
                            if !#p::same_names(NAMES, &[#(#names),*]) {
                                ::core::panic!("{}", #p::message_str(&MESSAGE));
                            }
                        };
                    },
                    span,
                ));
                // A stage that keeps state by key must not follow one that changed the key in
                // the same sub-topology: its records would sit in the wrong task.
                if !connected.is_empty() {
                    for up in upstream_stages(g, i) {
                        let (up_node, NodeKind::Stage(up_path)) = (&g.nodes[up], &g.nodes[up].kind)
                        else {
                            continue;
                        };
                        let message = format!(
                            "stage `{}` changes the key before `{}`, which keeps state by key ({}): \
                             records of one key would be counted in several tasks. Write them to a \
                             repartition topic first (`... -> {} -> to_repartition;` with a sink \
                             and a source on a topic named `<name>-repartition`, then \
                             `from_repartition -> {}(..)`)",
                            up_node.ident,
                            node.ident,
                            names.join(", "),
                            up_node.ident,
                            node.ident,
                        );
                        checks.extend(respan(
                            quote! {
                                const _: () = ::core::assert!(!<#up_path as #p::Stage>::CHANGES_KEY, #message);
                            },
                            up_node.ident.span(),
                        ));
                    }
                }
            }
            NodeKind::Typed(ty, supplier) => {
                types.extend(quote!(type #a = #ty;));
                let name = node.ident.to_string();
                let supplier = match supplier {
                    Some(expr) => quote!(#expr),
                    None => quote!(<#a as ::core::default::Default>::default),
                };
                build.extend(quote! {
                    __builder.add_processor::<_, _>(#name, #supplier, [#(#parents),*]);
                });
            }
        }
    }
    for edge in &g.edges {
        let (pa, ch) = (alias(edge.parent), alias(edge.child));
        checks.extend(respan(quote!(#p::connect::<#pa, #ch>();), edge.arrow));
    }
    for (s, store) in d.stores.iter().enumerate() {
        let (k, v) = (&store.types.key, &store.types.value);
        let (kc, vc) = key_value_codecs(&store.codecs);
        let (kp, vp) = (codec_parts(&p, kc, k), codec_parts(&p, vc, v));
        let (kn, vn) = (
            format_ident!("__store_key_codec{}", s),
            format_ident!("__store_value_codec{}", s),
        );
        codecs.extend(bind_codec(&p, &kn, &kp, k));
        codecs.extend(bind_codec(&p, &vn, &vp, v));
        let name = store.name.to_string();
        let users: Vec<TokenStream> = g
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.stores.as_ref().is_some_and(|st| st.contains(&store.name)))
            .map(|(i, _)| node_name(i))
            .collect();
        let store_builder = store_builder(&p, store, &name, &kn, &vn);
        build.extend(quote! {
            __builder.add_state_store(#store_builder, [#(#users),*]);
        });
    }

    let body = quote! {
        #[allow(non_camel_case_types, non_snake_case, dead_code, clippy::type_complexity)]
        const _: () = ();
        #types
        #[allow(clippy::let_unit_value)]
        fn __checks() {
            #checks
        }
        #codecs
        let mut __builder = #p::TopologyBuilder::new();
        #build
        match __builder.build() {
            ::core::result::Result::Ok(topology) => ::core::result::Result::Ok(#struct_name {
                #handles
                topology,
            }),
            ::core::result::Result::Err(errors) => ::core::result::Result::<#struct_name, #p::TopologyErrors>::Err(errors),
        }
    };
    let definition = struct_definition(&p, d);
    match &d.item {
        None => quote! {{
            #definition
            #body
        }},
        Some(item) => {
            let (vis, params) = (&item.vis, &item.params);
            quote! {
                #definition
                impl #struct_name {
                    /// Builds the declared topology; the fields are typed handles of its sources
                    /// and sinks.
                    #[allow(clippy::too_many_lines)]
                    #vis fn build(#(#params),*) -> ::core::result::Result<Self, #p::TopologyErrors> {
                        #body
                    }
                }
            }
        }
    }
}

/// A declaration with errors: the errors, and the declared struct (so uses of its fields raise
/// no further errors, and no `unreachable` warning follows a `?`).
pub(super) fn invalid(d: &Declaration, e: &syn::Error) -> TokenStream {
    let p = private(d.krate.as_ref());
    let errors = e.to_compile_error();
    let definition = struct_definition(&p, d);
    let name = struct_name(d);
    match &d.item {
        None => quote! {{
            #errors
            #definition
            #p::declared_topology_never::<#name>()
        }},
        Some(item) => {
            let (vis, params) = (&item.vis, &item.params);
            quote! {
                #errors
                #definition
                impl #name {
                    #[allow(unused_variables)]
                    #vis fn build(#(#params),*) -> ::core::result::Result<Self, #p::TopologyErrors> {
                        #p::declared_topology_never::<Self>()
                    }
                }
            }
        }
    }
}

pub(super) fn struct_name(d: &Declaration) -> Ident {
    d.item.as_ref().map_or_else(
        || format_ident!("DeclaredTopology"),
        |item| item.name.clone(),
    )
}

/// The struct a declaration builds: the topology and a typed handle per source, table and sink.
pub(super) fn struct_definition(p: &TokenStream, d: &Declaration) -> TokenStream {
    let mut fields = TokenStream::new();
    let mut seen = std::collections::HashSet::new();
    // A name declared twice is an error reported already; one field for it.
    for decl in d.sources.iter().chain(&d.sinks) {
        if !seen.insert(decl.name.to_string()) {
            continue;
        }
        let (k, v) = (&decl.types.key, &decl.types.value);
        let (kc, vc) = key_value_codecs(&decl.codecs);
        let (kct, vct) = (codec_parts(p, kc, k).ty, codec_parts(p, vc, v).ty);
        let field = &decl.name;
        fields.extend(quote!(pub #field: #p::TopicHandle<#k, #v, #kct, #vct>,));
    }
    // A table's handle carries `Option<V>`: a `None` value deletes the row (a tombstone).
    for decl in d.tables.iter().map(|t| &t.topic) {
        if !seen.insert(decl.name.to_string()) {
            continue;
        }
        let (k, v) = (&decl.types.key, &decl.types.value);
        let (kc, vc) = key_value_codecs(&decl.codecs);
        let (kct, vct) = (codec_parts(p, kc, k).ty, codec_parts(p, vc, v).ty);
        let field = &decl.name;
        fields.extend(quote!(pub #field: #p::TopicHandle<#k, ::core::option::Option<#v>, #kct, #p::Nullable<#vct>>,));
    }
    let name = struct_name(d);
    let vis = d.item.as_ref().map(|item| &item.vis);
    quote! {
        /// The topology `topology!` declared, with a typed handle per source, table and sink.
        #[allow(non_snake_case, dead_code)]
        #vis struct #name {
            /// The topology.
            pub topology: #p::Topology,
            #fields
        }
    }
}

/// The `#[processor]` stages upstream of node `i` in its sub-topology (up to the sources).
fn upstream_stages(g: &Graph<'_>, i: usize) -> Vec<usize> {
    let mut seen = vec![false; g.nodes.len()];
    let mut stack: Vec<usize> = g.nodes[i].parents.clone();
    let mut found = Vec::new();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n], true) {
            continue;
        }
        if let NodeKind::Stage(_) = g.nodes[n].kind {
            found.push(n);
        }
        stack.extend(g.nodes[n].parents.iter().copied());
    }
    found.sort_unstable();
    found
}

/// The handle type a processor function takes for a declared store.
pub(super) fn store_handle(p: &TokenStream, store: &StoreDecl) -> TokenStream {
    let (k, v) = (&store.types.key, &store.types.value);
    match store.kind {
        StoreKind::KeyValue => quote!(#p::KeyValueStore<#k, #v>),
        StoreKind::TimestampedKeyValue => quote!(#p::TimestampedKeyValueStore<#k, #v>),
        StoreKind::Window { .. } => quote!(#p::WindowStore<#k, #v>),
        StoreKind::Session { .. } => quote!(#p::SessionStore<#k, #v>),
    }
}

/// The `Stores::...` call building a declared store.
pub(super) fn store_builder(
    p: &TokenStream,
    store: &StoreDecl,
    name: &str,
    kn: &Ident,
    vn: &Ident,
) -> TokenStream {
    let (k, v) = (&store.types.key, &store.types.value);
    let engine = if store.persistent {
        "persistent"
    } else {
        "in_memory"
    };
    let ms = |e: &syn::Expr| quote!(::core::time::Duration::from_millis(#e));
    let (factory, times) = match &store.kind {
        StoreKind::KeyValue => (format!("{engine}_key_value"), quote!()),
        StoreKind::TimestampedKeyValue => (format!("{engine}_timestamped_key_value"), quote!()),
        StoreKind::Window { retention, size } => {
            let (r, s) = (ms(retention), ms(size));
            (format!("{engine}_window_store"), quote!(#r, #s,))
        }
        StoreKind::Session { retention } => {
            let r = ms(retention);
            (format!("{engine}_session_store"), quote!(#r,))
        }
    };
    let factory = format_ident!("{}", factory);
    quote!(#p::Stores::#factory::<#k, #v, _, _>(#name, #times #kn, #vn))
}
