package dev.pinterestpipeline.connect.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/** Records what the task asks of the worker: timeouts and errant records. */
final class FakeSinkTaskContext implements SinkTaskContext {

    record Reported(SinkRecord record, Throwable error) {
    }

    final List<Reported> reported = new ArrayList<>();
    final List<Long> timeouts = new ArrayList<>();
    private final boolean withReporter;

    FakeSinkTaskContext(boolean withReporter) {
        this.withReporter = withReporter;
    }

    @Override
    public ErrantRecordReporter errantRecordReporter() {
        return withReporter ? this::report : null;
    }

    private Future<Void> report(SinkRecord record, Throwable error) {
        reported.add(new Reported(record, error));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void timeout(long timeoutMs) {
        timeouts.add(timeoutMs);
    }

    @Override
    public Map<String, String> configs() {
        return Map.of();
    }

    @Override
    public void offset(Map<TopicPartition, Long> offsets) {
        throw new UnsupportedOperationException("the sink never rewinds");
    }

    @Override
    public void offset(TopicPartition tp, long offset) {
        throw new UnsupportedOperationException("the sink never rewinds");
    }

    @Override
    public Set<TopicPartition> assignment() {
        return Set.of();
    }

    @Override
    public void pause(TopicPartition... partitions) {
        throw new UnsupportedOperationException("the sink never pauses");
    }

    @Override
    public void resume(TopicPartition... partitions) {
        throw new UnsupportedOperationException("the sink never pauses");
    }

    @Override
    public void requestCommit() {
        throw new UnsupportedOperationException("the sink never requests commits");
    }

    @Override
    public PluginMetrics pluginMetrics() {
        return null;
    }
}
