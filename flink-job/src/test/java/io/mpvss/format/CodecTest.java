package io.mpvss.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** Frame decoding, label map PNG, mask document JSON, and the Flink types of the wire records. */
class CodecTest {

    @Test
    void decodesJpegPngAndRaw() throws Exception {
        BufferedImage img = TestFrames.image(64, 48, 1, 3);
        FrameDecoder.Rgb ref = FrameDecoder.toRgb(img);

        FrameDecoder.Rgb png = FrameDecoder.decode(FrameRecord.of("s", 0, 0, TestFrames.encode(img, "png")), 1 << 20);
        assertEquals(64, png.width());
        assertEquals(48, png.height());
        assertArrayEquals(ref.pixels(), png.pixels(), "PNG is lossless");

        FrameDecoder.Rgb jpg = FrameDecoder.decode(FrameRecord.of("s", 0, 0, TestFrames.encode(img, "jpg")), 1 << 20);
        assertEquals(64 * 48 * 3, jpg.pixels().length);
        double err = 0;
        for (int i = 0; i < ref.pixels().length; i++) {
            err += Math.abs((ref.pixels()[i] & 0xff) - (jpg.pixels()[i] & 0xff));
        }
        assertTrue(err / ref.pixels().length < 12, "JPEG is close to the source: mean abs err " + err / ref.pixels().length);

        FrameRecord raw = FrameRecord.of("s", 0, 0, ref.pixels())
                .addHeader(WireFormat.HEADER_WIDTH, "64".getBytes()).addHeader(WireFormat.HEADER_HEIGHT, "48".getBytes());
        assertArrayEquals(ref.pixels(), FrameDecoder.decode(raw, 1 << 20).pixels());
        FrameRecord explicit = FrameRecord.of("s", 0, 0, TestFrames.encode(img, "png"))
                .addHeader(WireFormat.HEADER_ENCODING, "png".getBytes());
        assertArrayEquals(ref.pixels(), FrameDecoder.decode(explicit, 1 << 20).pixels());
    }

