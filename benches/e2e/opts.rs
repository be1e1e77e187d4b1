//! Command-line options of the harness and of its child processes.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenario::Scenario;

/// A contender: one implementation of the scenarios, run as its own child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Contender {
    /// This project's runtime (`KafkaStreams` from streams-core).
    Ours,
    /// Kafka Streams 4.x on the JVM (benches/kafka-streams-peer).
    KafkaStreams,
    /// A raw rdkafka consume → produce copy loop: the ceiling.
    Ceiling,
}

impl Contender {
    pub(crate) const ALL: [Contender; 3] =
        [Contender::Ours, Contender::KafkaStreams, Contender::Ceiling];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Contender::Ours => "ours",
            Contender::KafkaStreams => "kafka-streams",
            Contender::Ceiling => "ceiling",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Contender::ALL
            .into_iter()
            .find(|c| c.name() == s || (s == "ks" && *c == Contender::KafkaStreams))
            .ok_or_else(|| format!("unknown contender `{s}` (ours, kafka-streams, ceiling)"))
    }
}

/// The client settings every contender uses (Kafka Streams, ours and the ceiling alike).
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub(crate) acks: String,
    pub(crate) linger_ms: u64,
    pub(crate) batch_size: u64,
    pub(crate) fetch_max_wait_ms: u64,
    pub(crate) max_partition_fetch_bytes: u64,
}

/// The harness's options.
#[derive(Debug, Clone)]
pub(crate) struct Opts {
    pub(crate) quick: bool,
    pub(crate) bootstrap: Option<String>,
    pub(crate) records: u64,
    pub(crate) keys: u64,
    pub(crate) value_size: usize,
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) contenders: Vec<Contender>,
    /// Fixed input rate for the second latency run; default: 50% of the slowest contender's max.
    pub(crate) rate: Option<f64>,
    /// Input rate of the "near max" latency run, as a fraction of the contender's own max.
    pub(crate) near_max_fraction: f64,
    pub(crate) partitions: i32,
    pub(crate) threads: usize,
    pub(crate) commit_interval_ms: u64,
    /// `processing.guarantee` of ours and Kafka Streams (the ceiling stays at-least-once).
    pub(crate) guarantee: String,
    pub(crate) cache_bytes: u64,
    pub(crate) latency_duration: Duration,
    pub(crate) warmup: Duration,
    pub(crate) run_timeout: Duration,
    pub(crate) client: ClientSettings,
    pub(crate) out_dir: PathBuf,
    pub(crate) write_markdown: bool,
    pub(crate) skip_latency: bool,
}

pub(crate) const USAGE: &str = "\
usage: cargo bench --bench e2e -- [OPTIONS]

  --quick                     small N, short latency runs (a few minutes in all)
  --bootstrap-servers H:P     use this broker (default: start one with scripts/kafka-broker.sh)
  --records N                 input records per scenario (default 1000000; quick 100000)
  --keys K                    distinct keys (default 10000)
  --value-size B              value bytes, at least 16 (default 100)
  --scenarios a,b             passthrough,filter_map,count,windowed_count,join,stream_join (default: all)
  --contenders a,b            ours,kafka-streams,ceiling (default: all)
  --rate R                    input records/s of the fixed-rate latency run
                              (default: 50% of the slowest contender's measured max)
  --near-max F                input rate of the near-max latency run, as a fraction of the
                              contender's own measured max (default 0.9)
  --partitions P              partitions of every topic (default 4)
  --threads T                 stream threads (default 1)
  --commit-interval-ms MS     commit interval of every contender (default 100)
  --guarantee G               processing.guarantee of ours and Kafka Streams: at_least_once
                              (default) or exactly_once_v2 (the ceiling stays at-least-once)
  --cache-bytes B             Kafka Streams record cache (statestore.cache.max.bytes, default 10485760)
  --latency-secs S            length of each latency run (default 20; quick 4)
  --warmup-secs S             latencies of records sent in the first S s are dropped (default 2; quick 1)
  --run-timeout-secs S        bound of one contender run (default 900; quick 180)
  --linger-ms MS              producer linger.ms of every contender (default 5)
  --batch-size B              producer batch.size of every contender (default 65536)
  --acks A                    producer acks of every contender (default all)
  --fetch-max-wait-ms MS      consumer fetch wait of every contender (default 100)
  --out-dir DIR               JSON, SVG and logs (default benches/e2e/results)
  --write-markdown            update BENCHMARKS.md (default: on for full runs, off for --quick)
  --no-markdown               never update BENCHMARKS.md
  --skip-latency              throughput runs only
";

fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{flag} needs a value"))
}

fn num<T: std::str::FromStr>(s: &str, flag: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{flag}: `{s}` is not a valid number"))
}

