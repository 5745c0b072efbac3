package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ServiceLoader;
import org.apache.kafka.connect.sink.SinkConnector;
import org.junit.jupiter.api.Test;

/** Kafka 4 workers discover plugins through this ServiceLoader manifest. */
class ServiceManifestTest {

    @Test
    void declaresTheConnectorForServiceLoaderDiscovery() {
        assertTrue(ServiceLoader.load(SinkConnector.class).stream()
                .anyMatch(provider -> provider.type() == S3SinkConnector.class));
    }
}
