package dev.pinterestpipeline.connect.s3;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Configuration of the S3 sink. Key names and meanings follow Confluent's S3 sink, so one connector
 * config serves this plugin locally and Confluent's on MSK Connect.
 */
public final class S3SinkConfig extends AbstractConfig {

    public static final String S3_BUCKET_NAME = "s3.bucket.name";
    public static final String S3_REGION = "s3.region";
    public static final String STORE_URL = "store.url";
    public static final String S3_PATH_STYLE_ACCESS_ENABLED = "s3.path.style.access.enabled";
    public static final String TOPICS_DIR = "topics.dir";
    public static final String FLUSH_SIZE = "flush.size";
    public static final String ROTATE_SCHEDULE_INTERVAL_MS = "rotate.schedule.interval.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String AWS_ACCESS_KEY_ID = "aws.access.key.id";
    public static final String AWS_SECRET_ACCESS_KEY = "aws.secret.access.key";

    /** Disables rotation by age, as in Confluent's sink. */
    public static final long ROTATION_DISABLED = -1L;

    // S3 bucket naming rules (3-63 characters, lower-case letters, digits, dots and hyphens,
    // starting and ending with a letter or digit).
    private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(S3_BUCKET_NAME, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new BucketNameValidator(),
                    Importance.HIGH, "The S3 bucket the records land in.")
            .define(S3_REGION, Type.STRING, "us-east-1", new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.MEDIUM, "The AWS region of the bucket (used for request signing).")
            .define(STORE_URL, Type.STRING, null, new StoreUrlValidator(), Importance.MEDIUM,
                    "Endpoint of an S3-compatible store, e.g. http://localhost:9000. Empty: AWS S3.")
            .define(S3_PATH_STYLE_ACCESS_ENABLED, Type.BOOLEAN, null, Importance.LOW,
                    "Address the bucket in the path rather than the host name. Default: true when "
                            + STORE_URL + " is set, false otherwise.")
            .define(TOPICS_DIR, Type.STRING, "topics", new TopicsDirValidator(), Importance.MEDIUM,
                    "Top-level prefix of the object keys: <topics.dir>/<topic>/partition=<p>/...")
            .define(FLUSH_SIZE, Type.INT, 1000, ConfigDef.Range.atLeast(1), Importance.HIGH,
                    "Records per object: a partition's object is written once it holds this many records.")
            .define(ROTATE_SCHEDULE_INTERVAL_MS, Type.LONG, 10_000L, new RotationIntervalValidator(),
                    Importance.MEDIUM, "Write a partition's open object once its first record is this many "
                            + "milliseconds old (wall clock), even below flush.size. -1 disables.")
            .define(RETRY_BACKOFF_MS, Type.LONG, 5_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                    "How long the worker waits before redelivering a batch after a transient S3 failure.")
            .define(AWS_ACCESS_KEY_ID, Type.PASSWORD, null, Importance.MEDIUM,
                    "Static access key id; set together with " + AWS_SECRET_ACCESS_KEY
                            + ". Unset: the AWS default credentials chain.")
            .define(AWS_SECRET_ACCESS_KEY, Type.PASSWORD, null, Importance.MEDIUM,
                    "Static secret access key; set together with " + AWS_ACCESS_KEY_ID + ".");

    public S3SinkConfig(Map<String, String> props) {
        super(CONFIG_DEF, props);
        credentialsPairError(getPassword(AWS_ACCESS_KEY_ID), getPassword(AWS_SECRET_ACCESS_KEY))
                .ifPresent(error -> {
                    throw new ConfigException(error.message());
                });
    }

    /** A broken rule that involves more than one key, attached to the key that must change. */
    record KeyError(String key, String message) {
    }

