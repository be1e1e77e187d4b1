//! The `topology!` grammar:
//!
//! ```text
//! [VIS struct NAME[(PARAM: TYPE, ...)];]   // item form: a nameable struct with `NAME::build(..)`
//! [crate = path;]
//! source NAME: <K, V> = TOPIC | [TOPIC, TOPIC, ...] as CODEC[, CODEC];
//!        where TOPIC = "literal" | { expression giving a String or &str }
//! table NAME: <K, V> = TOPIC as CODEC[, CODEC] [with MATERIALIZED];   // a DSL `KTable`
//! sink NAME: <K, V> = "topic" as CODEC[, CODEC];
//! store NAME: STORE_KIND as CODEC[, CODEC];
//! processor NAME = PATH;                 // another node of a #[processor] stage
//! processor NAME: TYPE [= SUPPLIER];     // a hand-written Processor (Default if no supplier)
//! CHAIN;   where CHAIN = ELEMENT (-> ELEMENT)*,
//!          ELEMENT = NODE[(store, ...)] | [CHAIN, CHAIN, ...] | .DSL_METHOD(ARGS)
//! CODEC = utf8 | bytes | json | bincode | default | TYPE (a user codec with Default)
//! STORE_KIND = [persistent_]key_value<K, V> | [persistent_]timestamped_key_value<K, V>
//!            | [persistent_]window<K, V>(RETENTION_MS, SIZE_MS)
//!            | [persistent_]session<K, V>(RETENTION_MS)
//! ```

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, Ident, LitStr, Path, Token, Type, Visibility, bracketed, parenthesized};

mod kw {
    syn::custom_keyword!(source);
    syn::custom_keyword!(table);
    syn::custom_keyword!(with);
    syn::custom_keyword!(sink);
    syn::custom_keyword!(store);
    syn::custom_keyword!(processor);
    syn::custom_keyword!(key_value);
}

/// A codec choice.
pub(super) enum Codec {
    /// `utf8`, `bytes`, `json`, `bincode` or `default`.
    Keyword(Ident),
    /// A user codec type, made with `Default`.
    Type(Type),
}

impl Parse for Codec {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && !input.peek2(Token![::]) && !input.peek2(Token![<]) {
            let fork = input.fork();
            let ident: Ident = fork.parse()?;
            if ["utf8", "bytes", "json", "bincode", "default"].contains(&ident.to_string().as_str())
            {
                input.parse::<Ident>()?;
                return Ok(Codec::Keyword(ident));
            }
        }
        Ok(Codec::Type(input.parse()?))
    }
}

/// `as KEY_CODEC[, VALUE_CODEC]`: one codec serves both when the second is left out.
pub(super) struct Codecs {
    pub(super) key: Codec,
    pub(super) value: Option<Codec>,
}

impl Parse for Codecs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse::<Token![as]>()?;
        let key = input.parse()?;
        let value = if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Codecs { key, value })
    }
}

/// `<K, V>`.
pub(super) struct KeyValueTypes {
    pub(super) key: Type,
    pub(super) value: Type,
}

impl Parse for KeyValueTypes {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse::<Token![<]>()?;
        let key = input.parse()?;
        input.parse::<Token![,]>()?;
        let value = input.parse()?;
        input.parse::<Token![>]>()?;
        Ok(KeyValueTypes { key, value })
    }
}

/// A topic name: a literal (checked at compile time) or `{ expression }` (a `String` or `&str`
/// computed at run time, checked when the topology is built).
pub(super) enum Topic {
    Literal(LitStr),
    Expr(Box<Expr>),
}

impl quote::ToTokens for Topic {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        match self {
            Topic::Literal(lit) => lit.to_tokens(tokens),
            Topic::Expr(expr) => {
                tokens.extend(quote::quote!(::std::string::String::from(#expr)));
            }
        }
    }
}

impl Parse for Topic {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            Ok(Topic::Expr(Box::new(content.parse()?)))
        } else {
            Ok(Topic::Literal(input.parse()?))
        }
    }
}

pub(super) struct TopicDecl {
    pub(super) name: Ident,
    pub(super) types: KeyValueTypes,
    pub(super) topics: Vec<Topic>,
    pub(super) codecs: Codecs,
}

/// `table NAME: <K, V> = TOPIC as CODECS [with MATERIALIZED];`: a table read from a topic (the
/// DSL's `StreamsBuilder::table_with`), kept as the optional `Materialized` expression says.
pub(super) struct TableDecl {
    pub(super) topic: TopicDecl,
    pub(super) materialized: Option<Box<Expr>>,
}

/// A source or a table, in declaration order (the order the DSL names them in).
#[derive(Clone, Copy)]
pub(super) enum Input {
    Source(usize),
    Table(usize),
}

