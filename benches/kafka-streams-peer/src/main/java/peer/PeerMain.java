package peer;

import java.io.IOException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;

/**
 * The Kafka Streams side of the end-to-end benchmark. One scenario per run:
 *
 * <ul>
 *   <li>{@code passthrough}: {@code mapValues(v -> v)} on byte[] values;
 *   <li>{@code filter_map}: keep values whose 16th character is an even digit, upper-case them;
 *   <li>{@code count}: {@code groupByKey().count()} (RocksDB store, changelog, caching as given);
 *   <li>{@code windowed_count}: {@code count()} in 1 s tumbling windows (no grace);
 *   <li>{@code join}: the stream joined with a table topic ({@code v + "|" + tableValue}).
 * </ul>
 *
 * <p>Prints JSON lines on stdout: {@code {"event":"ready"}} once the instance is RUNNING, then
 * one {@code {"event":"stats",...}} line at the end. It stops by itself once it has seen
 * {@code --expected} input records (or after {@code --idle-timeout-ms} without input, or when
 * stdin closes; {@code expected N} lines on stdin update the expected count), closes the instance (which flushes caches and commits), and exits: 0 when done,
 * 3 on an idle timeout, 4 on a streams error, 2 on bad arguments.
 */
public final class PeerMain {
  private PeerMain() {}

