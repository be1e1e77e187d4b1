//! End-to-end benchmark: this project's runtime vs Kafka Streams (JVM) vs a raw rdkafka
//! consume → produce copy loop (the ceiling), on the same real broker, in one run.
//!
//! ```sh
//! cargo bench --bench e2e -- --quick                      # every scenario, small N, a few minutes
//! cargo bench --bench e2e                                 # the full run; updates BENCHMARKS.md
//! cargo bench --bench e2e -- --bootstrap-servers 127.0.0.1:9092 --scenarios passthrough
//! ```
//!
//! Per scenario it creates fresh topics, pre-loads the input, and runs every contender as its
//! own child process (so peak RSS and CPU time are the contender's own): a throughput run over
//! the pre-loaded input, then two latency runs in which a rate-limited producer feeds a fresh
//! input topic while the contender runs — at 90% of the contender's own measured maximum, and at a
//! fixed rate shared by all contenders. A consumer on each output topic records when every
//! output record arrives. See `BENCHMARKS.md` ("End to end") for the method in full.
//!
//! The bench binary is also the Rust contenders' runner: `e2e --child ours|ceiling ARGS`.

#![allow(
    clippy::print_stderr,
    reason = "a command-line benchmark reports progress and errors on stderr"
)]

mod child;
mod kafka;
mod opts;
mod report;
mod runners;
mod scenario;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opts::{Contender, Opts};
use report::{ContenderReport, Report, RunResult, ScenarioReport};
use scenario::Scenario;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        std::process::exit(child_main(&args[1..]));
    }
    let opts = match Opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("e2e: {e}\n");
            }
            eprint!("{}", opts::USAGE);
            std::process::exit(2);
        }
    };
    let command = std::iter::once("cargo bench --bench e2e --".to_string())
        .chain(args.iter().filter(|a| *a != "--bench").cloned())
        .collect::<Vec<_>>()
        .join(" ");
    match run(&opts, &command) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("e2e: error: {e}");
            std::process::exit(1);
        }
    }
}

fn child_main(args: &[String]) -> i32 {
    let Some(kind) = args.first() else {
        eprintln!("e2e --child: which child? (ours, ceiling)");
        return 2;
    };
    let parsed = match runners::ChildArgs::parse(&args[1..]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("e2e --child {kind}: {e}");
            return 2;
        }
    };
    let result = match kind.as_str() {
        "ours" => runners::run_ours(&parsed),
        "ceiling" => runners::run_ceiling(&parsed),
        other => Err(format!("unknown child `{other}`")),
    };
    result.unwrap_or_else(|e| {
        eprintln!("e2e --child {kind}: {e}");
        2
    })
}

/// The broker the run uses; stops it on drop if this run started it.
struct Broker {
    bootstrap: String,
    script: Option<(PathBuf, PathBuf)>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn broker_state_file() -> PathBuf {
    let cache = std::env::var_os("STREAMS_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/streams")))
        .unwrap_or_else(|| PathBuf::from("/tmp/streams-cache"));
    cache.join("e2e-bench-broker.state")
}

fn stop_broker(script: &Path, state: &Path) {
    eprintln!("e2e: stopping the broker");
    let _ = Command::new(script)
        .arg("stop")
        .env("KAFKA_STATE_FILE", state)
        .status();
}

