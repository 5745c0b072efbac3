package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonLinesEncoderTest {

    private final JsonLinesEncoder encoder = new JsonLinesEncoder();

    private String encode(Object value) {
        return new String(encoder.encode(value), StandardCharsets.UTF_8);
    }

    @Test
    void keepsJsonTextByteForByte() {
        String pin = "{\"index\": 7528, \"title\":  \"Ünïcödé 🎄\", \"follower_count\": \"10k\", \"ratio\": 1.10}";
        assertEquals(pin, encode(pin));
    }

    @Test
    void putsMultiLineJsonTextOnOneLine() {
        String line = encode("{\n  \"ind\": 1,\r\n  \"text\": \"a\\nb\",\n  \"x\": 1.10\n}");
        assertEquals("{\"ind\":1,\"text\":\"a\\nb\",\"x\":1.10}", line);
    }

    @Test
    void acceptsJsonBytesAsUtf8() {
        assertEquals("{\"country\":\"Côte d'Ivoire\"}",
                encode("{\"country\":\"Côte d'Ivoire\"}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void serialisesMapsFromSchemalessJsonConverter() {
        Map<String, Object> geo = new LinkedHashMap<>();
        geo.put("ind", 7528L);
        geo.put("latitude", -89.9787);
        geo.put("tags", List.of("a", "b"));
        geo.put("missing", null);
        assertEquals("{\"ind\":7528,\"latitude\":-89.9787,\"tags\":[\"a\",\"b\"],\"missing\":null}", encode(geo));
    }

    @Test
    void serialisesStructsInFieldOrder() {
        Schema place = SchemaBuilder.struct().field("country", Schema.STRING_SCHEMA).build();
        Schema user = SchemaBuilder.struct()
                .field("ind", Schema.INT32_SCHEMA)
                .field("first_name", Schema.STRING_SCHEMA)
                .field("age", Schema.OPTIONAL_INT32_SCHEMA)
                .field("place", place)
                .build();
        Struct value = new Struct(user)
                .put("ind", 10)
                .put("first_name", "Ada")
                .put("place", new Struct(place).put("country", "Chile"));
        assertEquals("{\"ind\":10,\"first_name\":\"Ada\",\"age\":null,\"place\":{\"country\":\"Chile\"}}",
                encode(value));
    }

    @Test
    void rejectsNullValues() {
        BadRecordException e = assertThrows(BadRecordException.class, () -> encoder.encode(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "{\"ind\": 1", "{\"a\":1} {\"b\":2}", "{\"a\":1} trailing", "", "   "})
    void rejectsTextThatIsNotExactlyOneJsonDocument(String text) {
        assertThrows(BadRecordException.class, () -> encoder.encode(text));
    }

    @Test
    void rejectsBytesThatAreNotUtf8() {
        BadRecordException e = assertThrows(BadRecordException.class,
                () -> encoder.encode(new byte[] {'{', (byte) 0xC3, '}'}));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void rejectsTypesThatAreNotJsonData() {
        BadRecordException e = assertThrows(BadRecordException.class, () -> encoder.encode(new Object()));
        assertTrue(e.getMessage().contains("unsupported value type java.lang.Object"), e.getMessage());
    }
}
