//! The topic checks made before processing starts: missing source topics, internal
//! (repartition and changelog) topics to create with the right partition count,
//! co-partitioned inputs.
//!
//! A store with logging on has a changelog topic `<application.id>-<store>-changelog` with one
//! partition per task of the sub-topology that uses the store (`cleanup.policy=compact`;
//! windowed stores `compact,delete` with `retention.ms` = retention + one day, as Kafka
//! Streams' `windowstore.changelog.additional.retention.ms`; versioned stores `compact` with
//! `min.compaction.lag.ms` = history retention + one day). Configs set for the store
//! ([`StoreBuilder::changelog_configs`](crate::state::StoreBuilder::changelog_configs),
//! `Materialized::with_changelog_config`) override these defaults, as Kafka Streams' per-topic
//! configs do; a `retention.ms` set so is used as is.
//!
//! A topic the topology both writes and reads is internal when its name ends in
//! `-repartition`: it is created with the partition count of the source topics of the
//! sub-topology that writes it (the highest, if several). Any other topic the topology reads
//! must exist. The inputs of one sub-topology are read together, partition by partition, so
//! they must have the same partition count.

use std::collections::{BTreeSet, HashMap};

use crate::kafka::admin::TopicSpec;
use crate::topology::{NodeKind, SinkTarget, Topology};

use super::StartError;

/// The repartition suffix that marks a topic as internal.
pub(crate) const REPARTITION_SUFFIX: &str = "-repartition";

/// What start must do about topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicPlan {
    /// Internal topics to create.
    pub(crate) create: Vec<TopicSpec>,
    /// Every topic the threads subscribe to, sorted.
    pub(crate) subscribe: Vec<String>,
    /// Sink topics (by name) that do not exist: worth a warning.
    pub(crate) missing_sinks: Vec<String>,
}

/// Per sub-topology: (id, topics read, topics written by name).
fn group_topics(topology: &Topology) -> Vec<(u32, Vec<String>, Vec<String>)> {
    let nodes = topology.nodes();
    topology
        .groups()
        .iter()
        .map(|g| {
            let mut reads = Vec::new();
            let mut writes = Vec::new();
            for &i in &g.nodes {
                match &nodes[i].kind {
                    NodeKind::Source { topics } => reads.extend(topics.iter().cloned()),
                    NodeKind::Sink {
                        target: SinkTarget::Topic(t),
                    } => writes.push(t.clone()),
                    _ => {}
                }
            }
            (g.id, reads, writes)
        })
        .collect()
}

/// How much longer a windowed store's changelog keeps records than the store keeps windows
/// (Kafka Streams' `windowstore.changelog.additional.retention.ms` default: one day).
const WINDOW_CHANGELOG_EXTRA_RETENTION_MS: u128 = 24 * 60 * 60 * 1000;

/// How much longer than its history retention a versioned store's changelog keeps old versions
/// uncompacted (Kafka Streams' `VersionedChangelogTopicConfig`: one day).
const VERSIONED_CHANGELOG_EXTRA_COMPACTION_LAG_MS: u128 = 24 * 60 * 60 * 1000;