impl Broker {
    fn start(opts: &Opts) -> Result<Broker, String> {
        if let Some(b) = &opts.bootstrap {
            return Ok(Broker {
                bootstrap: b.clone(),
                script: None,
            });
        }
        let script = repo_root().join("scripts/kafka-broker.sh");
        // Its own state file: this broker is the benchmark's alone (tests that share the
        // default broker can neither stop it nor be disturbed by it).
        let state = broker_state_file();
        eprintln!("e2e: starting a broker with {} ...", script.display());
        let out = Command::new(&script)
            .arg("start")
            .env("KAFKA_STATE_FILE", &state)
            .env(
                "KAFKA_HEAP",
                std::env::var("KAFKA_HEAP").unwrap_or_else(|_| "1g".into()),
            )
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let bootstrap = stdout
            .lines()
            .find_map(|l| l.strip_prefix("KAFKA_BOOTSTRAP="))
            .map(str::to_string);
        match (out.status.success(), bootstrap) {
            (true, Some(bootstrap)) => {
                let broker = Broker {
                    bootstrap,
                    script: Some((script, state)),
                };
                if let Some((script, state)) = broker.script.clone() {
                    // Ctrl-C: the children die with us (same process group); stop the broker too.
                    let _ = ctrlc::set_handler(move || {
                        stop_broker(&script, &state);
                        std::process::exit(130);
                    });
                }
                Ok(broker)
            }
            _ => Err(format!(
                "{} start failed (exit {:?}); pass --bootstrap-servers to use a running broker",
                script.display(),
                out.status.code()
            )),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some((script, state)) = &self.script {
            stop_broker(script, state);
        }
    }
}

/// Builds the Kafka Streams peer with Maven if its jar is missing or older than its sources.
fn build_peer() -> Result<String, String> {
    let dir = repo_root().join("benches/kafka-streams-peer");
    let jar = dir.join("target/kafka-streams-peer-0.1.0.jar");
    let lib = dir.join("target/lib");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let sources = [
        dir.join("pom.xml"),
        dir.join("src/main/java/peer/PeerMain.java"),
    ];
    let stale = match mtime(&jar) {
        None => true,
        Some(built) => !lib.is_dir() || sources.iter().any(|s| mtime(s).is_some_and(|m| m > built)),
    };
    if stale {
        eprintln!("e2e: building the Kafka Streams peer (mvn package) ...");
        let out = Command::new("mvn")
            .args(["-B", "-q", "package"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("running mvn (is Maven installed?): {e}"))?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            return Err(format!(
                "mvn package failed in {}:\n{}",
                dir.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
    }
    Ok(format!("{}:{}/*", jar.display(), lib.display()))
}

/// Everything a run needs.
struct Ctx<'a> {
    opts: &'a Opts,
    bootstrap: String,
    admin: kafka::Admin,
    run_id: String,
    logs: PathBuf,
    state_root: PathBuf,
    exe: PathBuf,
    peer_classpath: Result<String, String>,
}

/// What a contender run does.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Over the pre-loaded input, as fast as it goes.
    Throughput,
    /// A rate-limited producer feeds a fresh input while it runs.
    Latency { rate: f64, tag: &'static str },
}

fn main_args(ctx: &Ctx<'_>, sc: Scenario, io: (&str, &str), table: Option<&str>) -> Vec<String> {
    let o = ctx.opts;
    let mut a: Vec<String> = [
        ("--scenario", sc.name().to_string()),
        ("--bootstrap", ctx.bootstrap.clone()),
        ("--input", io.0.to_string()),
        ("--output", io.1.to_string()),
        ("--threads", o.threads.to_string()),
        ("--commit-interval-ms", o.commit_interval_ms.to_string()),
        ("--guarantee", o.guarantee.clone()),
        ("--acks", o.client.acks.clone()),
        ("--linger-ms", o.client.linger_ms.to_string()),
        ("--batch-size", o.client.batch_size.to_string()),
        (
            "--fetch-max-wait-ms",
            o.client.fetch_max_wait_ms.to_string(),
        ),
        (
            "--max-partition-fetch-bytes",
            o.client.max_partition_fetch_bytes.to_string(),
        ),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect();
    if let Some(t) = table {
        a.extend(["--table".to_string(), t.to_string()]);
    }
    a
}

fn run_contender(
    ctx: &Ctx<'_>,
    sc: Scenario,
    c: Contender,
    phase: Phase,
    preloaded_input: &str,
    table: Option<&str>,
) -> Result<RunResult, String> {
    let o = ctx.opts;
    let tag = match phase {
        Phase::Throughput => "thr",
        Phase::Latency { tag, .. } => tag,
    };
    let name = format!("{}-{}-{}-{}", ctx.run_id, sc.name(), c.name(), tag);
    let output = format!("{name}-out");
    let (input, expected) = match phase {
        Phase::Throughput => {
            // The broker stamps each output record with its append time: the throughput
            // window is exact, however late the measuring consumer reads.
            ctx.admin.create_topics_with(
                &[&output],
                o.partitions,
                &[("message.timestamp.type", "LogAppendTime")],
            )?;
            (preloaded_input.to_string(), o.records)
        }
        Phase::Latency { .. } => {
            let input = format!("{name}-in");
            ctx.admin.create_topics(&[&input, &output], o.partitions)?;
            // Known once the load producer is done; sent to the child then.
            (input, i64::MAX as u64)
        }
    };
    let state_dir = ctx.state_root.join(&name);
    let mut args = main_args(ctx, sc, (&input, &output), table);
    args.extend(
        [
            ("--application-id", name.clone()),
            ("--expected", expected.to_string()),
            ("--idle-timeout-ms", "20000".to_string()),
            ("--start-timeout-ms", "90000".to_string()),
            ("--state-dir", state_dir.display().to_string()),
        ]
        .into_iter()
        .flat_map(|(k, v)| [k.to_string(), v]),
    );
    let (program, full_args) = match c {
        Contender::Ours | Contender::Ceiling => {
            let mut v = vec![
                "--child".to_string(),
                c.name().to_string(),
                "--cache-bytes".to_string(),
                o.cache_bytes.to_string(),
            ];
            v.extend(args);
            if c == Contender::Ceiling {
                v.extend(["--partitions".to_string(), o.partitions.to_string()]);
            }
            (ctx.exe.clone(), v)
        }
        Contender::KafkaStreams => {
            let cp = ctx.peer_classpath.as_ref().map_err(|e| e.clone())?;
            let mut v = vec![
                "-cp".to_string(),
                cp.clone(),
                "peer.PeerMain".to_string(),
                "--cache-bytes".to_string(),
                o.cache_bytes.to_string(),
            ];
            v.extend(args);
            (PathBuf::from("java"), v)
        }
    };
    let deadline = Instant::now() + o.run_timeout + Duration::from_secs(120);
    let measurer = kafka::Measurer::start(&ctx.bootstrap, &output, o.partitions, deadline)?;
    let log = ctx.logs.join(format!("{name}.log"));
    let mut child = child::Running::spawn(&program, &full_args, &log)?;
    if let Err(e) = child.wait_ready(Duration::from_secs(90)) {
        child.request_stop();
        let _ = child.wait_exit(Duration::ZERO);
        let _ = measurer.finish();
        let _ = std::fs::remove_dir_all(&state_dir);
        return Err(e);
    }
    let log_path = child.log().to_path_buf();
    let stop_load = Arc::new(AtomicBool::new(false));
    let load = match phase {
        Phase::Throughput => None,
        Phase::Latency { rate, .. } => {
            let cut = kafka::now_ms() as u64 + o.warmup.as_millis() as u64;
            measurer.latency_cut_ms.store(cut, Ordering::Relaxed);
            Some((
                rate,
                kafka::spawn_load(
                    ctx.bootstrap.clone(),
                    input,
                    o.latency_duration,
                    rate,
                    o.keys,
                    o.value_size,
                    Arc::clone(&stop_load),
                ),
            ))
        }
    };
    let mut load_stats = None;
    let mut expected = expected;
    if let Some((rate, handle)) = load {
        // Bounded: the producer stops after the run's duration and flushes within 120 s.
        match handle.join() {
            Ok(Ok(stats)) => {
                expected = stats.sent;
                child.send_expected(stats.sent);
                load_stats = Some((rate, stats));
            }
            Ok(Err(e)) => {
                child.request_stop();
                let _ = child.wait_exit(Duration::from_secs(30));
                let _ = measurer.finish();
                return Err(format!("load producer: {e}"));
            }
            Err(_) => {
                child.request_stop();
                let _ = child.wait_exit(Duration::from_secs(30));
                let _ = measurer.finish();
                return Err("the load producer panicked".to_string());
            }
        }
    }
    let exit = child.wait_exit(o.run_timeout);
    stop_load.store(true, Ordering::Relaxed);
    let m = measurer.finish()?;
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(report::run_result(
        o,
        phase_name(phase),
        &exit,
        &m,
        load_stats,
        expected,
        &log_path,
    ))
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Throughput => "throughput",
        Phase::Latency { tag, .. } => tag,
    }
}

fn run_scenario(ctx: &Ctx<'_>, sc: Scenario) -> Result<ScenarioReport, String> {
    let o = ctx.opts;
    let prefix = format!("{}-{}", ctx.run_id, sc.name());
    eprintln!("\n== {} ==", sc.name());
    let input = format!("{prefix}-in");
    let table = sc.needs_table().then(|| format!("{prefix}-table"));
    let mut topics = vec![input.as_str()];
    if let Some(t) = &table {
        topics.push(t);
    }
    ctx.admin.create_topics(&topics, o.partitions)?;
    if let Some(t) = &table {
        eprintln!("  loading table {t} ({} rows)", o.keys);
        kafka::preload_table(&ctx.bootstrap, t, o.keys)?;
    }
    let preload = kafka::preload(&ctx.bootstrap, &input, o.records, o.keys, o.value_size)?;

    let mut reports: Vec<ContenderReport> = o
        .contenders
        .iter()
        .map(|&c| ContenderReport::new(c))
        .collect();
    for r in &mut reports {
        if r.contender == Contender::Ours
            && let Err(reason) = sc.ours_support()
        {
            r.unavailable = Some(reason.to_string());
            eprintln!("  {:<14} {reason}", "ours:");
            continue;
        }
        if r.contender == Contender::KafkaStreams
            && let Err(e) = &ctx.peer_classpath
        {
            r.unavailable = Some(format!("the Kafka Streams peer did not build: {e}"));
            continue;
        }
        eprint!(
            "  {:<14} throughput run ... ",
            format!("{}:", r.contender.name())
        );
        match run_contender(
            ctx,
            sc,
            r.contender,
            Phase::Throughput,
            &input,
            table.as_deref(),
        ) {
            Ok(res) => {
                eprintln!("{}", res.summary());
                r.throughput = Some(res);
            }
            Err(e) => {
                eprintln!("failed: {e}");
                r.failure = Some(format!("throughput run: {e}"));
            }
        }
    }
    let maxes: Vec<f64> = reports
        .iter()
        .filter_map(|r| r.throughput.as_ref())
        .filter(|t| t.complete)
        .map(|t| t.records_per_s)
        .collect();
    let slowest = maxes.iter().copied().fold(f64::INFINITY, f64::min);
    let fixed_rate = o.rate.or_else(|| {
        slowest
            .is_finite()
            .then_some((slowest * 0.5).round().max(1.0))
    });
    if !o.skip_latency {
        for r in &mut reports {
            let Some(own_max) = r
                .throughput
                .as_ref()
                .filter(|t| t.complete)
                .map(|t| t.records_per_s)
            else {
                continue;
            };
            let phases = [
                Phase::Latency {
                    rate: (own_max * o.near_max_fraction).round().max(1.0),
                    tag: "lat-near-max",
                },
                Phase::Latency {
                    rate: fixed_rate.unwrap_or(own_max * 0.5),
                    tag: "lat-fixed",
                },
            ];
            for phase in phases {
                let Phase::Latency { rate, tag } = phase else {
                    continue;
                };
                eprint!(
                    "  {:<14} {tag} run at {:.0} rec/s ... ",
                    format!("{}:", r.contender.name()),
                    rate
                );
                match run_contender(ctx, sc, r.contender, phase, &input, table.as_deref()) {
                    Ok(res) => {
                        eprintln!("{}", res.summary());
                        if tag == "lat-near-max" {
                            r.latency_near_max = Some(res);
                        } else {
                            r.latency_fixed = Some(res);
                        }
                    }
                    Err(e) => {
                        eprintln!("failed: {e}");
                        r.failure
                            .get_or_insert_with(String::new)
                            .push_str(&format!("{tag} run: {e}; "));
                    }
                }
            }
        }
    }
    ctx.admin.delete_prefixed(&prefix);
    Ok(ScenarioReport {
        scenario: sc.name().to_string(),
        input_records: o.records,
        preload_s: preload.as_secs_f64(),
        fixed_rate,
        contenders: reports,
    })
}

/// Runs ours and the ceiling once on a throw-away topic before anything is measured: a freshly
/// started broker's JVM is still compiling its fetch, produce and group-coordinator paths, and
/// whichever contender ran first paid for it (ours, first in every scenario, measured at half
/// its speed in the first scenario of a run on a new broker).
fn warm_up(ctx: &Ctx<'_>) -> Result<(), String> {
    let opts = ctx.opts;
    let warm = Ctx {
        opts,
        bootstrap: ctx.bootstrap.clone(),
        admin: kafka::Admin::connect(&ctx.bootstrap)?,
        run_id: format!("{}-warmup", ctx.run_id),
        logs: ctx.logs.clone(),
        state_root: ctx.state_root.clone(),
        exe: ctx.exe.clone(),
        peer_classpath: Err("not used in the warm-up".to_string()),
    };
    eprintln!("\n== warm-up (not measured) ==");
    let input = format!("{}-in", warm.run_id);
    warm.admin
        .create_topics(&[input.as_str()], opts.partitions)?;
    kafka::preload(
        &warm.bootstrap,
        &input,
        opts.records,
        opts.keys,
        opts.value_size,
    )?;
    // Ours first: it joins a consumer group, which also makes the broker create
    // `__consumer_offsets` (the ceiling's assign-and-fetch-committed-offsets start waited 90 s
    // on a broker where nothing had used a group yet).
    for contender in [Contender::Ours, Contender::Ceiling] {
        let result = run_contender(
            &warm,
            Scenario::Passthrough,
            contender,
            Phase::Throughput,
            &input,
            None,
        );
        match result {
            Ok(r) => eprintln!("  {:<14} {}", format!("{}:", contender.name()), r.summary()),
            Err(e) => eprintln!("  the warm-up run failed (measuring anyway): {e}"),
        }
    }
    warm.admin.delete_prefixed(&warm.run_id);
    Ok(())
}

fn run(opts: &Opts, command: &str) -> Result<(), String> {
    let started = std::time::SystemTime::now();
    let run_id = format!(
        "e2e-{}-{}",
        started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        std::process::id()
    );
    let logs = opts.out_dir.join("logs").join(&run_id);
    std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    let peer_classpath = if opts.contenders.contains(&Contender::KafkaStreams) {
        build_peer()
    } else {
        Err("not requested".to_string())
    };
    if let Err(e) = &peer_classpath
        && opts.contenders.contains(&Contender::KafkaStreams)
    {
        eprintln!("e2e: warning: Kafka Streams peer unavailable: {e}");
    }
    let broker = Broker::start(opts)?;
    eprintln!("e2e: broker at {}", broker.bootstrap);
    let admin = kafka::Admin::connect(&broker.bootstrap)?;
    let ctx = Ctx {
        opts,
        bootstrap: broker.bootstrap.clone(),
        admin,
        run_id: run_id.clone(),
        logs: logs.clone(),
        state_root: std::env::temp_dir().join("streams-e2e-state"),
        exe: std::env::current_exe().map_err(|e| format!("locating the bench binary: {e}"))?,
        peer_classpath,
    };
    warm_up(&ctx)?;
    let mut scenarios = Vec::new();
    for &sc in &opts.scenarios {
        match run_scenario(&ctx, sc) {
            Ok(r) => scenarios.push(r),
            Err(e) => {
                eprintln!("e2e: scenario {} failed: {e}", sc.name());
                ctx.admin
                    .delete_prefixed(&format!("{run_id}-{}", sc.name()));
                scenarios.push(ScenarioReport::failed(sc, opts.records, e));
            }
        }
    }
    drop(ctx);
    drop(broker);
    let report = Report::new(opts, command, &run_id, started, scenarios);
    println!("\n{}", report.text_table());
    let mode = if opts.quick { "quick" } else { "full" };
    let json_path = opts.out_dir.join(format!("e2e-{mode}.json"));
    let svg_path = opts.out_dir.join(format!("e2e-{mode}.svg"));
    report.write_json(&json_path)?;
    report.write_svg(&svg_path)?;
    println!(
        "JSON:  {}\nchart: {}\nlogs:  {}",
        json_path.display(),
        svg_path.display(),
        logs.display()
    );
    if opts.write_markdown {
        let md = repo_root().join("BENCHMARKS.md");
        report.write_markdown(&md, &svg_path)?;
        println!("updated {}", md.display());
    }
    Ok(())
}
