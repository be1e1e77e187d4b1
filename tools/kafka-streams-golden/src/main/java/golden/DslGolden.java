package golden;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * DSL programs run through the real TopologyTestDriver (see README, "dsl/"). For every program NAME:
 *   NAME.input.txt      the input script (copied verbatim from src/main/resources/dsl/NAME.input.txt)
 *   NAME.describe.txt   Topology#describe().toString()
 *   NAME.cache-on.txt   driver output with statestore.cache.max.bytes = 10485760
 *   NAME.cache-off.txt  driver output with statestore.cache.max.bytes = 0
 *   NAME.branches.txt   (split programs only) the sorted keys of the map returned by split()
 */
final class DslGolden {

    private DslGolden() { }

    static final Serde<String> S = Serdes.String();
    static final Serde<Long> L = Serdes.Long();

    /** Builds one program into b; returns the split() result map, or null. */
    interface Program {
        Map<String, ?> build(StreamsBuilder b);
    }

    // ------------------------------------------------------------------ helper classes

    /** Routes by the first letter of the value; fixed toString so describe() is deterministic. */
    static final class FirstLetterExtractor implements TopicNameExtractor<String, String> {
        @Override
        public String extract(final String key, final String value, final RecordContext recordContext) {
            if (value.startsWith("a")) {
                return "out-a";
            }
            if (value.startsWith("b")) {
                return "out-b";
            }
            return "out-other";
        }

        @Override
        public String toString() {
            return "FirstLetterExtractor";
        }
    }

    /** Counts records per key in "proc-store" and appends "#n" to the value. */
    static final class CountingProcessor implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, Long> store;

        @Override
        public void init(final ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore("proc-store");
        }