/// Checks the topology's topics against the cluster's (`existing`: name → partitions).
pub(crate) fn plan(
    topology: &Topology,
    application_id: &str,
    existing: &HashMap<String, i32>,
) -> Result<TopicPlan, StartError> {
    let groups = group_topics(topology);
    let read: BTreeSet<&str> = groups
        .iter()
        .flat_map(|(_, r, _)| r.iter().map(String::as_str))
        .collect();
    let written: BTreeSet<&str> = groups
        .iter()
        .flat_map(|(_, _, w)| w.iter().map(String::as_str))
        .collect();
    let declared: BTreeSet<&str> = topology
        .internal_topics()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let internal: BTreeSet<&str> = read
        .intersection(&written)
        .copied()
        .filter(|t| t.ends_with(REPARTITION_SUFFIX) || declared.contains(t))
        .collect();
    let copartitioned = topology.copartition_groups();
    let subtopology_of = |topic: &str| {
        groups
            .iter()
            .find(|(_, reads, _)| reads.iter().any(|t| t == topic))
            .map_or(0, |(id, _, _)| *id)
    };

    // Global stores' topics must exist too; they are read by the global thread alone, so they
    // are neither subscribed to nor co-partitioned with anything.
    let mut missing: Vec<String> = read
        .iter()
        .copied()
        .chain(topology.global_topics())
        .filter(|t| !internal.contains(*t) && !existing.contains_key(*t))
        .map(str::to_string)
        .collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        return Err(StartError::MissingSourceTopics { topics: missing });
    }

    // Partition counts: user topics as they are; internal topics from their writers' inputs,
    // resolved until nothing changes (a chain of repartitions needs several rounds).
    let mut counts: HashMap<&str, i32> = read
        .iter()
        .filter(|t| !internal.contains(*t))
        .filter_map(|t| existing.get(*t).map(|&n| (*t, n)))
        .collect();
    for fixed in topology.internal_topics() {
        if let (Some(n), Some(&topic)) = (fixed.partitions, internal.get(fixed.name.as_str())) {
            counts.insert(topic, i32::try_from(n).unwrap_or(i32::MAX));
        }
    }
    // An internal topic co-partitioned with user topics gets their partition count (Kafka
    // Streams' `CopartitionedTopicsEnforcer`); those must agree.
    for group in &copartitioned {
        let external: Vec<(String, i32)> = group
            .iter()
            .filter(|t| !internal.contains(t.as_str()))
            .map(|t| (t.clone(), counts.get(t.as_str()).copied().unwrap_or(0)))
            .collect();
        if external.windows(2).any(|w| w[0].1 != w[1].1) {
            return Err(StartError::CoPartitioning {
                subtopology: subtopology_of(&external[0].0),
                topics: external,
            });
        }
        if let Some(&(_, n)) = external.first() {
            for topic in group.iter().filter_map(|t| internal.get(t.as_str())) {
                let fixed = topology
                    .internal_topics()
                    .iter()
                    .any(|f| f.name == *topic && f.partitions.is_some());
                if !fixed {
                    counts.insert(topic, n);
                }
            }
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for &topic in &internal {
            if counts.contains_key(topic) {
                continue;
            }
            let upstream: Option<Vec<i32>> = groups
                .iter()
                .filter(|(_, _, w)| w.iter().any(|t| t == topic))
                .flat_map(|(_, r, _)| r.iter())
                .map(|t| counts.get(t.as_str()).copied())
                .collect();
            if let Some(n) = upstream.and_then(|u| u.into_iter().max()) {
                counts.insert(topic, n);
                changed = true;
            }
        }
    }
    // A group of internal topics only: all get the highest of their counts.
    for group in &copartitioned {
        if group.iter().any(|t| !internal.contains(t.as_str())) {
            continue;
        }
        let Some(n) = group
            .iter()
            .filter_map(|t| counts.get(t.as_str()).copied())
            .max()
        else {
            continue;
        };
        for topic in group.iter().filter_map(|t| internal.get(t.as_str())) {
            let fixed = topology
                .internal_topics()
                .iter()
                .any(|f| f.name == *topic && f.partitions.is_some());
            if !fixed {
                counts.insert(topic, n);
            }
        }
    }
    let mut create = Vec::new();
    let mut check = |spec: TopicSpec| match existing.get(&spec.name) {
        None => {
            create.push(spec);
            Ok(())
        }
        Some(&actual) if actual != spec.partitions => Err(StartError::InternalTopicPartitions {
            topic: spec.name,
            expected: spec.partitions,
            actual,
        }),
        Some(_) => Ok(()),
    };
    for &topic in &internal {
        let Some(&expected) = counts.get(topic) else {
            return Err(StartError::InternalTopicCycle {
                topic: topic.to_string(),
            });
        };
        check(TopicSpec::new(topic, expected))?;
    }
    for (group, (_, reads, _)) in topology.groups().iter().zip(&groups) {
        let tasks = reads
            .iter()
            .filter_map(|t| counts.get(t.as_str()).copied())
            .max()
            .unwrap_or(0);
        for store in changelogged_stores(topology, &group.nodes) {
            let spec = changelog_configs(store).iter().fold(
                TopicSpec::new(&store.changelog_topic(application_id), tasks),
                |spec, (key, value)| spec.with_config(key, value),
            );
            check(spec)?;
        }
    }

    // The inputs of each join must have the same partition count; other inputs of one
    // sub-topology may differ (it has as many tasks as its largest input has partitions).
    for group in &copartitioned {
        let with_counts: Vec<(String, i32)> = group
            .iter()
            .map(|t| (t.clone(), counts.get(t.as_str()).copied().unwrap_or(0)))
            .collect();
        if with_counts.windows(2).any(|w| w[0].1 != w[1].1) {
            return Err(StartError::CoPartitioning {
                subtopology: subtopology_of(&with_counts[0].0),
                topics: with_counts,
            });
        }
    }

    let missing_sinks = written
        .iter()
        .filter(|t| !internal.contains(*t) && !existing.contains_key(**t))
        .map(|t| t.to_string())
        .collect();
    Ok(TopicPlan {
        create,
        subscribe: read.iter().map(|t| t.to_string()).collect(),
        missing_sinks,
    })
}

