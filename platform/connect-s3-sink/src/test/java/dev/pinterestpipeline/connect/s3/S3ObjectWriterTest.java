package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

class S3ObjectWriterTest {

    private static final String BUCKET = "pinterest-data-lake";
    private static final String KEY = "topics/t/partition=0/t+0+0000000000.json";

    private static S3Exception serviceError(int status, String code) {
        return (S3Exception) S3Exception.builder()
                .statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build())
                .message(code)
                .build();
    }

    @ParameterizedTest
    @CsvSource({"500,InternalError", "503,SlowDown", "429,TooManyRequests", "408,RequestTimeout"})
    void treatsServerErrorsAndThrottlingAsTransient(int status, String code) {
        ConnectException e = S3ObjectWriter.translate(serviceError(status, code), BUCKET, KEY);
        assertInstanceOf(RetriableException.class, e);
        assertTrue(e.getMessage().contains(code), e.getMessage());
    }

    @Test
    void treatsIoFailuresAsTransient() {
        SdkClientException refused = SdkClientException.builder()
                .message("Unable to execute HTTP request").cause(new IOException("Connection refused")).build();
        assertInstanceOf(RetriableException.class, S3ObjectWriter.translate(refused, BUCKET, KEY));
    }

    @Test
    void treatsMissingCredentialsAsPermanent() {
        SdkClientException noCredentials = SdkClientException.builder()
                .message("Unable to load credentials from any of the providers in the chain").build();
        ConnectException e = S3ObjectWriter.translate(noCredentials, BUCKET, KEY);
        assertFalse(e instanceof RetriableException);
    }

    @Test
    void namesTheBucketWhenItDoesNotExist() {
        ConnectException e = S3ObjectWriter.translate(serviceError(404, "NoSuchBucket"), BUCKET, KEY);
        assertFalse(e instanceof RetriableException);
        assertTrue(e.getMessage().contains("S3 bucket 'pinterest-data-lake' does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("s3.bucket.name"), e.getMessage());
    }

    @Test
    void pointsAtTheCredentialsWhenAccessIsDenied() {
        ConnectException e = S3ObjectWriter.translate(serviceError(403, "AccessDenied"), BUCKET, KEY);
        assertFalse(e instanceof RetriableException);
        assertTrue(e.getMessage().contains("aws.access.key.id"), e.getMessage());
    }

    @Test
    void buildsAClientForALocalStoreWithoutTouchingTheNetwork() {
        S3SinkConfig config = new S3SinkConfig(Map.of("s3.bucket.name", BUCKET,
                "store.url", "http://localhost:9000",
                "aws.access.key.id", "local", "aws.secret.access.key", "local"));
        try (S3Client client = S3ObjectWriter.buildClient(config)) {
            assertTrue(client.serviceClientConfiguration().endpointOverride().isPresent());
        }
    }
}
