package io.mpvss.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Documents written by the real {@link MaskDocument} validate against kafka-config/masks.schema.json. */
class MaskSchemaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonSchema schema;
    private static JsonNode schemaJson;

    static Path schemaFile() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path f = dir.resolve("kafka-config/masks.schema.json");
            if (Files.isRegularFile(f)) {
                return f;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("kafka-config/masks.schema.json not found above " + Path.of("").toAbsolutePath());
    }

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = Files.newInputStream(schemaFile())) {
            schemaJson = JSON.readTree(in);
        }
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaJson);
    }

    private static MaskDocument document(boolean key) {
        int w = 16;
        int h = 8;
        byte[] labels = new byte[w * h];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (byte) (i % w < 8 ? 0 : (i % 3 == 0 ? 255 : 2));
        }
        long[] counts = new long[3];
        for (byte b : labels) {
            if ((b & 0xFF) < 3) {
                counts[b & 0xFF]++;
            }
        }
        MaskDocument d = new MaskDocument();
        d.setStream("cam-7");
        d.setSeq(key ? 40 : 42);
        d.setCaptureTs(1_764_064_800_000L);
        d.setKeyFrame(key);
        d.setKeySeq(40);
        d.setKeyReason(key ? "interval" : null);
        // the optional key_interval: written on key frames here, absent on the others, so both shapes are checked
        d.setKeyInterval(key ? 7 : null);
        d.setShed(key ? Boolean.TRUE : null); // a key frame is never shed: here only to have every field written
        d.setModel("mpvss-tiny@1.0.0");
        d.setWidth(w);
        d.setHeight(h);
        d.setLabelMapPng(LabelMapPng.encode(labels, w, h));
        Map<String, Long> px = new LinkedHashMap<>();
        px.put("road", counts[0]);
        px.put("sky", counts[1]);
        px.put("car", counts[2]);
        d.classPixels(px);
        d.setProcessingMs(7.25);
        d.setEmittedTs(1_764_064_800_031L);
        return d;
    }

    private static Set<ValidationMessage> validate(JsonNode doc) {
        return schema.validate(doc);
    }

    @Test
    void realDocumentsValidate() throws IOException {
        for (boolean key : new boolean[] {true, false}) {
            byte[] json = document(key).toJson();
            Set<ValidationMessage> errors = validate(JSON.readTree(json));
            assertTrue(errors.isEmpty(), () -> errors + " in " + new String(json));
            // and the round trip through the Java API gives the same document back
            assertEquals(document(key), MaskDocument.fromJson(json));
        }
    }

    @Test
    void schemaDescribesExactlyTheFieldsWritten() throws IOException {
        JsonNode doc = JSON.readTree(document(true).toJson());
        Set<String> written = new TreeSet<>();
        doc.fieldNames().forEachRemaining(written::add);
        Set<String> described = new TreeSet<>();
        schemaJson.get("properties").fieldNames().forEachRemaining(described::add);
        Set<String> required = new TreeSet<>();
        schemaJson.get("required").forEach(n -> required.add(n.asText()));
        assertEquals(described, written);
        // every field is required but the optional ones added within mpvss.masks/1, which old readers may lack
        Set<String> optional = new TreeSet<>(described);
        optional.removeAll(required);
        assertEquals(Set.of("key_interval", "shed"), optional);
        assertFalse(JSON.readTree(document(false).toJson()).has("key_interval"), "absent, not null, when unknown");
        assertFalse(JSON.readTree(document(false).toJson()).has("shed"), "absent unless shed");
    }

    @Test
    void schemaRejectsBrokenDocuments() throws IOException {
        List<String> broken = new ArrayList<>();
        ObjectNode base = (ObjectNode) JSON.readTree(document(false).toJson());
        ObjectNode noSeq = base.deepCopy();
        noSeq.remove("seq");
        ObjectNode badReason = base.deepCopy();
        badReason.put("key_reason", "because");
        ObjectNode notPng = base.deepCopy();
        notPng.put("label_map_png", "aGVsbG8=");
        ObjectNode wrongSchema = base.deepCopy();
        wrongSchema.put("schema", "mpvss.masks/2");
        ObjectNode negativeCount = base.deepCopy();
        ((ObjectNode) negativeCount.get("class_pixels")).put("road", -1);
        ObjectNode zeroInterval = base.deepCopy();
        zeroInterval.put("key_interval", 0);
        for (ObjectNode n : List.of(noSeq, badReason, notPng, wrongSchema, negativeCount, zeroInterval)) {
            if (validate(n).isEmpty()) {
                broken.add(n.toString());
            }
        }
        assertTrue(broken.isEmpty(), "accepted: " + broken);
        assertFalse(validate(base).size() > 0);
    }
}
