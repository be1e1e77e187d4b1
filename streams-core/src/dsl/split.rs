//! `split`: branches of a stream chosen by predicates.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::kstream::KStream;
use super::names;
use super::processors::stateless::{Branch, DynPredicate, PassThrough};

/// What becomes of a branch — Kafka Streams' `Branched`: a name (the branch's key in the
/// returned map is `<split name><branch name>`), and optionally a function applied to the branch
/// stream (its result is what the map holds) or a consumer that takes the branch (it is then not
/// in the map).
///
/// ```
/// use streams_core::dsl::{Branched, StreamsBuilder};
/// let builder = StreamsBuilder::new();
/// let branches = builder
///     .stream::<String, i64>("amounts")
///     .named("amounts-")
///     .split()
///     .branch_with(|_k, v| *v < 0, Branched::with_consumer(|refunds| refunds.to("refunds")))
///     .branch_with(|_k, v| *v > 1_000, Branched::with_function(|big| big.map_values(|v| v / 100)).with_name("big"))
///     .default_branch();
/// assert_eq!(branches.keys().collect::<Vec<_>>(), ["amounts-0", "amounts-big"]);
/// ```
pub struct Branched<K, V, KC, VC> {
    name: Option<String>,
    chain: Chain<K, V, KC, VC>,
}

type BranchFn<K, V, KC, VC> =
    Box<dyn FnOnce(KStream<K, V, KC, VC>) -> Option<KStream<K, V, KC, VC>>>;

enum Chain<K, V, KC, VC> {
    Keep,
    With(BranchFn<K, V, KC, VC>),
}

impl<K, V, KC, VC> Branched<K, V, KC, VC> {
    /// The branch stream itself, named `name`.
    pub fn named(name: impl Into<String>) -> Self {
        Branched {
            name: Some(name.into()),
            chain: Chain::Keep,
        }
    }

    /// The branch is handed to `consumer` (e.g. to write it somewhere) and not returned.
    pub fn with_consumer(consumer: impl FnOnce(KStream<K, V, KC, VC>) + 'static) -> Self {
        Branched {
            name: None,
            chain: Chain::With(Box::new(move |s| {
                consumer(s);
                None
            })),
        }
    }

    /// The map holds what `function` makes of the branch.
    pub fn with_function(
        function: impl FnOnce(KStream<K, V, KC, VC>) -> KStream<K, V, KC, VC> + 'static,
    ) -> Self {
        Branched {
            name: None,
            chain: Chain::With(Box::new(move |s| Some(function(s)))),
        }
    }

    /// Names the branch.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// A stream being split — Kafka Streams' `BranchedKStream`. Each record goes to the first branch
/// whose predicate accepts it, else to the default branch, if any.
///
/// ```
/// use streams_core::dsl::{Branched, StreamsBuilder};
/// let builder = StreamsBuilder::new();
/// let branches = builder
///     .stream::<String, String>("events")
///     .named("by-kind-")
///     .split()
///     .branch_with(|_k, v| v.starts_with("click"), Branched::named("clicks"))
///     .default_branch_with(Branched::named("other"));
/// branches["by-kind-clicks"].to("clicks");
/// branches["by-kind-other"].to("other-events");
/// ```
pub struct BranchedKStream<K, V, KC, VC> {
    source: KStream<K, V, KC, VC>,
    splitter: String,
    predicates: Rc<RefCell<Vec<DynPredicate<K, V>>>>,
    children: Rc<RefCell<Vec<String>>>,
    branches: BTreeMap<String, KStream<K, V, KC, VC>>,
}

impl<K, V, KC, VC> BranchedKStream<K, V, KC, VC>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KC: Clone + 'static,
    VC: Clone + 'static,
{
    pub(crate) fn new(source: &KStream<K, V, KC, VC>) -> Self {
        let mut graph = source.graph.borrow_mut();
        let splitter = graph.name_or(source.next_name.clone(), names::BRANCH);
        let predicates: Rc<RefCell<Vec<DynPredicate<K, V>>>> = Rc::default();
        let children: Rc<RefCell<Vec<String>>> = Rc::default();
        let (node, parent) = (splitter.clone(), source.node.clone());
        let (p, c) = (Rc::clone(&predicates), Rc::clone(&children));
        graph.step(move |b| {
            let predicates: Arc<[DynPredicate<K, V>]> = p.borrow().clone().into();
            let children: Arc<[String]> = c.borrow().clone().into();
            b.add_processor(
                node,
                move || Branch {
                    predicates: Arc::clone(&predicates),
                    children: Arc::clone(&children),
                },
                [parent],
            );
        });
        drop(graph);
        BranchedKStream {
            source: source.clone(),
            splitter,
            predicates,
            children,
            branches: BTreeMap::new(),
        }
    }

    /// A branch for the records `predicate` accepts (and no earlier branch took), made as
    /// `branched` says.
    pub fn branch_with<F>(mut self, predicate: F, branched: Branched<K, V, KC, VC>) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        self.predicates.borrow_mut().push(Arc::new(predicate));
        let index = self.predicates.borrow().len();
        self.add_branch(branched, index);
        self
    }

    /// A branch for the records `predicate` accepts (and no earlier branch took), named by its
    /// position (1, 2, …).
    pub fn branch<F>(self, predicate: F) -> Self
    where
        F: Fn(&K, &V) -> bool + Send + Sync + 'static,
    {
        self.branch_with(
            predicate,
            Branched {
                name: None,
                chain: Chain::Keep,
            },
        )
    }

    /// Ends the split with a default branch for the records no predicate accepted (named `0`
    /// unless `branched` names it); returns the branches by name.
    pub fn default_branch_with(
        mut self,
        branched: Branched<K, V, KC, VC>,
    ) -> BTreeMap<String, KStream<K, V, KC, VC>> {
        self.add_branch(branched, 0);
        self.branches
    }

    /// Ends the split with a default branch named `0`.
    pub fn default_branch(self) -> BTreeMap<String, KStream<K, V, KC, VC>> {
        self.default_branch_with(Branched {
            name: None,
            chain: Chain::Keep,
        })
    }

    /// Ends the split without a default branch (records no predicate accepts are dropped).
    pub fn no_default_branch(self) -> BTreeMap<String, KStream<K, V, KC, VC>> {
        self.branches
    }

    fn add_branch(&mut self, branched: Branched<K, V, KC, VC>, index: usize) {
        let name = match &branched.name {
            Some(name) => format!("{}{name}", self.splitter),
            None => format!("{}{index}", self.splitter),
        };
        self.children.borrow_mut().push(name.clone());
        let mut graph = self.source.graph.borrow_mut();
        // Kafka Streams burns an index for each branch, for compatibility.
        graph.processor_name(&name);
        let (node, parent) = (name.clone(), self.splitter.clone());
        graph.step(move |b| {
            b.add_processor(node, PassThrough::<K, V>::new, [parent]);
        });
        drop(graph);
        let mut branch = self.source.clone();
        branch.node = name.clone();
        branch.next_name = None;
        match branched.chain {
            Chain::Keep => {
                self.branches.insert(name, branch);
            }
            Chain::With(f) => {
                if let Some(stream) = f(branch) {
                    self.branches.insert(name, stream);
                }
            }
        }
    }
}
