package io.mpvss.format;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes the value of a {@code frames} record to packed RGB24 (row-major, 3 bytes per pixel) and resizes between
 * the frame's resolution and the model's. Decoding happens after keyBy, in the keyed operator, so that the network
 * between source and operator carries the compressed image.
 *
 * <p>Rules (docs/formats.md): the encoding is the {@code mpvss.encoding} header if present, else sniffed from the
 * magic bytes (JPEG FF D8 FF, PNG 89 50 4E 47); anything else is raw RGB24 only when both {@code mpvss.width} and
 * {@code mpvss.height} headers are present and the value has exactly width*height*3 bytes. Every failure is an
 * {@link InvalidFrameException} with a machine code; nothing here throws anything else for bad input.
 */
public final class FrameDecoder {

    static {
        ImageIO.setUseCache(false);
    }

    /** A decoded frame: packed RGB, row-major. */
    public record Rgb(byte[] pixels, int width, int height) {}

    private FrameDecoder() {}

    /** Decodes with the default pixel limit of {@code maxPixels}. */
    public static Rgb decode(FrameRecord record, long maxPixels) throws InvalidFrameException {
        byte[] v = record.value;
        if (v == null || v.length == 0) {
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "record value is empty");
        }
        String enc = record.headerString(WireFormat.HEADER_ENCODING);
        if (enc != null) {
            enc = enc.trim().toLowerCase(Locale.ROOT);
            if (!enc.equals(WireFormat.ENCODING_JPEG) && !enc.equals(WireFormat.ENCODING_PNG)
                    && !enc.equals(WireFormat.ENCODING_RGB24)) {
                throw new InvalidFrameException(WireFormat.ERR_BAD_HEADER,
                        "header " + WireFormat.HEADER_ENCODING + " must be jpeg|png|rgb24, found '"
                                + WireFormat.abbreviate(enc) + "'");
            }
        } else {
            enc = sniff(v);
        }
        if (enc == null) {
            if (record.header(WireFormat.HEADER_WIDTH) != null || record.header(WireFormat.HEADER_HEIGHT) != null) {
                enc = WireFormat.ENCODING_RGB24;
            } else {
                throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE,
                        "value is neither JPEG nor PNG (no magic bytes) and has no raw width/height headers");
            }
        }
        if (enc.equals(WireFormat.ENCODING_RGB24)) {
            return decodeRaw(record, v, maxPixels);
        }
        return decodeImage(v, enc, maxPixels);
    }

    /**
     * The image size a record declares (JPEG/PNG header, or the raw width/height headers), without decoding the
     * pixels: {@code {width, height}}. For frames that are not decoded at all (shed under overload).
     */
    public static int[] declaredSize(FrameRecord record) throws InvalidFrameException {
        byte[] v = record.value;
        if (v == null || v.length == 0) {
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "record value is empty");
        }
        String enc = sniff(v);
        if (enc == null) {
            if (record.header(WireFormat.HEADER_WIDTH) == null && record.header(WireFormat.HEADER_HEIGHT) == null) {
                throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE,
                        "value is neither JPEG nor PNG (no magic bytes) and has no raw width/height headers");
            }
            long w = WireFormat.longHeader(record, WireFormat.HEADER_WIDTH);
            long h = WireFormat.longHeader(record, WireFormat.HEADER_HEIGHT);
            return new int[] {(int) w, (int) h};
        }
        try {
            return withReader(v, enc, reader -> new int[] {reader.getWidth(0), reader.getHeight(0)});
        } catch (IOException | RuntimeException e) {
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "unreadable " + enc + " header: "
                    + e.getMessage());
        }
    }

    static String sniff(byte[] v) {
        if (v.length >= 3 && (v[0] & 0xff) == 0xFF && (v[1] & 0xff) == 0xD8 && (v[2] & 0xff) == 0xFF) {
            return WireFormat.ENCODING_JPEG;
        }
        if (v.length >= 4 && (v[0] & 0xff) == 0x89 && v[1] == 'P' && v[2] == 'N' && v[3] == 'G') {
            return WireFormat.ENCODING_PNG;
        }
        return null;
    }

    private static Rgb decodeRaw(FrameRecord record, byte[] v, long maxPixels) throws InvalidFrameException {
        long w = WireFormat.longHeader(record, WireFormat.HEADER_WIDTH);
        long h = WireFormat.longHeader(record, WireFormat.HEADER_HEIGHT);
        if (w <= 0 || h <= 0) {
            throw new InvalidFrameException(WireFormat.ERR_BAD_HEADER, "raw frame size must be positive, found " + w + "x" + h);
        }
        if (w * h > maxPixels) {
            throw new InvalidFrameException(WireFormat.ERR_OVERSIZED,
                    "raw frame " + w + "x" + h + " exceeds " + maxPixels + " pixels");
        }
        if (v.length != w * h * 3) {
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE,
                    "raw RGB24 " + w + "x" + h + " needs " + (w * h * 3) + " bytes, found " + v.length);
        }
        return new Rgb(v, (int) w, (int) h);
    }

    /** What is done with an image reader set on a value. */
    private interface ReaderWork<T> {
        T apply(ImageReader reader) throws IOException, InvalidFrameException;
    }

    /** Runs {@code work} with ImageIO's reader for the value, disposed after. */
    private static <T> T withReader(byte[] v, String enc, ReaderWork<T> work) throws IOException, InvalidFrameException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(v))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "no " + enc + " image in the value");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return work.apply(reader);
            } finally {
                reader.dispose();
            }
        }
    }

    private static Rgb decodeImage(byte[] v, String enc, long maxPixels) throws InvalidFrameException {
        try {
            return withReader(v, enc, reader -> {
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                // Check the declared size before allocating, so a small record cannot claim a huge image.
                if (w * h > maxPixels) {
                    throw new InvalidFrameException(WireFormat.ERR_OVERSIZED,
                            "image " + w + "x" + h + " exceeds " + maxPixels + " pixels");
                }
                // ImageIO fills what it cannot read of a cut-off image with grey and only warns: a partial decode would
                // get a mask of a half-grey picture, so a warning or a missing end marker makes it a dead letter.
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage img = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE,
                            "truncated or corrupt " + enc + " (decoded only partially): " + warnings.get(0));
                }
                String missingEnd = missingEndMarker(v, enc);
                if (missingEnd != null) {
                    throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "truncated " + enc + ": "
                            + missingEnd);
                }
                return toRgb(img);
            });
        } catch (InvalidFrameException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String missingEnd = missingEndMarker(v, enc);
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, (missingEnd != null
                    ? "truncated " + enc + " (" + missingEnd + "): " : "cannot decode " + enc + ": ") + e.getMessage(), e);
        }
    }

    private static final byte[] PNG_IEND = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};

    /**
     * Why the value does not end as a complete image does, or null: a JPEG ends with the end-of-image marker FF D9
     * (trailing zero bytes, which some encoders pad with, are allowed), a PNG with its IEND chunk.
     */
    static String missingEndMarker(byte[] v, String enc) {
        if (enc.equals(WireFormat.ENCODING_JPEG)) {
            int end = v.length;
            while (end > 0 && v[end - 1] == 0) {
                end--;
            }
            if (end < 2 || (v[end - 2] & 0xff) != 0xFF || (v[end - 1] & 0xff) != 0xD9) {
                return "no end-of-image marker (FF D9) at the end of its " + v.length + " bytes";
            }
        } else if (enc.equals(WireFormat.ENCODING_PNG)) {
            if (v.length < PNG_IEND.length || !Arrays.equals(v, v.length - PNG_IEND.length, v.length, PNG_IEND, 0,
                    PNG_IEND.length)) {
                return "no IEND chunk at the end of its " + v.length + " bytes";
            }
        }
        return null;
    }

    /** Packed RGB of any BufferedImage (alpha dropped). */
    public static Rgb toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        if (img.getType() == BufferedImage.TYPE_3BYTE_BGR
                && img.getRaster().getDataBuffer() instanceof DataBufferByte db
                && db.getData().length == out.length) {
            byte[] bgr = db.getData();
            for (int i = 0; i < out.length; i += 3) {
                out[i] = bgr[i + 2];
                out[i + 1] = bgr[i + 1];
                out[i + 2] = bgr[i];
            }
        } else if (img.getType() == BufferedImage.TYPE_BYTE_GRAY
                && img.getRaster().getDataBuffer() instanceof DataBufferByte db
                && db.getData().length == w * h) {
            byte[] g = db.getData();
            for (int i = 0, j = 0; i < g.length; i++, j += 3) {
                out[j] = g[i];
                out[j + 1] = g[i];
                out[j + 2] = g[i];
            }
        } else {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0, j = 0; i < argb.length; i++, j += 3) {
                out[j] = (byte) (argb[i] >> 16);
                out[j + 1] = (byte) (argb[i] >> 8);
                out[j + 2] = (byte) argb[i];
            }
        }
        return new Rgb(out, w, h);
    }

    /**
     * Bilinear resize of packed RGB with half-pixel centres (the convention of PIL, OpenCV and
     * {@code F.interpolate(align_corners=False)}), without antialiasing (so large downscales alias; send frames near
     * the model's size); returns the input itself when the size already matches.
     */
    public static byte[] resizeBilinear(byte[] rgb, int w, int h, int outW, int outH) {
        if (w == outW && h == outH) {
            return rgb;
        }
        byte[] out = new byte[outW * outH * 3];
        float sx = (float) w / outW;
        float sy = (float) h / outH;
        int[] x0 = new int[outW];
        int[] x1 = new int[outW];
        float[] fx = new float[outW];
        for (int x = 0; x < outW; x++) {
            float src = Math.max(0f, (x + 0.5f) * sx - 0.5f);
            int i0 = Math.min((int) src, w - 1);
            x0[x] = i0;
            x1[x] = Math.min(i0 + 1, w - 1);
            fx[x] = src - i0;
        }
        for (int y = 0; y < outH; y++) {
            float src = Math.max(0f, (y + 0.5f) * sy - 0.5f);
            int y0 = Math.min((int) src, h - 1);
            int y1 = Math.min(y0 + 1, h - 1);
            float fy = src - y0;
            int r0 = y0 * w * 3;
            int r1 = y1 * w * 3;
            int o = y * outW * 3;
            for (int x = 0; x < outW; x++) {
                int a = r0 + x0[x] * 3, b = r0 + x1[x] * 3, c = r1 + x0[x] * 3, d = r1 + x1[x] * 3;
                float wx = fx[x];
                for (int ch = 0; ch < 3; ch++) {
                    float top = (rgb[a + ch] & 0xff) * (1 - wx) + (rgb[b + ch] & 0xff) * wx;
                    float bot = (rgb[c + ch] & 0xff) * (1 - wx) + (rgb[d + ch] & 0xff) * wx;
                    out[o++] = (byte) Math.min(255, Math.round(top * (1 - fy) + bot * fy));
                }
            }
        }
        return out;
    }

    /**
     * Nearest-neighbour resize of a label map (labels must never be interpolated: a blend of two class ids is a
     * third, wrong, class). Pixel centres map as in {@code F.interpolate(mode='nearest')}.
     */
    public static byte[] resizeNearest(byte[] labels, int w, int h, int outW, int outH) {
        if (w == outW && h == outH) {
            return labels;
        }
        byte[] out = new byte[outW * outH];
        int[] xs = new int[outW];
        for (int x = 0; x < outW; x++) {
            xs[x] = Math.min((int) ((long) x * w / outW), w - 1);
        }
        for (int y = 0; y < outH; y++) {
            int sy = Math.min((int) ((long) y * h / outH), h - 1);
            int row = sy * w;
            int o = y * outW;
            for (int x = 0; x < outW; x++) {
                out[o + x] = labels[row + xs[x]];
            }
        }
        return out;
    }
}
