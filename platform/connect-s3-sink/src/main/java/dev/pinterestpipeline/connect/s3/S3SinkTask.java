package dev.pinterestpipeline.connect.s3;

import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers each assigned partition's records as JSON lines and writes an object per partition once it
 * holds {@code flush.size} records or is {@code rotate.schedule.interval.ms} old.
 *
 * <p>Delivery is at least once: {@link #preCommit} commits a partition only up to the last record that is
 * in S3 (or was reported as errant), and an object's key is its first offset, so a replay after a crash
 * rewrites the same keys.
 */
public class S3SinkTask extends SinkTask {

    private static final Logger log = LoggerFactory.getLogger(S3SinkTask.class);

    private final Function<S3SinkConfig, ObjectWriter> writerFactory;
    private final Clock clock;
    private final JsonLinesEncoder encoder = new JsonLinesEncoder();
    private final Map<TopicPartition, PartitionBuffer> buffers = new HashMap<>();

    private S3SinkConfig config;
    private ObjectKeyFormat keyFormat;
    private ObjectWriter writer;
    private ErrantRecordReporter reporter;

    public S3SinkTask() {
        this(S3ObjectWriter::new, Clock.systemUTC());
    }

    S3SinkTask(Function<S3SinkConfig, ObjectWriter> writerFactory, Clock clock) {
        this.writerFactory = writerFactory;
        this.clock = clock;
    }

    @Override
    public String version() {
        return S3SinkConnector.pluginVersion();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new S3SinkConfig(props);
        keyFormat = new ObjectKeyFormat(config.topicsDir());
        writer = writerFactory.apply(config);
        reporter = context.errantRecordReporter();
        log.info("S3 sink task writing to bucket '{}' under '{}' (flush.size={}, rotate.schedule.interval.ms={}, "
                        + "errant record reporter {})", config.bucketName(), config.topicsDir(), config.flushSize(),
                config.rotateScheduleIntervalMs(), reporter != null ? "configured" : "absent");
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        partitions.forEach(this::bufferFor);
        log.info("Opened partitions {}", partitions);
    }

    /** Revoked partitions lose their open buffer uncommitted: the new owner reads those records again. */
    @Override
    public void close(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            PartitionBuffer dropped = buffers.remove(partition);
            if (dropped != null && !dropped.isEmpty()) {
                log.info("Closed partition {} with an unwritten buffer; its records will be redelivered", partition);
            }
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        // Objects whose write failed before a redelivery, and objects that aged while no records came.
        writeRotatable();
        for (SinkRecord record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.kafkaPartition());
            PartitionBuffer buffer = bufferFor(partition);
            long offset = record.kafkaOffset();
            if (buffer.alreadyTaken(offset)) {
                continue;
            }
            byte[] line;
            try {
                line = encoder.encode(record.value());
            } catch (BadRecordException e) {
                reportErrant(record, e);
                buffer.skip(offset);
                continue;
            }
            buffer.append(offset, line, clock.millis());
            if (buffer.isFull()) {
                write(partition, buffer);
            }
        }
        writeRotatable();
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        Map<TopicPartition, OffsetAndMetadata> committable = new HashMap<>();
        for (TopicPartition partition : currentOffsets.keySet()) {
            PartitionBuffer buffer = buffers.get(partition);
            if (buffer == null) {
                continue;
            }
            OptionalLong offset = buffer.committableOffset();
            if (offset.isPresent()) {
                committable.put(partition, new OffsetAndMetadata(offset.getAsLong()));
            }
        }
        return committable;
    }

    @Override
    public void stop() {
        buffers.clear();
        if (writer != null) {
            writer.close();
            writer = null;
        }
    }

    private PartitionBuffer bufferFor(TopicPartition partition) {
        return buffers.computeIfAbsent(partition,
                p -> new PartitionBuffer(config.flushSize(), config.rotateScheduleIntervalMs()));
    }

    private void writeRotatable() {
        long now = clock.millis();
        for (Map.Entry<TopicPartition, PartitionBuffer> entry : buffers.entrySet()) {
            if (entry.getValue().shouldRotate(now)) {
                write(entry.getKey(), entry.getValue());
            }
        }
    }

    private void write(TopicPartition partition, PartitionBuffer buffer) {
        PartitionBuffer.Chunk chunk = buffer.chunk();
        String key = keyFormat.keyFor(partition.topic(), partition.partition(), chunk.startOffset());
        try {
            writer.put(key, chunk.content());
        } catch (RetriableException e) {
            // The buffer stays as it is; the worker redelivers the batch after the backoff.
            context.timeout(config.retryBackoffMs());
            throw e;
        }
        buffer.markWritten();
        log.debug("Wrote {} records ({} bytes) to {}", chunk.recordCount(), chunk.content().length, key);
    }

    private void reportErrant(SinkRecord record, BadRecordException cause) {
        String where = record.topic() + "-" + record.kafkaPartition() + "@" + record.kafkaOffset();
        if (reporter == null) {
            throw new DataException("Record " + where + " cannot be written as a JSON line: " + cause.getMessage()
                    + ". Set errors.tolerance=all and errors.deadletterqueue.topic.name to route such records"
                    + " to a dead-letter topic", cause);
        }
        log.warn("Reporting record {} as errant: {}", where, cause.getMessage());
        reporter.report(record, cause);
    }
}
