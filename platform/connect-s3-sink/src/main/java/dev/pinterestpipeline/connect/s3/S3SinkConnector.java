package dev.pinterestpipeline.connect.s3;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/** Lands Kafka topics in S3 as JSON lines in the bronze layout of the Confluent S3 sink. */
public class S3SinkConnector extends SinkConnector {

    private Map<String, String> props;

    /** The version in the jar manifest, or "unknown" when run from classes (tests). */
    static String pluginVersion() {
        String version = S3SinkConnector.class.getPackage().getImplementationVersion();
        return version != null ? version : "unknown";
    }

    @Override
    public String version() {
        return pluginVersion();
    }

    @Override
    public void start(Map<String, String> props) {
        new S3SinkConfig(props); // fail at creation, not in every task, when the config is wrong
        this.props = new HashMap<>(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return S3SinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>(maxTasks);
        for (int i = 0; i < maxTasks; i++) {
            configs.add(new HashMap<>(props));
        }
        return configs;
    }

    @Override
    public void stop() {
        props = null;
    }

    @Override
    public ConfigDef config() {
        return S3SinkConfig.CONFIG_DEF;
    }

    /** Adds the cross-key rule (credentials come as a pair) to the per-key checks of the ConfigDef. */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config config = super.validate(connectorConfigs);
        String id = connectorConfigs.get(S3SinkConfig.AWS_ACCESS_KEY_ID);
        String secret = connectorConfigs.get(S3SinkConfig.AWS_SECRET_ACCESS_KEY);
        S3SinkConfig.credentialsPairError(
                        id == null ? null : new Password(id), secret == null ? null : new Password(secret))
                .ifPresent(error -> config.configValues().stream()
                        .filter(value -> value.name().equals(error.key()))
                        .forEach(value -> value.addErrorMessage(error.message())));
        return config;
    }

    /** All state is in the consumer group's offsets, so the worker may reset them freely. */
    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
        return true;
    }
}
