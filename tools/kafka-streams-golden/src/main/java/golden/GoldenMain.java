package golden;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Writes golden reference files from the real Kafka Streams:
 *   describe/*.txt      exact Topology#describe().toString()
 *   punctuation/*.txt   punctuation behaviour of TopologyTestDriver (see {@link PunctuationGolden})
 *   dsl/*               DSL programs run through TopologyTestDriver (see {@link DslGolden})
 *   joins/*             join programs run through TopologyTestDriver (see {@link JoinGolden})
 *   codecs.txt          bytes produced by the built-in serdes
 * Usage: GoldenMain <output-dir>
 */
public final class GoldenMain {

    private GoldenMain() { }

    /** Trivial pass-through processor. */
    static final class PassThrough implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;

        @Override
        public void init(final ProcessorContext<String, String> context) {
            this.context = context;
        }

        @Override
        public void process(final Record<String, String> record) {
            context.forward(record);
        }
    }

    /** Extractor with a fixed toString, so the surrounding sink format is deterministic. */
    static final class NamedExtractor implements TopicNameExtractor<String, String> {
        @Override
        public String extract(final String key, final String value, final RecordContext recordContext) {
            return "out-" + key;
        }

        @Override
        public String toString() {
            return "TopicByKeyExtractor";
        }
    }

    static StoreBuilder<KeyValueStore<String, String>> kvStore(final String name) {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), Serdes.String());
    }

    static void source(final Topology t, final String name, final String... topics) {
        t.addSource(name, Serdes.String().deserializer(), Serdes.String().deserializer(), topics);
    }

    static void proc(final Topology t, final String name, final String... parents) {
        t.addProcessor(name, PassThrough::new, parents);
    }

    static void sink(final Topology t, final String name, final String topic, final String... parents) {
        t.addSink(name, topic, Serdes.String().serializer(), Serdes.String().serializer(), parents);
    }

    // ------------------------------------------------------------------ describe cases

    static Topology simple() {
        final Topology t = new Topology();
        source(t, "Source", "input");
        proc(t, "Upper", "Source");
        sink(t, "Sink", "output", "Upper");
        return t;
    }

    static Topology twoSubtopologies() {
        final Topology t = new Topology();
        source(t, "orders-source", "orders");
        proc(t, "parse", "orders-source");
        sink(t, "to-repartition", "app-by-user-repartition", "parse");
        source(t, "repartition-source", "app-by-user-repartition");
        proc(t, "count", "repartition-source");
        t.addStateStore(kvStore("counts"), "count");
        sink(t, "counts-sink", "counts", "count");
        return t;
    }

    static Topology fanOutMerge() {
        final Topology t = new Topology();
        source(t, "S1", "a", "b");
        source(t, "S2", "c");
        proc(t, "P1", "S1");
        proc(t, "P2", "S1");
        proc(t, "M", "P1", "P2", "S2");
        t.addStateStore(kvStore("st1"), "M");
        t.addStateStore(kvStore("st2"), "M");
        sink(t, "K1", "x", "M");
        sink(t, "K2", "y", "P2");
        return t;
    }

    static Topology sharedStore() {
        final Topology t = new Topology();
        source(t, "A", "ta");
        proc(t, "PA", "A");
        source(t, "B", "tb");
        proc(t, "PB", "B");
        t.addStateStore(kvStore("shared"), "PA", "PB");
        source(t, "C", "tc");
        sink(t, "KC", "tc-out", "C");
        return t;
    }

    static Topology ordering() {
        final Topology t = new Topology();
        source(t, "zeta", "t1");
        proc(t, "b-proc", "zeta");
        proc(t, "a-proc", "zeta");
        proc(t, "c-proc", "zeta");
        sink(t, "sink-1", "o1", "a-proc");
        proc(t, "d-proc", "c-proc");
        sink(t, "sink-0", "o0", "d-proc");
        source(t, "alpha", "t0");
        proc(t, "e-proc", "alpha");
        sink(t, "sink-2", "o2", "e-proc");
        return t;
    }

    static Topology dslWordcount() {
        final StreamsBuilder builder = new StreamsBuilder();
        final KStream<String, String> text = builder.stream("text-input");
        text.flatMapValues(v -> Arrays.asList(v.split(" ")))
            .groupBy((k, w) -> w)
            .count(Materialized.as("counts-store"))
            .toStream()
            .to("wordcount-output");
        return builder.build();
    }

    static Topology sinkExtractor() {
        final Topology t = new Topology();
        source(t, "in", "input");
        final TopicNameExtractor<String, String> extractor = (key, value, rc) -> "out-" + key;
        t.addSink("dyn", extractor, Serdes.String().serializer(), Serdes.String().serializer(), "in");
        return t;
    }

    // ---- extra cases (not in the brief) that pin down details of the format

    /** Same as sink_extractor but the extractor has a fixed toString(). */
    static Topology sinkExtractorNamed() {
        final Topology t = new Topology();
        source(t, "in", "input");
        t.addSink("dyn", new NamedExtractor(), Serdes.String().serializer(), Serdes.String().serializer(), "in");
        return t;
    }

    /** A global store between two ordinary sub-topologies (shows id interleaving and the global format). */
    static Topology globalStore() {
        final Topology t = new Topology();
        source(t, "first-source", "first");
        proc(t, "first-proc", "first-source");
        t.addGlobalStore(kvStore("global-store").withLoggingDisabled(), "global-source",
            Serdes.String().deserializer(), Serdes.String().deserializer(), "global-topic",
            "global-proc", () -> new Processor<String, String, Void, Void>() {
                @Override
                public void process(final Record<String, String> record) { }
            });
        source(t, "second-source", "second");
        proc(t, "second-proc", "second-source");
        sink(t, "second-sink", "second-out", "second-proc");
        return t;
    }

    /** Pattern source and a processor without stores. */
    static Topology patternSource() {
        final Topology t = new Topology();
        t.addSource("pat", Serdes.String().deserializer(), Serdes.String().deserializer(), Pattern.compile("topic-[0-9]+"));
        proc(t, "p", "pat");
        return t;
    }

    /** Many topics / stores whose printed order follows Java HashSet iteration order. */
    static Topology hashOrder() {
        final Topology t = new Topology();
        source(t, "src", "zebra", "apple", "mango", "b", "Topic-10", "topic-9");
        proc(t, "proc", "src");
        for (final String s : new String[] {"zeta-store", "alpha", "counts", "m", "B", "store-10", "store-9"}) {
            t.addStateStore(kvStore(s), "proc");
        }
        return t;
    }

    /**
     * A sub-topology with more than 12 nodes (Java HashMap resizes beyond 12 entries) and many
     * successors whose sub-tree sizes grow while the description is being built.
     */
    static Topology wide() {
        final Topology t = new Topology();
        source(t, "root", "wide-in");
        final String[] kids = {"k5", "k1", "k4", "k2", "k3", "k0"};
        for (int i = 0; i < kids.length; i++) {
            proc(t, kids[i], "root");
            String prev = kids[i];
            // chain of length i under kid i (so sub-tree sizes differ)
            for (int j = 0; j < i; j++) {
                final String n = kids[i] + "-c" + j;
                proc(t, n, prev);
                prev = n;
            }
        }
        proc(t, "join", "k5", "k1-c0", "k4-c1", "k3-c3", "k0-c4");
        sink(t, "out", "wide-out", "join", "k2");
        return t;
    }

    /** Diamond + multiple parents: predecessor ordering with equal and different sizes. */
    static Topology diamond() {
        final Topology t = new Topology();
        source(t, "s", "d-in");
        proc(t, "y", "s");
        proc(t, "x", "s");
        proc(t, "y2", "y");
        proc(t, "m", "y2", "x");
        proc(t, "n", "x", "y");
        sink(t, "o", "d-out", "m", "n");
        return t;
    }

    // ------------------------------------------------------------------ naive model cross-check

    /**
     * Renders the description with every node list sorted by (final sub-tree path count desc, name asc).
     * Java's real output may differ because its TreeSets are filled while sizes still change.
     */
    static String naiveNodeOrderCheck(final TopologyDescription d) {
        final StringBuilder out = new StringBuilder();
        for (final TopologyDescription.Subtopology st : d.subtopologies()) {
            final Map<TopologyDescription.Node, Long> size = new HashMap<>();
            for (final TopologyDescription.Node n : st.nodes()) {
                pathCount(n, size);
            }
            final Comparator<TopologyDescription.Node> cmp = (a, b) -> {
                final int c = Long.compare(size.get(b), size.get(a));
                return c != 0 ? c : a.name().compareTo(b.name());
            };
            final List<TopologyDescription.Node> sortedNodes = new ArrayList<>(st.nodes());
            sortedNodes.sort(cmp);
            final List<String> actualOrder = names(new ArrayList<>(st.nodes()));
            if (!actualOrder.equals(names(sortedNodes))) {
                out.append("  sub-topology ").append(st.id()).append(": node order differs: java=")
                    .append(actualOrder).append(" naive=").append(names(sortedNodes)).append('\n');
            }
            for (final TopologyDescription.Node n : st.nodes()) {
                checkList(out, n.name() + " -->", n.successors(), cmp);
                checkList(out, n.name() + " <--", n.predecessors(), cmp);
            }
        }
        return out.toString();
    }

    private static void checkList(final StringBuilder out, final String label, final Set<TopologyDescription.Node> set,
                                  final Comparator<TopologyDescription.Node> cmp) {
        final List<TopologyDescription.Node> actual = new ArrayList<>(set);
        final List<TopologyDescription.Node> sorted = new ArrayList<>(set);
        sorted.sort(cmp);
        if (!names(actual).equals(names(sorted))) {
            out.append("  ").append(label).append(" java=").append(names(actual))
                .append(" naive=").append(names(sorted)).append('\n');
        }
    }

    private static long pathCount(final TopologyDescription.Node n, final Map<TopologyDescription.Node, Long> memo) {
        final Long m = memo.get(n);
        if (m != null) {
            return m;
        }
        long s = 1;
        for (final TopologyDescription.Node c : n.successors()) {
            s += pathCount(c, memo);
        }
        memo.put(n, s);
        return s;
    }

    private static List<String> names(final List<TopologyDescription.Node> nodes) {
        final List<String> r = new ArrayList<>();
        for (final TopologyDescription.Node n : nodes) {
            r.add(n.name());
        }
        return r;
    }

    // ------------------------------------------------------------------ codecs

    static String hex(final byte[] b) {
        if (b == null) {
            return "NULL";
        }
        if (b.length == 0) {
            return "EMPTY";
        }
        final StringBuilder sb = new StringBuilder();
        for (final byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    static <T> void ser(final StringBuilder out, final String serdeName, final Serde<T> serde, final String shown, final T value) {
        String res;
        try {
            res = hex(serde.serializer().serialize("t", value));
        } catch (final RuntimeException e) {
            res = "ERROR:" + e.getClass().getName() + ":" + e.getMessage();
        }
        out.append(serdeName).append(' ').append(shown).append(' ').append(res).append('\n');
    }

    static <T> void de(final StringBuilder out, final String serdeName, final Deserializer<T> d, final byte[] input) {
        String res;
        try {
            final T v = d.deserialize("t", input);
            if (v == null) {
                res = "NULL";
            } else if (v instanceof byte[]) {
                res = "bytes:" + hex((byte[]) v);
            } else {
                res = v.getClass().getSimpleName() + ":" + v;
            }
        } catch (final RuntimeException e) {
            res = "ERROR:" + e.getClass().getName() + ":" + e.getMessage();
        }
        out.append(serdeName).append(" deserialize(").append(input == null ? "null" : hex(input)).append(") ")
            .append(res).append('\n');
    }

    static String kafkaVersion = "unknown";

    static String codecs() {
        final StringBuilder o = new StringBuilder();
        o.append("# Kafka ").append(kafkaVersion)
            .append(" serdes. serialize lines: <serde> <value> <lowercase hex | EMPTY (zero bytes) | NULL (null array) | ERROR:class:message>;")
            .append(" deserialize lines: <serde> deserialize(<input hex|null>) <Type:value | NULL | ERROR:class:message>; topic is \"t\"\n");
        final Serde<Long> L = Serdes.Long();
        ser(o, "Long", L, "0", 0L);
        ser(o, "Long", L, "1", 1L);
        ser(o, "Long", L, "-1", -1L);
        ser(o, "Long", L, "42", 42L);
        ser(o, "Long", L, "Long.MIN_VALUE", Long.MIN_VALUE);
        ser(o, "Long", L, "Long.MAX_VALUE", Long.MAX_VALUE);
        final Serde<Integer> I = Serdes.Integer();
        ser(o, "Integer", I, "0", 0);
        ser(o, "Integer", I, "42", 42);
        ser(o, "Integer", I, "-1", -1);
        ser(o, "Integer", I, "Integer.MIN_VALUE", Integer.MIN_VALUE);
        final Serde<Short> S = Serdes.Short();
        ser(o, "Short", S, "42", (short) 42);
        ser(o, "Short", S, "-2", (short) -2);
        final Serde<Double> D = Serdes.Double();
        ser(o, "Double", D, "0.0", 0.0);
        ser(o, "Double", D, "1.5", 1.5);
        ser(o, "Double", D, "-2.25", -2.25);
        ser(o, "Double", D, "NaN", Double.NaN);
        ser(o, "Double", D, "Double.MAX_VALUE", Double.MAX_VALUE);
        final Serde<Float> F = Serdes.Float();
        ser(o, "Float", F, "1.5", 1.5f);
        ser(o, "Float", F, "-0.0", -0.0f);
        final Serde<String> Str = Serdes.String();
        ser(o, "String", Str, "\"\"", "");
        ser(o, "String", Str, "\"hello\"", "hello");
        ser(o, "String", Str, "\"h\u00e9llo \u2713\"", "h\u00e9llo \u2713");
        ser(o, "ByteArray", Serdes.ByteArray(), "{1,2,3}", new byte[] {1, 2, 3});
        ser(o, "ByteArray", Serdes.ByteArray(), "{}", new byte[0]);
        ser(o, "Bytes", Serdes.Bytes(), "{1,2,3}", Bytes.wrap(new byte[] {1, 2, 3}));
        ser(o, "Boolean", Serdes.Boolean(), "true", true);
        ser(o, "Boolean", Serdes.Boolean(), "false", false);
        ser(o, "UUID", Serdes.UUID(), "123e4567-e89b-12d3-a456-426614174000",
            UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
        ser(o, "Void", Serdes.Void(), "null", null);

        // null handling
        final Map<String, Serde<?>> all = new LinkedHashMap<>();
        all.put("Long", Serdes.Long());
        all.put("Integer", Serdes.Integer());
        all.put("Short", Serdes.Short());
        all.put("Double", Serdes.Double());
        all.put("Float", Serdes.Float());
        all.put("String", Serdes.String());
        all.put("ByteArray", Serdes.ByteArray());
        all.put("Bytes", Serdes.Bytes());
        all.put("ByteBuffer", Serdes.ByteBuffer());
        all.put("Boolean", Serdes.Boolean());
        all.put("UUID", Serdes.UUID());
        all.put("Void", Serdes.Void());
        for (final Map.Entry<String, Serde<?>> e : all.entrySet()) {
            @SuppressWarnings("unchecked")
            final Serde<Object> s = (Serde<Object>) e.getValue();
            ser(o, e.getKey(), s, "null", null);
        }
        for (final Map.Entry<String, Serde<?>> e : all.entrySet()) {
            de(o, e.getKey(), e.getValue().deserializer(), null);
        }
        for (final Map.Entry<String, Serde<?>> e : all.entrySet()) {
            de(o, e.getKey(), e.getValue().deserializer(), new byte[0]);
        }

        // round trips / wrong sizes
        de(o, "Long", Serdes.Long().deserializer(), new byte[] {1, 2, 3});
        de(o, "Long", Serdes.Long().deserializer(), new byte[] {0, 0, 0, 0, 0, 0, 0, 42});
        de(o, "Long", Serdes.Long().deserializer(), new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 1});
        de(o, "Integer", Serdes.Integer().deserializer(), new byte[] {1, 2, 3});
        de(o, "Integer", Serdes.Integer().deserializer(), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        de(o, "Short", Serdes.Short().deserializer(), new byte[] {1});
        de(o, "Double", Serdes.Double().deserializer(), new byte[] {1, 2, 3});
        de(o, "Float", Serdes.Float().deserializer(), new byte[] {1, 2, 3});
        de(o, "Boolean", Serdes.Boolean().deserializer(), new byte[] {1});
        de(o, "Boolean", Serdes.Boolean().deserializer(), new byte[] {0});
        de(o, "Boolean", Serdes.Boolean().deserializer(), new byte[] {2});
        de(o, "Boolean", Serdes.Boolean().deserializer(), new byte[] {1, 1});
        de(o, "String", Serdes.String().deserializer(), "h\u00e9llo \u2713".getBytes(StandardCharsets.UTF_8));
        de(o, "String", Serdes.String().deserializer(), new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
        de(o, "UUID", Serdes.UUID().deserializer(), "not-a-uuid".getBytes(StandardCharsets.UTF_8));
        de(o, "Void", Serdes.Void().deserializer(), new byte[] {1});
        return o.toString();
    }

    // ------------------------------------------------------------------ main

    static void write(final Path file, final String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, content.getBytes(StandardCharsets.UTF_8));
        System.out.println("wrote " + file);
    }

    public static void main(final String[] args) throws Exception {
        final Path root = Paths.get(args.length > 0 ? args[0] : "golden").toAbsolutePath().normalize();
        if (args.length > 1) {
            kafkaVersion = args[1];
        }

        final Map<String, Supplier<Topology>> cases = new LinkedHashMap<>();
        cases.put("simple", GoldenMain::simple);
        cases.put("two_subtopologies", GoldenMain::twoSubtopologies);
        cases.put("fan_out_merge", GoldenMain::fanOutMerge);
        cases.put("shared_store", GoldenMain::sharedStore);
        cases.put("ordering", GoldenMain::ordering);
        cases.put("dsl_wordcount", GoldenMain::dslWordcount);
        cases.put("sink_extractor", GoldenMain::sinkExtractor);
        cases.put("sink_extractor_named", GoldenMain::sinkExtractorNamed);
        cases.put("global_store", GoldenMain::globalStore);
        cases.put("pattern_source", GoldenMain::patternSource);
        cases.put("hash_order", GoldenMain::hashOrder);
        cases.put("wide", GoldenMain::wide);
        cases.put("diamond", GoldenMain::diamond);

        for (final Map.Entry<String, Supplier<Topology>> e : cases.entrySet()) {
            final TopologyDescription d = e.getValue().get().describe();
            write(root.resolve("describe").resolve(e.getKey() + ".txt"), d.toString());
            final String diff = naiveNodeOrderCheck(d);
            System.out.println("  naive (final size desc, name asc) ordering check for " + e.getKey() + ": "
                + (diff.isEmpty() ? "same" : "DIFFERS\n" + diff));
        }

        PunctuationGolden.writeAll(root.resolve("punctuation"));

        DslGolden.writeAll(root.resolve("dsl"));

        JoinGolden.writeAll(root.resolve("joins"));

        write(root.resolve("codecs.txt"), codecs());
    }
}
