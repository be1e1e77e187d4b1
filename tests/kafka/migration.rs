//! Drop-in migration from Java: Kafka Streams' own DSL word count (`WordCountApp` in
//! `tools/kafka-streams-golden`) counts the first half of the input on the real broker and
//! stops; ours starts with the same application id and the same program, continues from the
//! Java application's committed offsets (input and repartition topic), restores its counts from
//! the Java application's changelog, and ends with exact counts.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streams::config::StreamsConfig;
use streams::dsl::{Grouped, Materialized, StreamsBuilder};
use streams::runtime::KafkaStreams;
use streams::topology::Topology;

use super::support::*;

/// The Java program, line for line.
fn wordcount(input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(input)
        .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
        .group_by_with(|_key, word| word.clone(), Grouped::named("words"))
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to(output);
    builder.build().expect("valid program")
}

/// Compiles the golden tool and returns the classpath that runs `golden.WordCountApp`.
fn java_classpath() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pom = root.join("tools/kafka-streams-golden/pom.xml");
    let cp_file = std::env::temp_dir().join(unique("golden-cp"));
    let status = Command::new("mvn")
        .args(["-q", "-f"])
        .arg(&pom)
        .args(["compile", "dependency:build-classpath"])
        .arg(format!("-Dmdep.outputFile={}", cp_file.display()))
        .status()
        .expect("run mvn (Maven and Java 17 are installed by scripts/install-deps.sh --kafka)");
    assert!(
        status.success(),
        "mvn compile of tools/kafka-streams-golden failed"
    );
    let deps = std::fs::read_to_string(&cp_file).expect("classpath file");
    let _ = std::fs::remove_file(&cp_file);
    let classes = root.join("tools/kafka-streams-golden/target/classes");
    format!("{}:{}", classes.display(), deps.trim())
}

/// Kafka Streams' word count as a child process; it stops when its standard input closes.
struct JavaApp {
    child: Child,
    /// What the application printed (its state changes), for failure messages.
    output: Arc<Mutex<Vec<String>>>,
}

impl JavaApp {
    fn start(kafka: &str, app: &str, input: &str, output: &str, state_dir: &Path) -> Self {
        let mut child = Command::new("java")
            .arg("-cp")
            .arg(java_classpath())
            .args(["golden.WordCountApp", kafka, app, input, output])
            .arg(state_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start java");
        let stdout = child.stdout.take().expect("stdout");
        let output = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        JavaApp { child, output }
    }

    fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Closes the application (it commits) and waits for it to exit.
    fn stop(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("java exits");
        assert!(
            status.success(),
            "Kafka Streams closed uncleanly: {status}; it printed {:?}",
            self.output()
        );
    }
}

impl Drop for JavaApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_java_kafka_streams_word_count_is_continued_by_ours() {
    let kafka = bootstrap();
    let app = unique("migrate");
    let (input, output) = (format!("{app}-in"), format!("{app}-out"));
    create_topics(&kafka, &[(&input, 4), (&output, 4)]);
    let (first, expected_first) = lines(300);
    let (second, _) = lines(200);
    let mut expected: BTreeMap<String, i64> = expected_first.clone();
    for (_, line) in &second {
        for word in String::from_utf8_lossy(line).split(' ') {
            *expected.entry(word.to_string()).or_insert(0) += 1;
        }
    }

    // The Java application counts the first half.
    produce(&kafka, &input, &first);
    let java_state = std::env::temp_dir().join(unique("migrate-java-state"));
    let java = JavaApp::start(&kafka, &app, &input, &output, &java_state);
    let reader = Reader::new(&kafka, &output);
    let mut out = Vec::new();
    let java_counted = reader.read_until(&mut out, Duration::from_secs(240), |r| {
        final_counts(r) == expected_first
    });
    assert!(
        java_counted,
        "Kafka Streams' counts of the first half: {:?}, expected {expected_first:?}; it printed {:?}",
        final_counts(&out),
        java.output()
    );
    java.stop();

    // Ours takes over: same application id, an empty state directory (its counts come from the
    // Java application's changelog), the rest of the input.
    produce(&kafka, &input, &second);
    let state_dir = std::env::temp_dir().join(unique("migrate-rust-state"));
    let config = StreamsConfig::builder()
        .application_id(app.as_str())
        .bootstrap_servers(kafka.as_str())
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(200))
        .state_dir(&state_dir)
        .api_timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    let streams = KafkaStreams::new(wordcount(&input, &output), config).expect("streams");
    streams.start().expect("start");
    wait_running(&streams);
    let complete = reader.read_until(&mut out, Duration::from_secs(240), |r| {
        final_counts(r) == expected
    });
    assert!(
        complete,
        "final counts {:?}, expected {expected:?}; error: {:?}",
        final_counts(&out),
        streams.error()
    );
    assert!(streams.close(Duration::from_secs(120)));
    let _ = std::fs::remove_dir_all(&java_state);
    let _ = std::fs::remove_dir_all(&state_dir);
}