/// A changelog topic's configs: the defaults (`cleanup.policy`; `retention.ms` for windowed
/// stores), then the store's own, which replace a default of the same key (Kafka Streams:
/// "library overrides < per-topic config overrides").
fn changelog_configs(store: &dyn crate::state::StoreBuilder) -> Vec<(String, String)> {
    let mut configs = vec![(
        "cleanup.policy".to_string(),
        store.changelog_cleanup_policy().to_string(),
    )];
    if store.kind().is_windowed() {
        let retention =
            store.retention().unwrap_or_default().as_millis() + WINDOW_CHANGELOG_EXTRA_RETENTION_MS;
        configs.push(("retention.ms".to_string(), retention.to_string()));
    }
    if store.kind() == crate::state::StoreKind::VersionedKeyValue {
        // Kafka Streams' `VersionedChangelogTopicConfig`: old versions stay uncompacted for the
        // history retention plus a day.
        let lag = store.retention().unwrap_or_default().as_millis()
            + VERSIONED_CHANGELOG_EXTRA_COMPACTION_LAG_MS;
        configs.push(("min.compaction.lag.ms".to_string(), lag.to_string()));
    }
    for (key, value) in store.changelog_configs() {
        crate::state::set_config(&mut configs, key.clone(), value.clone());
    }
    configs
}

/// The stores the nodes `members` use, in the topology's store order.
pub(crate) fn stores_of<'t>(
    topology: &'t Topology,
    members: &[usize],
) -> impl Iterator<Item = &'t dyn crate::state::StoreBuilder> + 't {
    let nodes = topology.nodes();
    let used: BTreeSet<&str> = members
        .iter()
        .flat_map(|&i| nodes[i].stores.iter().map(String::as_str))
        .collect();
    topology
        .stores()
        .iter()
        .map(|s| &*s.builder)
        .filter(move |b| used.contains(b.name()))
}

