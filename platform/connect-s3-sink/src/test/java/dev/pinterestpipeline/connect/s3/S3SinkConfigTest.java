package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class S3SinkConfigTest {

    private static Map<String, String> props(String... keyValues) {
        Map<String, String> props = new HashMap<>();
        props.put("s3.bucket.name", "pinterest-data-lake");
        for (int i = 0; i < keyValues.length; i += 2) {
            props.put(keyValues[i], keyValues[i + 1]);
        }
        return props;
    }

    @Test
    void hasDefaultsANewcomerCanRun() {
        S3SinkConfig config = new S3SinkConfig(props());
        assertEquals("pinterest-data-lake", config.bucketName());
        assertEquals("us-east-1", config.region());
        assertEquals(Optional.empty(), config.storeUrl());
        assertFalse(config.pathStyleAccess());
        assertEquals("topics", config.topicsDir());
        assertEquals(1000, config.flushSize());
        assertEquals(10_000L, config.rotateScheduleIntervalMs());
        assertEquals(Optional.empty(), config.staticCredentials());
    }

    @Test
    void usesPathStyleForAStoreUrlUnlessToldOtherwise() {
        S3SinkConfig local = new S3SinkConfig(props("store.url", "http://localhost:9000"));
        assertEquals(Optional.of(URI.create("http://localhost:9000")), local.storeUrl());
        assertTrue(local.pathStyleAccess());
        assertFalse(new S3SinkConfig(props("store.url", "http://localhost:9000",
                "s3.path.style.access.enabled", "false")).pathStyleAccess());
    }

    @Test
    void requiresTheBucket() {
        Map<String, String> props = props();
        props.remove("s3.bucket.name");
        ConfigException e = assertThrows(ConfigException.class, () -> new S3SinkConfig(props));
        assertTrue(e.getMessage().contains("s3.bucket.name"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "s3.bucket.name|Pinterest_Lake|must be an S3 bucket name",
        "flush.size|0|Value must be at least 1",
        "rotate.schedule.interval.ms|0|must be -1 (disabled) or at least 1 millisecond",
        "store.url|localhost:9000|must be an absolute http(s) URL",
        "topics.dir|/topics|without leading, trailing or doubled '/'",
        "s3.region|''|String may not be empty",
    })
    void namesTheKeyAndTheRuleOfAnInvalidValue(String key, String value, String rule) {
        ConfigException e = assertThrows(ConfigException.class, () -> new S3SinkConfig(props(key, value)));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        assertTrue(e.getMessage().contains(rule), e.getMessage());
    }

    @Test
    void acceptsRotationDisabled() {
        assertEquals(-1L, new S3SinkConfig(props("rotate.schedule.interval.ms", "-1")).rotateScheduleIntervalMs());
    }

    @Test
    void requiresStaticCredentialsAsAPair() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new S3SinkConfig(props("aws.access.key.id", "AKIDEXAMPLE")));
        assertTrue(e.getMessage().contains("aws.secret.access.key"), e.getMessage());
        assertFalse(e.getMessage().contains("AKIDEXAMPLE"), "credentials never appear in messages");
    }

    @Test
    void keepsCredentialsHidden() {
        S3SinkConfig config = new S3SinkConfig(props("aws.access.key.id", "AKIDEXAMPLE",
                "aws.secret.access.key", "very-secret"));
        S3SinkConfig.StaticCredentials credentials = config.staticCredentials().orElseThrow();
        assertEquals("very-secret", credentials.secretAccessKey().value());
        assertFalse(credentials.toString().contains("very-secret"));
        assertFalse(config.toString().contains("very-secret"));
    }

    @Test
    void connectorValidationReportsTheCredentialsRuleOnTheMissingKey() {
        List<ConfigValue> values = new S3SinkConnector()
                .validate(props("aws.secret.access.key", "very-secret")).configValues();
        ConfigValue accessKeyId = values.stream()
                .filter(v -> v.name().equals("aws.access.key.id")).findFirst().orElseThrow();
        assertEquals(1, accessKeyId.errorMessages().size());
        assertTrue(accessKeyId.errorMessages().get(0).contains("must be set when aws.secret.access.key is set"));
        assertTrue(values.stream().filter(v -> !v.name().equals("aws.access.key.id"))
                .allMatch(v -> v.errorMessages().isEmpty()));
    }
}
