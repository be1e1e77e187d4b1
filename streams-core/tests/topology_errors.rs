//! `TopologyBuilder::build` rejects every malformed topology with the right `TopologyError`, and
//! reports all problems at once.
//!
//! A "source with parents" is not tested: `add_source` takes no parents, so the builder API
//! cannot express it.

use std::any::type_name;

use streams_core::codec::{I64, Utf8};
use streams_core::error::ProcessorError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::{StoreKind, Stores};
use streams_core::topology::{SourceSpec, TopologyBuilder, TopologyError, TopologyErrors};

/// Forwards `(String, String)` records unchanged.
struct Pass;

impl Processor for Pass {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = String;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record)
    }
}

/// Takes `(String, String)`, forwards `(String, i64)`: the value's length.
struct Length;

impl Processor for Length {
    type KIn = String;
    type VIn = String;
    type KOut = String;
    type VOut = i64;

    fn process(
        &mut self,
        record: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> Result<(), ProcessorError> {
        ctx.forward(record.map_value(|v| v.len() as i64))
    }
}

const NO_PARENTS: [&str; 0] = [];

fn source(b: &mut TopologyBuilder, name: &str, topic: &str) {
    b.add_source(name, [topic], Utf8, Utf8);
}

fn store(b: &mut TopologyBuilder, name: &str, processors: &[&str]) {
    b.add_state_store(Stores::in_memory_key_value(name, Utf8, I64), processors);
}

/// Builds, expecting failure; returns the errors.
fn errors(b: TopologyBuilder) -> TopologyErrors {
    match b.build() {
        Ok(t) => panic!("expected the build to fail, got:\n{}", t.describe()),
        Err(e) => e,
    }
}

/// Builds, expecting exactly one error.
fn only_error(b: TopologyBuilder) -> TopologyError {
    let errors = errors(b);
    match errors.errors() {
        [one] => one.clone(),
        many => panic!("expected exactly one error, got {many:#?}"),
    }
}

#[test]
fn a_valid_topology_builds() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src"])
        .add_sink("sink", "out", Utf8, Utf8, ["p"]);
    store(&mut b, "st", &["p"]);
    assert!(b.build().is_ok());
}

#[test]
fn duplicate_node_name() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("dup", || Pass, ["src"])
        .add_processor("dup", || Pass, ["src"]);
    match only_error(b) {
        TopologyError::DuplicateName { name } => assert_eq!(name, "dup"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_name_across_node_kinds() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "x", "in");
    b.add_sink("x", "out", Utf8, Utf8, ["x"]);
    let errors = errors(b);
    assert!(
        errors
            .errors()
            .contains(&TopologyError::DuplicateName { name: "x".into() }),
        "{errors:?}"
    );
}

