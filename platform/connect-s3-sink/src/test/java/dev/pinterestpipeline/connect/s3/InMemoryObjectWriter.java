package dev.pinterestpipeline.connect.s3;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An object store in a map; failures queued with {@link #failNext} are thrown by the next puts. */
final class InMemoryObjectWriter implements ObjectWriter {

    final Map<String, byte[]> objects = new LinkedHashMap<>();
    final List<String> putKeys = new ArrayList<>();
    private final Deque<RuntimeException> failures = new ArrayDeque<>();
    boolean closed;

    void failNext(RuntimeException failure) {
        failures.add(failure);
    }

    String text(String key) {
        byte[] content = objects.get(key);
        return content == null ? null : new String(content, StandardCharsets.UTF_8);
    }

    @Override
    public void put(String key, byte[] content) {
        if (!failures.isEmpty()) {
            throw failures.poll();
        }
        putKeys.add(key);
        objects.put(key, content.clone());
    }

    @Override
    public void close() {
        closed = true;
    }
}
