package io.mpvss.state;

import io.mpvss.format.FrameDecoder;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * JPEG coding of the key image with the JDK's own codec (ImageIO, no native dependency beyond the JDK), so that the
 * bytes in state decode to the same pixels on every TaskManager of one JDK build.
 */
final class KeyImageJpeg {

    static {
        ImageIO.setUseCache(false);
    }

    private KeyImageJpeg() {}

    static byte[] encode(byte[] rgb, int width, int height, int quality) {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("key image of " + rgb.length + " bytes is not " + width + "x" + height
                    + " RGB");
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < rgb.length; i += 3) {
            bgr[i] = rgb[i + 2];
            bgr[i + 1] = rgb[i + 1];
            bgr[i + 2] = rgb[i];
        }
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(rgb.length / 8);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality / 100f);
            writer.write(null, new IIOImage(img, null, null), p);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding of the key image failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /**
     * One JPEG reader per thread, reused: with RocksDB every propagated frame decodes its key image again, and looking
     * a reader up through ImageIO's service registry each time costs about as much as a small decode.
     */
    private static final ThreadLocal<ImageReader> READER =
            ThreadLocal.withInitial(() -> ImageIO.getImageReadersByFormatName("jpeg").next());

    static byte[] decode(byte[] jpeg) {
        ImageReader reader = READER.get();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(jpeg))) {
            reader.setInput(in, true, true);
            BufferedImage img = reader.read(0);
            return FrameDecoder.toRgb(img).pixels();
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG decoding of the key image in state failed", e);
        } finally {
            reader.setInput(null);
        }
    }
}
