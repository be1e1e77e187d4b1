package golden;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.CogroupedKStream;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Join programs run through the real TopologyTestDriver, exactly like {@link DslGolden} (see README, "joins/").
 * For every program NAME:
 *   NAME.input.txt      the input script (copied verbatim from src/main/resources/joins/NAME.input.txt)
 *   NAME.describe.txt   Topology#describe().toString()
 *   NAME.cache-on.txt   driver output with statestore.cache.max.bytes = 10485760
 *   NAME.cache-off.txt  driver output with statestore.cache.max.bytes = 0
 * All keys and values are Strings; joiners concatenate, so a missing side renders as "null".
 */
final class JoinGolden {

    private JoinGolden() { }

    static final Serde<String> S = DslGolden.S;

    /** The joiner of (almost) every program: "left+right", a missing side renders as "null". */
    static final ValueJoiner<String, String, String> J = (l, r) -> l + "+" + r;

    /** The part of "fk:payload" before the first ':'; null for a null value or a value without ':'. */
    static String fkOf(final String v) {
        if (v == null) {
            return null;
        }
        final int i = v.indexOf(':');
        return i < 0 ? null : v.substring(0, i);
    }

    /** The first character of a value; null for a null or empty value. */
    static String first(final String v) {
        return v == null || v.isEmpty() ? null : v.substring(0, 1);
    }

    // ------------------------------------------------------------------ the programs

