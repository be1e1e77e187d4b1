//! The application under test — Kafka's `EosTestClient` written with our DSL — and the child
//! processes that run it: this test binary re-runs itself with the ignored test
//! `eos_oracle::app::instance` selected and the instance's settings in the environment (as the
//! crash tests of `state` do), so that an instance can be killed with SIGKILL (an abort) or
//! stopped with SIGTERM (a clean close).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use streams::config::StreamsConfig;
use streams::dsl::{Materialized, Repartitioned, StreamsBuilder};
use streams::runtime::KafkaStreams;
use streams::topology::Topology;

use super::{CNT, DATA, ECHO, MAX, MIN, SUM};

/// The name given to the repartition step: its topic is `<application.id>-repartition-repartition`.
const REPARTITION: &str = "repartition";

/// The internal topic between the two sub-topologies of the complex variant.
pub(super) fn repartition_topic(app: &str) -> String {
    format!("{app}-{REPARTITION}-repartition")
}

/// Kafka's `EosTestClient`: `data` (String keys, Integer values) copied to `echo`, with the
/// running `min` and `sum` per key; in the complex variant also through a repartition topic to
/// the running `max` and count (`cnt`) per key. Every store has a changelog and no cache, so
/// every input record makes exactly one record in each output.
pub(super) fn topology(complex: bool) -> Topology {
    let builder = StreamsBuilder::new();
    let data = builder.stream::<String, i32>(DATA);
    data.to(ECHO);
    let grouped = data.group_by_key();
    grouped
        .aggregate_with(
            || i32::MAX,
            |_key, value, min: i32| value.min(min),
            Materialized::named("min").with_caching_disabled(),
        )
        .to_stream()
        .to(MIN);
    grouped
        .aggregate_with(
            || 0i64,
            |_key, value, sum: i64| sum + i64::from(value),
            Materialized::named("sum").with_caching_disabled(),
        )
        .to_stream()
        .to(SUM);
    if complex {
        let repartitioned = data
            .repartition_with(Repartitioned::named(REPARTITION))
            .group_by_key();
        repartitioned
            .aggregate_with(
                || i32::MIN,
                |_key, value, max: i32| value.max(max),
                Materialized::named("max").with_caching_disabled(),
            )
            .to_stream()
            .to(MAX);
        repartitioned
            .count_with(Materialized::named("cnt").with_caching_disabled())
            .to_stream()
            .to(CNT);
    }
    builder.build().expect("valid program")
}

/// What an instance is told through its environment.
struct Settings {
    name: String,
    app: String,
    bootstrap: String,
    state_dir: PathBuf,
    guarantee: String,
    complex: bool,
}

impl Settings {
    fn from_env() -> Option<Settings> {
        let var = |name: &str| std::env::var(name).ok();
        Some(Settings {
            name: var("EOS_ORACLE_INSTANCE")?,
            app: var("EOS_ORACLE_APP")?,
            bootstrap: var("KAFKA_BOOTSTRAP")?,
            state_dir: PathBuf::from(var("EOS_ORACLE_STATE_DIR")?),
            guarantee: var("EOS_ORACLE_GUARANTEE")?,
            complex: var("EOS_ORACLE_COMPLEX")? == "true",
        })
    }

    fn config(&self) -> StreamsConfig {
        StreamsConfig::builder()
            .application_id(self.app.as_str())
            .bootstrap_servers(self.bootstrap.as_str())
            .client_id(self.name.as_str())
            .state_dir(&self.state_dir)
            .num_stream_threads(1)
            .set("processing.guarantee", self.guarantee.as_str())
            // Long enough that most kills land inside an open transaction (under
            // at-least-once: inside an interval whose offsets are not committed).
            .commit_interval(Duration::from_millis(5000))
            // No record cache: one output record per input record, as Kafka's test.
            .set("statestore.cache.max.bytes", "0")
            // A killed instance leaves the group after 6 s (the broker's minimum), not 45 s.
            .set("consumer.session.timeout.ms", "6000")
            .set("consumer.heartbeat.interval.ms", "1500")
            // Admin calls at start ride out the broker's restart and a loaded machine.
            .api_timeout(Duration::from_secs(120))
            .build()
            .expect("valid config")
    }
}

fn start(settings: &Settings) -> KafkaStreams {
    let streams =
        KafkaStreams::new(topology(settings.complex), settings.config()).expect("KafkaStreams");
    let name = settings.name.clone();
    streams
        .set_state_listener(move |new, old| {
            let _ = writeln!(std::io::stderr(), "{name}: StateChange: {old:?} -> {new:?}");
        })
        .expect("state listener");
    streams.start().expect("start");
    streams
}

