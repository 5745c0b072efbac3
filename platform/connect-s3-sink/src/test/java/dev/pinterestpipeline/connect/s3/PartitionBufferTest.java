package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class PartitionBufferTest {

    private static byte[] line(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void rotatesBySize() {
        PartitionBuffer buffer = new PartitionBuffer(2, S3SinkConfig.ROTATION_DISABLED);
        buffer.append(5, line("{\"a\":1}"), 0);
        assertFalse(buffer.shouldRotate(Long.MAX_VALUE));
        buffer.append(6, line("{\"a\":2}"), 0);
        assertTrue(buffer.shouldRotate(0));

        PartitionBuffer.Chunk chunk = buffer.chunk();
        assertEquals(5, chunk.startOffset());
        assertEquals(2, chunk.recordCount());
        assertArrayEquals(line("{\"a\":1}\n{\"a\":2}\n"), chunk.content());
    }

    @Test
    void rotatesByAgeOfTheFirstRecord() {
        PartitionBuffer buffer = new PartitionBuffer(100, 5_000);
        assertFalse(buffer.shouldRotate(1_000_000), "an empty buffer never rotates");
        buffer.append(0, line("1"), 1_000);
        buffer.append(1, line("2"), 4_000);
        assertFalse(buffer.shouldRotate(5_999));
        assertTrue(buffer.shouldRotate(6_000));
    }

    @Test
    void commitsNothingUntilAChunkIsWritten() {
        PartitionBuffer buffer = new PartitionBuffer(10, 1_000);
        buffer.append(40, line("1"), 0);
        buffer.append(41, line("2"), 0);
        assertEquals(OptionalLong.empty(), buffer.committableOffset());
        buffer.markWritten();
        assertEquals(OptionalLong.of(42), buffer.committableOffset());
        assertTrue(buffer.isEmpty());
    }

    @Test
    void skippedRecordsCommitAtOnceOnlyWhenNothingIsBufferedBeforeThem() {
        PartitionBuffer buffer = new PartitionBuffer(10, 1_000);
        buffer.skip(0);
        assertEquals(OptionalLong.of(1), buffer.committableOffset());

        buffer.append(1, line("1"), 0);
        buffer.skip(2);
        assertEquals(OptionalLong.of(1), buffer.committableOffset(), "offset 1 is not in S3 yet");
        buffer.markWritten();
        assertEquals(OptionalLong.of(3), buffer.committableOffset());
    }

    @Test
    void recognisesRedeliveredRecords() {
        PartitionBuffer buffer = new PartitionBuffer(10, 1_000);
        assertFalse(buffer.alreadyTaken(0));
        buffer.append(7, line("1"), 0);
        assertTrue(buffer.alreadyTaken(7));
        assertFalse(buffer.alreadyTaken(8));
    }
}
