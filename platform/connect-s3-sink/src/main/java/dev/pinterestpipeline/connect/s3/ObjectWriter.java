package dev.pinterestpipeline.connect.s3;

/** Where finished objects go: S3 in production, memory in tests. */
interface ObjectWriter extends AutoCloseable {

    /**
     * Writes the whole object, replacing any object with the same key.
     *
     * @throws org.apache.kafka.connect.errors.RetriableException when the failure is transient
     * @throws org.apache.kafka.connect.errors.ConnectException when retrying cannot help
     */
    void put(String key, byte[] content);

    @Override
    void close();
}