impl Opts {
    pub(crate) fn parse(args: &[String]) -> Result<Opts, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Opts {
            quick,
            bootstrap: None,
            records: if quick { 100_000 } else { 1_000_000 },
            keys: 10_000,
            value_size: 100,
            scenarios: Scenario::ALL.to_vec(),
            contenders: Contender::ALL.to_vec(),
            rate: None,
            near_max_fraction: 0.9,
            partitions: 4,
            threads: 1,
            commit_interval_ms: 100,
            guarantee: "at_least_once".to_string(),
            cache_bytes: 10 * 1024 * 1024,
            latency_duration: Duration::from_secs(if quick { 4 } else { 20 }),
            warmup: Duration::from_secs(if quick { 1 } else { 2 }),
            run_timeout: Duration::from_secs(if quick { 180 } else { 900 }),
            client: ClientSettings {
                acks: "all".to_string(),
                linger_ms: 5,
                batch_size: 65536,
                fetch_max_wait_ms: 100,
                max_partition_fetch_bytes: 1_048_576,
            },
            out_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/e2e/results"),
            write_markdown: !quick,
            skip_latency: false,
        };
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            match flag {
                "--quick" => {}
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--bootstrap-servers" | "--bootstrap" => {
                    o.bootstrap = Some(value(args, &mut i, flag)?.to_string());
                }
                "--records" => o.records = num(value(args, &mut i, flag)?, flag)?,
                "--keys" => o.keys = num(value(args, &mut i, flag)?, flag)?,
                "--value-size" => o.value_size = num(value(args, &mut i, flag)?, flag)?,
                "--scenarios" => {
                    o.scenarios = value(args, &mut i, flag)?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(Scenario::parse)
                        .collect::<Result<_, _>>()?;
                }
                "--contenders" => {
                    o.contenders = value(args, &mut i, flag)?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(Contender::parse)
                        .collect::<Result<_, _>>()?;
                }
                "--rate" => o.rate = Some(num(value(args, &mut i, flag)?, flag)?),
                "--near-max" => o.near_max_fraction = num(value(args, &mut i, flag)?, flag)?,
                "--partitions" => o.partitions = num(value(args, &mut i, flag)?, flag)?,
                "--threads" => o.threads = num(value(args, &mut i, flag)?, flag)?,
                "--guarantee" => {
                    let g = value(args, &mut i, flag)?;
                    if g != "at_least_once" && g != "exactly_once_v2" {
                        return Err(format!("{flag}: at_least_once or exactly_once_v2, not {g}"));
                    }
                    o.guarantee = g.to_string();
                }
                "--commit-interval-ms" => {
                    o.commit_interval_ms = num(value(args, &mut i, flag)?, flag)?;
                }
                "--cache-bytes" => o.cache_bytes = num(value(args, &mut i, flag)?, flag)?,
                "--latency-secs" => {
                    o.latency_duration =
                        Duration::from_secs_f64(num(value(args, &mut i, flag)?, flag)?);
                }
                "--warmup-secs" => {
                    o.warmup = Duration::from_secs_f64(num(value(args, &mut i, flag)?, flag)?);
                }
                "--run-timeout-secs" => {
                    o.run_timeout = Duration::from_secs(num(value(args, &mut i, flag)?, flag)?);
                }
                "--linger-ms" => o.client.linger_ms = num(value(args, &mut i, flag)?, flag)?,
                "--batch-size" => o.client.batch_size = num(value(args, &mut i, flag)?, flag)?,
                "--acks" => o.client.acks = value(args, &mut i, flag)?.to_string(),
                "--fetch-max-wait-ms" => {
                    o.client.fetch_max_wait_ms = num(value(args, &mut i, flag)?, flag)?;
                }
                "--out-dir" => o.out_dir = PathBuf::from(value(args, &mut i, flag)?),
                "--write-markdown" => o.write_markdown = true,
                "--no-markdown" => o.write_markdown = false,
                "--skip-latency" => o.skip_latency = true,
                "-h" | "--help" => return Err(String::new()),
                other if !other.starts_with('-') => {
                    return Err(format!(
                        "unexpected argument `{other}` (this bench takes no name filter)"
                    ));
                }
                other => return Err(format!("unknown option `{other}`")),
            }
            i += 1;
        }
        if o.value_size < 16 {
            return Err("--value-size must be at least 16 (the record index is 16 digits)".into());
        }
        if o.records == 0 || o.keys == 0 || o.partitions < 1 || o.threads < 1 {
            return Err("--records, --keys, --partitions and --threads must be positive".into());
        }
        if o.near_max_fraction.is_nan() || o.near_max_fraction <= 0.0 {
            return Err("--near-max must be positive".into());
        }
        if o.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
            return Err("--rate must be positive".into());
        }
        if o.scenarios.is_empty() || o.contenders.is_empty() {
            return Err("--scenarios and --contenders must name at least one".into());
        }
        Ok(o)
    }
}
