package io.mpvss.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.flink.util.TimeUtils;

/**
 * {@code --key value} arguments, as Flink's {@code ParameterTool} reads them: a key without a value (followed by
 * another {@code --key} or at the end) is the flag value {@code "true"}; {@code --key=value} is accepted too. Every
 * read key is remembered so that {@link #rejectUnknown} can name a misspelt option.
 */
public final class Args {

    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> read = new LinkedHashSet<>();

    private Args() {
    }

    public static Args parse(String[] argv) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String s = argv[i];
            if (!s.startsWith("-") || s.equals("-") || s.equals("--")) {
                throw new UsageException("unexpected argument '" + s + "' (options are --key value)");
            }
            String key = s.startsWith("--") ? s.substring(2) : s.substring(1);
            String value;
            int eq = key.indexOf('=');
            if (eq > 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < argv.length && !isKey(argv[i + 1])) {
                value = argv[++i];
            } else {
                value = "true";
            }
            if (key.isEmpty()) {
                throw new UsageException("empty option name in '" + s + "'");
            }
            if (a.values.containsKey(key)) {
                throw new UsageException("option --" + key + " given twice");
            }
            a.values.put(key, value);
        }
        return a;
    }

    /** A value may itself start with '-' if it is a number, e.g. {@code --offset -5}. */
    private static boolean isKey(String s) {
        if (!s.startsWith("-") || s.length() < 2) {
            return false;
        }
        char c = s.charAt(1);
        return !(Character.isDigit(c) || c == '.');
    }

    public boolean has(String key) {
        read.add(key);
        return values.containsKey(key);
    }

    public String get(String key, String def) {
        read.add(key);
        return values.getOrDefault(key, def);
    }

    public String required(String key, String what) {
        read.add(key);
        String v = values.get(key);
        if (v == null || v.equals("true") && what != null) {
            throw new UsageException("--" + key + " " + (what == null ? "VALUE" : what) + " is required");
        }
        return v;
    }

    public int getInt(String key, int def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects a whole number, got '" + v + "'");
        }
    }

    public int getPositiveInt(String key, int def) {
        int v = getInt(key, def);
        if (v <= 0) {
            throw new UsageException("--" + key + " must be positive, got " + v);
        }
        return v;
    }

    /** A positive whole number, or null when the option is not given (e.g. an override of a file's value). */
    public Integer getPositiveIntOrNull(String key) {
        return has(key) ? getPositiveInt(key, 1) : null;
    }

    public long getLong(String key, long def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects a whole number, got '" + v + "'");
        }
    }

    public double getDouble(String key, double def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects a number, got '" + v + "'");
        }
    }

    public boolean getBoolean(String key, boolean def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1", "on":
                return true;
            case "false", "no", "0", "off":
                return false;
            default:
                throw new UsageException("--" + key + " expects true or false, got '" + v + "'");
        }
    }

    public Duration getDuration(String key, Duration def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        try {
            return TimeUtils.parseDuration(v.trim());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + key + " expects a duration like 500ms, 2s or 1min, got '" + v + "'");
        }
    }

    public Path getPath(String key, Path def) {
        String v = get(key, null);
        return v == null ? def : Path.of(v);
    }

    /** A folder that must exist if given ("no such folder: X (--key)" otherwise). */
    public Path getFolder(String key, Path def) {
        Path p = getPath(key, def);
        if (p != null && !Files.isDirectory(p)) {
            throw new UsageException("no such folder: " + p + " (--" + key + ")");
        }
        return p;
    }

    /** All options, in the order given. */
    public Map<String, String> asMap() {
        return java.util.Collections.unmodifiableMap(values);
    }

    /** Options whose key starts with {@code prefix} (marked read). */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> r = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                read.add(k);
                r.put(k, v);
            }
        });
        return r;
    }

    /** A comma-separated list of whole numbers, e.g. {@code --intervals 1,2,5}. */
    public List<Integer> getIntList(String key, List<Integer> def) {
        List<String> items = getList(key, null);
        if (items == null) {
            return def;
        }
        List<Integer> r = new ArrayList<>();
        for (String s : items) {
            try {
                r.add(Integer.parseInt(s));
            } catch (NumberFormatException e) {
                throw new UsageException("--" + key + " expects whole numbers separated by commas, got '"
                        + values.get(key) + "'");
            }
        }
        return List.copyOf(r);
    }

    /** As {@link #getIntList}, or the empty list for {@code none} (e.g. {@code --thread-sweep none} skips a step). */
    public List<Integer> getIntListOrNone(String key, List<Integer> def) {
        return "none".equals(get(key, null)) ? List.of() : getIntList(key, def);
    }

    /** A comma-separated list, e.g. {@code --guarantees exactly-once,at-least-once} (blank items dropped). */
    public List<String> getList(String key, List<String> def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        List<String> r = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                r.add(s.trim());
            }
        }
        if (r.isEmpty()) {
            throw new UsageException("--" + key + " expects a comma-separated list, got '" + v + "'");
        }
        return List.copyOf(r);
    }

    /**
     * Job options and Flink keys given as {@code --key value} (e.g. {@code --key.interval 3},
     * {@code --parallelism.default 1}): every option not read so far whose key contains a dot, marked read. A
     * command reads its own options first and calls this before {@link #rejectUnknown}, so that one spelling, the
     * option's own key, works in every command.
     */
    public Map<String, String> jobSettings() {
        Map<String, String> r = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (!read.contains(k) && k.contains(".")) {
                read.add(k);
                r.put(k, v);
            }
        });
        return r;
    }

    /** Options not read so far. */
    public List<String> unread() {
        List<String> r = new ArrayList<>();
        for (String k : values.keySet()) {
            if (!read.contains(k)) {
                r.add(k);
            }
        }
        return r;
    }

    /** Fails with the first option that no code has asked for. */
    public void rejectUnknown() {
        List<String> u = unread();
        if (!u.isEmpty()) {
            throw new UsageException("unknown option --" + u.get(0));
        }
    }

    /** Removes {@code key} (e.g. after turning it into other options) and returns its value, or null. */
    public String take(String key) {
        read.add(key);
        return values.remove(key);
    }

    /** Puts a value unless the key is present. */
    public void putIfAbsent(String key, String value) {
        values.putIfAbsent(key, value);
    }

    /** Back to {@code --key value} form (for delegating to a parser such as {@code MpvssJob.parseArgs}). */
    public String[] toArgv() {
        List<String> r = new ArrayList<>();
        values.forEach((k, v) -> {
            r.add("--" + k);
            r.add(v);
        });
        return r.toArray(new String[0]);
    }

    /**
     * Reads a Kafka client {@code .properties} file (e.g. kafka-config/client-tls.properties).
     *
     * @throws UsageException if the file is missing or unreadable
     */
    public static Properties readPropertiesFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("no such properties file: " + file);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
        return p;
    }
}
