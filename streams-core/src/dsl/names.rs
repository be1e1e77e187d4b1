//! The prefixes of Kafka Streams' generated node names.

pub(crate) const SOURCE: &str = "KSTREAM-SOURCE-";
pub(crate) const SINK: &str = "KSTREAM-SINK-";
pub(crate) const FILTER: &str = "KSTREAM-FILTER-";
pub(crate) const MAP: &str = "KSTREAM-MAP-";
pub(crate) const MAP_VALUES: &str = "KSTREAM-MAPVALUES-";
pub(crate) const FLAT_MAP: &str = "KSTREAM-FLATMAP-";
pub(crate) const FLAT_MAP_VALUES: &str = "KSTREAM-FLATMAPVALUES-";
pub(crate) const KEY_SELECT: &str = "KSTREAM-KEY-SELECT-";
pub(crate) const PEEK: &str = "KSTREAM-PEEK-";
pub(crate) const FOREACH: &str = "KSTREAM-FOREACH-";
pub(crate) const MERGE: &str = "KSTREAM-MERGE-";
pub(crate) const BRANCH: &str = "KSTREAM-BRANCH-";
pub(crate) const PROCESSOR: &str = "KSTREAM-PROCESSOR-";
pub(crate) const PROCESS_VALUES: &str = "KSTREAM-PROCESSVALUES-";
pub(crate) const REPARTITION: &str = "KSTREAM-REPARTITION-";
pub(crate) const TO_TABLE: &str = "KSTREAM-TOTABLE-";
pub(crate) const AGGREGATE: &str = "KSTREAM-AGGREGATE-";
pub(crate) const JOIN: &str = "KSTREAM-JOIN-";
pub(crate) const LEFT_JOIN: &str = "KSTREAM-LEFTJOIN-";
pub(crate) const WINDOWED: &str = "KSTREAM-WINDOWED-";
pub(crate) const JOIN_THIS: &str = "KSTREAM-JOINTHIS-";
pub(crate) const JOIN_OTHER: &str = "KSTREAM-JOINOTHER-";
pub(crate) const OUTER_THIS: &str = "KSTREAM-OUTERTHIS-";
pub(crate) const OUTER_OTHER: &str = "KSTREAM-OUTEROTHER-";
pub(crate) const OUTER_SHARED: &str = "KSTREAM-OUTERSHARED-";
pub(crate) const REDUCE: &str = "KSTREAM-REDUCE-";
pub(crate) const COGROUP_AGGREGATE: &str = "COGROUPKSTREAM-AGGREGATE-";
pub(crate) const COGROUP_MERGE: &str = "COGROUPKSTREAM-MERGE-";
pub(crate) const TABLE_SOURCE: &str = "KTABLE-SOURCE-";
pub(crate) const TABLE_FILTER: &str = "KTABLE-FILTER-";
pub(crate) const TABLE_MAP_VALUES: &str = "KTABLE-MAPVALUES-";
pub(crate) const TABLE_TO_STREAM: &str = "KTABLE-TOSTREAM-";
pub(crate) const TABLE_SELECT: &str = "KTABLE-SELECT-";
pub(crate) const TABLE_AGGREGATE: &str = "KTABLE-AGGREGATE-";
pub(crate) const TABLE_REDUCE: &str = "KTABLE-REDUCE-";
pub(crate) const TABLE_SUPPRESS: &str = "KTABLE-SUPPRESS-";
pub(crate) const TABLE_MERGE: &str = "KTABLE-MERGE-";
pub(crate) const TABLE_JOIN_THIS: &str = "KTABLE-JOINTHIS-";
pub(crate) const TABLE_JOIN_OTHER: &str = "KTABLE-JOINOTHER-";

/// The suffixes of a named cogroup's nodes: `<name>-cogroup-agg-<input>`, `<name>-cogroup-merge`.
pub(crate) const COGROUP_AGGREGATE_SUFFIX: &str = "-cogroup-agg-";
pub(crate) const COGROUP_MERGE_SUFFIX: &str = "-cogroup-merge";

/// The suffix of repartition topics.
pub(crate) const REPARTITION_SUFFIX: &str = "-repartition";

/// The prefixes of the foreign-key join's nodes, topics and stores.
pub(crate) const FK_SUBSCRIPTION_REGISTRATION: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-";
pub(crate) const FK_SUBSCRIPTION_RESPONSE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-";
pub(crate) const FK_SUBSCRIPTION_PROCESSOR: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-";
pub(crate) const FK_SUBSCRIPTION_STORE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-";
pub(crate) const FK_RESPONSE_RESOLVER: &str =
    "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-";
pub(crate) const FK_OUTPUT: &str = "KTABLE-FK-JOIN-OUTPUT-";
pub(crate) const TABLE_SINK: &str = "KTABLE-SINK-";
