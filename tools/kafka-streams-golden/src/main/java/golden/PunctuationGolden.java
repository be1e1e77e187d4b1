package golden;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Punctuation behaviour of the real TopologyTestDriver. */
final class PunctuationGolden {

    private PunctuationGolden() { }

    /** Everything the processors observed since the last drain. */
    static final List<String> EVENTS = new ArrayList<>();

    static List<String> drain() {
        final List<String> r = new ArrayList<>(EVENTS);
        EVENTS.clear();
        return r;
    }

    static Properties props() {
        final Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "golden-punctuation");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        return p;
    }

    enum When { INIT, FIRST_57 }

    /** Schedules a punctuation (in init or in process()) and records the timestamps it is called with. */
    static final class Recorder implements Processor<String, String, String, String> {
        private final PunctuationType type;
        private final When when;
        private ProcessorContext<String, String> ctx;
        private boolean scheduled;

        Recorder(final PunctuationType type, final When when) {
            this.type = type;
            this.when = when;
        }

        private void schedule() {
            scheduled = true;
            ctx.schedule(Duration.ofMillis(10), type, ts -> EVENTS.add(Long.toString(ts)));
        }

        @Override
        public void init(final ProcessorContext<String, String> context) {
            ctx = context;
            if (when == When.INIT) {
                schedule();
            }
        }

        @Override
        public void process(final Record<String, String> record) {
            if (when == When.FIRST_57 && !scheduled && record.timestamp() == 57) {
                schedule();
            }
        }
    }

    static Topology recorderTopology(final PunctuationType type, final When when) {
        final Topology t = new Topology();
        t.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
        t.addProcessor("rec", () -> new Recorder(type, when), "src");
        return t;
    }

    static String pipeSequence(final PunctuationType type, final When when, final long... timestamps) {
        final StringBuilder sb = new StringBuilder();
        EVENTS.clear();
        try (TopologyTestDriver driver = new TopologyTestDriver(recorderTopology(type, when), props())) {
            final TestInputTopic<String, String> in =
                driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            sb.append("after driver creation -> fired ").append(drain()).append('\n');
            for (final long ts : timestamps) {
                in.pipeInput("k", "v", ts);
                sb.append("pipe ts=").append(ts).append(" -> fired ").append(drain()).append('\n');
            }
        }
        return sb.toString();
    }

    static String streamTime() {
        return "# STREAM_TIME punctuation, interval 10 ms, scheduled in init(); one line per piped record (key \"k\", one partition)"
            + " with the timestamps the punctuator was called with while that record was handled (fresh driver per sequence).\n"
            + "sequence 1\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.INIT, 0, 5, 27)
            + "sequence 2\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.INIT, 0, 5, 27, 28, 29, 30, 45, 100, 99)
            + "sequence 3 (first record not at 0)\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.INIT, 3, 9, 10, 19, 20)
            + "sequence 4 (first record far from 0)\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.INIT, 1234, 1239, 1240, 1265);
    }

    static String streamTimeScheduleLater() {
        return "# STREAM_TIME punctuation, interval 10 ms, scheduled from process() when the first record with timestamp 57 arrives"
            + " (only once); one line per piped record with the timestamps the punctuator was called with.\n"
            + "sequence 1\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.FIRST_57, 57, 58, 66, 67, 70, 83)
            + "sequence 2 (earlier records before the schedule)\n"
            + pipeSequence(PunctuationType.STREAM_TIME, When.FIRST_57, 3, 57, 58, 66, 67, 70, 83);
    }

    static String wallClock() {
        final StringBuilder sb = new StringBuilder();
        sb.append("# WALL_CLOCK_TIME punctuation, interval 10 ms, scheduled in init(); driver created with initial wall clock")
            .append(" Instant.ofEpochMilli(1000); lines show the timestamps the punctuator was called with after each action.\n");
        sb.append("sequence 1 (advanceWallClockTime only)\n");
        EVENTS.clear();
        try (TopologyTestDriver driver = new TopologyTestDriver(
                recorderTopology(PunctuationType.WALL_CLOCK_TIME, When.INIT), props(), Instant.ofEpochMilli(1000))) {
            sb.append("after driver creation (clock=1000) -> fired ").append(drain()).append('\n');
            long clock = 1000;
            for (final long adv : new long[] {5, 5, 25, 1, 9}) {
                driver.advanceWallClockTime(Duration.ofMillis(adv));
                clock += adv;
                sb.append("advance ").append(adv).append(" (clock=").append(clock).append(") -> fired ").append(drain()).append('\n');
            }
        }
        sb.append("sequence 2 (piping records never fires wall-clock punctuation; only advanceWallClockTime does)\n");
        EVENTS.clear();
        try (TopologyTestDriver driver = new TopologyTestDriver(
                recorderTopology(PunctuationType.WALL_CLOCK_TIME, When.INIT), props(), Instant.ofEpochMilli(1000))) {
            final TestInputTopic<String, String> in =
                driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            sb.append("after driver creation (clock=1000) -> fired ").append(drain()).append('\n');
            for (final long ts : new long[] {0, 1010, 5000}) {
                in.pipeInput("k", "v", ts);
                sb.append("pipe ts=").append(ts).append(" (clock=1000) -> fired ").append(drain()).append('\n');
            }
            driver.advanceWallClockTime(Duration.ofMillis(9));
            sb.append("advance 9 (clock=1009) -> fired ").append(drain()).append('\n');
            in.pipeInput("k", "v", 6000);
            sb.append("pipe ts=6000 (clock=1009) -> fired ").append(drain()).append('\n');
            driver.advanceWallClockTime(Duration.ofMillis(1));
            sb.append("advance 1 (clock=1010) -> fired ").append(drain()).append('\n');
            driver.advanceWallClockTime(Duration.ofMillis(0));
            sb.append("advance 0 (clock=1010) -> fired ").append(drain()).append('\n');
            driver.advanceWallClockTime(Duration.ofMillis(10));
            sb.append("advance 10 (clock=1020) -> fired ").append(drain()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Processor forwarding record.withValue(upper) for each input, plus a STREAM_TIME punctuator (interval 10) that
     * forwards new Record("punct", "p@"+ts, ts) and new Record("punct-plus", ..., ts + 1000).
     */
    static final class Forwarder implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> ctx;

        @Override
        public void init(final ProcessorContext<String, String> context) {
            ctx = context;
            ctx.schedule(Duration.ofMillis(10), PunctuationType.STREAM_TIME, ts -> {
                ctx.forward(new Record<>("punct", "p@" + ts, ts));
                ctx.forward(new Record<>("punct-plus", "p@" + ts + "+1000", ts + 1000));
            });
        }

        @Override
        public void process(final Record<String, String> record) {
            ctx.forward(record.withValue(record.value().toUpperCase()));
        }
    }

    static String forwardInPunctuate() {
        final StringBuilder sb = new StringBuilder();
        sb.append("# Output records (in output order) at the sink for: process() forwards record.withValue(upper(value));")
            .append(" a STREAM_TIME punctuator (interval 10, scheduled in init) forwards new Record(\"punct\", \"p@\"+ts, ts)")
            .append(" then new Record(\"punct-plus\", ..., ts+1000). Format: out key=<k> value=<v> ts=<output record timestamp>.\n");
        final Topology t = new Topology();
        t.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
        t.addProcessor("fwd", Forwarder::new, "src");
        t.addSink("sink", "out", Serdes.String().serializer(), Serdes.String().serializer(), "fwd");
        try (TopologyTestDriver driver = new TopologyTestDriver(t, props(), Instant.ofEpochMilli(1000))) {
            final TestInputTopic<String, String> in =
                driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
            final TestOutputTopic<String, String> out =
                driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
            for (final long ts : new long[] {42, 45, 55}) {
                in.pipeInput("key", "val" + ts, ts);
                sb.append("pipe key=key value=val").append(ts).append(" ts=").append(ts).append('\n');
                for (final TestRecord<String, String> r : out.readRecordsToList()) {
                    sb.append("  out key=").append(r.key()).append(" value=").append(r.value())
                        .append(" ts=").append(r.timestamp()).append('\n');
                }
            }
        }
        return sb.toString();
    }

    static void writeAll(final Path dir) throws Exception {
        GoldenMain.write(dir.resolve("stream_time.txt"), streamTime());
        GoldenMain.write(dir.resolve("wall_clock.txt"), wallClock());
        GoldenMain.write(dir.resolve("stream_time_schedule_later.txt"), streamTimeScheduleLater());
        GoldenMain.write(dir.resolve("forward_in_punctuate.txt"), forwardInPunctuate());
    }
}