    @Test
    void refusesBadFramesWithAnErrorClass() {
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, code(FrameRecord.of("s", 0, 0, new byte[] {1, 2, 3})));
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, code(FrameRecord.of("s", 0, 0, new byte[0])));
        byte[] jpg = TestFrames.jpeg(64, 48, 0, 0);
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, code(FrameRecord.of("s", 0, 0, java.util.Arrays.copyOf(jpg, 30))));
        assertEquals(WireFormat.ERR_OVERSIZED, code(FrameRecord.of("s", 0, 0, jpg), 100));
        FrameRecord rawShort = FrameRecord.of("s", 0, 0, new byte[10])
                .addHeader(WireFormat.HEADER_WIDTH, "4".getBytes()).addHeader(WireFormat.HEADER_HEIGHT, "4".getBytes());
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, code(rawShort));
        FrameRecord rawNoHeight = FrameRecord.of("s", 0, 0, new byte[48]).addHeader(WireFormat.HEADER_WIDTH, "4".getBytes());
        assertEquals(WireFormat.ERR_MISSING_HEADER, code(rawNoHeight));
        FrameRecord badEncoding = FrameRecord.of("s", 0, 0, jpg).addHeader(WireFormat.HEADER_ENCODING, "gif".getBytes());
        assertEquals(WireFormat.ERR_BAD_HEADER, code(badEncoding));
    }

    @Test
    void partialDecodesAreRefusedAsTruncated() throws Exception {
        byte[] jpg = TestFrames.encode(TestFrames.noise(192, 112, 1), "jpg");
        byte[] png = TestFrames.png(192, 112, 1, 1);
        for (byte[] cut : List.of(Arrays.copyOf(jpg, jpg.length / 3), Arrays.copyOf(jpg, jpg.length - 2),
                Arrays.copyOf(png, png.length - 12), Arrays.copyOf(png, png.length / 2))) {
            InvalidFrameException e = assertThrows(InvalidFrameException.class,
                    () -> FrameDecoder.decode(FrameRecord.of("s", 0, 0, cut), 1 << 20));
            assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, e.errorClass());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        // encoders that pad after the end marker with zeros are fine
        byte[] padded = Arrays.copyOf(jpg, jpg.length + 16);
        assertEquals(192, FrameDecoder.decode(FrameRecord.of("s", 0, 0, padded), 1 << 20).width());
        assertNull(FrameDecoder.missingEndMarker(jpg, WireFormat.ENCODING_JPEG));
        assertNull(FrameDecoder.missingEndMarker(png, WireFormat.ENCODING_PNG));
    }

    static String code(FrameRecord r) {
        return code(r, 1 << 24);
    }

    static String code(FrameRecord r, long maxPixels) {
        return assertThrows(InvalidFrameException.class, () -> FrameDecoder.decode(r, maxPixels)).errorClass();
    }

    @Test
    void resizes() {
        byte[] rgb = new byte[4 * 2 * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 10);
        }
        assertEquals(8 * 4 * 3, FrameDecoder.resizeBilinear(rgb, 4, 2, 8, 4).length);
        byte[] flat = new byte[6 * 6 * 3];
        java.util.Arrays.fill(flat, (byte) 77);
        for (byte b : FrameDecoder.resizeBilinear(flat, 6, 6, 4, 9)) {
            assertEquals(77, b);
        }
        byte[] labels = {0, 1, 2, 3};
        assertArrayEquals(new byte[] {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3},
                FrameDecoder.resizeNearest(labels, 2, 2, 4, 4));
        assertArrayEquals(labels, FrameDecoder.resizeNearest(FrameDecoder.resizeNearest(labels, 2, 2, 4, 4), 4, 4, 2, 2));
    }

    @Test
    void labelMapPngRoundTrip() {
        byte[] labels = new byte[37 * 23];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (byte) (i % 7 == 0 ? 255 : i % 19);
        }
        byte[] png = LabelMapPng.encode(labels, 37, 23);
        LabelMapPng.Image back = LabelMapPng.read(png);
        assertEquals(37, back.width());
        assertEquals(23, back.height());
        assertArrayEquals(labels, back.labels());
        assertThrows(IllegalArgumentException.class, () -> LabelMapPng.encode(labels, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> LabelMapPng.read(TestFrames.png(8, 8, 0, 0)));
    }

    static MaskDocument sample() {
        MaskDocument d = new MaskDocument();
        d.setStream("cam-1");
        d.setSeq(42);
        d.setCaptureTs(1_700_000_000_000L);
        d.setKeyFrame(false);
        d.setKeySeq(40);
        d.setModel("m@1");
        d.setWidth(3);
        d.setHeight(2);
        d.setLabelMapPng(LabelMapPng.encode(new byte[] {0, 1, 1, 2, (byte) 255, 0}, 3, 2));
        Map<String, Long> px = new LinkedHashMap<>();
        px.put("road", 2L);
        px.put("sky", 2L);
        px.put("car", 1L);
        d.classPixels(px);
        d.setProcessingMs(3.25);
        d.setEmittedTs(1_700_000_000_100L);
        return d;
    }

    @Test
    void maskDocumentJsonRoundTrip() throws Exception {
        MaskDocument d = sample();
        byte[] json = d.toJson();
        JsonNode n = new ObjectMapper().readTree(json);
        assertEquals(List.of("schema", "stream", "seq", "capture_ts", "key_frame", "key_seq", "key_reason", "model",
                "width", "height", "label_map_png", "class_pixels", "processing_ms", "emitted_ts"),
                iterableToList(n.fieldNames()));
        assertEquals("mpvss.masks/1", n.get("schema").asText());
        assertTrue(n.get("key_reason").isNull());
        assertEquals(List.of("road", "sky", "car"), iterableToList(n.get("class_pixels").fieldNames()));
        assertArrayEquals(d.getLabelMapPng(), Base64.getDecoder().decode(n.get("label_map_png").asText()));
        MaskDocument back = MaskDocument.fromJson(json);
        assertEquals(d, back);
        assertArrayEquals(new byte[] {0, 1, 1, 2, (byte) 255, 0}, back.labels());
        assertNull(back.getKeyReason());
    }

    static List<String> iterableToList(java.util.Iterator<String> it) {
        List<String> l = new java.util.ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }

    @Test
    void wireTypesUseFlinkSerializersNotKryo() throws Exception {
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        for (Class<?> c : List.of(FrameRecord.class, MaskDocument.class)) {
            TypeInformation<?> t = TypeInformation.of(c);
            assertInstanceOf(PojoTypeInfo.class, t, c + " must be a Flink POJO");
            t.createSerializer(noKryo); // throws if any field would need Kryo
        }
        TypeSerializer<MaskDocument> ms = TypeInformation.of(MaskDocument.class).createSerializer(noKryo);
        DataOutputSerializer out = new DataOutputSerializer(256);
        ms.serialize(sample(), out);
        MaskDocument back = ms.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertEquals(sample().classPixels(), back.classPixels());
        assertEquals(List.of("road", "sky", "car"), List.copyOf(back.classPixels().keySet()));

        TypeSerializer<FrameRecord> fs = TypeInformation.of(FrameRecord.class).createSerializer(noKryo);
        FrameRecord r = FrameRecord.of("k", 1, 2, new byte[] {9}).addHeader("x", null);
        r.topic = "frames";
        out.clear();
        fs.serialize(r, out);
        assertEquals(r, fs.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())));
        assertTrue(new ExecutionConfig().getSerializerConfig() != null);
    }
}