/// Run in a child process by the oracle: one instance of the application, until it is killed
/// (SIGKILL) or stopped (SIGTERM: a clean close, exit code 0 if it was clean). Like Kafka's
/// `EosTestClient`, an instance whose client failed closes it and starts a new one (each one
/// is reported, `EOS-TEST-CLIENT-EXCEPTION`).
#[test]
#[ignore = "the EOS oracle runs it in a child process, and kills it"]
#[expect(
    clippy::print_stderr,
    reason = "the instance reports to its log file, which the oracle reads"
)]
fn instance() {
    let Some(settings) = Settings::from_env() else {
        return;
    };
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst)).expect("SIGTERM handler");

    let name = settings.name.clone();
    let mut streams = start(&settings);
    let mut reported = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if stop.load(Ordering::SeqCst) {
            let clean = streams.close(Duration::from_secs(120));
            eprintln!(
                "{name}: EOS-TEST-CLIENT-CLOSED clean {clean}, state {:?}, processed {}",
                streams.state(),
                streams.metrics().records_processed()
            );
            std::process::exit(if clean { 0 } else { 3 });
        }
        if let Some(error) = streams.error() {
            let closed = streams.close(Duration::from_secs(60));
            eprintln!("{name}: EOS-TEST-CLIENT-EXCEPTION {error} (closed: {closed})");
            // The state directory is unlocked when the old client is dropped.
            drop(streams);
            streams = start(&settings);
        }
        if reported.elapsed() >= Duration::from_secs(5) {
            reported = Instant::now();
            let metrics = streams.metrics();
            eprintln!(
                "{name}: state {:?}, processed {}, tasks {}, uncommitted revocations {}",
                streams.state(),
                metrics.records_processed(),
                metrics.task_ids().len(),
                metrics.uncommitted_revocations()
            );
        }
    }
}

/// What the oracle needs to start an instance.
pub(super) struct Launch<'a> {
    pub(super) app: &'a str,
    pub(super) bootstrap: &'a str,
    pub(super) guarantee: &'a str,
    pub(super) complex: bool,
    /// Where the instances' state directories and logs go.
    pub(super) work_dir: &'a Path,
}

/// One of the application's instances as the oracle sees it: a child process (while it
/// lives), its state directory and its log (every life of the slot appends to it).
pub(super) struct Instance {
    pub(super) name: String,
    child: Option<Child>,
    state_dir: PathBuf,
    log: PathBuf,
    lives: u32,
}

impl Instance {
    pub(super) fn new(slot: usize, work_dir: &Path) -> Instance {
        let name = format!("instance-{slot}");
        Instance {
            state_dir: work_dir.join(format!("{name}-state-0")),
            log: work_dir.join(format!("{name}.log")),
            name,
            child: None,
            lives: 0,
        }
    }

    /// Starts the instance on its current state directory, or on a new, empty one.
    pub(super) fn start(&mut self, launch: &Launch<'_>, empty_state: bool) {
        assert!(self.child.is_none(), "{} is running", self.name);
        if empty_state && self.lives > 0 {
            self.state_dir = launch
                .work_dir
                .join(format!("{}-state-{}", self.name, self.lives));
        }
        self.lives += 1;
        std::fs::create_dir_all(&self.state_dir).expect("state dir");
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("instance log");
        let _ = writeln!(
            log,
            "===== life {} on {} ({}) =====",
            self.lives,
            self.state_dir.display(),
            if empty_state { "empty" } else { "kept" }
        );
        let err: File = log.try_clone().expect("log handle");
        let child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "eos_oracle::app::instance",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env(
                "EOS_ORACLE_INSTANCE",
                format!("{}.{}", self.name, self.lives),
            )
            .env("EOS_ORACLE_APP", launch.app)
            .env("EOS_ORACLE_STATE_DIR", &self.state_dir)
            .env("EOS_ORACLE_GUARANTEE", launch.guarantee)
            .env("EOS_ORACLE_COMPLEX", launch.complex.to_string())
            .env("KAFKA_BOOTSTRAP", launch.bootstrap)
            // The runtime's warnings go to the log (librdkafka's connection errors while the
            // broker restarts would drown them); RUST_LOG asks for more.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG")
                    .unwrap_or_else(|_| "warn,librdkafka=off,rdkafka=off".to_string()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn an instance");
        self.child = Some(child);
    }

    /// Whether the child process is alive (one that exited by itself is reaped and reported).
    pub(super) fn alive(&mut self) -> Result<bool, String> {
        let Some(child) = self.child.as_mut() else {
            return Ok(false);
        };
        match child.try_wait().expect("child status") {
            None => Ok(true),
            Some(status) => {
                self.child = None;
                Err(format!("{} exited by itself: {status}", self.name))
            }
        }
    }

    /// `kill -9`: no close, no commit, no flush.
    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the clean close; SIGKILL after `timeout`.
    pub(super) fn stop(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let Some(mut child) = self.child.take() else {
            return Err(format!("{} was not running", self.name));
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("child status") {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("{} did not close within {timeout:?}", self.name))
    }

    /// How many times the instance's client failed and was replaced, over all its lives.
    pub(super) fn client_failures(&self) -> usize {
        self.log_text().matches("EOS-TEST-CLIENT-EXCEPTION").count()
    }

    /// The last `lines` lines of the instance's log, for failure messages.
    pub(super) fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        format!(
            "--- {} ({}), last {lines} lines ---\n{}",
            self.name,
            self.log.display(),
            all[all.len().saturating_sub(lines)..].join("\n")
        )
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}
