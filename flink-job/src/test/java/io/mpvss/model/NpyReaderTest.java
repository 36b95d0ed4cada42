package io.mpvss.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyReaderTest {

    static byte[] npy(String descr, String shape, byte[] data) throws IOException {
        String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length() & 0xff);
        out.write(header.length() >> 8);
        out.write(header.getBytes(StandardCharsets.ISO_8859_1));
        out.write(data);
        return out.toByteArray();
    }

    @Test
    void readsFloatAndByteArrays(@TempDir Path tmp) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            b.putFloat(i * 0.5f);
        }
        Files.write(tmp.resolve("f.npy"), npy("<f4", "(2, 3)", b.array()));
        Tensor f = NpyReader.read(tmp.resolve("f.npy"));
        assertArrayEquals(new long[] {2, 3}, f.shape());
        assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, f.f32());

        Files.write(tmp.resolve("u.npy"), npy("|u1", "(4,)", new byte[] {1, 2, (byte) 255, 0}));
        Tensor u = NpyReader.read(tmp.resolve("u.npy"));
        assertArrayEquals(new long[] {4}, u.shape());
        assertArrayEquals(new byte[] {1, 2, (byte) 255, 0}, u.u8());
    }

    @Test
    void refusesOtherDtypesAndTruncation(@TempDir Path tmp) throws IOException {
        Files.write(tmp.resolve("d.npy"), npy("<f8", "(1,)", new byte[8]));
        assertThrows(IOException.class, () -> NpyReader.read(tmp.resolve("d.npy")));
        Files.write(tmp.resolve("t.npy"), npy("<f4", "(10,)", new byte[8]));
        assertThrows(IOException.class, () -> NpyReader.read(tmp.resolve("t.npy")));
        Files.write(tmp.resolve("x.npy"), new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> NpyReader.read(tmp.resolve("x.npy")));
    }
}
