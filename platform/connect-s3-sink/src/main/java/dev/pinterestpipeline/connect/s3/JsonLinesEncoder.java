package dev.pinterestpipeline.connect.s3;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * Turns one record value into one line of a JSON-lines object (UTF-8, without the trailing '\n').
 *
 * <p>Text values (StringConverter, ByteArrayConverter) must already be one JSON document and are kept
 * byte for byte; structured values (JsonConverter gives Map/List, schemaful converters give Struct) are
 * serialised with Jackson.
 */
final class JsonLinesEncoder {

    // Trailing tokens would mean two documents (or junk) on one line; exact big decimals keep a
    // re-serialised number as it was sent (1.10 stays 1.10).
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    byte[] encode(Object value) {
        if (value == null) {
            throw new BadRecordException("value is null (a tombstone or an empty message), not a JSON document");
        }
        if (value instanceof String text) {
            return jsonText(text);
        }
        if (value instanceof byte[] bytes) {
            return jsonText(decodeUtf8(bytes));
        }
        if (value instanceof Struct || value instanceof Map || value instanceof Collection
                || value instanceof Number || value instanceof Boolean) {
            try {
                return MAPPER.writeValueAsBytes(plain(value));
            } catch (JacksonException e) {
                throw new BadRecordException("value of type " + value.getClass().getName()
                        + " cannot be serialised as JSON: " + e.getOriginalMessage(), e);
            }
        }
        throw new BadRecordException("unsupported value type " + value.getClass().getName()
                + "; expected a JSON string, bytes, Map, List or Struct");
    }

    private static byte[] jsonText(String text) {
        JsonNode document;
        try {
            document = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new BadRecordException("value is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (document == null || document.isMissingNode()) {
            throw new BadRecordException("value is empty or blank, not a JSON document");
        }
        // Raw line breaks can only sit between tokens (inside strings JSON escapes them); they would split
        // the document over lines, so such a document is re-serialised compactly instead.
        if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
            try {
                return MAPPER.writeValueAsBytes(document);
            } catch (JacksonException e) {
                throw new BadRecordException("value could not be re-serialised on one line: "
                        + e.getOriginalMessage(), e);
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String decodeUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadRecordException("value bytes are not valid UTF-8", e);
        }
    }

    /** Connect data as plain maps and lists, field order kept, so Jackson needs no Connect knowledge. */
    private static Object plain(Object value) {
        if (value instanceof Struct struct) {
            Map<String, Object> fields = new LinkedHashMap<>();
            for (Field field : struct.schema().fields()) {
                fields.put(field.name(), plain(struct.get(field)));
            }
            return fields;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> entries = new LinkedHashMap<>();
            map.forEach((key, entry) -> entries.put(String.valueOf(key), plain(entry)));
            return entries;
        }
        if (value instanceof Collection<?> collection) {
            List<Object> items = new ArrayList<>(collection.size());
            collection.forEach(item -> items.add(plain(item)));
            return items;
        }
        return value;
    }
}
