//! Checking a `topology!` declaration as a whole. Every problem becomes an error spanned at the
//! user's token; all are reported together.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{Error, Expr, Ident, Path, Type};

use super::parse::{Chain, Declaration, Element, NodeRef, ProcessorDecl, Topic, TopicDecl};

pub(super) enum NodeKind<'a> {
    Source(&'a TopicDecl),
    Sink(&'a TopicDecl),
    /// A `#[processor]` stage, by path.
    Stage(&'a Path),
    /// A hand-written processor type, with an optional supplier.
    Typed(&'a Type, Option<&'a Expr>),
}

pub(super) struct Node<'a> {
    pub(super) ident: Ident,
    pub(super) kind: NodeKind<'a>,
    /// Stores connected in the chains.
    pub(super) stores: Option<Vec<Ident>>,
    /// Parent node indices, in the order their edges appear.
    pub(super) parents: Vec<usize>,
    /// Whether the node name comes from the stage (`Named::NAME`) rather than the ident.
    pub(super) named_by_stage: bool,
}

pub(super) struct Edge {
    pub(super) parent: usize,
    pub(super) child: usize,
    pub(super) arrow: Span,
}

pub(super) struct Graph<'a> {
    pub(super) nodes: Vec<Node<'a>>,
    pub(super) edges: Vec<Edge>,
    /// Node indices, parents before children.
    pub(super) order: Vec<usize>,
}

pub(super) struct Errors(pub(super) Option<Error>);

impl Errors {
    pub(super) fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        let e = Error::new(span, message);
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

/// Kafka's rule for topic names.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

struct Builder<'a> {
    nodes: Vec<Node<'a>>,
    index: HashMap<String, usize>,
    edges: Vec<Edge>,
    errors: Errors,
    store_names: Vec<String>,
}

impl<'a> Builder<'a> {
    /// Adds a declared node (a name declared twice is reported by [`declarations`] and added
    /// once).
    fn declare(&mut self, ident: &Ident, kind: NodeKind<'a>) {
        let name = ident.to_string();
        if self.index.contains_key(&name) {
            return;
        }
        self.index.insert(name, self.nodes.len());
        self.nodes.push(Node {
            ident: ident.clone(),
            kind,
            stores: None,
            parents: Vec::new(),
            named_by_stage: false,
        });
    }

    /// The node a chain element names; an undeclared path is a `#[processor]` stage.
    fn resolve(&mut self, node: &'a NodeRef) -> usize {
        let key = path_key(&node.path);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.index.insert(key, self.nodes.len());
                self.nodes.push(Node {
                    ident: node.ident().clone(),
                    kind: NodeKind::Stage(&node.path),
                    stores: None,
                    parents: Vec::new(),
                    named_by_stage: true,
                });
                self.nodes.len() - 1
            }
        };
        if !node.stores.is_empty() {
            self.connect_stores(i, node);
        }
        i
    }

    fn connect_stores(&mut self, i: usize, node: &NodeRef) {
        let name = node.ident();
        if matches!(self.nodes[i].kind, NodeKind::Source(_) | NodeKind::Sink(_)) {
            self.errors.push(
                name.span(),
                format!("`{name}` is a source or sink; only processors can be connected to stores"),
            );
            return;
        }
        for store in &node.stores {
            if !self.store_names.contains(&store.to_string()) {
                self.errors.push(
                    store.span(),
                    format!("unknown store `{store}`; declare it with `store {store}: key_value<K, V> as ...;`"),
                );
            }
        }
        match &self.nodes[i].stores {
            Some(existing) if existing != &node.stores => self.errors.push(
                name.span(),
                format!(
                    "`{name}` is connected to different stores in two places; list its stores once"
                ),
            ),
            _ => self.nodes[i].stores = Some(node.stores.clone()),
        }
    }

    /// Adds a chain's edges; returns its first and last elements' nodes.
    fn chain(&mut self, chain: &'a Chain) -> (Vec<usize>, Vec<usize>) {
        let mut heads = Vec::new();
        let mut tails: Vec<usize> = Vec::new();
        for (k, element) in chain.elements.iter().enumerate() {
            let (h, t) = match element {
                Element::Node(node) => {
                    let i = self.resolve(node);
                    (vec![i], vec![i])
                }
                Element::Op(op) => {
                    self.errors
                        .push(op.method.span(), "a DSL operation outside a DSL chain");
                    (Vec::new(), Vec::new())
                }
                Element::Group(chains) => {
                    let mut h = Vec::new();
                    let mut t = Vec::new();
                    for c in chains {
                        let (ch, ct) = self.chain(c);
                        h.extend(ch);
                        t.extend(ct);
                    }
                    (h, t)
                }
            };
            if k == 0 {
                heads.clone_from(&h);
            } else {
                let arrow = chain.arrows[k - 1].spans[0];
                for &parent in &tails {
                    for &child in &h {
                        self.edge(parent, child, arrow);
                    }
                }
            }
            tails = t;
        }
        (heads, tails)
    }

    fn edge(&mut self, parent: usize, child: usize, arrow: Span) {
        let (p, c) = (&self.nodes[parent], &self.nodes[child]);
        if let NodeKind::Sink(_) = p.kind {
            self.errors.push(
                arrow,
                format!("sink `{}` cannot have children: a sink writes its records to a topic; end the chain at it", p.ident),
            );
            return;
        }
        if let NodeKind::Source(_) = c.kind {
            self.errors.push(
                arrow,
                format!("source `{}` cannot have a parent: a source reads its records from topics; start a chain at it", c.ident),
            );
            return;
        }
        if c.parents.contains(&parent) {
            self.errors.push(
                arrow,
                format!("`{}` -> `{}` is declared twice", p.ident, c.ident),
            );
            return;
        }
        self.nodes[child].parents.push(parent);
        self.edges.push(Edge {
            parent,
            child,
            arrow,
        });
    }
}

