//! `topology!` declarations whose chains hold DSL operations (`-> .group_by_key() ->
//! .count() ->`): expanded onto a `StreamsBuilder`, so the topology is the one the same program
//! written with the DSL builds (names, repartitions, stores). Sources become named DSL sources,
//! `#[processor]` stages and declared processors named `process` nodes, sinks named `to` nodes;
//! each node's stream is bound to its name, so operation arguments can refer to it (e.g.
//! `.merge(&other_source)`). Declared tables become named DSL tables, bound to their names too, so
//! joins take them (`.join(&customers, joiner)`); a key join's other side is checked first (a
//! table or a stream as the method takes, with the same key type), at the user's argument.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Error, Ident};

use super::dsl_joins::join_call;
use super::expand::{
    bind_codec, codec_parts, invalid, key_value_codecs, store_builder, struct_definition,
    struct_name,
};
use super::parse::{
    Chain, Declaration, Element, Input, NodeRef, OpCall, ProcessorDecl, TableDecl, TopicDecl,
};
use super::validate::{declarations, path_key};
use crate::crate_path::{private, respan};

/// Whether the declaration is built on a `StreamsBuilder`: it declares a table, or a chain holds
/// a DSL operation.
pub(super) fn is_dsl(d: &Declaration) -> bool {
    fn chain_has_op(chain: &Chain) -> bool {
        chain.elements.iter().any(|e| match e {
            Element::Op(_) => true,
            Element::Group(chains) => chains.iter().any(chain_has_op),
            Element::Node(_) => false,
        })
    }
    !d.tables.is_empty() || d.chains.iter().any(chain_has_op)
}

struct Cx<'a> {
    p: TokenStream,
    d: &'a Declaration,
    statements: TokenStream,
    errors: Option<Error>,
    /// Nodes whose stream is bound to their name.
    bound: HashSet<String>,
    /// Nodes a chain makes (processors), bound once their chain is expanded.
    made_by_chains: HashSet<String>,
    next_value: usize,
}

