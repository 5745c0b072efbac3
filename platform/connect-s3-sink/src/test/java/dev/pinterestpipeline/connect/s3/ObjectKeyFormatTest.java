package dev.pinterestpipeline.connect.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ObjectKeyFormatTest {

    @Test
    void namesObjectsInTheConfluentBronzeLayout() {
        ObjectKeyFormat keys = new ObjectKeyFormat("topics");
        assertEquals("topics/pinterest.pin/partition=0/pinterest.pin+0+0000000000.json",
                keys.keyFor("pinterest.pin", 0, 0));
        assertEquals("topics/pinterest.geo/partition=3/pinterest.geo+3+0000001500.json",
                keys.keyFor("pinterest.geo", 3, 1500));
    }

    @Test
    void keepsOffsetsLongerThanTenDigitsWhole() {
        assertEquals("bronze/topics/t/partition=1/t+1+12345678901.json",
                new ObjectKeyFormat("bronze/topics").keyFor("t", 1, 12_345_678_901L));
    }

    @Test
    void rejectsNegativeOffsets() {
        assertThrows(IllegalArgumentException.class, () -> new ObjectKeyFormat("topics").keyFor("t", 0, -1));
    }
}
