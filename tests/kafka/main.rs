//! Integration tests of the whole library on Kafka, in one test binary: the embedded broker
//! (librdkafka's mock cluster) and a real Apache Kafka broker (`KAFKA_BOOTSTRAP`, set by
//! `scripts/test-all.sh`, or started with `scripts/kafka-broker.sh start`).
//!
//! | module | what |
//! |---|---|
//! | `config` | `StreamsConfig`: names, checks, passthrough, secrets (no broker) |
//! | `embedded` | the runtime on the embedded broker: lifecycle, word count, handlers, queries |
//! | `readme_tour` | the README's tour on several partitions |
//! | `dsl` | the DSL: word count and a windowed count with suppress on the real broker, null keys on the embedded one |
//! | `migration` | a Java Kafka Streams word count continued by ours (same application id) |
//! | `broker` | the real broker: end to end, several threads and instances, rebalances |
//! | `state` | changelogs and restoration: killed instances restarted, window retention |
//! | `faults` | broker faults: killed and restarted, down for 30 s |
//! | `eos_oracle` | Kafka's `streams_eos_test`: 3 instances killed with SIGKILL and restarted 12 times and a broker restart, the outputs checked record for record (at-least-once; exactly-once once enabled) |
//! | `eos` | exactly-once: transactions, read_committed outputs, restart |
//! | `poison` | poison pills: the dead-letter queue, log-and-fail then skipped by config |
//! | `joins` | joins on the real broker: a re-keyed stream-table join, a foreign-key join, a stream-stream join |
//! | `global` | global tables: restored before the first join, updated, queried, restored from the checkpoint; an unreadable global record fails the instance |

mod broker;
mod config;
mod dsl;
mod embedded;
mod eos;
mod eos_oracle;
mod faults;
mod global;
mod joins;
mod migration;
mod poison;
mod readme_tour;
mod state;
mod support;