    /** The rule that static credentials come as a pair; empty when the rule holds. */
    static Optional<KeyError> credentialsPairError(Password accessKeyId, Password secretAccessKey) {
        boolean hasId = isSet(accessKeyId);
        boolean hasSecret = isSet(secretAccessKey);
        if (hasId == hasSecret) {
            return Optional.empty();
        }
        String missing = hasId ? AWS_SECRET_ACCESS_KEY : AWS_ACCESS_KEY_ID;
        String present = hasId ? AWS_ACCESS_KEY_ID : AWS_SECRET_ACCESS_KEY;
        return Optional.of(new KeyError(missing, "Invalid value for configuration " + missing + ": it must be set when "
                + present + " is set (static credentials come as a pair; leave both unset for the default chain)"));
    }

    private static boolean isSet(Password password) {
        return password != null && !password.value().isEmpty();
    }

    public String bucketName() {
        return getString(S3_BUCKET_NAME);
    }

    public String region() {
        return getString(S3_REGION);
    }

    public Optional<URI> storeUrl() {
        String url = getString(STORE_URL);
        return url == null || url.isBlank() ? Optional.empty() : Optional.of(URI.create(url.trim()));
    }

    public boolean pathStyleAccess() {
        Boolean explicit = getBoolean(S3_PATH_STYLE_ACCESS_ENABLED);
        return explicit != null ? explicit : storeUrl().isPresent();
    }

    public String topicsDir() {
        return getString(TOPICS_DIR);
    }

    public int flushSize() {
        return getInt(FLUSH_SIZE);
    }

    public long rotateScheduleIntervalMs() {
        return getLong(ROTATE_SCHEDULE_INTERVAL_MS);
    }

    public long retryBackoffMs() {
        return getLong(RETRY_BACKOFF_MS);
    }

    /** Static credentials, if configured; they stay wrapped in {@link Password} (printed as [hidden]). */
    public Optional<StaticCredentials> staticCredentials() {
        Password id = getPassword(AWS_ACCESS_KEY_ID);
        Password secret = getPassword(AWS_SECRET_ACCESS_KEY);
        return isSet(id) && isSet(secret) ? Optional.of(new StaticCredentials(id, secret)) : Optional.empty();
    }

    public record StaticCredentials(Password accessKeyId, Password secretAccessKey) {
    }

    private static final class BucketNameValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !BUCKET_NAME.matcher((String) value).matches() || ((String) value).contains("..")) {
                throw new ConfigException(name, value, "must be an S3 bucket name: 3-63 characters of lower-case "
                        + "letters, digits, '.' and '-', starting and ending with a letter or digit");
            }
        }

        @Override
        public String toString() {
            return "S3 bucket name";
        }
    }

    private static final class StoreUrlValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || ((String) value).isBlank()) {
                return;
            }
            List<String> problems = new ArrayList<>();
            try {
                URI uri = new URI(((String) value).trim());
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                    problems.add("scheme must be http or https");
                }
                if (uri.getHost() == null) {
                    problems.add("a host is required");
                }
            } catch (URISyntaxException e) {
                problems.add("not a URL (" + e.getReason() + ")");
            }
            if (!problems.isEmpty()) {
                throw new ConfigException(name, value, "must be an absolute http(s) URL such as "
                        + "http://localhost:9000: " + String.join(", ", problems));
            }
        }

        @Override
        public String toString() {
            return "empty, or an http(s) URL";
        }
    }

    private static final class TopicsDirValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String dir = (String) value;
            if (dir == null || dir.isBlank() || dir.startsWith("/") || dir.endsWith("/") || dir.contains("//")) {
                throw new ConfigException(name, value,
                        "must be a non-empty key prefix without leading, trailing or doubled '/'");
            }
        }

        @Override
        public String toString() {
            return "key prefix such as topics or bronze/topics";
        }
    }

    private static final class RotationIntervalValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            long interval = (Long) value;
            if (interval != ROTATION_DISABLED && interval < 1) {
                throw new ConfigException(name, value, "must be -1 (disabled) or at least 1 millisecond");
            }
        }

        @Override
        public String toString() {
            return "-1 or [1,...]";
        }
    }
}
