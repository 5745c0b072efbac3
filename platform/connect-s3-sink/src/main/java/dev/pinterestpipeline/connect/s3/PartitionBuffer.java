package dev.pinterestpipeline.connect.s3;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The open object of one topic partition: the encoded lines not yet in S3, when to rotate them out,
 * and which offset may be committed.
 *
 * <p>Offsets are tracked so that a committed offset never passes a record that is not durable: a record
 * counts as done once its object is written, or once it was handed to the errant record reporter.
 */
final class PartitionBuffer {

    /** One object to write: its first offset (which names it) and its JSON-lines content. */
    record Chunk(long startOffset, int recordCount, byte[] content) {
    }

    private final int flushSize;
    private final long rotateIntervalMs;
    private final List<byte[]> lines = new ArrayList<>();
    private long startOffset = -1;
    private long openedAtMs;
    private long nextOffset = -1;
    private long committableOffset = -1;

    PartitionBuffer(int flushSize, long rotateIntervalMs) {
        this.flushSize = flushSize;
        this.rotateIntervalMs = rotateIntervalMs;
    }

    /** True for a record already taken: the worker redelivers a whole batch after a retriable failure. */
    boolean alreadyTaken(long offset) {
        return nextOffset >= 0 && offset < nextOffset;
    }

    void append(long offset, byte[] line, long nowMs) {
        if (lines.isEmpty()) {
            startOffset = offset;
            openedAtMs = nowMs;
        }
        lines.add(line);
        nextOffset = offset + 1;
    }

    /** A record that was reported as errant instead of buffered. */
    void skip(long offset) {
        nextOffset = offset + 1;
        if (lines.isEmpty()) {
            committableOffset = nextOffset;
        }
    }

    boolean isEmpty() {
        return lines.isEmpty();
    }

    boolean isFull() {
        return lines.size() >= flushSize;
    }

    /** The open object is old enough to be written by the rotation schedule. */
    boolean isDue(long nowMs) {
        return !lines.isEmpty() && rotateIntervalMs != S3SinkConfig.ROTATION_DISABLED
                && nowMs - openedAtMs >= rotateIntervalMs;
    }

    boolean shouldRotate(long nowMs) {
        return isFull() || isDue(nowMs);
    }

    Chunk chunk() {
        if (lines.isEmpty()) {
            throw new IllegalStateException("no buffered records to write");
        }
        int size = lines.stream().mapToInt(line -> line.length + 1).sum();
        ByteArrayOutputStream content = new ByteArrayOutputStream(size);
        for (byte[] line : lines) {
            content.writeBytes(line);
            content.write('\n');
        }
        return new Chunk(startOffset, lines.size(), content.toByteArray());
    }

    /** The chunk is in S3: everything taken so far (written or reported) may be committed. */
    void markWritten() {
        lines.clear();
        startOffset = -1;
        committableOffset = nextOffset;
    }

    /** The offset to commit (the next one to read), if any record of this partition is done. */
    OptionalLong committableOffset() {
        return committableOffset < 0 ? OptionalLong.empty() : OptionalLong.of(committableOffset);
    }
}