  private static final String USAGE =
      "usage: PeerMain --scenario passthrough|filter_map|count|windowed_count|join|stream_join"
          + " --bootstrap H:P --input T --output T [--table T] --application-id ID"
          + " [--threads 1] [--commit-interval-ms 100] [--cache-bytes 10485760]"
          + " [--guarantee at_least_once] --expected N [--idle-timeout-ms 20000]"
          + " [--start-timeout-ms 60000] [--state-dir DIR] [--linger-ms 5] [--batch-size 65536]"
          + " [--acks all] [--fetch-max-wait-ms 100] [--max-partition-fetch-bytes 1048576]";

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
        fail("bad argument '" + argv[i] + "'");
      }
      a.put(argv[i].substring(2), argv[++i]);
    }
    String scenario = req(a, "scenario");
    AtomicLong expected = new AtomicLong(Long.parseLong(req(a, "expected")));
    long idleTimeoutMs = Long.parseLong(a.getOrDefault("idle-timeout-ms", "20000"));
    long startTimeoutMs = Long.parseLong(a.getOrDefault("start-timeout-ms", "60000"));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, req(a, "application-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, req(a, "bootstrap"));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, a.getOrDefault("threads", "1"));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, a.getOrDefault("commit-interval-ms", "100"));
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, a.getOrDefault("cache-bytes", "10485760"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, a.getOrDefault("guarantee", "at_least_once"));
    String stateDir = a.get("state-dir");
    if (stateDir == null) {
      stateDir = Files.createTempDirectory("ks-peer").toString();
    }
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), a.getOrDefault("acks", "all"));
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), a.getOrDefault("linger-ms", "5"));
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), a.getOrDefault("batch-size", "65536"));
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "none");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), "1");
    p.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG),
        a.getOrDefault("fetch-max-wait-ms", "100"));
    p.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        a.getOrDefault("max-partition-fetch-bytes", "1048576"));
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    AtomicLong processed = new AtomicLong();
    AtomicLong firstNanos = new AtomicLong();
    AtomicLong lastNanos = new AtomicLong();
    Topology topology =
        build(scenario, req(a, "input"), req(a, "output"), a.get("table"), processed, firstNanos, lastNanos);

    KafkaStreams streams = new KafkaStreams(topology, p);
    AtomicBoolean running = new AtomicBoolean();
    AtomicReference<String> error = new AtomicReference<>();
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.RUNNING && running.compareAndSet(false, true)) {
            emit("{\"event\":\"ready\"}");
          }
        });
    streams.setUncaughtExceptionHandler(
        e -> {
          error.compareAndSet(null, String.valueOf(e));
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    AtomicBoolean stdinClosed = new AtomicBoolean();
    Thread stdinWatch =
        new Thread(
            () -> {
              // "expected N" lines update the expected count; EOF means "stop".
              BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
              try {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.startsWith("expected ")) {
                    try {
                      expected.set(Long.parseLong(line.substring(9).trim()));
                    } catch (NumberFormatException ignored) {
                      // not a number: ignore the line
                    }
                  }
                }
              } catch (IOException ignored) {
                // treated as EOF
              }
              stdinClosed.set(true);
            },
            "stdin-watch");
    stdinWatch.setDaemon(true);
    stdinWatch.start();

    long startNanos = System.nanoTime();
    streams.start();
    String outcome;
    long lastSeen = 0;
    long lastProgressNanos = startNanos;
    while (true) {
      Thread.sleep(10);
      long now = System.nanoTime();
      long n = processed.get();
      if (n != lastSeen) {
        lastSeen = n;
        lastProgressNanos = now;
      }
      if (n >= expected.get()) {
        outcome = "done";
        break;
      }
      if (error.get() != null
          || streams.state() == KafkaStreams.State.ERROR
          || streams.state() == KafkaStreams.State.NOT_RUNNING) {
        outcome = "error";
        break;
      }
      if (stdinClosed.get()) {
        outcome = "stopped";
        break;
      }
      long idleMs = (now - lastProgressNanos) / 1_000_000;
      if (n == 0 ? idleMs > startTimeoutMs : idleMs > idleTimeoutMs) {
        outcome = "idle";
        break;
      }
    }
    long closeStart = System.nanoTime();
    boolean closed = streams.close(Duration.ofSeconds(60));
    long closeMs = (System.nanoTime() - closeStart) / 1_000_000;
    streams.cleanUp();
    long first = firstNanos.get();
    long last = lastNanos.get();
    StringBuilder s = new StringBuilder("{\"event\":\"stats\"");
    s.append(",\"scenario\":\"").append(scenario).append('"');
    s.append(",\"outcome\":\"").append(outcome).append('"');
    s.append(",\"processed\":").append(processed.get());
    s.append(",\"expected\":").append(expected.get());
    s.append(",\"process_elapsed_ms\":").append(first == 0 ? 0 : (last - first) / 1_000_000);
    s.append(",\"run_elapsed_ms\":").append((System.nanoTime() - startNanos) / 1_000_000);
    s.append(",\"close_ms\":").append(closeMs);
    s.append(",\"closed\":").append(closed);
    s.append(",\"vm_hwm_kb\":").append(vmHwmKb());
    if (error.get() != null) {
      s.append(",\"error\":\"").append(jsonEscape(error.get())).append('"');
    }
    s.append('}');
    emit(s.toString());
    System.exit(
        switch (outcome) {
          case "done", "stopped" -> 0;
          case "idle" -> 3;
          default -> 4;
        });
  }

  static Topology build(
      String scenario,
      String input,
      String output,
      String table,
      AtomicLong processed,
      AtomicLong firstNanos,
      AtomicLong lastNanos) {
    StreamsBuilder b = new StreamsBuilder();
    switch (scenario) {
      case "passthrough" -> {
        KStream<String, byte[]> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
        s.peek((k, v) -> tick(processed, firstNanos, lastNanos))
            .mapValues(v -> v)
            .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
      }
      case "filter_map" -> {
        KStream<String, String> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
        s.peek((k, v) -> tick(processed, firstNanos, lastNanos))
            .filter((k, v) -> v.length() > 15 && ((v.charAt(15) - '0') & 1) == 0)
            .map((k, v) -> KeyValue.pair(k, v.toUpperCase(Locale.ROOT)))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
      }
      case "count" -> {
        KStream<String, byte[]> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
        s.peek((k, v) -> tick(processed, firstNanos, lastNanos))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
            .count(Materialized.as("counts"))
            .toStream()
            .to(output, Produced.with(Serdes.String(), Serdes.Long()));
      }
      case "windowed_count" -> {
        KStream<String, byte[]> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
        s.peek((k, v) -> tick(processed, firstNanos, lastNanos))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
            .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(1)))
            .count(Materialized.as("windowed-counts"))
            .toStream()
            .to(
                output,
                Produced.with(
                    WindowedSerdes.timeWindowedSerdeFrom(String.class, 1000L), Serdes.Long()));
      }
      case "join" -> {
        if (table == null) {
          fail("--table is required for the join scenario");
        }
        KTable<String, String> t =
            b.table(table, Consumed.with(Serdes.String(), Serdes.String()), Materialized.as("table"));
        KStream<String, String> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
        s.peek((k, v) -> tick(processed, firstNanos, lastNanos))
            .join(t, (v, tv) -> v + "|" + tv, Joined.with(Serdes.String(), Serdes.String(), Serdes.String()))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
      }
      case "stream_join" -> {
        KStream<String, String> s = b.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
        KStream<String, String> seen = s.peek((k, v) -> tick(processed, firstNanos, lastNanos));
        // The digit of the index's 10^4 place: the low digits are the key's.
        KStream<String, String> even = seen.filter((k, v) -> v.length() > 11 && ((v.charAt(11) - '0') & 1) == 0);
        KStream<String, String> odd = seen.filterNot((k, v) -> v.length() > 11 && ((v.charAt(11) - '0') & 1) == 0);
        even.join(
                odd,
                (l, r) -> l.substring(0, Math.min(16, l.length())) + "|" + r.substring(0, Math.min(16, r.length())),
                JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(100)),
                StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String()))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
      }
      default -> fail("unknown scenario '" + scenario + "'");
    }
    return b.build();
  }

  private static void tick(AtomicLong processed, AtomicLong firstNanos, AtomicLong lastNanos) {
    long now = System.nanoTime();
    if (processed.getAndIncrement() == 0) {
      firstNanos.set(now);
    }
    lastNanos.set(now);
  }

  private static long vmHwmKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException ignored) {
      // not on Linux: unknown
    }
    return 0;
  }

  private static String req(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      fail("missing --" + key);
    }
    return v;
  }

  private static void fail(String message) {
    System.err.println("kafka-streams-peer: " + message);
    System.err.println(USAGE);
    System.exit(2);
  }

  private static synchronized void emit(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static String jsonEscape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
