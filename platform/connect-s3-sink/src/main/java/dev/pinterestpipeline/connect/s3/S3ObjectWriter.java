package dev.pinterestpipeline.connect.s3;

import java.io.IOException;
import java.time.Duration;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** Writes objects with one PutObject each and sorts S3 failures into retriable and permanent ones. */
final class S3ObjectWriter implements ObjectWriter {

    private final S3Client s3;
    private final String bucket;

    S3ObjectWriter(S3SinkConfig config) {
        this(buildClient(config), config.bucketName());
    }

    S3ObjectWriter(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    static S3Client buildClient(S3SinkConfig config) {
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(config.region()))
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)))
                .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)))
                .forcePathStyle(config.pathStyleAccess())
                .credentialsProvider(credentialsProvider(config));
        config.storeUrl().ifPresent(url -> builder
                .endpointOverride(url)
                // S3-compatible stores may not accept the SDK's default CRC checksums (sent as
                // aws-chunked trailers), so they are computed only where an operation requires one.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED));
        return builder.build();
    }

    private static AwsCredentialsProvider credentialsProvider(S3SinkConfig config) {
        return config.staticCredentials()
                .<AwsCredentialsProvider>map(c -> StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.accessKeyId().value(), c.secretAccessKey().value())))
                .orElseGet(() -> DefaultCredentialsProvider.builder().build());
    }

    @Override
    public void put(String key, byte[] content) {
        PutObjectRequest request = PutObjectRequest.builder()
                .bucket(bucket)
                .key(key)
                .contentType("application/x-ndjson")
                .build();
        try {
            s3.putObject(request, RequestBody.fromBytes(content));
        } catch (SdkException e) {
            throw translate(e, bucket, key);
        }
    }

    /** Transient failures become {@link RetriableException}; the rest name what to fix. */
    static ConnectException translate(SdkException e, String bucket, String key) {
        String target = "s3://" + bucket + "/" + key;
        if (e instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() != null ? service.awsErrorDetails().errorCode() : null;
            String detail = "HTTP " + status + (code != null ? " " + code : "");
            if (status >= 500 || status == 429 || status == 408 || service.isThrottlingException()) {
                return new RetriableException("Transient S3 failure writing " + target + " (" + detail
                        + "); the batch will be retried", e);
            }
            if ("NoSuchBucket".equals(code) || (status == 404 && code == null)) {
                return new ConnectException("S3 bucket '" + bucket + "' does not exist (" + detail
                        + "): create it or correct " + S3SinkConfig.S3_BUCKET_NAME, e);
            }
            if (status == 403) {
                return new ConnectException("Access denied writing " + target + " (" + detail
                        + "): check the credentials (" + S3SinkConfig.AWS_ACCESS_KEY_ID + "/"
                        + S3SinkConfig.AWS_SECRET_ACCESS_KEY + " or the default chain) and the policy of bucket '"
                        + bucket + "'", e);
            }
            return new ConnectException("S3 rejected writing " + target + " (" + detail + "): "
                    + service.getMessage(), e);
        }
        if (e.retryable() || e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException
                || hasIoCause(e)) {
            return new RetriableException("Could not reach S3 writing " + target + ": " + e.getMessage()
                    + "; the batch will be retried", e);
        }
        return new ConnectException("Failed writing " + target + ": " + e.getMessage(), e);
    }

    // Connection refused, resets and socket timeouts reach us as client exceptions caused by an
    // IOException; other client exceptions (e.g. no credentials found) will not heal by retrying.
    private static boolean hasIoCause(Throwable e) {
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        s3.close();
    }
}
