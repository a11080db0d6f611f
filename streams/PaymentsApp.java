/*
 * The Kafka Streams application of Chapter 5, "Building real-time stream processing applications".
 *
 * Run it without a build tool, with Java's single-file source launcher and the jars Maven resolved
 * (kafkalab.streams.jvm does exactly this):
 *
 *   java -cp "$(python -c 'from kafkalab.cluster.maven import classpath; print(classpath("streams"))')" \
 *       streams/PaymentsApp.java <bootstrap> <application.id> <processing.guarantee> <state.dir> \
 *       <topic-prefix> <max-seconds> [streams.config=value ...]
 *
 * Topology (topics are named after <topic-prefix>, e.g. "streams"):
 *
 *   <prefix>-payments  (KStream: every payment is an event)
 *      -> filter     keep payments of at least MIN_AMOUNT euros
 *      -> mapValues  keep payment_id and merchant, amount in whole cents
 *      -> join       look up the customer's tier in the KTable read from <prefix>-customers
 *      -> to         <prefix>-enriched
 *      -> groupByKey + aggregate   count and sum of cents per customer, in the state store "totals-store"
 *      -> to         <prefix>-totals  (every update of a customer's totals)
 *
 * Extra settings select the group protocol: group.protocol=streams makes the instances a streams group whose
 * tasks the broker assigns (KIP-1071, Kafka 4.2+); without it they form a classic consumer group.
 *
 * The process prints the group protocol it uses, then one marker line per state change
 * ("kafkalab-streams state RUNNING"), and stops by itself after <max-seconds> as a safety net.
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;

public class PaymentsApp {

    /** Payments below this amount (euros) are dropped by the filter. */
    static final double MIN_AMOUNT = 10.0;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MARKER = "kafkalab-streams";
    private static KafkaStreams.State lastReported;

    /** Print a state change for the Python side, once per change (the listener and the closers may both call). */
    static synchronized void report(KafkaStreams.State state) {
        if (state != lastReported) {
            lastReported = state;
            System.out.println(MARKER + " state " + state);
        }
    }
    /**
     * A clean close: up to 10 s to commit and flush, then leave the group. (KafkaStreams.close() alone leaves a
     * classic group's member in place until its session times out, expecting it to come back.)
     */
    static final CloseOptions CLEAN_CLOSE = CloseOptions.groupMembershipOperation(
            CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(10));

    /** mapValues: the fields the rest of the topology needs, with the amount in whole cents. */
    static String slim(String payment) {
        JsonNode p = read(payment);
        ObjectNode out = JSON.createObjectNode();
        out.put("payment_id", p.get("payment_id").asText());
        out.put("merchant", p.get("merchant").asText());
        out.put("amount_cents", Math.round(p.get("amount").asDouble() * 100));
        return out.toString();
    }

    /** The join's value joiner: the payment plus the tier found in the customer table. */
    static String withTier(String payment, String customer) {
        ObjectNode out = (ObjectNode) read(payment);
        out.put("tier", read(customer).get("tier").asText());
        return out.toString();
    }

    /** The aggregator: add one payment to a customer's running count and sum. */
    static String add(String payment, String totals) {
        JsonNode t = read(totals);
        ObjectNode out = JSON.createObjectNode();
        out.put("count", t.get("count").asLong() + 1);
        out.put("sum_cents", t.get("sum_cents").asLong() + read(payment).get("amount_cents").asLong());
        return out.toString();
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("not JSON: " + json, e);
        }
    }

    static Topology topology(String prefix, Properties props) {
        StreamsBuilder builder = new StreamsBuilder();

        KTable<String, String> customers = builder.table(prefix + "-customers",
                Consumed.with(Serdes.String(), Serdes.String()).withName("customers"),
                Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("customers-store"));

        KStream<String, String> enriched = builder
                .stream(prefix + "-payments", Consumed.with(Serdes.String(), Serdes.String()).withName("payments-source"))
                .filter((customerId, payment) -> read(payment).get("amount").asDouble() >= MIN_AMOUNT,
                        Named.as("at-least-10-eur"))
                .mapValues(PaymentsApp::slim, Named.as("to-cents"))
                .join(customers, PaymentsApp::withTier, Joined.<String, String, String>as("join-tier"));
        enriched.to(prefix + "-enriched", Produced.with(Serdes.String(), Serdes.String()).withName("enriched-sink"));

        enriched.groupByKey()
                .aggregate(() -> "{\"count\":0,\"sum_cents\":0}",
                        (customerId, payment, totals) -> add(payment, totals),
                        Named.as("count-and-sum"),
                        Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("totals-store")
                                .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
                .toStream(Named.as("totals-updates"))
                .to(prefix + "-totals", Produced.with(Serdes.String(), Serdes.String()).withName("totals-sink"));
        // build(props) applies topology.optimization: the customers topic becomes the table's changelog
        return builder.build(props);
    }

    /** The settings this course changes from Kafka Streams' defaults (the command line adds the rest). */
    static Properties baseProps() {
        Properties props = new Properties();
        // No record cache: every update of a store reaches its changelog and the output topic at once
        // (the default 10 MB cache merges updates of the same key until the next commit).
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // The compacted customers topic serves as the table's changelog (no extra internal topic for it).
        props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        props.put("auto.offset.reset", "earliest");
        return props;
    }

    /**
     * Liveness settings of the CLASSIC group protocol: a killed instance leaves the group after 6 s (the broker's
     * minimum, group.min.session.timeout.ms) instead of 45 s. Under group.protocol=streams the broker decides them
     * (group.streams.session.timeout.ms and group.streams.heartbeat.interval.ms, or the group's own
     * streams.session.timeout.ms / streams.heartbeat.interval.ms set with kafka-configs): Kafka Streams ignores
     * these two client settings there, so the app only sets them for the classic protocol.
     */
    static void classicLiveness(Properties props) {
        if (!"streams".equalsIgnoreCase(props.getProperty(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic"))) {
            props.putIfAbsent("session.timeout.ms", 6000);
            props.putIfAbsent("heartbeat.interval.ms", 1500);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("describe")) {  // print the topology and exit: no broker needed
            System.out.println(topology(args[1], baseProps()).describe());
            return;
        }
        if (args.length < 6) {
            System.err.println("usage: PaymentsApp describe <topic-prefix>\n"
                    + "       PaymentsApp <bootstrap> <application.id> <processing.guarantee> <state.dir> "
                    + "<topic-prefix> <max-seconds> [streams.config=value ...]");
            System.exit(2);
        }
        Properties props = baseProps();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[2]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[3]);
        for (int i = 6; i < args.length; i++) {  // extra settings, e.g. commit.interval.ms=60000
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        classicLiveness(props);
        String prefix = args[4];
        long maxSeconds = Long.parseLong(args[5]);
        System.out.println(MARKER + " group.protocol " + props.getProperty(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic"));

        Topology topology = topology(prefix, props);
        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean failed = new AtomicBoolean(false);
        streams.setStateListener((now, before) -> {
            report(now);
            if (now == KafkaStreams.State.ERROR) {
                failed.set(true);
            }
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                done.countDown();
            }
        });
        // Report each store that was rebuilt from its changelog topic at start-up (local state was missing or old).
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition partition, String store, long startOffset, long endOffset) {
            }

            @Override
            public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long restored) {
            }

            @Override
            public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
                System.out.println(MARKER + " restored " + store + " partition " + partition.partition() + ": "
                        + totalRestored + " records from " + partition.topic());
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.out.println(MARKER + " error " + e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        // SIGTERM (and Ctrl-C) close the application cleanly: commit, flush, release the state directory, and
        // leave the group, so that the next instance gets the tasks at once instead of after the session timeout.
        // close() wakes up as soon as the state is NOT_RUNNING, which can be before the listener has printed it;
        // the hook reports the final state itself (once) so that the JVM cannot halt with it unsaid.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(CLEAN_CLOSE);
            report(streams.state());
            done.countDown();
        }));

        streams.start();
        if (!done.await(maxSeconds, TimeUnit.SECONDS)) {
            System.out.println(MARKER + " time limit of " + maxSeconds + " s reached, closing");
        }
        streams.close(CLEAN_CLOSE);
        report(streams.state());
        System.out.println(MARKER + " closed");
        System.exit(failed.get() ? 1 : 0);
    }
}