fn literal(topic: &Topic) -> Option<&syn::LitStr> {
    match topic {
        Topic::Literal(lit) => Some(lit),
        Topic::Expr(_) => None,
    }
}

pub(super) fn path_key(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The checks of the declarations alone (names and topics), for every declaration: duplicate
/// store and node names, reserved names, topics read twice, a sink's one topic, topic names.
pub(super) fn declarations(d: &Declaration) -> Errors {
    let mut errors = Errors(None);
    let mut store_names: Vec<String> = Vec::new();
    for store in &d.stores {
        let name = store.name.to_string();
        if store_names.contains(&name) {
            errors.push(store.name.span(), format!("duplicate store name `{name}`"));
        }
        store_names.push(name);
    }
    let mut declared: HashMap<String, &str> = HashMap::new();
    let mut declare = |errors: &mut Errors, ident: &Ident, what: &'static str| {
        let name = ident.to_string();
        if let Some(first) = declared.get(&name) {
            errors.push(
                ident.span(),
                format!("duplicate node name `{name}`: it is already declared as {first}"),
            );
            return;
        }
        if name == "topology" && what != "a processor" {
            errors.push(
                ident.span(),
                "`topology` is reserved: it names the built topology in the value `topology!` returns",
            );
        }
        declared.insert(name, what);
    };
    let mut readers: HashMap<String, (Ident, &str)> = HashMap::new();
    let inputs = d
        .sources
        .iter()
        .map(|s| (s, "source"))
        .chain(d.tables.iter().map(|t| (&t.topic, "table")));
    for (input, what) in inputs {
        let article = if what == "source" {
            "a source"
        } else {
            "a table"
        };
        declare(&mut errors, &input.name, article);
        for topic in input.topics.iter().filter_map(literal) {
            if let Some((first, first_what)) =
                readers.insert(topic.value(), (input.name.clone(), what))
            {
                errors.push(
                    topic.span(),
                    format!("topic \"{}\" is already read by {first_what} `{first}`; a topic can have one source or table", topic.value()),
                );
            }
        }
    }
    for sink in &d.sinks {
        declare(&mut errors, &sink.name, "a sink");
        if sink.topics.len() != 1 {
            errors.push(sink.name.span(), "a sink writes exactly one topic");
        }
    }
    let topic_decls = d
        .sources
        .iter()
        .chain(d.tables.iter().map(|t| &t.topic))
        .chain(&d.sinks);
    for decl in topic_decls {
        for topic in decl.topics.iter().filter_map(literal) {
            if !valid_topic(&topic.value()) {
                errors.push(
                    topic.span(),
                    format!("\"{}\" is not a valid Kafka topic name (1 to 249 characters of a-z, A-Z, 0-9, '.', '_', '-')", topic.value()),
                );
            }
        }
    }
    for p in &d.processors {
        let (ProcessorDecl::Alias { name, .. } | ProcessorDecl::Typed { name, .. }) = p;
        declare(&mut errors, name, "a processor");
    }
    errors
}