    static Map<String, DslGolden.Program> programs() {
        final Map<String, DslGolden.Program> p = new LinkedHashMap<>();

        // ---------------------------------------------------------- stream-stream

        p.put("ss_inner_no_grace", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.join(r, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(5))).to("output");
            return null;
        });

        p.put("ss_inner_grace", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.join(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3))).to("output");
            return null;
        });

        p.put("ss_left_grace", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.leftJoin(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3))).to("output");
            return null;
        });

        p.put("ss_left_no_grace", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.leftJoin(r, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(5))).to("output");
            return null;
        });

        p.put("ss_outer_grace", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.outerJoin(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3))).to("output");
            return null;
        });

        p.put("ss_asymmetric_inner", b -> {
            // a left record at t joins right records in [t - 1 s, t + 4 s]
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.join(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2))
                    .before(Duration.ofSeconds(1))
                    .after(Duration.ofSeconds(4)))
                .to("output");
            return null;
        });

        p.put("ss_asymmetric_outer", b -> {
            // a left record at t joins right records in [t - 1 s, t + 4 s]; no grace
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.outerJoin(r, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(1))
                    .after(Duration.ofSeconds(4)))
                .to("output");
            return null;
        });

        p.put("ss_self_join", b -> {
            final KStream<String, String> s = b.stream("input");
            s.join(s, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(5))).to("output");
            return null;
        });

        p.put("ss_named_inner", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.join(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3)),
                    StreamJoined.<String, String, String>as("sj-store").withName("sj"))
                .to("output");
            return null;
        });

        p.put("ss_named_outer", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.outerJoin(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3)),
                    StreamJoined.with(S, S, S).withName("oj").withStoreName("oj-store"))
                .to("output");
            return null;
        });

        p.put("ss_rekey_unnamed", b -> {
            // the left side is re-keyed by the first letter of its value: the join repartitions it
            final KStream<String, String> l = b.<String, String>stream("left").selectKey((k, v) -> first(v));
            final KStream<String, String> r = b.stream("right");
            l.join(r, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(5))).to("output");
            return null;
        });

        p.put("ss_rekey_named", b -> {
            // the right side is re-keyed (map); StreamJoined names the repartition topic, stores and processors
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.<String, String>stream("right")
                .map((k, v) -> KeyValue.pair(first(v), k + "/" + v));
            l.leftJoin(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(1)),
                    StreamJoined.<String, String, String>as("rk-store").withName("rk"))
                .to("output");
            return null;
        });

        p.put("ss_in_memory_stores", b -> {
            // window stores from suppliers (retention = before + after + grace, size = before + after,
            // retain duplicates); the outer (left) join's non-joined store is then in-memory too
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.leftJoin(r, J, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(3)),
                    StreamJoined.with(S, S, S)
                        .withThisStoreSupplier(Stores.inMemoryWindowStore("mem-this",
                            Duration.ofSeconds(13), Duration.ofSeconds(10), true))
                        .withOtherStoreSupplier(Stores.inMemoryWindowStore("mem-other",
                            Duration.ofSeconds(13), Duration.ofSeconds(10), true)))
                .to("output");
            return null;
        });

        p.put("ss_logging_disabled", b -> {
            final KStream<String, String> l = b.stream("left");
            final KStream<String, String> r = b.stream("right");
            l.outerJoin(r, J, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofSeconds(2)),
                    StreamJoined.<String, String, String>as("nolog").withLoggingDisabled())
                .to("output");
            return null;
        });

        // ---------------------------------------------------------- stream-table

        p.put("st_inner", b -> {
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table");
            s.join(t, J).to("output");
            return null;
        });

        p.put("st_left_materialized", b -> {
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table", Materialized.as("tbl"));
            s.leftJoin(t, J).to("output");
            return null;
        });

        p.put("st_named", b -> {
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table");
            s.leftJoin(t, J, Joined.<String, String, String>as("stj")).to("output");
            return null;
        });

        p.put("st_rekey_select_key", b -> {
            // the stream is re-keyed by the first letter of its value: the join repartitions it
            final KStream<String, String> s = b.<String, String>stream("input").selectKey((k, v) -> first(v));
            final KTable<String, String> t = b.table("table");
            s.join(t, J).to("output");
            return null;
        });

        p.put("st_rekey_map_named", b -> {
            // map() re-keys; Joined names the repartition topic
            final KStream<String, String> s = b.<String, String>stream("input")
                .map((k, v) -> KeyValue.pair(fkOf(v), k + "/" + v));
            final KTable<String, String> t = b.table("table", Materialized.as("tbl"));
            s.leftJoin(t, J, Joined.<String, String, String>as("rkj")).to("output");
            return null;
        });

        p.put("st_versioned_grace", b -> {
            // KIP-923: versioned table (history 30 s) and a 5 s grace period on the stream side
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table",
                Materialized.<String, String>as(Stores.persistentVersionedKeyValueStore("vtable", Duration.ofSeconds(30)))
                    .withKeySerde(S).withValueSerde(S));
            s.join(t, J, Joined.with(S, S, S).withGracePeriod(Duration.ofSeconds(5))).to("output");
            return null;
        });

        p.put("st_versioned_grace_left", b -> {
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table",
                Materialized.<String, String>as(Stores.persistentVersionedKeyValueStore("vtable", Duration.ofSeconds(30)))
                    .withKeySerde(S).withValueSerde(S));
            s.leftJoin(t, J, Joined.<String, String, String>as("vj").withGracePeriod(Duration.ofSeconds(5)))
                .to("output");
            return null;
        });

        p.put("st_versioned_no_grace", b -> {
            // versioned table without grace: every stream record joins immediately, as of its own timestamp
            final KStream<String, String> s = b.stream("input");
            final KTable<String, String> t = b.table("table",
                Materialized.<String, String>as(Stores.persistentVersionedKeyValueStore("vtable", Duration.ofSeconds(30)))
                    .withKeySerde(S).withValueSerde(S));
            s.leftJoin(t, J).to("output");
            return null;
        });

        // ---------------------------------------------------------- stream-GlobalKTable

        p.put("sg_inner", b -> {
            // the table key is the part of the stream value before ':'
            final KStream<String, String> s = b.stream("input");
            final GlobalKTable<String, String> g = b.globalTable("global");
            s.join(g, (k, v) -> fkOf(v), J).to("output");
            return null;
        });

        p.put("sg_left_named", b -> {
            final KStream<String, String> s = b.stream("input");
            final GlobalKTable<String, String> g = b.globalTable("global", Materialized.as("gstore"));
            s.leftJoin(g, (k, v) -> fkOf(v), J, Named.as("gj")).to("output");
            return null;
        });

        // ---------------------------------------------------------- table-table

        p.put("tt_inner", b -> {
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.join(r, J).toStream().to("output");
            return null;
        });

        p.put("tt_left", b -> {
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.leftJoin(r, J).toStream().to("output");
            return null;
        });

        p.put("tt_outer", b -> {
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.outerJoin(r, J).toStream().to("output");
            return null;
        });

        p.put("tt_named_materialized", b -> {
            final KTable<String, String> l = b.table("left", Materialized.as("left-store"));
            final KTable<String, String> r = b.table("right");
            l.outerJoin(r, J, Named.as("ttj"), Materialized.as("tt-joined"))
                .toStream(Named.as("tt-ts"))
                .to("output");
            return null;
        });

        // ---------------------------------------------------------- foreign-key table-table

        p.put("fk_inner", b -> {
            // left values "fk:payload"; the foreign key is the part before ':' (null without ':')
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.join(r, JoinGolden::fkOf, J).toStream().to("output");
            return null;
        });

        p.put("fk_left", b -> {
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.leftJoin(r, JoinGolden::fkOf, J).toStream().to("output");
            return null;
        });

        p.put("fk_named", b -> {
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.join(r, JoinGolden::fkOf, J, TableJoined.as("fkj"),
                    Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("fk-result"))
                .toStream()
                .to("output");
            return null;
        });

        p.put("fk_left_key_extractor", b -> {
            // KIP-1104 extractor of (key, value): the part before ':', or the left key itself without ':'
            final KTable<String, String> l = b.table("left");
            final KTable<String, String> r = b.table("right");
            l.leftJoin(r, (k, v) -> fkOf(v) == null ? k : fkOf(v), J).toStream().to("output");
            return null;
        });

        // ---------------------------------------------------------- cogroup

        p.put("cogroup_two", b -> {
            final KGroupedStream<String, String> g1 = b.<String, String>stream("in1").groupByKey();
            final KGroupedStream<String, String> g2 = b.<String, String>stream("in2").groupByKey();
            g1.<String>cogroup((k, v, agg) -> agg + "|a:" + v)
                .cogroup(g2, (k, v, agg) -> agg + "|b:" + v)
                .aggregate(() -> "")
                .toStream()
                .to("output");
            return null;
        });

        p.put("cogroup_three_named", b -> {
            final KGroupedStream<String, String> g1 = b.<String, String>stream("in1").groupByKey();
            final KGroupedStream<String, String> g2 = b.<String, String>stream("in2").groupByKey();
            final KGroupedStream<String, String> g3 = b.<String, String>stream("in3").groupByKey();
            g1.<String>cogroup((k, v, agg) -> agg + "|a:" + v)
                .cogroup(g2, (k, v, agg) -> agg + "|b:" + v)
                .cogroup(g3, (k, v, agg) -> agg + "|c:" + v)
                .aggregate(() -> "init", Named.as("cog"),
                    Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("cog-store"))
                .toStream()
                .to("output");
            return null;
        });

        p.put("cogroup_repartition", b -> {
            // in2 is grouped by the first letter of its value (repartition), in1 by key
            final KGroupedStream<String, String> g1 = b.<String, String>stream("in1").groupByKey();
            final KGroupedStream<String, String> g2 = b.<String, String>stream("in2")
                .groupBy((k, v) -> first(v), Grouped.as("by-first"));
            g1.<String>cogroup((k, v, agg) -> agg + "|a:" + v)
                .cogroup(g2, (k, v, agg) -> agg + "|b:" + v)
                .aggregate(() -> "")
                .toStream()
                .to("output");
            return null;
        });

        p.put("cogroup_windowed", b -> {
            // 10 s tumbling windows, grace 2 s
            final KGroupedStream<String, String> g1 = b.<String, String>stream("in1").groupByKey();
            final KGroupedStream<String, String> g2 = b.<String, String>stream("in2").groupByKey();
            g1.<String>cogroup((k, v, agg) -> agg + "|a:" + v)
                .cogroup(g2, (k, v, agg) -> agg + "|b:" + v)
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(2)))
                .aggregate(() -> "", Materialized.with(S, S))
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), S));
            return null;
        });

        p.put("cogroup_hopping_three", b -> {
            // 10 s windows advancing by 5 s, no grace, three inputs, named store with retention
            final KGroupedStream<String, String> g1 = b.<String, String>stream("in1").groupByKey();
            final KGroupedStream<String, String> g2 = b.<String, String>stream("in2").groupByKey();
            final KGroupedStream<String, String> g3 = b.<String, String>stream("in3").groupByKey();
            final CogroupedKStream<String, String> c = g1.<String>cogroup((k, v, agg) -> agg + "|a:" + v)
                .cogroup(g2, (k, v, agg) -> agg + "|b:" + v)
                .cogroup(g3, (k, v, agg) -> agg + "|c:" + v);
            c.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofSeconds(10)).advanceBy(Duration.ofSeconds(5)))
                .aggregate(() -> "", Named.as("hop"),
                    Materialized.<String, String, WindowStore<Bytes, byte[]>>as("hop-store")
                        .withRetention(Duration.ofSeconds(30)))
                .toStream()
                .to("output", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 10000L), S));
            return null;
        });

        return p;
    }

    // ------------------------------------------------------------------ writing

    static byte[] resource(final String name) throws IOException {
        try (InputStream in = JoinGolden.class.getClassLoader().getResourceAsStream("joins/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource joins/" + name);
            }
            return in.readAllBytes();
        }
    }

    static void writeAll(final Path dir) throws Exception {
        Files.createDirectories(dir);
        for (final Map.Entry<String, DslGolden.Program> e : programs().entrySet()) {
            final String name = e.getKey();
            final DslGolden.Program program = e.getValue();

            final byte[] input = resource(name + ".input.txt");
            Files.write(dir.resolve(name + ".input.txt"), input);
            System.out.println("wrote " + dir.resolve(name + ".input.txt"));
            final List<String> script = Arrays.asList(new String(input, StandardCharsets.UTF_8).split("\n", -1));

            final StreamsBuilder b = new StreamsBuilder();
            program.build(b);
            GoldenMain.write(dir.resolve(name + ".describe.txt"), b.build().describe().toString());

            GoldenMain.write(dir.resolve(name + ".cache-on.txt"), DslGolden.run(program, script, 10485760L));
            GoldenMain.write(dir.resolve(name + ".cache-off.txt"), DslGolden.run(program, script, 0L));
        }
    }
}