impl Cx<'_> {
    fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        let e = Error::new(span, message);
        match &mut self.errors {
            Some(all) => all.combine(e),
            None => self.errors = Some(e),
        }
    }

    fn source(&self, name: &str) -> Option<&TopicDecl> {
        self.d.sources.iter().find(|s| s.name == name)
    }

    fn table(&self, name: &str) -> Option<&TableDecl> {
        self.d.tables.iter().find(|t| t.topic.name == name)
    }

    fn sink_index(&self, name: &str) -> Option<usize> {
        self.d.sinks.iter().position(|s| s.name == name)
    }

    fn processor(&self, name: &str) -> Option<&ProcessorDecl> {
        self.d.processors.iter().find(|p| match p {
            ProcessorDecl::Alias { name: n, .. } | ProcessorDecl::Typed { name: n, .. } => {
                n == name
            }
        })
    }

    /// Expands a chain; `start` is the stream it continues (inside a group).
    fn chain(&mut self, chain: &Chain, start: Option<(TokenStream, Span)>) {
        let mut current: Option<TokenStream> = None;
        let last = chain.elements.len() - 1;
        for (k, element) in chain.elements.iter().enumerate() {
            let arrow = match (k, &start) {
                (0, Some((stream, arrow))) => {
                    current = Some(stream.clone());
                    *arrow
                }
                (0, None) => {
                    current = self.head(element);
                    continue;
                }
                _ => chain.arrows[k - 1].spans[0],
            };
            let Some(stream) = current.take() else {
                return;
            };
            match element {
                Element::Op(op) => {
                    self.check_references(op);
                    let value = format_ident!("__dsl_value{}", self.next_value);
                    self.next_value += 1;
                    let (method, args) = (&op.method, &op.args);
                    let p = &self.p;
                    let call = if method == "windowed_by" {
                        respan(
                            quote!(#p::DslWindowedBy::dsl_windowed_by(&#stream, #args)),
                            method.span(),
                        )
                    } else if let Some(call) = join_call(p, &stream, op) {
                        call
                    } else {
                        method_call(&stream, method, quote!(#args))
                    };
                    self.statements
                        .extend(quote!(let #value = #call; let _ = &#value;));
                    current = Some(quote!(#value));
                }
                Element::Node(node) => {
                    current = self.node(node, &stream, arrow, k == last);
                }
                Element::Group(chains) => {
                    if k != last {
                        self.error(
                            arrow,
                            "in a chain with DSL operations a group must end the chain: a node has one parent (merge streams with `.merge(&other)`)",
                        );
                    }
                    for sub in chains {
                        self.chain(sub, Some((stream.clone(), arrow)));
                    }
                }
            }
        }
    }

    /// Sources, tables and sinks no chain names (as a node, or in an operation's arguments):
    /// mistakes, as in a declaration without DSL operations.
    fn unused(&mut self) {
        let d = self.d;
        let mut used = HashSet::new();
        for chain in &d.chains {
            names_in_chain(chain, &mut used);
        }
        for source in &d.sources {
            let name = &source.name;
            if !used.contains(&name.to_string()) {
                self.error(name.span(), format!("source `{name}` is not connected to anything; start a chain at it, e.g. `{name} -> ...;`, or join it (`.join_stream(&{name}, ..)`)"));
            }
        }
        for table in d.tables.iter().map(|t| &t.topic) {
            let name = &table.name;
            if !used.contains(&name.to_string()) {
                self.error(name.span(), format!("table `{name}` is not used; join it (`.join(&{name}, ..)`) or start a chain at it, e.g. `{name} -> .to_stream() -> ...;`"));
            }
        }
        for sink in &d.sinks {
            let name = &sink.name;
            if !used.contains(&name.to_string()) {
                self.error(
                    name.span(),
                    format!("sink `{name}` is never written to; end a chain at it, e.g. `... -> {name};`"),
                );
            }
        }
    }

    /// An operation's arguments can name the stream of a source, a table or a node an earlier
    /// chain made: not a sink (it has none), nor a node a later chain makes.
    fn check_references(&mut self, op: &OpCall) {
        let mut names = ArgNames(Vec::new());
        for arg in &op.args {
            names.visit_expr(arg);
        }
        for ident in names.0 {
            let name = ident.to_string();
            if self.bound.contains(&name) {
                continue;
            }
            if self.sink_index(&name).is_some() {
                self.error(ident.span(), format!("`{name}` is a sink: it has no stream to pass to an operation (name a source, a table or a processor)"));
            } else if self.made_by_chains.contains(&name) {
                self.error(ident.span(), format!("`{name}` has no stream yet: the chain that makes it comes later; write that chain before this one"));
            }
        }
    }

    /// The stream a chain starts from: a source, or a node an earlier chain made.
    fn head(&mut self, element: &Element) -> Option<TokenStream> {
        match element {
            Element::Node(node) if node.path.get_ident().is_some() => {
                let ident = node.ident();
                let name = ident.to_string();
                if self.bound.contains(&name) {
                    return Some(quote!(#ident));
                }
                self.error(
                    ident.span(),
                    format!("`{name}` has no stream yet: a chain with DSL operations starts at a source, a table or a node an earlier chain made"),
                );
                None
            }
            Element::Node(node) => {
                self.error(node.path.span(), "a chain with DSL operations starts at a source or at a node an earlier chain made");
                None
            }
            Element::Op(op) => {
                self.error(op.method.span(), "a chain cannot start with an operation: start it at a source, e.g. `lines -> .filter(..)`");
                None
            }
            Element::Group(chains) => {
                let span = chains
                    .first()
                    .and_then(|c| c.elements.first())
                    .map_or_else(Span::call_site, element_span);
                self.error(span, "in a chain with DSL operations, merge streams with `.merge(&other)` instead of a group");
                None
            }
        }
    }

    /// A named node after `stream`; returns the node's stream (none after a sink).
    fn node(
        &mut self,
        node: &NodeRef,
        stream: &TokenStream,
        arrow: Span,
        last: bool,
    ) -> Option<TokenStream> {
        let p = self.p.clone();
        let ident = node.ident().clone();
        let name = path_key(&node.path);
        let stores: Vec<String> = node.stores.iter().map(ToString::to_string).collect();
        for store in &node.stores {
            if !self.d.stores.iter().any(|s| s.name == *store) {
                self.error(store.span(), format!("unknown store `{store}`; declare it with `store {store}: key_value<K, V> as ...;`"));
            }
        }
        if let Some(i) = self.sink_index(&name) {
            if !last {
                self.error(
                    arrow,
                    format!("sink `{name}` cannot have children: end the chain at it"),
                );
            }
            let (kn, vn) = (
                format_ident!("__key_codec_sink{i}"),
                format_ident!("__value_codec_sink{i}"),
            );
            let topic = &self.d.sinks[i].topics[0];
            let (k, v) = (&self.d.sinks[i].types.key, &self.d.sinks[i].types.value);
            let call = respan(quote!(#p::dsl_sink::<#k, #v, _, _, _>), arrow);
            self.statements.extend(quote! {
                #call(&#stream, #name, &::std::string::ToString::to_string(&#topic), ::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn));
            });
            return None;
        }
        if self.source(&name).is_some() {
            self.error(
                arrow,
                format!("source `{name}` cannot have a parent: start a chain at it"),
            );
            return None;
        }
        if self.table(&name).is_some() {
            self.error(
                arrow,
                format!("table `{name}` cannot have a parent: it reads its rows from its topic; start a chain at it (a chain makes a table with `.to_table()`)"),
            );
            return None;
        }
        if !self.bound.insert(name.clone()) {
            self.error(ident.span(), format!("`{name}` already has a parent: in a chain with DSL operations a node has one (merge streams with `.merge(&other)`)"));
            return None;
        }
        let call = match self.processor(&name) {
            Some(ProcessorDecl::Typed { ty, supplier, .. }) => {
                let supplier = match supplier {
                    Some(expr) => quote!(#expr),
                    None => quote!(<#ty as ::core::default::Default>::default),
                };
                let process = respan(quote!(process), arrow);
                quote!(#stream.named(#name).#process(#supplier, &[#(#stores),*]))
            }
            Some(ProcessorDecl::Alias { stage, .. }) => {
                let call = respan(quote!(#p::dsl_stage::<#stage, _>), arrow);
                quote!(#call(&#stream, ::core::option::Option::Some(#name), &[#(#stores),*]))
            }
            None => {
                let path = &node.path;
                let call = respan(quote!(#p::dsl_stage::<#path, _>), arrow);
                quote!(#call(&#stream, ::core::option::Option::None, &[#(#stores),*]))
            }
        };
        // Spanned at the arrow whole, so a type error is reported there once.
        self.statements
            .extend(respan(quote!(let #ident = #call; let _ = &#ident;), arrow));
        Some(quote!(#ident))
    }
}

/// The plain names (`customers`, not `a::b` nor `f::<T>`) an operation's arguments use as
/// values: the streams and tables they may refer to.
struct ArgNames<'ast>(Vec<&'ast Ident>);

impl<'ast> Visit<'ast> for ArgNames<'ast> {
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if let (None, Some(ident)) = (&e.qself, e.path.get_ident()) {
            self.0.push(ident);
        }
        visit::visit_expr_path(self, e);
    }
}

/// Every name a chain uses: its nodes, and the plain names in its operations' arguments.
fn names_in_chain(chain: &Chain, out: &mut HashSet<String>) {
    for element in &chain.elements {
        match element {
            Element::Node(node) => {
                out.insert(node.ident().to_string());
            }
            Element::Group(chains) => {
                for c in chains {
                    names_in_chain(c, out);
                }
            }
            Element::Op(op) => {
                let mut names = ArgNames(Vec::new());
                for arg in &op.args {
                    names.visit_expr(arg);
                }
                out.extend(names.0.iter().map(ToString::to_string));
            }
        }
    }
}

/// The nodes the chains make: declared processors and `#[processor]` stages (by their last path
/// segment, the name their stream is bound to).
fn made_by_chains(d: &Declaration) -> HashSet<String> {
    fn walk(chain: &Chain, d: &Declaration, out: &mut HashSet<String>) {
        for element in &chain.elements {
            match element {
                Element::Node(node) => {
                    let name = node.ident().to_string();
                    let declared_io = d
                        .sources
                        .iter()
                        .chain(&d.sinks)
                        .chain(d.tables.iter().map(|t| &t.topic))
                        .any(|s| s.name == name);
                    if !declared_io {
                        out.insert(name);
                    }
                }
                Element::Group(chains) => {
                    for c in chains {
                        walk(c, d, out);
                    }
                }
                Element::Op(_) => {}
            }
        }
    }
    let mut out = HashSet::new();
    for p in &d.processors {
        let (ProcessorDecl::Alias { name, .. } | ProcessorDecl::Typed { name, .. }) = p;
        out.insert(name.to_string());
    }
    for chain in &d.chains {
        walk(chain, d, &mut out);
    }
    out
}

/// `stream.method(args)`, all but the arguments spanned at the method: an error about the call
/// (an unknown method, a wrong number of arguments) is reported there alone.
pub(super) fn method_call(stream: &TokenStream, method: &Ident, args: TokenStream) -> TokenStream {
    let call = respan(quote!(#stream.#method), method.span());
    let mut args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, args);
    args.set_span(method.span());
    quote!(#call #args)
}

/// Where an element is, for errors.
fn element_span(element: &Element) -> Span {
    match element {
        Element::Node(node) => node.path.span(),
        Element::Op(op) => op.method.span(),
        Element::Group(chains) => chains
            .first()
            .and_then(|c| c.elements.first())
            .map_or_else(Span::call_site, element_span),
    }
}

pub(super) fn expand(d: &Declaration) -> TokenStream {
    let p = private(d.krate.as_ref());
    let mut codecs = TokenStream::new();
    let mut statements = TokenStream::new();
    let mut handles = TokenStream::new();

    for (s, store) in d.stores.iter().enumerate() {
        let (k, v) = (&store.types.key, &store.types.value);
        let (kc, vc) = key_value_codecs(&store.codecs);
        let (kp, vp) = (codec_parts(&p, kc, k), codec_parts(&p, vc, v));
        let (kn, vn) = (
            format_ident!("__store_key_codec{s}"),
            format_ident!("__store_value_codec{s}"),
        );
        codecs.extend(bind_codec(&p, &kn, &kp, k));
        codecs.extend(bind_codec(&p, &vn, &vp, v));
        let builder = store_builder(&p, store, &store.name.to_string(), &kn, &vn);
        statements.extend(quote!(__builder.add_state_store(#builder);));
    }
    // Binds the codecs of a source, table or sink, and adds its handle: a table's carries
    // `Option<V>`, so a test can pipe deletes (tombstones) too.
    let topic_decl = |decl: &TopicDecl,
                      table: bool,
                      kn: &Ident,
                      vn: &Ident,
                      codecs: &mut TokenStream,
                      handles: &mut TokenStream| {
        let (k, v) = (&decl.types.key, &decl.types.value);
        let (kc, vc) = key_value_codecs(&decl.codecs);
        let (kp, vp) = (codec_parts(&p, kc, k), codec_parts(&p, vc, v));
        codecs.extend(bind_codec(&p, kn, &kp, k));
        codecs.extend(bind_codec(&p, vn, &vp, v));
        let (kct, vct) = (&kp.ty, &vp.ty);
        let (field, topics) = (&decl.name, &decl.topics);
        let (hv, hvc, value_codec) = if table {
            (
                quote!(::core::option::Option<#v>),
                quote!(#p::Nullable<#vct>),
                quote!(#p::Nullable(::core::clone::Clone::clone(&#vn))),
            )
        } else {
            (
                quote!(#v),
                quote!(#vct),
                quote!(::core::clone::Clone::clone(&#vn)),
            )
        };
        handles.extend(quote! {
            #field: #p::TopicHandle::<#k, #hv, #kct, #hvc>::new([#(#topics),*], ::core::clone::Clone::clone(&#kn), #value_codec),
        });
    };
    // Sources and tables in declaration order: the DSL numbers its nodes and stores in the order
    // they are added.
    for input in &d.inputs {
        match *input {
            Input::Source(i) => {
                let source = &d.sources[i];
                let (kn, vn) = (
                    format_ident!("__key_codec_source{i}"),
                    format_ident!("__value_codec_source{i}"),
                );
                topic_decl(source, false, &kn, &vn, &mut codecs, &mut handles);
                let (ident, topics) = (&source.name, &source.topics);
                let (k, v) = (&source.types.key, &source.types.value);
                let name = ident.to_string();
                statements.extend(quote! {
                    let #ident = __builder.stream_from_topics::<#k, #v, _, _, _>(
                        [#(::std::string::ToString::to_string(&#topics)),*],
                        #p::Consumed::with(::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn)).with_name(#name),
                    );
                });
            }
            Input::Table(i) => {
                let table = &d.tables[i];
                let decl = &table.topic;
                let (kn, vn) = (
                    format_ident!("__key_codec_table{i}"),
                    format_ident!("__value_codec_table{i}"),
                );
                topic_decl(decl, true, &kn, &vn, &mut codecs, &mut handles);
                let (ident, topic) = (&decl.name, &decl.topics[0]);
                let (k, v) = (&decl.types.key, &decl.types.value);
                let name = ident.to_string();
                let materialized = match &table.materialized {
                    Some(expr) => quote!(#expr),
                    None => quote!(#p::Materialized::new()),
                };
                statements.extend(quote! {
                    let #ident = __builder.table_with::<#k, #v, _, _, _, _>(
                        &::std::string::ToString::to_string(&#topic),
                        #p::Consumed::with(::core::clone::Clone::clone(&#kn), ::core::clone::Clone::clone(&#vn)).with_name(#name),
                        #materialized,
                    );
                });
            }
        }
    }
    for (i, sink) in d.sinks.iter().enumerate() {
        let (kn, vn) = (
            format_ident!("__key_codec_sink{i}"),
            format_ident!("__value_codec_sink{i}"),
        );
        topic_decl(sink, false, &kn, &vn, &mut codecs, &mut handles);
    }

    let mut cx = Cx {
        p: p.clone(),
        d,
        statements,
        errors: declarations(d).0,
        bound: d
            .sources
            .iter()
            .chain(d.tables.iter().map(|t| &t.topic))
            .map(|s| s.name.to_string())
            .collect(),
        made_by_chains: made_by_chains(d),
        next_value: 0,
    };
    for chain in &d.chains {
        cx.chain(chain, None);
    }
    cx.unused();
    if let Some(e) = cx.errors.take() {
        return invalid(d, &e);
    }
    let statements = cx.statements;
    let name = struct_name(d);
    let body = quote! {
        #codecs
        let __builder = #p::StreamsBuilder::new();
        #statements
        match __builder.build() {
            ::core::result::Result::Ok(topology) => ::core::result::Result::Ok(#name {
                #handles
                topology,
            }),
            ::core::result::Result::Err(errors) => ::core::result::Result::<#name, #p::TopologyErrors>::Err(errors),
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
                impl #name {
                    /// Builds the declared topology; the fields are typed handles of its sources
                    /// and sinks.
                    #vis fn build(#(#params),*) -> ::core::result::Result<Self, #p::TopologyErrors> {
                        #body
                    }
                }
            }
        }
    }
}