/// The stores with logging on that the nodes `members` use.
pub(crate) fn changelogged_stores<'t>(
    topology: &'t Topology,
    members: &[usize],
) -> impl Iterator<Item = &'t dyn crate::state::StoreBuilder> + 't {
    stores_of(topology, members).filter(|b| b.logging())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{I64, Utf8};
    use crate::error::ProcessorError;
    use crate::processor::{Processor, ProcessorContext};
    use crate::record::Record;
    use crate::topology::TopologyBuilder;

    struct Pass;
    impl Processor for Pass {
        type KIn = String;
        type VIn = String;
        type KOut = String;
        type VOut = String;
        fn process(
            &mut self,
            r: Record<String, String>,
            ctx: &mut ProcessorContext<'_, String, String>,
        ) -> Result<(), ProcessorError> {
            ctx.forward(r)
        }
    }

    fn two_stage(repartition: &str) -> Topology {
        let mut b = TopologyBuilder::new();
        b.add_source("in", ["input"], Utf8, Utf8)
            .add_processor("p", || Pass, ["in"])
            .add_sink("to-rep", repartition, Utf8, Utf8, ["p"])
            .add_source("rep", [repartition], Utf8, Utf8)
            .add_sink("out", "output", Utf8, Utf8, ["rep"]);
        b.build().expect("valid")
    }

    fn existing(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    #[test]
    fn global_topics_must_exist_but_are_neither_subscribed_nor_co_partitioned() {
        let mut b = TopologyBuilder::new();
        b.add_global_store(
            crate::state::Stores::in_memory_key_value("dims", Utf8, Utf8).with_logging_disabled(),
            crate::topology::SourceSpec::new("dims-source", ["dims"], Utf8, Utf8),
            "dims-loader",
            || Pass,
        )
        .add_source("in", ["input"], Utf8, Utf8)
        .add_sink("out", "output", Utf8, Utf8, ["in"]);
        let topology = b.build().expect("valid");
        let plan = plan(
            &topology,
            "app",
            &existing(&[("input", 4), ("dims", 3), ("output", 4)]),
        )
        .expect("a global topic of another partition count is fine");
        assert_eq!(plan.subscribe, vec!["input"]);
        assert!(plan.create.is_empty(), "no changelog: {:?}", plan.create);
        let err = plan_missing(&topology);
        assert!(
            matches!(&err, StartError::MissingSourceTopics { topics } if topics == &["dims"]),
            "{err}"
        );
    }

    fn plan_missing(topology: &Topology) -> StartError {
        plan(topology, "app", &existing(&[("input", 4)])).unwrap_err()
    }

    #[test]
    fn creates_repartition_topics_with_upstream_count() {
        let plan = plan(
            &two_stage("app-x-repartition"),
            "app",
            &existing(&[("input", 4), ("output", 1)]),
        )
        .expect("plan");
        assert_eq!(plan.create, vec![TopicSpec::new("app-x-repartition", 4)]);
        assert_eq!(plan.subscribe, vec!["app-x-repartition", "input"]);
        assert!(plan.missing_sinks.is_empty());
    }

    #[test]
    fn existing_internal_topic_with_wrong_count_is_refused() {
        let err = plan(
            &two_stage("app-x-repartition"),
            "app",
            &existing(&[("input", 4), ("app-x-repartition", 2)]),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            StartError::InternalTopicPartitions {
                expected: 4,
                actual: 2,
                ..
            }
        ));
    }

    #[test]
    fn a_through_topic_not_named_repartition_must_exist() {
        let err = plan(&two_stage("through"), "app", &existing(&[("input", 4)])).unwrap_err();
        assert_eq!(
            err.to_string().split(';').next(),
            Some("source topic(s) missing on the cluster: `through`")
        );
    }

    #[test]
    fn changelog_topics_have_one_partition_per_task() {
        use crate::state::Stores;
        let mut b = TopologyBuilder::new();
        b.add_source("in", ["input"], Utf8, Utf8)
            .add_processor("p", || Pass, ["in"])
            .add_sink("out", "output", Utf8, Utf8, ["p"])
            .add_state_store(Stores::persistent_key_value("counts", Utf8, I64), ["p"])
            .add_state_store(
                Stores::in_memory_window_store(
                    "windows",
                    std::time::Duration::from_secs(60),
                    std::time::Duration::from_secs(1),
                    Utf8,
                    I64,
                ),
                ["p"],
            )
            .add_state_store(
                Stores::in_memory_key_value("scratch", Utf8, I64).with_logging_disabled(),
                ["p"],
            );
        let topology = b.build().expect("valid");
        let plan = plan(&topology, "app", &existing(&[("input", 3), ("output", 1)])).expect("plan");
        assert_eq!(
            plan.create,
            vec![
                TopicSpec::new("app-counts-changelog", 3).with_config("cleanup.policy", "compact"),
                TopicSpec::new("app-windows-changelog", 3)
                    .with_config("cleanup.policy", "compact,delete")
                    .with_config("retention.ms", "86460000"),
            ]
        );
        let err = plan_err(&topology, &[("input", 3), ("app-counts-changelog", 2)]);
        assert!(
            matches!(err, StartError::InternalTopicPartitions { ref topic, expected: 3, actual: 2 }
                if topic == "app-counts-changelog"),
            "{err}"
        );
    }

    #[test]
    fn changelog_configs_set_for_a_store_override_the_defaults() {
        use crate::state::Stores;
        use std::time::Duration;
        let mut b = TopologyBuilder::new();
        b.add_source("in", ["input"], Utf8, Utf8)
            .add_processor("p", || Pass, ["in"])
            .add_sink("out", "output", Utf8, Utf8, ["p"])
            .add_state_store(
                Stores::in_memory_key_value("counts", Utf8, I64)
                    .with_changelog_config("min.insync.replicas", "2")
                    .with_changelog_config("cleanup.policy", "compact,delete")
                    .with_changelog_config("min.insync.replicas", "3"),
                ["p"],
            )
            .add_state_store(
                Stores::in_memory_window_store(
                    "windows",
                    Duration::from_secs(60),
                    Duration::from_secs(1),
                    Utf8,
                    I64,
                )
                .with_changelog_config("retention.ms", "3600000"),
                ["p"],
            )
            .add_state_store(
                Stores::in_memory_key_value("scratch", Utf8, I64)
                    .with_changelog_config("segment.bytes", "1048576")
                    .with_logging_disabled(),
                ["p"],
            );
        let topology = b.build().expect("valid");
        let plan = plan(&topology, "app", &existing(&[("input", 2)])).expect("plan");
        assert_eq!(
            plan.create,
            vec![
                TopicSpec::new("app-counts-changelog", 2)
                    .with_config("cleanup.policy", "compact,delete")
                    .with_config("min.insync.replicas", "3"),
                // A retention.ms set for the store is used as is (no extra day).
                TopicSpec::new("app-windows-changelog", 2)
                    .with_config("cleanup.policy", "compact,delete")
                    .with_config("retention.ms", "3600000"),
            ]
        );
    }

    #[test]
    fn a_versioned_store_changelog_keeps_old_versions_uncompacted_for_its_history() {
        use crate::dsl::{Consumed, Materialized, StreamsBuilder};
        use std::time::Duration;
        let builder = StreamsBuilder::new();
        let _: crate::dsl::KTable<String, String> = builder.table_with(
            "input",
            Consumed::new(),
            Materialized::named("v").versioned(Duration::from_secs(60)),
        );
        let _: crate::dsl::KTable<String, String> = builder.table_with(
            "other",
            Consumed::new(),
            Materialized::named("w")
                .versioned(Duration::from_secs(1))
                .with_changelog_config("min.compaction.lag.ms", "5"),
        );
        let topology = builder.build().expect("valid");
        let plan = plan(&topology, "app", &existing(&[("input", 2), ("other", 2)])).expect("plan");
        assert_eq!(
            plan.create,
            vec![
                // Kafka Streams' VersionedChangelogTopicConfig: history retention + one day.
                TopicSpec::new("app-v-changelog", 2)
                    .with_config("cleanup.policy", "compact")
                    .with_config("min.compaction.lag.ms", "86460000"),
                TopicSpec::new("app-w-changelog", 2)
                    .with_config("cleanup.policy", "compact")
                    .with_config("min.compaction.lag.ms", "5"),
            ]
        );
    }

    #[test]
    fn materialized_changelog_configs_reach_the_topic_plan() {
        use crate::dsl::{Materialized, StreamsBuilder, TimeWindows};
        use std::time::Duration;
        let builder = StreamsBuilder::new();
        let grouped = builder.stream::<String, String>("input").group_by_key();
        grouped.count_with(
            Materialized::named("counts")
                .in_memory()
                .with_logging_disabled()
                .with_changelog_config("min.insync.replicas", "2"),
        );
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(10)))
            .count_with(
                Materialized::named("per-10s").with_changelog_config("segment.ms", "600000"),
            );
        grouped.reduce_with(
            |a, b| a + &b,
            Materialized::named("unlogged")
                .with_changelog_config("segment.ms", "600000")
                .with_logging_disabled(),
        );
        let topology = builder.build().expect("valid");
        let configs: Vec<(&str, &[(String, String)])> = topology
            .stores()
            .iter()
            .map(|s| (s.builder.name(), s.builder.changelog_configs()))
            .collect();
        assert_eq!(
            configs,
            [
                ("counts", &[("min.insync.replicas".into(), "2".into())][..]),
                ("per-10s", &[("segment.ms".into(), "600000".into())][..]),
                ("unlogged", &[][..]),
            ]
        );
        let plan = plan(&topology, "app", &existing(&[("input", 1)])).expect("plan");
        assert_eq!(
            plan.create,
            vec![
                TopicSpec::new("app-counts-changelog", 1)
                    .with_config("cleanup.policy", "compact")
                    .with_config("min.insync.replicas", "2"),
                TopicSpec::new("app-per-10s-changelog", 1)
                    .with_config("cleanup.policy", "compact,delete")
                    .with_config("retention.ms", "86410000")
                    .with_config("segment.ms", "600000"),
            ]
        );
    }

    fn plan_err(topology: &Topology, topics: &[(&str, i32)]) -> StartError {
        plan(topology, "app", &existing(topics)).unwrap_err()
    }

    #[test]
    fn missing_sources_are_named() {
        let err = plan(&two_stage("a-repartition"), "app", &existing(&[])).unwrap_err();
        assert!(matches!(err, StartError::MissingSourceTopics { topics } if topics == ["input"]));
    }

    #[test]
    fn merged_inputs_need_not_be_co_partitioned() {
        // As in Kafka Streams: only the inputs of a join form a co-partition group; a
        // sub-topology has as many tasks as its largest input has partitions.
        let mut b = TopologyBuilder::new();
        b.add_source("a", ["left"], Utf8, I64)
            .add_source("b", ["right"], Utf8, I64)
            .add_sink("out", "output", Utf8, I64, ["a", "b"]);
        let topology = b.build().expect("valid");
        let ok = plan(&topology, "app", &existing(&[("left", 4), ("right", 2)])).expect("plan");
        assert_eq!(ok.missing_sinks, vec!["output"]);
    }

    /// `input` re-keyed, joined with `table`: the stream's repartition topic is co-partitioned
    /// with the table.
    fn rekeyed_join() -> Topology {
        use crate::dsl::StreamsBuilder;
        let builder = StreamsBuilder::new();
        let table = builder.table::<String, String>("table");
        builder
            .stream::<String, String>("input")
            .select_key(|_k, v| v.clone())
            .join(&table, |v, t| format!("{v}{t}"))
            .to("output");
        builder.build().expect("valid").for_application("app")
    }

    #[test]
    fn a_join_repartition_topic_gets_the_other_sides_partition_count() {
        let plan = plan(
            &rekeyed_join(),
            "app",
            &existing(&[("input", 8), ("table", 3)]),
        )
        .expect("plan");
        assert!(
            plan.create.contains(&TopicSpec::new(
                "app-KSTREAM-KEY-SELECT-0000000004-repartition",
                3
            )),
            "{:?}",
            plan.create
        );
    }

    #[test]
    fn join_inputs_must_be_co_partitioned() {
        use crate::dsl::StreamsBuilder;
        let builder = StreamsBuilder::new();
        let table = builder.table::<String, String>("table");
        builder
            .stream::<String, String>("input")
            .join(&table, |v, t| format!("{v}{t}"))
            .to("output");
        let topology = builder.build().expect("valid");
        let err = plan(&topology, "app", &existing(&[("input", 4), ("table", 2)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the inputs of a join in sub-topology 0 must have the same number of partitions \
             (a task joins partition N of each): `input` has 4, `table` has 2"
        );
    }
}