#[test]
fn empty_node_name() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("", || Pass, ["src"]);
    match only_error(b) {
        TopologyError::EmptyName => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_parent() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src", "ghost"]);
    match only_error(b) {
        TopologyError::UnknownParent { node, parent } => {
            assert_eq!(node, "p");
            assert_eq!(parent, "ghost");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn processor_without_parent() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("orphan", || Pass, NO_PARENTS);
    match only_error(b) {
        TopologyError::NoParent { node } => assert_eq!(node, "orphan"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sink_without_parent() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_sink("sink", "out", Utf8, Utf8, NO_PARENTS);
    match only_error(b) {
        TopologyError::NoParent { node } => assert_eq!(node, "sink"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sink_as_parent() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_sink("sink", "out", Utf8, Utf8, ["src"])
        .add_processor("after-sink", || Pass, ["sink"]);
    match only_error(b) {
        TopologyError::SinkAsParent { node, parent } => {
            assert_eq!(node, "after-sink");
            assert_eq!(parent, "sink");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_parent() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src", "src"]);
    match only_error(b) {
        TopologyError::DuplicateParent { node, parent } => {
            assert_eq!(node, "p");
            assert_eq!(parent, "src");
        }
        other => panic!("{other:?}"),
    }
}

/// Whether `cycle` is `expected` read from some starting point.
fn is_rotation(cycle: &[String], expected: &[&str]) -> bool {
    cycle.len() == expected.len()
        && (0..expected.len()).any(|shift| {
            (0..expected.len()).all(|i| cycle[i] == expected[(i + shift) % expected.len()])
        })
}

#[test]
fn cycle_of_processors_fed_by_a_source() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("a", || Pass, ["src", "c"])
        .add_processor("b", || Pass, ["a"])
        .add_processor("c", || Pass, ["b"]);
    let error = only_error(b);
    match &error {
        TopologyError::Cycle { nodes } => {
            assert!(
                is_rotation(nodes, &["a", "b", "c"]),
                "not a -> b -> c -> a in forward order: {nodes:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    for name in ["`a`", "`b`", "`c`"] {
        assert!(message.contains(name), "{message}");
    }
    assert!(message.contains(" -> "), "{message}");
}

#[test]
fn self_loop_is_a_cycle() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("loop", || Pass, ["src", "loop"]);
    match only_error(b) {
        TopologyError::Cycle { nodes } => assert_eq!(nodes, ["loop"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_source() {
    match only_error(TopologyBuilder::new()) {
        TopologyError::NoSource => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn source_with_no_topics() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", std::iter::empty::<&str>(), Utf8, Utf8);
    match only_error(b) {
        TopologyError::NoTopics { source_name } => assert_eq!(source_name, "src"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_topic_name_with_space_and_bang() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "bad topic!");
    match only_error(b) {
        TopologyError::InvalidTopicName { node, topic } => {
            assert_eq!(node, "src");
            assert_eq!(topic, "bad topic!");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_topic_name_too_long_on_a_sink() {
    let long = "t".repeat(250);
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_sink("sink", long.as_str(), Utf8, Utf8, ["src"]);
    match only_error(b) {
        TopologyError::InvalidTopicName { node, topic } => {
            assert_eq!(node, "sink");
            assert_eq!(topic, long);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn topic_name_of_249_characters_and_legal_punctuation_is_valid() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", &"t".repeat(249));
    source(&mut b, "src2", "a.B_c-9");
    b.add_sink("sink", "...", Utf8, Utf8, ["src"]);
    assert!(b.build().is_ok());
}

#[test]
fn dot_and_dot_dot_are_invalid_topic_names() {
    let mut b = TopologyBuilder::new();
    b.add_source("src", [".", ".."], Utf8, Utf8);
    let errors = errors(b);
    let topics: Vec<&str> = errors
        .errors()
        .iter()
        .map(|e| match e {
            TopologyError::InvalidTopicName { topic, .. } => topic.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(topics, [".", ".."]);
}

#[test]
fn topic_read_by_two_sources() {
    let mut b = TopologyBuilder::new();
    b.add_source("first", ["a", "shared"], Utf8, Utf8)
        .add_source("second", ["shared"], Utf8, Utf8);
    match only_error(b) {
        TopologyError::TopicReadTwice {
            topic,
            first,
            second,
        } => {
            assert_eq!(topic, "shared");
            assert_eq!(first, "first");
            assert_eq!(second, "second");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn type_mismatch_between_processors() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("lengths", || Length, ["src"])
        .add_processor("wants-strings", || Pass, ["lengths"]);
    let error = only_error(b);
    match &error {
        TopologyError::TypeMismatch {
            parent,
            child,
            parent_key,
            parent_value,
            child_key,
            child_value,
        } => {
            assert_eq!(parent, "lengths");
            assert_eq!(child, "wants-strings");
            assert_eq!(*parent_key, type_name::<String>());
            assert_eq!(*parent_value, type_name::<i64>());
            assert_eq!(*child_key, type_name::<String>());
            assert_eq!(*child_value, type_name::<String>());
        }
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert_eq!(
        message,
        format!(
            "`lengths` forwards ({s}, i64) but `wants-strings` takes ({s}, {s})",
            s = type_name::<String>()
        )
    );
}

#[test]
fn type_mismatch_between_source_and_sink() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_sink("sink", "out", Utf8, I64, ["src"]);
    match only_error(b) {
        TopologyError::TypeMismatch {
            parent,
            child,
            parent_value,
            child_value,
            ..
        } => {
            assert_eq!(parent, "src");
            assert_eq!(child, "sink");
            assert_eq!(parent_value, type_name::<String>());
            assert_eq!(child_value, "i64");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_store() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src"]);
    store(&mut b, "counts", &["p"]);
    store(&mut b, "counts", &[]);
    match only_error(b) {
        TopologyError::DuplicateStore { store } => assert_eq!(store, "counts"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_store() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src"])
        .connect_processor_and_state_stores("p", ["missing"]);
    match only_error(b) {
        TopologyError::UnknownStore { processor, store } => {
            assert_eq!(processor, "p");
            assert_eq!(store, "missing");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn store_connected_later_to_a_processor_is_fine() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    store(&mut b, "st", &[]);
    b.add_processor("p", || Pass, ["src"])
        .connect_processor_and_state_stores("p", ["st"]);
    let topology = b.build().unwrap();
    assert_eq!(topology.store_names().collect::<Vec<_>>(), ["st"]);
}

#[test]
fn store_on_a_source() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    store(&mut b, "st", &["src"]);
    match only_error(b) {
        TopologyError::StoreOnNonProcessor { store, node } => {
            assert_eq!(store, "st");
            assert_eq!(node, "src");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn store_on_a_sink() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    b.add_sink("sink", "out", Utf8, Utf8, ["src"]);
    store(&mut b, "st", &[]);
    b.connect_processor_and_state_stores("sink", ["st"]);
    match only_error(b) {
        TopologyError::StoreOnNonProcessor { store, node } => {
            assert_eq!(store, "st");
            assert_eq!(node, "sink");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn store_on_a_missing_node() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "in");
    store(&mut b, "st", &["nowhere"]);
    match only_error(b) {
        TopologyError::StoreOnNonProcessor { store, node } => {
            assert_eq!(store, "st");
            assert_eq!(node, "nowhere");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn three_problems_are_reported_together() {
    let mut b = TopologyBuilder::new();
    source(&mut b, "src", "bad topic!");
    b.add_processor("p", || Pass, ["src", "ghost"])
        .connect_processor_and_state_stores("p", ["missing"]);
    let errors = errors(b);
    let expected = [
        TopologyError::InvalidTopicName {
            node: "src".into(),
            topic: "bad topic!".into(),
        },
        TopologyError::UnknownParent {
            node: "p".into(),
            parent: "ghost".into(),
        },
        TopologyError::UnknownStore {
            processor: "p".into(),
            store: "missing".into(),
        },
    ];
    assert_eq!(errors.errors().len(), 3, "{errors:#?}");
    for e in &expected {
        assert!(errors.errors().contains(e), "missing {e:?} in {errors:#?}");
    }

    let display = errors.to_string();
    let mut lines = display.lines();
    assert_eq!(lines.next(), Some("invalid topology (3 problems):"));
    let items: Vec<&str> = lines.collect();
    assert_eq!(items.len(), 3, "{display}");
    for e in &expected {
        let item = format!("  - {e}");
        assert!(
            items.contains(&item.as_str()),
            "`{item}` not in:\n{display}"
        );
    }

    // The errors can be taken out by value too.
    assert_eq!(errors.into_iter().count(), 3);
}

#[test]
fn a_single_problem_displays_on_one_line() {
    let error = errors(TopologyBuilder::new());
    assert_eq!(
        error.to_string(),
        format!("invalid topology: {}", TopologyError::NoSource)
    );
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert!(boxed.to_string().contains("no source"));
}

fn global_store(
    b: &mut TopologyBuilder,
    store: impl streams_core::state::StoreBuilder,
    topics: &[&str],
) {
    b.add_global_store(
        store,
        SourceSpec::new("g-src", topics.iter().copied(), Utf8, Utf8),
        "g-proc",
        || Pass,
    );
}

#[test]
fn global_store_with_logging_or_of_another_kind() {
    let mut b = TopologyBuilder::new();
    global_store(
        &mut b,
        Stores::in_memory_key_value("g", Utf8, Utf8),
        &["g-topic"],
    );
    assert_eq!(
        only_error(b),
        TopologyError::GlobalStoreLogging { store: "g".into() }
    );

    let mut b = TopologyBuilder::new();
    let window = Stores::in_memory_window_store(
        "w",
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(10),
        Utf8,
        Utf8,
    )
    .with_logging_disabled();
    global_store(&mut b, window, &["g-topic"]);
    assert_eq!(
        only_error(b),
        TopologyError::GlobalStoreKind {
            store: "w".into(),
            kind: StoreKind::Window
        }
    );
}

#[test]
fn global_store_source_reads_one_topic() {
    let mut b = TopologyBuilder::new();
    let store = Stores::in_memory_key_value("g", Utf8, Utf8).with_logging_disabled();
    global_store(&mut b, store, &["a", "b"]);
    let error = only_error(b);
    assert_eq!(
        error,
        TopologyError::GlobalSourceTopics {
            source_name: "g-src".into(),
            topics: vec!["a".into(), "b".into()],
        }
    );
    assert!(error.to_string().contains("`a`, `b`"), "{error}");
}

#[test]
fn global_store_is_neither_connected_nor_upstream_of_anything() {
    let mut b = TopologyBuilder::new();
    let store = Stores::in_memory_key_value("g", Utf8, Utf8).with_logging_disabled();
    global_store(&mut b, store, &["g-topic"]);
    source(&mut b, "src", "in");
    b.add_processor("p", || Pass, ["src"])
        .connect_processor_and_state_stores("p", ["g"])
        .add_processor("after-global", || Pass, ["g-proc"]);
    let errors = errors(b);
    assert!(
        errors
            .errors()
            .contains(&TopologyError::GlobalStoreConnected {
                store: "g".into(),
                processor: "p".into(),
            }),
        "{errors:#?}"
    );
    assert!(
        errors
            .errors()
            .contains(&TopologyError::GlobalNodeAsParent {
                node: "after-global".into(),
                parent: "g-proc".into(),
            }),
        "{errors:#?}"
    );
}
