//! The `topology!` grammar:
//!
//! ```text
//! [crate = path;]
//! source NAME: <K, V> = "topic" | ["t1", "t2"] as CODEC[, CODEC];
//! sink NAME: <K, V> = "topic" as CODEC[, CODEC];
//! store NAME: key_value<K, V> as CODEC[, CODEC];
//! processor NAME = PATH;                 // another node of a #[processor] stage
//! processor NAME: TYPE [= SUPPLIER];     // a hand-written Processor (Default if no supplier)
//! CHAIN;   where CHAIN = ELEMENT (-> ELEMENT)*,
//!          ELEMENT = NODE[(store, ...)] | [CHAIN, CHAIN, ...]
//! CODEC = utf8 | bytes | json | bincode | default | TYPE (a user codec with Default)
//! ```

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token, Type, bracketed, parenthesized};

mod kw {
    syn::custom_keyword!(source);
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

pub(super) struct TopicDecl {
    pub(super) name: Ident,
    pub(super) types: KeyValueTypes,
    pub(super) topics: Vec<LitStr>,
    pub(super) codecs: Codecs,
}

pub(super) struct StoreDecl {
    pub(super) name: Ident,
    pub(super) types: KeyValueTypes,
    pub(super) codecs: Codecs,
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
}

/// `a -> b -> [c, d -> e]`: elements and the arrows between them.
pub(super) struct Chain {
    pub(super) elements: Vec<Element>,
    pub(super) arrows: Vec<Token![->]>,
}

impl Parse for Element {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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

#[derive(Default)]
pub(super) struct Declaration {
    pub(super) krate: Option<Path>,
    pub(super) sources: Vec<TopicDecl>,
    pub(super) sinks: Vec<TopicDecl>,
    pub(super) stores: Vec<StoreDecl>,
    pub(super) processors: Vec<ProcessorDecl>,
    pub(super) chains: Vec<Chain>,
}

fn parse_topics(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let content;
        bracketed!(content in input);
        let topics = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
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

impl Parse for Declaration {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut d = Declaration::default();
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                d.krate = Some(input.parse()?);
            } else if input.peek(kw::source) && input.peek2(Ident) {
                input.parse::<kw::source>()?;
                d.sources.push(parse_topic_decl(input)?);
            } else if input.peek(kw::sink) && input.peek2(Ident) {
                input.parse::<kw::sink>()?;
                d.sinks.push(parse_topic_decl(input)?);
            } else if input.peek(kw::store) && input.peek2(Ident) {
                input.parse::<kw::store>()?;
                let name = input.parse()?;
                input.parse::<Token![:]>()?;
                let kind: Ident = input.parse()?;
                if kind != "key_value" {
                    return Err(syn::Error::new(
                        kind.span(),
                        format!("unknown store kind `{kind}`; supported: `key_value`"),
                    ));
                }
                let types = input.parse()?;
                let codecs = input.parse()?;
                d.stores.push(StoreDecl {
                    name,
                    types,
                    codecs,
                });
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