pub(super) struct StoreDecl {
    pub(super) name: Ident,
    pub(super) kind: StoreKind,
    /// `persistent_...`: RocksDB rather than in-memory.
    pub(super) persistent: bool,
    pub(super) types: KeyValueTypes,
    pub(super) codecs: Codecs,
}

/// What kind of store, with its time parameters (ms expressions).
pub(super) enum StoreKind {
    KeyValue,
    TimestampedKeyValue,
    Window {
        retention: Box<Expr>,
        size: Box<Expr>,
    },
    Session {
        retention: Box<Expr>,
    },
}

const STORE_KINDS: &str = "`key_value<K, V>`, `timestamped_key_value<K, V>`, `window<K, V>(retention_ms, size_ms)`, `session<K, V>(retention_ms)`, each also with a `persistent_` prefix";

fn parse_store(input: ParseStream<'_>) -> syn::Result<StoreDecl> {
    let name = input.parse()?;
    input.parse::<Token![:]>()?;
    let kind_ident: Ident = input.parse()?;
    let kind_name = kind_ident.to_string();
    let (persistent, base) = match kind_name.strip_prefix("persistent_") {
        Some(base) => (true, base),
        None => (false, kind_name.as_str()),
    };
    let types = input.parse()?;
    let kind = match base {
        "key_value" => StoreKind::KeyValue,
        "timestamped_key_value" => StoreKind::TimestampedKeyValue,
        "window" | "session" => {
            let content;
            parenthesized!(content in input);
            let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            let mut args = args.into_iter().map(Box::new);
            let expected = if base == "window" { 2 } else { 1 };
            match (args.next(), args.next(), args.next()) {
                (Some(retention), Some(size), None) if expected == 2 => {
                    StoreKind::Window { retention, size }
                }
                (Some(retention), None, None) if expected == 1 => StoreKind::Session { retention },
                _ => {
                    return Err(syn::Error::new(
                        kind_ident.span(),
                        if expected == 2 {
                            "a window store takes `(retention_ms, window_size_ms)`"
                        } else {
                            "a session store takes `(retention_ms)`"
                        },
                    ));
                }
            }
        }
        _ => {
            return Err(syn::Error::new(
                kind_ident.span(),
                format!("unknown store kind `{kind_name}`; supported: {STORE_KINDS}"),
            ));
        }
    };
    let codecs = input.parse()?;
    Ok(StoreDecl {
        name,
        kind,
        persistent,
        types,
        codecs,
    })
}

pub(super) enum ProcessorDecl {
    /// `processor NAME = PATH;`
    Alias { name: Ident, stage: Path },
    /// `processor NAME: TYPE [= SUPPLIER];`
    Typed {
        name: Ident,
        ty: Box<Type>,
        supplier: Option<Box<Expr>>,
    },
}

/// A node in a chain, with the stores connected to it there.
pub(super) struct NodeRef {
    pub(super) path: Path,
    pub(super) stores: Vec<Ident>,
}

impl NodeRef {
    /// The name the node is known by in the declaration (the path's last segment).
    pub(super) fn ident(&self) -> &Ident {
        &self
            .path
            .segments
            .last()
            .expect("a parsed path has at least one segment")
            .ident
    }
}

pub(super) enum Element {
    Node(NodeRef),
    Group(Vec<Chain>),
    /// `.method(args)`: a DSL operation on the stream so far.
    Op(OpCall),
}

/// `a -> b -> [c, d -> e]`: elements and the arrows between them.
pub(super) struct Chain {
    pub(super) elements: Vec<Element>,
    pub(super) arrows: Vec<Token![->]>,
}

/// A DSL operation in a chain: `.method(args)`, called on the chain's stream, table or grouped
/// stream so far.
pub(super) struct OpCall {
    pub(super) method: Ident,
    pub(super) args: Punctuated<Expr, Token![,]>,
}

impl Parse for Element {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            let method = input.parse()?;
            let content;
            parenthesized!(content in input);
            let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            return Ok(Element::Op(OpCall { method, args }));
        }
        if input.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            let chains = Punctuated::<Chain, Token![,]>::parse_terminated(&content)?;
            if chains.is_empty() {
                return Err(content.error("an empty group: list the chains, e.g. `[a, b -> c]`"));
            }
            return Ok(Element::Group(chains.into_iter().collect()));
        }
        let path: Path = input.parse()?;
        let mut stores = Vec::new();
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            stores = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect();
        }
        Ok(Element::Node(NodeRef { path, stores }))
    }
}

impl Parse for Chain {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut elements = vec![input.parse()?];
        let mut arrows = Vec::new();
        while input.peek(Token![->]) {
            arrows.push(input.parse()?);
            elements.push(input.parse()?);
        }
        Ok(Chain { elements, arrows })
    }
}