        @Override
        public void process(final Record<String, String> record) {
            final Long old = store.get(record.key());
            final long n = (old == null ? 0L : old) + 1;
            store.put(record.key(), n);
            context.forward(record.withValue(record.value() + "#" + n));
        }
    }

    /** Appends "!" to the value. */
    static final class SuffixProcessor implements FixedKeyProcessor<String, String, String> {
        private FixedKeyProcessorContext<String, String> context;

        @Override
        public void init(final FixedKeyProcessorContext<String, String> context) {
            this.context = context;
        }

        @Override
        public void process(final FixedKeyRecord<String, String> record) {
            context.forward(record.withValue(record.value() + "!"));
        }
    }

    // ------------------------------------------------------------------ the programs

    static Map<String, Program> programs() {
        final Map<String, Program> p = new LinkedHashMap<>();

        p.put("stateless_chain", b -> {
            b.<String, String>stream("input")
                .filter((k, v) -> v.length() > 2)
                .filterNot((k, v) -> v.startsWith("x"))
                .mapValues(v -> v.toUpperCase())
                .mapValues((k, v) -> k + ":" + v)
                .map((k, v) -> KeyValue.pair(v, k))
                .selectKey((k, v) -> k.toLowerCase())
                .to("output");
            return null;
        });

        p.put("flat_map", b -> {
            final KStream<String, String> s = b.stream("input");
            s.flatMapValues(v -> Arrays.asList(v.split(" ")))
                .flatMap((k, v) -> Arrays.asList(KeyValue.pair(k, v), KeyValue.pair(v, k)))
                .peek((k, v) -> { })
                .to("output");
            s.foreach((k, v) -> { });
            return null;
        });

        p.put("merge_split", b -> {
            final KStream<String, String> a = b.stream("input");
            final KStream<String, String> c = b.stream("input2");
            final Map<String, KStream<String, String>> m = a.merge(c)
                .split(Named.as("sp-"))
                .branch((k, v) -> v.startsWith("a"), Branched.as("a"))
                .branch((k, v) -> v.startsWith("b"), Branched.withConsumer(ks -> ks.to("out-b")))
                .defaultBranch(Branched.as("rest"));
            m.get("sp-a").to("out-a");
            m.get("sp-rest").mapValues(v -> v + "!").to("out-rest");
            return m;
        });

        p.put("split_unnamed", b -> {
            final Map<String, KStream<String, String>> m = b.<String, String>stream("input")
                .split()
                .branch((k, v) -> v.startsWith("a"))
                .branch((k, v) -> v.startsWith("b"))
                .defaultBranch();
            int i = 0;
            for (final Map.Entry<String, KStream<String, String>> e : new TreeMap<>(m).entrySet()) {
                e.getValue().to("out-" + i);
                i++;
            }
            return m;
        });

        p.put("named_ops", b -> {
            // changed: Consumed.as -> Consumed.<String, String>as (type inference, see README)
            b.stream("input", Consumed.<String, String>as("src"))
                .filter((k, v) -> v.length() > 2, Named.as("f1"))
                .filterNot((k, v) -> v.startsWith("x"), Named.as("f2"))
                .mapValues(v -> v.toUpperCase(), Named.as("mv"))
                .map((k, v) -> KeyValue.pair(v, k), Named.as("m"))
                .selectKey((k, v) -> k.toLowerCase(), Named.as("sk"))
                .to("output", Produced.as("sink"));
            return null;
        });

        p.put("to_extractor", b -> {
            b.<String, String>stream("input").to(new FirstLetterExtractor());
            return null;
        });

        p.put("process_stores", b -> {
            b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("proc-store"), S, L));
            b.<String, String>stream("input")
                .process(CountingProcessor::new, "proc-store")
                .processValues(SuffixProcessor::new)
                .to("output", Produced.with(S, S));
            return null;
        });

        p.put("count", b -> {
            b.<String, String>stream("input").groupByKey().count().toStream().to("output", Produced.with(S, L));
            return null;
        });

        p.put("count_named", b -> {
            b.stream("input", Consumed.<String, String>as("src"))
                .groupByKey(Grouped.as("grp"))
                .count(Named.as("cnt"), Materialized.as("counts"))
                .toStream(Named.as("ts"))
                .to("output", Produced.with(S, L).withName("sink"));
            return null;
        });

        p.put("count_materialized_unnamed", b -> {
            // count(Materialized) without a store name burns one index more than count()
            final KStream<String, String> s = b.stream("input");
            s.groupByKey().count(Materialized.with(S, L)).toStream().to("out1", Produced.with(S, L));
            s.selectKey((k, v) -> v)
                .groupByKey()
                .count(Named.as("cnt"), Materialized.with(S, L))
                .toStream()
                .to("out2", Produced.with(S, L));
            return null;
        });

        p.put("aggregations_materialized_unnamed", b -> {
            // reduce/aggregate(Materialized) and KGroupedTable's count(Materialized) burn nothing
            final KStream<String, String> s = b.stream("input");
            s.groupByKey().reduce((a, v) -> a + v, Materialized.with(S, S)).toStream().to("out1");
            s.groupByKey()
                .aggregate(() -> "", (k, v, agg) -> agg + v.length(), Materialized.with(S, S))
                .toStream()
                .to("out2");
            b.<String, String>table("input2")
                .groupBy((k, v) -> KeyValue.pair(v, k))
                .count(Materialized.with(S, L))
                .toStream()
                .to("out3", Produced.with(S, L));
            return null;
        });

        p.put("wordcount", b -> {
            b.<String, String>stream("text-input")
                .flatMapValues(v -> Arrays.asList(v.split(" ")))
                .groupBy((k, w) -> w)
                .count(Materialized.as("counts-store"))
                .toStream()
                .to("wordcount-output", Produced.with(S, L));
            return null;
        });

        p.put("reduce", b -> {
            b.<String, String>stream("input").groupByKey().reduce((a, v) -> a + "," + v).toStream().to("output");
            return null;
        });

        p.put("aggregate", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .aggregate(() -> 0L, (k, v, agg) -> agg + v.length(), Materialized.with(S, L))
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("map_then_count", b -> {
            b.<String, String>stream("input")
                .map((k, v) -> KeyValue.pair(v, k))
                .groupByKey()
                .count()
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("select_key_grouped_reduce", b -> {
            b.<String, String>stream("input")
                .selectKey((k, v) -> v.substring(0, 1))
                .groupByKey(Grouped.as("rekey"))
                .reduce((a, v) -> a + v, Materialized.as("reduced"))
                .toStream()
                .to("output");
            return null;
        });

        p.put("map_values_count", b -> {
            b.<String, String>stream("input")
                .mapValues(v -> v.toUpperCase())
                .groupByKey()
                .count()
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("repartition_explicit", b -> {
            final KStream<String, String> s = b.stream("input");
            s.repartition(Repartitioned.<String, String>as("rp").withNumberOfPartitions(3))
                .groupByKey()
                .count()
                .toStream()
                .to("output", Produced.with(S, L));
            s.repartition().to("output2");
            return null;
        });

        p.put("two_aggregations_after_map", b -> {
            final KStream<String, String> m = b.<String, String>stream("input").map((k, v) -> KeyValue.pair(v, k));
            m.groupByKey().count().toStream().to("out1", Produced.with(S, L));
            m.groupByKey().reduce((a, v) -> a + v).toStream().to("out2");
            return null;
        });

        p.put("table_filter_map_values", b -> {
            b.<String, String>table("input", Materialized.as("tbl"))
                .filter((k, v) -> v.length() > 2)
                .mapValues(v -> v.toUpperCase())
                .toStream()
                .to("output");
            return null;
        });

        p.put("table_unmaterialized", b -> {
            final KTable<String, String> t = b.table("input");
            t.filterNot((k, v) -> v.startsWith("x")).toStream().to("output");
            t.filter((k, v) -> v.length() > 2, Materialized.as("filtered")).toStream().to("output2");
            return null;
        });

        p.put("table_group_by_count", b -> {
            b.<String, String>table("input")
                .groupBy((k, v) -> KeyValue.pair(v, k))
                .count()
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("table_group_by_reduce", b -> {
            b.<String, String>table("input")
                .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), (long) v.length()), Grouped.with(S, L))
                .reduce((a, v) -> a + v, (a, v) -> a - v)
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("table_group_by_aggregate", b -> {
            b.<String, String>table("input")
                .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v), Grouped.as("by-first"))
                .aggregate(() -> "", (k, v, agg) -> agg + "+" + v, (k, v, agg) -> agg + "-" + v, Materialized.as("agg"))
                .toStream()
                .to("output");
            return null;
        });

        p.put("stream_to_table", b -> {
            b.<String, String>stream("input").toTable(Materialized.as("tt")).toStream().to("output");
            return null;
        });

        p.put("nulls", b -> {
            final KStream<String, String> s = b.stream("input");
            s.groupByKey().count().toStream().to("out1", Produced.with(S, L));
            s.filter((k, v) -> true).to("out2");
            b.<String, String>table("input2").toStream().to("out3");
            return null;
        });

        p.put("tumbling_count", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(10)))
                .count()
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), L));
            return null;
        });

        p.put("hopping_reduce", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5))
                    .advanceBy(Duration.ofSeconds(5)))
                .reduce((a, v) -> a + v,
                    Materialized.<String, String, WindowStore<Bytes, byte[]>>as("hop").withRetention(Duration.ofMinutes(1)))
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), S));
            return null;
        });

        p.put("sliding_count", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(10)))
                .count()
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 5000L), L));
            return null;
        });

        p.put("session_count", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(10)))
                .count()
                .toStream()
                .to("output", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), L));
            return null;
        });

        p.put("session_aggregate", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(Duration.ofSeconds(5)))
                .aggregate(() -> "", (k, v, agg) -> agg + v, (k, left, right) -> left + "|" + right, Materialized.with(S, S))
                .toStream()
                .to("output", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), S));
            return null;
        });

        p.put("session_zero_gap", b -> {
            // an inactivity gap of zero is valid in 4.x (sessions of one timestamp); with neither grace nor
            // retention the store keeps sessions for 0 ms and what it shows depends on the cache (the Rust
            // side refuses that at build), so out1 gives a retention
            final KGroupedStream<String, String> g = b.<String, String>stream("input").groupByKey();
            g.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(Duration.ZERO))
                .count(Materialized.<String, Long, SessionStore<Bytes, byte[]>>with(S, L).withRetention(Duration.ofSeconds(10)))
                .toStream()
                .to("out1", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), L));
            g.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ZERO, Duration.ofSeconds(2)))
                .count()
                .toStream()
                .to("out2", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), L));
            return null;
        });

        p.put("suppress_window_close", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(5)))
                // changed: count() -> count(Materialized.with(S, L)); without a key serde the suppression
                // buffer serializes the Windowed key with the default String serde (ClassCastException)
                .count(Materialized.with(S, L))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), L));
            return null;
        });

        p.put("suppress_time_limit", b -> {
            b.<String, String>table("input")
                .groupBy((k, v) -> KeyValue.pair(v, k))
                .count()
                .suppress(Suppressed.untilTimeLimit(Duration.ofSeconds(5),
                    Suppressed.BufferConfig.maxRecords(100).emitEarlyWhenFull()).withName("sup"))
                .toStream()
                .to("output", Produced.with(S, L));
            return null;
        });

        p.put("emit_on_window_close", b -> {
            b.<String, String>stream("input")
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(2)))
                .emitStrategy(EmitStrategy.onWindowClose())
                .count()
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), L));
            return null;
        });

        return p;
    }

    // ------------------------------------------------------------------ script + driver

    static byte[] resource(final String name) throws IOException {
        try (InputStream in = DslGolden.class.getClassLoader().getResourceAsStream("dsl/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dsl/" + name);
            }
            return in.readAllBytes();
        }
    }

    static Properties props(final long cacheBytes) {
        final Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "golden-dsl");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.String().getClass());
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.String().getClass());
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
        return p;
    }

    static String nullable(final String s) {
        return "null".equals(s) ? null : s;
    }

    /** Renders a key or value of an output record (see README). */
    static String render(final byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        if (bytes.length == 0) {
            return "0x";
        }
        String s = null;
        try {
            s = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
        } catch (final CharacterCodingException e) {
            s = null;
        }
        boolean printable = s != null && !s.equals("null") && !s.startsWith("0x");
        if (printable) {
            for (int i = 0; i < s.length(); i++) {
                final char c = s.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    printable = false;
                    break;
                }
            }
        }
        if (printable) {
            return s;
        }
        final StringBuilder sb = new StringBuilder("0x");
        for (final byte b : bytes) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    static String run(final Program program, final List<String> script, final long cacheBytes) {
        final StreamsBuilder b = new StreamsBuilder();
        program.build(b);
        final Topology topology = b.build();
        final StringBuilder out = new StringBuilder();
        List<String> outputs = null;
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props(cacheBytes), Instant.ofEpochMilli(0))) {
            final Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
            for (final String line : script) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                final String[] f = line.split("\t", -1);
                if (outputs == null) {
                    if (!f[0].equals("outputs") || f.length < 2) {
                        throw new IllegalStateException("first command must be outputs: " + line);
                    }
                    outputs = Arrays.asList(f).subList(1, f.length);
                    continue;
                }
                out.append("> ").append(line).append('\n');
                switch (f[0]) {
                    case "pipe": {
                        if (f.length != 5) {
                            throw new IllegalStateException("bad pipe line: " + line);
                        }
                        final TestInputTopic<String, String> in = inputs.computeIfAbsent(f[1],
                            t -> driver.createInputTopic(t, new StringSerializer(), new StringSerializer()));
                        final long ts = Long.parseLong(f[4]);
                        if (ts < 0) {
                            throw new IllegalStateException("negative timestamp: " + line);
                        }
                        in.pipeInput(nullable(f[2]), nullable(f[3]), ts);
                        break;
                    }
                    case "advance": {
                        if (f.length != 2) {
                            throw new IllegalStateException("bad advance line: " + line);
                        }
                        driver.advanceWallClockTime(Duration.ofMillis(Long.parseLong(f[1])));
                        break;
                    }
                    default:
                        throw new IllegalStateException("unknown command: " + line);
                }
                for (final String topic : outputs) {
                    final List<TestRecord<byte[], byte[]>> records = driver
                        .createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                        .readRecordsToList();
                    for (final TestRecord<byte[], byte[]> r : records) {
                        out.append(topic).append('\t')
                            .append(render(r.key())).append('\t')
                            .append(render(r.value())).append('\t')
                            .append(r.timestamp()).append('\n');
                    }
                }
            }
        }
        if (outputs == null) {
            throw new IllegalStateException("script without outputs line");
        }
        return out.toString();
    }

    static void writeAll(final Path dir) throws Exception {
        Files.createDirectories(dir);
        for (final Map.Entry<String, Program> e : programs().entrySet()) {
            final String name = e.getKey();
            final Program program = e.getValue();

            final byte[] input = resource(name + ".input.txt");
            Files.write(dir.resolve(name + ".input.txt"), input);
            System.out.println("wrote " + dir.resolve(name + ".input.txt"));
            final List<String> script = Arrays.asList(new String(input, StandardCharsets.UTF_8).split("\n", -1));

            final StreamsBuilder b = new StreamsBuilder();
            final Map<String, ?> branches = program.build(b);
            GoldenMain.write(dir.resolve(name + ".describe.txt"), b.build().describe().toString());
            if (branches != null) {
                final StringBuilder sb = new StringBuilder();
                for (final String k : new TreeMap<>(branches).keySet()) {
                    sb.append(k).append('\n');
                }
                GoldenMain.write(dir.resolve(name + ".branches.txt"), sb.toString());
            }

            GoldenMain.write(dir.resolve(name + ".cache-on.txt"), run(program, script, 10485760L));
            GoldenMain.write(dir.resolve(name + ".cache-off.txt"), run(program, script, 0L));
        }
    }
}
