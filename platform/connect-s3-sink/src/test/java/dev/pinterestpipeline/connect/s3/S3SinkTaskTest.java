package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class S3SinkTaskTest {

    private static final String TOPIC = "pinterest.pin";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    private final InMemoryObjectWriter store = new InMemoryObjectWriter();
    private final MutableClock clock = new MutableClock(1_000_000);

    private S3SinkTask startTask(FakeSinkTaskContext context, int flushSize, long rotateMs) {
        Map<String, String> props = new HashMap<>();
        props.put("s3.bucket.name", "pinterest-data-lake");
        props.put("flush.size", String.valueOf(flushSize));
        props.put("rotate.schedule.interval.ms", String.valueOf(rotateMs));
        props.put("retry.backoff.ms", "250");
        S3SinkTask task = new S3SinkTask(config -> store, clock);
        task.initialize(context);
        task.start(props);
        task.open(List.of(P0, P1));
        return task;
    }

    private static SinkRecord record(TopicPartition tp, long offset, Object value) {
        return new SinkRecord(tp.topic(), tp.partition(), null, null, Schema.OPTIONAL_STRING_SCHEMA, value, offset);
    }

    private static List<SinkRecord> pins(TopicPartition tp, long from, int count) {
        List<SinkRecord> records = new ArrayList<>();
        for (long offset = from; offset < from + count; offset++) {
            records.add(record(tp, offset, "{\"index\":" + offset + "}"));
        }
        return records;
    }

    private static Map<TopicPartition, OffsetAndMetadata> consumed(TopicPartition... partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            offsets.put(tp, new OffsetAndMetadata(999));
        }
        return offsets;
    }

    @Test
    void writesAnObjectPerFlushSizeRecordsAndCommitsOnlyWhatIsWritten() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(true), 3, -1);
        task.put(pins(P0, 0, 7));

        assertEquals(List.of(
                "topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json",
                "topics/pinterest.pin/partition=0/pinterest.pin+0+0000000003.json"), store.putKeys);
        assertEquals("{\"index\":0}\n{\"index\":1}\n{\"index\":2}\n",
                store.text("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json"));
        // Offset 6 is still buffered: commit up to 6 (the next record to read), not 7.
        assertEquals(Map.of(P0, new OffsetAndMetadata(6)), task.preCommit(consumed(P0, P1)));
    }

    @Test
    void keepsPartitionsApart() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(true), 2, -1);
        List<SinkRecord> batch = new ArrayList<>(pins(P0, 10, 1));
        batch.addAll(pins(P1, 20, 2));
        batch.addAll(pins(P0, 11, 1));
        task.put(batch);

        assertEquals(List.of(
                "topics/pinterest.pin/partition=1/pinterest.pin+1+0000000020.json",
                "topics/pinterest.pin/partition=0/pinterest.pin+0+0000000010.json"), store.putKeys);
        assertEquals(Map.of(P0, new OffsetAndMetadata(12), P1, new OffsetAndMetadata(22)),
                task.preCommit(consumed(P0, P1)));
    }

    @Test
    void writesSmallBatchesOnceTheRotationIntervalHasPassed() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(true), 1000, 5_000);
        task.put(pins(P0, 0, 2));
        clock.advance(4_999);
        task.put(List.of());
        assertTrue(store.putKeys.isEmpty());
        assertTrue(task.preCommit(consumed(P0)).isEmpty());

        clock.advance(1);
        task.put(List.of()); // the worker calls put with no records while a topic is idle
        assertEquals(List.of("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json"), store.putKeys);
        assertEquals(Map.of(P0, new OffsetAndMetadata(2)), task.preCommit(consumed(P0)));
    }

    @Test
    void reportsBadRecordsAndCommitsPastThemOnceTheirNeighboursAreWritten() {
        FakeSinkTaskContext context = new FakeSinkTaskContext(true);
        S3SinkTask task = startTask(context, 3, -1);
        task.put(List.of(
                record(P0, 0, "{\"index\":0}"),
                record(P0, 1, null),
                record(P0, 2, "not json"),
                record(P0, 3, "{\"index\":3}")));

        assertEquals(List.of(1L, 2L), context.reported.stream().map(r -> r.record().kafkaOffset()).toList());
        context.reported.forEach(r -> assertInstanceOf(DataException.class, r.error()));
        assertTrue(task.preCommit(consumed(P0)).isEmpty(), "offset 0 is not written yet");

        task.put(List.of(record(P0, 4, "{\"index\":4}")));
        assertEquals("{\"index\":0}\n{\"index\":3}\n{\"index\":4}\n",
                store.text("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json"));
        assertEquals(Map.of(P0, new OffsetAndMetadata(5)), task.preCommit(consumed(P0)));
    }

    @Test
    void failsOnABadRecordWhenNoReporterIsConfigured() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(false), 3, -1);
        DataException e = assertThrows(DataException.class, () -> task.put(List.of(record(P0, 8, "oops"))));
        assertTrue(e.getMessage().contains("pinterest.pin-0@8"), e.getMessage());
        assertTrue(e.getMessage().contains("errors.deadletterqueue.topic.name"), e.getMessage());
    }

    @Test
    void retriesTransientFailuresWithoutDuplicatingTheRedeliveredBatch() {
        FakeSinkTaskContext context = new FakeSinkTaskContext(true);
        S3SinkTask task = startTask(context, 2, -1);
        store.failNext(new RetriableException("503 SlowDown"));

        List<SinkRecord> batch = pins(P0, 0, 3);
        assertThrows(RetriableException.class, () -> task.put(batch));
        assertEquals(List.of(250L), context.timeouts);
        assertTrue(task.preCommit(consumed(P0)).isEmpty());

        task.put(batch); // the worker redelivers the same batch after the backoff
        task.put(pins(P0, 3, 1));
        assertEquals(List.of(
                "topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json",
                "topics/pinterest.pin/partition=0/pinterest.pin+0+0000000002.json"), store.putKeys);
        assertEquals("{\"index\":2}\n{\"index\":3}\n",
                store.text("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000002.json"));
        assertEquals(Map.of(P0, new OffsetAndMetadata(4)), task.preCommit(consumed(P0)));
    }

    @Test
    void passesPermanentFailuresOn() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(true), 1, -1);
        ConnectException noBucket = new ConnectException("S3 bucket 'pinterest-data-lake' does not exist");
        store.failNext(noBucket);
        assertSame(noBucket, assertThrows(ConnectException.class, () -> task.put(pins(P0, 0, 1))));
    }

    @Test
    void dropsTheBufferOfAClosedPartitionWithoutCommittingIt() {
        S3SinkTask task = startTask(new FakeSinkTaskContext(true), 10, -1);
        task.put(pins(P0, 0, 4));
        task.close(List.of(P0));
        assertTrue(task.preCommit(consumed(P0)).isEmpty());

        task.open(List.of(P0)); // reassigned: the records come again from the committed offset
        task.put(pins(P0, 0, 10));
        assertEquals(List.of("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json"), store.putKeys);
        assertEquals(10, store.text(store.putKeys.get(0)).lines().count());
    }

    @Test
    void aRestartFromTheCommittedOffsetRewritesTheSameKeys() {
        S3SinkTask first = startTask(new FakeSinkTaskContext(true), 2, -1);
        first.put(pins(P0, 0, 4));
        first.stop(); // crashed before the offsets were committed
        assertTrue(store.closed);
        Map<String, byte[]> before = new HashMap<>(store.objects);

        S3SinkTask second = startTask(new FakeSinkTaskContext(true), 2, -1);
        second.put(pins(P0, 0, 4));
        assertEquals(before.keySet(), store.objects.keySet());
        assertEquals(4, store.putKeys.size(), "the same two keys, each written twice");
    }
}
