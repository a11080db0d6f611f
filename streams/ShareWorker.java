/*
 * Share consumers (KIP-932, "queues for Kafka") for the chapter on consumer groups, queues and transactions.
 *
 * Kafka's Java client has KafkaShareConsumer; the course's Python clients do not (confluent-kafka's ShareConsumer
 * needs 2.15+, which Quix Streams does not allow yet). So this program holds the real share consumers and Python
 * drives it through standard input and output, one JSON object per line (kafkalab.share does exactly this):
 *
 *   java -cp "$(python -c 'from kafkalab.cluster.maven import classpath; print(classpath("streams"))')" \
 *       streams/ShareWorker.java <bootstrap> <group> <topic> <consumers> <mode> <max-seconds> [config=value ...]
 *
 * It runs <consumers> KafkaShareConsumers of share group <group>, one thread each, subscribed to <topic>.
 * <mode> decides how records are acknowledged:
 *
 *   ask        explicit acknowledgement: each batch a consumer receives is printed as one "batch" line, and the
 *              consumer waits for one line on standard input, "<consumer> <decision> <decision> ...", one
 *              decision per record: accept, release, reject or renew. It acknowledges each record so, commits,
 *              prints the outcome per partition as an "acked" line, and polls again.
 *   accept     explicit acknowledgement, every record accepted here; batches are printed as in "ask".
 *   count:<n>  implicit acknowledgement (the default mode of a share consumer), nothing printed per record: the
 *              program prints one "done" line once the consumers together received <n> records, and exits.
 *
 * Every line carries "t", the wall-clock time in seconds. The line "stop" on standard input (or its end) closes
 * the consumers cleanly; the program also exits by itself after <max-seconds>, in case Python died first.
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ShareWorker {

    static final ObjectMapper JSON = new ObjectMapper();
    static final AtomicBoolean RUNNING = new AtomicBoolean(true);
    static final AtomicLong RECEIVED = new AtomicLong();
    static final AtomicLong FIRST_NANOS = new AtomicLong();

    /** One line of JSON on standard output; println on one stream is atomic, so threads never mix lines. */
    static void emit(ObjectNode line) {
        line.put("t", System.currentTimeMillis() / 1000.0);
        System.out.println(line.toString());
    }

    static ObjectNode event(String name, int consumer) {
        ObjectNode out = JSON.createObjectNode();
        out.put("event", name);
        out.put("consumer", consumer);
        return out;
    }

    static String oneLine(Throwable e) {
        String msg = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
        return e.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg);
    }

    static AcknowledgeType decision(String word) {
        switch (word) {
            case "accept": return AcknowledgeType.ACCEPT;
            case "release": return AcknowledgeType.RELEASE;
            case "reject": return AcknowledgeType.REJECT;
            case "renew": return AcknowledgeType.RENEW;
            default: throw new IllegalArgumentException("unknown decision " + word);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: ShareWorker <bootstrap> <group> <topic> <consumers> <mode> <max-seconds> [k=v ...]");
            System.exit(2);
        }
        String bootstrap = args[0], group = args[1], topic = args[2], mode = args[4];
        int consumers = Integer.parseInt(args[3]);
        long maxSeconds = Long.parseLong(args[5]);
        long target = mode.startsWith("count:") ? Long.parseLong(mode.substring(6)) : -1;
        boolean explicit = target < 0;

        List<BlockingQueue<String[]>> answers = new ArrayList<>();
        List<KafkaShareConsumer<String, String>> shares = new ArrayList<>();
        for (int i = 0; i < consumers; i++) {
            Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            props.put("group.id", group);
            props.put("client.id", group + "-" + i);
            props.put("share.acknowledgement.mode", explicit ? "explicit" : "implicit");
            for (int a = 6; a < args.length; a++) {
                String[] kv = args[a].split("=", 2);
                props.put(kv[0], kv[1]);
            }
            shares.add(new KafkaShareConsumer<>(props, new StringDeserializer(), new StringDeserializer()));
            answers.add(new LinkedBlockingQueue<>());
        }

        // standard input: answers for the consumers in "ask" mode, or "stop"
        Thread input = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    line = line.trim();
                    if (line.equals("stop")) break;
                    if (line.isEmpty()) continue;
                    String[] words = line.split("\\s+");
                    answers.get(Integer.parseInt(words[0])).put(words);
                }
            } catch (Exception e) {
                System.err.println("input: " + oneLine(e));
            }
            stopAll(shares);
        }, "input");
        input.setDaemon(true);
        input.start();

        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(maxSeconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("ShareWorker: max-seconds reached, stopping");
            stopAll(shares);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < consumers; i++) {
            final int index = i;
            Thread t = new Thread(() -> run(index, shares.get(index), topic, mode, target, answers.get(index)),
                                  "share-" + i);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join();
        System.out.flush();
        System.exit(0);
    }

    static void stopAll(List<KafkaShareConsumer<String, String>> shares) {
        RUNNING.set(false);
        for (KafkaShareConsumer<String, String> c : shares) c.wakeup();
    }

    static void run(int index, KafkaShareConsumer<String, String> consumer, String topic, String mode, long target,
                    BlockingQueue<String[]> answers) {
        long mine = 0;
        try {
            consumer.setAcknowledgementCommitCallback((offsets, exception) -> {
                if (exception == null) return;
                ObjectNode refused = event("refused", index);
                refused.put("error", oneLine(exception));
                ArrayNode list = refused.putArray("offsets");
                offsets.values().forEach(set -> set.forEach(list::add));
                emit(refused);
            });
            consumer.subscribe(List.of(topic));
            emit(event("started", index));
            while (RUNNING.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) continue;
                if (target >= 0) {  // count mode: implicit acknowledgement on the next poll
                    FIRST_NANOS.compareAndSet(0, System.nanoTime());
                    mine += records.count();
                    long total = RECEIVED.addAndGet(records.count());
                    if (total >= target && RUNNING.getAndSet(false)) {
                        double seconds = (System.nanoTime() - FIRST_NANOS.get()) / 1e9;
                        ObjectNode done = event("done", index);
                        done.put("records", total);
                        done.put("seconds", seconds);
                        emit(done);
                    }
                    continue;
                }
                List<ConsumerRecord<String, String>> batch = new ArrayList<>();
                ObjectNode line = event("batch", index);
                ArrayNode out = line.putArray("records");
                for (ConsumerRecord<String, String> r : records) {
                    batch.add(r);
                    ObjectNode rec = out.addObject();
                    rec.put("partition", r.partition());
                    rec.put("offset", r.offset());
                    rec.put("key", r.key());
                    rec.put("value", r.value());
                    Optional<Short> count = r.deliveryCount();
                    rec.put("delivery_count", count.isPresent() ? count.get() : -1);
                }
                consumer.acquisitionLockTimeoutMs().ifPresent(ms -> line.put("lock_ms", ms));
                emit(line);
                String[] words;
                if (mode.equals("ask")) {
                    words = null;
                    while (words == null && RUNNING.get()) words = answers.poll(200, TimeUnit.MILLISECONDS);
                    if (words == null) break;  // stopped while waiting: close without acknowledging
                } else {
                    words = new String[batch.size() + 1];
                    java.util.Arrays.fill(words, "accept");
                }
                if (words.length - 1 != batch.size()) {
                    ObjectNode err = event("error", index);
                    err.put("error", "got " + (words.length - 1) + " decisions for " + batch.size() + " records");
                    emit(err);
                    break;
                }
                for (int k = 0; k < batch.size(); k++) consumer.acknowledge(batch.get(k), decision(words[k + 1]));
                Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync(Duration.ofSeconds(10));
                ObjectNode acked = event("acked", index);
                ArrayNode parts = acked.putArray("partitions");
                for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : result.entrySet()) {
                    ObjectNode p = parts.addObject();
                    p.put("partition", e.getKey().partition());
                    p.put("error", e.getValue().map(ShareWorker::oneLine).orElse(null));
                }
                acked.put("count", batch.size());
                emit(acked);
            }
        } catch (WakeupException e) {
            // stop() or the watchdog: close below
        } catch (Exception e) {
            ObjectNode err = event("error", index);
            err.put("error", oneLine(e));
            emit(err);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (Exception e) {
                System.err.println("close: " + oneLine(e));
            }
            ObjectNode closed = event("closed", index);
            if (target >= 0) closed.put("count", mine);
            emit(closed);
        }
    }
}
