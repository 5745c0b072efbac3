package dev.pinterestpipeline.connect.s3;

/**
 * Names bronze objects the way Confluent's S3 sink does (spec §3):
 * {@code <topics.dir>/<topic>/partition=<p>/<topic>+<p>+<start offset, 10 digits>.json}.
 * The key depends only on the first offset of the object, so rewriting an object after a restart
 * replaces it instead of adding a copy.
 */
final class ObjectKeyFormat {

    private final String topicsDir;

    ObjectKeyFormat(String topicsDir) {
        this.topicsDir = topicsDir;
    }

    String keyFor(String topic, int partition, long startOffset) {
        if (startOffset < 0) {
            throw new IllegalArgumentException("start offset must be >= 0, got " + startOffset);
        }
        return String.format("%s/%s/partition=%d/%s+%d+%010d.json",
                topicsDir, topic, partition, topic, partition, startOffset);
    }
}
