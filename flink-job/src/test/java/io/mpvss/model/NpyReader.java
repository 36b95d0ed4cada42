package io.mpvss.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy {@code .npy} files (format versions 1.0 to 3.0, C order) of dtype {@code <f4} or {@code |u1} into a
 * {@link Tensor}: the exchange format of the model-ops parity vectors. Anything else is refused with a message
 * naming the file.
 */
public final class NpyReader {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpyReader() {}

    public static Tensor read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (all.length <= i || all[i] != MAGIC[i]) {
                throw new IOException(file + ": not a .npy file (bad magic)");
            }
        }
        int major = all[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            start = 10;
        } else if (major == 2 || major == 3) {
            headerLen = buf.getInt(8);
            start = 12;
        } else {
            throw new IOException(file + ": unsupported .npy version " + major);
        }
        String header = new String(all, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if ("True".equals(group(FORTRAN, header, file, "fortran_order"))) {
            throw new IOException(file + ": Fortran order is not supported (save with C order)");
        }
        List<Long> dims = new ArrayList<>();
        for (String d : group(SHAPE, header, file, "shape").split(",")) {
            if (!d.isBlank()) {
                dims.add(Long.parseLong(d.trim()));
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long n = Tensor.count(shape);
        int data = start + headerLen;
        switch (descr) {
            case "<f4" -> {
                check(file, all.length - data, n * 4);
                float[] f = new float[(int) n];
                buf.position(data);
                buf.asFloatBuffer().get(f);
                return Tensor.f32(f, shape);
            }
            case "|u1", "<u1", "u1" -> {
                check(file, all.length - data, n);
                byte[] b = new byte[(int) n];
                System.arraycopy(all, data, b, 0, (int) n);
                return Tensor.u8(b, shape);
            }
            default -> throw new IOException(file + ": dtype '" + descr + "' not supported (expected <f4 or |u1)");
        }
    }

    private static void check(Path file, long have, long need) throws IOException {
        if (have < need) {
            throw new IOException(file + ": truncated: " + have + " data bytes, shape needs " + need);
        }
    }

    private static String group(Pattern p, String header, Path file, String what) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": header has no '" + what + "': " + header.trim());
        }
        return m.group(1);
    }
}