/// `VIS struct NAME(PARAMS);`: the declared topology becomes a named struct with a `build`
/// function taking `PARAMS`, so functions can return it.
pub(super) struct ItemHeader {
    pub(super) vis: Visibility,
    pub(super) name: Ident,
    pub(super) params: Vec<FnArg>,
}

/// Whether a `topology!` input starts with the item form's header.
pub(super) fn is_item_form(input: ParseStream<'_>) -> bool {
    input.peek(Token![struct]) || (input.peek(Token![pub]) && !input.peek2(Token![->]))
}

impl Parse for ItemHeader {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name = input.parse()?;
        let mut params = Vec::new();
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            params = Punctuated::<FnArg, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect();
        }
        Ok(ItemHeader { vis, name, params })
    }
}

#[derive(Default)]
pub(super) struct Declaration {
    pub(super) item: Option<ItemHeader>,
    pub(super) krate: Option<Path>,
    pub(super) sources: Vec<TopicDecl>,
    pub(super) tables: Vec<TableDecl>,
    /// Sources and tables, in declaration order.
    pub(super) inputs: Vec<Input>,
    pub(super) sinks: Vec<TopicDecl>,
    pub(super) stores: Vec<StoreDecl>,
    pub(super) processors: Vec<ProcessorDecl>,
    pub(super) chains: Vec<Chain>,
}

fn parse_topics(input: ParseStream<'_>) -> syn::Result<Vec<Topic>> {
    if input.peek(syn::token::Bracket) {
        let content;
        bracketed!(content in input);
        let topics = Punctuated::<Topic, Token![,]>::parse_terminated(&content)?;
        Ok(topics.into_iter().collect())
    } else {
        Ok(vec![input.parse()?])
    }
}

fn parse_topic_decl(input: ParseStream<'_>) -> syn::Result<TopicDecl> {
    let name = input.parse()?;
    input.parse::<Token![:]>()?;
    let types = input.parse()?;
    input.parse::<Token![=]>()?;
    let topics = parse_topics(input)?;
    let codecs = input.parse()?;
    Ok(TopicDecl {
        name,
        types,
        topics,
        codecs,
    })
}

fn parse_table(input: ParseStream<'_>) -> syn::Result<TableDecl> {
    let name: Ident = input.parse()?;
    input.parse::<Token![:]>()?;
    let types = input.parse()?;
    input.parse::<Token![=]>()?;
    if input.peek(syn::token::Bracket) {
        return Err(input.error(format!(
            "a table reads one topic: declare `table {name}: <K, V> = \"topic\" as ...;` (merge streams of several topics with `.merge(&other)`, then `.to_table()`)"
        )));
    }
    let topics = vec![input.parse()?];
    let codecs = input.parse()?;
    let materialized = if input.peek(kw::with) {
        input.parse::<kw::with>()?;
        Some(Box::new(input.parse()?))
    } else {
        None
    };
    Ok(TableDecl {
        topic: TopicDecl {
            name,
            types,
            topics,
            codecs,
        },
        materialized,
    })
}

impl Parse for Declaration {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut d = Declaration::default();
        if is_item_form(input) {
            d.item = Some(input.parse()?);
            input.parse::<Token![;]>()?;
        }
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                d.krate = Some(input.parse()?);
            } else if input.peek(kw::source) && input.peek2(Ident) {
                input.parse::<kw::source>()?;
                d.inputs.push(Input::Source(d.sources.len()));
                d.sources.push(parse_topic_decl(input)?);
            } else if input.peek(kw::table) && input.peek2(Ident) {
                input.parse::<kw::table>()?;
                d.inputs.push(Input::Table(d.tables.len()));
                d.tables.push(parse_table(input)?);
            } else if input.peek(kw::sink) && input.peek2(Ident) {
                input.parse::<kw::sink>()?;
                d.sinks.push(parse_topic_decl(input)?);
            } else if input.peek(kw::store) && input.peek2(Ident) {
                input.parse::<kw::store>()?;
                d.stores.push(parse_store(input)?);
            } else if input.peek(kw::processor) && input.peek2(Ident) {
                input.parse::<kw::processor>()?;
                let name: Ident = input.parse()?;
                if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    d.processors.push(ProcessorDecl::Alias {
                        name,
                        stage: input.parse()?,
                    });
                } else {
                    input.parse::<Token![:]>()?;
                    let ty = Box::new(input.parse()?);
                    let supplier = if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        Some(Box::new(input.parse()?))
                    } else {
                        None
                    };
                    d.processors
                        .push(ProcessorDecl::Typed { name, ty, supplier });
                }
            } else {
                d.chains.push(input.parse()?);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![;]>()?;
        }
        Ok(d)
    }
}