pub(super) fn validate(d: &Declaration) -> syn::Result<Graph<'_>> {
    let mut b = Builder {
        nodes: Vec::new(),
        index: HashMap::new(),
        edges: Vec::new(),
        errors: Errors(None),
        store_names: Vec::new(),
    };
    b.errors = declarations(d);
    b.store_names = d.stores.iter().map(|s| s.name.to_string()).collect();
    for source in &d.sources {
        b.declare(&source.name, NodeKind::Source(source));
    }
    for sink in &d.sinks {
        b.declare(&sink.name, NodeKind::Sink(sink));
    }
    for p in &d.processors {
        match p {
            ProcessorDecl::Alias { name, stage } => b.declare(name, NodeKind::Stage(stage)),
            ProcessorDecl::Typed { name, ty, supplier } => {
                b.declare(name, NodeKind::Typed(ty, supplier.as_deref()));
            }
        }
    }
    for chain in &d.chains {
        b.chain(chain);
    }

    // Dangling declarations.
    for node in &b.nodes {
        let has_children = b
            .edges
            .iter()
            .any(|e| std::ptr::eq(&b.nodes[e.parent], node));
        match node.kind {
            NodeKind::Source(_) if !has_children => b.errors.push(
                node.ident.span(),
                format!("source `{}` is not connected to anything; start a chain at it, e.g. `{} -> ...;`", node.ident, node.ident),
            ),
            NodeKind::Sink(_) if node.parents.is_empty() => b.errors.push(
                node.ident.span(),
                format!("sink `{}` is never written to; end a chain at it, e.g. `... -> {};`", node.ident, node.ident),
            ),
            NodeKind::Stage(_) | NodeKind::Typed(..) if node.parents.is_empty() => b.errors.push(
                node.ident.span(),
                format!("processor `{}` has no input; chains start at a source, e.g. `source_name -> {}`", node.ident, node.ident),
            ),
            _ => {}
        }
    }
    for store in &d.stores {
        let used = b
            .nodes
            .iter()
            .any(|n| n.stores.as_ref().is_some_and(|s| s.contains(&store.name)));
        if !used {
            b.errors.push(
                store.name.span(),
                format!("store `{}` is not connected to any processor; connect it in a chain, e.g. `... -> my_processor({})`", store.name, store.name),
            );
        }
    }

    // Cycles, and a parents-first order for the expansion.
    let order = match topological_order(&b.nodes) {
        Ok(order) => order,
        Err(on_cycle) => {
            let edge = b
                .edges
                .iter()
                .find(|e| e.child == on_cycle && on_cycle_path(&b.nodes, e.parent, on_cycle))
                .map_or_else(|| b.nodes[on_cycle].ident.span(), |e| e.arrow);
            b.errors.push(
                edge,
                format!("this connection closes a cycle through `{}`; a topology is acyclic (feed records back through a topic instead)", b.nodes[on_cycle].ident),
            );
            Vec::new()
        }
    };
    match b.errors.0 {
        Some(e) => Err(e),
        None => Ok(Graph {
            nodes: b.nodes,
            edges: b.edges,
            order,
        }),
    }
}

/// Kahn's algorithm; on a cycle, returns a node on it.
fn topological_order(nodes: &[Node<'_>]) -> Result<Vec<usize>, usize> {
    let mut pending: Vec<usize> = nodes.iter().map(|n| n.parents.len()).collect();
    let mut ready: Vec<usize> = (0..nodes.len())
        .filter(|&i| pending[i] == 0)
        .rev()
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for (c, node) in nodes.iter().enumerate() {
            let n = node.parents.iter().filter(|&&p| p == i).count();
            if n > 0 {
                pending[c] -= n;
                if pending[c] == 0 {
                    ready.insert(0, c);
                }
            }
        }
    }
    if order.len() == nodes.len() {
        return Ok(order);
    }
    // A node left with pending parents that can reach itself is on a cycle.
    let left: Vec<usize> = (0..nodes.len()).filter(|i| !order.contains(i)).collect();
    Err(left
        .iter()
        .copied()
        .find(|&i| on_cycle_path(nodes, i, i))
        .unwrap_or(left[0]))
}

/// Whether `target` is reachable from `from` by going up parent links (so `from -> ... -> target`
/// closes a cycle when `target` is a parent... of `from`'s descendants).
fn on_cycle_path(nodes: &[Node<'_>], from: usize, target: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; nodes.len()];
    while let Some(i) = stack.pop() {
        for &p in &nodes[i].parents {
            if p == target {
                return true;
            }
            if !seen[p] {
                seen[p] = true;
                stack.push(p);
            }
        }
    }
    false
}
